//! A bundle packed as `.tar.zst`, unpacked into memory when it is opened,
//! with bounded memory and time whatever the archive says.
//!
//! The tar stream is walked header by header here (the `tar` crate only
//! parses each 512-byte header): its own iterator reads GNU long-name
//! (`L`, `K`) and PAX (`x`, `g`) headers whole, however large they claim
//! to be, and drains skipped data without a bound. Here:
//!
//! - an extension header larger than [`HEADER_MAX`] is refused before its
//!   data is read, naming the header;
//! - an entry is kept only as far as a read of it keeps
//!   ([`Limits::default`]'s cap, from the end its input keeps: the tail of
//!   a log, the head of a state file); a cut entry reads as `truncated`;
//!   captures are kept whole, those over [`SPILL_OVER`] in an unnamed
//!   temporary file that is mapped (page cache, not heap);
//! - what is kept in memory is bounded in total ([`Bounds::kept`]); an entry
//!   beyond it is left out and says so among the skipped inputs;
//! - every byte decompressed, kept or skipped, counts towards
//!   [`Bounds::expanded`]: an archive that expands to more is refused
//!   (zeros decompress at tens of GB/s; this bounds the time too);
//! - links, devices, FIFOs and sparse files are not read, and say so
//!   ([`Archive::notes`]).

use super::{Keep, Limits, RawInput, ReadError};
use crate::error::{Error, Result};
use crate::model::Skipped;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::Path;

/// Largest extension header (GNU long name or link name, PAX local or
/// global) read; a larger one makes the archive unreadable.
pub(crate) const HEADER_MAX: u64 = 64 << 10;
/// Captures larger than this are kept in an unnamed temporary file, mapped.
const SPILL_OVER: u64 = 4 << 20;
/// Entries that are not read are noted one by one up to this many; the
/// rest are counted in one more note.
const NOTED_MAX: usize = 20;
/// What a kept entry costs besides its content and name (map node, handle).
const ENTRY_OVERHEAD: u64 = 128;

/// How much of an archive is kept and read at most.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// Bytes of one entry kept in memory: the cap of a read.
    pub entry: u64,
    /// Bytes kept in memory in all (contents and names of the entries).
    pub kept: u64,
    /// Bytes of captures kept whole in temporary files in all; a capture
    /// beyond is cut there, and reads as truncated.
    pub captures: u64,
    /// Bytes decompressed in all, kept or skipped.
    pub expanded: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            entry: Limits::default().max_bytes as u64,
            kept: 256 << 20,
            captures: 4 << 30,
            expanded: 8 << 30,
        }
    }
}

/// One entry kept from an archive.
struct Kept {
    bytes: bytes::Bytes,
    /// The entry was larger than what was kept of it.
    cut: bool,
}

/// The regular files of an unpacked archive, by canonical name, and what
/// was not read.
pub(crate) struct Archive {
    files: BTreeMap<String, Kept>,
    /// Symbolic links, by canonical name, with their targets as stored:
    /// followed inside the archive when a read goes through one (sos
    /// stores `proc/net -> self/net`, `sys/block/md0 -> ../devices/...`).
    links: BTreeMap<String, String>,
    notes: Vec<Skipped>,
}

impl fmt::Debug for Archive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files: Vec<_> = self
            .files
            .iter()
            .map(|(name, kept)| (name, kept.bytes.len(), kept.cut))
            .collect();
        f.debug_struct("Archive")
            .field("files", &files)
            .field("links", &self.links)
            .field("notes", &self.notes)
            .finish()
    }
}

impl Archive {
    /// Unpacks a compressed tar within the default [`Bounds`].
    pub(crate) fn unpack(path: &Path) -> Result<Self> {
        unpack_with(path, &Bounds::default())
    }

    /// Whether the archive holds no regular file.
    pub(crate) fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Entries that were not read (links, devices, sparse files, entries
    /// beyond the bounds), each with why.
    pub(crate) fn notes(&self) -> Vec<Skipped> {
        self.notes.clone()
    }

    /// Reads one input: what was kept of it, cut further to `limits`.
    pub(crate) fn read(&self, name: &str, limits: &Limits) -> Result<RawInput, ReadError> {
        let kept = match self.files.get(name) {
            Some(kept) => kept,
            None => self
                .files
                .get(&self.resolve(name)?)
                .ok_or(ReadError::NotFound)?,
        };
        let bytes = &kept.bytes;
        let max = limits.max_bytes;
        if limits.keep != Keep::Whole && bytes.len() > max {
            let part = match limits.keep {
                Keep::Tail | Keep::Stream => bytes.slice(bytes.len() - max..),
                Keep::Head | Keep::Whole => bytes.slice(..max),
            };
            return Ok(RawInput {
                bytes: part,
                truncated: true,
            });
        }
        Ok(RawInput {
            bytes: bytes.clone(),
            truncated: kept.cut,
        })
    }

    /// The names directly inside `dir` (links among them), sorted; `dir`
    /// may itself be reached through links.
    pub(crate) fn list(&self, dir: &str) -> Result<Vec<String>, ReadError> {
        let resolved = self.resolve(dir)?;
        let prefix = format!("{resolved}/");
        let below = |names: Vec<&String>| -> Vec<String> {
            names
                .into_iter()
                .filter(|name| name.starts_with(&prefix))
                .map(|name| {
                    let rest = &name[prefix.len()..];
                    rest.split('/').next().unwrap_or(rest).to_string()
                })
                .collect()
        };
        let files = self
            .files
            .range(prefix.clone()..)
            .map(|(name, _)| name)
            .take_while(|name| name.starts_with(&prefix))
            .collect();
        let links = self
            .links
            .range(prefix.clone()..)
            .map(|(name, _)| name)
            .take_while(|name| name.starts_with(&prefix))
            .collect();
        let mut names = below(files);
        names.extend(below(links));
        crate::sort::sort(&mut names);
        names.dedup();
        if names.is_empty() {
            return Err(ReadError::NotFound);
        }
        Ok(names)
    }
}

impl Archive {
    /// `name` with the archive's symbolic links followed, as the kernel
    /// resolves a path beneath a bundle directory (`beneath::Confine::
    /// Beneath`): a relative target is read from the link's directory; an
    /// absolute one, or `..` above the top, leaves the tree and is
    /// refused, naming the link; at most [`MAX_LINKS`] links.
    fn resolve(&self, name: &str) -> Result<String, ReadError> {
        let mut pending: Vec<&str> = name.rsplit('/').collect();
        let mut done: Vec<&str> = Vec::new();
        let mut hops = 0;
        let mut via: Option<(String, &str)> = None;
        while let Some(part) = pending.pop() {
            match part {
                "" | "." => continue,
                ".." => {
                    if done.pop().is_none() {
                        let (link, target) = via.unwrap_or_default();
                        return Err(refused(&link, target, name));
                    }
                    continue;
                }
                _ => done.push(part),
            }
            if self.links.is_empty() {
                continue;
            }
            let path = done.join("/");
            if let Some(target) = self.links.get(&path) {
                hops += 1;
                if hops > MAX_LINKS {
                    return Err(ReadError::Refused(format!(
                        "{name}: more than {MAX_LINKS} symbolic links"
                    )));
                }
                if target.starts_with('/') {
                    return Err(refused(&path, target, name));
                }
                done.pop();
                pending.extend(target.rsplit('/'));
                via = Some((path, target));
            }
        }
        Ok(done.join("/"))
    }
}

/// Links followed in one name, at most (the kernel's `ELOOP` bound).
const MAX_LINKS: usize = 40;

fn refused(link: &str, target: &str, name: &str) -> ReadError {
    ReadError::Refused(format!(
        "{name}: the symbolic link {link} points at {target:?}, outside the archive; not followed"
    ))
}

/// The names of the archives diag unpacks: a tar compressed with zstd
/// (diag's bundles), xz (sos's default), gzip or bzip2 (sos 3.x's
/// `-z bzip2`).
pub const ARCHIVE_SUFFIXES: [&str; 9] = [
    ".tar.zst", ".tzst", ".tar.xz", ".txz", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz",
];

/// Whether `name` names an archive diag unpacks ([`ARCHIVE_SUFFIXES`]).
pub fn is_archive_name(name: &str) -> bool {
    ARCHIVE_SUFFIXES.iter().any(|ext| name.ends_with(ext))
}

/// Unpacks a compressed tar within `bounds`: every regular file, keyed by
/// its canonical name. The compression is told by its magic number (zstd,
/// xz, gzip, bzip2), not by the name. A single top-level directory that wraps
/// the bundle (`tar -C parent -c bundle`, a sosreport's
/// `sosreport-HOST-DATE/`) is stripped (see [`strip_top_dir`]).
pub(crate) fn unpack_with(path: &Path, bounds: &Bounds) -> Result<Archive> {
    let fail = |reason: String| Error::BundleArchive {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 6];
    let n = file.read(&mut magic).map_err(|e| Error::io(path, e))?;
    file.seek(io::SeekFrom::Start(0))
        .map_err(|e| Error::io(path, e))?;
    match &magic[..n] {
        [0x28, 0xb5, 0x2f, 0xfd, ..] => {
            let decoder = zstd::Decoder::new(file).map_err(|e| fail(e.to_string()))?;
            unpack_reader(ZstdErrors(decoder), path, bounds)
        }
        [0x1f, 0x8b, ..] => unpack_reader(flate2::read::MultiGzDecoder::new(file), path, bounds),
        [b'B', b'Z', b'h', b'1'..=b'9', ..] => {
            unpack_reader(bzip2::read::MultiBzDecoder::new(file), path, bounds)
        }
        [0xfd, b'7', b'z', b'X', b'Z', 0] => {
            // lzma-rs decodes into a writer: it runs on a thread of its
            // own that writes into a pipe the tar walk reads. When the
            // walk stops early (a bound, a broken entry), the pipe breaks
            // and the decoder ends.
            let (reader, mut writer) = io::pipe().map_err(|e| Error::io(path, e))?;
            let decoder = std::thread::spawn(move || {
                let mut input = io::BufReader::new(file);
                lzma_rs::xz_decompress(&mut input, &mut writer).map_err(|e| e.to_string())
            });
            let unpacked = unpack_reader(reader, path, bounds);
            match decoder.join() {
                Ok(Err(err)) if unpacked.is_ok() => Err(fail(err)),
                Err(_) => Err(fail("the xz decoder panicked".into())),
                _ => unpacked,
            }
        }
        _ => Err(fail(
            "not a zstd, xz, gzip or bzip2 compressed tar (unknown magic number)".into(),
        )),
    }
}

/// zstd's C is built without its error strings (zstd's `thin` feature,
/// docs/static-binary.md): every decoding error reads "Error strings
/// stripped". Say what it means instead.
struct ZstdErrors<R>(R);

impl<R: Read> Read for ZstdErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Other && e.to_string() == "Error strings stripped" {
                io::Error::other("not zstd data, or corrupt zstd data")
            } else {
                e
            }
        })
    }
}

/// [`unpack_with`] of a tar stream already decompressed (`path` only names
/// it in errors).
pub(crate) fn unpack_reader<R: Read>(
    mut reader: R,
    path: &Path,
    bounds: &Bounds,
) -> Result<Archive> {
    // One unpacker for every decoder (zstd, xz, gzip): the tar reading
    // behind a `dyn Read` is instantiated once (-30 KB of binary), and
    // decompression, not the call, is what a read costs.
    unpack_dyn(&mut reader, path, bounds)
}

fn unpack_dyn(reader: &mut dyn Read, path: &Path, bounds: &Bounds) -> Result<Archive> {
    let fail = |reason: String| Error::BundleArchive {
        path: path.to_path_buf(),
        reason,
    };
    let mut unpacker = Unpacker {
        stream: Metered {
            inner: reader,
            read: 0,
            max: bounds.expanded,
        },
        bounds: *bounds,
        files: BTreeMap::new(),
        links: BTreeMap::new(),
        noted: Vec::new(),
        unnoted: 0,
        kept: 0,
        captures: 0,
        top: Top::Unseen,
    };
    unpacker.entries().map_err(fail)?;
    // tar stops at the first zero block; make sure the compressed stream
    // itself ended properly, or a cut archive would pass for a short one.
    io::copy(&mut unpacker.stream, &mut io::sink()).map_err(|e| fail(e.to_string()))?;
    let Unpacker {
        files,
        links,
        mut noted,
        unnoted,
        top,
        ..
    } = unpacker;
    if unnoted > 0 {
        noted.push(Skipped {
            collector: "archive".into(),
            reason: format!(
                "{unnoted} more entries not read (links, devices, sparse files, or beyond the limits of an archive)"
            ),
        });
    }
    let mut archive = Archive {
        files,
        links,
        notes: noted,
    };
    strip_top_dir(&mut archive, &top);
    Ok(archive)
}

/// For the fuzz target `archive` (`fuzz/entries.rs`): unpacks `tar` (an
/// uncompressed tar stream) with small bounds, then reads and lists every
/// entry. Not part of the API.
#[doc(hidden)]
pub fn fuzz_unpack(tar: &[u8]) {
    let bounds = Bounds {
        entry: 1 << 20,
        kept: 16 << 20,
        captures: 16 << 20,
        expanded: 64 << 20,
    };
    if let Ok(archive) = unpack_reader(tar, Path::new("fuzz.tar"), &bounds) {
        let _ = archive.notes();
        let names: Vec<String> = archive.files.keys().cloned().collect();
        for name in names {
            let _ = archive.read(&name, &Limits::default());
            if let Some((dir, _)) = name.rsplit_once('/') {
                let _ = archive.list(dir);
            }
        }
    }
}

/// A reader that fails once more than `max` bytes went through it.
struct Metered<R> {
    inner: R,
    read: u64,
    max: u64,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.max {
            return Err(io::Error::other(format!(
                "expands to more than {} (the limit on what an archive may unpack to)",
                size_text(self.max)
            )));
        }
        Ok(n)
    }
}

impl<R: Read> Metered<R> {
    /// Reads one 512-byte block; `false` at the end of the stream.
    fn block(&mut self, block: &mut [u8; 512]) -> std::result::Result<bool, String> {
        let mut filled = 0;
        while filled < block.len() {
            match self.read(&mut block[filled..]) {
                Ok(0) if filled == 0 => return Ok(false),
                Ok(0) => return Err("unexpected end of archive inside a header".into()),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(true)
    }

    /// Reads and drops `n` bytes.
    fn skip(&mut self, n: u64) -> std::result::Result<(), String> {
        let copied = io::copy(&mut self.take(n), &mut io::sink()).map_err(|e| e.to_string())?;
        if copied < n {
            return Err("unexpected end of archive".into());
        }
        Ok(())
    }

    /// Reads `n` bytes.
    fn read_data(&mut self, n: u64) -> std::result::Result<Vec<u8>, String> {
        let mut bytes = Vec::with_capacity(n.min(1 << 20) as usize);
        self.take(n)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        if (bytes.len() as u64) < n {
            return Err("unexpected end of archive".into());
        }
        Ok(bytes)
    }

    /// Copies `n` bytes to `out`.
    fn copy_to(&mut self, n: u64, out: &mut File) -> std::result::Result<(), Spill> {
        let mut chunk = vec![0u8; 64 << 10];
        let mut left = n;
        while left > 0 {
            let want = left.min(chunk.len() as u64) as usize;
            let got = match self.read(&mut chunk[..want]) {
                Ok(0) => return Err(Spill::Archive("unexpected end of archive".into())),
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Spill::Archive(e.to_string())),
            };
            out.write_all(&chunk[..got])
                .map_err(|e| Spill::File(e.to_string(), left - got as u64))?;
            left -= got as u64;
        }
        Ok(())
    }
}

/// Why a capture could not be kept in a temporary file.
enum Spill {
    /// The archive itself failed: the whole read fails.
    Archive(String),
    /// The temporary file failed (full disk): the capture is left out;
    /// this many of its bytes are still to be skipped.
    File(String, u64),
}

/// The top directories of an archive's entries (directories aside).
#[derive(Debug)]
enum Top {
    Unseen,
    /// Every entry is below this one directory.
    One(String),
    /// Entries lie below several, or at the top.
    Mixed,
}

struct Unpacker<R> {
    stream: Metered<R>,
    bounds: Bounds,
    files: BTreeMap<String, Kept>,
    links: BTreeMap<String, String>,
    noted: Vec<Skipped>,
    /// Entries not read beyond [`NOTED_MAX`].
    unnoted: usize,
    /// Bytes kept in memory.
    kept: u64,
    /// Bytes of captures kept in temporary files.
    captures: u64,
    top: Top,
}

/// Extension headers waiting for the entry they describe.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

/// The bytes before the first NUL.
fn until_nul(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(end) = bytes.iter().position(|&b| b == 0) {
        bytes.truncate(end);
    }
    bytes
}

/// Zero padding after `size` bytes of data, to the next 512-byte block.
fn padding(size: u64) -> u64 {
    (512 - size % 512) % 512
}

impl<R: Read> Unpacker<R> {
    fn entries(&mut self) -> std::result::Result<(), String> {
        let mut pending = Pending::default();
        let mut header = tar::Header::new_old();
        loop {
            let ended = !self.stream.block(header.as_mut_bytes())?
                || header.as_bytes().iter().all(|&b| b == 0);
            if ended {
                if pending.long_name.is_some()
                    || pending.long_link.is_some()
                    || pending.pax.is_some()
                {
                    return Err("the archive ends after an extension header, without the entry it describes".into());
                }
                return Ok(());
            }
            let bytes = header.as_bytes();
            let sum = bytes[..148]
                .iter()
                .chain(&bytes[156..])
                .fold(8 * 32, |sum, &b| sum + u32::from(b));
            if header.cksum().ok() != Some(sum) {
                return Err("archive header checksum mismatch".into());
            }
            let kind = header.as_old().linkflag[0];
            let stored = header.entry_size().map_err(|e| e.to_string())?;
            let what = match kind {
                b'L' => "GNU long name ('L')",
                b'K' => "GNU long link name ('K')",
                b'x' => "PAX extended ('x')",
                b'g' => "PAX global ('g')",
                _ => "",
            };
            if !what.is_empty() {
                if stored > HEADER_MAX {
                    return Err(format!(
                        "{what} header of {stored} bytes: more than the {} allowed, not read",
                        size_text(HEADER_MAX)
                    ));
                }
                let data = self.stream.read_data(stored)?;
                self.stream.skip(padding(stored))?;
                let slot = match kind {
                    b'L' => &mut pending.long_name,
                    b'K' => &mut pending.long_link,
                    b'x' => &mut pending.pax,
                    // Global PAX records (a default for every later entry)
                    // change nothing diag reads.
                    _ => continue,
                };
                if slot.is_some() {
                    return Err(format!("two {what} headers for one entry"));
                }
                *slot = Some(data);
                continue;
            }
            let described = std::mem::take(&mut pending);
            self.entry(&header, kind, stored, described)?;
        }
    }

    /// One entry after its extension headers: kept, noted or skipped.
    fn entry(
        &mut self,
        header: &tar::Header,
        kind: u8,
        stored: u64,
        pending: Pending,
    ) -> std::result::Result<(), String> {
        let mut path = pending.long_name.map(until_nul);
        let mut link = pending.long_link.map(until_nul);
        let mut data_size = stored;
        let mut pax_sparse = false;
        if let Some(pax) = &pending.pax {
            for record in tar::PaxExtensions::new(pax) {
                let record = record.map_err(|_| "malformed PAX extended header".to_string())?;
                match record.key_bytes() {
                    b"path" => path = Some(record.value_bytes().to_vec()),
                    b"linkpath" => link = Some(record.value_bytes().to_vec()),
                    b"size" => {
                        data_size = record
                            .value()
                            .ok()
                            .and_then(|v| v.parse().ok())
                            .ok_or("malformed size in a PAX extended header")?;
                    }
                    key if key.starts_with(b"GNU.sparse.") => pax_sparse = true,
                    _ => {}
                }
            }
        }
        let raw = path.unwrap_or_else(|| header.path_bytes().into_owned());
        let raw = String::from_utf8_lossy(&raw).into_owned();
        if kind == b'S' {
            // Old GNU sparse: more sparse maps may follow the header.
            let gnu = header
                .as_gnu()
                .ok_or("a sparse entry without a GNU header")?;
            let mut extended = gnu.is_extended();
            let mut block = [0u8; 512];
            while extended {
                if !self.stream.block(&mut block)? {
                    return Err("unexpected end of archive inside a sparse header".into());
                }
                extended = block[504] == 1;
            }
        }
        let regular = matches!(kind, b'0' | 0 | b'7');
        if kind == b'5' || (regular && raw.ends_with('/')) {
            return self.stream.skip(data_size + padding(data_size));
        }
        let Some(name) = normalize(&raw) else {
            if !raw.trim_matches(['.', '/']).is_empty() {
                self.note(raw, "a path with '..': not read".into());
            }
            return self.stream.skip(data_size + padding(data_size));
        };
        self.see_top(&name);
        let target = || {
            let target = link
                .clone()
                .or_else(|| header.link_name_bytes().map(|l| l.into_owned()))
                .unwrap_or_default();
            String::from_utf8_lossy(&target).into_owned()
        };
        let reason = match kind {
            _ if regular && pax_sparse => "a sparse file: not read".to_string(),
            _ if regular => return self.file(name, data_size),
            b'1' => format!(
                "a hard link to {:?} in the archive: links are not followed",
                target()
            ),
            b'2' => return self.link(name, target(), data_size),
            b'3' => "a character device in the archive: not read".into(),
            b'4' => "a block device in the archive: not read".into(),
            b'6' => "a FIFO in the archive: not read".into(),
            b'S' => "a sparse file: not read".into(),
            other => format!("an archive entry of type {:?}: not read", char::from(other)),
        };
        self.note(name, reason);
        self.stream.skip(data_size + padding(data_size))
    }

    /// A symbolic link: kept (within what an archive may keep in memory)
    /// to be followed when a read goes through it ([`Archive::resolve`]).
    fn link(&mut self, name: String, target: String, size: u64) -> std::result::Result<(), String> {
        let cost = (name.len() + target.len()) as u64 + ENTRY_OVERHEAD;
        if self.kept + cost > self.bounds.kept {
            self.note(
                name,
                format!(
                    "a symbolic link to {target:?}, not kept: what is kept of this archive reached {}",
                    size_text(self.bounds.kept)
                ),
            );
        } else {
            self.kept += cost;
            self.links.insert(name, target);
        }
        self.stream.skip(size + padding(size))
    }

    /// A regular file of `size` bytes: kept as far as its input keeps.
    fn file(&mut self, name: String, size: u64) -> std::result::Result<(), String> {
        let keep = keep_for(&name);
        if keep == Keep::Whole && size > SPILL_OVER {
            return self.capture(name, size);
        }
        let want = if keep == Keep::Whole {
            size
        } else {
            size.min(self.bounds.entry)
        };
        let cost = want + name.len() as u64 + ENTRY_OVERHEAD;
        if self.kept + cost > self.bounds.kept {
            self.note(
                name,
                format!(
                    "not kept: what is kept of this archive reached {} (the limit on an archive in memory)",
                    size_text(self.bounds.kept)
                ),
            );
            return self.stream.skip(size + padding(size));
        }
        let bytes = if keep == Keep::Tail && size > want {
            self.stream.skip(size - want)?;
            let mut bytes = self.stream.read_data(want)?;
            // Drop the partial first line so every kept line is whole, as
            // a read of a file does.
            if let Some(pos) = bytes.iter().position(|&b| b == b'\n') {
                bytes.drain(..=pos);
            }
            bytes
        } else {
            let bytes = self.stream.read_data(want)?;
            self.stream.skip(size - want)?;
            bytes
        };
        self.stream.skip(padding(size))?;
        self.kept += cost;
        self.files.insert(
            name,
            Kept {
                bytes: bytes.into(),
                cut: size > want,
            },
        );
        Ok(())
    }

    /// A capture too large for memory: copied into an unnamed temporary
    /// file (up to what is left of [`Bounds::captures`]) and mapped.
    fn capture(&mut self, name: String, size: u64) -> std::result::Result<(), String> {
        let want = size.min(self.bounds.captures - self.captures);
        let mut file = match tempfile::tempfile() {
            Ok(file) => file,
            Err(e) => {
                self.note(name, format!("not kept: no temporary file for it: {e}"));
                return self.stream.skip(size + padding(size));
            }
        };
        match self.stream.copy_to(want, &mut file) {
            Ok(()) => {}
            Err(Spill::Archive(reason)) => return Err(reason),
            Err(Spill::File(reason, left)) => {
                self.note(
                    name,
                    format!("not kept: its temporary file failed: {reason}"),
                );
                return self.stream.skip(left + size - want + padding(size));
            }
        }
        self.stream.skip(size - want + padding(size))?;
        self.captures += want;
        let bytes = if want == 0 {
            bytes::Bytes::new()
        } else {
            match map(&file) {
                Ok(bytes) => bytes,
                Err(e) => {
                    self.note(
                        name,
                        format!("not kept: cannot map its temporary file: {e}"),
                    );
                    return Ok(());
                }
            }
        };
        self.kept += name.len() as u64 + ENTRY_OVERHEAD;
        self.files.insert(
            name,
            Kept {
                bytes,
                cut: want < size,
            },
        );
        Ok(())
    }

    fn note(&mut self, name: String, reason: String) {
        if self.noted.len() < NOTED_MAX {
            self.noted.push(Skipped {
                collector: name,
                reason,
            });
        } else {
            self.unnoted += 1;
        }
    }

    fn see_top(&mut self, name: &str) {
        let top = name.split_once('/').map(|(top, _)| top);
        self.top = match (&self.top, top) {
            (Top::Unseen, Some(top)) => Top::One(top.to_string()),
            (Top::One(one), Some(top)) if one == top => return,
            _ => Top::Mixed,
        };
    }
}

/// A read-only mapping of an unnamed temporary file that only this
/// process holds.
#[allow(unsafe_code)]
fn map(file: &File) -> io::Result<bytes::Bytes> {
    // SAFETY: the file has no name (O_TMPFILE or unlinked at once) and is
    // written completely before it is mapped: no other process can write
    // or truncate it, so the mapping never changes or faults.
    let mapped = unsafe { memmap2::Mmap::map(file) }?;
    let _ = mapped.advise(memmap2::Advice::Sequential);
    Ok(bytes::Bytes::from_owner(mapped))
}

/// An entry's path as a canonical name: `/`-separated, without empty or
/// `.` components (`./dev/kmsg`, `/dev/kmsg` and `dev//kmsg` are all
/// `dev/kmsg`). `None` for a path with `..` or no component at all.
fn normalize(raw: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// Whether a canonical name matches an input pattern (each path segment
/// may hold one `*`), as `snapshot::expand` matches names it lists.
fn matches(pattern: &str, name: &str) -> bool {
    let mut names = name.split('/');
    for segment in pattern.split('/') {
        let Some(part) = names.next() else {
            return false;
        };
        let ok = match segment.split_once('*') {
            Some((head, tail)) => {
                part.len() >= head.len() + tail.len()
                    && part.starts_with(head)
                    && part.ends_with(tail)
            }
            None => part == segment,
        };
        if !ok {
            return false;
        }
    }
    names.next().is_none()
}

/// Which end of an archive entry to keep: the end its input keeps when it
/// is read (a compressed rotation keeps its head), found under its name as
/// it is or without its first directory (which may be a wrapper that
/// [`strip_top_dir`] removes once every entry is known). The head for
/// names no parser reads.
fn keep_for(name: &str) -> Keep {
    let by_pattern = |name: &str| {
        crate::source::inputs::INPUTS
            .iter()
            .find(|spec| matches(spec.pattern, name))
            .map(|spec| spec.keep)
    };
    let keep = by_pattern(name)
        .or_else(|| name.split_once('/').and_then(|(_, rest)| by_pattern(rest)))
        .unwrap_or(Keep::Head);
    // An archive is unpacked into memory: a log in it is kept as its end.
    let keep = if keep == Keep::Stream {
        Keep::Tail
    } else {
        keep
    };
    if keep == Keep::Tail && name.ends_with(".gz") {
        Keep::Head
    } else {
        keep
    }
}

/// Whether `top` is the first component of a name a bundle holds at its
/// root (`dev`, `proc`, `var`, `manifest.json`, ...).
fn is_known_top(top: &str) -> bool {
    top == "manifest.json"
        || crate::source::inputs::INPUTS
            .iter()
            .any(|spec| spec.pattern.split('/').next() == Some(top))
}

/// Strips a single top-level directory that wraps the bundle (the
/// bundle's own name, as `tar -C parent -c bundle` makes): when every
/// entry lies below it, and it is not itself a name a bundle holds at its
/// root (`dev/kmsg` alone is `dev/kmsg`, not `kmsg`) unless it holds the
/// bundle's `manifest.json`.
fn strip_top_dir(archive: &mut Archive, top: &Top) {
    let Top::One(top) = top else {
        return;
    };
    let prefix = format!("{top}/");
    if is_known_top(top)
        && !archive
            .files
            .contains_key(&format!("{prefix}manifest.json"))
    {
        return;
    }
    archive.files = std::mem::take(&mut archive.files)
        .into_iter()
        .map(|(name, kept)| (name[prefix.len()..].to_string(), kept))
        .collect();
    archive.links = std::mem::take(&mut archive.links)
        .into_iter()
        .filter_map(|(name, target)| Some((name.get(prefix.len()..)?.to_string(), target)))
        .collect();
    for note in &mut archive.notes {
        if let Some(rest) = note.collector.strip_prefix(&prefix) {
            note.collector = rest.to_string();
        }
    }
}

/// `n` bytes in the largest binary unit that divides it.
fn size_text(n: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{} {unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::snapshot::{CollectOptions, Snapshot};
    use crate::source::{Bundle, Source};
    use std::path::PathBuf;

    fn header(kind: tar::EntryType, path: &str, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_path(path).expect("path");
        header.set_entry_type(kind);
        header.set_size(size);
        header.set_mode(0o644);
        header.set_cksum();
        header
    }

    fn builder() -> tar::Builder<Vec<u8>> {
        tar::Builder::new(Vec::new())
    }

    fn add(tar: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
        let mut header = header(tar::EntryType::Regular, "x", data.len() as u64);
        tar.append_data(&mut header, path, data).expect("append");
    }

    /// `tar` compressed into `dir/b.tar.zst`.
    fn archive(dir: &Path, tar: &[u8]) -> PathBuf {
        let path = dir.join("b.tar.zst");
        std::fs::write(&path, zstd::encode_all(tar, 1).expect("zstd")).expect("write");
        path
    }

    fn limits(keep: Keep) -> Limits {
        Limits {
            keep,
            ..Limits::default()
        }
    }

    /// A GNU long-name header claiming 3 GiB was read whole (diag aborted
    /// on the allocation): it is refused on its size, before its data.
    #[test]
    fn a_huge_gnu_long_name_header_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tar = header(tar::EntryType::GNULongName, "././@LongLink", 3 << 30);
        let path = archive(dir.path(), tar.as_bytes());
        let err = Bundle::open(&path).expect_err("refused").to_string();
        assert!(
            err.contains("b.tar.zst")
                && err.contains("GNU long name ('L') header of 3221225472 bytes")
                && err.contains("more than the 64 KiB allowed"),
            "{err}"
        );
    }

    /// The same for a PAX header, which took 4.2 GB and 41 s and ended "OK".
    #[test]
    fn a_huge_pax_header_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut tar = header(tar::EntryType::XHeader, "PaxHeaders/kmsg", 3 << 30)
            .as_bytes()
            .to_vec();
        tar.extend_from_slice(b"30 path=dev/kmsg\n");
        let path = archive(dir.path(), &tar);
        let err = Bundle::open(&path).expect_err("refused").to_string();
        assert!(
            err.contains("b.tar.zst")
                && err.contains("PAX extended ('x') header of 3221225472 bytes")
                && err.contains("more than the 64 KiB allowed"),
            "{err}"
        );
    }

    /// sos 3.x's `.tar.bz2`: read as the zstd one is; cut anywhere or
    /// given garbage after its magic number, an error naming the archive
    /// or the entries that fit, never a panic.
    #[test]
    fn a_bzip2_archive_reads_and_a_broken_one_fails_cleanly() {
        use std::io::Write;
        let mut tar = builder();
        add(&mut tar, "dev/kmsg", b"6,1,100,-;hello\n");
        add(&mut tar, "proc/net/arp", b"IP address HW type\n");
        let tar = tar.into_inner().expect("tar");
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&tar).expect("compress");
        let bz = bz.finish().expect("bzip2");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.tar.bz2");
        std::fs::write(&path, &bz).expect("write");
        let bundle = Bundle::open(&path).expect("open");
        let read = bundle.read("dev/kmsg", &limits(Keep::Tail)).expect("kmsg");
        assert_eq!(&read.bytes[..], b"6,1,100,-;hello\n");
        for cut in [4, 10, bz.len() / 2, bz.len() - 1] {
            std::fs::write(&path, &bz[..cut]).expect("write");
            if let Err(err) = Bundle::open(&path) {
                assert!(err.to_string().contains("s.tar.bz2"), "{err}");
            }
        }
        let mut garbage = b"BZh9".to_vec();
        garbage.extend(std::iter::repeat_n(0x5a, 4096));
        std::fs::write(&path, &garbage).expect("write");
        let err = Bundle::open(&path).expect_err("garbage").to_string();
        assert!(err.contains("s.tar.bz2"), "{err}");
    }

    /// `len` bytes of `line` repeated.
    fn lines(line: &[u8], len: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(len);
        while bytes.len() + line.len() <= len {
            bytes.extend_from_slice(line);
        }
        bytes.resize(len, b'\n');
        bytes
    }

    /// An entry was kept up to 256 MiB though a read keeps 32 MiB: now
    /// only the end its input keeps (the tail of a log, the head of a
    /// table), and a read says it was cut, however much it asks for.
    #[test]
    fn an_archive_entry_is_kept_only_up_to_the_input_cap() {
        let cap = Limits::default().max_bytes;
        let size = cap + (8 << 20);
        let mut log = lines(b"kernel: some line of a log\n", size);
        log.extend_from_slice(b"the last line\n");
        let mut table = b"IP address HW type\n".to_vec();
        table.resize(size, 0);
        let mut tar = builder();
        add(&mut tar, "var/log/syslog", &log);
        add(&mut tar, "proc/net/arp", &table);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = archive(dir.path(), &tar.into_inner().expect("tar"));
        drop((log, table));
        let bundle = Bundle::open(&path).expect("open");
        let more = |keep| Limits {
            max_bytes: 1 << 30,
            ..limits(keep)
        };
        for limits in [limits(Keep::Tail), more(Keep::Tail)] {
            let read = bundle.read("var/log/syslog", &limits).expect("log");
            assert!(read.bytes.len() <= cap, "{}", read.bytes.len());
            assert!(read.truncated);
            assert!(read.bytes.ends_with(b"\nthe last line\n"));
            assert!(read.bytes.starts_with(b"kernel: some line"));
        }
        for limits in [limits(Keep::Head), more(Keep::Head)] {
            let read = bundle.read("proc/net/arp", &limits).expect("table");
            assert!(read.bytes.len() <= cap, "{}", read.bytes.len());
            assert!(read.truncated);
            assert!(read.bytes.starts_with(b"IP address HW type\n"));
        }
    }

    /// Skipped bytes were drained without a bound (256 GiB of zeros from
    /// an 8.4 MB file took 8.3 s): what an archive expands to is bounded,
    /// with an error naming the archive.
    #[test]
    fn draining_skipped_bytes_is_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut tar = builder();
        add(&mut tar, "dev/kmsg", b"6,1,1,-;hello\n");
        add(&mut tar, "junk/zeros", &vec![0u8; 48 << 20]);
        let path = archive(dir.path(), &tar.into_inner().expect("tar"));
        let bounds = Bounds {
            entry: 1 << 20,
            expanded: 16 << 20,
            ..Bounds::default()
        };
        let err = unpack_with(&path, &bounds)
            .expect_err("bounded")
            .to_string();
        assert!(
            err.contains("b.tar.zst") && err.contains("expands to more than 16 MiB"),
            "{err}"
        );
        // Within the bound it is read, and the entry is kept only in part.
        let bounds = Bounds {
            expanded: 64 << 20,
            ..bounds
        };
        let archive = unpack_with(&path, &bounds).expect("unpack");
        let read = archive
            .read("junk/zeros", &limits(Keep::Head))
            .expect("read");
        assert_eq!((read.bytes.len(), read.truncated), (1 << 20, true));
    }

    /// `dev/kmsg` alone is `dev/kmsg`, not `kmsg`; a wrapper directory
    /// (the bundle's own name) is still stripped.
    #[test]
    fn strip_top_dir_keeps_a_real_top_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (names, read) in [
            (&["dev/kmsg"][..], "dev/kmsg"),
            (
                &["var/log/kern.log", "var/log/syslog"][..],
                "var/log/syslog",
            ),
            (&["web1/dev/kmsg", "web1/proc/net/arp"][..], "dev/kmsg"),
            (&["./host/var/log/syslog"][..], "var/log/syslog"),
            (&["var/manifest.json", "var/dev/kmsg"][..], "dev/kmsg"),
        ] {
            let mut tar = builder();
            for name in names {
                add(&mut tar, name, b"6,1,1,-;hello\n");
            }
            let path = archive(dir.path(), &tar.into_inner().expect("tar"));
            let bundle = Bundle::open(&path).expect("open");
            let got = bundle.read(read, &limits(Keep::Tail));
            assert!(got.is_ok(), "{names:?}: {read} not found in {bundle:?}");
            std::fs::remove_file(&path).expect("rm");
        }
    }

    /// Hard links, devices and FIFOs in an archive are not read, and a
    /// symbolic link that leaves the archive is not followed; the analysis
    /// says so, naming them, instead of leaving them out silently.
    #[test]
    fn links_in_an_archive_are_noted() {
        let mut tar = builder();
        add(&mut tar, "dev/kmsg", b"6,1,1,-;hello\n");
        let mut link = header(tar::EntryType::Symlink, "x", 0);
        tar.append_link(&mut link, "var/log/syslog", "/var/log/elsewhere")
            .expect("symlink");
        let mut hard = header(tar::EntryType::Link, "x", 0);
        tar.append_link(&mut hard, "proc/net/arp", "dev/kmsg")
            .expect("hard link");
        let mut fifo = header(tar::EntryType::Fifo, "x", 0);
        tar.append_data(&mut fifo, "proc/net/route", &[][..])
            .expect("fifo");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = archive(dir.path(), &tar.into_inner().expect("tar"));
        let bundle = Bundle::open(&path).expect("open");
        let snapshot = Snapshot::collect(&bundle, &CollectOptions::default());
        let skipped = |name: &str| {
            snapshot
                .skipped
                .iter()
                .find(|s| s.collector == name)
                .map(|s| s.reason.clone())
                .unwrap_or_default()
        };
        assert!(
            skipped("var/log/syslog").contains(
                "the symbolic link var/log/syslog points at \"/var/log/elsewhere\", outside the archive"
            ),
            "{:?}",
            snapshot.skipped
        );
        assert!(
            skipped("proc/net/arp").contains("hard link to \"dev/kmsg\""),
            "{:?}",
            snapshot.skipped
        );
        assert!(
            skipped("proc/net/route").contains("FIFO"),
            "{:?}",
            snapshot.skipped
        );
        assert!(snapshot.inputs.contains_key("dev/kmsg"));
    }

    /// A sosreport packed by sos keeps the host's links: `proc/net ->
    /// self/net`, `proc/self -> 4242`, `sys/block/md0 -> ../devices/...`.
    /// Reads and listings go through them, inside the archive only.
    #[test]
    fn symbolic_links_inside_an_archive_are_followed() {
        let mut tar = builder();
        let top = "sosreport-h-2026-12-06";
        add(
            &mut tar,
            &format!("{top}/sos_commands/kernel/uname_-a"),
            b"Linux h 6.1.0\n",
        );
        add(
            &mut tar,
            &format!("{top}/proc/4242/net/route"),
            b"Iface\tDestination\n",
        );
        add(
            &mut tar,
            &format!("{top}/sys/devices/virtual/block/md0/md/array_state"),
            b"clean\n",
        );
        add(&mut tar, &format!("{top}/etc/hostname"), b"h\n");
        let mut link = |name: &str, target: &str| {
            let mut header = header(tar::EntryType::Symlink, "x", 0);
            tar.append_link(&mut header, format!("{top}/{name}"), target)
                .expect("symlink");
        };
        link("proc/self", "4242");
        link("proc/net", "self/net");
        link("sys/block/md0", "../devices/virtual/block/md0");
        link("hostname", "./etc/../etc/hostname");
        link("escape", "../../etc/shadow");
        link("absolute", "/etc/shadow");
        link("loop", "loop");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = archive(dir.path(), &tar.into_inner().expect("tar"));
        let archive = Archive::unpack(&path).expect("unpack");
        let read = |name: &str| {
            archive
                .read(name, &Limits::default())
                .map(|raw| String::from_utf8_lossy(&raw.bytes).into_owned())
        };
        assert_eq!(
            read("proc/net/route").expect("route"),
            "Iface\tDestination\n"
        );
        assert_eq!(read("sys/block/md0/md/array_state").expect("md"), "clean\n");
        assert_eq!(read("hostname").expect("hostname"), "h\n");
        assert_eq!(archive.list("sys/block").expect("list"), ["md0"]);
        assert_eq!(archive.list("proc/net").expect("list"), ["route"]);
        let refused = |name: &str| match read(name) {
            Err(ReadError::Refused(why)) => why,
            other => panic!("{name}: {other:?}"),
        };
        assert!(refused("escape").contains("outside the archive"));
        assert!(refused("absolute").contains("\"/etc/shadow\""));
        assert!(refused("loop/x").contains("more than 40 symbolic links"));
        assert!(matches!(read("proc/net/arp"), Err(ReadError::NotFound)));
    }

    /// Long names and PAX paths are applied by diag now that the tar
    /// crate's own handling (which read them whole) is not used; a PAX
    /// size places the next header; an old GNU sparse entry with an
    /// extension block is skipped with a note and what follows is read.
    #[test]
    fn long_names_pax_records_and_sparse_entries_are_read_right() {
        let long = format!("etc/nginx/conf.d/{}.conf", "a".repeat(150));
        let mut tar = builder();
        add(&mut tar, &long, b"server {}\n");
        tar.append_pax_extensions([("path", &b"dev/kmsg"[..])])
            .expect("pax");
        add(&mut tar, "placeholder", b"6,1,1,-;from pax\n");
        // Raw blocks in the middle of the stream.
        let bytes = tar.get_mut();
        // PAX size (17) larger than the header says (0).
        let pax = b"11 size=17\n";
        bytes
            .extend_from_slice(header(tar::EntryType::XHeader, "pax", pax.len() as u64).as_bytes());
        bytes.extend_from_slice(pax);
        bytes.resize(bytes.len().next_multiple_of(512), 0);
        bytes.extend_from_slice(header(tar::EntryType::Regular, "proc/uptime", 0).as_bytes());
        bytes.extend_from_slice(b"12345.67 890.12\n\n");
        bytes.resize(bytes.len().next_multiple_of(512), 0);
        // A sparse entry: its header, one extension block, 512 bytes.
        let mut sparse = header(tar::EntryType::GNUSparse, "var/log/sparse", 512);
        let gnu = sparse.as_gnu_mut().expect("gnu");
        gnu.set_real_size(4096);
        gnu.set_is_extended(true);
        sparse.set_cksum();
        bytes.extend_from_slice(sparse.as_bytes());
        bytes.extend_from_slice(&[0u8; 512]);
        bytes.extend_from_slice(&[b'x'; 512]);
        add(&mut tar, "proc/net/arp", b"IP address\n");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = archive(dir.path(), &tar.into_inner().expect("tar"));
        let bundle = Bundle::open(&path).expect("open");
        let read = |name: &str| bundle.read(name, &limits(Keep::Head)).map(|r| r.bytes);
        assert_eq!(read(&long).expect("long"), &b"server {}\n"[..]);
        assert_eq!(read("dev/kmsg").expect("pax"), &b"6,1,1,-;from pax\n"[..]);
        assert_eq!(
            read("proc/uptime").expect("pax size"),
            &b"12345.67 890.12\n\n"[..]
        );
        assert_eq!(read("proc/net/arp").expect("after"), &b"IP address\n"[..]);
        assert_eq!(read("var/log/sparse"), Err(ReadError::NotFound));
        assert!(
            bundle
                .notes()
                .iter()
                .any(|n| n.collector == "var/log/sparse" && n.reason.contains("sparse")),
            "{:?}",
            bundle.notes()
        );
    }
}
