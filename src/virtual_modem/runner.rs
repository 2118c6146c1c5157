//! The task that owns one plugged-in pty: it moves bytes between the master side and the
//! [`Modem`] state machine, fires the modem's timers and reports DTE opens and closes.
//! It never spins: a failing master is retried after a pause.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf};
use tokio::sync::{Notify, oneshot, watch};

use super::core::Modem;
use super::pty::{self, DteEvent, DteWatch, Pty};

/// The modem state shared by the task and the control handle. The mutex is never held
/// across an `.await`.
pub(crate) struct Shared {
    modem: Mutex<Modem>,
    /// Wakes the task after the control API changed something (new output, new timers).
    pub(crate) wake: Notify,
    /// Bumped after every change, so waiters re-check their condition.
    pub(crate) changed: watch::Sender<u64>,
    /// Bytes that crossed the line: read from the DTE, written to it.
    pub(crate) bytes_to_modem: AtomicU64,
    pub(crate) bytes_from_modem: AtomicU64,
}

impl Shared {
    pub(crate) fn new(modem: Modem) -> Shared {
        Shared {
            modem: Mutex::new(modem),
            wake: Notify::new(),
            changed: watch::channel(0).0,
            bytes_to_modem: AtomicU64::new(0),
            bytes_from_modem: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Modem> {
        self.modem.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the modem, then wakes the task and the waiters.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Modem) -> R) -> R {
        let result = f(&mut self.lock());
        self.wake.notify_one();
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        result
    }

    /// Runs `f` for the task itself: waiters are told, the task is not woken again.
    fn by_task<R>(&self, f: impl FnOnce(&mut Modem) -> R) -> R {
        let result = f(&mut self.lock());
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        result
    }

    /// Runs `f` without telling anyone (collecting output).
    fn quiet<R>(&self, f: impl FnOnce(&mut Modem) -> R) -> R {
        f(&mut self.lock())
    }

    /// Reads the modem without waking anyone.
    pub(crate) fn peek<R>(&self, f: impl FnOnce(&Modem) -> R) -> R {
        f(&self.lock())
    }
}

/// Bytes kept for a DTE that does not read; beyond this the oldest are dropped.
const MAX_UNREAD: usize = 64 * 1024;
/// Pause after the master side fails, so a broken pty cannot make the task spin.
const BACKOFF: Duration = Duration::from_millis(200);
/// On a paced line (`Profile::line_rate`), bytes cross in chunks of this many, each
/// delivered when its last bit would have arrived: about 1.4 ms at 115,200 baud.
const PACED_CHUNK: usize = 16;

/// Chunks read ahead on a paced line before reading stops until they are delivered (the
/// DTE's writes then wait in the pty, as in a UART's buffer).
const MAX_HELD: usize = 256;

/// How long `bytes` take on a line of `rate` bits per second, 8N1 (10 bits a byte).
fn wire_time(rate: u32, bytes: usize) -> Duration {
    Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(rate.max(1)))
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    pty: Pty,
    mut dte: Option<DteWatch>,
    mut stop: oneshot::Receiver<()>,
) {
    let Pty {
        master,
        mut keeper,
        path,
    } = pty;
    let (mut reader, mut writer) = tokio::io::split(master);
    let mut unread: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut paused_until: Option<tokio::time::Instant> = None;
    let rate = shared.peek(|m| m.profile.line_rate);
    // Paced line, modem to DTE: the chunk on the wire and when it has fully arrived; when the
    // wire is next free.
    let mut out_due: Option<(tokio::time::Instant, usize)> = None;
    let mut out_free_at = tokio::time::Instant::now();
    // More output was already waiting when the last chunk went: the next one follows it on
    // the wire at once, whenever the task gets round to it (timer lateness is not carried
    // from chunk to chunk, or the line would run slower than its rate).
    let mut out_continuous = false;
    // Paced line, DTE to modem: bytes on the wire, handed to the modem when they arrive.
    // Each chunk read, with when its last byte arrives; reading goes on meanwhile, so each
    // chunk's time is computed from when the DTE wrote it.
    let mut held: VecDeque<(tokio::time::Instant, Vec<u8>)> = VecDeque::new();
    let mut in_free_at = tokio::time::Instant::now();
    let read_size = if rate.is_some() {
        PACED_CHUNK
    } else {
        buf.len()
    };
    loop {
        let next = shared.quiet(|m| {
            unread.extend_from_slice(&m.take_output());
            m.next_deadline()
        });
        if unread.len() > MAX_UNREAD {
            let excess = unread.len() - MAX_UNREAD;
            unread.drain(..excess);
        }
        let timer = next
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        let paused = paused_until.is_some();
        let resume = paused_until.unwrap_or_else(tokio::time::Instant::now);
        let now = tokio::time::Instant::now();
        if unread.is_empty() {
            out_due = None;
            out_continuous = false;
        }
        let writable = match rate {
            None => unread.len(),
            Some(_) if unread.is_empty() => 0,
            Some(rate) => {
                let (at, len) = *out_due.get_or_insert_with(|| {
                    let len = unread.len().min(PACED_CHUNK);
                    let start = if out_continuous {
                        out_free_at
                    } else {
                        now.max(out_free_at)
                    };
                    (start + wire_time(rate, len), len)
                });
                if at <= now { len.min(unread.len()) } else { 0 }
            }
        };
        let out_wait = out_due.map(|(at, _)| at).filter(|at| *at > now);
        let in_due = held.front().map_or(now, |(due, _)| *due);
        tokio::select! {
            biased;
            _ = &mut stop => break,
            alive = dte_woken(&mut dte) => {
                if alive {
                    if apply_dte_events(&shared, dte.as_ref(), &mut keeper, &mut unread) {
                        let port = Port { dte: dte.as_ref(), keeper: &mut keeper, unread: &mut unread };
                        absorb_leftovers(&mut reader, &shared, port, &mut buf).await;
                    }
                    // Waiters learn of opens and closes once they are fully handled.
                    shared.by_task(|_| ());
                    if let Some(watch) = &dte {
                        watch.ack();
                    }
                } else {
                    dte = None;
                    shared.by_task(|m| m.watching_dte = false);
                }
            }
            written = writer.write(&unread[..writable]), if writable > 0 && !paused => match written {
                Ok(n) => {
                    unread.drain(..n);
                    shared.bytes_from_modem.fetch_add(n as u64, Ordering::Relaxed);
                    if let Some((at, _)) = out_due.take() {
                        out_free_at = at;
                        out_continuous = !unread.is_empty();
                    }
                }
                Err(e) => {
                    tracing::warn!("virtual modem {}: write failed: {e}", path.display());
                    unread.clear();
                    paused_until = Some(tokio::time::Instant::now() + BACKOFF);
                }
            },
            _ = tokio::time::sleep_until(out_wait.unwrap_or(now)), if out_wait.is_some() => {}
            _ = tokio::time::sleep_until(in_due), if !held.is_empty() => {
                let arrived = tokio::time::Instant::now();
                while held.front().is_some_and(|(due, _)| *due <= arrived) {
                    if let Some((_, bytes)) = held.pop_front() {
                        shared.by_task(|m| m.on_input(Instant::now(), &bytes));
                    }
                }
            }
            read = reader.read(&mut buf[..read_size]), if !paused && held.len() < MAX_HELD => match read {
                Ok(n) if n > 0 => {
                    shared.bytes_to_modem.fetch_add(n as u64, Ordering::Relaxed);
                    // Learn about opens and closes first: the DTE opened before it wrote.
                    let released = apply_dte_events(&shared, dte.as_ref(), &mut keeper, &mut unread);
                    match rate {
                        None => shared.by_task(|m| m.on_input(Instant::now(), &buf[..n])),
                        Some(rate) => {
                            in_free_at = tokio::time::Instant::now().max(in_free_at) + wire_time(rate, n);
                            held.push_back((in_free_at, buf[..n].to_vec()));
                        }
                    }
                    if released {
                        // The closing DTE's bytes still on the wire are the leftovers too.
                        for (_, bytes) in held.drain(..) {
                            shared.quiet(|m| m.on_input(Instant::now(), &bytes));
                        }
                        let port = Port { dte: dte.as_ref(), keeper: &mut keeper, unread: &mut unread };
                        absorb_leftovers(&mut reader, &shared, port, &mut buf).await;
                        shared.by_task(|_| ());
                    }
                }
                Ok(_) | Err(_) => {
                    // EOF or EIO on a master means no slave is open; we hold one, so this is
                    // unexpected: pause rather than spin.
                    paused_until = Some(tokio::time::Instant::now() + BACKOFF);
                }
            },
            _ = tokio::time::sleep_until(resume), if paused => paused_until = None,
            _ = tokio::time::sleep_until(timer) => shared.by_task(|m| m.on_timers(Instant::now())),
            _ = shared.wake.notified() => {}
        }
    }
}

async fn dte_woken(dte: &mut Option<DteWatch>) -> bool {
    match dte {
        Some(watch) => watch.woken().await,
        None => std::future::pending().await,
    }
}

/// Applies DTE opens and closes; when the last DTE is gone, releases the port the way a USB
/// tty is released (exclusive flag cleared, unread output dropped) and returns true.
fn apply_dte_events(
    shared: &Shared,
    dte: Option<&DteWatch>,
    keeper: &mut tokio_serial::SerialStream,
    unread: &mut Vec<u8>,
) -> bool {
    let Some(watch) = dte else { return false };
    let mut released = false;
    for event in watch.drain() {
        let now = Instant::now();
        match event {
            DteEvent::Opened => shared.quiet(|m| m.dte_opened(now)),
            DteEvent::Closed => {
                if shared.quiet(|m| m.dte_closed(now)) {
                    unread.clear();
                    pty::release(keeper);
                    released = true;
                }
            }
        }
    }
    released
}

/// How long bytes a DTE wrote just before closing the port may take to show up.
const LEFTOVER_WAIT: Duration = Duration::from_millis(20);

/// The slave side as the DTE-tracking code needs it.
struct Port<'a> {
    dte: Option<&'a DteWatch>,
    keeper: &'a mut tokio_serial::SerialStream,
    unread: &'a mut Vec<u8>,
}

/// A DTE's last bytes were already on their way when it closed the port: a modem still reads
/// and answers them, to nobody. Take them in now, before a new DTE can open the port and
/// receive the answers meant for the old one. Stops early when a new DTE opens.
async fn absorb_leftovers(
    reader: &mut ReadHalf<tokio_serial::SerialStream>,
    shared: &Shared,
    port: Port<'_>,
    buf: &mut [u8],
) {
    let until = tokio::time::Instant::now() + LEFTOVER_WAIT;
    while let Ok(Ok(n)) = tokio::time::timeout_at(until, reader.read(buf)).await {
        if n == 0 {
            break;
        }
        apply_dte_events(shared, port.dte, port.keeper, port.unread);
        let attached = shared.quiet(|m| {
            m.on_input(Instant::now(), &buf[..n]);
            m.dte_attached()
        });
        if attached {
            break;
        }
    }
}
