//! The drop folder's files: which names are looked at, reading one safely, and moving it to
//! `processed/` or `failed/` without overwriting an earlier one.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use jiff::ZonedDateTime;

/// Where imported files go, inside the drop folder.
pub const PROCESSED: &str = "processed";
/// Where refused files go, with their `.errors.txt`, inside the drop folder.
pub const FAILED: &str = "failed";
/// Suffix of the report written beside a refused file.
pub const ERRORS_SUFFIX: &str = ".errors.txt";

/// Bigger than any sheet a site exports (100,000 shifts is about 4 MB); a larger file is
/// something else that was dropped by mistake, and is not read into memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Whether a file name in the drop folder is one to import: `.csv`, `.txt` (Excel's "Unicode
/// Text") or `.tsv`, in any case; not a temporary or lock file (`~$book.csv` from Excel,
/// `.~lock.book.csv#` from LibreOffice, any dotfile; `*.part`, `*.tmp`, `*.crdownload` have
/// other extensions), and not one of our own error reports.
pub fn is_candidate(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        // Not UTF-8: no spreadsheet program writes such a name; take it anyway, its
        // extension decides.
        return has_extension(&name.to_string_lossy());
    };
    !name.starts_with('.')
        && !name.starts_with('~')
        && !name.to_ascii_lowercase().ends_with(ERRORS_SUFFIX)
        && has_extension(name)
}

fn has_extension(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && ["csv", "txt", "tsv"]
            .iter()
            .any(|e| ext.eq_ignore_ascii_case(e))
}

/// Enough of a file's identity to tell whether it changed between two looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub len: u64,
    pub modified: Option<SystemTime>,
    pub inode: u64,
}

impl Stamp {
    pub fn of(meta: &fs::Metadata) -> Stamp {
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode: meta.ino(),
        }
    }

    /// The stamp of `path` (of the file a symbolic link points to, or of the link itself
    /// when that cannot be followed), or `None` if nothing is there any more.
    pub fn at(path: &Path) -> Option<Stamp> {
        fs::metadata(path)
            .or_else(|_| fs::symlink_metadata(path))
            .ok()
            .map(|m| Stamp::of(&m))
    }
}

/// Why a dropped file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Gone before it could be read (moved away or deleted after it was seen): nothing to do.
    #[error("it disappeared before it could be read")]
    Vanished,
    #[error(
        "it is {0}, not a regular file; save the sheet as a CSV file and put that in the folder"
    )]
    NotAFile(&'static str),
    #[error(
        "it is {0} bytes long, more than the {MAX_FILE_BYTES} bytes a CSV file of shifts, \
         employees or campaigns could be; was the wrong file saved here?"
    )]
    TooLarge(u64),
    #[error(
        "shiftsms is not allowed to read it ({0}); the user shiftsms runs as needs read \
         permission on the file"
    )]
    Permission(io::Error),
    #[error("it could not be read: {0}")]
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(err: io::Error) -> ReadError {
        match err.kind() {
            io::ErrorKind::NotFound => ReadError::Vanished,
            io::ErrorKind::PermissionDenied => ReadError::Permission(err),
            _ => ReadError::Io(err),
        }
    }
}

/// Read a whole dropped file. Opened non-blocking and checked to be a regular file after
/// opening (not before, so nothing can be swapped in between): a named pipe given a `.csv`
/// name would otherwise block the reader until someone writes to it.
pub fn read(path: &Path) -> Result<Vec<u8>, ReadError> {
    let mut file: File = OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)?;
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(ReadError::NotAFile(if kind.is_dir() {
            "a folder"
        } else if kind.is_fifo() {
            "a named pipe"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "a device"
        }));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.by_ref()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Move `file` into `folder` (created if needed) as `<stem>.<local time>.<ext>`, with `-2`,
/// `-3`, ... added if that name is taken: an earlier file is never overwritten. Returns the
/// new path.
pub fn move_into(file: &Path, folder: &Path, at: &ZonedDateTime) -> io::Result<PathBuf> {
    fs::create_dir_all(folder)?;
    let name = file
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name.as_str(), String::new()),
    };
    let stamp = at.strftime("%Y-%m-%d_%H%M%S");
    for n in 1u32.. {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let target = folder.join(format!("{stem}.{stamp}{suffix}{ext}"));
        let report = errors_path(&target);
        if fs::symlink_metadata(&target).is_err() && fs::symlink_metadata(&report).is_err() {
            fs::rename(file, &target)?;
            return Ok(target);
        }
    }
    Err(io::Error::other("no free name"))
}

/// The `.errors.txt` report beside a (moved) file.
pub fn errors_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(ERRORS_SUFFIX);
    file.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    #[test]
    fn which_names_are_imported() {
        for name in [
            "shifts.csv",
            "Shifts.CSV",
            "unicode.txt",
            "a.tsv",
            "x.y.csv",
        ] {
            assert!(is_candidate(OsStr::new(name)), "{name}");
        }
        for name in [
            "~$shifts.csv",
            ".~lock.shifts.csv#",
            ".hidden.csv",
            "shifts.csv.part",
            "shifts.tmp",
            "shifts.csv.crdownload",
            "shifts.xlsx",
            "processed",
            "shifts.csv.errors.txt",
            "A1B2C3D4",
            ".csv",
        ] {
            assert!(!is_candidate(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn moves_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let at = jiff::Timestamp::from_second(1_714_554_000)
            .unwrap()
            .to_zoned_datetime(TimeZone::UTC);
        let folder = dir.path().join(PROCESSED);
        let mut moved = Vec::new();
        for text in ["one", "two", "three"] {
            let file = dir.path().join("shifts.csv");
            fs::write(&file, text).unwrap();
            moved.push(move_into(&file, &folder, &at).unwrap());
        }
        let names: Vec<String> = moved
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "shifts.2024-05-01_090000.csv",
                "shifts.2024-05-01_090000-2.csv",
                "shifts.2024-05-01_090000-3.csv"
            ]
        );
        assert_eq!(fs::read_to_string(&moved[0]).unwrap(), "one");
        assert_eq!(fs::read_to_string(&moved[2]).unwrap(), "three");
        assert_eq!(
            errors_path(&moved[0]).file_name().unwrap(),
            "shifts.2024-05-01_090000.csv.errors.txt"
        );
    }

    #[test]
    fn reading_what_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read(&dir.path().join("gone.csv")),
            Err(ReadError::Vanished)
        ));
        let folder = dir.path().join("folder.csv");
        fs::create_dir(&folder).unwrap();
        assert!(matches!(
            read(&folder),
            Err(ReadError::NotAFile("a folder"))
        ));
        let fifo = dir.path().join("pipe.csv");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        // Would block forever without O_NONBLOCK.
        assert!(matches!(
            read(&fifo),
            Err(ReadError::NotAFile("a named pipe"))
        ));
        // A symbolic link to itself: root cannot read it either (ELOOP).
        let loop_link = dir.path().join("loop.csv");
        std::os::unix::fs::symlink(&loop_link, &loop_link).unwrap();
        let err = read(&loop_link).unwrap_err();
        assert!(matches!(err, ReadError::Io(_)), "{err:?}");
        let good = dir.path().join("good.csv");
        fs::write(&good, "a,b\n").unwrap();
        assert_eq!(read(&good).unwrap(), b"a,b\n");
    }
}
