//! A bundle: a directory that mirrors a host, or the same packed as
//! `.tar.zst`.

use super::{
    bounded, check_name, list_dir, read_capped, Limits, RawInput, ReadError, Source, SourceKind,
};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest file kept from an archive.
const ARCHIVE_ENTRY_MAX: u64 = 256 << 20;
/// Largest total unpacked size of an archive.
const ARCHIVE_TOTAL_MAX: u64 = 1 << 30;

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
    /// Every file, unpacked (shared with the inputs read from it).
    Archive(BTreeMap<String, bytes::Bytes>),
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
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
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
        if name.ends_with(".tar.zst") || name.ends_with(".tzst") {
            let files = unpack(&path)?;
            if files.is_empty() {
                return Err(Error::BundleEmpty(path));
            }
            return Ok(Bundle {
                path,
                content: Content::Archive(files),
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

/// Unpacks every regular file of a `.tar.zst` into memory, keyed by its
/// canonical name. A single top-level directory (the bundle's own name, as
/// `tar -C parent -c bundle` makes) is stripped.
fn unpack(path: &Path) -> Result<BTreeMap<String, bytes::Bytes>> {
    let archive_error = |reason: String| Error::BundleArchive {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let decoder = zstd::Decoder::new(file).map_err(|e| archive_error(e.to_string()))?;
    let mut archive = tar::Archive::new(decoder);
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    let entries = archive
        .entries()
        .map_err(|e| archive_error(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| archive_error(e.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map_err(|e| archive_error(e.to_string()))?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let mut bytes = Vec::new();
        (&mut entry)
            .take(ARCHIVE_ENTRY_MAX)
            .read_to_end(&mut bytes)
            .map_err(|e| archive_error(format!("{name}: {e}")))?;
        // Drain what is beyond the cap so a short archive is still detected.
        std::io::copy(&mut entry, &mut std::io::sink())
            .map_err(|e| archive_error(format!("{name}: {e}")))?;
        total += bytes.len() as u64;
        if total > ARCHIVE_TOTAL_MAX {
            return Err(archive_error(format!(
                "unpacks to more than {} MiB",
                ARCHIVE_TOTAL_MAX >> 20
            )));
        }
        files.insert(name, bytes.into());
    }
    // tar stops at the first zero block; make sure the compressed stream
    // itself ended properly, or a cut archive would pass for a short one.
    let mut rest = archive.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(|e| archive_error(e.to_string()))?;
    Ok(strip_top_dir(files))
}

fn strip_top_dir(files: BTreeMap<String, bytes::Bytes>) -> BTreeMap<String, bytes::Bytes> {
    let first = files
        .keys()
        .next()
        .and_then(|name| name.split_once('/'))
        .map(|(top, _)| format!("{top}/"));
    match first {
        Some(prefix)
            if !files.contains_key("manifest.json")
                && files.keys().all(|name| name.starts_with(&prefix)) =>
        {
            files
                .into_iter()
                .map(|(name, bytes)| (name[prefix.len()..].to_string(), bytes))
                .collect()
        }
        _ => files,
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
            Content::Dir(_) => {
                let path = self.path.join(name);
                let limits = *limits;
                bounded(limits.timeout, move || {
                    read_capped(&path, limits.max_bytes, limits.keep)
                })
            }
            Content::Archive(files) => {
                let bytes = files.get(name).ok_or(ReadError::NotFound)?;
                let truncated = limits.keep != super::Keep::Whole && bytes.len() > limits.max_bytes;
                let kept = if truncated {
                    match limits.keep {
                        super::Keep::Head | super::Keep::Whole => bytes.slice(..limits.max_bytes),
                        super::Keep::Tail => bytes.slice(bytes.len() - limits.max_bytes..),
                    }
                } else {
                    bytes.clone()
                };
                Ok(RawInput {
                    bytes: kept,
                    truncated,
                })
            }
            Content::Capture(capture) if name == capture => {
                let path = self.path.clone();
                let limits = *limits;
                bounded(limits.timeout, move || {
                    read_capped(&path, limits.max_bytes, limits.keep)
                })
            }
            Content::Capture(_) => Err(ReadError::NotFound),
        }
    }

    fn list(&self, dir: &str, limits: &Limits) -> Result<Vec<String>, ReadError> {
        check_name(dir)?;
        match &self.content {
            Content::Dir(Some(listing)) if !listing.contains(dir) => Err(ReadError::NotFound),
            Content::Dir(_) => {
                let path = self.path.join(dir);
                bounded(limits.timeout, move || list_dir(&path))
            }
            Content::Archive(files) => {
                let prefix = format!("{dir}/");
                let mut names: Vec<String> = files
                    .keys()
                    .filter_map(|name| name.strip_prefix(&prefix))
                    .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
                    .collect();
                names.dedup();
                if names.is_empty() {
                    return Err(ReadError::NotFound);
                }
                Ok(names)
            }
            Content::Capture(capture) => match capture.split_once('/') {
                Some((parent, file)) if parent == dir => Ok(vec![file.to_string()]),
                _ => Err(ReadError::NotFound),
            },
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

        let elsewhere = tempfile::tempdir().expect("tempdir");
        std::fs::write(elsewhere.path().join("route"), "Iface\n").expect("write");
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("net")).expect("symlink");
        let bundle = Bundle::open(dir.path()).expect("bundle");
        assert!(matches!(bundle.content, Content::Dir(None)));
        let read = bundle
            .read("net/route", &limits())
            .expect("read through the link");
        assert_eq!(&read.bytes[..], b"Iface\n");
        assert_eq!(
            bundle.read("proc/net/route", &limits()).map(|r| r.bytes),
            Err(ReadError::NotFound)
        );
    }
}
