//! Kernel network counters of a snapshot: the protocol counters of
//! `/proc/net/snmp` and `/proc/net/netstat` (read with
//! [`crate::parse::net::procnet::snmp`]), the per-interface counters of
//! `/proc/net/dev` ([`crate::parse::net::procnet::dev`]) and the conntrack
//! table's fill (`nf_conntrack_count` against `nf_conntrack_max`).
//!
//! Every counter is cumulative since boot (or since the interface was
//! created): a single snapshot shows that something happened, not when.
//! [`StackCounters`] picks out the counters rules look at, each with the
//! input and line it came from so a finding can cite it.

use crate::model::Note;
use crate::parse::net::procnet::dev::{parse_proc_net_dev, InterfaceCounters};
use crate::parse::net::procnet::snmp::{parse_proc_net_snmp, Counter, ProtocolCounters};
use crate::parse::net::procnet::softnet::{parse_softnet_stat, Softnet};
use crate::parse::net::sysctl::parse_sysctl_integer;
use crate::source::snapshot::Snapshot;
use serde::Serialize;

/// The protocol counters rules look at. `None` when the counter is not in
/// the snapshot (file missing, or a kernel too old to have it).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StackCounters {
    /// `Tcp: OutSegs`, segments sent.
    pub tcp_out_segs: Option<Counter>,
    /// `Tcp: RetransSegs`, segments retransmitted.
    pub tcp_retrans_segs: Option<Counter>,
    /// RetransSegs / OutSegs since boot, when both are known and OutSegs
    /// is not 0.
    pub tcp_retrans_ratio: Option<f64>,
    /// `TcpExt: SyncookiesSent`: SYN cookies sent because a SYN queue was
    /// full.
    pub syncookies_sent: Option<Counter>,
    /// `TcpExt: SyncookiesRecv`: valid cookies returned by clients.
    pub syncookies_recv: Option<Counter>,
    /// `TcpExt: SyncookiesFailed`: cookies that did not check out.
    pub syncookies_failed: Option<Counter>,
    /// `TcpExt: ListenOverflows`: a full accept queue dropped a connection.
    pub listen_overflows: Option<Counter>,
    /// `TcpExt: ListenDrops`: connection requests dropped by a listener
    /// for any reason (overflows included).
    pub listen_drops: Option<Counter>,
    /// `TcpExt: TCPReqQFullDrop`: SYNs dropped because the SYN queue was
    /// full and cookies were off.
    pub req_q_full_drop: Option<Counter>,
    /// `TcpExt: TCPReqQFullDoCookies`: SYN queue full, answered with a
    /// cookie instead.
    pub req_q_full_do_cookies: Option<Counter>,
    /// `Ip: InHdrErrors`.
    pub ip_in_hdr_errors: Option<Counter>,
    /// `Ip: InAddrErrors`: packets for an address this host does not have.
    pub ip_in_addr_errors: Option<Counter>,
    /// `Ip: OutNoRoutes`: packets dropped for want of a route.
    pub ip_out_no_routes: Option<Counter>,
    /// `Ip: InDiscards`.
    pub ip_in_discards: Option<Counter>,
    /// `Icmp: InDestUnreachs`.
    pub icmp_in_dest_unreachs: Option<Counter>,
    /// `Icmp: OutDestUnreachs`.
    pub icmp_out_dest_unreachs: Option<Counter>,
    /// `Udp: RcvbufErrors`: datagrams dropped on a full receive buffer.
    pub udp_rcvbuf_errors: Option<Counter>,
    /// `Udp: InErrors`.
    pub udp_in_errors: Option<Counter>,
    /// `Udp: NoPorts`: datagrams to a port nobody listens on.
    pub udp_no_ports: Option<Counter>,
}

impl StackCounters {
    /// Picks the counters out of the parsed groups.
    pub fn from_counters(counters: &ProtocolCounters) -> Self {
        let tcp_out_segs = counters.get("Tcp", "OutSegs");
        let tcp_retrans_segs = counters.get("Tcp", "RetransSegs");
        let tcp_retrans_ratio = match (&tcp_out_segs, &tcp_retrans_segs) {
            (Some(out), Some(retrans)) if out.value > 0 => {
                Some(retrans.value as f64 / out.value as f64)
            }
            _ => None,
        };
        StackCounters {
            tcp_out_segs,
            tcp_retrans_segs,
            tcp_retrans_ratio,
            syncookies_sent: counters.get("TcpExt", "SyncookiesSent"),
            syncookies_recv: counters.get("TcpExt", "SyncookiesRecv"),
            syncookies_failed: counters.get("TcpExt", "SyncookiesFailed"),
            listen_overflows: counters.get("TcpExt", "ListenOverflows"),
            listen_drops: counters.get("TcpExt", "ListenDrops"),
            req_q_full_drop: counters.get("TcpExt", "TCPReqQFullDrop"),
            req_q_full_do_cookies: counters.get("TcpExt", "TCPReqQFullDoCookies"),
            ip_in_hdr_errors: counters.get("Ip", "InHdrErrors"),
            ip_in_addr_errors: counters.get("Ip", "InAddrErrors"),
            ip_out_no_routes: counters.get("Ip", "OutNoRoutes"),
            ip_in_discards: counters.get("Ip", "InDiscards"),
            icmp_in_dest_unreachs: counters.get("Icmp", "InDestUnreachs"),
            icmp_out_dest_unreachs: counters.get("Icmp", "OutDestUnreachs"),
            udp_rcvbuf_errors: counters.get("Udp", "RcvbufErrors"),
            udp_in_errors: counters.get("Udp", "InErrors"),
            udp_no_ports: counters.get("Udp", "NoPorts"),
        }
    }
}

/// Fill of the connection-tracking table. When it is full the kernel drops
/// new connections ("nf_conntrack: table full, dropping packet").
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Conntrack {
    /// `nf_conntrack_count`: entries now.
    pub count: Option<Counter>,
    /// `nf_conntrack_max`: the limit.
    pub max: Option<Counter>,
    /// count / max, when both are known and max is not 0.
    pub usage: Option<f64>,
}

/// Canonical name of the conntrack entry count.
pub const CONNTRACK_COUNT: &str = "proc/sys/net/netfilter/nf_conntrack_count";
/// Canonical name of the conntrack limit.
pub const CONNTRACK_MAX: &str = "proc/sys/net/netfilter/nf_conntrack_max";

/// Reads the conntrack count and limit from their texts, when present.
pub fn parse_conntrack(count: Option<&str>, max: Option<&str>) -> (Conntrack, Vec<Note>) {
    let mut notes = Vec::new();
    let mut read = |input: &str, text: Option<&str>| match parse_sysctl_integer(input, text?) {
        Ok(setting) => Some(Counter {
            value: setting.value,
            input: setting.input,
            line: setting.line,
            excerpt: setting.excerpt,
        }),
        Err(note) => {
            notes.push(note);
            None
        }
    };
    let count = read(CONNTRACK_COUNT, count);
    let max = read(CONNTRACK_MAX, max);
    let usage = match (&count, &max) {
        (Some(count), Some(max)) if max.value > 0 => Some(count.value as f64 / max.value as f64),
        _ => None,
    };
    (Conntrack { count, max, usage }, notes)
}

/// The protocol counters compared at both ends of a live collection
/// (`proc/net/snmp` and `proc/net/netstat`, then `NAME.end`): the ones
/// that move with the kernel's packet drops (docs/drop-reasons.md).
pub const WINDOW_COUNTERS: &[(&str, &str)] = &[
    ("TcpExt", "ListenOverflows"),
    ("TcpExt", "ListenDrops"),
    ("TcpExt", "TCPBacklogDrop"),
    ("TcpExt", "TCPReqQFullDrop"),
    ("IpExt", "InNoRoutes"),
    ("IpExt", "InCsumErrors"),
    ("Ip", "InDiscards"),
    ("Ip", "InAddrErrors"),
    ("Ip", "OutNoRoutes"),
    ("Tcp", "InCsumErrors"),
    ("Udp", "InCsumErrors"),
    ("Udp", "NoPorts"),
    ("Udp", "RcvbufErrors"),
];

/// Per-CPU receive counters, and their second sample.
const SOFTNET: &str = "proc/net/softnet_stat";
const SOFTNET_END: &str = "proc/net/softnet_stat.end";

/// How much a counter grew while the host was read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CounterGrowth {
    /// `Group.Name`: `TcpExt.ListenOverflows`.
    pub name: String,
    /// At the start of the collection.
    pub start: i64,
    /// At its end.
    pub end: i64,
    /// `end - start` (0 when the counter went backwards).
    pub growth: i64,
    /// Canonical input name of the second sample.
    pub input: String,
    /// Line of the counter's value in it.
    pub line: u32,
    /// `TcpExt: ListenOverflows 0 -> 190 (+190 during collection)`.
    pub excerpt: String,
}

/// Every kernel network counter of a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NetCounters {
    /// Canonical names of the inputs read.
    pub inputs: Vec<String>,
    /// Every group of `/proc/net/snmp` and `/proc/net/netstat`.
    pub protocols: ProtocolCounters,
    /// The counters rules look at.
    pub stack: StackCounters,
    /// Per-interface counters from `/proc/net/dev`.
    pub interfaces: Vec<InterfaceCounters>,
    /// Connection-tracking table fill.
    pub conntrack: Conntrack,
    /// [`WINDOW_COUNTERS`] sampled at both ends of a live collection, each
    /// with its growth; empty without the second samples. With
    /// `/proc/net/softnet_stat` sampled twice too: `softnet_stat.dropped`
    /// and `softnet_stat.time_squeeze` (all CPUs; the line cited is the
    /// CPU's that grew most).
    pub window: Vec<CounterGrowth>,
    /// `/proc/net/softnet_stat`, every CPU summed (since boot).
    pub softnet: Option<Softnet>,
}

/// The growth of `softnet_stat`'s dropped and time_squeeze counters
/// between two samples (CPUs matched by position).
fn softnet_growth(start: &Softnet, end: &Softnet) -> Vec<CounterGrowth> {
    type Field = fn(&crate::parse::net::procnet::softnet::SoftnetCpu) -> u64;
    let fields: [(&str, Field); 2] = [
        ("dropped", |c| c.dropped),
        ("time_squeeze", |c| c.time_squeeze),
    ];
    let mut out = Vec::new();
    for (name, field) in fields {
        let mut growth = 0u64;
        let mut most: Option<(u64, u32)> = None;
        for (a, b) in start.per_cpu.iter().zip(&end.per_cpu) {
            let grew = field(b).saturating_sub(field(a));
            growth = growth.saturating_add(grew);
            if most.is_none_or(|(m, _)| grew > m) {
                most = Some((grew, b.line));
            }
        }
        let total = |s: &Softnet| s.per_cpu.iter().map(field).fold(0u64, u64::saturating_add);
        let (first, last) = (total(start), total(end));
        let as_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        out.push(CounterGrowth {
            name: format!("softnet_stat.{name}"),
            start: as_i64(first),
            end: as_i64(last),
            growth: as_i64(growth),
            input: end.input.clone(),
            line: most.map_or(1, |(_, line)| line),
            excerpt: format!(
                "softnet_stat: {name} {first} -> {last} (+{growth} during collection, {} CPUs)",
                end.cpus
            ),
        });
    }
    out
}

/// Parses the counters of a snapshot: `proc/net/snmp`, `proc/net/netstat`,
/// `proc/net/dev` and the conntrack count and limit.
pub fn from_snapshot(snapshot: &Snapshot) -> (NetCounters, Vec<Note>) {
    let mut counters = NetCounters::default();
    let mut notes = Vec::new();
    for name in ["proc/net/snmp", "proc/net/netstat"] {
        if let Some(text) = snapshot.text(name) {
            let (groups, more) = parse_proc_net_snmp(name, &text);
            counters.inputs.push(name.to_string());
            notes.extend(more);
            counters.protocols.merge(groups, &mut notes);
        }
    }
    counters.stack = StackCounters::from_counters(&counters.protocols);
    let mut end = ProtocolCounters::default();
    let mut sampled_twice = false;
    for name in ["proc/net/snmp.end", "proc/net/netstat.end"] {
        if let Some(text) = snapshot.text(name) {
            let (groups, more) = parse_proc_net_snmp(name, &text);
            notes.extend(more);
            end.merge(groups, &mut notes);
            sampled_twice = true;
        }
    }
    if sampled_twice {
        for (group, name) in WINDOW_COUNTERS {
            let (Some(start), Some(last)) =
                (counters.protocols.get(group, name), end.get(group, name))
            else {
                continue;
            };
            let growth = (last.value - start.value).max(0);
            counters.window.push(CounterGrowth {
                name: format!("{group}.{name}"),
                start: start.value,
                end: last.value,
                growth,
                excerpt: format!(
                    "{group}: {name} {} -> {} (+{growth} during collection)",
                    start.value, last.value
                ),
                input: last.input,
                line: last.line,
            });
        }
    }
    if let Some(text) = snapshot.text(SOFTNET) {
        let (softnet, more) = parse_softnet_stat(SOFTNET, &text);
        counters.inputs.push(SOFTNET.to_string());
        notes.extend(more);
        let end = snapshot
            .text(SOFTNET_END)
            .and_then(|text| parse_softnet_stat(SOFTNET_END, &text).0);
        if let (Some(start), Some(end)) = (&softnet, &end) {
            counters.window.extend(softnet_growth(start, end));
        }
        counters.softnet = softnet;
    }
    if let Some(text) = snapshot.text("proc/net/dev") {
        let (interfaces, more) = parse_proc_net_dev("proc/net/dev", &text);
        counters.inputs.push("proc/net/dev".to_string());
        counters.interfaces = interfaces;
        notes.extend(more);
    }
    let count = snapshot.text(CONNTRACK_COUNT);
    let max = snapshot.text(CONNTRACK_MAX);
    for (name, text) in [(CONNTRACK_COUNT, &count), (CONNTRACK_MAX, &max)] {
        if text.is_some() {
            counters.inputs.push(name.to_string());
        }
    }
    let (conntrack, more) = parse_conntrack(count.as_deref(), max.as_deref());
    counters.conntrack = conntrack;
    notes.extend(more);
    (counters, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured on the development VM (Linux 6.18, x86_64), idle; see
    // parse/net/procnet/testdata/README.md.
    const SNMP: &str = include_str!("../../../diag-parse/src/net/procnet/testdata/proc_net_snmp");
    const NETSTAT: &str =
        include_str!("../../../diag-parse/src/net/procnet/testdata/proc_net_netstat");
    const DEV: &str = include_str!("../../../diag-parse/src/net/procnet/testdata/proc_net_dev");

    #[test]
    fn netstat_and_the_counters_rules_read() {
        let snapshot = Snapshot::from_inputs([
            ("proc/net/snmp", SNMP),
            ("proc/net/netstat", NETSTAT),
            ("proc/net/dev", DEV),
            (CONNTRACK_COUNT, "65536\n"),
            (CONNTRACK_MAX, "262144\n"),
        ]);
        let (counters, notes) = from_snapshot(&snapshot);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(counters.inputs.len(), 5);
        assert_eq!(
            counters.protocols.value("IpExt", "InOctets"),
            Some(147828629)
        );
        let stack = &counters.stack;
        let value = |c: &Option<Counter>| c.as_ref().map(|c| c.value);
        assert_eq!(value(&stack.tcp_retrans_segs), Some(0));
        assert_eq!(stack.tcp_retrans_ratio, Some(0.0));
        assert_eq!(value(&stack.syncookies_sent), Some(0));
        assert_eq!(value(&stack.req_q_full_drop), Some(0));
        assert_eq!(value(&stack.icmp_in_dest_unreachs), Some(2));
        assert_eq!(value(&stack.udp_no_ports), Some(0));
        let overflows = stack.listen_overflows.as_ref().expect("ListenOverflows");
        assert_eq!(
            (
                overflows.input.as_str(),
                overflows.line,
                overflows.excerpt.as_str()
            ),
            ("proc/net/netstat", 2, "TcpExt: ListenOverflows 0")
        );
        assert_eq!(counters.interfaces.len(), 4);
        assert_eq!(counters.conntrack.usage, Some(0.25));
        assert_eq!(
            counters.conntrack.max.as_ref().map(|c| c.excerpt.as_str()),
            Some("262144")
        );
    }

    #[test]
    fn syn_flood_counters_and_retransmit_ratio() {
        // A netstat in the kernel's format with the values a SYN flood
        // leaves behind (numbers made up); only the columns we read.
        let netstat = "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed ListenOverflows ListenDrops TCPReqQFullDoCookies TCPReqQFullDrop\n\
TcpExt: 48211 12 48011 0 731 48211 731\n";
        let snmp = "Tcp: RtoAlgorithm OutSegs RetransSegs\nTcp: 1 200000 5000\n";
        let mut counters = parse_proc_net_snmp("proc/net/snmp", snmp).0;
        counters.merge(
            parse_proc_net_snmp("proc/net/netstat", netstat).0,
            &mut Vec::new(),
        );
        let stack = StackCounters::from_counters(&counters);
        assert_eq!(stack.tcp_retrans_ratio, Some(0.025));
        let value = |c: &Option<Counter>| c.as_ref().map(|c| c.value);
        assert_eq!(
            (
                value(&stack.syncookies_sent),
                value(&stack.syncookies_failed),
                value(&stack.req_q_full_drop),
                value(&stack.listen_drops),
            ),
            (Some(48211), Some(48011), Some(731), Some(731))
        );
        assert_eq!(stack.ip_in_discards, None);
    }

    #[test]
    fn counters_sampled_at_both_ends_give_their_growth() {
        let netstat = "TcpExt: ListenOverflows ListenDrops\nTcpExt: 12 12\n";
        let later = "TcpExt: ListenOverflows ListenDrops\nTcpExt: 202 11\n";
        let snapshot = Snapshot::from_inputs([
            ("proc/net/netstat", netstat),
            ("proc/net/netstat.end", later),
        ]);
        let (counters, notes) = from_snapshot(&snapshot);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(counters.window.len(), 2);
        let overflows = &counters.window[0];
        assert_eq!(
            (overflows.name.as_str(), overflows.growth, overflows.line),
            ("TcpExt.ListenOverflows", 190, 2)
        );
        assert_eq!(overflows.input, "proc/net/netstat.end");
        assert_eq!(
            overflows.excerpt,
            "TcpExt: ListenOverflows 12 -> 202 (+190 during collection)"
        );
        // A counter that went backwards (a namespace's counters reset)
        // did not grow.
        assert_eq!(counters.window[1].growth, 0);
        // One sample only: nothing to compare.
        let (counters, _) = from_snapshot(&Snapshot::from_inputs([("proc/net/netstat", netstat)]));
        assert!(counters.window.is_empty());
    }

    #[test]
    fn conntrack_fill() {
        let (conntrack, notes) = parse_conntrack(Some("0\n"), Some("262144\n"));
        assert!(notes.is_empty());
        assert_eq!(conntrack.usage, Some(0.0));
        assert_eq!(
            conntrack.count.as_ref().map(|c| c.input.as_str()),
            Some(CONNTRACK_COUNT)
        );
        let (conntrack, notes) = parse_conntrack(Some("lots\n"), Some("0\n"));
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].input, CONNTRACK_COUNT);
        assert_eq!((conntrack.count, conntrack.usage), (None, None));
        let (conntrack, notes) = parse_conntrack(None, None);
        assert!(notes.is_empty() && conntrack == Conntrack::default());
    }
}
