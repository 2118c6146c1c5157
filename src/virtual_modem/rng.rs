//! A tiny seeded random source, so a profile's quirks (delays, failures, noise) are repeatable.
//!
//! SplitMix64 (Steele, Lea, Flood 2014) is used rather than `rand::rngs::StdRng` because
//! StdRng's algorithm is allowed to change between `rand` releases, and a test that passes
//! with seed 7 today must see the same modem behaviour after a dependency update.

use std::time::Duration;

#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n` > 0); the modulo bias is irrelevant at these sizes.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `percent`/100.
    pub(crate) fn percent(&mut self, percent: u8) -> bool {
        percent > 0 && self.below(100) < u64::from(percent)
    }

    /// A duration uniformly in `min..=max` (millisecond resolution).
    pub(crate) fn between(&mut self, min: Duration, max: Duration) -> Duration {
        if max <= min {
            return min;
        }
        let span = (max - min).as_millis() as u64;
        min + Duration::from_millis(self.below(span + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(43).next_u64(), xs[0]);
    }

    #[test]
    fn known_first_value_for_seed_zero() {
        // Published SplitMix64 reference output for seed 0.
        assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn between_stays_in_range_and_percent_extremes_hold() {
        let mut r = Rng::new(1);
        for _ in 0..1000 {
            let d = r.between(Duration::from_millis(200), Duration::from_millis(800));
            assert!(d >= Duration::from_millis(200) && d <= Duration::from_millis(800));
            assert!(!r.percent(0));
            assert!(r.percent(100));
        }
    }
}
