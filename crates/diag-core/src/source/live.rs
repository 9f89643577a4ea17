//! The live host, rooted at `/` or at a directory standing in for it.

use super::{
    bounded, bounded_keyed, check_name, list_in, open_in, read_file, Confine, Keep, Limits,
    RawInput, ReadError, Source, SourceKind,
};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Reads inputs from the running system below `root`.
///
/// `dev/kmsg` is read record by record when it is the kernel's character
/// device (non-blocking, so the read ends at the newest record), and as a
/// plain file when `root` is a directory of copied files. The network
/// tables (`net/*.json`) are dumped from netlink in the process's network
/// namespace when `root` is `/`, and read as files below any other root;
/// so is `fs/statvfs.json` (statvfs of every mount, see
/// `super::storage`). Of the processes' command lines only quota tools'
/// are read. `services/paths.json` (stat of watched paths) and the
/// `systemd/*` outputs come from `super::services`.
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

    /// A host below `root`, checked first: `root` must be a directory that
    /// answers within `timeout` (a root on a hung mount is an error naming
    /// it, not a hang of the calling thread).
    pub fn open_root(
        root: impl Into<PathBuf>,
        timeout: std::time::Duration,
    ) -> crate::Result<Self> {
        let root = root.into();
        let probe = root.clone();
        let is_dir = bounded(timeout, move || {
            std::fs::metadata(&probe)
                .map(|meta| meta.is_dir())
                .map_err(|e| ReadError::from_io(&e))
        });
        match is_dir {
            Ok(true) => Ok(LiveHost { root }),
            Ok(false) | Err(ReadError::NotFound) => Err(crate::Error::NotARoot(root)),
            Err(ReadError::TimedOut(after)) => Err(crate::Error::Hung { path: root, after }),
            Err(err) => Err(crate::Error::io(
                root,
                std::io::Error::other(err.to_string()),
            )),
        }
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
        let mut limits = *limits;
        if limits.keep == Keep::Stream {
            // The host's own logs are written (and truncated by a
            // `copytruncate` rotation) while diag reads them: a mapping
            // would die of SIGBUS, so they keep their newest bytes.
            limits.keep = Keep::Tail;
        }
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
        let deadline = Instant::now() + limits.timeout;
        let root = self.root.clone();
        let owned = name.to_string();
        let key = self.root.join(name).to_string_lossy().into_owned();
        bounded_keyed(Some(key), limits.timeout, move || {
            let kmsg_denied = |err| {
                match err {
                ReadError::Denied(why) if owned == "dev/kmsg" => ReadError::Denied(format!(
                    "{why}; reading the kernel log needs root or CAP_SYSLOG when kernel.dmesg_restrict=1"
                )),
                other => other,
            }
            };
            let file = open_in(&root, &owned, Confine::InRoot).map_err(kmsg_denied)?;
            let meta = file.metadata().map_err(|e| ReadError::from_io(&e))?;
            if meta.file_type().is_char_device() {
                read_kmsg_device(file, limits.max_bytes, deadline).map_err(kmsg_denied)
            } else {
                read_file(file, limits.max_bytes, limits.keep, Some(deadline))
            }
        })
    }

    fn list(&self, dir: &str, limits: &Limits) -> Result<Vec<String>, ReadError> {
        check_name(dir)?;
        if let Some(units) = super::services::list(&self.root, dir, limits) {
            return units;
        }
        list_in(&self.root, dir, Confine::InRoot, limits)
    }
}

/// Reads every record the kernel still holds from a `/dev/kmsg`-style device,
/// without blocking, keeping the newest `max_bytes`. Each `read(2)` returns
/// one record; `EPIPE` means records were overwritten while reading, and the
/// next read continues at the oldest one still held (the gap shows in the
/// sequence numbers, which the parser reports).
///
/// A character device that is not the kernel's log (`dev/kmsg ->
/// /dev/urandom` in a `--root` tree) is read the same way and stops at
/// `deadline` or at the size cap, whichever comes first.
fn read_kmsg_device(
    mut file: File,
    max_bytes: usize,
    deadline: Instant,
) -> Result<RawInput, ReadError> {
    let flags = nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_GETFL)
        .map_err(|e| ReadError::from_io(&e.into()))?;
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_SETFL(flags))
        .map_err(|e| ReadError::from_io(&e.into()))?;
    let started = Instant::now();
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
        if budget.is_multiple_of(64) && Instant::now() >= deadline {
            return Err(ReadError::TimedOut(
                deadline.saturating_duration_since(started),
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Issue 19, defect 4: `dev/kmsg -> /dev/urandom` in a `--root` tree
    /// was read as a kernel log device a million times after its caller
    /// gave up. It stops at its deadline.
    #[test]
    fn a_device_posing_as_kmsg_stops_at_the_deadline() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let file = File::open("/dev/urandom").expect("/dev/urandom");
            let deadline = Instant::now() + Duration::from_millis(100);
            let _ = tx.send(read_kmsg_device(file, 32 << 20, deadline));
        });
        let got = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the read went on past its deadline");
        assert!(matches!(got, Err(ReadError::TimedOut(_))), "{got:?}");
    }
}
