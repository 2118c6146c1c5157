//! Deciding a booking: from what the database says about each requested shift to what must
//! be written and what the employee is told.
//!
//! The daemon runs the whole exchange in one SQLite write transaction (`BEGIN IMMEDIATE`),
//! so no other writer can slip in between its steps:
//!
//! 1. look up each requested code: [`ShiftState`];
//! 2. [`decide`] which codes to claim;
//! 3. claim each of [`BookingPlan::claims`] with a conditional update
//!    (`UPDATE shift_status SET shift_status = 'taken', employee = ?sender
//!    WHERE shift_id = ?code AND shift_status = 'available'`), noting which changed a row;
//! 4. [`BookingPlan::settle`] with the codes whose update changed a row: a claim that changed
//!    nothing lost a race and is reported as taken, never as booked;
//! 5. render the reply from the [`BookingOutcome`] and queue it, then commit.
//!
//! Two employees racing for one shift therefore both get a truthful answer: one claim
//! changes the row, the other changes nothing and is told the shift is taken.

use crate::service::phone::E164;
use crate::service::shift_code::ShiftCode;

/// What the database says about one requested shift code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShiftState {
    /// No shift has this code.
    Missing,
    /// The shift exists and nobody has it.
    Available,
    /// The shift is taken; `by` is who booked it, when the `employee` column holds a valid
    /// E.164 number (a row edited by hand may not).
    Taken { by: Option<E164> },
}

/// What will happen to one requested code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try to book it with a conditional update.
    Claim,
    /// The sender already has it: nothing to write, and the reply says so (an employee who
    /// resends their booking must not be told someone else took "their" shift).
    AlreadyYours,
    /// Someone else has it.
    Taken,
    /// No such shift.
    Unknown,
}

/// The decision for every requested code, in the order they were asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the claims must be applied and the plan settled"]
pub struct BookingPlan {
    entries: Vec<(ShiftCode, Decision)>,
}

/// Decide what to do with each requested code, given what the store says about it.
/// Duplicates are kept out: the first occurrence of a code decides.
pub fn decide(
    sender: &E164,
    looked_up: impl IntoIterator<Item = (ShiftCode, ShiftState)>,
) -> BookingPlan {
    let mut entries: Vec<(ShiftCode, Decision)> = Vec::new();
    for (code, state) in looked_up {
        if entries.iter().any(|(seen, _)| *seen == code) {
            continue;
        }
        let decision = match state {
            ShiftState::Missing => Decision::Unknown,
            ShiftState::Available => Decision::Claim,
            ShiftState::Taken { by: Some(by) } if by == *sender => Decision::AlreadyYours,
            ShiftState::Taken { .. } => Decision::Taken,
        };
        entries.push((code, decision));
    }
    BookingPlan { entries }
}

impl BookingPlan {
    /// The codes to claim with a conditional update, in request order.
    pub fn claims(&self) -> impl Iterator<Item = &ShiftCode> {
        self.entries
            .iter()
            .filter(|(_, decision)| *decision == Decision::Claim)
            .map(|(code, _)| code)
    }

    pub fn entries(&self) -> &[(ShiftCode, Decision)] {
        &self.entries
    }

    /// The outcome, once the claims were applied: `won` holds the claimed codes whose
    /// conditional update changed a row. Any other claim lost a race and counts as taken.
    pub fn settle(self, won: &[ShiftCode]) -> BookingOutcome {
        let mut outcome = BookingOutcome::default();
        for (code, decision) in self.entries {
            let list = match decision {
                Decision::Claim if won.contains(&code) => &mut outcome.secured,
                Decision::Claim | Decision::Taken => &mut outcome.taken,
                Decision::AlreadyYours => &mut outcome.already_yours,
                Decision::Unknown => &mut outcome.unknown,
            };
            list.push(code);
        }
        outcome
    }
}

/// What a booking text achieved, each list in request order. This is what the reply names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingOutcome {
    /// Booked for the sender by this text.
    pub secured: Vec<ShiftCode>,
    /// Already the sender's before this text.
    pub already_yours: Vec<ShiftCode>,
    /// Someone else's (including races lost just now).
    pub taken: Vec<ShiftCode>,
    /// No such shift.
    pub unknown: Vec<ShiftCode>,
}

impl BookingOutcome {
    /// Every requested code was unknown: the reply is the original solution's "This is not a
    /// valid shift code" text rather than a summary.
    pub fn nothing_exists(&self) -> bool {
        self.secured.is_empty() && self.already_yours.is_empty() && self.taken.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> E164 {
        E164::from_international("+447400123456").unwrap()
    }

    fn other() -> E164 {
        E164::from_international("+447400654321").unwrap()
    }

    fn code(c: &str) -> ShiftCode {
        c.parse().unwrap()
    }

    fn codes(list: &[&str]) -> Vec<ShiftCode> {
        list.iter().map(|c| code(c)).collect()
    }

    #[test]
    fn each_state_decides() {
        let cases = [
            (ShiftState::Missing, Decision::Unknown),
            (ShiftState::Available, Decision::Claim),
            (ShiftState::Taken { by: Some(me()) }, Decision::AlreadyYours),
            (ShiftState::Taken { by: Some(other()) }, Decision::Taken),
            (ShiftState::Taken { by: None }, Decision::Taken),
        ];
        for (state, want) in cases {
            let plan = decide(&me(), [(code("A1"), state.clone())]);
            assert_eq!(plan.entries(), &[(code("A1"), want)], "{state:?}");
        }
    }

    /// Every combination of the four outcomes, present or not, in one request.
    #[test]
    fn every_combination() {
        let all = [
            ("S1", ShiftState::Available),
            ("M1", ShiftState::Taken { by: Some(me()) }),
            ("T1", ShiftState::Taken { by: Some(other()) }),
            ("U1", ShiftState::Missing),
        ];
        for mask in 1u8..16 {
            let request: Vec<(ShiftCode, ShiftState)> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, (c, s))| (code(c), s.clone()))
                .collect();
            let plan = decide(&me(), request);
            let claims: Vec<ShiftCode> = plan.claims().cloned().collect();
            assert_eq!(claims.len(), usize::from(mask & 1 != 0), "mask {mask:04b}");
            let outcome = plan.settle(&claims);
            let pick = |bit: u8, c: &str| {
                if mask & bit != 0 { codes(&[c]) } else { vec![] }
            };
            assert_eq!(
                outcome,
                BookingOutcome {
                    secured: pick(1, "S1"),
                    already_yours: pick(2, "M1"),
                    taken: pick(4, "T1"),
                    unknown: pick(8, "U1"),
                },
                "mask {mask:04b}"
            );
            assert_eq!(outcome.nothing_exists(), mask == 8, "mask {mask:04b}");
        }
    }

    #[test]
    fn a_lost_race_is_reported_as_taken() {
        let plan = decide(
            &me(),
            [
                (code("A1"), ShiftState::Available),
                (code("B2"), ShiftState::Available),
            ],
        );
        let outcome = plan.settle(&codes(&["B2"]));
        assert_eq!(outcome.secured, codes(&["B2"]));
        assert_eq!(outcome.taken, codes(&["A1"]));
    }

    #[test]
    fn order_is_kept_and_duplicates_dropped() {
        let plan = decide(
            &me(),
            [
                (code("C3"), ShiftState::Available),
                (code("A1"), ShiftState::Missing),
                (code("C3"), ShiftState::Missing),
                (code("B2"), ShiftState::Available),
            ],
        );
        assert_eq!(
            plan.claims().cloned().collect::<Vec<_>>(),
            codes(&["C3", "B2"])
        );
        let outcome = plan.settle(&codes(&["B2", "C3"]));
        assert_eq!(outcome.secured, codes(&["C3", "B2"]));
        assert_eq!(outcome.unknown, codes(&["A1"]));
    }
}
