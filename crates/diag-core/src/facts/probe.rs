//! Results of active probes (`probe/*.json`), written by [`crate::probe`]
//! and read back here into [`ProbeFacts`].
//!
//! Each file holds one JSON object per line (JSON Lines), so every result
//! is evidence with a `file:line` and a truncated file keeps every complete
//! line. The record types below are the file format: the prober serialises
//! them, this parser deserialises them. A line that is not a record (junk,
//! a cut last line, an unknown outcome word) becomes a note; the other
//! lines are still used.
//!
//! | input             | record          | one line per                                 |
//! | ----------------- | --------------- | -------------------------------------------- |
//! | `probe/tcp.json`  | [`TcpRecord`]   | address and port (after retries)             |
//! | `probe/dns.json`  | [`DnsRecord`]   | nameserver and query                         |
//! | `probe/path.json` | [`PathRecord`]  | gateway or "beyond the gateway" target probe |

use crate::model::Note;
use crate::source::snapshot::Snapshot;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// TCP connect results.
pub const TCP_INPUT: &str = "probe/tcp.json";
/// DNS query results.
pub const DNS_INPUT: &str = "probe/dns.json";
/// Gateway and beyond-the-gateway results.
pub const PATH_INPUT: &str = "probe/path.json";
/// Every probe input, in the order they are parsed.
pub const PROBE_INPUTS: [&str; 3] = [TCP_INPUT, DNS_INPUT, PATH_INPUT];

/// Addresses listed in [`ProbeFacts::unanswered`]; the rest are counted.
const MAX_ADDRESSES_LISTED: usize = 10;

/// At most this many malformed-line notes per input.
const MAX_LINE_NOTES: usize = 20;

/// What one probe got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// TCP: the handshake completed.
    Open,
    /// TCP: a reset came back (the address is there, the port is closed).
    Refused,
    /// ICMP echo reply, or a DNS response with an answer or NXDOMAIN.
    Reply,
    /// The resolver responded with an error code (SERVFAIL, REFUSED, ...).
    Failed,
    /// Nothing came back within the timeout, after every retry.
    Timeout,
    /// The kernel or a router said the destination cannot be reached
    /// (no route, neighbour resolution failed, ICMP unreachable).
    Unreachable,
    /// Not run (no permission for ICMP, a family with no route); see
    /// `error`.
    Skipped,
    /// Another local error; see `error`.
    Error,
}

impl Outcome {
    /// Whether the other end (or a device for it) answered at all: an open
    /// port, a reset, an echo reply, a DNS response of any kind.
    pub fn answered(self) -> bool {
        matches!(
            self,
            Outcome::Open | Outcome::Refused | Outcome::Reply | Outcome::Failed
        )
    }

    /// The lower-case word of the file format.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Open => "open",
            Outcome::Refused => "refused",
            Outcome::Reply => "reply",
            Outcome::Failed => "failed",
            Outcome::Timeout => "timeout",
            Outcome::Unreachable => "unreachable",
            Outcome::Skipped => "skipped",
            Outcome::Error => "error",
        }
    }
}

/// One line of `probe/tcp.json`: a TCP connect to `address:port`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TcpRecord {
    /// The address probed.
    pub address: String,
    /// The port probed.
    pub port: u16,
    /// The result of the last attempt.
    pub result: Outcome,
    /// Time of the last attempt, in milliseconds.
    pub latency_ms: f64,
    /// Attempts made (1 + retries used).
    pub attempts: u32,
    /// The address is expected to serve: configured with a listener
    /// covering it, found listening, or named by the operator.
    #[serde(default)]
    pub expected: bool,
    /// Whether the host under test carries the address, when the target
    /// list knows (from a bundle or the live host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound: Option<bool>,
    /// Where the target came from (`etc/ips:3`, `command line`, ...).
    #[serde(default)]
    pub origin: String,
    /// The local error text, when there was one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// One line of `probe/dns.json`: one query through one nameserver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// The nameserver's address.
    pub server: String,
    /// The name asked for.
    pub name: String,
    /// The record type asked for (`A`, `AAAA`).
    pub qtype: String,
    /// `reply` (an answer or NXDOMAIN), `failed` (an error rcode),
    /// `timeout`, `unreachable`, `error`.
    pub result: Outcome,
    /// The response code (`NoError`, `NXDomain`, `ServFail`, ...), empty
    /// without a response.
    #[serde(default)]
    pub rcode: String,
    /// Answer records, as text.
    #[serde(default)]
    pub answers: Vec<String>,
    /// Time to the response (or to giving up), in milliseconds.
    pub latency_ms: f64,
    /// Where the nameserver came from (`etc/resolv.conf:2`).
    #[serde(default)]
    pub origin: String,
    /// The local error text, when there was one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// The UDP response was truncated (TC) and this result came over TCP.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tcp: bool,
}

/// One line of `probe/path.json`: the gateway, or a target beyond it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathRecord {
    /// `gateway` or `beyond`.
    pub role: String,
    /// The address probed.
    pub address: String,
    /// `icmp` (echo) or `tcp`.
    pub method: String,
    /// The TCP port, 0 for ICMP.
    #[serde(default)]
    pub port: u16,
    /// What came back.
    pub result: Outcome,
    /// Time to the answer (or to giving up), in milliseconds.
    pub latency_ms: f64,
    /// For the gateway: its neighbour-table state before the probe
    /// (`REACHABLE`, `STALE`, `FAILED`, ... or empty when not in the table).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub neigh_state: String,
    /// Where the target came from (`default route`, `command line`).
    #[serde(default)]
    pub origin: String,
    /// The local error text, or why the probe was skipped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// A parsed record with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Located<T> {
    /// The record's fields.
    #[serde(flatten)]
    pub record: T,
    /// Whether anything answered (see [`Outcome::answered`]).
    pub answered: bool,
    /// Canonical input name.
    pub input: String,
    /// 1-based line.
    pub line: u32,
    /// The line as written.
    pub excerpt: String,
}

/// One probed address, over all its ports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AddressProbe {
    /// The address.
    pub address: String,
    /// Some port answered (open or refused): the address is reachable.
    pub answered: bool,
    /// Some port accepted the connection.
    pub open: bool,
    /// Some port refused the connection (a reset: the address is there,
    /// nothing listens on that port).
    pub refused: bool,
    /// The ports that refused (`80, 443`).
    pub refused_ports: String,
    /// Expected to serve (any of its records says so).
    pub expected: bool,
    /// `yes`, `no` or `unknown`: whether the host carries it.
    pub bound: String,
    /// Each port with its result (`80 timeout, 443 timeout`).
    pub results: String,
    /// Where the target came from.
    pub origin: String,
    /// Canonical input name of its first record.
    pub input: String,
    /// Line of its first record.
    pub line: u32,
    /// That record.
    pub excerpt: String,
}

/// One nameserver, over all its queries.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResolverProbe {
    /// The nameserver's address.
    pub server: String,
    /// No query got a usable response (timeout, unreachable, SERVFAIL,
    /// REFUSED...).
    pub failing: bool,
    /// Every query timed out: nothing came back, not even an ICMP error
    /// (what a broken path looks like; a dead resolver on a live host
    /// answers with port unreachable).
    pub silent: bool,
    /// The nameserver is outside every connected subnet: it is reached
    /// through the gateway (known only when addresses were collected).
    pub beyond_gateway: bool,
    /// Each query with its result (`example.com A timeout`).
    pub results: String,
    /// Where the nameserver came from.
    pub origin: String,
    /// Canonical input name of its first record.
    pub input: String,
    /// Line of that record.
    pub line: u32,
    /// That record.
    pub excerpt: String,
}

/// What conditions see of the probe results (`facts.probe`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeFacts {
    /// Whether any probe input was present.
    pub collected: bool,
    /// The probe inputs present.
    pub inputs: Vec<String>,
    /// Every TCP result. Not exposed to rule conditions (they read
    /// `addresses`): 10,000 records would make every condition slow.
    #[serde(skip)]
    pub tcp: Vec<Located<TcpRecord>>,
    /// TCP records read.
    pub tcp_count: u64,
    /// Addresses that answered on no port.
    pub unanswered_count: u64,
    /// The first of them with their results, for messages (`192.0.2.12
    /// (8080 timeout; from etc/ips:3), ... and 7 more`).
    pub unanswered: String,
    /// How they failed: `2 timed out, 1 unreachable` (an address counts as
    /// timed out when any of its ports did).
    pub unanswered_kinds: String,
    /// Addresses expected to serve on which some port refused the
    /// connection.
    pub refused_count: u64,
    /// The first of them with the refusing ports (`192.0.2.11 (8080; from
    /// etc/ips:2), ... and 3 more`).
    pub refused: String,
    /// TCP results grouped by address.
    pub addresses: Vec<AddressProbe>,
    /// Every DNS result.
    pub dns: Vec<Located<DnsRecord>>,
    /// DNS results grouped by nameserver.
    pub resolvers: Vec<ResolverProbe>,
    /// Every gateway and beyond-the-gateway result.
    pub path: Vec<Located<PathRecord>>,
    /// The gateway was probed and answered (by any method).
    pub gateway_answered: bool,
    /// Some target beyond the gateway was probed.
    pub beyond_probed: bool,
    /// Some target beyond the gateway answered.
    pub beyond_answered: bool,
    /// Nameservers reached through the gateway (outside every connected
    /// subnet).
    pub resolvers_beyond: u64,
    /// Of those, the ones from which nothing came back at all.
    pub resolvers_beyond_silent: u64,
}

impl ProbeFacts {
    /// One default element in every list (the shape rules are checked
    /// against).
    pub fn schema_sample() -> ProbeFacts {
        ProbeFacts {
            inputs: vec![String::new()],
            tcp: vec![sample(TcpRecord {
                address: String::new(),
                port: 0,
                result: Outcome::Open,
                latency_ms: 0.0,
                attempts: 0,
                expected: false,
                bound: None,
                origin: String::new(),
                error: String::new(),
            })],
            addresses: vec![AddressProbe::default()],
            dns: vec![sample(DnsRecord {
                server: String::new(),
                name: String::new(),
                qtype: String::new(),
                result: Outcome::Reply,
                rcode: String::new(),
                answers: vec![String::new()],
                latency_ms: 0.0,
                origin: String::new(),
                error: String::new(),
                tcp: false,
            })],
            resolvers: vec![ResolverProbe::default()],
            path: vec![sample(PathRecord {
                role: String::new(),
                address: String::new(),
                method: String::new(),
                port: 0,
                result: Outcome::Reply,
                latency_ms: 0.0,
                neigh_state: String::new(),
                origin: String::new(),
                error: String::new(),
            })],
            ..ProbeFacts::default()
        }
    }
}

fn sample<T>(record: T) -> Located<T> {
    Located {
        record,
        answered: false,
        input: String::new(),
        line: 0,
        excerpt: String::new(),
    }
}

/// A record type of a probe file.
trait ProbeRecord: for<'de> Deserialize<'de> {
    fn result(&self) -> Outcome;
}

impl ProbeRecord for TcpRecord {
    fn result(&self) -> Outcome {
        self.result
    }
}

impl ProbeRecord for DnsRecord {
    fn result(&self) -> Outcome {
        self.result
    }
}

impl ProbeRecord for PathRecord {
    fn result(&self) -> Outcome {
        self.result
    }
}

/// Parses one JSON Lines probe file: every line that is a record, and a
/// note for every line that is not. Blank lines are skipped; an empty file
/// is a note (the prober writes at least one line or no file).
fn parse_lines<T: ProbeRecord>(input: &str, text: &str) -> (Vec<Located<T>>, Vec<Note>) {
    let mut records = Vec::new();
    let mut notes = Vec::new();
    let mut bad = 0usize;
    if text.trim().is_empty() {
        notes.push(Note::input(input, "empty probe file: no results in it"));
        return (records, notes);
    }
    let cut = !text.ends_with('\n');
    let last = text.lines().count();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        match serde_json::from_str::<T>(trimmed) {
            Ok(record) => {
                let result = record.result();
                records.push(Located {
                    record,
                    answered: result.answered(),
                    input: input.to_string(),
                    line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    excerpt: trimmed.to_string(),
                });
            }
            Err(err) => {
                bad += 1;
                if bad <= MAX_LINE_NOTES {
                    let message = if cut && i + 1 == last {
                        format!("probe result cut short (file truncated?): {err}")
                    } else {
                        format!("not a probe result: {err}")
                    };
                    notes.push(Note::line(input, i + 1, message));
                }
            }
        }
    }
    if bad > MAX_LINE_NOTES {
        notes.push(Note::input(
            input,
            format!("{} more lines were not probe results", bad - MAX_LINE_NOTES),
        ));
    }
    (records, notes)
}

/// Parses `probe/tcp.json`.
pub fn parse_tcp(input: &str, text: &str) -> (Vec<Located<TcpRecord>>, Vec<Note>) {
    parse_lines(input, text)
}

/// Parses `probe/dns.json`.
pub fn parse_dns(input: &str, text: &str) -> (Vec<Located<DnsRecord>>, Vec<Note>) {
    parse_lines(input, text)
}

/// Parses `probe/path.json`.
pub fn parse_path(input: &str, text: &str) -> (Vec<Located<PathRecord>>, Vec<Note>) {
    parse_lines(input, text)
}

/// Ports listed per address in [`AddressProbe::results`]; the rest are
/// counted.
const MAX_PORTS_LISTED: usize = 8;

fn group_addresses(tcp: &[Located<TcpRecord>]) -> Vec<AddressProbe> {
    let mut out: Vec<AddressProbe> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut listed: Vec<usize> = Vec::new();
    for t in tcp {
        let r = &t.record;
        let bound = match r.bound {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        };
        let i = *index.entry(r.address.as_str()).or_insert_with(|| {
            out.push(AddressProbe {
                address: r.address.clone(),
                bound: bound.to_string(),
                origin: r.origin.clone(),
                input: t.input.clone(),
                line: t.line,
                excerpt: t.excerpt.clone(),
                ..AddressProbe::default()
            });
            listed.push(0);
            out.len() - 1
        });
        let entry = &mut out[i];
        entry.answered |= t.answered;
        entry.open |= r.result == Outcome::Open;
        if r.result == Outcome::Refused {
            entry.refused = true;
            if !entry.refused_ports.is_empty() {
                entry.refused_ports.push_str(", ");
            }
            entry.refused_ports.push_str(&r.port.to_string());
        }
        entry.expected |= r.expected;
        if entry.bound == "unknown" {
            entry.bound = bound.to_string();
        }
        listed[i] += 1;
        if listed[i] <= MAX_PORTS_LISTED {
            if !entry.results.is_empty() {
                entry.results.push_str(", ");
            }
            entry
                .results
                .push_str(&format!("{} {}", r.port, r.result.as_str()));
        }
    }
    for (entry, n) in out.iter_mut().zip(listed) {
        if n > MAX_PORTS_LISTED {
            entry
                .results
                .push_str(&format!(" and {} more port(s)", n - MAX_PORTS_LISTED));
        }
    }
    out
}

fn group_resolvers(dns: &[Located<DnsRecord>]) -> Vec<ResolverProbe> {
    let mut out: Vec<ResolverProbe> = Vec::new();
    for d in dns {
        let r = &d.record;
        let usable = r.result == Outcome::Reply;
        // At most a few nameservers: a linear search is the cheap one.
        let i = match out.iter().position(|x| x.server == r.server) {
            Some(i) => i,
            None => {
                out.push(ResolverProbe {
                    server: r.server.clone(),
                    failing: true,
                    silent: true,
                    origin: r.origin.clone(),
                    input: d.input.clone(),
                    line: d.line,
                    excerpt: d.excerpt.clone(),
                    ..ResolverProbe::default()
                });
                out.len() - 1
            }
        };
        let entry = &mut out[i];
        entry.failing &= !usable;
        entry.silent &= r.result == Outcome::Timeout;
        if !entry.results.is_empty() {
            entry.results.push_str(", ");
        }
        let detail = if r.rcode.is_empty() || r.result == Outcome::Reply && r.rcode == "NoError" {
            r.result.as_str().to_string()
        } else {
            format!("{} {}", r.result.as_str(), r.rcode)
        };
        entry
            .results
            .push_str(&format!("{} {} {}", r.name, r.qtype, detail));
    }
    out
}

/// Parses every probe input of `snapshot` into `facts.probe`.
pub fn from_snapshot(snapshot: &Snapshot, notes: &mut Vec<Note>) -> ProbeFacts {
    let mut facts = ProbeFacts::default();
    if let Some(text) = snapshot.text(TCP_INPUT) {
        facts.inputs.push(TCP_INPUT.to_string());
        let (records, more) = parse_tcp(TCP_INPUT, &text);
        notes.extend(more);
        facts.tcp = records;
    }
    if let Some(text) = snapshot.text(DNS_INPUT) {
        facts.inputs.push(DNS_INPUT.to_string());
        let (records, more) = parse_dns(DNS_INPUT, &text);
        notes.extend(more);
        facts.dns = records;
    }
    if let Some(text) = snapshot.text(PATH_INPUT) {
        facts.inputs.push(PATH_INPUT.to_string());
        let (records, more) = parse_path(PATH_INPUT, &text);
        notes.extend(more);
        facts.path = records;
    }
    facts.collected = !facts.inputs.is_empty();
    facts.addresses = group_addresses(&facts.tcp);
    facts.tcp_count = facts.tcp.len() as u64;
    let unanswered: Vec<&AddressProbe> = facts.addresses.iter().filter(|a| !a.answered).collect();
    facts.unanswered_count = unanswered.len() as u64;
    facts.unanswered = listing(&unanswered, |a| &a.results);
    let with = |outcome: Outcome| -> HashSet<&str> {
        facts
            .tcp
            .iter()
            .filter(|t| t.record.result == outcome)
            .map(|t| t.record.address.as_str())
            .collect()
    };
    let (timed_out, unreachable) = (with(Outcome::Timeout), with(Outcome::Unreachable));
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &unanswered {
        let kind = if timed_out.contains(a.address.as_str()) {
            "timed out"
        } else if unreachable.contains(a.address.as_str()) {
            "unreachable"
        } else {
            "failed locally"
        };
        *kinds.entry(kind).or_default() += 1;
    }
    facts.unanswered_kinds = ["timed out", "unreachable", "failed locally"]
        .iter()
        .filter_map(|k| kinds.get(k).map(|n| format!("{n} {k}")))
        .collect::<Vec<_>>()
        .join(", ");
    let refused: Vec<&AddressProbe> = facts
        .addresses
        .iter()
        .filter(|a| a.refused && a.expected)
        .collect();
    facts.refused_count = refused.len() as u64;
    facts.refused = listing(&refused, |a| &a.refused_ports);
    facts.resolvers = group_resolvers(&facts.dns);
    facts.gateway_answered = facts
        .path
        .iter()
        .any(|p| p.record.role == "gateway" && p.answered);
    let beyond = || {
        facts
            .path
            .iter()
            .filter(|p| p.record.role == "beyond" && p.record.result != Outcome::Skipped)
    };
    facts.beyond_probed = beyond().next().is_some();
    facts.beyond_answered = beyond().any(|p| p.answered);
    facts
}

/// The first [`MAX_ADDRESSES_LISTED`] addresses with a detail each and
/// where they came from (`192.0.2.12 (8080 timeout; from etc/ips:3), ...
/// and 7 more`).
fn listing(addresses: &[&AddressProbe], detail: impl Fn(&AddressProbe) -> &str) -> String {
    let mut out = addresses
        .iter()
        .take(MAX_ADDRESSES_LISTED)
        .map(|a| {
            let origin = if a.origin.is_empty() {
                String::new()
            } else {
                format!("; from {}", a.origin)
            };
            format!("{} ({}{origin})", a.address, detail(a))
        })
        .collect::<Vec<_>>()
        .join(", ");
    if addresses.len() > MAX_ADDRESSES_LISTED {
        out.push_str(&format!(
            " and {} more",
            addresses.len() - MAX_ADDRESSES_LISTED
        ));
    }
    out
}

/// Marks the nameservers reached through the gateway (outside every
/// connected subnet) and counts them, and the silent ones among them.
pub(crate) fn place_resolvers(probe: &mut ProbeFacts, net: &crate::facts::netview::NetFacts) {
    if net.tables.addresses.is_empty() {
        return;
    }
    let connected = crate::facts::netview::connected_subnets(&net.tables);
    for r in &mut probe.resolvers {
        r.beyond_gateway = r
            .server
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| !ip.is_loopback() && !connected.contains(ip));
    }
    let beyond = probe.resolvers.iter().filter(|r| r.beyond_gateway);
    probe.resolvers_beyond = beyond.clone().count() as u64;
    probe.resolvers_beyond_silent = beyond.filter(|r| r.silent).count() as u64;
}

/// Serialises records as JSON Lines (the format this module parses).
pub fn to_json_lines<T: Serialize>(records: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    for record in records {
        // Serialising these plain structs cannot fail.
        if let Ok(line) = serde_json::to_string(record) {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as `diag probe` wrote them in tests/probe.rs's namespaces.
    const TCP: &str = r#"{"address":"192.0.2.10","port":8080,"result":"open","latency_ms":0.21,"attempts":1,"expected":true,"bound":true,"origin":"etc/ips:1"}
{"address":"192.0.2.12","port":8080,"result":"timeout","latency_ms":1000.4,"attempts":2,"expected":true,"bound":false,"origin":"etc/ips:3"}
{"address":"192.0.2.12","port":443,"result":"unreachable","latency_ms":3050.0,"attempts":2,"expected":true,"bound":false,"origin":"etc/ips:3","error":"No route to host (os error 113)"}
{"address":"192.0.2.2","port":8080,"result":"refused","latency_ms":0.1,"attempts":1,"origin":"net/addr.json:2"}
"#;

    #[test]
    fn tcp_records_group_by_address() {
        let (records, notes) = parse_tcp(TCP_INPUT, TCP);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(records.len(), 4);
        assert_eq!(records[1].line, 2);
        assert!(!records[1].answered);
        let addresses = group_addresses(&records);
        assert_eq!(addresses.len(), 3);
        let a = &addresses[1];
        assert_eq!(a.address, "192.0.2.12");
        assert!(!a.answered && a.expected);
        assert_eq!(a.bound, "no");
        assert_eq!(a.results, "8080 timeout, 443 unreachable");
        // A reset proves the address is there.
        assert!(addresses[2].answered && !addresses[2].open);
        assert_eq!(addresses[2].bound, "unknown");
    }

    #[test]
    fn malformed_lines_are_notes_and_the_rest_is_used() {
        let text = "{\"address\":\"192.0.2.10\",\"port\":80,\"result\":\"open\",\"latency_ms\":1,\"attempts\":1}\nnot json\n{\"address\":\"192.0.2.11\",\"port\":80,\"result\":\"sideways\",\"latency_ms\":1,\"attempts\":1}\n[1,2]\n";
        let (records, notes) = parse_tcp(TCP_INPUT, text);
        assert_eq!(records.len(), 1);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert_eq!(notes[0].line, Some(2));
        assert!(notes[1].message.contains("unknown variant"), "{notes:?}");
    }

    #[test]
    fn a_truncated_file_keeps_complete_lines() {
        let cut = &TCP[..TCP.len() - 30];
        let (records, notes) = parse_tcp(TCP_INPUT, cut);
        assert_eq!(records.len(), 3);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].line, Some(4));
        assert!(notes[0].message.contains("cut short"), "{notes:?}");
    }

    #[test]
    fn empty_file_is_a_note() {
        for text in ["", "\n\n  \n"] {
            let (records, notes) = parse_dns(DNS_INPUT, text);
            assert!(records.is_empty());
            assert_eq!(notes.len(), 1);
            assert!(notes[0].message.contains("empty"));
        }
    }

    #[test]
    fn too_many_bad_lines_are_counted_not_listed() {
        let text = "x\n".repeat(100);
        let (_, notes) = parse_path(PATH_INPUT, &text);
        assert_eq!(notes.len(), MAX_LINE_NOTES + 1);
        assert!(notes[MAX_LINE_NOTES].message.starts_with("80 more"));
    }

    #[test]
    fn resolvers_fail_only_without_a_usable_reply() {
        let text = r#"{"server":"10.2.0.53","name":"example.test","qtype":"A","result":"reply","rcode":"NoError","answers":["192.0.2.99"],"latency_ms":0.4,"origin":"etc/resolv.conf:1"}
{"server":"10.2.0.54","name":"example.test","qtype":"A","result":"timeout","latency_ms":2000.0,"origin":"etc/resolv.conf:2"}
{"server":"10.2.0.55","name":"example.test","qtype":"A","result":"failed","rcode":"ServFail","latency_ms":3.0,"origin":"etc/resolv.conf:3"}
{"server":"10.2.0.53","name":"nothing.test","qtype":"A","result":"reply","rcode":"NXDomain","latency_ms":0.4,"origin":"etc/resolv.conf:1"}
"#;
        let (records, notes) = parse_dns(DNS_INPUT, text);
        assert!(notes.is_empty());
        let resolvers = group_resolvers(&records);
        let failing: Vec<_> = resolvers
            .iter()
            .filter(|r| r.failing)
            .map(|r| r.server.as_str())
            .collect();
        assert_eq!(failing, ["10.2.0.54", "10.2.0.55"]);
        assert_eq!(
            resolvers[0].results,
            "example.test A reply, nothing.test A reply NXDomain"
        );
    }

    #[test]
    fn path_summary() {
        let text = r#"{"role":"gateway","address":"10.1.0.1","method":"icmp","result":"reply","latency_ms":0.1,"neigh_state":"REACHABLE","origin":"default route"}
{"role":"beyond","address":"10.2.0.2","method":"tcp","port":80,"result":"timeout","latency_ms":1000.0,"origin":"command line"}
{"role":"beyond","address":"10.3.0.2","method":"icmp","result":"skipped","latency_ms":0.0,"origin":"command line","error":"no permission"}
"#;
        let snapshot = Snapshot::from_inputs([(PATH_INPUT, text)]);
        let mut notes = Vec::new();
        let facts = from_snapshot(&snapshot, &mut notes);
        assert!(notes.is_empty());
        assert!(facts.collected && facts.gateway_answered && facts.beyond_probed);
        assert!(!facts.beyond_answered);
    }

    #[test]
    fn records_round_trip() {
        let (records, _) = parse_tcp(TCP_INPUT, TCP);
        let plain: Vec<TcpRecord> = records.iter().map(|r| r.record.clone()).collect();
        let text = String::from_utf8(to_json_lines(&plain)).expect("utf-8");
        let (again, notes) = parse_tcp(TCP_INPUT, &text);
        assert!(notes.is_empty());
        assert_eq!(
            again.iter().map(|r| &r.record).collect::<Vec<_>>(),
            plain.iter().collect::<Vec<_>>()
        );
    }
}
