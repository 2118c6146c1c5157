//! `shiftsms modem list`: the serial ports present, with USB vendor/product ids and their
//! stable `/dev/serial/by-id/` names (serialport's sysfs enumeration, no libudev).

use std::fmt;
use std::path::{Path, PathBuf};

/// USB details of a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbIds {
    /// Vendor id (`12d1` is Huawei, `1e0e` SIMCom, `2c7c` Quectel).
    pub vid: u16,
    /// Product id.
    pub pid: u16,
    /// Manufacturer string, if the device gives one.
    pub manufacturer: Option<String>,
    /// Product string.
    pub product: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
}

/// One serial port that could be the modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortCandidate {
    /// `/dev/ttyUSB0`, `/dev/ttyACM0`, ...
    pub path: PathBuf,
    /// What kind of port.
    pub kind: PortKind,
    /// `/dev/serial/by-id/...` links pointing at it: the path to put in the config, since
    /// `ttyUSBn` numbers change between plugs.
    pub by_id: Vec<PathBuf>,
}

/// The bus a port is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortKind {
    /// A USB serial interface (where GSM modems are).
    Usb(UsbIds),
    /// A PCI serial card.
    Pci,
    /// Bluetooth RFCOMM.
    Bluetooth,
    /// A built-in UART or unknown.
    Other,
}

/// Why ports could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// No sysfs (a container without `/sys`).
    #[error("cannot list serial ports: {0} is not readable")]
    NoSysfs(PathBuf),
    /// The enumeration failed.
    #[error("cannot list serial ports: {0}")]
    Enumerate(#[from] serialport::Error),
}

const SYS_TTY: &str = "/sys/class/tty";
const BY_ID: &str = "/dev/serial/by-id";

/// Every serial port present, USB ones first.
pub fn list_ports() -> Result<Vec<PortCandidate>, ListError> {
    // serialport's Linux enumeration panics when /sys/class/tty is missing.
    if !Path::new(SYS_TTY).is_dir() {
        return Err(ListError::NoSysfs(PathBuf::from(SYS_TTY)));
    }
    let links = by_id_links(Path::new(BY_ID));
    let mut ports: Vec<PortCandidate> = serialport::available_ports()?
        .into_iter()
        .map(|info| {
            let path = PathBuf::from(&info.port_name);
            let kind = match info.port_type {
                serialport::SerialPortType::UsbPort(usb) => PortKind::Usb(UsbIds {
                    vid: usb.vid,
                    pid: usb.pid,
                    manufacturer: usb.manufacturer,
                    product: usb.product,
                    serial: usb.serial_number,
                }),
                serialport::SerialPortType::PciPort => PortKind::Pci,
                serialport::SerialPortType::BluetoothPort => PortKind::Bluetooth,
                serialport::SerialPortType::Unknown => PortKind::Other,
            };
            let by_id = links
                .iter()
                .filter(|(_, target)| *target == path)
                .map(|(link, _)| link.clone())
                .collect();
            PortCandidate { path, kind, by_id }
        })
        .collect();
    ports.sort_by_key(|p| (!matches!(p.kind, PortKind::Usb(_)), p.path.clone()));
    Ok(ports)
}

/// (link, resolved target) for every entry of a by-id directory; none when it does not exist.
fn by_id_links(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut links: Vec<(PathBuf, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let link = e.path();
            let target = std::fs::canonicalize(&link).ok()?;
            Some((link, target))
        })
        .collect();
    links.sort();
    links
}

impl fmt::Display for PortCandidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        match &self.kind {
            PortKind::Usb(usb) => {
                write!(f, "  USB {:04x}:{:04x}", usb.vid, usb.pid)?;
                let names: Vec<&str> = [&usb.manufacturer, &usb.product]
                    .into_iter()
                    .filter_map(|s| s.as_deref())
                    .collect();
                if !names.is_empty() {
                    write!(f, "  {}", names.join(" "))?;
                }
                if let Some(serial) = &usb.serial {
                    write!(f, "  serial {serial}")?;
                }
            }
            PortKind::Pci => f.write_str("  PCI")?,
            PortKind::Bluetooth => f.write_str("  Bluetooth")?,
            PortKind::Other => f.write_str("  built-in or unknown")?,
        }
        for link in &self.by_id {
            write!(f, "\n    port = \"{}\"", link.display())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_does_not_fail_here() {
        // Whatever this machine has (often no USB modem): the call works and USB sorts first.
        let ports = list_ports().unwrap();
        let first_other = ports
            .iter()
            .position(|p| !matches!(p.kind, PortKind::Usb(_)))
            .unwrap_or(ports.len());
        assert!(
            ports[first_other..]
                .iter()
                .all(|p| !matches!(p.kind, PortKind::Usb(_)))
        );
    }

    #[test]
    fn by_id_links_are_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("ttyUSB7");
        std::fs::write(&target, b"").unwrap();
        let link = dir.path().join("usb-HUAWEI_Mobile-if00-port0");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let links = by_id_links(dir.path());
        let want = (link, std::fs::canonicalize(&target).unwrap());
        assert!(links.contains(&want), "{links:?}");
        assert!(by_id_links(Path::new("/no/such/dir")).is_empty());
    }

    #[test]
    fn display_shows_ids_and_the_config_line() {
        let p = PortCandidate {
            path: PathBuf::from("/dev/ttyUSB0"),
            kind: PortKind::Usb(UsbIds {
                vid: 0x12d1,
                pid: 0x1001,
                manufacturer: Some("HUAWEI".into()),
                product: Some("Mobile".into()),
                serial: None,
            }),
            by_id: vec![PathBuf::from(
                "/dev/serial/by-id/usb-HUAWEI_Mobile-if00-port0",
            )],
        };
        assert_eq!(
            p.to_string(),
            "/dev/ttyUSB0  USB 12d1:1001  HUAWEI Mobile\n    port = \"/dev/serial/by-id/usb-HUAWEI_Mobile-if00-port0\""
        );
    }
}
