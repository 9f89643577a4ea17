//! What the screens show, and the worker thread that produces it.
//!
//! A [`Model`] is one snapshot with its facts and diagnosis, made by
//! diag-core (Source → Parse → Diagnose); the UI only presents it. The
//! [`Worker`] runs collection and diagnosis on its own thread, so a slow
//! collector (a hung NFS mount, a big kernel log) never blocks input or
//! drawing: the UI polls [`Worker::try_recv`] between key presses.

use diag_core::analysis::Analysis;
use diag_core::diagnose::rules::RuleSet;
use diag_core::model::Evidence;
use diag_core::source::CaptureOptions;
use diag_core::source::{CollectOptions, Snapshot};
use diag_core::source::{LiveHost, Source};
use diag_core::{Diagnosis, Facts};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// One diagnosed snapshot.
#[derive(Debug)]
pub struct Model {
    /// The raw inputs (for the source view).
    pub snapshot: Snapshot,
    /// Everything parsed from them.
    pub facts: Facts,
    /// The ranked diagnosis.
    pub diagnosis: Diagnosis,
    /// For each cause, for each of its evidence items: the part of the
    /// excerpt the rule's log pattern matched, when it has one.
    pub cause_spans: Vec<Vec<Option<Range<usize>>>>,
    /// The same for each finding.
    pub finding_spans: Vec<Vec<Option<Range<usize>>>>,
    /// How long collection and diagnosis took.
    pub took: Duration,
    /// Refresh counter: 1 for the first model of a run.
    pub generation: u64,
}

impl Model {
    /// Parses and diagnoses `snapshot` (refresh number `generation`;
    /// `took`: how long collection took so far).
    pub fn new(snapshot: Snapshot, rules: &RuleSet, took: Duration, generation: u64) -> Model {
        let started = Instant::now();
        let Analysis {
            snapshot,
            facts,
            diagnosis,
            ..
        } = Analysis::of_snapshot(snapshot, rules);
        let cause_spans = diagnosis
            .causes
            .iter()
            .map(|c| spans(rules, &c.id, &c.evidence))
            .collect();
        let finding_spans = diagnosis
            .findings
            .iter()
            .map(|f| spans(rules, &f.id, &f.evidence))
            .collect();
        Model {
            snapshot,
            facts,
            diagnosis,
            cause_spans,
            finding_spans,
            took: took + started.elapsed(),
            generation,
        }
    }
}

/// Where the models come from.
#[derive(Debug, Clone)]
pub enum Feed {
    /// The live host (rooted at `/` or a directory), refreshed every
    /// `interval`.
    Live {
        /// `--root`, when given.
        root: Option<PathBuf>,
        /// Time between refreshes.
        interval: Duration,
    },
    /// A bundle, read once (again on request).
    Bundle(PathBuf),
}

impl Feed {
    /// The refresh interval of a live feed.
    pub fn interval(&self) -> Option<Duration> {
        match self {
            Feed::Live { interval, .. } => Some(*interval),
            Feed::Bundle(_) => None,
        }
    }
}

/// What the UI asks of the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Collect again now.
    Refresh,
    /// Ask for packet capture in the next collections (or stop asking).
    SetCapture(bool),
}

/// What the worker sends back.
#[derive(Debug)]
pub enum Update {
    /// A collection started (the screen shows "refreshing").
    Started,
    /// A new model.
    Ready(Arc<Model>),
    /// The source could not be opened at all (a bundle that vanished).
    Failed(String),
}

/// The collection options of one run, with what the UI toggles.
///
/// **Capture toggle:** `capture` is what the `c` key sets: off, the
/// collection captures nothing; on, it captures for the duration given on
/// the command line, or the library's default (2 s) when that was 0.
pub fn collect_options(base: &CollectOptions, capture: bool) -> CollectOptions {
    let mut options = base.clone();
    if !capture {
        options.capture.duration = Duration::ZERO;
    } else if options.capture.duration.is_zero() {
        options.capture.duration = CaptureOptions::default().duration;
    }
    options
}

/// The collection and diagnosis thread.
#[derive(Debug)]
pub struct Worker {
    commands: Sender<Command>,
    updates: Receiver<Update>,
    // Dropping the worker closes `commands`, which ends the thread at its
    // next wait; a collection in progress is bounded by its own deadline.
    _handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread: it collects at once, then (live) every interval.
    pub fn start(feed: Feed, rules: RuleSet, base: CollectOptions) -> Worker {
        let (commands, command_rx) = mpsc::channel();
        let (update_tx, updates) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("diag-collect".into())
            .spawn(move || work(&feed, &rules, &base, &command_rx, &update_tx))
            .ok();
        Worker {
            commands,
            updates,
            _handle: handle,
        }
    }

    /// Sends a command; a finished worker ignores it.
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// The next update, if one is waiting.
    pub fn try_recv(&self) -> Option<Update> {
        self.updates.try_recv().ok()
    }
}

fn work(
    feed: &Feed,
    rules: &RuleSet,
    base: &CollectOptions,
    commands: &Receiver<Command>,
    updates: &Sender<Update>,
) {
    let mut capture = !base.capture.duration.is_zero();
    let mut generation = 0;
    loop {
        if updates.send(Update::Started).is_err() {
            return;
        }
        let started = Instant::now();
        let options = collect_options(base, capture);
        let snapshot = match feed {
            Feed::Live { root, .. } => {
                let host = match root {
                    Some(root) => LiveHost::with_root(root),
                    None => LiveHost::new(),
                };
                Snapshot::collect(&host as &dyn Source, &options)
            }
            // A bundle or a sosreport, told by its content.
            Feed::Bundle(path) => match diag_core::source::open(path) {
                Ok(source) => Snapshot::collect(source.as_ref(), &options),
                Err(err) => {
                    let _ = updates.send(Update::Failed(err.to_string()));
                    return;
                }
            },
        };
        generation += 1;
        let model = Model::new(snapshot, rules, started.elapsed(), generation);
        if updates.send(Update::Ready(Arc::new(model))).is_err() {
            return;
        }
        // Wait for the next refresh, or for a command.
        let deadline = feed.interval().map(|i| Instant::now() + i);
        loop {
            let received = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    commands.recv_timeout(left)
                }
                None => commands.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                Ok(Command::Refresh) => break,
                Ok(Command::SetCapture(on)) => capture = on,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// Where the log pattern of rule `id` (or of a rule it explains) matches
/// each evidence excerpt: the "matching part" the detail screen
/// highlights. Evidence of condition rules (records, not log lines) has
/// none.
fn spans(rules: &RuleSet, id: &str, evidence: &[Evidence]) -> Vec<Option<Range<usize>>> {
    let rule = rules.get(id);
    let patterns: Vec<_> = rule
        .into_iter()
        .chain(
            rule.into_iter()
                .flat_map(|r| &r.explains)
                .filter_map(|e| rules.get(e)),
        )
        .filter_map(|r| r.log.as_ref())
        .collect();
    evidence
        .iter()
        .map(|e| {
            patterns
                .iter()
                .find_map(|p| p.regex().find(&e.excerpt))
                .map(|m| m.range())
        })
        .collect()
}

/// How old a snapshot is, at `now`.
pub fn age(model: &Model, now: SystemTime) -> Duration {
    now.duration_since(model.snapshot.taken_at)
        .unwrap_or_default()
}
