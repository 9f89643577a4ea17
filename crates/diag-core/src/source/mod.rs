//! Sources hand out raw inputs by canonical name.
//!
//! A canonical name is a host path without its leading `/` (`proc/mdstat`,
//! `dev/kmsg`, `sys/class/net/eth0/flags`) or a bundle-only name
//! (`commands/dmesg`, `net/route.json`, `capture/eth0.pcap`). A [`LiveHost`]
//! reads them below a root (`/` or `--root DIR`); a [`Bundle`] reads the same
//! names from a directory or a `.tar.zst` archive that `diag collect` wrote,
//! or that a user assembled by copying files from a host.
//!
//! Every read is bounded: [`Limits`] caps its time and size. A read that
//! hangs (a hung NFS mount, a wedged sysfs attribute) is abandoned after the
//! timeout and reported as [`ReadError::TimedOut`]; the thread that was
//! blocked is left behind, since a thread stuck in the kernel cannot be
//! cancelled, but the run goes on.

mod archive;
pub(crate) mod beneath;
mod bundle;
pub(crate) mod capture;
pub(crate) mod inputs;
mod live;
pub mod netlink;
pub(crate) mod services;
pub(crate) mod snapshot;
pub mod sosreport;
pub(crate) mod storage;
pub mod tracing;

#[doc(hidden)]
pub use archive::fuzz_unpack;
pub use archive::{is_archive_name, ARCHIVE_SUFFIXES};
pub use bundle::Bundle;
pub use capture::{CaptureError, CaptureOptions, Captured};
pub use live::LiveHost;
pub use services::{parse_watch_file, records_json, stat_records, watch_list};
pub use snapshot::{
    parse_since, CollectOptions, Input, Manifest, ManifestInput, ManifestSource, Snapshot,
    BUNDLE_SCHEMA, NOT_PRESENT,
};

pub(crate) use beneath::Confine;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// What kind of place the inputs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SourceKind {
    /// The running host (or a root directory standing in for it).
    Live,
    /// A bundle written by `diag collect`, or a directory of copied files.
    Bundle,
    /// A sosreport tree (`sos report`; `docs/sosreport.md`).
    Sosreport,
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceKind::Live => "live",
            SourceKind::Bundle => "bundle",
            SourceKind::Sosreport => "sosreport",
        })
    }
}

/// Which end of an input to keep when it is larger than the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The beginning (tables, state files).
    Head,
    /// The end (logs: the newest lines matter most).
    Tail,
    /// All of it, however large: packet captures, which are analysed in one
    /// streaming pass and would lose their later packets to a cut. A regular
    /// file is mapped into memory, not copied: it costs page cache, not heap.
    Whole,
    /// Kernel logs, read front to back in one streaming pass: a regular
    /// file up to the size limit is read as with [`Keep::Tail`]; a larger
    /// one is mapped, never cut, up to [`STREAM_MAX`] (its newest
    /// [`STREAM_MAX`] bytes beyond, and it is then marked cut). The pass
    /// gives the pages it has read back ([`release_read`]), so a log of
    /// any size costs a bounded amount of memory. Anything else (procfs, a
    /// device) is cut as with [`Keep::Tail`].
    Stream,
}

/// The safety bound on one streamed log (see [`Keep::Stream`]).
pub const STREAM_MAX: u64 = 8 << 30;

/// Regions of the address space that are read-only mappings of logs made
/// for [`Keep::Stream`] (start, length): [`release_read`] gives back pages
/// of these only, never of heap memory.
static LOG_MAPS: std::sync::Mutex<Vec<(usize, usize)>> = std::sync::Mutex::new(Vec::new());

/// A mapped log: forgotten in [`LOG_MAPS`] when unmapped.
struct LogMap(memmap2::Mmap);

impl AsRef<[u8]> for LogMap {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for LogMap {
    fn drop(&mut self) {
        let start = self.0.as_ptr() as usize;
        if let Ok(mut maps) = LOG_MAPS.lock() {
            maps.retain(|&(s, _)| s != start);
        }
    }
}

/// Gives back to the kernel the pages of `bytes[..upto]` when `bytes` is
/// (part of) a log mapped for [`Keep::Stream`]; does nothing otherwise.
/// The mapping is private and read-only: a page given back is read from
/// the file again if it is touched again, so this changes no byte, only
/// what stays resident (a 1 GiB log read front to back otherwise ends
/// with 1 GiB resident).
pub fn release_read(bytes: &[u8], upto: usize) {
    let start = bytes.as_ptr() as usize;
    let mapped = LOG_MAPS.lock().ok().is_some_and(|maps| {
        maps.iter()
            .any(|&(s, len)| start >= s && start + bytes.len() <= s + len)
    });
    if !mapped {
        return;
    }
    let page = 4096usize;
    let from = start.div_ceil(page) * page;
    let to = (start + upto.min(bytes.len())) / page * page;
    if to > from {
        release_pages(from, to - from);
    }
}

#[allow(unsafe_code)]
fn release_pages(at: usize, len: usize) {
    // SAFETY: [at, at + len) is page-aligned and lies inside a private
    // read-only file mapping registered in LOG_MAPS, alive as long as the
    // caller's slice of it. MADV_DONTNEED on such a mapping drops the
    // resident pages; the next access reads the same bytes from the file.
    unsafe {
        libc::madvise(at as *mut libc::c_void, len, libc::MADV_DONTNEED);
    }
}

/// Bounds on one read.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long one read may take before it is abandoned.
    pub timeout: Duration,
    /// How many bytes of one input are kept at most.
    pub max_bytes: usize,
    /// Which end to keep when the input is larger than `max_bytes`.
    pub keep: Keep,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(5),
            max_bytes: 32 << 20,
            keep: Keep::Head,
        }
    }
}

/// The bytes of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawInput {
    /// The content, at most `Limits::max_bytes` long (unless read with
    /// [`Keep::Whole`]); possibly a read-only mapping of the file.
    pub bytes: bytes::Bytes,
    /// Whether the input was larger than the limit and was cut.
    pub truncated: bool,
}

/// Why an input could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The input does not exist in this source. Not a failure: most hosts lack
    /// some inputs (no md driver, no IPv6).
    #[error("not present")]
    NotFound,
    /// The input exists but this user may not read it.
    #[error("permission denied: {0}")]
    Denied(String),
    /// The read did not finish in time.
    #[error("timed out after {}", humantime::format_duration(*.0))]
    TimedOut(Duration),
    /// The input is reached through a symbolic link that leaves the
    /// source's tree (a bundle's `proc/mdstat -> /etc/shadow`): never
    /// followed. The text names the link and its target.
    #[error("refused: {0}")]
    Refused(String),
    /// Any other failure, in the system's words.
    #[error("{0}")]
    Failed(String),
}

impl ReadError {
    pub(crate) fn from_io(err: &io::Error) -> Self {
        match err.kind() {
            // EINVAL from sysfs means the attribute does not apply to this
            // device (`speed` of a loopback or a down link): not an input.
            // ENOTDIR: `proc/cpuinfo/comm` (a pattern's `*` matched a file,
            // not a directory) does not exist either.
            io::ErrorKind::NotFound
            | io::ErrorKind::InvalidInput
            | io::ErrorKind::NotADirectory => ReadError::NotFound,
            io::ErrorKind::PermissionDenied => ReadError::Denied(err.to_string()),
            _ => ReadError::Failed(err.to_string()),
        }
    }
}

/// Where raw inputs come from. Implementations know nothing of what the
/// inputs mean; the parsers do.
pub trait Source: fmt::Debug + Send + Sync {
    /// Live host or bundle.
    fn kind(&self) -> SourceKind;

    /// The root directory or archive path, for reports.
    fn location(&self) -> String;

    /// Reads one input by canonical name, within `limits`.
    fn read(&self, name: &str, limits: &Limits) -> Result<RawInput, ReadError>;

    /// The names of the entries directly inside the canonical directory
    /// `dir` (names only, sorted).
    fn list(&self, dir: &str, limits: &Limits) -> Result<Vec<String>, ReadError>;

    /// What the source holds but does not hand out, each with why (the
    /// links, devices and sparse files of an archive): the snapshot lists
    /// them among its skipped inputs. None by default.
    fn notes(&self) -> Vec<crate::model::Skipped> {
        Vec::new()
    }

    /// What the source knows about inputs it hands out (a sosreport's
    /// file sos cut to its tail): notes of the diagnosis for the inputs
    /// that were read. None by default.
    fn input_notes(&self) -> Vec<crate::model::Note> {
        Vec::new()
    }

    /// When the source's state was collected, when the source says so
    /// itself (a sosreport's `date`); `None` by default (a live host is
    /// read now, a bundle says so in its manifest).
    fn collected_at(&self) -> Option<std::time::SystemTime> {
        None
    }
}

/// Opens `path` as whatever it is: a sosreport (a directory or the
/// archive sos wrote, told by its content: [`sosreport::is_sosreport`])
/// or a bundle (directory, archive, lone capture).
pub fn open(path: &std::path::Path) -> crate::error::Result<Box<dyn Source>> {
    let tree = Bundle::open(path)?;
    if sosreport::is_sosreport(&tree) {
        return Ok(Box::new(sosreport::Sosreport::of_tree(
            path.to_path_buf(),
            tree,
        )));
    }
    Ok(Box::new(tree))
}

/// Rejects names that could escape the source's root.
pub(crate) fn check_name(name: &str) -> Result<(), ReadError> {
    if name.is_empty()
        || name.starts_with('/')
        || name
            .split('/')
            .any(|part| part == ".." || part == "." || part.is_empty())
    {
        return Err(ReadError::Failed(format!("invalid input name {name:?}")));
    }
    Ok(())
}

/// A job for a reader thread.
type Job = Box<dyn FnOnce() + Send>;

/// Reader threads waiting for work: a collection makes a few hundred
/// reads, and a thread each cost more than reading a whole bundle.
static IDLE_READERS: std::sync::Mutex<Vec<mpsc::Sender<Job>>> = std::sync::Mutex::new(Vec::new());
/// Idle reader threads kept at most.
const IDLE_READERS_MAX: usize = 4;

fn reader_thread() -> io::Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel::<Job>();
    thread::Builder::new()
        .name("diag-read".into())
        .spawn(move || {
            while let Ok(job) = rx.recv() {
                job();
            }
        })?;
    Ok(tx)
}

/// Runs `work` on a reader thread and waits at most `timeout` for it. A
/// read that hangs in the kernel cannot be interrupted: its thread is
/// abandoned (never handed work again) and the next read gets another.
pub(crate) fn bounded<T, F>(timeout: Duration, work: F) -> Result<T, ReadError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ReadError> + Send + 'static,
{
    bounded_keyed(None, timeout, work)
}

/// Files whose read is stuck in the kernel (a hung mount), with when it
/// started: until that read returns, another read of the same file would
/// only leave one more thread blocked (a live TUI refreshing every 2 s
/// left ~540 an hour), so it fails at once instead.
static STUCK: std::sync::Mutex<Vec<(String, Instant)>> = std::sync::Mutex::new(Vec::new());

/// [`bounded`], remembering by `key` (a file's path) a read that timed out
/// until its thread comes back: meanwhile a read of the same key is
/// answered at once with [`ReadError::TimedOut`], without a new thread.
pub(crate) fn bounded_keyed<T, F>(
    key: Option<String>,
    timeout: Duration,
    work: F,
) -> Result<T, ReadError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ReadError> + Send + 'static,
{
    let answer = bounded_any(key, timeout, Box::new(move || Box::new(work()) as Answer))?;
    match answer.downcast::<Result<T, ReadError>>() {
        Ok(result) => *result,
        Err(_) => Err(ReadError::Failed(
            "a reader thread answered another read".into(),
        )),
    }
}

/// What a reader thread sends back: the `Result<T, ReadError>` of
/// [`bounded_keyed`], boxed. One channel and one waiting function for every
/// `T` (a `mpsc` channel per result type cost ~8 KB of the binary each,
/// docs/static-binary.md).
type Answer = Box<dyn std::any::Any + Send>;

/// [`bounded_keyed`] without its types.
fn bounded_any(
    key: Option<String>,
    timeout: Duration,
    work: Box<dyn FnOnce() -> Answer + Send>,
) -> Result<Answer, ReadError> {
    if let Some(key) = &key {
        let stuck = STUCK.lock().ok().and_then(|stuck| {
            stuck
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, since)| since.elapsed())
        });
        if let Some(for_how_long) = stuck {
            return Err(ReadError::Failed(format!(
                "still not answering: an earlier read has been blocked for {}",
                humantime::format_duration(Duration::from_secs(for_how_long.as_secs()))
            )));
        }
    }
    let idle = IDLE_READERS.lock().ok().and_then(|mut idle| idle.pop());
    let worker = match idle {
        Some(worker) => worker,
        None => reader_thread()
            .map_err(|err| ReadError::Failed(format!("cannot start reader thread: {err}")))?,
    };
    let (tx, rx) = mpsc::channel::<Answer>();
    let started = Instant::now();
    let done_key = key.clone();
    // The receiver may be gone after a timeout; nothing to do then.
    let job: Job = Box::new(move || {
        let result = work();
        match done_key {
            // Forgotten and answered under the lock the waiter takes to
            // remember it: never remembered after it came back.
            Some(key) => {
                let mut stuck = STUCK.lock().unwrap_or_else(|e| e.into_inner());
                stuck.retain(|(k, _)| *k != key);
                let _ = tx.send(result);
            }
            None => {
                let _ = tx.send(result);
            }
        }
    });
    let result = match worker.send(job) {
        Err(mpsc::SendError(job)) => {
            // That thread is gone (a job panicked): run this one on a new one.
            let worker = reader_thread()
                .map_err(|err| ReadError::Failed(format!("cannot start reader thread: {err}")))?;
            let _ = worker.send(job);
            wait(&rx, timeout, worker)
        }
        Ok(()) => wait(&rx, timeout, worker),
    };
    if let (Err(ReadError::TimedOut(_)), Some(key)) = (&result, key) {
        // Unless it came back in the meantime (then its result is lost
        // anyway, and the next read starts afresh).
        let mut stuck = STUCK.lock().unwrap_or_else(|e| e.into_inner());
        if rx.try_recv().is_err() {
            stuck.push((key, started));
        }
    }
    result
}

/// Waits for a reader thread's answer; the thread goes back to the idle
/// ones only when it answered in time.
fn wait(
    rx: &mpsc::Receiver<Answer>,
    timeout: Duration,
    worker: mpsc::Sender<Job>,
) -> Result<Answer, ReadError> {
    match rx.recv_timeout(timeout) {
        Ok(answer) => {
            if let Ok(mut idle) = IDLE_READERS.lock() {
                if idle.len() < IDLE_READERS_MAX {
                    idle.push(worker);
                }
            }
            Ok(answer)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(ReadError::TimedOut(timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(ReadError::Failed("reader thread died".into()))
        }
    }
}

/// Reads a file by path: [`read_file`] of what `File::open` gives, with no
/// deadline. For the host's own files (below `/`) only.
pub(crate) fn read_capped(
    path: &Path,
    max_bytes: usize,
    keep: Keep,
) -> Result<RawInput, ReadError> {
    let file = File::open(path).map_err(|e| ReadError::from_io(&e))?;
    read_file(file, max_bytes, keep, None)
}

/// Opens `name` below `root`: as the host's own path when `root` is `/`,
/// else without ever leaving `root` ([`beneath`]).
pub(crate) fn open_in(root: &Path, name: &str, confine: Confine) -> Result<File, ReadError> {
    if root == Path::new("/") {
        return File::open(root.join(name)).map_err(|e| ReadError::from_io(&e));
    }
    beneath::open(root, name, confine)
}

/// Reads input `name` below `root` ([`open_in`], then [`read_file`]) on a
/// reader thread, within `limits`. A read that outlives its timeout stops
/// at its deadline (it is not left running), and while one is stuck in
/// the kernel no second read of the same file is started ([`bounded_keyed`]).
pub(crate) fn read_in(
    root: &Path,
    name: &str,
    confine: Confine,
    limits: &Limits,
) -> Result<RawInput, ReadError> {
    let limits = *limits;
    let deadline = Instant::now() + limits.timeout;
    let key = root.join(name).to_string_lossy().into_owned();
    let root = root.to_path_buf();
    let name = name.to_string();
    bounded_keyed(Some(key), limits.timeout, move || {
        let file = open_in(&root, &name, confine)?;
        read_file(file, limits.max_bytes, limits.keep, Some(deadline))
    })
}

/// Lists directory `dir` below `root` as [`read_in`] reads a file.
pub(crate) fn list_in(
    root: &Path,
    dir: &str,
    confine: Confine,
    limits: &Limits,
) -> Result<Vec<String>, ReadError> {
    let key = root.join(dir).to_string_lossy().into_owned();
    let root = root.to_path_buf();
    let dir = dir.to_string();
    bounded_keyed(Some(key), limits.timeout, move || {
        list_dir(open_in(&root, &dir, confine)?)
    })
}

/// Size of one read from a file: the deadline is looked at between reads.
const CHUNK: usize = 64 << 10;

/// Reads an open file (a regular file, or a procfs/sysfs file whose size
/// is unknown, or a device or FIFO) and keeps at most `max_bytes` of it,
/// from the end `keep` says. Past `deadline` the read stops with
/// [`ReadError::TimedOut`]: a read abandoned by its caller (`dev/kmsg ->
/// /dev/urandom`) must not go on filling memory in its thread.
///
/// With [`Keep::Whole`] a non-empty regular file is mapped read-only instead
/// (anything else is read as with [`Keep::Head`]):
/// a capture of several GB costs page cache, not heap, and is not copied
/// (copying a 140 MB pcap took longer than analysing it). The one risk of a
/// mapping: a file truncated by another process while diag reads it ends
/// diag with SIGBUS. Bundles are written once and then read; a capture
/// still being written by tcpdump only grows, which is safe.
pub(crate) fn read_file(
    mut file: File,
    max_bytes: usize,
    keep: Keep,
    deadline: Option<Instant>,
) -> Result<RawInput, ReadError> {
    let meta = file.metadata().map_err(|e| ReadError::from_io(&e))?;
    if meta.is_dir() {
        // A directory matched by a `*` pattern (`etc/netplan/*`): not an
        // input, and nothing the operator needs to hear about.
        return Err(ReadError::NotFound);
    }
    if keep == Keep::Whole && meta.is_file() && meta.len() > 0 {
        return Ok(RawInput {
            bytes: map(&file)?,
            truncated: false,
        });
    }
    if keep == Keep::Stream && meta.is_file() && meta.len() > max_bytes as u64 {
        let bytes = map_log(&file)?;
        if bytes.len() as u64 > STREAM_MAX {
            // The newest bytes, from a line's start.
            let from = bytes.len() - STREAM_MAX as usize;
            let skip = bytes[from..]
                .iter()
                .take(1 << 20)
                .position(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            return Ok(RawInput {
                bytes: bytes.slice(from + skip..),
                truncated: true,
            });
        }
        return Ok(RawInput {
            bytes,
            truncated: false,
        });
    }
    // Anything else (a device, a FIFO, a file that says it is empty) is
    // read up to the cap like any input: `/dev/zero` as a capture must not
    // fill memory.
    let keep = match keep {
        Keep::Whole => Keep::Head,
        Keep::Stream => Keep::Tail,
        keep => keep,
    };
    let started = Instant::now();
    let check = |deadline: Option<Instant>| match deadline {
        Some(at) if Instant::now() >= at => {
            Err(ReadError::TimedOut(at.saturating_duration_since(started)))
        }
        _ => Ok(()),
    };
    let cap = max_bytes as u64;
    if keep == Keep::Tail && meta.is_file() && meta.len() > cap {
        file.seek(SeekFrom::Start(meta.len() - cap))
            .map_err(|e| ReadError::from_io(&e))?;
        let mut bytes = read_up_to(&mut file, max_bytes, deadline, &check)?;
        // Drop the partial first line so every kept line is whole.
        if let Some(pos) = bytes.iter().position(|&b| b == b'\n') {
            bytes.drain(..=pos);
        }
        return Ok(RawInput {
            bytes: bytes.into(),
            truncated: true,
        });
    }
    let mut bytes = read_up_to(&mut file, max_bytes + 1, deadline, &check)?;
    let truncated = bytes.len() > max_bytes;
    if truncated {
        match keep {
            Keep::Head | Keep::Whole => bytes.truncate(max_bytes),
            Keep::Tail | Keep::Stream => {
                // A file of unknown size (procfs): keep its newest bytes.
                let mut tail = bytes.split_off(bytes.len() - max_bytes);
                let mut chunk = vec![0u8; CHUNK];
                loop {
                    check(deadline)?;
                    let n = match file.read(&mut chunk) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(ReadError::from_io(&e)),
                    };
                    if n == 0 {
                        break;
                    }
                    tail.extend_from_slice(&chunk[..n]);
                    if tail.len() > 2 * max_bytes {
                        tail.drain(..tail.len() - max_bytes);
                    }
                }
                let start = tail.len().saturating_sub(max_bytes);
                bytes = tail.split_off(start);
            }
        }
    }
    Ok(RawInput {
        bytes: bytes.into(),
        truncated,
    })
}

/// Reads at most `limit` bytes, [`CHUNK`] at a time, looking at the
/// deadline between reads.
fn read_up_to(
    file: &mut File,
    limit: usize,
    deadline: Option<Instant>,
    check: &dyn Fn(Option<Instant>) -> Result<(), ReadError>,
) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; CHUNK.min(limit.max(1))];
    while bytes.len() < limit {
        check(deadline)?;
        let want = chunk.len().min(limit - bytes.len());
        let n = match file.read(&mut chunk[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::from_io(&e)),
        };
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    Ok(bytes)
}

/// A read-only mapping of `file`, as bytes that unmap when the last clone
/// is dropped.
#[allow(unsafe_code)]
fn map(file: &File) -> Result<bytes::Bytes, ReadError> {
    // SAFETY: the mapping is read-only and private to this process; its
    // contents change only if another process writes the file, and it
    // faults (SIGBUS) only if the file is truncated under it, as the doc
    // of `read_capped` says. Nothing here assumes the bytes stay the same.
    let mapped = unsafe { memmap2::Mmap::map(file) }.map_err(|e| ReadError::from_io(&e))?;
    // The file is read once, front to back.
    let _ = mapped.advise(memmap2::Advice::Sequential);
    Ok(bytes::Bytes::from_owner(mapped))
}

/// A read-only mapping of a log for [`Keep::Stream`], registered so that
/// [`release_read`] may give its pages back as they are read.
#[allow(unsafe_code)]
fn map_log(file: &File) -> Result<bytes::Bytes, ReadError> {
    // SAFETY: as for `map`: read-only, private; SIGBUS only if the file is
    // truncated while it is read (a bundle's or sosreport's log is not
    // written any more; the live host does not map its logs).
    let mapped = unsafe { memmap2::Mmap::map(file) }.map_err(|e| ReadError::from_io(&e))?;
    let _ = mapped.advise(memmap2::Advice::Sequential);
    if let Ok(mut maps) = LOG_MAPS.lock() {
        maps.push((mapped.as_ptr() as usize, mapped.len()));
    }
    Ok(bytes::Bytes::from_owner(LogMap(mapped)))
}

/// Lists an open directory's entry names, sorted.
pub(crate) fn list_dir(dir: File) -> Result<Vec<String>, ReadError> {
    let dir = nix::dir::Dir::from_fd(dir.into()).map_err(|e| ReadError::from_io(&e.into()))?;
    let mut names = Vec::new();
    for entry in dir {
        let entry = entry.map_err(|e| ReadError::from_io(&e.into()))?;
        if let Ok(name) = entry.file_name().to_str() {
            if name != "." && name != ".." {
                names.push(name.to_string());
            }
        }
    }
    crate::sort::sort(&mut names);
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_escape_the_root_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "proc/../../etc",
            "proc//x",
            "./x",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(check_name("proc/net/route").is_ok());
    }

    #[test]
    fn a_hung_read_times_out() {
        let got: Result<(), ReadError> = bounded(Duration::from_millis(50), || {
            thread::sleep(Duration::from_secs(2));
            Ok(())
        });
        assert_eq!(got, Err(ReadError::TimedOut(Duration::from_millis(50))));
        // The hung thread is not handed more work: the next reads get
        // answers at once, on a thread that did not hang.
        for _ in 0..3 {
            let started = std::time::Instant::now();
            let got = bounded(Duration::from_secs(1), || Ok(thread::current().id()));
            assert!(got.is_ok(), "{got:?}");
            assert!(started.elapsed() < Duration::from_secs(1));
        }
        // A read that panics takes its thread down; the next one still runs.
        let got: Result<(), ReadError> = bounded(Duration::from_secs(1), || panic!("read failed"));
        assert_eq!(got, Err(ReadError::Failed("reader thread died".into())));
        assert_eq!(bounded(Duration::from_secs(1), || Ok(7)), Ok(7));
    }

    #[test]
    fn capped_reads_keep_the_requested_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log");
        std::fs::write(&path, "first line\nsecond line\nthird line\n").expect("write");
        let head = read_capped(&path, 10, Keep::Head).expect("head");
        assert_eq!(&head.bytes[..], b"first line");
        assert!(head.truncated);
        let tail = read_capped(&path, 15, Keep::Tail).expect("tail");
        assert_eq!(&tail.bytes[..], b"third line\n");
        assert!(tail.truncated);
        let whole = read_capped(&path, 1000, Keep::Tail).expect("whole");
        assert!(!whole.truncated);
        assert_eq!(whole.bytes.len(), 34);
    }

    /// `Keep::Whole` maps a regular file whole, past the cap; anything
    /// else is cut at the cap: a capture that is a link to `/dev/zero`
    /// once read until memory ran out.
    #[test]
    fn whole_reads_are_whole_only_for_regular_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.pcap");
        std::fs::write(&path, [7u8; 5000]).expect("write");
        let whole = read_capped(&path, 1000, Keep::Whole).expect("whole");
        assert!(!whole.truncated);
        assert_eq!(whole.bytes.len(), 5000);
        let zero = read_capped(Path::new("/dev/zero"), 1000, Keep::Whole).expect("device");
        assert!(zero.truncated);
        assert_eq!(zero.bytes.len(), 1000);
    }

    /// Issue 19, defect 4: a read abandoned at its timeout went on in its
    /// thread (keeping the tail of `/dev/urandom` behind `dev/kmsg` grew
    /// the live TUI by 260 MB in 30 s at 90% CPU). It stops at its
    /// deadline now.
    #[test]
    fn an_abandoned_read_stops_at_its_deadline() {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let file = File::open("/dev/zero").expect("/dev/zero");
            let deadline = Instant::now() + Duration::from_millis(100);
            let _ = tx.send(read_file(file, 1 << 20, Keep::Tail, Some(deadline)));
        });
        let got = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the read went on past its deadline");
        assert!(matches!(got, Err(ReadError::TimedOut(_))), "{got:?}");
    }

    /// Issue 19, defect 4 (second half): a read stuck in the kernel is
    /// remembered until it returns; meanwhile the same file is not read
    /// again (each refresh of the live TUI left one more thread blocked).
    #[test]
    fn a_stuck_read_is_not_started_again() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let key = "test:/stuck/file".to_string();
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, released) = mpsc::channel::<()>();
        let counted = Arc::clone(&runs);
        let first = bounded_keyed(Some(key.clone()), Duration::from_millis(50), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            let _ = released.recv();
            Ok(())
        });
        assert!(matches!(first, Err(ReadError::TimedOut(_))), "{first:?}");
        let counted = Arc::clone(&runs);
        let second = bounded_keyed(Some(key.clone()), Duration::from_millis(50), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        assert!(
            matches!(&second, Err(ReadError::Failed(why)) if why.contains("still not answering")),
            "{second:?}"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Once the stuck read returns, the file is read again.
        release.send(()).expect("release");
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let counted = Arc::clone(&runs);
            let again = bounded_keyed(Some(key.clone()), Duration::from_secs(1), move || {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
            if again.is_ok() {
                break;
            }
            assert!(Instant::now() < until, "never read again: {again:?}");
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }
}
