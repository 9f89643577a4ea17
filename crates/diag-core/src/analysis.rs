//! The one entry point: source → snapshot → (probes, baseline) → facts →
//! diagnosis, the path `diag check`, `analyze`, `report`, the TUI and an
//! embedder all take.
//!
//! It runs in two halves so that a caller can compile its rules on one
//! thread while the host is read on another: [`prepare`] reads the source
//! and derives the facts ([`Prepared`]), [`Prepared::diagnose`] evaluates
//! the rules ([`Analysis`]). [`Analysis::run`] does both.
//!
//! ```no_run
//! use diag_core::analysis::{Analysis, Request};
//! use diag_core::diagnose::rules::RuleSet;
//! use diag_core::source::Bundle;
//! # fn main() -> Result<(), diag_core::Error> {
//! let bundle = Bundle::open("/tmp/bundle")?;
//! let analysis = Analysis::run(&bundle, &RuleSet::builtin()?, &Request::default())?;
//! for cause in &analysis.diagnosis.causes {
//!     println!("{}: {}", cause.id, cause.summary);
//! }
//! # Ok(()) }
//! ```

use crate::diagnose::diagnosis::Diagnosis;
use crate::diagnose::rules::RuleSet;
use crate::error::{Error, Result};
use crate::facts::baseline::{Baseline, BASELINE_INPUT};
use crate::facts::services::perms::snapshot_paths;
use crate::facts::{self, Facts};
use crate::model::Note;
use crate::parse::services::perms::PATHS_INPUT;
use crate::probe::Results;
use crate::report::Report;
use crate::source::services::{records_json, stat_records};
use crate::source::snapshot::{CollectOptions, Input, Snapshot};
use crate::source::{Source, SourceKind};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// Runs the active probes of a host, given the facts of its snapshot
/// (which addresses, gateways and resolvers it has): the caller decides
/// the plan and the options (`diag check --probe` builds them from its
/// flags).
pub type ProbeStep<'a> = &'a (dyn Fn(&Facts) -> std::result::Result<Results, Box<dyn std::error::Error + Send + Sync>>
         + Sync);

/// What to do between reading the source and diagnosing.
#[derive(Default)]
#[non_exhaustive]
pub struct Request<'a> {
    /// How the source is read.
    pub options: CollectOptions,
    /// Refuse a source of which nothing was read ([`Error::NothingRead`])
    /// instead of diagnosing an empty snapshot as healthy.
    pub require_inputs: bool,
    /// A baseline file (`diag baseline save`) to compare the host with.
    pub baseline: Option<PathBuf>,
    /// Probe the host before diagnosing; the results become `probe/*.json`
    /// inputs of the snapshot.
    pub probe: Option<ProbeStep<'a>>,
    /// Which kernel-log lines the rules need ([`RuleSet::line_filter`]):
    /// of a large log only those are kept. `None` keeps every line.
    pub log_filter: Option<crate::facts::kernel_stream::LineFilter>,
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("options", &self.options)
            .field("require_inputs", &self.require_inputs)
            .field("baseline", &self.baseline)
            .field("probe", &self.probe.is_some())
            .field("log_filter", &self.log_filter.is_some())
            .finish()
    }
}

impl<'a> Request<'a> {
    /// A request that reads with `options` and does nothing else.
    pub fn new(options: CollectOptions) -> Self {
        Request {
            options,
            ..Request::default()
        }
    }

    /// Keeps of a large kernel log only the lines `rules` need
    /// ([`RuleSet::line_filter`]; `facts::kernel_stream`).
    pub fn rules(mut self, rules: &RuleSet) -> Self {
        self.log_filter = Some(rules.line_filter());
        self
    }

    /// Refuses a source of which nothing was read.
    pub fn require_inputs(mut self) -> Self {
        self.require_inputs = true;
        self
    }

    /// Compares the host with the baseline in `file`.
    pub fn baseline(mut self, file: Option<PathBuf>) -> Self {
        self.baseline = file;
        self
    }

    /// Probes the host before diagnosing.
    pub fn probe(mut self, step: Option<ProbeStep<'a>>) -> Self {
        self.probe = step;
        self
    }
}

/// A snapshot read and its facts derived, ready to diagnose.
#[derive(Debug)]
#[non_exhaustive]
pub struct Prepared {
    /// What was read.
    pub snapshot: Snapshot,
    /// What it means for the host.
    pub facts: Facts,
    /// Lines and inputs that could not be used.
    pub notes: Vec<Note>,
    /// Problems the caller should tell the operator about that do not stop
    /// the analysis (a file given as a baseline that is not one).
    pub warnings: Vec<String>,
}

/// A finished analysis: what was read, what it means, what is wrong.
#[derive(Debug)]
#[non_exhaustive]
pub struct Analysis {
    /// What was read.
    pub snapshot: Snapshot,
    /// What it means for the host (the tree rule conditions read).
    pub facts: Facts,
    /// The ranked causes and findings.
    pub diagnosis: Diagnosis,
    /// See [`Prepared::warnings`].
    pub warnings: Vec<String>,
}

impl Analysis {
    /// Reads `source` as `request` says and diagnoses it with `rules`.
    /// The rules' conditions compile on a second thread meanwhile
    /// ([`RuleSet::while_warming`]).
    pub fn run(source: &dyn Source, rules: &RuleSet, request: &Request<'_>) -> Result<Analysis> {
        rules.while_warming(|| Ok(prepare(source, request)?.diagnose(rules)))
    }

    /// Diagnoses a snapshot already read (a rule case, a TUI refresh).
    pub fn of_snapshot(snapshot: Snapshot, rules: &RuleSet) -> Analysis {
        Prepared::from_snapshot(snapshot).diagnose(rules)
    }

    /// The postmortem report of this analysis (`diag report`), saying
    /// which rules and command line made it.
    pub fn report(&self, rules: &RuleSet, command_line: Vec<String>) -> Report {
        Report::new(
            self.diagnosis.clone(),
            &self.facts,
            &self.snapshot,
            rules,
            command_line,
        )
    }
}

/// Reads `source`, runs the request's probes, attaches its baseline, and
/// derives the facts.
pub fn prepare(source: &dyn Source, request: &Request<'_>) -> Result<Prepared> {
    let mut snapshot = Snapshot::collect(source, &request.options);
    if request.require_inputs {
        snapshot.require_inputs()?;
    }
    let mut warnings = Vec::new();
    if let Some(file) = &request.baseline {
        let live_root =
            (source.kind() == SourceKind::Live).then(|| PathBuf::from(source.location()));
        if let Some(warning) = attach_baseline(&mut snapshot, file, live_root.as_deref())? {
            warnings.push(warning);
        }
    }
    let (mut facts, mut notes) = Facts::from_snapshot_with(&snapshot, request.log_filter.as_ref());
    if let Some(probe) = request.probe {
        let results = probe(&facts).map_err(|e| Error::Probe(e.to_string()))?;
        for (name, bytes) in results.inputs() {
            put(&mut snapshot, &name, bytes);
        }
        // Only the probe facts depend on the probe inputs: the rest of
        // the snapshot is not parsed again.
        facts::probe_facts(&mut facts, &snapshot, &mut notes);
    }
    Ok(Prepared {
        snapshot,
        facts,
        notes,
        warnings,
    })
}

impl Prepared {
    /// Derives the facts of a snapshot read elsewhere.
    pub fn from_snapshot(snapshot: Snapshot) -> Prepared {
        let (facts, notes) = Facts::from_snapshot(&snapshot);
        Prepared {
            snapshot,
            facts,
            notes,
            warnings: Vec::new(),
        }
    }

    /// Evaluates `rules` over the facts.
    pub fn diagnose(self, rules: &RuleSet) -> Analysis {
        let Prepared {
            snapshot,
            facts,
            notes,
            warnings,
        } = self;
        let (diagnosis, facts) = crate::diagnose::diagnose_parsed(&snapshot, facts, notes, rules);
        Analysis {
            snapshot,
            facts,
            diagnosis,
            warnings,
        }
    }
}

fn put(snapshot: &mut Snapshot, name: &str, bytes: Vec<u8>) {
    snapshot.inputs.insert(
        name.to_string(),
        Input {
            bytes: bytes.into(),
            truncated: false,
        },
    );
}

/// Adds the baseline in `file` to `snapshot`. Below a live root, paths the
/// baseline watched that this collection did not (a `--watch` list) are
/// stat'ed now so they are compared too. A file that is not a baseline
/// gives a warning naming it (returned); the diagnosis goes on without it.
pub fn attach_baseline(
    snapshot: &mut Snapshot,
    file: &Path,
    live_root: Option<&Path>,
) -> Result<Option<String>> {
    let bytes = std::fs::read(file).map_err(|error| Error::Baseline {
        path: file.to_path_buf(),
        error,
    })?;
    let baseline = match Baseline::from_json(&bytes) {
        Ok(b) => b,
        Err(err) => {
            return Ok(Some(format!(
                "{}: {err}; diagnosing without a baseline",
                file.display()
            )))
        }
    };
    if let Some(root) = live_root {
        let mut notes = Vec::new();
        let mut records: Vec<_> = snapshot_paths(snapshot, &mut notes)
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        let have: BTreeSet<&str> = records.iter().map(|r| r.path.as_str()).collect();
        let missing: BTreeSet<String> = baseline
            .paths
            .iter()
            .filter(|r| !have.contains(r.path.as_str()))
            .map(|r| r.path.clone())
            .collect();
        if !missing.is_empty() {
            let have: BTreeSet<String> = have.iter().map(|s| s.to_string()).collect();
            records.extend(
                stat_records(root, &missing)
                    .into_iter()
                    .filter(|r| !have.contains(&r.path)),
            );
            crate::sort::sort_by(&mut records, |a, b| a.path.cmp(&b.path));
            put(snapshot, PATHS_INPUT, records_json(&records));
        }
    }
    put(snapshot, BASELINE_INPUT, bytes);
    Ok(None)
}
