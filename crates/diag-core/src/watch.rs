//! Following the kernel log as it is written: the engine of `diag watch`.
//!
//! A collection reads `/dev/kmsg` once. An operator watching a host in
//! trouble wants each kernel-log finding the moment its line arrives, and
//! must not pay for it with the CPU and memory the host is short of, least
//! of all during a message flood (thousands of OOM kills a minute is a
//! known way to take a log monitor down with the host).
//!
//! - [`Follower`] reads new `/dev/kmsg` records without blocking and keeps
//!   the newest of them in a window bounded in bytes (the kernel's own ring
//!   buffer is the model: old records fall out). Records the kernel
//!   overwrote before they were read are counted
//!   ([`Follower::overwritten`]; `diag watch` prints a NOTE line when the
//!   count grows).
//! - [`Watcher`] re-diagnoses the window with the full rule set, at most
//!   once per interval (longer when an evaluation took more than 1/33 of
//!   it: [`evaluation_gap`]) and only when records arrived, and hands back the
//!   kernel-log findings with new lines since the last report. Windowed
//!   rules (N link flaps within 10 minutes) see the history they need; a
//!   flood becomes one line per interval with its count, not one per
//!   message.
//!
//! The cost is one parse and one prefilter pass over at most the window
//! per interval, whatever the message rate: `benches/kmsg_flood.sh`
//! measures it under 4,500 OOM kills a minute (see README).

use crate::diagnose::diagnose;
use crate::diagnose::diagnosis::Finding;
use crate::diagnose::rules::RuleSet;
use crate::source::snapshot::Snapshot;
use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The input name the window is diagnosed under, as in a collection.
pub const INPUT: &str = "dev/kmsg";

/// Default window: 1 MiB of records, the size of a large kernel ring
/// buffer (`log_buf_len`); the default ring is 128 KiB to 256 KiB.
pub const DEFAULT_WINDOW_BYTES: usize = 1 << 20;

/// Records read per [`Follower::read_available`] call at most, so one call
/// returns even if the kernel logs faster than diag reads.
const MAX_RECORDS_PER_READ: usize = 100_000;

/// Where following starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// With the records the kernel still holds (they fill the window
    /// first, so the first report shows what is already there).
    Beginning,
    /// With the next record written (`SEEK_END`).
    End,
}

/// Errors of the watcher.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The log device or file could not be opened or read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The device or file.
        path: PathBuf,
        /// The underlying error.
        error: io::Error,
    },
}

/// Reads `/dev/kmsg` (or a file of records in its format) as it grows,
/// keeping the newest records in a window bounded in bytes.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    partial: Vec<u8>,
    window: VecDeque<Vec<u8>>,
    held: usize,
    max_bytes: usize,
    received: u64,
    overwritten: u64,
    /// Lines read since the last `take_new`.
    fresh: usize,
}

impl Follower {
    /// Opens the device (non-blocking) and positions it.
    pub fn open(path: &Path, start: Start, max_bytes: usize) -> Result<Self, WatchError> {
        let io_err = |error| WatchError::Io {
            path: path.to_path_buf(),
            error,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(path)
            .map_err(io_err)?;
        if start == Start::End {
            // /dev/kmsg: "seek after the last record"; a file: its end.
            file.seek(SeekFrom::End(0)).map_err(io_err)?;
        }
        Ok(Follower {
            path: path.to_path_buf(),
            file,
            // A record is at most 8 KiB (PRINTK_MESSAGE_MAX plus dictionary).
            buf: vec![0u8; 16 << 10],
            partial: Vec::new(),
            window: VecDeque::new(),
            held: 0,
            max_bytes: max_bytes.max(1),
            received: 0,
            overwritten: 0,
            fresh: 0,
        })
    }

    /// Waits until a record can be read or `timeout` passes; true when one
    /// can. (A regular file is always readable.)
    pub fn wait(&self, timeout: Duration) -> Result<bool, WatchError> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(millis)) {
            Ok(n) => Ok(n > 0),
            Err(nix::errno::Errno::EINTR) => Ok(false),
            Err(errno) => Err(WatchError::Io {
                path: self.path.clone(),
                error: io::Error::from(errno),
            }),
        }
    }

    /// Reads every record available now (bounded per call) into the
    /// window; returns how many were read.
    pub fn read_available(&mut self) -> Result<usize, WatchError> {
        let mut read = 0;
        while read < MAX_RECORDS_PER_READ {
            match self.file.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => {
                    read += self.push(n);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                // EPIPE: the kernel overwrote records before we read them;
                // the next read returns the oldest record still held.
                Err(err) if err.kind() == io::ErrorKind::BrokenPipe => self.overwritten += 1,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    return Err(WatchError::Io {
                        path: self.path.clone(),
                        error,
                    })
                }
            }
        }
        self.received += read as u64;
        Ok(read)
    }

    /// Stores the first `n` bytes of the read buffer: one record from the
    /// device, any number of lines from a file (a line cut by the buffer's
    /// end waits for its rest).
    fn push(&mut self, n: usize) -> usize {
        let mut chunk = std::mem::take(&mut self.partial);
        chunk.extend_from_slice(&self.buf[..n]);
        let mut count = 0;
        for line in chunk.split_inclusive(|&b| b == b'\n') {
            if line.last() != Some(&b'\n') {
                self.partial = line.to_vec();
                break;
            }
            // A dictionary line (" KEY=value") belongs to its record.
            if line.first() != Some(&b' ') {
                count += 1;
            }
            self.held += line.len();
            self.window.push_back(line.to_vec());
            self.fresh += 1;
        }
        while self.held > self.max_bytes {
            match self.window.pop_front() {
                Some(old) => self.held -= old.len(),
                None => break,
            }
        }
        count
    }

    /// The window as one `/dev/kmsg` text, oldest record first.
    pub fn window_text(&self) -> Vec<u8> {
        let mut text = Vec::with_capacity(self.held);
        for record in &self.window {
            text.extend_from_slice(record);
        }
        text
    }

    /// Lines in the window, and how many of them (at the end) arrived since
    /// the last call.
    fn take_new(&mut self) -> (usize, usize) {
        let fresh = std::mem::take(&mut self.fresh).min(self.window.len());
        (self.window.len(), fresh)
    }

    /// Records read since opening.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Times the kernel reported records overwritten before they were read.
    pub fn overwritten(&self) -> u64 {
        self.overwritten
    }

    /// Bytes held in the window now (at most the bound given to `open`).
    pub fn held_bytes(&self) -> usize {
        self.held
    }
}

/// A kernel-log finding with new lines since the last report.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The finding, as diagnosed over the whole window.
    pub finding: Finding,
    /// Whether the finding is reported for the first time.
    pub first: bool,
}

/// Diagnoses a [`Follower`]'s window at most once per interval.
#[derive(Debug)]
pub struct Watcher<'r> {
    follower: Follower,
    rules: &'r RuleSet,
    interval: Duration,
    last_run: Option<Instant>,
    unevaluated: bool,
    /// New lines not yet covered by an evaluation: the window's last
    /// `pending` lines.
    pending: usize,
    reported: BTreeMap<String, usize>,
    evaluations: u64,
    /// How long the last evaluation took.
    last_cost: Duration,
}

/// An evaluation may take at most one part in this many of the time
/// between two: about 3% of a core, whatever the window holds.
pub const COST_SHARE: u32 = 33;

/// The time from one evaluation to the next: `interval`, or longer when
/// the last evaluation took more than 1/[`COST_SHARE`] of it (a flood
/// fills the window with matching lines, and re-diagnosing it costs more;
/// the watcher then reports less often rather than take the CPU the host
/// is short of).
pub fn evaluation_gap(interval: Duration, last_cost: Duration) -> Duration {
    interval.max(last_cost.saturating_mul(COST_SHARE))
}

impl<'r> Watcher<'r> {
    /// A watcher over `follower` that evaluates at most once per
    /// `interval`.
    pub fn new(follower: Follower, rules: &'r RuleSet, interval: Duration) -> Self {
        Watcher {
            follower,
            rules,
            interval,
            last_run: None,
            unevaluated: false,
            pending: 0,
            reported: BTreeMap::new(),
            evaluations: 0,
            last_cost: Duration::ZERO,
        }
    }

    /// Waits up to `timeout` for records and reads them; when records
    /// arrived and the interval has passed, diagnoses the window and
    /// returns the findings with lines among the new ones.
    pub fn step(&mut self, timeout: Duration) -> Result<Vec<Update>, WatchError> {
        // Records already read and waiting for the interval: do not sleep
        // past the moment they are due.
        let gap = evaluation_gap(self.interval, self.last_cost);
        let due_in = self
            .last_run
            .map_or(Duration::ZERO, |t| gap.saturating_sub(t.elapsed()));
        let wait = if self.unevaluated {
            timeout.min(due_in)
        } else {
            timeout
        };
        let readable = wait.is_zero() || self.follower.wait(wait)?;
        let read = self.follower.read_available()?;
        if read > 0 {
            self.unevaluated = true;
        } else if readable && !wait.is_zero() {
            // A regular file at its end is always "readable": sleep instead
            // of spinning.
            std::thread::sleep(wait);
        }
        let (lines, fresh) = self.follower.take_new();
        self.pending = (self.pending + fresh).min(lines);
        let ready = self.last_run.is_none_or(|t| t.elapsed() >= gap);
        if !self.unevaluated || !ready {
            return Ok(Vec::new());
        }
        Ok(self.evaluate())
    }

    fn evaluate(&mut self) -> Vec<Update> {
        let text = self.follower.window_text();
        let lines = text.split(|&b| b == b'\n').count().saturating_sub(1);
        let first_new = lines.saturating_sub(self.pending) + 1;
        let started = Instant::now();
        let snapshot = Snapshot::from_inputs([(INPUT, text)]);
        let diagnosis = diagnose(&snapshot, self.rules);
        self.last_cost = started.elapsed();
        self.last_run = Some(Instant::now());
        self.unevaluated = false;
        self.pending = 0;
        self.evaluations += 1;
        let mut updates = Vec::new();
        for finding in diagnosis.findings {
            // Evidence keeps the first and the last matches: the newest
            // line of a finding is its last evidence line.
            let newest = finding
                .evidence
                .iter()
                .filter(|e| e.input == INPUT)
                .filter_map(|e| e.line_end.or(e.line))
                .max();
            let Some(newest) = newest else { continue };
            if (newest as usize) < first_new {
                continue;
            }
            let first = self
                .reported
                .insert(finding.id.clone(), finding.count)
                .is_none();
            updates.push(Update { finding, first });
        }
        updates
    }

    /// The follower, for its counters.
    pub fn follower(&self) -> &Follower {
        &self.follower
    }

    /// How many times the window was diagnosed.
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn rules() -> RuleSet {
        RuleSet::builtin().expect("built-in rules")
    }

    fn append(path: &Path, text: &str) {
        let mut f = OpenOptions::new().append(true).open(path).expect("open");
        f.write_all(text.as_bytes()).expect("write");
    }

    const OOM: &str = "Out of memory: Killed process 4242 (stress-ng) total-vm:1049176kB, anon-rss:1038088kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:2092kB oom_score_adj:0";

    #[test]
    fn window_is_bounded_in_bytes_and_keeps_the_newest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kmsg");
        let mut text = String::new();
        for seq in 0..1000 {
            text.push_str(&format!("6,{seq},{},-;line {seq}\n", seq * 1000));
        }
        std::fs::write(&path, &text).expect("write");
        let mut f = Follower::open(&path, Start::Beginning, 4096).expect("open");
        assert_eq!(f.read_available().expect("read"), 1000);
        assert!(f.held_bytes() <= 4096);
        let window = String::from_utf8(f.window_text()).expect("utf8");
        assert!(window.ends_with("-;line 999\n"), "{window}");
        assert!(!window.contains("-;line 0\n"));
    }

    #[test]
    fn start_at_end_skips_what_is_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kmsg");
        std::fs::write(&path, format!("3,1,1000,-;{OOM}\n")).expect("write");
        let mut f = Follower::open(&path, Start::End, 1 << 20).expect("open");
        assert_eq!(f.read_available().expect("read"), 0);
        append(&path, "6,2,2000,-;eth0: link up\n");
        assert_eq!(f.read_available().expect("read"), 1);
    }

    #[test]
    fn reports_a_finding_once_per_interval_and_again_only_for_new_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kmsg");
        std::fs::write(&path, "").expect("write");
        let rules = rules();
        let f = Follower::open(&path, Start::Beginning, 1 << 20).expect("open");
        let mut w = Watcher::new(f, &rules, Duration::ZERO);
        assert!(w.step(Duration::ZERO).expect("step").is_empty());

        append(&path, &format!("3,1,1000,-;{OOM}\n3,2,2000,-;{OOM}\n"));
        let updates = w.step(Duration::ZERO).expect("step");
        let oom: Vec<&Update> = updates
            .iter()
            .filter(|u| {
                u.finding
                    .evidence
                    .iter()
                    .any(|e| e.excerpt.contains("stress-ng"))
            })
            .collect();
        assert_eq!(oom.len(), 1, "{updates:#?}");
        assert!(oom[0].first);
        assert_eq!(oom[0].finding.count, 2);

        // Unrelated lines: the OOM finding has nothing new to say.
        append(
            &path,
            "6,3,3000,-;e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex\n",
        );
        // (The next evaluation waits out the cost of the last one.)
        std::thread::sleep(evaluation_gap(Duration::ZERO, w.last_cost));
        let updates = w.step(Duration::ZERO).expect("step");
        assert!(
            updates.iter().all(|u| u.finding.id != oom[0].finding.id),
            "{updates:#?}"
        );

        // One more kill: reported again, not as new, with the window count.
        append(&path, &format!("3,4,4000,-;{OOM}\n"));
        std::thread::sleep(evaluation_gap(Duration::ZERO, w.last_cost));
        let updates = w.step(Duration::ZERO).expect("step");
        let again = updates
            .iter()
            .find(|u| u.finding.id == oom[0].finding.id)
            .expect("reported again");
        assert!(!again.first);
        assert_eq!(again.finding.count, 3);
        assert_eq!(w.evaluations(), 3);
    }

    /// Under a flood an evaluation costs more: the next one waits until
    /// it is at most 1/33 of the time between the two.
    #[test]
    fn an_evaluation_that_costs_more_spaces_out_the_next() {
        let second = Duration::from_secs(1);
        assert_eq!(evaluation_gap(second, Duration::from_millis(10)), second);
        assert_eq!(
            evaluation_gap(second, Duration::from_millis(50)),
            Duration::from_millis(1650)
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kmsg");
        std::fs::write(&path, format!("3,1,1000,-;{OOM}\n")).expect("write");
        let rules = rules();
        let f = Follower::open(&path, Start::Beginning, 1 << 20).expect("open");
        // No interval: only the cost of the last evaluation spaces them.
        let mut w = Watcher::new(f, &rules, Duration::ZERO);
        assert!(!w.step(Duration::ZERO).expect("step").is_empty());
        assert!(w.last_cost > Duration::ZERO);
        append(&path, &format!("3,2,2000,-;{OOM}\n"));
        assert!(w.step(Duration::ZERO).expect("step").is_empty());
        assert_eq!(w.evaluations(), 1);
        std::thread::sleep(evaluation_gap(Duration::ZERO, w.last_cost));
        assert!(!w.step(Duration::ZERO).expect("step").is_empty());
        assert_eq!(w.evaluations(), 2);
    }

    #[test]
    fn waits_out_the_interval_before_evaluating_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kmsg");
        std::fs::write(&path, format!("3,1,1000,-;{OOM}\n")).expect("write");
        let rules = rules();
        let f = Follower::open(&path, Start::Beginning, 1 << 20).expect("open");
        let mut w = Watcher::new(f, &rules, Duration::from_secs(3600));
        assert!(!w.step(Duration::ZERO).expect("step").is_empty());
        append(&path, &format!("3,2,2000,-;{OOM}\n"));
        // Read, but not evaluated: the interval has not passed.
        assert!(w.step(Duration::ZERO).expect("step").is_empty());
        assert_eq!(w.evaluations(), 1);
        assert_eq!(w.follower().received(), 2);
    }

    #[test]
    fn a_gap_in_sequence_numbers_is_a_note_not_a_failure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kmsg");
        std::fs::write(&path, format!("3,1,1000,-;{OOM}\n3,90,2000,-;{OOM}\n")).expect("write");
        let rules = rules();
        let f = Follower::open(&path, Start::Beginning, 1 << 20).expect("open");
        let mut w = Watcher::new(f, &rules, Duration::ZERO);
        let updates = w.step(Duration::ZERO).expect("step");
        assert!(updates.iter().any(|u| u.finding.count == 2), "{updates:#?}");
    }

    #[test]
    fn a_missing_device_is_an_error_naming_it() {
        let err =
            Follower::open(Path::new("/nonexistent/kmsg"), Start::End, 1024).expect_err("missing");
        assert!(err.to_string().starts_with("/nonexistent/kmsg: "), "{err}");
    }
}
