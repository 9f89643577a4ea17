//! `diag probe`: active checks, printed like a monitoring plugin.
//!
//! ```text
//! DIAG PROBE CRITICAL - addr.unreachable: 3 address(es) did not answer ... | tcp=6;answered=3 ...
//! <one line per finding and cause>
//! <one line per probe result>
//! ```
//!
//! The first line is the status (OK, WARNING, CRITICAL, UNKNOWN) with
//! performance data after `|`; the exit code is the matching
//! monitoring-plugin code (0, 1, 2, 3). The results are diagnosed alone (a
//! snapshot holding only `probe/*.json`), so the status is about the
//! probes, never about whatever else the prober's host has wrong.
//! `--every` repeats until SIGINT or SIGTERM, printing only what changed.
//!
//! Named targets (`TARGET`, `--targets-file`, `--targets-from`) are all
//! that is touched: TCP to them, plus the resolvers with `--dns` (or
//! `--dns-name`), the gateways with `--path` and the `--beyond` targets.
//! Without named targets, this host's own set: its addresses, resolvers and
//! gateways. A probe never captures packets.
//! Every string from the host, a bundle or a rule passes the one sanitiser
//! (`diag_core::sanitize`) before it is printed.
//!
//! The probe flags and the plan they make are shared with `check --probe`
//! and `collect --probe`, so they are in [`crate::cli::args`] and
//! `crate::cli::common` (`ProbeArgs::plan`); this module holds the command
//! alone (its rounds, status line and `--every` loop) and imports only
//! those two.

use crate::cli::args::{Format, ProbeArgs, RuleArgs};
use crate::cli::common::{load_rules, write_stdout, Emit};
use anyhow::{bail, Context, Result};
use diag_core::diagnose::rules::RuleSet;
use diag_core::facts::Facts;
use diag_core::probe;
use diag_core::report::prometheus::ProbeTally;
use diag_core::sanitize::visible_line;
use diag_core::source::{CollectOptions, Snapshot};
use diag_core::source::{LiveHost, Source};
use diag_core::{diagnose, Diagnosis};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One run: probe, diagnose the results alone.
struct Round {
    diagnosis: Diagnosis,
    results: BTreeMap<String, String>,
    snapshot: Snapshot,
    plan_size: usize,
    elapsed: Duration,
}

/// One round, timed from `started` (the run's start for the first round)
/// to its diagnosis. This host's state is read only when the plan needs it
/// (no named targets, `--dns`, `--path`), and never with a packet capture.
fn round(args: &ProbeArgs, rules: &RuleSet, started: Instant) -> Result<Round> {
    const HOSTNAME: &str = "proc/sys/kernel/hostname";
    let host = LiveHost::new();
    let (facts, hostname) = if args.needs_local() {
        let mut options = CollectOptions::default();
        options.capture.duration = Duration::ZERO;
        let local = Snapshot::collect(&host, &options);
        let hostname = local.inputs.get(HOSTNAME).map(|i| i.bytes.to_vec());
        (Facts::from_snapshot(&local).0, hostname)
    } else {
        let limits = diag_core::source::Limits::default();
        let hostname = host
            .read(HOSTNAME, &limits)
            .ok()
            .map(|raw| raw.bytes.to_vec());
        (Facts::default(), hostname)
    };
    let plan = args.plan(&facts)?;
    let plan_size =
        plan.tcp_count() + plan.nameservers.len() + plan.gateways.len() + plan.beyond.len();
    let results = probe::run(&plan, &args.options()?)?;
    let mut inputs = results.inputs();
    if let Some(host) = hostname {
        inputs.push((HOSTNAME.into(), host));
    }
    let mut snapshot = Snapshot::from_inputs(inputs);
    snapshot.source.path = "probe".into();
    for left in &plan.left_out {
        snapshot.skipped.push(diag_core::model::Skipped {
            collector: "probe".into(),
            reason: format!("not probed: {left}"),
        });
    }
    let mut diagnosis = diagnose::diagnose(&snapshot, rules);
    // The snapshot holds the probes' results alone, on purpose: the kinds
    // of input a host has (kernel log, routes, ...) are not missing here.
    diagnosis
        .skipped
        .retain(|s| s.reason != diag_core::source::NOT_PRESENT);
    diagnosis.source.inputs_absent.clear();
    let elapsed = started.elapsed();
    let mut lines = BTreeMap::new();
    for r in &results.tcp {
        let key = format!("tcp {}", sock(&r.address, r.port));
        lines.insert(key, format!("{} {}ms", r.result.as_str(), r.latency_ms));
    }
    for r in &results.dns {
        let rcode = if r.rcode.is_empty() {
            String::new()
        } else {
            format!(" {}", r.rcode)
        };
        let answers = if r.answers.is_empty() {
            String::new()
        } else {
            format!(" [{}]", r.answers.join(" "))
        };
        let tcp = if r.tcp {
            " (truncated over UDP, asked over TCP)"
        } else {
            ""
        };
        lines.insert(
            format!("dns {} {} {}", r.server, r.name, r.qtype),
            format!(
                "{}{rcode}{answers} {}ms{tcp}",
                r.result.as_str(),
                r.latency_ms
            ),
        );
    }
    for r in &results.path {
        let target = if r.port == 0 {
            format!("{} icmp", r.address)
        } else {
            format!("{} tcp", sock(&r.address, r.port))
        };
        let extra = if r.error.is_empty() || r.result.answered() {
            String::new()
        } else {
            format!(" ({})", r.error)
        };
        lines.insert(
            format!("{} {target}", r.role),
            format!("{} {}ms{extra}", r.result.as_str(), r.latency_ms),
        );
    }
    Ok(Round {
        diagnosis,
        results: lines,
        snapshot,
        plan_size,
        elapsed,
    })
}

fn sock(address: &str, port: u16) -> String {
    if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    }
}

fn status_word(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "WARNING",
        2 => "CRITICAL",
        _ => "UNKNOWN",
    }
}

/// The first line: status, summary, performance data.
fn status_line(round: &Round) -> (i32, String) {
    let d = &round.diagnosis;
    let code = if round.plan_size == 0 {
        3
    } else {
        d.exit_code()
    };
    let summary = if round.plan_size == 0 {
        "nothing to probe: no targets (give TARGET, --targets-file, --targets-from or --port), no nameserver, no gateway".to_string()
    } else if let Some(top) = d.causes.first() {
        visible_line(&format!("{}: {}", top.id, top.summary))
    } else if let Some(top) = d.findings.first() {
        visible_line(&format!("{}: {}", top.id, top.summary))
    } else {
        format!("{} probe(s), every one answered", round.results.len())
    };
    let [tcp, dns, path] = tallies(round);
    let perf = format!(
        "tcp={} tcp_answered={} dns={} dns_answered={} path={} path_answered={} time={:.3}s",
        tcp.total,
        tcp.answered,
        dns.total,
        dns.answered,
        path.total,
        path.answered,
        round.elapsed.as_secs_f64()
    );
    (
        code,
        format!("DIAG PROBE {} - {summary} | {perf}", status_word(code)),
    )
}

/// How many probes of each kind (tcp, dns, path: the gateways and
/// `--beyond`) ran and got an answer: the status line's performance data
/// and the `diag_probes` metrics.
fn tallies(round: &Round) -> [ProbeTally; 3] {
    let count = |words: &[&str], answered: bool| {
        round
            .results
            .iter()
            .filter(|(k, v)| {
                words.iter().any(|w| k.starts_with(w))
                    && (!answered
                        || !["timeout", "unreachable", "error", "failed", "skipped"]
                            .iter()
                            .any(|bad| v.starts_with(bad)))
            })
            .count()
    };
    let tally = |kind, words: &[&str]| ProbeTally {
        kind,
        total: count(words, false),
        answered: count(words, true),
    };
    [
        tally("tcp", &["tcp "]),
        tally("dns", &["dns "]),
        tally("path", &["gateway ", "beyond "]),
    ]
}

fn details(round: &Round) -> String {
    let l = visible_line;
    let mut out = String::new();
    let d = &round.diagnosis;
    for c in &d.causes {
        out.push_str(&format!(
            "{} {} (cause, {:.0}%): {}\n",
            c.severity.as_str().to_uppercase(),
            l(&c.id),
            c.confidence * 100.0,
            l(&c.summary)
        ));
    }
    for f in &d.findings {
        out.push_str(&format!(
            "{} {}: {}\n",
            f.severity.as_str().to_uppercase(),
            l(&f.id),
            l(&f.summary)
        ));
    }
    for (k, v) in &round.results {
        out.push_str(&format!("{} {}\n", l(k), l(v)));
    }
    for s in &d.skipped {
        out.push_str(&format!("skipped {}: {}\n", l(&s.collector), l(&s.reason)));
    }
    for n in &d.notes {
        out.push_str(&format!("note {}: {}\n", l(&n.input), l(&n.message)));
    }
    out
}

/// `diag probe`, printed or written as `emit` says; `emit.started` is
/// when the command started (before its rules loaded): the first round's
/// time counts from there.
pub(crate) fn run(args: &ProbeArgs, mut emit: Emit, rules: &RuleArgs) -> Result<u8> {
    let rules = &load_rules(rules)?;
    args.options()?;
    let Some(every) = args.every else {
        let round = round(args, rules, emit.started)?;
        emit.probes = tallies(&round).to_vec();
        return finish(args, &round, &emit);
    };
    if emit.format != Format::Text || emit.file.is_some() {
        bail!("--every prints changes as text; run --format json, prometheus or jsonl, or --output-file, from a timer instead");
    }
    let every: Duration = every.into();
    if every < Duration::from_secs(1) {
        bail!("--every must be at least 1s");
    }
    if args.output.is_some() {
        bail!("--output writes one run's results; it cannot be combined with --every");
    }
    let stop = stop_signal()?;
    let mut previous: Option<Round> = None;
    let mut code;
    let mut started = emit.started;
    loop {
        let round = round(args, rules, started)?;
        let (c, line) = status_line(&round);
        code = c;
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        match &previous {
            None => {
                write_stdout(&format!("{now} {line}\n{}", details(&round)))?;
            }
            Some(prev) => {
                let (prev_code, prev_line) = status_line(prev);
                let mut out = String::new();
                if prev_code != code || strip_perf(&prev_line) != strip_perf(&line) {
                    out.push_str(&format!("{now} {line}\n"));
                }
                for (k, v) in &round.results {
                    let was = prev.results.get(k);
                    let word = |s: &str| s.split(' ').next().unwrap_or_default().to_string();
                    let (k, line) = (visible_line(k), visible_line(v));
                    match was {
                        Some(w) if word(w) == word(v) => {}
                        Some(w) => out.push_str(&format!(
                            "{now} changed {k}: {} -> {line}\n",
                            visible_line(&word(w))
                        )),
                        None => out.push_str(&format!("{now} new {k}: {line}\n")),
                    }
                }
                for k in prev
                    .results
                    .keys()
                    .filter(|k| !round.results.contains_key(*k))
                {
                    out.push_str(&format!("{now} gone {}\n", visible_line(k)));
                }
                write_stdout(&out)?;
            }
        }
        previous = Some(round);
        if stop.recv_timeout(every).is_ok() {
            break;
        }
        started = Instant::now();
    }
    Ok(u8::try_from(code).unwrap_or(3))
}

fn strip_perf(line: &str) -> &str {
    line.split(" | ").next().unwrap_or(line)
}

fn finish(args: &ProbeArgs, round: &Round, emit: &Emit) -> Result<u8> {
    let (code, line) = status_line(round);
    if let Some(dir) = &args.output {
        round
            .snapshot
            .write_bundle(dir)
            .with_context(|| format!("cannot write {}", dir.display()))?;
    }
    emit.output(&round.diagnosis, || format!("{line}\n{}", details(round)))?;
    Ok(u8::try_from(code).unwrap_or(3))
}

/// A channel that receives once SIGINT or SIGTERM arrives. The signals are
/// blocked in every thread (threads started later inherit the mask) and
/// taken by one waiting thread: no handler, no unsafe code.
fn stop_signal() -> Result<std::sync::mpsc::Receiver<()>> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block().context("cannot block SIGINT/SIGTERM")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if set.wait().is_ok() {
            let _ = tx.send(());
        }
    });
    Ok(rx)
}
