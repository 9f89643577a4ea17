//! The live host, rooted at `/` or at a directory standing in for it.

use super::{
    bounded, check_name, list_dir, read_capped, Limits, RawInput, ReadError, Source, SourceKind,
};
use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Reads inputs from the running system below `root`.
///
/// `dev/kmsg` is read record by record when it is the kernel's character
/// device (non-blocking, so the read ends at the newest record), and as a
/// plain file when `root` is a directory of copied files. The network
/// tables (`net/*.json`) are dumped from netlink in the process's network
/// namespace when `root` is `/`, and read as files below any other root;
/// so is `fs/statvfs.json` (statvfs of every mount, see
/// [`super::storage`]). Of the processes' command lines only quota tools'
/// are read. `services/paths.json` (stat of watched paths) and the
/// `systemd/*` outputs come from [`super::services`].
#[derive(Debug, Clone)]
pub struct LiveHost {
    root: PathBuf,
}

impl LiveHost {
    /// The host itself, rooted at `/`.
    pub fn new() -> Self {
        LiveHost {
            root: PathBuf::from("/"),
        }
    }

    /// A host whose files live below `root` (`--root DIR`).
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        LiveHost { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Default for LiveHost {
    fn default() -> Self {
        Self::new()
    }
}

impl Source for LiveHost {
    fn kind(&self) -> SourceKind {
        SourceKind::Live
    }

    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn read(&self, name: &str, limits: &Limits) -> Result<RawInput, ReadError> {
        check_name(name)?;
        let limits = *limits;
        if self.root == Path::new("/") && super::netlink::INPUTS.contains(&name) {
            let name = name.to_string();
            return bounded(limits.timeout, move || {
                let bytes = super::netlink::generate(&name)?;
                Ok(RawInput {
                    bytes: bytes.into(),
                    truncated: false,
                })
            });
        }
        if self.root == Path::new("/") && super::storage::INPUTS.contains(&name) {
            // Not wrapped in `bounded`: every statvfs call has its own
            // timeout inside, and a hung mount must become a record, not
            // a lost file.
            return super::storage::generate_statvfs(&self.root, limits.timeout).map(|bytes| {
                RawInput {
                    bytes: bytes.into(),
                    truncated: false,
                }
            });
        }
        if let Some(generated) = super::services::read(&self.root, name, &limits) {
            return generated;
        }
        if !super::storage::cmdline_wanted(&self.root, name, limits.timeout) {
            // Only quota tools' command lines are collected.
            return Err(ReadError::NotFound);
        }
        let path = self.root.join(name);
        bounded(limits.timeout, move || {
            let meta = std::fs::metadata(&path).map_err(|e| ReadError::from_io(&e))?;
            if meta.file_type().is_char_device() {
                read_kmsg_device(&path, limits.max_bytes).map_err(|err| match err {
                    ReadError::Denied(why) => ReadError::Denied(format!(
                        "{why}; reading the kernel log needs root or CAP_SYSLOG when kernel.dmesg_restrict=1"
                    )),
                    other => other,
                })
            } else {
                read_capped(&path, limits.max_bytes, limits.keep)
            }
        })
    }

    fn list(&self, dir: &str, limits: &Limits) -> Result<Vec<String>, ReadError> {
        check_name(dir)?;
        if let Some(units) = super::services::list(&self.root, dir, limits) {
            return units;
        }
        let path = self.root.join(dir);
        bounded(limits.timeout, move || list_dir(&path))
    }
}

/// Reads every record the kernel still holds from a `/dev/kmsg`-style device,
/// without blocking, keeping the newest `max_bytes`. Each `read(2)` returns
/// one record; `EPIPE` means records were overwritten while reading, and the
/// next read continues at the oldest one still held (the gap shows in the
/// sequence numbers, which the parser reports).
fn read_kmsg_device(path: &Path, max_bytes: usize) -> Result<RawInput, ReadError> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|e| ReadError::from_io(&e))?;
    let mut records: VecDeque<Vec<u8>> = VecDeque::new();
    let mut held = 0usize;
    let mut truncated = false;
    // A record is at most 8 KiB (PRINTK_MESSAGE_MAX plus dictionary).
    let mut buf = vec![0u8; 16 << 10];
    // Bounded even if the kernel logs faster than we read.
    let mut budget = 1_000_000usize;
    loop {
        if budget == 0 {
            truncated = true;
            break;
        }
        budget -= 1;
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut record = buf[..n].to_vec();
                if record.last() != Some(&b'\n') {
                    record.push(b'\n');
                }
                held += record.len();
                records.push_back(record);
                while held > max_bytes {
                    if let Some(old) = records.pop_front() {
                        held -= old.len();
                        truncated = true;
                    }
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => continue,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(ReadError::from_io(&err)),
        }
    }
    let mut bytes = Vec::with_capacity(held);
    for record in records {
        bytes.extend_from_slice(&record);
    }
    Ok(RawInput {
        bytes: bytes.into(),
        truncated,
    })
}
