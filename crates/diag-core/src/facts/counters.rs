//! Kernel network counters: `/proc/net/snmp` and `/proc/net/netstat`
//! (protocol counters), `/proc/net/dev` (per-interface counters) and the
//! conntrack table's fill (`nf_conntrack_count` against `nf_conntrack_max`).
//!
//! Every counter is cumulative since boot (or since the interface was
//! created): a single snapshot shows that something happened, not when.
//! [`StackCounters`] picks out the counters rules look at, each with the
//! input and line it came from so a finding can cite it.

use super::sysctl::parse_sysctl_integer;
use crate::model::Note;
use crate::source::snapshot::Snapshot;
use serde::Serialize;
use std::collections::BTreeMap;

/// One counter and where it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counter {
    /// The value (`Tcp: MaxConn` is -1, so signed).
    pub value: i64,
    /// Canonical input name.
    pub input: String,
    /// 1-based line of the value.
    pub line: u32,
    /// The counter as `Group: Name value` (`TcpExt: ListenOverflows 12`);
    /// for a one-value file, its text.
    pub excerpt: String,
}

/// Where one group's values were read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CounterOrigin {
    /// Canonical input name.
    pub input: String,
    /// 1-based line of the value line (the names are on the line before).
    pub line: u32,
}

/// The counters of `/proc/net/snmp` and `/proc/net/netstat`, by group
/// (`Ip`, `Tcp`, `TcpExt`, ...) and name (`RetransSegs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProtocolCounters {
    /// Group → counter name → value.
    pub values: BTreeMap<String, BTreeMap<String, i64>>,
    /// Group → where its values were read (not serialised: see [`Self::get`]).
    #[serde(skip)]
    pub origins: BTreeMap<String, CounterOrigin>,
}

impl ProtocolCounters {
    /// One counter's value.
    pub fn value(&self, group: &str, name: &str) -> Option<i64> {
        self.values.get(group)?.get(name).copied()
    }

    /// One counter with where it was read, for evidence.
    pub fn get(&self, group: &str, name: &str) -> Option<Counter> {
        let value = self.value(group, name)?;
        let origin = self.origins.get(group).cloned().unwrap_or_default();
        Some(Counter {
            value,
            input: origin.input,
            line: origin.line,
            excerpt: format!("{group}: {name} {value}"),
        })
    }

    /// Adds the groups of `other`; a group already present is kept as it
    /// is and the clash becomes a note.
    pub fn merge(&mut self, other: ProtocolCounters, notes: &mut Vec<Note>) {
        for (group, values) in other.values {
            let origin = other.origins.get(&group).cloned().unwrap_or_default();
            if let Some(first) = self.origins.get(&group) {
                notes.push(Note::line(
                    &origin.input,
                    origin.line as usize,
                    format!(
                        "group {group} was already read from {} line {}; ignored here",
                        first.input, first.line
                    ),
                ));
                continue;
            }
            self.values.insert(group.clone(), values);
            self.origins.insert(group, origin);
        }
    }
}

/// Parses `/proc/net/snmp` or `/proc/net/netstat`: for each group a line of
/// names (`Tcp: RtoAlgorithm RtoMin ...`) then a line of values
/// (`Tcp: 1 200 ...`). A group whose values do not match its names, or
/// that has no value line, is left out with a note: its values cannot be
/// told apart any more. A value that is not an integer is left out alone.
pub fn parse_proc_net_snmp(input: &str, text: &str) -> (ProtocolCounters, Vec<Note>) {
    let mut counters = ProtocolCounters::default();
    let mut notes = Vec::new();
    if text.trim().is_empty() {
        notes.push(Note::input(input, "empty file"));
        return (counters, notes);
    }
    let cut = !text.ends_with('\n');
    let last = text.lines().count();
    // The names line waiting for its values: group, line, names.
    let mut pending: Option<(&str, usize, Vec<&str>)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let Some((group, rest)) = raw.split_once(':') else {
            notes.push(Note::line(input, line, "expected 'Group: ...'"));
            continue;
        };
        let group = group.trim();
        if group.is_empty() || !group.bytes().all(|b| b.is_ascii_alphanumeric()) {
            notes.push(Note::line(
                input,
                line,
                format!("expected a group name before ':', got {group:?}"),
            ));
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        let (names, names_line) = match pending.take() {
            Some((pending_group, names_line, names)) if pending_group == group => {
                (names, names_line)
            }
            other => {
                if let Some((pending_group, names_line, _)) = other {
                    notes.push(missing_values(input, pending_group, names_line));
                }
                pending = Some((group, line, words));
                continue;
            }
        };
        if cut && line == last {
            notes.push(Note::line(
                input,
                line,
                format!("the input ends inside the values of {group} (cut short?); group ignored"),
            ));
            continue;
        }
        if names.len() != words.len() {
            notes.push(Note::line(
                input,
                line,
                format!(
                    "{} names on line {names_line} but {} values; group {group} ignored",
                    names.len(),
                    words.len()
                ),
            ));
            continue;
        }
        if counters.values.contains_key(group) {
            notes.push(Note::line(
                input,
                line,
                format!("group {group} appears twice; the second is ignored"),
            ));
            continue;
        }
        let mut values = BTreeMap::new();
        let mut bad = Vec::new();
        for (name, word) in names.iter().zip(&words) {
            match word.parse::<i64>() {
                Ok(value) => {
                    values.insert((*name).to_string(), value);
                }
                Err(_) => bad.push(format!("{name}={word}")),
            }
        }
        if !bad.is_empty() {
            notes.push(Note::line(
                input,
                line,
                format!("not integers, left out: {}", bad.join(" ")),
            ));
        }
        counters.values.insert(group.to_string(), values);
        counters.origins.insert(
            group.to_string(),
            CounterOrigin {
                input: input.to_string(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
            },
        );
    }
    if let Some((group, names_line, _)) = pending {
        notes.push(missing_values(input, group, names_line));
    }
    (counters, notes)
}

fn missing_values(input: &str, group: &str, line: usize) -> Note {
    Note::line(
        input,
        line,
        format!("names of {group} have no value line after them (cut short?)"),
    )
}

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

/// One interface's line of `/proc/net/dev`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InterfaceCounters {
    /// Interface name.
    pub iface: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors (all kinds).
    pub rx_errs: u64,
    /// Received packets dropped (no buffer, unknown protocol, ...).
    pub rx_drop: u64,
    /// Receive FIFO overruns.
    pub rx_fifo: u64,
    /// Frame alignment and length errors.
    pub rx_frame: u64,
    /// Compressed packets received.
    pub rx_compressed: u64,
    /// Multicast packets received.
    pub rx_multicast: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Transmit errors (all kinds).
    pub tx_errs: u64,
    /// Packets dropped on transmit.
    pub tx_drop: u64,
    /// Transmit FIFO errors.
    pub tx_fifo: u64,
    /// Collisions.
    pub tx_colls: u64,
    /// Carrier losses while sending.
    pub tx_carrier: u64,
    /// Compressed packets sent.
    pub tx_compressed: u64,
    /// Canonical input name.
    pub input: String,
    /// 1-based line in the input.
    pub line: u32,
    /// The raw line, padding trimmed.
    pub excerpt: String,
}

/// Parses `/proc/net/dev`: two header lines, then `name: 16 counters` per
/// interface. Old kernels let a wide first number run into the colon
/// (`eth0:3285625463 ...`); that is read too.
pub fn parse_proc_net_dev(input: &str, text: &str) -> (Vec<InterfaceCounters>, Vec<Note>) {
    let mut interfaces = Vec::new();
    let mut notes = Vec::new();
    let mut lines = text.lines().enumerate();
    for (expected, prefix) in [(1, "Inter-|"), (2, "face |")] {
        match lines.next() {
            Some((_, header)) if header.trim_start().starts_with(prefix) => {}
            Some(_) => {
                notes.push(Note::line(
                    input,
                    expected,
                    format!("header line {expected} does not start with {prefix:?}"),
                ));
                return (interfaces, notes);
            }
            None => {
                notes.push(Note::input(
                    input,
                    format!("{} (cut short?)", header_missing(expected)),
                ));
                return (interfaces, notes);
            }
        }
    }
    let cut = !text.ends_with('\n');
    let last = text.lines().count();
    for (index, raw) in lines {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        if cut && line == last {
            notes.push(Note::line(
                input,
                line,
                "the input ends inside this line (cut short?); ignored",
            ));
            continue;
        }
        let Some((name, rest)) = raw.split_once(':') else {
            notes.push(Note::line(input, line, "expected 'name: counters'"));
            continue;
        };
        let name = name.trim();
        let values: Vec<Option<u64>> = rest.split_whitespace().map(|v| v.parse().ok()).collect();
        if name.is_empty() || name.contains(char::is_whitespace) {
            notes.push(Note::line(
                input,
                line,
                "expected an interface name before ':'",
            ));
            continue;
        }
        let values: Option<Vec<u64>> = if values.len() == 16 {
            values.into_iter().collect()
        } else {
            None
        };
        let Some(v) = values else {
            notes.push(Note::line(input, line, "expected 16 unsigned counters"));
            continue;
        };
        interfaces.push(InterfaceCounters {
            iface: name.to_string(),
            rx_bytes: v[0],
            rx_packets: v[1],
            rx_errs: v[2],
            rx_drop: v[3],
            rx_fifo: v[4],
            rx_frame: v[5],
            rx_compressed: v[6],
            rx_multicast: v[7],
            tx_bytes: v[8],
            tx_packets: v[9],
            tx_errs: v[10],
            tx_drop: v[11],
            tx_fifo: v[12],
            tx_colls: v[13],
            tx_carrier: v[14],
            tx_compressed: v[15],
            input: input.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            excerpt: raw.trim().to_string(),
        });
    }
    (interfaces, notes)
}

fn header_missing(line: usize) -> String {
    if line == 1 {
        "empty file".to_string()
    } else {
        "second header line missing".to_string()
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
    // testdata/README.md.
    const SNMP: &str = include_str!("testdata/proc_net_snmp");
    const NETSTAT: &str = include_str!("testdata/proc_net_netstat");
    const DEV: &str = include_str!("testdata/proc_net_dev");

    #[test]
    fn snmp_groups_and_negative_values() {
        let (counters, notes) = parse_proc_net_snmp("proc/net/snmp", SNMP);
        assert!(notes.is_empty(), "{notes:?}");
        let groups: Vec<&str> = counters.values.keys().map(String::as_str).collect();
        assert_eq!(groups, ["Icmp", "IcmpMsg", "Ip", "Tcp", "Udp", "UdpLite"]);
        assert_eq!(counters.value("Tcp", "MaxConn"), Some(-1));
        assert_eq!(counters.value("Tcp", "RtoMax"), Some(120000));
        assert_eq!(counters.value("Ip", "InReceives"), Some(9530));
        assert_eq!(counters.value("IcmpMsg", "InType3"), Some(2));
        let retrans = counters.get("Tcp", "OutSegs").expect("OutSegs");
        assert_eq!(
            (
                retrans.value,
                retrans.input.as_str(),
                retrans.line,
                retrans.excerpt.as_str()
            ),
            (6373, "proc/net/snmp", 8, "Tcp: OutSegs 6373")
        );
        assert_eq!(counters.get("Tcp", "Nope"), None);
    }

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
    fn header_value_mismatch_and_missing_value_line() {
        let text = "Ip: Forwarding DefaultTTL InReceives\n\
Ip: 2 64\n\
Tcp: RtoAlgorithm RtoMin\n\
Udp: InDatagrams NoPorts\n\
Udp: 170 0\n\
Icmp: InMsgs InErrors\n\
Icmp: 2 x\n\
just text\n\
Icmp: InMsgs\n\
Icmp: 3\n\
UdpLite: InDatagrams\n";
        let (counters, notes) = parse_proc_net_snmp("proc/net/snmp", text);
        let got: Vec<(Option<u32>, &str)> =
            notes.iter().map(|n| (n.line, n.message.as_str())).collect();
        assert_eq!(got.len(), 6, "{got:?}");
        assert_eq!(
            got[0],
            (Some(2), "3 names on line 1 but 2 values; group Ip ignored")
        );
        assert_eq!(got[1].0, Some(3));
        assert!(got[1].1.contains("Tcp have no value line"));
        assert_eq!(got[2], (Some(7), "not integers, left out: InErrors=x"));
        assert_eq!(got[3].0, Some(8));
        assert_eq!(
            got[4],
            (Some(10), "group Icmp appears twice; the second is ignored")
        );
        assert_eq!(got[5].0, Some(11));
        assert_eq!(counters.value("Udp", "NoPorts"), Some(0));
        assert_eq!(counters.value("Icmp", "InMsgs"), Some(2));
        assert_eq!(counters.value("Icmp", "InErrors"), None);
        assert!(!counters.values.contains_key("Ip") && !counters.values.contains_key("Tcp"));
    }

    #[test]
    fn truncated_snmp_keeps_the_complete_groups() {
        // Cut inside the Udp values: everything before is used.
        let cut = &SNMP[..SNMP.find("Udp: 176 0 0 1").expect("udp") + 13];
        let (counters, notes) = parse_proc_net_snmp("proc/net/snmp", cut);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].line, Some(10));
        assert!(counters.values.contains_key("Tcp") && !counters.values.contains_key("Udp"));
        // Cut inside the last number of a value line: the count matches but
        // the number may be short, so the group is not used.
        let cut = &SNMP[..SNMP.find("Udp: 176").expect("udp") + 7];
        let (counters, notes) = parse_proc_net_snmp("proc/net/snmp", cut);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].message.contains("cut short"));
        assert!(!counters.values.contains_key("Udp"));
        // Cut inside a names line.
        let cut = &NETSTAT[..300];
        let (counters, notes) = parse_proc_net_snmp("proc/net/netstat", cut);
        assert!(counters.values.is_empty());
        assert_eq!((notes.len(), notes[0].line), (1, Some(1)));
    }

    #[test]
    fn snmp_garbage_never_panics() {
        for text in [
            "",
            "\n\n",
            ":",
            ": 1 2",
            "Tcp:",
            "Tcp:\nTcp:\n",
            "\u{0}:\u{1}",
            "é: x\né: 1",
        ] {
            let (_, notes) = parse_proc_net_snmp("proc/net/snmp", text);
            assert!(!notes.is_empty() || text == "Tcp:\nTcp:\n", "{text:?}");
        }
        let mut notes = Vec::new();
        let mut counters = parse_proc_net_snmp("proc/net/snmp", SNMP).0;
        counters.merge(parse_proc_net_snmp("proc/net/netstat", SNMP).0, &mut notes);
        assert_eq!(notes.len(), 6);
        assert_eq!(notes[0].input, "proc/net/netstat");
        assert_eq!(counters.origins["Tcp"].input, "proc/net/snmp");
    }

    #[test]
    fn proc_net_dev_current_and_old_formats() {
        let (interfaces, notes) = parse_proc_net_dev("proc/net/dev", DEV);
        assert!(notes.is_empty(), "{notes:?}");
        let names: Vec<&str> = interfaces.iter().map(|i| i.iface.as_str()).collect();
        assert_eq!(names, ["lo", "ifb0", "ifb1", "eth0"]);
        let eth0 = &interfaces[3];
        assert_eq!(
            (
                eth0.rx_bytes,
                eth0.rx_packets,
                eth0.tx_bytes,
                eth0.tx_packets,
                eth0.line
            ),
            (147954557, 9474, 710876, 6415, 6)
        );
        assert!(eth0.excerpt.starts_with("eth0: 147954557"));
        // The layout of 2.6-era kernels, where a wide rx_bytes touches the
        // colon; numbers made up.
        let old = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:1083417    8760    0    0    0     0          0         0  1083417    8760    0    0    0     0       0          0
  eth0:3285625463 4398577    3   17    0     2          0      1201 1375412372 3765338    0    0    0     5       1          0
";
        let (interfaces, notes) = parse_proc_net_dev("proc/net/dev", old);
        assert!(notes.is_empty(), "{notes:?}");
        let eth0 = &interfaces[1];
        assert_eq!(
            (
                eth0.iface.as_str(),
                eth0.rx_bytes,
                eth0.rx_errs,
                eth0.rx_drop,
                eth0.rx_frame
            ),
            ("eth0", 3285625463, 3, 17, 2)
        );
        assert_eq!(
            (eth0.rx_multicast, eth0.tx_colls, eth0.tx_carrier),
            (1201, 5, 1)
        );
    }

    #[test]
    fn proc_net_dev_truncated_and_garbage() {
        // Cut in the middle of eth0's line.
        let cut = &DEV[..DEV.find("710876").expect("eth0")];
        let (interfaces, notes) = parse_proc_net_dev("proc/net/dev", cut);
        assert_eq!(interfaces.len(), 3);
        assert_eq!((notes.len(), notes[0].line), (1, Some(6)));
        let mut text: String = DEV.lines().take(2).map(|l| format!("{l}\n")).collect();
        text.push_str("  eth9: 1 2 3\nno colon here\n   : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n  eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n");
        text.push_str(DEV.lines().nth(2).expect("lo"));
        text.push('\n');
        let (interfaces, notes) = parse_proc_net_dev("proc/net/dev", &text);
        assert_eq!(interfaces.len(), 1);
        let lines: Vec<Option<u32>> = notes.iter().map(|n| n.line).collect();
        assert_eq!(lines, [Some(3), Some(4), Some(5), Some(6)]);
        let (_, notes) = parse_proc_net_dev("proc/net/dev", "");
        assert_eq!(notes[0].message, "empty file (cut short?)");
        let (_, notes) = parse_proc_net_dev("proc/net/dev", "Inter-|   Receive");
        assert_eq!(notes[0].message, "second header line missing (cut short?)");
        let (_, notes) = parse_proc_net_dev("proc/net/dev", "garbage\n");
        assert_eq!(notes[0].line, Some(1));
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

    /// Reads this machine's live counters (read-only). Run alone with
    /// `cargo test live_`.
    #[test]
    fn live_counters_parse_without_notes() {
        let read = |name: &str| std::fs::read_to_string(format!("/{name}")).ok();
        let snmp = read("proc/net/snmp").expect("/proc/net/snmp");
        let (counters, notes) = parse_proc_net_snmp("proc/net/snmp", &snmp);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(counters.value("Tcp", "OutSegs").is_some());
        let netstat = read("proc/net/netstat").expect("/proc/net/netstat");
        let (counters, notes) = parse_proc_net_snmp("proc/net/netstat", &netstat);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(counters.value("TcpExt", "ListenOverflows").is_some());
        let dev = read("proc/net/dev").expect("/proc/net/dev");
        let (interfaces, notes) = parse_proc_net_dev("proc/net/dev", &dev);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(interfaces.iter().any(|i| i.iface == "lo"));
        let (_, notes) = parse_conntrack(
            read(CONNTRACK_COUNT).as_deref(),
            read(CONNTRACK_MAX).as_deref(),
        );
        assert!(notes.is_empty(), "{notes:?}");
    }
}
