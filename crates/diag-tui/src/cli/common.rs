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

use crate::cli::args::{CaptureArgs, Format, MetricsLabels, ReadArgs, RuleArgs, SyslogArg};
use anyhow::{bail, Context, Result};
use diag_core::diagnose::rules::RuleSet;
use diag_core::report::prometheus::ProbeTally;
use diag_core::sanitize::{self, visible_line};
use diag_core::source::{CollectOptions, Input, Snapshot};
use diag_core::source::{Limits, LiveHost};
use diag_core::{report, Diagnosis};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Exit code when diag itself could not run.
pub(crate) const EXIT_UNKNOWN: u8 = 3;

impl CaptureArgs {
    /// The capture options, checked (`--capture-seconds`, `--snaplen`).
    pub(crate) fn options(&self) -> Result<diag_core::source::CaptureOptions> {
        if !(self.capture_seconds.is_finite() && (0.0..=600.0).contains(&self.capture_seconds)) {
            bail!("--capture-seconds must be between 0 and 600");
        }
        if self.snaplen < 64 {
            bail!("--snaplen must be at least 64 bytes (the headers diag decodes)");
        }
        Ok(diag_core::source::CaptureOptions {
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
        Some(text) => Some(diag_core::source::parse_since(
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
        let parsed = rules.while_warming(parse)?;
        return Ok((rules, parsed));
    }
    std::thread::scope(|scope| {
        // The conditions every rule evaluates compile there too (the
        // built-in ones compile on first use).
        let rules = scope.spawn(|| {
            let rules = load_rules(args)?;
            rules.warm();
            Ok::<_, anyhow::Error>(rules)
        });
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
    syslog: Option<&'a Path>,
    pub(crate) started: Instant,
    pub(crate) probes: Vec<ProbeTally>,
    labels: Vec<(String, String)>,
}

impl<'a> Emit<'a> {
    /// [`Emit::new`] from the output flags of `check` and `analyze`
    /// (`probe`'s `-o` names a bundle directory: its own flags).
    pub(crate) fn of(
        command: &'static str,
        format: Format,
        output: &'a crate::cli::args::OutputArg,
        started: Instant,
    ) -> Result<Self> {
        Emit::new(
            command,
            format,
            output.file.as_deref(),
            &output.metrics,
            &output.syslog,
            started,
        )
    }

    /// How `command` (`check`, `analyze`, `probe`) emits: `labels` are
    /// its `--metrics-label`s, refused without `--format prometheus`, with
    /// a name that is not a label name, or one diag's series use.
    pub(crate) fn new(
        command: &'static str,
        format: Format,
        file: Option<&'a Path>,
        labels: &MetricsLabels,
        syslog: &'a SyslogArg,
        started: Instant,
    ) -> Result<Self> {
        const OURS: [&str; 8] = [
            "command", "id", "severity", "subject", "kind", "version", "source", "host",
        ];
        if !labels.labels.is_empty() && format != Format::Prometheus {
            bail!("--metrics-label needs --format prometheus");
        }
        if syslog.socket.is_some() && format != Format::Jsonl {
            bail!("--syslog needs --format jsonl");
        }
        if syslog.socket.is_some() && file.is_some() {
            bail!("--syslog sends the lines to syslog: it cannot be combined with a file");
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
            syslog: syslog.socket.as_deref(),
            started,
            probes: Vec::new(),
            labels: pairs,
        })
    }

    /// The diagnosis in `self.format` (`text` makes the text form, which
    /// is the command's) to stdout, syslog or, atomically, to the `-o`
    /// file: mode 0644 for metrics (node_exporter reads them as its own
    /// user), 0600 for the rest (they hold addresses and log lines).
    pub(crate) fn output(
        &self,
        diagnosis: &Diagnosis,
        text: impl FnOnce() -> String,
    ) -> Result<()> {
        let rendered = match self.format {
            Format::Text => text(),
            Format::Json => {
                let mut json = serde_json::to_string_pretty(diagnosis)?;
                json.push('\n');
                sanitize::json(&json).into_owned()
            }
            Format::Prometheus => report::prometheus(
                diagnosis,
                &report::prometheus::Run {
                    duration: self.started.elapsed(),
                    finished: std::time::SystemTime::now(),
                    probes: self.probes.clone(),
                    labels: self.labels.clone(),
                },
            ),
            Format::Jsonl => {
                let lines = report::jsonl::lines(diagnosis);
                if let Some(socket) = self.syslog {
                    return send_syslog(socket, &lines);
                }
                lines.iter().map(|l| format!("{}\n", l.text)).collect()
            }
        };
        match self.file {
            None => write_stdout(&rendered),
            Some(path) => {
                let mode = (self.format == Format::Prometheus).then_some(0o644);
                report::write_atomic_mode(path, rendered.as_bytes(), mode)
                    .with_context(|| format!("cannot write {}", path.display()))
            }
        }
    }
}

/// RFC 3164's `Mmm dd hh:mm:ss` (day padded with a space) of an RFC 3339
/// time `YYYY-MM-DDThh:mm:ssZ`, by hand: a strftime would add jiff's whole
/// formatter to the binary for this one line.
fn syslog_time(rfc3339: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = rfc3339
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .unwrap_or(&"Jan");
    let day = rfc3339.get(8..10).unwrap_or("01").trim_start_matches('0');
    let time = rfc3339.get(11..19).unwrap_or("00:00:00");
    format!("{month} {day:>2} {time}")
}

/// Sends `lines` to the syslog socket `socket` (a Unix datagram socket:
/// `/dev/log`), one datagram a line, framed as glibc's `syslog()` frames
/// them (RFC 3164: `<PRI>Mmm dd hh:mm:ss diag[PID]: LINE`, which journald
/// and rsyslog take); facility daemon, the priority from the line's
/// severity.
fn send_syslog(socket: &Path, lines: &[report::jsonl::Line]) -> Result<()> {
    use diag_core::model::Severity;
    const DAEMON: u8 = 3 << 3;
    let sender =
        std::os::unix::net::UnixDatagram::unbound().context("cannot open a Unix socket")?;
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let stamp = syslog_time(&now.to_string());
    let pid = std::process::id();
    for line in lines {
        let priority = DAEMON
            + match line.severity {
                Some(Severity::Critical) => 2,
                Some(Severity::Warning) => 4,
                _ => 6,
            };
        let datagram = format!("<{priority}>{stamp} diag[{pid}]: {}", line.text);
        sender
            .send_to(datagram.as_bytes(), socket)
            .with_context(|| format!("cannot send to the syslog socket {}", socket.display()))?;
    }
    Ok(())
}

/// Prints (or writes, with `-o`) the diagnosis as `emit` says; the exit
/// code is the diagnosis's, whatever the format.
pub(crate) fn print_diagnosis(diagnosis: &Diagnosis, emit: &Emit) -> Result<u8> {
    emit.output(diagnosis, || report::text(diagnosis))?;
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

#[cfg(test)]
mod tests {
    #[test]
    fn syslog_time_is_rfc_3164() {
        assert_eq!(
            super::syslog_time("2026-12-06T07:56:46Z"),
            "Dec  6 07:56:46"
        );
        assert_eq!(
            super::syslog_time("2026-01-31T23:00:01Z"),
            "Jan 31 23:00:01"
        );
    }
}
