//! What several commands share: the live host (`--root`), the collect
//! options (`--read-timeout`, `--since`, the capture flags), loading the
//! rules, attaching a baseline, printing a diagnosis, writing stdout, the
//! exit code of a failed run, and (in [`probing`]) the probe plan that
//! `probe`, `check --probe` and `collect --probe` build. The checks that
//! turn an `Args` struct into library options are methods on it, defined
//! here (`CaptureArgs::options`, `ProbeArgs::plan`, `ProbeFlags::add_to`,
//! ...). This module imports only [`crate::cli::args`] (and diag_core):
//! never `cli`'s `mod.rs` nor a command's module.

mod probing;

use crate::cli::args::{CaptureArgs, Format, MetricsLabels, ReadArgs, RuleArgs};
use anyhow::{bail, Context, Result};
use diag_core::diagnose::rules::RuleSet;
use diag_core::report::prometheus::ProbeTally;
use diag_core::sanitize::{self, visible_line};
use diag_core::source::snapshot::{CollectOptions, Input, Snapshot};
use diag_core::source::{Limits, LiveHost};
use diag_core::{report, Diagnosis};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Exit code when diag itself could not run.
pub(crate) const EXIT_UNKNOWN: u8 = 3;

impl CaptureArgs {
    /// The capture options, checked (`--capture-seconds`, `--snaplen`).
    pub(crate) fn options(&self) -> Result<diag_core::source::capture::CaptureOptions> {
        if !(self.capture_seconds.is_finite() && (0.0..=600.0).contains(&self.capture_seconds)) {
            bail!("--capture-seconds must be between 0 and 600");
        }
        if self.snaplen < 64 {
            bail!("--snaplen must be at least 64 bytes (the headers diag decodes)");
        }
        Ok(diag_core::source::capture::CaptureOptions {
            interfaces: self.capture_interfaces.clone(),
            duration: Duration::from_secs_f64(self.capture_seconds),
            max_packets: self.capture_packets,
            max_bytes: self.capture_mb.saturating_mul(1 << 20),
            snaplen: self.snaplen,
            promiscuous: self.promiscuous,
        })
    }
}

/// On SIGINT or SIGTERM, ends every drop recording (its tracing instance
/// removed) before the process exits with 128 + the signal. Call before
/// any thread is started: the signals are blocked in this thread and the
/// threads it starts, and one thread waits for them.
pub(crate) fn clean_up_on_signal() -> Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block().context("cannot block SIGINT/SIGTERM")?;
    std::thread::spawn(move || {
        if let Ok(signal) = set.wait() {
            diag_core::source::tracing::abort_all(Duration::from_secs(2));
            std::process::exit(128 + signal as i32);
        }
    });
    Ok(())
}

pub(crate) fn live(root: Option<PathBuf>) -> Result<LiveHost> {
    match root {
        None => Ok(LiveHost::new()),
        // Looked at within the read timeout's default: a root on a hung
        // mount is an error, not a hang.
        Some(root) => Ok(LiveHost::open_root(root, Limits::default().timeout)?),
    }
}

pub(crate) fn options(read: &ReadArgs) -> Result<CollectOptions> {
    if !(read.read_timeout.is_finite() && read.read_timeout > 0.0 && read.read_timeout <= 600.0) {
        bail!("--read-timeout must be between 0 and 600 seconds");
    }
    let since = match &read.since {
        Some(text) => Some(diag_core::source::snapshot::parse_since(
            text,
            std::time::SystemTime::now(),
        )?),
        None => None,
    };
    Ok(CollectOptions {
        limits: Limits {
            timeout: Duration::from_secs_f64(read.read_timeout),
            ..Limits::default()
        },
        since,
        ..CollectOptions::default()
    })
}

/// Runs `parse` (collecting and parsing a snapshot) while the built-in
/// rules load on another thread: compiling them takes tens of milliseconds,
/// which a second core hides behind a capture window or a large capture.
/// With `--rules` directories the rules load first, so that a mistake in a
/// user's rule file stops diag before it collects or probes anything.
/// An error of either is returned, the rules' first.
pub(crate) fn parse_while_loading<T: Send>(
    args: &RuleArgs,
    parse: impl FnOnce() -> Result<T>,
) -> Result<(RuleSet, T)> {
    if !args.dirs.is_empty() {
        let rules = load_rules(args)?;
        return Ok((rules, parse()?));
    }
    std::thread::scope(|scope| {
        let rules = scope.spawn(|| load_rules(args));
        let parsed = parse();
        let rules = rules
            .join()
            .map_err(|_| anyhow::anyhow!("the thread loading the rules panicked"))??;
        Ok((rules, parsed?))
    })
}

pub(crate) fn load_rules(args: &RuleArgs) -> Result<RuleSet> {
    check_rule_dirs(args)?;
    Ok(RuleSet::load(&args.dirs)?)
}

pub(crate) fn check_rule_dirs(args: &RuleArgs) -> Result<()> {
    for dir in &args.dirs {
        if !dir.is_dir() {
            bail!(
                "{}: --rules must be a directory of *.toml rule files",
                dir.display()
            );
        }
    }
    Ok(())
}

/// How a diagnosis leaves diag: `--format`, `-o FILE`, and what the
/// metrics say about the run (when it started, `diag probe`'s tallies).
#[derive(Debug)]
pub(crate) struct Emit<'a> {
    pub(crate) format: Format,
    pub(crate) file: Option<&'a Path>,
    pub(crate) started: Instant,
    pub(crate) probes: Vec<ProbeTally>,
    labels: Vec<(String, String)>,
}

impl<'a> Emit<'a> {
    /// How `command` (`check`, `analyze`, `probe`) emits: `labels` are
    /// its `--metrics-label`s, refused without `--format prometheus`, with
    /// a name that is not a label name, or one diag's series use.
    pub(crate) fn new(
        command: &'static str,
        format: Format,
        file: Option<&'a Path>,
        labels: &MetricsLabels,
        started: Instant,
    ) -> Result<Self> {
        const OURS: [&str; 8] = [
            "command", "id", "severity", "subject", "kind", "version", "source", "host",
        ];
        if !labels.labels.is_empty() && format != Format::Prometheus {
            bail!("--metrics-label needs --format prometheus");
        }
        let mut pairs = vec![("command".to_string(), command.to_string())];
        for label in &labels.labels {
            let Some((name, value)) = label.split_once('=') else {
                bail!("--metrics-label {label:?}: expected NAME=VALUE");
            };
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with("__");
            if !valid || OURS.contains(&name) || pairs.iter().any(|(n, _)| n == name) {
                bail!(
                    "--metrics-label {name:?}: a label name is [a-zA-Z_][a-zA-Z0-9_]*, not \
                     starting with __, given once, and none of {}",
                    OURS.join(", ")
                );
            }
            pairs.push((name.to_string(), value.to_string()));
        }
        Ok(Emit {
            format,
            file,
            started,
            probes: Vec::new(),
            labels: pairs,
        })
    }

    /// `text` (rendered in `self.format`) to stdout, or atomically to the
    /// `-o` file: mode 0644 for metrics (node_exporter reads them as its
    /// own user), 0600 for the rest (they hold addresses and log lines).
    pub(crate) fn write(&self, text: &str) -> Result<()> {
        match self.file {
            None => write_stdout(text),
            Some(path) => {
                let mode = (self.format == Format::Prometheus).then_some(0o644);
                report::write_atomic_mode(path, text.as_bytes(), mode)
                    .with_context(|| format!("cannot write {}", path.display()))
            }
        }
    }

    /// The diagnosis in the JSON or Prometheus format (`None` for text,
    /// whose form is the command's).
    pub(crate) fn render(&self, diagnosis: &Diagnosis) -> Result<Option<String>> {
        Ok(match self.format {
            Format::Text => None,
            Format::Json => {
                let mut json = serde_json::to_string_pretty(diagnosis)?;
                json.push('\n');
                Some(sanitize::json(&json).into_owned())
            }
            Format::Prometheus => Some(report::prometheus(
                diagnosis,
                &report::prometheus::Run {
                    duration: self.started.elapsed(),
                    finished: std::time::SystemTime::now(),
                    probes: self.probes.clone(),
                    labels: self.labels.clone(),
                },
            )),
        })
    }
}

/// Prints (or writes, with `-o`) the diagnosis as `emit` says; the exit
/// code is the diagnosis's, whatever the format.
pub(crate) fn print_diagnosis(diagnosis: &Diagnosis, emit: &Emit) -> Result<u8> {
    let text = match emit.render(diagnosis)? {
        Some(text) => text,
        None => report::text(diagnosis),
    };
    emit.write(&text)?;
    Ok(u8::try_from(diagnosis.exit_code()).unwrap_or(EXIT_UNKNOWN))
}

pub(crate) fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A closed pipe (`diag check | head`) is not an error.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Puts `bytes` into `snapshot` as the input `name` (replacing it).
pub(crate) fn put(snapshot: &mut Snapshot, name: &str, bytes: Vec<u8>) {
    snapshot.inputs.insert(
        name.to_string(),
        Input {
            bytes: bytes.into(),
            truncated: false,
        },
    );
}

/// Prints the warnings of an analysis (a file given as a baseline that is
/// not one) on stderr.
pub(crate) fn warn(warnings: &[String]) {
    for warning in warnings {
        eprintln!("diag: warning: {}", visible_line(warning));
    }
}
