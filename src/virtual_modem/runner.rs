//! The task that owns one plugged-in pty: it moves bytes between the master side and the
//! [`Modem`] state machine, fires the modem's timers and reports DTE opens and closes.
//! It never spins: a failing master is retried after a pause.

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
}

impl Shared {
    pub(crate) fn new(modem: Modem) -> Shared {
        Shared {
            modem: Mutex::new(modem),
            wake: Notify::new(),
            changed: watch::channel(0).0,
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
            written = writer.write(&unread), if !unread.is_empty() && !paused => match written {
                Ok(n) => {
                    unread.drain(..n);
                }
                Err(e) => {
                    tracing::warn!("virtual modem {}: write failed: {e}", path.display());
                    unread.clear();
                    paused_until = Some(tokio::time::Instant::now() + BACKOFF);
                }
            },
            read = reader.read(&mut buf), if !paused => match read {
                Ok(n) if n > 0 => {
                    // Learn about opens and closes first: the DTE opened before it wrote.
                    let released = apply_dte_events(&shared, dte.as_ref(), &mut keeper, &mut unread);
                    shared.by_task(|m| m.on_input(Instant::now(), &buf[..n]));
                    if released {
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
