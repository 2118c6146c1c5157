//! Opening the modem's serial port, and saying clearly why it could not be opened.
//!
//! The port is opened by its configured path (`/dev/serial/by-id/...`, `/dev/ttyUSB0`, or a
//! `/dev/pts/N` for the virtual modem) with exclusive access: serialport sets `TIOCEXCL` and an
//! exclusive `flock`, so a second program (ModemManager, a second shiftsms) is refused instead
//! of stealing half the answers. Line-control ioctls (DTR, RTS) are best effort: they fail with
//! ENOTTY on pseudo-terminals, and a USB modem does not need them.

use std::io;
use std::path::{Path, PathBuf};

use tokio_serial::{SerialPort, SerialPortBuilderExt, SerialStream};

/// Why the port could not be opened. Each names the path and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Nothing at the path (modem unplugged, wrong path, by-id link gone).
    #[error(
        "{path}: no such device; is the modem plugged in? (`shiftsms modem list` shows the serial ports present)"
    )]
    Missing {
        /// The configured path.
        path: PathBuf,
    },
    /// Another program holds the port.
    #[error(
        "{path} is in use by another program (ModemManager? another shiftsms?); stop it, or install the udev rule that sets ID_MM_DEVICE_IGNORE"
    )]
    Busy {
        /// The configured path.
        path: PathBuf,
    },
    /// The service user may not open it.
    #[error(
        "{path}: permission denied; add the service user to the group that owns it (usually `dialout`)"
    )]
    PermissionDenied {
        /// The configured path.
        path: PathBuf,
    },
    /// Anything else the operating system said.
    #[error("{path}: cannot open: {reason}")]
    Other {
        /// The configured path.
        path: PathBuf,
        /// The system's words.
        reason: String,
    },
}

/// Opens `path` at `baud`, exclusively, 8N1, no flow control.
pub fn open(path: &Path, baud: u32) -> Result<SerialStream, OpenError> {
    // A dangling by-id symlink or a vanished /dev/pts/N: say "missing", not "I/O error".
    if std::fs::metadata(path).is_err() {
        return Err(OpenError::Missing {
            path: path.to_owned(),
        });
    }
    let builder = tokio_serial::new(path.to_string_lossy(), baud)
        .data_bits(tokio_serial::DataBits::Eight)
        .parity(tokio_serial::Parity::None)
        .stop_bits(tokio_serial::StopBits::One)
        .flow_control(tokio_serial::FlowControl::None);
    let mut port = builder
        .open_native_async()
        .map_err(|e| classify(path, &e))?;
    // Best effort: some USB modems want DTR before they talk; ptys answer ENOTTY.
    if let Err(e) = port.write_data_terminal_ready(true) {
        tracing::debug!(path = %path.display(), error = %e, "DTR not set (normal on a pseudo-terminal)");
    }
    if let Err(e) = port.write_request_to_send(true) {
        tracing::debug!(path = %path.display(), error = %e, "RTS not set (normal on a pseudo-terminal)");
    }
    Ok(port)
}

fn classify(path: &Path, e: &tokio_serial::Error) -> OpenError {
    let path = path.to_owned();
    match e.kind() {
        // serialport reports EBUSY from TIOCEXCL and a held flock as NoDevice.
        tokio_serial::ErrorKind::NoDevice => OpenError::Busy { path },
        tokio_serial::ErrorKind::Io(io::ErrorKind::NotFound) => OpenError::Missing { path },
        tokio_serial::ErrorKind::Io(io::ErrorKind::PermissionDenied) => {
            OpenError::PermissionDenied { path }
        }
        _ => OpenError::Other {
            path,
            reason: e.to_string(),
        },
    }
}

/// Whether a read/write error means the device is gone. Every error counts: after a USB modem
/// is pulled out, reads return EOF at once and forever and writes fail with EIO (errno 5,
/// which Rust calls "uncategorized"); nothing useful can follow on that descriptor.
pub fn describe_io_error(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(5) => "I/O error (EIO): the device went away".to_owned(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_path_is_named() {
        let err = open(Path::new("/dev/serial/by-id/no-such-modem"), 115_200).unwrap_err();
        assert!(matches!(err, OpenError::Missing { .. }), "{err:?}");
        assert!(err.to_string().contains("no-such-modem"));
    }

    #[tokio::test]
    async fn second_open_is_busy() {
        let pty = crate::modem::testing::Pty::new().unwrap();
        let _first = open(pty.path(), 115_200).unwrap();
        let err = open(pty.path(), 115_200).unwrap_err();
        assert!(matches!(err, OpenError::Busy { .. }), "{err:?}");
        assert!(err.to_string().contains("ModemManager"));
    }

    #[test]
    fn not_a_tty_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"").unwrap();
        let err = open(&file, 115_200).unwrap_err();
        assert!(matches!(err, OpenError::Other { .. }), "{err:?}");
    }
}
