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

use anyhow::{bail, Context, Result};
use clap::Args;
use diag_core::diagnosis::{ProbeTargets, SCHEMA};
use diag_core::parse::Facts;
use diag_core::probe::{self, PathTarget, Plan, ProbeOptions, Target};
use diag_core::rules::RuleSet;
use diag_core::sanitize::{self, visible_line};
use diag_core::snapshot::{CollectOptions, Snapshot};
use diag_core::source::{Bundle, LiveHost, Source};
use diag_core::{diagnose, Diagnosis};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Options of `diag probe`: what to probe, the shared [`ProbeSettings`],
/// and how often.
#[derive(Debug, Args, Clone, Default)]
pub struct ProbeArgs {
    /// Addresses to connect to: `ADDRESS`, `ADDRESS:PORT` or `[IPv6]:PORT`.
    /// Named targets (these, --targets-file, --targets-from) are all that
    /// is probed, besides --dns, --path and --beyond. Without any, this
    /// host's own set: its addresses (configured and bound, on their
    /// listening ports), nameservers and gateways.
    #[arg(value_name = "TARGET")]
    targets: Vec<String>,
    /// Read targets from FILE: one per line (or comma-separated), `#`
    /// comments.
    #[arg(long, value_name = "FILE")]
    targets_file: Option<PathBuf>,
    /// Probe the host under test as described by its bundle (directory or
    /// .tar.zst) or by the output of `diag check --format json` run there:
    /// its expected and bound addresses, on its listening ports (or
    /// --port).
    #[arg(long, value_name = "BUNDLE_OR_JSON")]
    targets_from: Option<PathBuf>,
    /// Also query the nameservers of /etc/resolv.conf: with targets, only
    /// with --dns (or --dns-name); without, always (unless --no-dns).
    #[arg(long, conflicts_with = "no_dns")]
    dns: bool,
    /// Also probe the default gateways: with targets, only with --path;
    /// without, always (unless --no-path).
    #[arg(long, conflicts_with = "no_path")]
    path: bool,
    #[command(flatten)]
    settings: ProbeSettings,
    /// Repeat every DURATION (`15m`, `30s`) until SIGINT/SIGTERM, printing
    /// only changes.
    #[arg(long, value_name = "DURATION")]
    every: Option<humantime::Duration>,
    /// Also write the results as a bundle in DIR (`diag analyze DIR`).
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
}

/// How probes run: shared by `diag probe`, `check --probe` and `collect
/// --probe`.
#[derive(Debug, Args, Clone, PartialEq)]
pub struct ProbeSettings {
    /// Port to try on every target without one. Repeatable.
    #[arg(long = "port", value_name = "PORT")]
    ports: Vec<u16>,
    /// A target beyond the gateway: ADDRESS (ICMP echo) or ADDRESS:PORT
    /// (TCP connect). Repeatable, at most 16.
    #[arg(long = "beyond", value_name = "TARGET")]
    beyond: Vec<String>,
    /// A name to resolve through every nameserver of /etc/resolv.conf
    /// (besides this host's own name). Repeatable, at most 4.
    #[arg(long = "dns-name", value_name = "NAME")]
    dns_names: Vec<String>,
    /// Do not query the nameservers.
    #[arg(long)]
    no_dns: bool,
    /// Do not probe the gateways (nor --beyond targets).
    #[arg(long)]
    no_path: bool,
    /// Seconds to wait for one attempt.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    timeout: f64,
    /// More attempts after a timed-out or unreachable one (at most 5).
    #[arg(long, default_value_t = 1)]
    retries: u32,
    /// Connections in flight at once (at most 1024).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Connection attempts per second, over all connections (at most 10000).
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// Refuse to run with more address:port targets than this (at most 65536).
    #[arg(long, default_value_t = 10_000)]
    max_targets: usize,
    /// TCP port tried on the gateway besides an ICMP echo (a reset counts
    /// as an answer).
    #[arg(long, default_value_t = 22)]
    gateway_port: u16,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            ports: Vec::new(),
            beyond: Vec::new(),
            dns_names: Vec::new(),
            no_dns: false,
            no_path: false,
            timeout: 2.0,
            retries: 1,
            concurrency: 64,
            rate: 1000,
            max_targets: 10_000,
            gateway_port: 22,
        }
    }
}

/// `--probe` and the [`ProbeSettings`] of `check` and `collect`.
#[derive(Debug, Args, Clone, Default)]
pub struct ProbeFlags {
    /// Also run the active probes (TCP to this host's addresses, DNS,
    /// gateway) and keep their results as probe/*.json: they send
    /// traffic, so they are off by default.
    #[arg(long)]
    probe: bool,
    #[command(flatten)]
    settings: ProbeSettings,
}

impl ProbeFlags {
    /// Refuses probe settings without `--probe` and settings out of range,
    /// before anything is collected.
    pub fn validate(&self) -> Result<()> {
        if !self.probe && self.settings != ProbeSettings::default() {
            bail!("probe settings (--port, --beyond, --timeout, ...) need --probe");
        }
        if self.probe {
            ProbeArgs {
                settings: self.settings.clone(),
                ..ProbeArgs::default()
            }
            .options()?;
        }
        Ok(())
    }

    /// With `--probe`: runs the probes of this host (its own addresses,
    /// resolvers and gateways) and adds `probe/*.json` to `snapshot`.
    /// Probe settings without `--probe` are an error, not ignored.
    pub fn add_to(&self, snapshot: &mut Snapshot) -> Result<()> {
        self.validate()?;
        if !self.probe {
            return Ok(());
        }
        let (facts, _) = Facts::from_snapshot(snapshot);
        let args = ProbeArgs {
            settings: self.settings.clone(),
            ..ProbeArgs::default()
        };
        let plan = args.plan(&facts)?;
        let results = probe::run(&plan, &args.options()?)?;
        for (name, bytes) in results.inputs() {
            snapshot.inputs.insert(
                name,
                diag_core::snapshot::Input {
                    bytes: bytes.into(),
                    truncated: false,
                },
            );
        }
        Ok(())
    }
}

impl ProbeArgs {
    fn options(&self) -> Result<ProbeOptions> {
        if !(self.settings.timeout.is_finite()
            && self.settings.timeout > 0.0
            && self.settings.timeout <= 30.0)
        {
            bail!("--timeout must be above 0 and at most 30 seconds");
        }
        let options = ProbeOptions {
            timeout: Duration::from_secs_f64(self.settings.timeout),
            retries: self.settings.retries,
            concurrency: self.settings.concurrency,
            rate: self.settings.rate,
            max_targets: self.settings.max_targets,
            dns_names: self.settings.dns_names.clone(),
            gateway_port: self.settings.gateway_port,
        };
        options.validate()?;
        Ok(options)
    }

    /// Whether the operator named the targets (arguments, `--targets-file`,
    /// `--targets-from`): then only they are probed, unless `--dns` or
    /// `--path` asks for more.
    fn named_targets(&self) -> bool {
        !self.targets.is_empty() || self.targets_file.is_some() || self.targets_from.is_some()
    }

    /// Whether the nameservers are queried: always without named targets,
    /// with them only on `--dns` (or `--dns-name`); never with `--no-dns`.
    fn runs_dns(&self) -> bool {
        !self.settings.no_dns
            && (!self.named_targets() || self.dns || !self.settings.dns_names.is_empty())
    }

    /// Whether the default gateways are probed: always without named
    /// targets, with them only on `--path`; never with `--no-path`.
    fn runs_gateways(&self) -> bool {
        !self.settings.no_path && (!self.named_targets() || self.path)
    }

    /// Whether the plan needs this host's own state (its addresses,
    /// resolvers or routes).
    fn needs_local(&self) -> bool {
        !self.named_targets() || self.runs_dns() || self.runs_gateways()
    }

    /// The plan: targets, nameservers and gateways. `local` are this
    /// host's facts (its resolvers and routes; its addresses when no other
    /// targets are given); unused, and may be empty, when
    /// [`Self::needs_local`] says so.
    fn plan(&self, local: &Facts) -> Result<Plan> {
        if self.named_targets()
            && !self.runs_gateways()
            && self.settings.gateway_port != ProbeSettings::default().gateway_port
        {
            bail!("--gateway-port needs --path when targets are given");
        }
        let mut plan = Plan {
            dns_names: self.settings.dns_names.clone(),
            ..Plan::default()
        };
        let mut listed = Vec::new();
        for (i, t) in self.targets.iter().enumerate() {
            let (ip, port) =
                probe::parse_target(t).map_err(|m| anyhow::anyhow!("target {}: {m}", i + 1))?;
            listed.push((ip, port, "command line".to_string()));
        }
        if let Some(file) = &self.targets_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let name = file.display().to_string();
            for (ip, port, line) in probe::parse_target_list(&name, &text)? {
                listed.push((ip, port, format!("{name}:{line}")));
            }
        }
        for (ip, port, origin) in listed {
            let ports = match port {
                Some(p) => vec![p],
                None if !self.settings.ports.is_empty() => self.settings.ports.clone(),
                None => bail!("{ip} ({origin}): no port; give ADDRESS:PORT or --port"),
            };
            match plan.targets.iter_mut().find(|t| t.address == ip) {
                Some(t) => {
                    t.ports.extend(ports);
                    t.ports.sort_unstable();
                    t.ports.dedup();
                }
                None => plan.targets.push(Target {
                    address: ip,
                    ports,
                    expected: true,
                    bound: None,
                    origin,
                }),
            }
        }
        if let Some(path) = &self.targets_from {
            let host = host_targets(path)?;
            plan.add_host_targets(&host, &self.settings.ports, &format!("{}:", path.display()));
        }
        if !self.named_targets() {
            if let Some(host) = ProbeTargets::from_facts(local) {
                plan.add_host_targets(&host, &self.settings.ports, "");
            }
        }
        let (dns, gateways) = (self.runs_dns(), self.runs_gateways());
        if dns || gateways {
            plan.add_local_path(local, self.settings.gateway_port);
        }
        if !dns {
            plan.nameservers.clear();
            plan.dns_names.clear();
        }
        if !gateways {
            plan.gateways.clear();
        }
        if !self.settings.no_path {
            for b in &self.settings.beyond {
                let (address, port) =
                    probe::parse_target(b).map_err(|m| anyhow::anyhow!("--beyond {m}"))?;
                plan.beyond.push(PathTarget {
                    address,
                    port,
                    neigh_state: String::new(),
                    origin: "command line".into(),
                });
            }
        }
        Ok(plan)
    }
}

/// The targets of the host under test, from its bundle (a directory or a
/// `.tar.zst`) or from what `diag check --format json` (or `analyze`,
/// `report --format json`) printed there: a file whose first non-blank
/// byte is `{` is read as that JSON.
fn host_targets(path: &Path) -> Result<ProbeTargets> {
    if path.is_file() && looks_like_json(path)? {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        if doc["schema"].as_str() != Some(SCHEMA) {
            bail!(
                "{}: not diag/1 JSON (no \"schema\": \"{SCHEMA}\"); give a bundle or the output of `diag check --format json`",
                path.display()
            );
        }
        let Some(targets) = doc.get("targets").filter(|t| !t.is_null()) else {
            bail!(
                "{}: the diagnosis lists no addresses (no `targets`: written by an older diag, or the host had none)",
                path.display()
            );
        };
        return serde_json::from_value(targets.clone())
            .with_context(|| format!("{}: `targets` is not in the diag/1 shape", path.display()));
    }
    let bundle = Bundle::open(path)?;
    let snapshot = Snapshot::collect(&bundle, &CollectOptions::default());
    let (facts, _) = Facts::from_snapshot(&snapshot);
    match ProbeTargets::from_facts(&facts) {
        Some(t) if !(t.expected.is_empty() && t.bound.is_empty()) => Ok(t),
        _ => bail!(
            "{}: the bundle holds neither configured nor bound addresses (no net/addr.json, etc/ips, ifcfg, ...)",
            path.display()
        ),
    }
}

fn looks_like_json(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut head = Vec::with_capacity(256);
    std::fs::File::open(path)
        .and_then(|f| f.take(256).read_to_end(&mut head))
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{'))
}

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
        .retain(|s| s.reason != diag_core::snapshot::NOT_PRESENT);
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
    let count = |word: &str| {
        round
            .results
            .iter()
            .filter(|(k, v)| {
                k.starts_with(word)
                    && !v.starts_with("timeout")
                    && !v.starts_with("unreachable")
                    && !v.starts_with("error")
                    && !v.starts_with("failed")
                    && !v.starts_with("skipped")
            })
            .count()
    };
    let total = |word: &str| round.results.keys().filter(|k| k.starts_with(word)).count();
    let perf = format!(
        "tcp={} tcp_answered={} dns={} dns_answered={} path={} path_answered={} time={:.3}s",
        total("tcp "),
        count("tcp "),
        total("dns "),
        count("dns "),
        total("gateway ") + total("beyond "),
        count("gateway ") + count("beyond "),
        round.elapsed.as_secs_f64()
    );
    (
        code,
        format!("DIAG PROBE {} - {summary} | {perf}", status_word(code)),
    )
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

/// `diag probe`; `started` is when the command started (before its rules
/// loaded): the first round's time counts from there.
pub fn run(args: &ProbeArgs, rules: &RuleSet, json: bool, started: Instant) -> Result<u8> {
    args.options()?;
    let Some(every) = args.every else {
        let round = round(args, rules, started)?;
        return finish(args, &round, json);
    };
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
    let mut started = started;
    loop {
        let round = round(args, rules, started)?;
        let (c, line) = status_line(&round);
        code = c;
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        match &previous {
            None => {
                crate::cli::write_stdout(&format!("{now} {line}\n{}", details(&round)))?;
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
                crate::cli::write_stdout(&out)?;
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

fn finish(args: &ProbeArgs, round: &Round, json: bool) -> Result<u8> {
    let (code, line) = status_line(round);
    if let Some(dir) = &args.output {
        round
            .snapshot
            .write_bundle(dir)
            .with_context(|| format!("cannot write {}", dir.display()))?;
    }
    if json {
        let mut text = serde_json::to_string_pretty(&round.diagnosis)?;
        text.push('\n');
        crate::cli::write_stdout(&sanitize::json(&text))?;
    } else {
        crate::cli::write_stdout(&format!("{line}\n{}", details(round)))?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_from_the_command_line() {
        let args = ProbeArgs {
            targets: vec!["192.0.2.10".into(), "192.0.2.11:443".into()],
            settings: ProbeSettings {
                ports: vec![80, 8080],
                no_dns: true,
                no_path: true,
                ..ProbeSettings::default()
            },
            ..ProbeArgs::default()
        };
        let plan = args.plan(&Facts::default()).expect("plan");
        assert_eq!(plan.targets.len(), 2);
        assert_eq!(plan.targets[0].ports, [80, 8080]);
        assert_eq!(plan.targets[1].ports, [443]);
        let bare = ProbeArgs {
            targets: vec!["192.0.2.10".into()],
            ..ProbeArgs::default()
        };
        let err = bare.plan(&Facts::default()).expect_err("no port");
        assert!(
            err.to_string().contains("give ADDRESS:PORT or --port"),
            "{err}"
        );
    }

    /// A host with a resolver and a default gateway: named targets touch
    /// neither unless --dns / --path ask; without targets, both are
    /// probed.
    #[test]
    fn named_targets_are_all_that_is_probed() {
        let local = Snapshot::from_inputs([
            ("etc/resolv.conf", "nameserver 192.0.2.53\n"),
            (
                "proc/net/route",
                "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                 eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
            ),
        ]);
        let (facts, _) = Facts::from_snapshot(&local);
        let named = |dns: bool, path: bool| ProbeArgs {
            targets: vec!["192.0.2.10:80".into()],
            dns,
            path,
            ..ProbeArgs::default()
        };
        let plan = named(false, false).plan(&facts).expect("plan");
        assert_eq!(plan.tcp_count(), 1);
        assert!(plan.nameservers.is_empty() && plan.dns_names.is_empty());
        assert!(plan.gateways.is_empty() && plan.beyond.is_empty());
        assert!(!named(false, false).needs_local());

        let plan = named(true, false).plan(&facts).expect("plan");
        assert_eq!(plan.nameservers.len(), 1, "{plan:?}");
        assert!(plan.gateways.is_empty());
        let plan = named(false, true).plan(&facts).expect("plan");
        assert!(plan.nameservers.is_empty());
        assert_eq!(plan.gateways.len(), 2, "ICMP and TCP: {plan:?}");

        // --dns-name asks for DNS; --beyond names its own targets.
        let mut args = named(false, false);
        args.settings.dns_names = vec!["example.test".into()];
        args.settings.beyond = vec!["192.0.2.99:443".into()];
        let plan = args.plan(&facts).expect("plan");
        assert_eq!(plan.nameservers.len(), 1);
        assert!(plan.gateways.is_empty());
        assert_eq!(plan.beyond.len(), 1);

        // A gateway port without --path would be ignored: refused.
        let mut args = named(false, false);
        args.settings.gateway_port = 443;
        assert!(args.plan(&facts).is_err());

        let own = ProbeArgs::default().plan(&facts).expect("plan");
        assert_eq!(own.nameservers.len(), 1);
        assert_eq!(own.gateways.len(), 2);
        assert!(ProbeArgs::default().needs_local());
    }
}
