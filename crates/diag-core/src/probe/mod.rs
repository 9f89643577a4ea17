//! Active probes: the only part of diag that sends traffic, and only when
//! asked (`diag probe`, `diag check --probe`, `diag collect --probe`).
//!
//! ```text
//!  Facts (this host, or the host under test from its bundle)
//!    │  Plan::from_facts + targets from the command line / a file
//!    ▼
//!  Plan ──run──▶ Results ──inputs()──▶ probe/tcp.json, probe/dns.json,
//!                                      probe/path.json  (JSON Lines)
//!                                            │ facts::probe (pure)
//!                                            ▼
//!                                      facts.probe ──rules/probe.toml──▶ findings
//! ```
//!
//! - `tcp`: TCP connect per address and port: open / refused / timeout /
//!   unreachable, with the latency, retries and bounded concurrency.
//! - `icmp`: ICMP echo where permitted, skipped with the reason otherwise.
//! - `dns`: a query per name through every nameserver of resolv.conf.
//! - The path: every default gateway (its neighbour state from the facts,
//!   then an ICMP echo and a TCP connect: any answer, a reset included,
//!   proves the gateway is there), then the configured targets "beyond the
//!   gateway".
//!
//! Everything is bounded (see [`Limits`] and docs/probes.md): the number of
//! TCP targets, threads, attempts per second, nameservers, names, gateways
//! and beyond targets, and each attempt's time.

pub(crate) mod dns;
pub(crate) mod icmp;
pub(crate) mod tcp;

use crate::facts::probe::{
    to_json_lines, DnsRecord, PathRecord, TcpRecord, DNS_INPUT, PATH_INPUT, TCP_INPUT,
};
use crate::facts::targets::ProbeTargets;
use crate::facts::Facts;
use hickory_proto::rr::RecordType;
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Hard limits, whatever the options say.
#[derive(Debug, Clone, Copy)]
pub struct Limits;

impl Limits {
    /// Most TCP address:port targets in one run.
    pub const MAX_TCP_TARGETS: usize = 65_536;
    /// Most connections in flight at once.
    pub const MAX_CONCURRENCY: usize = 1024;
    /// Most connection attempts per second.
    pub const MAX_RATE: u32 = 10_000;
    /// Most retries after a failed attempt.
    pub const MAX_RETRIES: u32 = 5;
    /// Longest wait for one attempt.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);
    /// Nameservers queried (resolv.conf's own limit, MAXNS, is 3).
    pub const MAX_NAMESERVERS: usize = 3;
    /// Names asked of each nameserver.
    pub const MAX_NAMES: usize = 4;
    /// Gateways probed.
    pub const MAX_GATEWAYS: usize = 4;
    /// Targets beyond the gateway.
    pub const MAX_BEYOND: usize = 16;
}

/// Errors of planning probes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// A line of a target list that is not `ADDRESS`, `ADDRESS:PORT` or
    /// `[IPv6]:PORT`.
    #[error("{input}:{line}: {message}")]
    TargetList {
        /// The list (a file path, or `--target`).
        input: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// More targets than [`Limits::MAX_TCP_TARGETS`] or `--max-targets`.
    #[error("{count} address:port targets, more than the limit of {limit}: narrow the list or raise --max-targets")]
    TooManyTargets {
        /// Targets planned.
        count: usize,
        /// The limit in effect.
        limit: usize,
    },
    /// An option outside its bounds.
    #[error("{0}")]
    Option(String),
}

/// How probes run. Every field is checked against [`Limits`] by
/// [`ProbeOptions::validate`].
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Wait for one attempt (TCP connect, echo, DNS query).
    pub timeout: Duration,
    /// Attempts after a timed-out or unreachable one.
    pub retries: u32,
    /// Connections in flight at once.
    pub concurrency: usize,
    /// Connection attempts per second, over all workers.
    pub rate: u32,
    /// Most TCP address:port targets.
    pub max_targets: usize,
    /// Names to ask every nameserver (the host's own name is added by the
    /// planner when known).
    pub dns_names: Vec<String>,
    /// TCP port tried on each gateway besides the ICMP echo.
    pub gateway_port: u16,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            timeout: Duration::from_secs(2),
            retries: 1,
            concurrency: 64,
            rate: 1000,
            max_targets: 10_000,
            dns_names: Vec::new(),
            gateway_port: 22,
        }
    }
}

impl ProbeOptions {
    /// Checks every option against [`Limits`].
    pub fn validate(&self) -> Result<(), ProbeError> {
        let bad = |m: String| Err(ProbeError::Option(m));
        if self.timeout.is_zero() || self.timeout > Limits::MAX_TIMEOUT {
            return bad(format!(
                "--timeout must be above 0 and at most {}s",
                Limits::MAX_TIMEOUT.as_secs()
            ));
        }
        if self.retries > Limits::MAX_RETRIES {
            return bad(format!("--retries must be at most {}", Limits::MAX_RETRIES));
        }
        if self.concurrency == 0 || self.concurrency > Limits::MAX_CONCURRENCY {
            return bad(format!(
                "--concurrency must be between 1 and {}",
                Limits::MAX_CONCURRENCY
            ));
        }
        if self.rate == 0 || self.rate > Limits::MAX_RATE {
            return bad(format!("--rate must be between 1 and {}", Limits::MAX_RATE));
        }
        if self.max_targets == 0 || self.max_targets > Limits::MAX_TCP_TARGETS {
            return bad(format!(
                "--max-targets must be between 1 and {}",
                Limits::MAX_TCP_TARGETS
            ));
        }
        if self.dns_names.len() > Limits::MAX_NAMES {
            return bad(format!("at most {} --dns-name", Limits::MAX_NAMES));
        }
        Ok(())
    }

    /// The longest a run can take with these options and `tcp_targets`
    /// targets (the bound docs/probes.md states).
    pub fn time_bound(&self, tcp_targets: usize) -> Duration {
        let attempts = u32::try_from(tcp_targets)
            .unwrap_or(u32::MAX)
            .saturating_mul(self.retries + 1);
        let waves = attempts.div_ceil(u32::try_from(self.concurrency).unwrap_or(1).max(1));
        let paced = Duration::from_secs_f64(f64::from(attempts) / f64::from(self.rate.max(1)));
        let tcp = (self.timeout * waves).max(paced + self.timeout);
        let per = self.timeout * (self.retries + 1);
        // One more timeout per query for a TCP retry after a truncated
        // answer.
        let dns = (per + self.timeout) * (Limits::MAX_NAMESERVERS * (Limits::MAX_NAMES + 1)) as u32;
        let path = per * (2 * Limits::MAX_GATEWAYS + Limits::MAX_BEYOND) as u32;
        tcp + dns + path
    }
}

/// Spaces connection attempts at most `rate` per second, over all threads.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    /// A pacer for `rate` attempts per second.
    pub fn new(rate: u32) -> Self {
        Pacer {
            interval: Duration::from_secs(1) / rate.max(1),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for the next free slot.
    pub fn wait(&self) {
        let slot = {
            let Ok(mut next) = self.next.lock() else {
                return;
            };
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }
}

/// One address to connect to, on some ports.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The address.
    pub address: IpAddr,
    /// Ports to try.
    pub ports: Vec<u16>,
    /// Expected to serve (configured with a listener, listening, or named
    /// by the operator).
    pub expected: bool,
    /// Whether the host under test carries it, when known.
    pub bound: Option<bool>,
    /// Where it came from.
    pub origin: String,
}

/// A path target: a gateway or an address beyond it.
#[derive(Debug, Clone, PartialEq)]
pub struct PathTarget {
    /// The address.
    pub address: IpAddr,
    /// A TCP port; `None` probes with ICMP echo.
    pub port: Option<u16>,
    /// The gateway's neighbour state, for gateways.
    pub neigh_state: String,
    /// Where it came from.
    pub origin: String,
}

/// Everything one run probes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// TCP targets.
    pub targets: Vec<Target>,
    /// Nameservers, with where each came from.
    pub nameservers: Vec<(IpAddr, String)>,
    /// Names to ask.
    pub dns_names: Vec<String>,
    /// Default gateways.
    pub gateways: Vec<PathTarget>,
    /// Targets beyond the gateway.
    pub beyond: Vec<PathTarget>,
    /// Addresses left out, and why (no port known, loopback...).
    pub left_out: Vec<String>,
}

impl Plan {
    /// TCP targets of a host (from its facts, its bundle or its `diag
    /// check --format json`): every address the configuration expects,
    /// then every global address bound to an interface. Ports: `ports`
    /// when given, else the TCP listeners that cover the address. An
    /// address with no port to try is left out (listed in `left_out`).
    pub fn add_host_targets(&mut self, host: &ProbeTargets, ports: &[u16], from: &str) {
        let mut seen: BTreeSet<IpAddr> = self.targets.iter().map(|t| t.address).collect();
        let mut add = |plan: &mut Plan, ip: IpAddr, expected: bool, bound: bool, origin: String| {
            if ip.is_loopback() || ip.is_unspecified() || !seen.insert(ip) {
                return;
            }
            let ports = if ports.is_empty() {
                host.ports_of(ip)
            } else {
                ports.to_vec()
            };
            if ports.is_empty() {
                plan.left_out.push(format!(
                    "{ip} ({origin}): no listening TCP port covers it; give --port"
                ));
                return;
            }
            plan.targets.push(Target {
                address: ip,
                ports,
                expected,
                bound: Some(bound),
                origin,
            });
        };
        for e in &host.expected {
            let expected = e.served || e.named || !ports.is_empty();
            let origin = format!("{from}{}:{}", e.input, e.line);
            add(self, e.address, expected, e.bound, origin);
        }
        for a in &host.bound {
            let expected = !ports.is_empty() || !host.ports_of(a.address).is_empty();
            let origin = format!("{from}{}:{}", a.input, a.line);
            add(self, a.address, expected, true, origin);
        }
    }

    /// Nameservers and default gateways of *this* host from its facts.
    pub fn add_local_path(&mut self, facts: &Facts, gateway_port: u16) {
        for ns in facts.net.nameservers.iter().take(Limits::MAX_NAMESERVERS) {
            if !self.nameservers.iter().any(|(a, _)| *a == ns.address) {
                self.nameservers
                    .push((ns.address, format!("{}:{}", ns.input, ns.line)));
            }
        }
        for r in &facts.net.default_routes {
            let Ok(gw) = r.gateway.parse::<IpAddr>() else {
                continue;
            };
            if r.kind != "unicast" || self.gateways.iter().any(|g| g.address == gw) {
                continue;
            }
            if self.gateways.len() / 2 >= Limits::MAX_GATEWAYS {
                break;
            }
            let origin = format!("{}:{}", r.input, r.line);
            for port in [None, Some(gateway_port)] {
                self.gateways.push(PathTarget {
                    address: gw,
                    port,
                    neigh_state: r.gateway_neigh_state.clone(),
                    origin: origin.clone(),
                });
            }
        }
        if !facts.host.hostname.is_empty() && self.dns_names.len() < Limits::MAX_NAMES + 1 {
            self.dns_names.push(facts.host.hostname.clone());
        }
    }

    /// TCP address:port pairs in the plan.
    pub fn tcp_count(&self) -> usize {
        self.targets.iter().map(|t| t.ports.len()).sum()
    }

    /// Checks the plan against the options' limits.
    pub fn check(&self, options: &ProbeOptions) -> Result<(), ProbeError> {
        let count = self.tcp_count();
        let limit = options.max_targets.min(Limits::MAX_TCP_TARGETS);
        if count > limit {
            return Err(ProbeError::TooManyTargets { count, limit });
        }
        if self.beyond.len() > Limits::MAX_BEYOND {
            return Err(ProbeError::Option(format!(
                "at most {} --beyond targets",
                Limits::MAX_BEYOND
            )));
        }
        Ok(())
    }
}

/// Parses a target list: one `ADDRESS`, `ADDRESS:PORT` or `[IPv6]:PORT` per
/// line (or per comma-separated item), `#` comments, blank lines ignored.
/// Each target comes with its 1-based line, for evidence (`FILE:LINE`).
pub fn parse_target_list(
    input: &str,
    text: &str,
) -> Result<Vec<(IpAddr, Option<u16>, usize)>, ProbeError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        for item in line.split([',', ' ', '\t']).filter(|s| !s.is_empty()) {
            let (ip, port) = parse_target(item).map_err(|message| ProbeError::TargetList {
                input: input.to_string(),
                line: i + 1,
                message,
            })?;
            out.push((ip, port, i + 1));
        }
    }
    Ok(out)
}

/// Parses one `ADDRESS`, `ADDRESS:PORT` or `[IPv6]:PORT`.
pub fn parse_target(item: &str) -> Result<(IpAddr, Option<u16>), String> {
    if let Ok(ip) = item.parse::<IpAddr>() {
        return Ok((ip, None));
    }
    match item.parse::<SocketAddr>() {
        Ok(sa) if sa.port() != 0 => Ok((sa.ip(), Some(sa.port()))),
        Ok(_) => Err(format!("{item}: port 0 cannot be probed")),
        Err(_) => Err(format!(
            "{item}: expected ADDRESS, ADDRESS:PORT or [IPv6]:PORT (names are not resolved: give addresses)"
        )),
    }
}

/// Every result of one run, in the file format of `probe/*.json`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    /// TCP results.
    pub tcp: Vec<TcpRecord>,
    /// DNS results.
    pub dns: Vec<DnsRecord>,
    /// Path results.
    pub path: Vec<PathRecord>,
}

impl Results {
    /// The results as bundle inputs (canonical name, JSON Lines bytes);
    /// only kinds that ran.
    pub fn inputs(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        if !self.tcp.is_empty() {
            out.push((TCP_INPUT.to_string(), to_json_lines(&self.tcp)));
        }
        if !self.dns.is_empty() {
            out.push((DNS_INPUT.to_string(), to_json_lines(&self.dns)));
        }
        if !self.path.is_empty() {
            out.push((PATH_INPUT.to_string(), to_json_lines(&self.path)));
        }
        out
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

fn path_probe(role: &str, t: &PathTarget, options: &ProbeOptions, pacer: &Pacer) -> PathRecord {
    let (method, port, outcome, latency, error) = match t.port {
        None => {
            let e = icmp::echo(t.address, options.timeout, options.retries);
            ("icmp", 0, e.outcome, e.latency, e.error)
        }
        Some(port) => {
            let c = tcp::probe(SocketAddr::new(t.address, port), options, pacer);
            ("tcp", port, c.outcome, c.latency, c.error)
        }
    };
    PathRecord {
        role: role.to_string(),
        address: t.address.to_string(),
        method: method.to_string(),
        port,
        result: outcome,
        latency_ms: ms(latency),
        neigh_state: t.neigh_state.clone(),
        origin: t.origin.clone(),
        error,
    }
}

/// Runs every probe of `plan`. Checks the plan and the options first;
/// never sends anything when they are out of bounds.
pub fn run(plan: &Plan, options: &ProbeOptions) -> Result<Results, ProbeError> {
    options.validate()?;
    plan.check(options)?;
    let pacer = Pacer::new(options.rate);
    let mut pairs = Vec::with_capacity(plan.tcp_count());
    for t in &plan.targets {
        for port in &t.ports {
            pairs.push((t, SocketAddr::new(t.address, *port)));
        }
    }
    let addrs: Vec<SocketAddr> = pairs.iter().map(|(_, a)| *a).collect();
    let connects = tcp::probe_all(&addrs, options, &pacer);
    let tcp = pairs
        .iter()
        .zip(connects)
        .map(|((t, addr), c)| TcpRecord {
            address: addr.ip().to_string(),
            port: addr.port(),
            result: c.outcome,
            latency_ms: ms(c.latency),
            attempts: c.attempts,
            expected: t.expected,
            bound: t.bound,
            origin: t.origin.clone(),
            error: c.error,
        })
        .collect();

    let mut names: Vec<&str> = plan.dns_names.iter().map(String::as_str).collect();
    names.dedup();
    names.truncate(Limits::MAX_NAMES + 1);
    let mut dns_records = Vec::new();
    for (server, origin) in plan.nameservers.iter().take(Limits::MAX_NAMESERVERS) {
        for name in &names {
            let a = dns::query(
                *server,
                name,
                RecordType::A,
                options.timeout,
                options.retries,
            );
            dns_records.push(DnsRecord {
                server: server.to_string(),
                name: name.to_string(),
                qtype: "A".into(),
                result: a.outcome,
                rcode: a.rcode,
                answers: a.answers,
                latency_ms: ms(a.latency),
                origin: origin.clone(),
                error: a.error,
                tcp: a.tcp,
            });
        }
    }

    let mut path = Vec::new();
    for g in plan.gateways.iter().take(2 * Limits::MAX_GATEWAYS) {
        path.push(path_probe("gateway", g, options, &pacer));
    }
    for b in plan.beyond.iter().take(Limits::MAX_BEYOND) {
        path.push(path_probe("beyond", b, options, &pacer));
    }
    Ok(Results {
        tcp,
        dns: dns_records,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_lists() {
        let list = parse_target_list(
            "targets.txt",
            "# web\n192.0.2.10\n192.0.2.11:443, [2001:db8::1]:80\n\n",
        )
        .expect("valid");
        assert_eq!(list.len(), 3);
        assert_eq!(list[1].1, Some(443));
        assert_eq!(list[2].2, 3, "the line of the second item on line 3");
        let err = parse_target_list("targets.txt", "192.0.2.10\nwww.example.com:80\n")
            .expect_err("a name");
        assert!(
            err.to_string()
                .starts_with("targets.txt:2: www.example.com:80"),
            "{err}"
        );
        assert!(parse_target("192.0.2.1:0").is_err());
    }

    #[test]
    fn options_are_bounded() {
        assert!(ProbeOptions::default().validate().is_ok());
        for bad in [
            ProbeOptions {
                concurrency: 5000,
                ..ProbeOptions::default()
            },
            ProbeOptions {
                retries: 9,
                ..ProbeOptions::default()
            },
            ProbeOptions {
                timeout: Duration::ZERO,
                ..ProbeOptions::default()
            },
            ProbeOptions {
                rate: 0,
                ..ProbeOptions::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let plan = Plan {
            targets: vec![Target {
                address: "192.0.2.1".parse().expect("ip"),
                ports: (1..=20).collect(),
                expected: false,
                bound: None,
                origin: String::new(),
            }],
            ..Plan::default()
        };
        let options = ProbeOptions {
            max_targets: 10,
            ..ProbeOptions::default()
        };
        assert!(matches!(
            run(&plan, &options),
            Err(ProbeError::TooManyTargets {
                count: 20,
                limit: 10
            })
        ));
    }

    #[test]
    fn the_pacer_spaces_attempts() {
        let pacer = Pacer::new(100);
        let started = Instant::now();
        for _ in 0..11 {
            pacer.wait();
        }
        assert!(started.elapsed() >= Duration::from_millis(95));
    }
}
