//! Live recording of the kernel's packet drops (`skb:kfree_skb`) during
//! the capture window, in a tracing instance of diag's own.
//!
//! ```text
//!  recorder thread: tracefs visible? ─no─▶ unshare(CLONE_NEWNS), / made private, mount tracefs
//!     ─▶ remove instances/diag-<pid> of processes gone ─▶ mkdir instances/diag-<pid>
//!     ─▶ buffer_size_kb, read the event's format, enable skb/kfree_skb
//!     ─▶ until the window's end (or an abort): read every CPU's trace_pipe_raw, count (stream.rs)
//!     ─▶ disable, read what is left and per_cpu/cpuN/stats
//!     ─▶ rmdir the instance (also on every error path: a guard)
//!  files: trace/kfree_skb.counts, trace/kfree_skb.txt (samples), trace/kfree_skb.format,
//!         trace/kfree_skb.stats, trace/snmp.start, trace/snmp.end
//! ```
//!
//! Decisions:
//! - An instance, not the top-level buffer: the system's own trace buffer
//!   and other tracers are untouched, and the instance is removed at the
//!   end. A Ctrl-C or SIGTERM of `diag check`/`collect` calls
//!   [`abort_all`], which stops every recording and waits for its
//!   cleanup; an instance left by a process that was killed outright is
//!   removed by the next run (its pid is gone).
//! - When tracefs is not mounted, the recorder thread mounts it in a mount
//!   namespace of its own (`unshare(CLONE_NEWNS)` affects the calling
//!   thread only; `/` is made private first, so nothing propagates to the
//!   host's tree). The rest of diag keeps the host's mount view; the
//!   namespace goes away with the thread.
//! - The rings are read while the window runs, in binary
//!   (`trace_pipe_raw`, `stream.rs`): every event is counted, none formatted
//!   by the kernel. Reading the text (`trace_pipe`) as fast as a flood
//!   writes would cost a CPU; reading `trace` once at the end lost all but
//!   a ring's worth (about 21,000 events per CPU) of a flood. That is the
//!   fallback when the pages cannot be read in binary.

mod stream;

use crate::model::Skipped;
use crate::parse::trace::RecordingStats;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to record.
#[derive(Debug, Clone, PartialEq)]
pub struct DropOptions {
    /// Record the kernel's drop events (on by default; `--no-drop-reasons`).
    pub enabled: bool,
    /// The instance's ring buffer per CPU, in KiB.
    pub buffer_size_kb: u64,
    /// Most bytes of event text kept.
    pub max_bytes: usize,
    /// Longest a recording may run if nobody ends it.
    pub max_window: Duration,
}

impl Default for DropOptions {
    fn default() -> Self {
        DropOptions {
            enabled: true,
            buffer_size_kb: 1024,
            max_bytes: 32 << 20,
            max_window: Duration::from_secs(660),
        }
    }
}

/// Why drops could not be recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// No permission (not root, or no CAP_SYS_ADMIN for the mount).
    #[error("needs root: {0}")]
    NotPermitted(String),
    /// The kernel has no tracefs (or no tracing instances: before 3.10).
    #[error("the kernel has no tracefs or no tracing instances ({0})")]
    NoTracefs(String),
    /// The kernel has no `skb:kfree_skb` event.
    #[error("the kernel has no skb:kfree_skb tracepoint")]
    NoEvent,
    /// Another I/O error on a tracefs file.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        error: io::Error,
    },
}

impl TraceError {
    fn io(path: &Path, error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::PermissionDenied => {
                TraceError::NotPermitted(format!("{}: {error}", path.display()))
            }
            _ => TraceError::Io {
                path: path.to_path_buf(),
                error,
            },
        }
    }
}

/// The recorded files, as `(canonical name, bytes)`.
pub type Recorded = Vec<(String, Vec<u8>)>;

/// How a recorder is told to stop: a message on the channel (the
/// collection is done: stop once the window has run), and `now` set
/// first for a signal (stop at once). A `()` channel, as the rest of
/// diag uses (docs/static-binary.md).
#[derive(Debug, Clone)]
struct Stopper {
    tell: mpsc::Sender<()>,
    now: Arc<std::sync::atomic::AtomicBool>,
}

impl Stopper {
    fn send(&self, now: bool) {
        if now {
            self.now.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let _ = self.tell.send(());
    }
}

/// A running recording: its id, how to stop it, whether it is done.
type Running = (u64, Stopper, Arc<Mutex<bool>>);

/// How long the recorder sleeps when the rings were empty.
const POLL: Duration = Duration::from_millis(20);

/// Recordings running now.
static RUNNING: Mutex<Vec<Running>> = Mutex::new(Vec::new());

/// A recording in progress.
#[derive(Debug)]
pub struct Recording {
    id: u64,
    stop: Stopper,
    handle: std::thread::JoinHandle<Result<Recorded, TraceError>>,
}

/// Starts recording on the live host at `/` when `options.enabled`, for
/// at least `window` (the capture window; also when no packet capture
/// runs); `None` otherwise (bundles, `--root DIR`).
pub fn start(
    source: &dyn super::Source,
    options: &DropOptions,
    window: Duration,
) -> Option<Recording> {
    if source.kind() != super::SourceKind::Live || source.location() != "/" || !options.enabled {
        return None;
    }
    Some(start_at(Path::new(TRACEFS), options, window))
}

/// Where tracefs is mounted (or mounted by the recorder, privately).
pub const TRACEFS: &str = "/sys/kernel/tracing";

/// Starts a recorder thread on the tracefs at `tracefs` (mounted there
/// privately when it is not), recording for at least `window`.
pub fn start_at(tracefs: &Path, options: &DropOptions, window: Duration) -> Recording {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (tell, stopped) = mpsc::channel();
    let now = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = Stopper {
        tell,
        now: Arc::clone(&now),
    };
    let done = Arc::new(Mutex::new(false));
    if let Ok(mut running) = RUNNING.lock() {
        running.push((id, stop.clone(), Arc::clone(&done)));
    }
    let options = options.clone();
    let tracefs = tracefs.to_path_buf();
    let handle = std::thread::spawn(move || {
        let result = record(&tracefs, &options, window, (&stopped, &now), id);
        if let Ok(mut done) = done.lock() {
            *done = true;
        }
        result
    });
    Recording { id, stop, handle }
}

/// Ends a recording: its files, or why there are none (as `skipped`).
pub fn finish(recording: Recording) -> (Recorded, Vec<Skipped>) {
    recording.stop.send(false);
    let result = recording.handle.join();
    if let Ok(mut running) = RUNNING.lock() {
        running.retain(|(id, _, _)| *id != recording.id);
    }
    let skipped = |reason: String| {
        vec![Skipped {
            collector: "trace/kfree_skb.txt".into(),
            reason,
        }]
    };
    match result {
        Ok(Ok(files)) => (files, Vec::new()),
        Ok(Err(err)) => (Vec::new(), skipped(format!("packet drop reasons: {err}"))),
        Err(_) => (Vec::new(), skipped("the drop recorder panicked".into())),
    }
}

/// Stops every recording and waits (at most `wait`) for their instances
/// to be removed: for a signal handler's thread, before the process exits.
pub fn abort_all(wait: Duration) {
    let running: Vec<(Stopper, Arc<Mutex<bool>>)> = match RUNNING.lock() {
        Ok(running) => running
            .iter()
            .map(|(_, s, d)| (s.clone(), Arc::clone(d)))
            .collect(),
        Err(_) => return,
    };
    for (stop, _) in &running {
        stop.send(true);
    }
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if running
            .iter()
            .all(|(_, d)| d.lock().map(|d| *d).unwrap_or(true))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Removes the instance (its event disabled first) when dropped.
struct Instance(PathBuf);

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = std::fs::write(self.0.join("events/skb/kfree_skb/enable"), "0");
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn is_tracefs(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .map(|s| s.filesystem_type() == nix::sys::statfs::TRACEFS_MAGIC)
        .unwrap_or(false)
}

/// Mounts tracefs at `path` in a mount namespace of this thread's own.
fn mount_privately(path: &Path) -> Result<(), TraceError> {
    use nix::mount::{mount, MsFlags};
    use nix::sched::{unshare, CloneFlags};
    let denied = |what: &str, e: nix::Error| match e {
        nix::Error::EPERM | nix::Error::EACCES => {
            TraceError::NotPermitted(format!("{what}: {e} (CAP_SYS_ADMIN)"))
        }
        nix::Error::ENODEV => TraceError::NoTracefs(format!("{what}: {e}")),
        other => TraceError::io(path, io::Error::from(other)),
    };
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| denied("unshare(CLONE_NEWNS)", e))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| denied("making / private", e))?;
    mount(
        Some("nodev"),
        path,
        Some("tracefs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| denied("mounting tracefs", e))
}

/// Removes `instances/diag-<pid>` of processes that no longer exist.
fn sweep_stale(instances: &Path) {
    let Ok(entries) = std::fs::read_dir(instances) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("diag-"))
            .and_then(|p| p.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::write(entry.path().join("events/skb/kfree_skb/enable"), "0");
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

fn read_bounded(path: &Path, max: usize) -> Result<(Vec<u8>, bool), TraceError> {
    let file = std::fs::File::open(path).map_err(|e| TraceError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| TraceError::io(path, e))?;
    let cut = bytes.len() > max;
    if cut {
        // Keep whole lines.
        bytes.truncate(max);
        if let Some(end) = bytes.iter().rposition(|&b| b == b'\n') {
            bytes.truncate(end + 1);
        }
    }
    Ok((bytes, cut))
}

/// The instance's `per_cpu/cpuN` directories, by CPU number.
fn per_cpu_dirs(instance: &Path) -> Vec<(u32, PathBuf)> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir(instance.join("per_cpu"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let cpu = entry
                .file_name()
                .to_str()?
                .strip_prefix("cpu")?
                .parse::<u32>()
                .ok()?;
            Some((cpu, entry.path()))
        })
        .collect();
    crate::sort::sort_by_key(&mut dirs, |(cpu, _)| *cpu);
    dirs
}

/// `trace/snmp.start` and `trace/snmp.end`, when both were read.
fn counters(start: Option<Vec<u8>>, end: Option<Vec<u8>>) -> Recorded {
    match (start, end) {
        (Some(start), Some(end)) => vec![
            ("trace/snmp.start".into(), start),
            ("trace/snmp.end".into(), end),
        ],
        _ => Vec::new(),
    }
}

fn record(
    tracefs: &Path,
    options: &DropOptions,
    window: Duration,
    (stop, now): (&mpsc::Receiver<()>, &std::sync::atomic::AtomicBool),
    id: u64,
) -> Result<Recorded, TraceError> {
    if !is_tracefs(tracefs) {
        mount_privately(tracefs)?;
    }
    let instances = tracefs.join("instances");
    if !instances.is_dir() {
        return Err(TraceError::NoTracefs(format!(
            "{} is missing",
            instances.display()
        )));
    }
    sweep_stale(&instances);
    let name = if id == 0 {
        format!("diag-{}", std::process::id())
    } else {
        format!("diag-{}-{id}", std::process::id())
    };
    let dir = instances.join(&name);
    std::fs::create_dir(&dir).map_err(|e| TraceError::io(&dir, e))?;
    let instance = Instance(dir.clone());
    let event = dir.join("events/skb/kfree_skb");
    if !event.is_dir() {
        return Err(TraceError::NoEvent);
    }
    let size = dir.join("buffer_size_kb");
    std::fs::write(&size, options.buffer_size_kb.to_string())
        .map_err(|e| TraceError::io(&size, e))?;
    let (format, _) = read_bounded(&event.join("format"), 1 << 20)?;
    let enable = event.join("enable");
    let streamer = stream::Streamer::open(tracefs, &dir, &format);
    std::fs::write(&enable, "1").map_err(|e| TraceError::io(&enable, e))?;
    let started = Instant::now();
    // The IP/UDP/TCP counters at the instants the event was enabled and
    // disabled: the same window as the events, to check their counts
    // against (Udp NoPorts grows once per NO_SOCKET drop of UDP over IPv4).
    let snmp = || {
        read_bounded(Path::new("/proc/net/snmp"), 64 << 10)
            .ok()
            .map(|(b, _)| b)
    };
    let snmp_start = snmp();
    let window_end = started + window.min(options.max_window);
    let hard_end = started + options.max_window;
    // Until the collection is done and the window has run, or a signal.
    let signalled = || now.load(std::sync::atomic::Ordering::SeqCst);
    let mut files = Vec::new();
    // How long the event was enabled (not counting the reading after).
    let window;
    match streamer {
        Some(mut streamer) => {
            let mut done = false;
            loop {
                let pages = streamer.drain()?;
                let at = Instant::now();
                if signalled() || at >= hard_end || (done && at >= window_end) {
                    break;
                }
                // The locations' names, once the first event came, while
                // the window runs (not after it: the collection waits for
                // the recorder): a piece between two drains, a larger one
                // when the rings were empty.
                streamer.read_symbols(if pages == 0 { 1 << 20 } else { 64 << 10 });
                let wait = if pages > 0 {
                    Duration::ZERO
                } else if done {
                    POLL.min(window_end.saturating_duration_since(at))
                } else {
                    POLL
                };
                match stop.recv_timeout(wait) {
                    Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => done = true,
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                }
            }
            let snmp_end = snmp();
            std::fs::write(&enable, "0").map_err(|e| TraceError::io(&enable, e))?;
            window = started.elapsed();
            streamer.drain()?;
            files.extend(counters(snmp_start, snmp_end));
            files.extend(streamer.finish());
        }
        None => {
            if stop.recv_timeout(options.max_window).is_ok() && !signalled() {
                let rest = window_end.saturating_duration_since(Instant::now());
                if !rest.is_zero() {
                    // Returns early only for a signal.
                    let _ = stop.recv_timeout(rest);
                }
            }
            let snmp_end = snmp();
            std::fs::write(&enable, "0").map_err(|e| TraceError::io(&enable, e))?;
            window = started.elapsed();
            files.extend(counters(snmp_start, snmp_end));
            let (trace, _cut) = read_bounded(&dir.join("trace"), options.max_bytes)?;
            files.push(("trace/kfree_skb.txt".into(), trace));
        }
    }
    let mut per_cpu = Vec::new();
    for (cpu, path) in per_cpu_dirs(&dir) {
        if let Ok((text, _)) = read_bounded(&path.join("stats"), 4096) {
            per_cpu.push((cpu, String::from_utf8_lossy(&text).into_owned()));
        }
    }
    drop(instance);
    let stats = RecordingStats {
        window_seconds: Some(window.as_secs_f64()),
        buffer_size_kb: Some(options.buffer_size_kb),
        cpus: Vec::new(),
    };
    files.push(("trace/kfree_skb.format".into(), format));
    files.push((
        "trace/kfree_skb.stats".into(),
        stats.render(&per_cpu).into_bytes(),
    ));
    Ok(files)
}
