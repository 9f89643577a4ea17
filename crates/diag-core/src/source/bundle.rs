//! A bundle: a directory that mirrors a host, or the same packed as
//! `.tar.zst`.

use super::{
    bounded, check_name, list_in, read_file, read_in, Confine, Limits, RawInput, ReadError, Source,
    SourceKind,
};
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Inputs read from a bundle directory or archive.
#[derive(Debug)]
pub struct Bundle {
    path: PathBuf,
    content: Content,
}

#[derive(Debug)]
enum Content {
    /// A directory, with every path in it (files and directories,
    /// relative, `/`-separated) when it could be listed at open: a read
    /// of a name it does not have then fails at once instead of going
    /// through a reader thread (most of the ~100 names a snapshot asks for
    /// are absent from a bundle of a few inputs).
    Dir(Option<BTreeSet<String>>),
    /// Every regular file, unpacked as far as its input keeps (shared
    /// with the inputs read from it; see [`super::archive`]).
    Archive(super::archive::Archive),
    /// A lone pcap or pcapng file (what tcpdump or Wireshark wrote), seen
    /// as a bundle holding only it, under this canonical name.
    Capture(String),
}

/// The canonical name a lone capture file gets: `capture/<its name>`,
/// with `.pcap` or `.pcapng` (by its magic number) appended when its name
/// does not already end so, and anything but `[A-Za-z0-9._-]` made `_`.
/// `None` when the file does not start like a capture. A file too short
/// for a magic number counts when its name says capture (`.pcap`,
/// `.pcapng`, `.cap`): tcpdump killed before it wrote leaves such files,
/// and the analysis then says what is wrong with it.
fn capture_name(path: &Path) -> Option<String> {
    let mut magic = Vec::with_capacity(4);
    File::open(path)
        .ok()?
        .take(4)
        .read_to_end(&mut magic)
        .ok()?;
    let named = path
        .extension()
        .is_some_and(|x| x == "pcap" || x == "pcapng" || x == "cap");
    let ext = match magic[..] {
        [0x0a, 0x0d, 0x0d, 0x0a] => ".pcapng",
        [0xa1, 0xb2, 0xc3, 0xd4]
        | [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x4d, 0x3c, 0xb2, 0xa1] => ".pcap",
        _ if magic.len() < 4 && named => ".pcap",
        _ => return None,
    };
    let file: String = path
        .file_name()?
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let file = file.trim_start_matches('.');
    if file.ends_with(".pcap") || file.ends_with(".pcapng") {
        Some(format!("capture/{file}"))
    } else {
        Some(format!("capture/{file}{ext}"))
    }
}

/// Time allowed for listing a bundle directory when it is opened.
const LISTING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Paths listed at most; a larger bundle is read without a listing.
const LISTING_MAX: usize = 100_000;

/// Every path below `root` (relative, `/`-separated), or `None` when the
/// tree cannot be listed whole: unreadable, larger than [`LISTING_MAX`],
/// a name that is not UTF-8, or a symbolic link (which a read follows and
/// a listing does not).
fn listing(root: &Path) -> Option<BTreeSet<String>> {
    let mut paths = BTreeSet::new();
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        for entry in std::fs::read_dir(&dir).ok()? {
            let entry = entry.ok()?;
            let kind = entry.file_type().ok()?;
            if kind.is_symlink() {
                return None;
            }
            let name = format!("{prefix}{}", entry.file_name().to_str()?);
            if kind.is_dir() {
                pending.push((entry.path(), format!("{name}/")));
            }
            paths.insert(name);
            if paths.len() > LISTING_MAX {
                return None;
            }
        }
    }
    Some(paths)
}

impl Bundle {
    /// Opens a bundle directory, or unpacks a `.tar.zst` (or `.tzst`) archive
    /// into memory, or takes a lone pcap/pcapng file (recognised by its
    /// magic number) as a bundle holding only `capture/<its name>`. Fails,
    /// naming the path, when it does not exist, is an empty directory, is
    /// an archive that does not unpack completely, or is none of these.
    ///
    /// The path is looked at on a reader thread within the default read
    /// timeout ([`Bundle::open_within`]): a bundle on a hung mount is an
    /// error naming it, not a hang.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_within(path, Limits::default().timeout)
    }

    /// [`Bundle::open`], giving up after `timeout` when the filesystem
    /// does not answer (an archive, which is unpacked while opening, gets
    /// twelve times as long, and at least a minute).
    pub fn open_within(path: impl AsRef<Path>, timeout: std::time::Duration) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        // A first look within the plain timeout: on a hung mount this is
        // where it shows.
        let probe = path.clone();
        if let Err(ReadError::TimedOut(after)) = bounded(timeout, move || {
            std::fs::symlink_metadata(&probe).map_err(|e| ReadError::from_io(&e))
        }) {
            return Err(Error::Hung { path, after });
        }
        let name = path.to_string_lossy();
        let timeout = if super::archive::is_archive_name(&name) {
            (timeout * 12).max(std::time::Duration::from_secs(60))
        } else {
            timeout
        };
        let opened = path.clone();
        match bounded(timeout, move || Ok(Self::open_here(opened))) {
            Ok(bundle) => bundle,
            Err(ReadError::TimedOut(after)) => Err(Error::Hung { path, after }),
            Err(err) => Err(Error::io(path, std::io::Error::other(err.to_string()))),
        }
    }

    /// [`Bundle::open`] on the calling thread.
    fn open_here(path: PathBuf) -> Result<Self> {
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::BundleMissing(path))
            }
            Err(err) => return Err(Error::io(path, err)),
        };
        if meta.is_dir() {
            let mut entries = std::fs::read_dir(&path).map_err(|e| Error::io(&path, e))?;
            if entries.next().is_none() {
                return Err(Error::BundleEmpty(path));
            }
            let root = path.clone();
            let listing = bounded(LISTING_TIMEOUT, move || Ok(listing(&root)))
                .ok()
                .flatten();
            return Ok(Bundle {
                path,
                content: Content::Dir(listing),
            });
        }
        let name = path.to_string_lossy();
        if super::archive::is_archive_name(&name) {
            let archive = super::archive::Archive::unpack(&path)?;
            if archive.is_empty() {
                return Err(Error::BundleEmpty(path));
            }
            return Ok(Bundle {
                path,
                content: Content::Archive(archive),
            });
        }
        if meta.is_file() {
            if let Some(name) = capture_name(&path) {
                return Ok(Bundle {
                    path,
                    content: Content::Capture(name),
                });
            }
        }
        Err(Error::NotABundle(path))
    }

    /// The bundle's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Source for Bundle {
    fn kind(&self) -> SourceKind {
        SourceKind::Bundle
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self, name: &str, limits: &Limits) -> Result<RawInput, ReadError> {
        check_name(name)?;
        match &self.content {
            Content::Dir(Some(listing)) if !listing.contains(name) => Err(ReadError::NotFound),
            Content::Dir(_) => read_in(&self.path, name, Confine::Beneath, limits),
            Content::Archive(archive) => archive.read(name, limits),
            Content::Capture(capture) if name == capture => {
                let path = self.path.clone();
                let limits = *limits;
                let deadline = std::time::Instant::now() + limits.timeout;
                bounded(limits.timeout, move || {
                    let file = File::open(&path).map_err(|e| ReadError::from_io(&e))?;
                    read_file(file, limits.max_bytes, limits.keep, Some(deadline))
                })
            }
            Content::Capture(_) => Err(ReadError::NotFound),
        }
    }

    fn list(&self, dir: &str, limits: &Limits) -> Result<Vec<String>, ReadError> {
        check_name(dir)?;
        match &self.content {
            Content::Dir(Some(listing)) if !listing.contains(dir) => Err(ReadError::NotFound),
            Content::Dir(_) => list_in(&self.path, dir, Confine::Beneath, limits),
            Content::Archive(archive) => archive.list(dir),
            Content::Capture(capture) => match capture.split_once('/') {
                Some((parent, file)) if parent == dir => Ok(vec![file.to_string()]),
                _ => Err(ReadError::NotFound),
            },
        }
    }

    fn notes(&self) -> Vec<crate::model::Skipped> {
        match &self.content {
            Content::Archive(archive) => archive.notes(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    /// A bundle directory is listed once: names it lacks fail at once,
    /// names it has read as before, nested or not; a symbolic link in it
    /// turns the listing off, and reads still follow the link.
    #[test]
    fn a_bundle_directory_is_listed_when_opened() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("proc/net")).expect("mkdir");
        std::fs::write(dir.path().join("proc/net/arp"), "IP address\n").expect("write");
        std::fs::write(dir.path().join("manifest.json"), "{}").expect("write");
        let bundle = Bundle::open(dir.path()).expect("bundle");
        let Content::Dir(Some(listing)) = &bundle.content else {
            panic!("not listed: {:?}", bundle.content);
        };
        assert_eq!(
            listing.iter().map(String::as_str).collect::<Vec<_>>(),
            ["manifest.json", "proc", "proc/net", "proc/net/arp"]
        );
        let read = bundle.read("proc/net/arp", &limits()).expect("read");
        assert_eq!(&read.bytes[..], b"IP address\n");
        assert_eq!(
            bundle.read("proc/net/route", &limits()).map(|r| r.bytes),
            Err(ReadError::NotFound)
        );
        assert_eq!(bundle.list("proc/net", &limits()), Ok(vec!["arp".into()]));
        assert_eq!(bundle.list("sys", &limits()), Err(ReadError::NotFound));

        // A link inside the tree is followed; one that leaves it is refused
        // with its name (issue 19: `proc/mdstat -> /etc/shadow` was read).
        std::fs::create_dir_all(dir.path().join("saved")).expect("mkdir");
        std::fs::write(dir.path().join("saved/route"), "Iface\n").expect("write");
        std::os::unix::fs::symlink("saved", dir.path().join("net")).expect("symlink");
        let elsewhere = tempfile::tempdir().expect("tempdir");
        std::fs::write(elsewhere.path().join("mdstat"), "secret\n").expect("write");
        std::os::unix::fs::symlink(
            elsewhere.path().join("mdstat"),
            dir.path().join("proc/mdstat"),
        )
        .expect("symlink");
        let bundle = Bundle::open(dir.path()).expect("bundle");
        assert!(matches!(bundle.content, Content::Dir(None)));
        let read = bundle
            .read("net/route", &limits())
            .expect("read through the link");
        assert_eq!(&read.bytes[..], b"Iface\n");
        assert!(matches!(
            bundle.read("proc/mdstat", &limits()),
            Err(ReadError::Refused(why)) if why.contains("proc/mdstat")
        ));
        assert_eq!(
            bundle.read("proc/net/route", &limits()).map(|r| r.bytes),
            Err(ReadError::NotFound)
        );
    }
}
