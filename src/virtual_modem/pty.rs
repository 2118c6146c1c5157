//! The pseudo-terminal the modem lives on, and who has its slave side open.
//!
//! Three details make a pty behave like a USB serial port across DTE restarts:
//! - The modem keeps its own descriptor on the slave side. Without it the master reads EIO
//!   (and polls as hung up) whenever no DTE has the port open.
//! - That descriptor keeps the tty alive, so `TIOCEXCL` set by a DTE survives the DTE being
//!   killed, and a non-root DTE could never reopen the port (EBUSY). A real USB tty is freed on
//!   last close, clearing the flag. So the modem watches the slave node with inotify and, when
//!   the last DTE closes it, clears exclusive mode and discards output nobody read.
//! - Unplugging closes master and keeper: the DTE reads EOF and `/dev/pts/N` disappears.

use std::io;
use std::os::fd::AsFd;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use tokio::sync::mpsc;
use tokio_serial::{SerialPort, SerialStream};

pub(crate) struct Pty {
    pub(crate) path: PathBuf,
    pub(crate) master: SerialStream,
    /// Our own descriptor on the slave side; never read.
    pub(crate) keeper: SerialStream,
}

impl Pty {
    /// Opens a pty pair (needs a tokio runtime: both ends register with its reactor).
    pub(crate) fn open() -> io::Result<Pty> {
        // serialport opens both ends without O_CLOEXEC, so a process started meanwhile (the
        // daemon under test) would inherit them and keep the pty alive after an unplug: its
        // reads would never see EOF. Duplicates made with F_DUPFD_CLOEXEC replace them.
        let (master, keeper) = serialport::TTYPort::pair().map_err(io::Error::from)?;
        let master = SerialStream::try_from(master.try_clone_native().map_err(io::Error::from)?)
            .map_err(io::Error::from)?;
        let mut keeper =
            SerialStream::try_from(keeper.try_clone_native().map_err(io::Error::from)?)
                .map_err(io::Error::from)?;
        // The DTE must be able to open (and lock) the port itself.
        share(&mut keeper)?;
        let path = keeper
            .name()
            .map(PathBuf::from)
            .ok_or_else(|| io::Error::other("pty slave has no name"))?;
        Ok(Pty {
            path,
            master,
            keeper,
        })
    }
}

/// The last DTE closed the port: forget its exclusive lock and the output it never read,
/// as a USB tty does when it is released.
pub(crate) fn release(keeper: &mut SerialStream) {
    if let Err(e) = share(keeper) {
        tracing::warn!("virtual modem: cannot clear exclusive mode on the pty: {e}");
    }
    if let Err(e) = keeper.clear(tokio_serial::ClearBuffer::Input) {
        tracing::warn!("virtual modem: cannot flush the pty: {e}");
    }
}

/// Clears `TIOCEXCL` on the tty without keeping any `flock` on our descriptor.
///
/// serialport's `set_exclusive(false)` is the only safe way to issue `TIOCNXCL` here, but it
/// also takes a shared `flock`, which would make every DTE's exclusive `flock` fail. The lock
/// is dropped at once. `nix::fcntl::flock` is deprecated in favour of `Flock`, which needs to
/// own the descriptor; our descriptor belongs to the `SerialStream`.
fn share(keeper: &mut SerialStream) -> io::Result<()> {
    keeper.set_exclusive(false).map_err(io::Error::from)?;
    #[allow(deprecated)]
    nix::fcntl::flock(keeper.as_raw_fd(), nix::fcntl::FlockArg::Unlock).map_err(io::Error::from)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DteEvent {
    Opened,
    Closed,
}

/// Watches the slave node for opens and closes by DTEs (inotify).
///
/// The events are read only by the pty task, and it reads them before it handles any byte
/// from the master: the kernel queues the open event during the DTE's `open()`, so by the
/// time its first command arrives the task knows someone is there. A helper thread only
/// polls the descriptor and wakes the task, so a DTE closing the port is noticed promptly.
pub(crate) struct DteWatch {
    inotify: Arc<Inotify>,
    wakes: mpsc::UnboundedReceiver<()>,
    acks: std::sync::mpsc::Sender<()>,
}

impl DteWatch {
    pub(crate) fn start(path: &Path) -> io::Result<DteWatch> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .map_err(io::Error::from)?;
        inotify
            .add_watch(
                path,
                AddWatchFlags::IN_OPEN | AddWatchFlags::IN_CLOSE | AddWatchFlags::IN_DELETE_SELF,
            )
            .map_err(io::Error::from)?;
        let inotify = Arc::new(inotify);
        let (wake_tx, wakes) = mpsc::unbounded_channel();
        let (acks, ack_rx) = std::sync::mpsc::channel::<()>();
        let polled = inotify.clone();
        std::thread::Builder::new()
            .name("vm-dte-watch".into())
            .spawn(move || wake_on_events(&polled, &wake_tx, &ack_rx))?;
        Ok(DteWatch {
            inotify,
            wakes,
            acks,
        })
    }

    /// Events queued so far, without blocking.
    pub(crate) fn drain(&self) -> Vec<DteEvent> {
        let mut out = Vec::new();
        while let Ok(events) = self.inotify.read_events() {
            for event in events {
                if event.mask.contains(AddWatchFlags::IN_OPEN) {
                    out.push(DteEvent::Opened);
                } else if event.mask.intersects(AddWatchFlags::IN_CLOSE) {
                    out.push(DteEvent::Closed);
                }
            }
        }
        out
    }

    /// Resolves when the helper thread saw events; false when the thread is gone.
    pub(crate) async fn woken(&mut self) -> bool {
        self.wakes.recv().await.is_some()
    }

    /// Tells the helper thread the events were read, so it may poll again.
    pub(crate) fn ack(&self) {
        let _ = self.acks.send(());
    }
}

fn wake_on_events(
    inotify: &Inotify,
    wake: &mpsc::UnboundedSender<()>,
    acks: &std::sync::mpsc::Receiver<()>,
) {
    use std::sync::mpsc::TryRecvError;
    loop {
        let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(500u16)) {
            Ok(0) => {
                // Idle: stop if the pty task is gone.
                if let Err(TryRecvError::Disconnected) = acks.try_recv() {
                    return;
                }
            }
            Ok(_) => {
                if wake.send(()).is_err() || acks.recv().is_err() {
                    return;
                }
            }
            Err(Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// Points `link` at `target` atomically (a new symlink renamed over the old one), as udev
/// updates `/dev/serial/by-id/...` when a device comes back.
pub(crate) fn link_atomically(target: &Path, link: &Path) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = link
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = link.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "symlink path has no file name")
    })?;
    let temporary = dir.join(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::os::unix::fs::symlink(target, &temporary)?;
    std::fs::rename(&temporary, link).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_is_replaced_atomically() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("by-id").join("usb-virtual-if00");
        link_atomically(Path::new("/dev/pts/1000"), &link).expect("first link");
        assert_eq!(
            std::fs::read_link(&link).expect("read"),
            Path::new("/dev/pts/1000")
        );
        link_atomically(Path::new("/dev/pts/1001"), &link).expect("second link");
        assert_eq!(
            std::fs::read_link(&link).expect("read"),
            Path::new("/dev/pts/1001")
        );
        let leftovers = std::fs::read_dir(link.parent().expect("parent"))
            .expect("dir")
            .count();
        assert_eq!(leftovers, 1, "no temporary links left behind");
    }
}
