//! Packet captures: read pcap/pcapng files, decode every frame once and
//! keep bounded counters that tell a misconfiguration from an attack.
//!
//! ```text
//!  bytes ──file::read_frames──▶ Frame ──decode::decode──▶ Decoded ──Analyser──▶ CaptureSummary
//! ```
//!
//! One pass, bounded memory: every map keyed by addresses holds at most
//! [`MAX_KEYS`] entries; what did not fit is counted in
//! [`CaptureSummary::overflowed`]. Per-packet lists are never kept: a
//! summary carries counts, the top entries and a few evidence records
//! whose `line` is the packet number (as `tcpdump --number` and Wireshark
//! count them) and whose excerpt is a `tcpdump -n`-like line.
//!
//! What the counts mean for this host needs the host's connected subnets,
//! which a capture alone does not have: `diag_core::facts::capture::view` joins the summaries with
//! `diag_core::facts::netview::NetFacts` into what rule conditions see
//! (`facts.capture`).

pub mod build;
pub mod connections;
pub mod decode;
pub mod file;

use crate::model::Note;
use crate::model::Record;
pub use connections::Connection;
use connections::Connections;
use decode::{Decoded, Transport};
use hickory_proto::op::{Message, ResponseCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The capture's hash maps: foldhash, seeded per process (addresses in a
/// capture are chosen by whoever sends the packets), several times faster
/// than SipHash on the small keys the analyser hashes per packet.
pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// The capture's hash sets (see [`HashMap`]).
pub type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
use std::net::{IpAddr, Ipv4Addr};

/// Maps keyed by addresses hold at most this many entries.
pub const MAX_KEYS: usize = 100_000;
/// Evidence records kept per kind.
pub const SAMPLES: usize = 10;
/// Top entries kept in lists (talkers, resolvers, scanners).
const TOP: usize = 5;
/// DNS queries younger than this at the end of a capture are not yet
/// counted as unanswered.
const DNS_GRACE_NS: u128 = 1_000_000_000;

/// A host that sent or received much of the traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Talker {
    /// IP address.
    pub address: String,
    /// Packets from or to it.
    pub packets: u64,
    /// Bytes on the wire from or to it.
    pub bytes: u64,
}

/// An address asked for by ARP, with how often.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArpTarget {
    /// The address asked for.
    pub address: String,
    /// Requests for it.
    pub requests: u64,
}

/// ARP on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArpSummary {
    /// Requests (who-has), gratuitous ones and probes excluded.
    pub requests: u64,
    /// Replies.
    pub replies: u64,
    /// Gratuitous ARP (sender address = target address) and probes
    /// (sender 0.0.0.0).
    pub gratuitous: u64,
    /// Replies for which no request was seen (cache poisoning looks so).
    pub unsolicited_replies: u64,
    /// Requests per second over the capture.
    pub request_rate: f64,
    /// Distinct addresses asked for.
    pub distinct_targets: u64,
    /// Distinct addresses asked for that no reply in the capture answered.
    pub unanswered_targets: u64,
    /// The most requested unanswered addresses.
    pub top_unanswered: Vec<ArpTarget>,
    /// Addresses claimed by two or more hardware addresses.
    pub conflicts: u64,
    /// One record per conflict (the packet with the second MAC).
    pub conflict_samples: Vec<Record>,
    /// ARP frames that could not be decoded (odd address lengths).
    pub malformed: u64,
    /// The first requests, as evidence.
    pub samples: Vec<Record>,
    /// Every distinct target: first packet number and the asking address.
    #[serde(skip)]
    pub targets: HashMap<Ipv4Addr, (u64, Ipv4Addr)>,
    /// Requests (who-has), by asker (sender IP address), with their peak
    /// rate: an ARP storm.
    pub who_has: Burst,
    /// Gratuitous ARP (announcements and probes), by sender MAC.
    pub announcements: Burst,
    /// Replies for which no request was seen, by sender MAC.
    pub unsolicited: Burst,
    /// The hardware addresses that sent unsolicited replies, most first
    /// (at most five).
    pub spoofers: Vec<Spoofer>,
    /// Requests per target address.
    #[serde(skip)]
    pub requests_for: HashMap<Ipv4Addr, u64>,
    /// Addresses some reply claimed.
    #[serde(skip)]
    pub answered: HashSet<Ipv4Addr>,
    /// Per address claimed by an unsolicited reply: replies, first packet
    /// number and the claiming hardware address.
    #[serde(skip)]
    pub unsolicited_claims: HashMap<Ipv4Addr, (u64, u64, [u8; 6])>,
}

/// TCP connection set-up on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TcpSummary {
    /// SYN without ACK.
    pub syn: u64,
    /// SYN-ACK.
    pub synack: u64,
    /// RST.
    pub rst: u64,
    /// FIN.
    pub fin: u64,
    /// SYNs per second over the capture.
    pub syn_rate: f64,
    /// Distinct SYN sources.
    pub syn_sources: u64,
    /// Distinct SYN destination addresses.
    pub syn_destinations: u64,
    /// SYNs that repeat one already seen (same source, ports, destination):
    /// clients retrying, which spoofed floods rarely do.
    pub syn_retransmits: u64,
    /// The service (`address:port`) that received the most SYNs.
    pub top_service: String,
    /// SYNs to it.
    pub top_service_syns: u64,
    /// Distinct sources of those SYNs.
    pub top_service_sources: u64,
    /// SYN-ACKs it sent.
    pub top_service_synacks: u64,
    /// `synack / syn` (0 when no SYN): how many handshakes got an answer.
    pub handshake_ratio: f64,
    /// Connections whose SYN is in the capture and whose client then sent
    /// a plain ACK (the handshake completed): spoofed flood sources never
    /// do, so a busy server with many completions is busy, not flooded.
    pub established: u64,
    /// `established / distinct SYN flows` (0 when no SYN).
    pub established_ratio: f64,
    /// The first SYNs to the top service, as evidence.
    pub samples: Vec<Record>,
    /// SYN sources that this capture also saw ARPed for (IPv4).
    #[serde(skip)]
    pub sources_arped: Vec<Ipv4Addr>,
    /// RST segments, by sender.
    pub rsts: Burst,
    /// Segments advertising a zero window (SYN and RST left out), by sender.
    pub zero_windows: Burst,
    /// Segments carrying data.
    pub data_segments: u64,
    /// Data segments whose bytes were all seen before in their flow
    /// (retransmitted, or reordered), by sender.
    pub retransmitted: Burst,
    /// `retransmitted / data_segments`, in per cent.
    pub retransmit_percent: f64,
    /// Each TCP connection, when the capture had at most
    /// [`connections::MAX_CONNECTIONS`] (empty otherwise: a busy capture is
    /// judged in aggregate).
    pub connections: Vec<Connection>,
}

/// A source that probed many ports of one host, or one port of many hosts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scan {
    /// The scanning address.
    pub source: String,
    /// `ports` (vertical: many ports of `target`) or `hosts` (horizontal).
    pub kind: String,
    /// The host scanned (vertical scans), empty for horizontal ones.
    pub target: String,
    /// Distinct ports (vertical) or hosts (horizontal) probed.
    pub probed: u64,
    /// SYNs the source sent.
    pub syns: u64,
    /// Canonical input name.
    pub input: String,
    /// Packet number of its first SYN.
    pub line: u32,
    /// That SYN, described.
    pub excerpt: String,
}

/// DNS traffic of one resolver.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResolverStats {
    /// The resolver's address.
    pub address: String,
    /// Queries sent to it.
    pub queries: u64,
    /// Responses from it.
    pub responses: u64,
    /// Queries without a response (older than a second at the end).
    pub unanswered: u64,
    /// SERVFAIL responses.
    pub servfail: u64,
    /// NXDOMAIN responses.
    pub nxdomain: u64,
    /// Distinct names (case folded) among them, counted up to
    /// [`NX_NAMES`]: many names failing is a domain generation algorithm
    /// or a wrong search domain, one name failing again and again is not.
    pub nxdomain_names: u64,
    /// REFUSED responses.
    pub refused: u64,
    /// Responses per rcode name (extended rcodes included: BADVERS, BADCOOKIE).
    pub rcodes: BTreeMap<String, u64>,
    /// The first unanswered or failed queries, as evidence.
    pub samples: Vec<Record>,
    /// The first responses with another error (NXDOMAIN, REFUSED,
    /// FORMERR, NOTIMP, BADVERS, BADCOOKIE, ...), as evidence.
    pub error_samples: Vec<Record>,
}

/// DHCPv4 on the wire (UDP between ports 67 and 68), by message type
/// (option 53).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DhcpSummary {
    /// DHCPDISCOVER: a client looking for a server.
    pub discovers: u64,
    /// DHCPOFFER: a server's answer to a discover.
    pub offers: u64,
    /// DHCPREQUEST: a client asking for (or renewing) an address.
    pub requests: u64,
    /// DHCPACK: the server grants it.
    pub acks: u64,
    /// DHCPNAK: the server refuses it.
    pub naks: u64,
    /// DHCPDECLINE: the client found the offered address in use.
    pub declines: u64,
    /// BOOTP/DHCP messages that could not be read.
    pub malformed: u64,
    /// The first messages of each kind above, as evidence.
    pub samples: Vec<Record>,
}

/// The DHCP message type (option 53) of a BOOTP message: `None` when it
/// is not one (too short, no magic cookie, no option 53 before the end).
fn dhcp_message_type(payload: &[u8]) -> Option<u8> {
    // op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr,
    // giaddr, chaddr (16), sname (64), file (128): 236 bytes, then the
    // magic cookie 99.130.83.99 and the options.
    if payload.get(236..240)? != [99, 130, 83, 99] {
        return None;
    }
    let mut options = &payload[240..];
    loop {
        match *options.first()? {
            0 => options = &options[1..],
            255 => return None,
            code => {
                let len = usize::from(*options.get(1)?);
                let value = options.get(2..2 + len)?;
                if code == 53 {
                    return value.first().copied();
                }
                options = &options[2 + len..];
            }
        }
    }
}

/// DNS on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DnsSummary {
    /// Queries.
    pub queries: u64,
    /// Responses.
    pub responses: u64,
    /// Queries without a response, all resolvers.
    pub unanswered: u64,
    /// SERVFAIL responses, all resolvers.
    pub servfail: u64,
    /// NXDOMAIN responses, all resolvers.
    pub nxdomain: u64,
    /// DNS messages that could not be parsed.
    pub malformed: u64,
    /// Per resolver, most queries first (at most five).
    pub resolvers: Vec<ResolverStats>,
}

/// Frames of one kind (ARP requests, RSTs, ICMP unreachables, ...): how
/// many, how many at most within one second, who sent most of them, and
/// the first ones as evidence.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Burst {
    /// Frames of this kind.
    pub packets: u64,
    /// Most of them within one wall-clock second of the capture.
    pub peak_per_second: u64,
    /// Their senders with most frames first (IP address, or hardware
    /// address for ARP and broadcast frames), the top five.
    pub top_senders: Vec<Talker>,
    /// The first ones, as evidence.
    pub samples: Vec<Record>,
}

impl Burst {
    fn schema_sample() -> Self {
        Burst {
            top_senders: vec![Talker::default()],
            samples: vec![Record::default()],
            ..Burst::default()
        }
    }
}

/// A hardware address that sent ARP replies nobody asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Spoofer {
    /// The hardware address.
    pub mac: String,
    /// Unsolicited replies it sent.
    pub replies: u64,
    /// Distinct addresses it claimed in them.
    pub addresses: u64,
    /// The first of those addresses (at most five).
    pub claimed: Vec<String>,
}

/// ICMP errors on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IcmpSummary {
    /// Destination unreachable (ICMP type 3, ICMPv6 type 1).
    pub unreachable: Burst,
    /// Unreachables per code name (`port`, `host`, `net`,
    /// `admin-prohibited`, `fragmentation-needed`, ...).
    pub unreachable_codes: BTreeMap<String, u64>,
    /// Redirects (ICMP type 5, ICMPv6 type 137).
    pub redirects: Burst,
}

/// Everything diag keeps of one capture.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CaptureSummary {
    /// Canonical input name (`capture/eth0.pcap`).
    pub input: String,
    /// `pcap` or `pcapng`.
    pub format: String,
    /// Link type of the first interface.
    pub link_type: u32,
    /// Packets read.
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    /// Seconds from the first packet to the last.
    pub duration: f64,
    /// Wall-clock time of the first packet, microseconds since the Unix
    /// epoch; 0 when there is no packet.
    pub start_us: i64,
    /// The file ends inside a record (what came before was analysed).
    pub truncated: bool,
    /// Packets that could not be decoded as far as their headers claim.
    pub malformed: u64,
    /// Packets per protocol (`arp`, `tcp`, `udp`, `dns`, `icmp`, ...).
    pub protocols: BTreeMap<String, u64>,
    /// Broadcast and multicast share of the packets (0..1).
    pub broadcast_share: f64,
    /// Addresses by bytes, the top five.
    pub top_talkers: Vec<Talker>,
    /// ARP.
    pub arp: ArpSummary,
    /// TCP set-up.
    pub tcp: TcpSummary,
    /// Port and host scans.
    pub scans: Vec<Scan>,
    /// ICMP destination-unreachable messages.
    pub icmp_unreachable: u64,
    /// ICMP redirects.
    pub icmp_redirects: u64,
    /// ICMPv6 neighbour solicitations.
    pub nd_solicitations: u64,
    /// ICMPv6 neighbour solicitations, by sender, with their peak rate.
    pub nd_solicits: Burst,
    /// ICMP errors.
    pub icmp: IcmpSummary,
    /// Broadcast and multicast frames, by sender (MAC on Ethernet).
    pub broadcast: Burst,
    /// DNS.
    pub dns: DnsSummary,
    /// DHCPv4.
    pub dhcp: DhcpSummary,
    /// Keys that did not fit in a bounded map (the counts that depend on
    /// them are lower bounds).
    pub overflowed: u64,
}

impl CaptureSummary {
    /// A summary with one default element in every list (the shape rule
    /// conditions are checked against).
    pub fn schema_sample() -> Self {
        let mut s = CaptureSummary {
            top_talkers: vec![Talker::default()],
            scans: vec![Scan::default()],
            ..CaptureSummary::default()
        };
        s.protocols.insert(String::new(), 0);
        s.arp.top_unanswered = vec![ArpTarget::default()];
        s.arp.conflict_samples = vec![Record::default()];
        s.arp.samples = vec![Record::default()];
        s.tcp.samples = vec![Record::default()];
        s.arp.who_has = Burst::schema_sample();
        s.arp.announcements = Burst::schema_sample();
        s.arp.unsolicited = Burst::schema_sample();
        s.arp.spoofers = vec![Spoofer {
            claimed: vec![String::new()],
            ..Spoofer::default()
        }];
        s.tcp.rsts = Burst::schema_sample();
        s.tcp.zero_windows = Burst::schema_sample();
        s.tcp.retransmitted = Burst::schema_sample();
        s.tcp.connections = vec![Connection::schema_sample()];
        s.nd_solicits = Burst::schema_sample();
        s.icmp.unreachable = Burst::schema_sample();
        s.icmp.redirects = Burst::schema_sample();
        s.icmp.unreachable_codes.insert(String::new(), 0);
        s.broadcast = Burst::schema_sample();
        let mut r = ResolverStats {
            samples: vec![Record::default()],
            error_samples: vec![Record::default()],
            ..ResolverStats::default()
        };
        r.rcodes.insert(String::new(), 0);
        s.dns.resolvers = vec![r];
        s.dhcp.samples = vec![Record::default()];
        s
    }
}

#[derive(Default)]
struct Service {
    syns: u64,
    synacks: u64,
    first: Vec<(u64, String)>,
}

/// A DNS query: client address and port, resolver, query id.
type DnsKey = Quad;

/// A TCP flow, one direction: source address and port, destination
/// address and port.
type FlowKey = Quad;

/// What is known of a TCP flow (one direction) that sent data or
/// completed a handshake.
#[derive(Debug, Clone, Copy)]
struct FlowState {
    /// The end of the highest sequence number it sent data to.
    high: Option<u32>,
    /// A SYN of it was seen, then an ACK without SYN: established.
    completed: bool,
}

/// Two addresses and two 16-bit numbers, as a key hashed in one write
/// (two addresses of IPv4) or three, where the tuple's derived `Hash`
/// makes eight (an address is a discriminant, a length and bytes): these
/// keys are looked up several times for most TCP segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quad(IpAddr, u16, IpAddr, u16);

impl std::hash::Hash for Quad {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let numbers = u128::from(self.1) << 16 | u128::from(self.3);
        match (self.0, self.2) {
            (IpAddr::V4(a), IpAddr::V4(b)) => h.write_u128(
                u128::from(a.to_bits()) << 64 | u128::from(b.to_bits()) << 32 | numbers,
            ),
            (a, b) => {
                let bits = |ip: IpAddr| match ip {
                    IpAddr::V4(v4) => u128::from(v4.to_bits()),
                    IpAddr::V6(v6) => v6.to_bits(),
                };
                h.write_u128(bits(a));
                h.write_u128(bits(b) ^ numbers);
            }
        }
    }
}

/// Who sent a frame: its IP address, or its hardware address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Sender {
    Ip(IpAddr),
    Mac([u8; 6]),
}

impl std::fmt::Display for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sender::Ip(ip) => write!(f, "{ip}"),
            Sender::Mac(mac) => f.write_str(&decode::mac(mac)),
        }
    }
}

/// Counts the frames of one kind as they stream by (see [`Burst`]).
#[derive(Default)]
struct BurstCounter {
    packets: u64,
    second: u64,
    in_second: u64,
    peak: u64,
    senders: HashMap<Sender, (u64, u64)>,
    samples: Vec<Record>,
}

impl BurstCounter {
    /// Counts one frame; true when it should also be kept as a sample.
    fn count(
        &mut self,
        time_ns: u128,
        sender: Sender,
        wire_len: u32,
        overflowed: &mut u64,
    ) -> bool {
        let second = u64::try_from(time_ns / 1_000_000_000).unwrap_or(u64::MAX);
        if self.packets == 0 || second != self.second {
            self.second = second;
            self.in_second = 0;
        }
        self.packets += 1;
        self.in_second += 1;
        self.peak = self.peak.max(self.in_second);
        if let Some(t) = bounded_insert(&mut self.senders, sender, overflowed, || (0, 0)) {
            t.0 += 1;
            t.1 += u64::from(wire_len);
        }
        self.samples.len() < SAMPLES
    }

    fn finish(self) -> Burst {
        let mut senders: Vec<(Sender, (u64, u64))> = self.senders.into_iter().collect();
        crate::sort::sort_by(&mut senders, |a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        Burst {
            packets: self.packets,
            peak_per_second: self.peak,
            top_senders: senders
                .into_iter()
                .take(TOP)
                .map(|(who, (packets, bytes))| Talker {
                    address: who.to_string(),
                    packets,
                    bytes,
                })
                .collect(),
            samples: self.samples,
        }
    }
}

/// The name of an ICMP (`version` 4) or ICMPv6 destination-unreachable code.
fn unreachable_code(version: u8, code: u8) -> String {
    let name = match (version, code) {
        (4, 0) | (6, 0) => "net",
        (4, 1) | (6, 3) => "host",
        (4, 2) => "protocol",
        (4, 3) | (6, 4) => "port",
        (4, 4) => "fragmentation-needed",
        (4, 5) => "source-route-failed",
        (4, 6) => "net-unknown",
        (4, 7) => "host-unknown",
        (4, 9) | (4, 10) | (4, 13) | (6, 1) => "admin-prohibited",
        (6, 2) => "beyond-scope",
        (6, 5) => "policy-failed",
        (6, 6) => "reject-route",
        _ => return format!("code {code}"),
    };
    name.to_string()
}

/// The state of one pass over a capture whose bytes live for `'a`.
#[derive(Default)]
struct Analyser<'a> {
    input: String,
    s: CaptureSummary,
    first_ns: Option<u128>,
    last_ns: u128,
    // Packets per protocol name (a handful of names: a list beats a map).
    protocols: Vec<(&'static str, u64)>,
    broadcast: BurstCounter,
    talkers: Talkers,
    arp_claims: HashMap<Ipv4Addr, [u8; 6]>,
    who_has: BurstCounter,
    announcements: BurstCounter,
    unsolicited: BurstCounter,
    // Hardware address → unsolicited replies, addresses claimed.
    spoofers: HashMap<[u8; 6], (u64, Vec<Ipv4Addr>)>,
    nd_solicits: BurstCounter,
    rsts: BurstCounter,
    zero_windows: BurstCounter,
    retransmitted: BurstCounter,
    flows: HashMap<FlowKey, FlowState>,
    icmp_unreachable: BurstCounter,
    icmp_redirects: BurstCounter,
    syn_sources: HashSet<IpAddr>,
    syn_destinations: HashSet<IpAddr>,
    syn_seen: HashSet<FlowKey>,
    services: HashMap<(IpAddr, u16), Service>,
    service_sources: HashSet<(IpAddr, u16, IpAddr)>,
    // (source, destination) → ports; source → destinations on one port.
    scan_ports: HashMap<(IpAddr, IpAddr), (HashSet<u16>, u64, String)>,
    scan_hosts: HashMap<(IpAddr, u16), (HashSet<IpAddr>, u64, String)>,
    dns_pending: HashMap<DnsKey, PendingQuery<'a>>,
    resolvers: HashMap<IpAddr, ResolverStats>,
    /// Per resolver, hashes of the names it answered NXDOMAIN for.
    nx_names: HashMap<IpAddr, HashSet<u64>>,
    connections: Connections,
}

/// Packets and bytes per address. The last few addresses are counted in
/// front of the map and added to it when they make room for another:
/// nearly every frame shares an address with one shortly before it (a
/// server, a conversation), and four compares cost less than two hash
/// lookups per frame.
///
/// Past [`MAX_KEYS`] addresses, which one is left out depends on when it
/// reaches the map; every frame left out is still counted as overflowed.
#[derive(Default)]
struct Talkers {
    map: HashMap<IpAddr, (u64, u64)>,
    /// Address, packets and bytes not yet in `map`.
    recent: [Option<(IpAddr, u64, u64)>; 4],
    /// The slot the next new address takes.
    next: usize,
}

impl Talkers {
    fn count(&mut self, ip: IpAddr, bytes: u64, overflowed: &mut u64) {
        for (cached, packets, sum) in self.recent.iter_mut().flatten() {
            if *cached == ip {
                *packets += 1;
                *sum += bytes;
                return;
            }
        }
        let slot = self.next;
        self.next = (slot + 1) % self.recent.len();
        if let Some(old) = self.recent[slot].replace((ip, 1, bytes)) {
            self.add(old, overflowed);
        }
    }

    fn add(&mut self, (ip, packets, bytes): (IpAddr, u64, u64), overflowed: &mut u64) {
        match bounded_insert(&mut self.map, ip, overflowed, || (0, 0)) {
            Some(t) => {
                t.0 += packets;
                t.1 += bytes;
            }
            // `bounded_insert` counted one frame.
            None => *overflowed += packets - 1,
        }
    }

    fn into_map(mut self, overflowed: &mut u64) -> HashMap<IpAddr, (u64, u64)> {
        for entry in std::mem::take(&mut self.recent).into_iter().flatten() {
            self.add(entry, overflowed);
        }
        self.map
    }
}

fn bounded_insert<'m, K: std::hash::Hash + Eq, V>(
    map: &'m mut HashMap<K, V>,
    key: K,
    overflowed: &mut u64,
    default: impl FnOnce() -> V,
) -> Option<&'m mut V> {
    // Below the bound (nearly always) one lookup does it.
    if map.len() >= MAX_KEYS && !map.contains_key(&key) {
        *overflowed += 1;
        return None;
    }
    Some(map.entry(key).or_insert_with(default))
}

fn bounded_set<K: std::hash::Hash + Eq>(
    set: &mut HashSet<K>,
    key: K,
    overflowed: &mut u64,
) -> bool {
    if set.len() < MAX_KEYS {
        return set.insert(key);
    }
    if !set.contains(&key) {
        *overflowed += 1;
    }
    false
}

/// Decoded frames, read by both analyser threads of a split analysis.
type Batch<'a> = Arc<Vec<(file::Frame<'a>, Decoded<'a>)>>;

/// Hands batches to both analyser threads, and refills those they are done
/// with.
struct Fanout<'a> {
    link: std::sync::mpsc::SyncSender<Batch<'a>>,
    /// With the time of the capture's first frame (evidence gives times
    /// from it).
    tcp: std::sync::mpsc::SyncSender<(u128, Batch<'a>)>,
    /// Batches sent (at most about `2 * QUEUE + 2` in flight).
    sent: Vec<Batch<'a>>,
}

impl<'a> Fanout<'a> {
    fn send(&mut self, frames: Vec<(file::Frame<'a>, Decoded<'a>)>, first_ns: u128) {
        let batch = Arc::new(frames);
        // A send fails only when a thread is gone: it panicked, and its
        // `join` passes the panic on.
        let _ = self.link.send(batch.clone());
        let _ = self.tcp.send((first_ns, batch.clone()));
        self.sent.push(batch);
    }

    /// An empty batch: one both threads are done with, or a new one.
    fn spare(&mut self) -> Vec<(file::Frame<'a>, Decoded<'a>)> {
        let done = (self.sent.iter())
            .position(|b| Arc::strong_count(b) == 1)
            .and_then(|i| Arc::try_unwrap(self.sent.swap_remove(i)).ok());
        match done {
            Some(mut frames) => {
                frames.clear();
                frames
            }
            None => Vec::with_capacity(BATCH),
        }
    }
}

/// Captures larger than this are analysed by three threads (see [`analyse`]).
pub const SPLIT_BYTES: usize = 4 << 20;
/// Frames handed from the reading thread to the analysers at a time.
const BATCH: usize = 2048;
/// Batches queued for each analyser thread.
const QUEUE: usize = 8;

impl<'a> Analyser<'a> {
    /// Takes over the TCP state of `t`, an analyser of the same frames
    /// that kept only that (the TCP thread of a split analysis).
    fn absorb(&mut self, t: Analyser<'a>) {
        let Analyser {
            s,
            rsts,
            zero_windows,
            retransmitted,
            flows,
            syn_sources,
            syn_destinations,
            syn_seen,
            services,
            service_sources,
            scan_ports,
            scan_hosts,
            connections,
            ..
        } = t;
        self.s.tcp = s.tcp;
        self.s.overflowed += s.overflowed;
        self.rsts = rsts;
        self.zero_windows = zero_windows;
        self.retransmitted = retransmitted;
        self.flows = flows;
        self.syn_sources = syn_sources;
        self.syn_destinations = syn_destinations;
        self.syn_seen = syn_seen;
        self.services = services;
        self.service_sources = service_sources;
        self.scan_ports = scan_ports;
        self.scan_hosts = scan_hosts;
        self.connections = connections;
    }

    fn record(&self, number: u64, excerpt: String) -> Record {
        Record {
            input: self.input.clone(),
            line: u32::try_from(number).unwrap_or(u32::MAX),
            excerpt,
        }
    }

    fn describe(&self, number: u64, time_ns: u128, d: &Decoded<'_>, wire_len: u32) -> String {
        let t = time_ns.saturating_sub(self.first_ns.unwrap_or(time_ns));
        format!(
            "#{number} +{}.{:06}s {}",
            t / 1_000_000_000,
            (t % 1_000_000_000) / 1_000,
            d.describe(wire_len)
        )
    }

    /// Counts `f` in the burst `pick` chooses, and keeps it as evidence
    /// while that burst has fewer than [`SAMPLES`].
    fn count(
        &mut self,
        pick: fn(&mut Self) -> &mut BurstCounter,
        f: &file::Frame<'_>,
        d: &Decoded<'_>,
        sender: Sender,
    ) {
        let mut overflowed = self.s.overflowed;
        let wanted = pick(self).count(f.time_ns, sender, f.wire_len, &mut overflowed);
        self.s.overflowed = overflowed;
        if wanted {
            let r = self.record(f.number, self.describe(f.number, f.time_ns, d, f.wire_len));
            pick(self).samples.push(r);
        }
    }

    /// Decodes a frame and counts all of it (one thread does it all).
    fn frame(&mut self, f: file::Frame<'a>) {
        let d = decode::decode(f.link_type, f.data);
        self.link_frame(&f, &d);
        self.transport(&f, &d);
    }

    /// Counts the link-layer share of a decoded frame, and its time.
    fn link_frame(&mut self, f: &file::Frame<'a>, d: &Decoded<'a>) {
        if self.first_ns.is_none() {
            self.first_ns = Some(f.time_ns);
        }
        self.last_ns = self.last_ns.max(f.time_ns);
        self.link(f, d);
    }

    /// The transport share of a frame: TCP, DNS and DHCP.
    fn transport(&mut self, f: &file::Frame<'a>, d: &Decoded<'a>) {
        self.tcp_share(f, d);
        self.dns_share(f, d);
    }

    /// One DHCP message: counted by type; the first of each kind kept.
    fn dhcp(&mut self, f: &file::Frame<'a>, d: &Decoded<'a>, payload: &[u8]) {
        let Some(kind) = dhcp_message_type(payload) else {
            self.s.dhcp.malformed += 1;
            return;
        };
        let dhcp = &mut self.s.dhcp;
        let (counter, name) = match kind {
            1 => (&mut dhcp.discovers, "DHCPDISCOVER"),
            2 => (&mut dhcp.offers, "DHCPOFFER"),
            3 => (&mut dhcp.requests, "DHCPREQUEST"),
            4 => (&mut dhcp.declines, "DHCPDECLINE"),
            5 => (&mut dhcp.acks, "DHCPACK"),
            6 => (&mut dhcp.naks, "DHCPNAK"),
            // RELEASE, INFORM, lease queries: not counted.
            _ => return,
        };
        *counter += 1;
        if *counter <= 2 && dhcp.samples.len() < SAMPLES {
            let text = format!(
                "{} {name}",
                self.describe(f.number, f.time_ns, d, f.wire_len)
            );
            self.s.dhcp.samples.push(Record {
                input: self.input.clone(),
                line: u32::try_from(f.number).unwrap_or(u32::MAX),
                excerpt: text,
            });
        }
    }

    /// The TCP share of a frame.
    fn tcp_share(&mut self, f: &file::Frame<'a>, d: &Decoded<'a>) {
        if let (Some(src), Some(dst), Transport::Tcp { .. }) = (d.src, d.dst, d.transport) {
            self.tcp(f, d, src, dst);
        }
    }

    /// The DNS (and DHCP) share of a frame.
    fn dns_share(&mut self, f: &file::Frame<'a>, d: &Decoded<'a>) {
        if let (
            Some(src),
            Some(dst),
            Transport::Udp {
                sport,
                dport,
                payload,
            },
        ) = (d.src, d.dst, d.transport)
        {
            if d.is_dns() {
                self.dns(f, d, (src, sport), (dst, dport), payload);
            } else if d.proto == "dhcp" {
                self.dhcp(f, d, payload);
            }
        }
    }

    /// The link-layer share of a frame: counts, protocols, broadcast,
    /// talkers, ARP and ICMP.
    fn link(&mut self, f: &file::Frame<'_>, d: &Decoded<'_>) {
        let s = &mut self.s;
        s.packets += 1;
        s.bytes += u64::from(
            f.wire_len
                .max(u32::try_from(f.data.len()).unwrap_or(u32::MAX)),
        );
        // The names are literals of `decode`: the pointer nearly always
        // finds the entry, and comparing text is left for when it does not.
        let slot = (self.protocols.iter())
            .position(|(p, _)| std::ptr::eq(*p, d.proto))
            .or_else(|| self.protocols.iter().position(|(p, _)| *p == d.proto));
        match slot {
            Some(i) => self.protocols[i].1 += 1,
            None => self.protocols.push((d.proto, 1)),
        }
        let s = &mut self.s;
        if d.malformed.is_some() {
            s.malformed += 1;
            if d.proto == "arp" {
                s.arp.malformed += 1;
            }
        }
        // Broadcast and multicast: the group bit of an Ethernet destination,
        // a multicast or limited-broadcast IP destination elsewhere.
        let group = if f.link_type == 1 {
            d.group.then(|| {
                let mut mac = [0u8; 6];
                mac.copy_from_slice(&f.data[6..12]);
                Sender::Mac(mac)
            })
        } else {
            match (d.src, d.dst) {
                (Some(src), Some(dst))
                    if dst.is_multicast() || dst == IpAddr::V4(Ipv4Addr::BROADCAST) =>
                {
                    Some(Sender::Ip(src))
                }
                _ => None,
            }
        };
        if let Some(sender) = group {
            self.count(|x| &mut x.broadcast, f, d, sender);
        }
        for ip in [d.src, d.dst].into_iter().flatten() {
            self.talkers
                .count(ip, u64::from(f.wire_len), &mut self.s.overflowed);
        }
        if let Some(a) = d.arp {
            self.arp(f, d, a);
        }
        if let (Some(src), Some(_)) = (d.src, d.dst) {
            if let Transport::Icmp {
                version,
                kind,
                code,
                ..
            } = d.transport
            {
                match (version, kind) {
                    (4, 3) | (6, 1) => {
                        self.s.icmp_unreachable += 1;
                        *self
                            .s
                            .icmp
                            .unreachable_codes
                            .entry(unreachable_code(version, code))
                            .or_default() += 1;
                        self.count(|x| &mut x.icmp_unreachable, f, d, Sender::Ip(src));
                    }
                    (4, 5) | (6, 137) => {
                        self.s.icmp_redirects += 1;
                        self.count(|x| &mut x.icmp_redirects, f, d, Sender::Ip(src));
                    }
                    (6, 135) => {
                        self.s.nd_solicitations += 1;
                        self.count(|x| &mut x.nd_solicits, f, d, Sender::Ip(src));
                    }
                    _ => {}
                }
            }
        }
    }

    fn arp(&mut self, f: &file::Frame<'_>, d: &Decoded<'_>, a: decode::Arp) {
        let s = &mut self.s;
        // Who claims which address: requests and replies both announce
        // the sender's binding.
        if !a.spa.is_unspecified() {
            if let Some(mac) =
                bounded_insert(&mut self.arp_claims, a.spa, &mut s.overflowed, || a.sha)
            {
                if *mac != a.sha {
                    s.arp.conflicts += 1;
                    let old = decode::mac(mac);
                    *mac = a.sha;
                    if s.arp.conflict_samples.len() < SAMPLES {
                        let text = format!(
                            "{} (was {old})",
                            self.describe(f.number, f.time_ns, d, f.wire_len)
                        );
                        let r = self.record(f.number, text);
                        self.s.arp.conflict_samples.push(r);
                    }
                }
            }
        }
        let s = &mut self.s;
        match a.op {
            1 | 2 if a.spa == a.tpa || a.spa.is_unspecified() => {
                s.arp.gratuitous += 1;
                if a.op == 2 {
                    s.arp.replies += 1;
                }
                self.count(|x| &mut x.announcements, f, d, Sender::Mac(a.sha));
            }
            1 => {
                s.arp.requests += 1;
                if let Some(n) =
                    bounded_insert(&mut s.arp.requests_for, a.tpa, &mut s.overflowed, || 0)
                {
                    *n += 1;
                }
                self.count(|x| &mut x.who_has, f, d, Sender::Ip(IpAddr::V4(a.spa)));
                let s = &mut self.s;
                if !s.arp.targets.contains_key(&a.tpa) {
                    if s.arp.targets.len() < MAX_KEYS {
                        s.arp.targets.insert(a.tpa, (f.number, a.spa));
                    } else {
                        s.overflowed += 1;
                    }
                }
                if s.arp.samples.len() < SAMPLES {
                    let r =
                        self.record(f.number, self.describe(f.number, f.time_ns, d, f.wire_len));
                    self.s.arp.samples.push(r);
                }
            }
            2 => {
                s.arp.replies += 1;
                bounded_set(&mut s.arp.answered, a.spa, &mut s.overflowed);
                if s.arp.requests_for.contains_key(&a.spa) {
                    return;
                }
                s.arp.unsolicited_replies += 1;
                if let Some(c) = bounded_insert(
                    &mut s.arp.unsolicited_claims,
                    a.spa,
                    &mut s.overflowed,
                    || (0, f.number, a.sha),
                ) {
                    c.0 += 1;
                }
                if let Some(sp) =
                    bounded_insert(&mut self.spoofers, a.sha, &mut s.overflowed, || {
                        (0, Vec::new())
                    })
                {
                    sp.0 += 1;
                    if sp.1.len() < 64 && !sp.1.contains(&a.spa) {
                        sp.1.push(a.spa);
                    }
                }
                self.count(|x| &mut x.unsolicited, f, d, Sender::Mac(a.sha));
            }
            _ => {}
        }
    }

    fn tcp(&mut self, f: &file::Frame<'_>, d: &Decoded<'_>, src: IpAddr, dst: IpAddr) {
        let Transport::Tcp {
            sport,
            dport,
            flags,
            seq,
            window,
            payload_len,
        } = d.transport
        else {
            return;
        };
        if d.is_rst() {
            self.s.tcp.rst += 1;
            self.count(|x| &mut x.rsts, f, d, Sender::Ip(src));
        } else if window == 0 && flags & 0x02 == 0 {
            self.count(|x| &mut x.zero_windows, f, d, Sender::Ip(src));
        }
        let flow = Quad(src, sport, dst, dport);
        let data = payload_len > 0 && flags & 0x06 == 0;
        let plain_ack = d.is_plain_ack();
        if data {
            self.s.tcp.data_segments += 1;
        }
        // One lookup gives a segment's flow both its highest sequence
        // number seen and whether its handshake completed.
        let mut seen_before = false;
        let mut completes = false;
        if data || plain_ack {
            let end = seq.wrapping_add(payload_len);
            let syn_seen = &self.syn_seen;
            let handshake = || !syn_seen.is_empty() && syn_seen.contains(&flow);
            match self.flows.get_mut(&flow) {
                Some(state) => {
                    if data {
                        match state.high {
                            // Sequence numbers wrap: compare by signed distance.
                            Some(high) if (high.wrapping_sub(end) as i32) >= 0 => {
                                // All its bytes were seen before, unless it
                                // is a keep-alive (one byte just below the edge).
                                seen_before = !(payload_len == 1 && high.wrapping_sub(seq) == 1);
                            }
                            _ => state.high = Some(end),
                        }
                    }
                    if plain_ack && !state.completed && handshake() {
                        state.completed = true;
                        completes = true;
                    }
                }
                None => {
                    let completed = plain_ack && handshake();
                    if data || completed {
                        if self.flows.len() < MAX_KEYS {
                            let high = data.then_some(end);
                            self.flows.insert(flow, FlowState { high, completed });
                            completes = completed;
                        } else {
                            self.s.overflowed += 1;
                        }
                    }
                }
            }
        }
        if seen_before {
            self.count(|x| &mut x.retransmitted, f, d, Sender::Ip(src));
        }
        self.connection(f, d, (src, sport, dst, dport), data, seen_before);
        let s = &mut self.s;
        if completes {
            s.tcp.established += 1;
        }
        if d.is_fin() {
            s.tcp.fin += 1;
        }
        if d.is_synack() {
            s.tcp.synack += 1;
            if let Some(svc) = self.services.get_mut(&(src, sport)) {
                svc.synacks += 1;
            }
        }
        if plain_ack {
            return;
        }
        if !d.is_syn() {
            return;
        }
        s.tcp.syn += 1;
        bounded_set(&mut self.syn_sources, src, &mut s.overflowed);
        bounded_set(&mut self.syn_destinations, dst, &mut s.overflowed);
        if !bounded_set(&mut self.syn_seen, flow, &mut s.overflowed)
            && self.syn_seen.contains(&flow)
        {
            s.tcp.syn_retransmits += 1;
        }
        bounded_set(
            &mut self.service_sources,
            (dst, dport, src),
            &mut s.overflowed,
        );
        // The SYN described, only when a table keeps it (formatting every
        // SYN of a flood would cost more than counting it).
        let wanted = self
            .services
            .get(&(dst, dport))
            .is_none_or(|svc| svc.first.len() < SAMPLES)
            || !self.scan_ports.contains_key(&(src, dst))
            || !self.scan_hosts.contains_key(&(src, dport));
        let text = if wanted {
            self.describe(f.number, f.time_ns, d, f.wire_len)
        } else {
            String::new()
        };
        let s = &mut self.s;
        if let Some(svc) = bounded_insert(
            &mut self.services,
            (dst, dport),
            &mut s.overflowed,
            Service::default,
        ) {
            svc.syns += 1;
            if svc.first.len() < SAMPLES {
                svc.first.push((f.number, text.clone()));
            }
        }
        if let Some(e) = bounded_insert(&mut self.scan_ports, (src, dst), &mut s.overflowed, || {
            (HashSet::default(), 0, format!("{}\u{0}{text}", f.number))
        }) {
            if e.0.len() < 65_536 {
                e.0.insert(dport);
            }
            e.1 += 1;
        }
        if let Some(e) = bounded_insert(
            &mut self.scan_hosts,
            (src, dport),
            &mut s.overflowed,
            || (HashSet::default(), 0, format!("{}\u{0}{text}", f.number)),
        ) {
            if e.0.len() < MAX_KEYS {
                e.0.insert(dst);
            }
            e.1 += 1;
        }
    }

    fn dns(
        &mut self,
        f: &file::Frame<'_>,
        d: &Decoded<'_>,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        payload: &'a [u8],
    ) {
        // The header and question are read by hand (no allocation on
        // the common path); hickory parses responses that carry
        // additional records, whose EDNS OPT record extends the rcode.
        let Some(h) = DnsHeader::read(payload) else {
            self.s.dns.malformed += 1;
            return;
        };
        let s = &mut self.s;
        if !h.response {
            s.dns.queries += 1;
            let resolver = dst.0;
            if let Some(r) =
                bounded_insert(&mut self.resolvers, resolver, &mut s.overflowed, || {
                    ResolverStats {
                        address: resolver.to_string(),
                        ..ResolverStats::default()
                    }
                })
            {
                r.queries += 1;
            }
            let key = Quad(src.0, src.1, dst.0, h.id);
            let room = self.dns_pending.len() < MAX_KEYS;
            if let std::collections::hash_map::Entry::Vacant(v) = self.dns_pending.entry(key) {
                if room {
                    v.insert(PendingQuery {
                        number: f.number,
                        time_ns: f.time_ns,
                        wire_len: f.wire_len,
                        payload,
                        dport: dst.1,
                    });
                } else {
                    s.overflowed += 1;
                }
            }
            return;
        }
        s.dns.responses += 1;
        let resolver = src.0;
        self.dns_pending.remove(&Quad(dst.0, dst.1, src.0, h.id));
        let code = if h.additional > 0 {
            match Message::from_vec(payload) {
                Ok(msg) => msg.response_code(),
                Err(_) => {
                    s.dns.malformed += 1;
                    ResponseCode::from_low(h.rcode)
                }
            }
        } else {
            ResponseCode::from_low(h.rcode)
        };
        if code == ResponseCode::ServFail {
            s.dns.servfail += 1;
        }
        if code == ResponseCode::NXDomain {
            s.dns.nxdomain += 1;
        }
        // Described only while its resolver keeps samples of its kind (a
        // flood of NXDOMAIN is counted, not described).
        let kept = |r: &ResolverStats| match code {
            ResponseCode::ServFail => r.samples.len(),
            _ => r.error_samples.len(),
        };
        let wanted = code != ResponseCode::NoError
            && self
                .resolvers
                .get(&resolver)
                .is_none_or(|r| kept(r) < SAMPLES);
        let text = wanted.then(|| {
            format!(
                "{} {}",
                self.describe(f.number, f.time_ns, d, f.wire_len),
                question(payload)
            )
        });
        let s = &mut self.s;
        let r = bounded_insert(&mut self.resolvers, resolver, &mut s.overflowed, || {
            ResolverStats {
                address: resolver.to_string(),
                ..ResolverStats::default()
            }
        });
        if let Some(r) = r {
            r.responses += 1;
            match code {
                ResponseCode::ServFail => r.servfail += 1,
                ResponseCode::NXDomain => {
                    r.nxdomain += 1;
                    let names = self.nx_names.entry(resolver).or_default();
                    if names.len() < NX_NAMES {
                        if let Some(h) = question_hash(payload) {
                            names.insert(h);
                        }
                    }
                }
                ResponseCode::Refused => r.refused += 1,
                _ => {}
            }
            let name = rcode_name(code);
            match r.rcodes.get_mut(name.as_ref()) {
                Some(n) => *n += 1,
                None => {
                    r.rcodes.insert(name.into_owned(), 1);
                }
            }
            if let Some(text) = text {
                let samples = if code == ResponseCode::ServFail {
                    &mut r.samples
                } else {
                    &mut r.error_samples
                };
                if samples.len() < SAMPLES {
                    samples.push(Record {
                        input: self.input.clone(),
                        line: u32::try_from(f.number).unwrap_or(u32::MAX),
                        excerpt: format!("{text} {code}"),
                    });
                }
            }
        }
    }

    fn finish(mut self, info: file::FileInfo) -> CaptureSummary {
        let mut s = std::mem::take(&mut self.s);
        s.input = self.input.clone();
        s.format = info.format;
        s.link_type = info.link_type;
        s.truncated = info.truncated;
        let duration_ns = self.last_ns.saturating_sub(self.first_ns.unwrap_or(0));
        s.duration = duration_ns as f64 / 1e9;
        s.start_us = self
            .first_ns
            .map_or(0, |ns| i64::try_from(ns / 1000).unwrap_or(i64::MAX));
        let per_second = |n: u64| {
            if s.duration > 0.0 {
                n as f64 / s.duration
            } else {
                n as f64
            }
        };
        s.arp.request_rate = per_second(s.arp.requests);
        s.tcp.syn_rate = per_second(s.tcp.syn);
        for (proto, n) in std::mem::take(&mut self.protocols) {
            *s.protocols.entry(proto.to_string()).or_default() += n;
        }
        let broadcast = std::mem::take(&mut self.broadcast).finish();
        if s.packets > 0 {
            s.broadcast_share = broadcast.packets as f64 / s.packets as f64;
        }
        s.broadcast = broadcast;
        s.arp.who_has = std::mem::take(&mut self.who_has).finish();
        s.arp.announcements = std::mem::take(&mut self.announcements).finish();
        s.arp.unsolicited = std::mem::take(&mut self.unsolicited).finish();
        let mut spoofers: Vec<_> = std::mem::take(&mut self.spoofers).into_iter().collect();
        crate::sort::sort_by(&mut spoofers, |a, b| {
            b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0))
        });
        s.arp.spoofers = spoofers
            .into_iter()
            .take(TOP)
            .map(|(mac, (replies, claimed))| Spoofer {
                mac: decode::mac(&mac),
                replies,
                addresses: claimed.len() as u64,
                claimed: claimed.iter().take(TOP).map(ToString::to_string).collect(),
            })
            .collect();
        s.nd_solicits = std::mem::take(&mut self.nd_solicits).finish();
        s.tcp.rsts = std::mem::take(&mut self.rsts).finish();
        s.tcp.zero_windows = std::mem::take(&mut self.zero_windows).finish();
        s.tcp.retransmitted = std::mem::take(&mut self.retransmitted).finish();
        s.tcp.connections = std::mem::take(&mut self.connections).finish();
        if s.tcp.data_segments > 0 {
            s.tcp.retransmit_percent =
                s.tcp.retransmitted.packets as f64 * 100.0 / s.tcp.data_segments as f64;
        }
        s.icmp.unreachable = std::mem::take(&mut self.icmp_unreachable).finish();
        s.icmp.redirects = std::mem::take(&mut self.icmp_redirects).finish();
        let mut talkers: Vec<(IpAddr, (u64, u64))> = std::mem::take(&mut self.talkers)
            .into_map(&mut s.overflowed)
            .into_iter()
            .collect();
        crate::sort::sort_by(&mut talkers, |a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(&b.0)));
        s.top_talkers = talkers
            .into_iter()
            .take(TOP)
            .map(|(ip, (packets, bytes))| Talker {
                address: ip.to_string(),
                packets,
                bytes,
            })
            .collect();
        // ARP.
        s.arp.distinct_targets = s.arp.targets.len() as u64;
        let mut unanswered: Vec<(Ipv4Addr, u64)> = s
            .arp
            .requests_for
            .iter()
            .filter(|(ip, _)| !s.arp.answered.contains(ip))
            .map(|(ip, n)| (*ip, *n))
            .collect();
        s.arp.unanswered_targets = unanswered.len() as u64;
        crate::sort::sort_by(&mut unanswered, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        s.arp.top_unanswered = unanswered
            .into_iter()
            .take(TOP)
            .map(|(ip, n)| ArpTarget {
                address: ip.to_string(),
                requests: n,
            })
            .collect();
        // TCP.
        s.tcp.syn_sources = self.syn_sources.len() as u64;
        s.tcp.syn_destinations = self.syn_destinations.len() as u64;
        s.tcp.sources_arped = self
            .syn_sources
            .iter()
            .filter_map(|ip| match ip {
                IpAddr::V4(v4) if s.arp.targets.contains_key(v4) => Some(*v4),
                _ => None,
            })
            .collect();
        if s.tcp.syn > 0 {
            s.tcp.handshake_ratio = s.tcp.synack as f64 / s.tcp.syn as f64;
        }
        if !self.syn_seen.is_empty() {
            s.tcp.established_ratio = s.tcp.established as f64 / self.syn_seen.len() as f64;
        }
        if let Some(((ip, port), svc)) = self
            .services
            .iter()
            .max_by(|a, b| a.1.syns.cmp(&b.1.syns).then(b.0.cmp(a.0)))
        {
            s.tcp.top_service = match ip {
                IpAddr::V4(_) => format!("{ip}:{port}"),
                IpAddr::V6(_) => format!("[{ip}]:{port}"),
            };
            s.tcp.top_service_syns = svc.syns;
            s.tcp.top_service_synacks = svc.synacks;
            s.tcp.top_service_sources = self
                .service_sources
                .iter()
                .filter(|(d, p, _)| d == ip && p == port)
                .count() as u64;
            s.tcp.samples = svc
                .first
                .iter()
                .map(|(n, text)| Record {
                    input: self.input.clone(),
                    line: u32::try_from(*n).unwrap_or(u32::MAX),
                    excerpt: text.clone(),
                })
                .collect();
        }
        // Scans: 100 or more ports of one host, or one port of 100 or more
        // hosts, from one source.
        let split = |first: &str| -> (u32, String) {
            let (n, text) = first.split_once('\u{0}').unwrap_or(("0", first));
            (n.parse().unwrap_or(0), text.to_string())
        };
        let mut scans = Vec::new();
        for ((src, dst), (ports, syns, first)) in &self.scan_ports {
            if ports.len() >= 100 {
                let (line, excerpt) = split(first);
                scans.push(Scan {
                    source: src.to_string(),
                    kind: "ports".into(),
                    target: dst.to_string(),
                    probed: ports.len() as u64,
                    syns: *syns,
                    input: self.input.clone(),
                    line,
                    excerpt,
                });
            }
        }
        for ((src, port), (hosts, syns, first)) in &self.scan_hosts {
            if hosts.len() >= 100 {
                let (line, excerpt) = split(first);
                scans.push(Scan {
                    source: src.to_string(),
                    kind: "hosts".into(),
                    target: format!("port {port}"),
                    probed: hosts.len() as u64,
                    syns: *syns,
                    input: self.input.clone(),
                    line,
                    excerpt,
                });
            }
        }
        crate::sort::sort_by(&mut scans, |a, b| {
            b.probed.cmp(&a.probed).then(a.source.cmp(&b.source))
        });
        scans.truncate(TOP);
        s.scans = scans;
        // DNS: what stayed pending, older than the grace period.
        let mut pending: Vec<_> = std::mem::take(&mut self.dns_pending).into_iter().collect();
        crate::sort::sort_by_key(&mut pending, |(_, p)| p.number);
        for (Quad(client, sport, resolver, _), p) in pending {
            if self.last_ns.saturating_sub(p.time_ns) < DNS_GRACE_NS {
                continue;
            }
            s.dns.unanswered += 1;
            let text = match self.resolvers.get(&resolver) {
                Some(r) if r.samples.len() < SAMPLES => {
                    let query = Decoded {
                        proto: "dns",
                        src: Some(client),
                        dst: Some(resolver),
                        transport: Transport::Udp {
                            sport,
                            dport: p.dport,
                            payload: p.payload,
                        },
                        ..Decoded::default()
                    };
                    let line = self.describe(p.number, p.time_ns, &query, p.wire_len);
                    Some(format!("{line}: {}", question(p.payload)))
                }
                _ => None,
            };
            if let Some(r) = self.resolvers.get_mut(&resolver) {
                r.unanswered += 1;
                if let Some(text) = text {
                    r.samples.push(Record {
                        input: self.input.clone(),
                        line: u32::try_from(p.number).unwrap_or(u32::MAX),
                        excerpt: format!("{text} (no response)"),
                    });
                }
            }
        }
        let mut resolvers: Vec<ResolverStats> = self.resolvers.into_values().collect();
        for r in &mut resolvers {
            if let Some(names) = r.address.parse().ok().and_then(|ip| self.nx_names.get(&ip)) {
                r.nxdomain_names = names.len() as u64;
            }
        }
        crate::sort::sort_by(&mut resolvers, |a, b| {
            b.queries.cmp(&a.queries).then(a.address.cmp(&b.address))
        });
        resolvers.truncate(TOP);
        s.dns.resolvers = resolvers;
        s
    }
}

fn rcode_name(code: ResponseCode) -> std::borrow::Cow<'static, str> {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => match u16::from(other) {
            16 => "BADVERS".into(),
            23 => "BADCOOKIE".into(),
            n => format!("RCODE{n}").into(),
        },
    }
}

/// A DNS query waiting for its response: its payload borrows the
/// capture's bytes (its question is read only if it stays unanswered).
struct PendingQuery<'a> {
    number: u64,
    time_ns: u128,
    wire_len: u32,
    dport: u16,
    payload: &'a [u8],
}

/// The fixed 12-byte DNS header, as far as diag needs it.
struct DnsHeader {
    id: u16,
    response: bool,
    /// The low four bits of the rcode.
    rcode: u8,
    /// Additional records (an EDNS OPT record extends the rcode).
    additional: u16,
}

impl DnsHeader {
    /// The header, or `None` when the message is shorter than one.
    fn read(m: &[u8]) -> Option<Self> {
        let h = m.get(..12)?;
        Some(DnsHeader {
            id: u16::from_be_bytes([h[0], h[1]]),
            response: h[2] & 0x80 != 0,
            rcode: h[3] & 0x0f,
            additional: u16::from_be_bytes([h[10], h[11]]),
        })
    }
}

/// Distinct NXDOMAIN names counted per resolver, at most.
pub const NX_NAMES: usize = 4096;

/// A hash of the name of a message's first question, case folded, or
/// `None` when it has none or it does not parse (as [`question`] reads it).
fn question_hash(m: &[u8]) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    if m.len() < 12 || u16::from_be_bytes([m[4], m[5]]) == 0 {
        return None;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut at = 12;
    loop {
        let len = *m.get(at)?;
        at += 1;
        if len == 0 {
            return Some(h.finish());
        }
        if len & 0xc0 != 0 {
            return None;
        }
        let label = m.get(at..at + usize::from(len))?;
        len.hash(&mut h);
        for b in label {
            b.to_ascii_lowercase().hash(&mut h);
        }
        at += usize::from(len);
    }
}

/// `TYPE name.` of a message's first question (as hickory shows them),
/// or an empty string when it has none or it does not parse (names in a
/// question are never compressed in practice; a pointer ends the read).
fn question(m: &[u8]) -> String {
    if m.len() < 12 || u16::from_be_bytes([m[4], m[5]]) == 0 {
        return String::new();
    }
    let mut name = String::new();
    let mut at = 12;
    loop {
        let Some(&len) = m.get(at) else {
            return String::new();
        };
        at += 1;
        if len == 0 {
            break;
        }
        if len & 0xc0 != 0 {
            return String::new();
        }
        let Some(label) = m.get(at..at + usize::from(len)) else {
            return String::new();
        };
        for &b in label {
            if b.is_ascii_graphic() && b != b'.' {
                name.push(char::from(b));
            } else {
                name.push_str(&format!("\\{b:03}"));
            }
        }
        name.push('.');
        at += usize::from(len);
    }
    if name.is_empty() {
        name.push('.');
    }
    let Some(t) = m.get(at..at + 2) else {
        return String::new();
    };
    let kind = hickory_proto::rr::RecordType::from(u16::from_be_bytes([t[0], t[1]]));
    format!("{kind} {name}")
}

/// Analyses one capture file held in `bytes` (canonical name `input`).
/// Never fails: a truncated, empty or garbage file gives what could be
/// read, and a note says what was wrong.
///
/// A capture of more than [`SPLIT_BYTES`] is analysed by three threads:
/// the calling one reads and decodes every frame and hands them, decoded,
/// in batches to two analysers that each keep their own share of the
/// state: one the frame counts, protocols, talkers, broadcast, ARP, ICMP
/// and DNS; the other TCP (the two take about the same time). The shares
/// are joined before the summary is made, so the result is the one a
/// single thread gives (a test compares them). On two cores this keeps
/// both busy: with two threads, the reading one was the longest.
pub fn analyse(input: &str, bytes: &[u8]) -> (CaptureSummary, Vec<Note>) {
    analyse_split(input, bytes, bytes.len() > SPLIT_BYTES)
}

fn analyse_split(input: &str, bytes: &[u8], split: bool) -> (CaptureSummary, Vec<Note>) {
    let analyser = || Analyser {
        input: input.to_string(),
        ..Analyser::default()
    };
    let (a, info) = if split {
        std::thread::scope(|scope| {
            let (link_tx, link_rx) = std::sync::mpsc::sync_channel::<Batch<'_>>(QUEUE);
            let (tcp_tx, tcp_rx) = std::sync::mpsc::sync_channel::<(u128, Batch<'_>)>(QUEUE);
            let link = scope.spawn(move || {
                let mut a = analyser();
                for frames in link_rx {
                    for (f, d) in frames.iter() {
                        a.link_frame(f, d);
                        a.dns_share(f, d);
                    }
                }
                a
            });
            let tcp = scope.spawn(move || {
                let mut t = analyser();
                for (first_ns, frames) in tcp_rx {
                    t.first_ns = Some(first_ns);
                    for (f, d) in frames.iter() {
                        t.tcp_share(f, d);
                    }
                }
                t
            });
            let mut out = Fanout {
                link: link_tx,
                tcp: tcp_tx,
                sent: Vec::new(),
            };
            let mut frames = Vec::with_capacity(BATCH);
            let mut first_ns = None;
            let info = file::read_frames(bytes, |f| {
                let first = *first_ns.get_or_insert(f.time_ns);
                let d = decode::decode(f.link_type, f.data);
                frames.push((f, d));
                if frames.len() == BATCH {
                    let next = out.spare();
                    out.send(std::mem::replace(&mut frames, next), first);
                }
            });
            if !frames.is_empty() {
                out.send(frames, first_ns.unwrap_or(0));
            }
            drop(out);
            let joined = (link.join(), tcp.join());
            match joined {
                (Ok(mut a), Ok(t)) => {
                    a.absorb(t);
                    (a, info)
                }
                (Err(panic), _) | (_, Err(panic)) => std::panic::resume_unwind(panic),
            }
        })
    } else {
        let mut a = analyser();
        let info = file::read_frames(bytes, |f| {
            a.frame(f);
        });
        (a, info)
    };
    let mut notes = Vec::new();
    if let Some(why) = &info.note {
        notes.push(Note::input(input, why.clone()));
    }
    let s = a.finish(info);
    if s.malformed > 0 {
        notes.push(Note::input(
            input,
            format!("{} packet(s) shorter than their headers claim or otherwise malformed; the rest analysed", s.malformed),
        ));
    }
    if s.overflowed > 0 {
        notes.push(Note::input(
            input,
            format!("{} address key(s) did not fit the {MAX_KEYS}-entry tables: distinct counts are lower bounds", s.overflowed),
        ));
    }
    (s, notes)
}

/// What one interface of a live capture gave, with the kernel's counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterfaceStats {
    /// The interface.
    pub interface: String,
    /// Packets written to its pcap.
    pub packets: u64,
    /// Bytes written (captured, not on the wire).
    pub bytes: u64,
    /// Packets the kernel delivered to the socket (`tp_packets`).
    pub kernel_packets: u64,
    /// Packets the kernel dropped because the socket's buffer was full
    /// (`tp_drops`).
    pub kernel_drops: u64,
    /// What ended the capture: `duration`, `packets` or `bytes`.
    pub stopped_by: String,
}

/// The counts a live capture wrote beside its pcaps.
pub const STATS: &str = "capture/stats.json";

/// Reads `capture/stats.json` ([`InterfaceStats`]
/// records): the packets the kernel dropped, all interfaces, and a note
/// for each interface that dropped any or a file that does not parse.
pub fn parse_stats(bytes: &[u8]) -> (u64, Vec<Note>) {
    let stats: Vec<InterfaceStats> = match serde_json::from_slice(bytes) {
        Ok(stats) => stats,
        Err(err) => return (0, vec![Note::input(STATS, format!("unreadable: {err}"))]),
    };
    let mut notes = Vec::new();
    let mut drops = 0;
    for s in &stats {
        drops += s.kernel_drops;
        if s.kernel_drops > 0 {
            notes.push(Note::input(
                STATS,
                format!(
                    "{}: the kernel dropped {} of {} packets during the capture (socket buffer full): counts and rates are lower bounds",
                    s.interface,
                    s.kernel_drops,
                    s.kernel_packets + s.kernel_drops
                ),
            ));
        }
    }
    (drops, notes)
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    const HOST: Mac = [2, 0, 0, 0, 0, 1];

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().expect("ip")
    }

    /// The split analysis (a reader and two analysers, each keeping its
    /// share of the state) gives exactly what one thread gives: every
    /// corpus capture and the rule cases' scenarios.
    #[test]
    fn the_split_analysis_equals_the_single_thread_one() {
        let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
        let dir = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/corpus/pcap"
        ));
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e} (the vendored corpus)", dir.display()));
        for entry in entries.flatten() {
            let bytes = std::fs::read(entry.path()).expect("read");
            inputs.push((entry.file_name().to_string_lossy().into_owned(), bytes));
        }
        for (name, frames) in diag_test_support::pcap_scenarios::all() {
            inputs.push((name.to_string(), pcap(1, &frames)));
        }
        assert!(inputs.len() > 40, "{}", inputs.len());
        for (name, bytes) in &inputs {
            // As rule conditions see them (the maps kept for `view` differ
            // in iteration order only).
            let json = |(s, notes): (CaptureSummary, Vec<Note>)| {
                let mut arped = s.tcp.sources_arped.clone();
                crate::sort::sort(&mut arped);
                (
                    serde_json::to_string_pretty(&s).expect("json"),
                    notes,
                    arped,
                )
            };
            let one = json(analyse_split(name, bytes, false));
            let two = json(analyse_split(name, bytes, true));
            assert_eq!(one, two, "{name}");
        }
    }

    #[test]
    fn truncated_and_garbage_files_are_analysed_as_far_as_they_go() {
        let frames: Vec<(u64, Vec<u8>)> = (0..5)
            .map(|i| {
                (
                    i * 1000,
                    arp(1, HOST, ip("192.0.2.2"), [0; 6], ip("192.0.2.9")),
                )
            })
            .collect();
        let file = pcap(1, &frames);
        let (s, notes) = analyse("capture/x.pcap", &file[..file.len() - 10]);
        assert_eq!(s.packets, 4);
        assert!(s.truncated);
        assert!(
            notes[0].message.contains("ends inside packet 5"),
            "{notes:?}"
        );
        for junk in [
            &b""[..],
            b"garbage!",
            &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0][..],
            &[0x0a, 0x0d, 0x0d, 0x0a, 0xff][..],
        ] {
            let (s, notes) = analyse("capture/junk.pcap", junk);
            assert_eq!(s.packets, 0);
            assert!(!notes.is_empty(), "{junk:?}");
        }
    }

    #[test]
    fn lying_lengths_never_panic() {
        // IPv4 header length 60 in a 24-byte packet; TCP cut after 4 bytes;
        // a jumbo frame; a zero-length frame; IPv6 extension loop.
        let mut bad_ihl = ipv4(ip("192.0.2.1"), ip("192.0.2.2"), 6, &[0; 4]);
        bad_ihl[0] = 0x4f;
        let short_tcp = ipv4(ip("192.0.2.1"), ip("192.0.2.2"), 6, &[0, 80, 0, 80]);
        let jumbo = ipv4(ip("192.0.2.1"), ip("192.0.2.2"), 17, &vec![0; 9000]);
        let mut v6 = vec![0x60, 0, 0, 0, 0, 200, 0, 64];
        v6.extend_from_slice(&[0; 32]);
        v6.extend_from_slice(&[0, 0]);
        let frames = vec![
            (0, ethernet(BROADCAST, HOST, 0x0800, &bad_ihl)),
            (1, ethernet(BROADCAST, HOST, 0x0800, &short_tcp)),
            (2, ethernet(BROADCAST, HOST, 0x0800, &jumbo)),
            (3, Vec::new()),
            (4, ethernet(BROADCAST, HOST, 0x86dd, &v6)),
        ];
        for link in [0, 1, 101, 113, 228, 229, 12345] {
            let (s, _) = analyse("capture/x.pcap", &pcap(link, &frames));
            assert_eq!(s.packets, 5);
        }
    }

    /// The capture of the `capture.arp-offlink-targets` rule cases
    /// (`rules/capture.toml`): 10.0.0.2 (02:00:00:00:00:02) ARPs for
    /// 8.8.N.N, N = 1..=10, one request each, 64 ms apart, to a unicast
    /// destination MAC (a broadcast MAC is not ASCII). Run with
    /// `DIAG_PRINT_CASE=1` to print it as a TOML string.
    pub(crate) fn offlink_case() -> Vec<u8> {
        let frames: Vec<(u64, Vec<u8>)> = (1u8..=10)
            .map(|n| {
                let mut f = arp(
                    1,
                    [2, 0, 0, 0, 0, 2],
                    ip("10.0.0.2"),
                    [0; 6],
                    Ipv4Addr::new(8, 8, n, n),
                );
                f[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
                (u64::from(n) << 16, f)
            })
            .collect();
        pcapng(1, &frames)
    }

    #[test]
    fn rule_case_capture_is_ascii_and_reads() {
        let bytes = offlink_case();
        let text = toml_string(&bytes).expect("ASCII");
        if std::env::var_os("DIAG_PRINT_CASE").is_some() {
            println!("{text}");
        }
        let (s, notes) = analyse("capture/eth0.pcapng", &bytes);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            (s.format.as_str(), s.arp.requests, s.arp.distinct_targets),
            ("pcapng", 10, 10)
        );
    }

    /// The DHCP message type is read from option 53 wherever it stands;
    /// a BOOTP message cut short, without the magic cookie, with an
    /// option running past the end or no option 53 has none, and counts
    /// as malformed without a panic.
    /// NXDOMAIN names are counted case folded; a question that does not
    /// parse (compressed, cut, none at all) counts no name.
    #[test]
    fn question_names_hash_case_folded_and_bad_ones_not_at_all() {
        let a = build::dns(1, "Host3.Example.ORG", None);
        let b = build::dns(2, "host3.example.org", None);
        let c = build::dns(3, "host4.example.org", None);
        assert_eq!(question_hash(&a), question_hash(&b));
        assert!(question_hash(&a).is_some());
        assert_ne!(question_hash(&a), question_hash(&c));
        // Cut anywhere: never a panic (the name's end is all it reads).
        for cut in 0..a.len() {
            let _ = question_hash(&a[..cut]);
        }
        assert_eq!(question_hash(&a[..20]), None);
        let mut pointer = a.clone();
        pointer[12] = 0xc0;
        assert_eq!(question_hash(&pointer), None);
        let mut none = a.clone();
        none[4..6].copy_from_slice(&[0, 0]);
        assert_eq!(question_hash(&none), None);
    }

    #[test]
    fn dhcp_message_types_and_malformed_messages() {
        let frame = diag_test_support::pcap_scenarios::dhcp(3, 1);
        // Ethernet 14, IPv4 20, UDP 8.
        let bootp = &frame[42..];
        assert_eq!(dhcp_message_type(bootp), Some(3));
        for len in 0..bootp.len() - 2 {
            assert_eq!(dhcp_message_type(&bootp[..len]), None, "{len}");
        }
        let mut padded = bootp[..240].to_vec();
        padded.extend_from_slice(&[0, 0, 12, 2, b'h', b'x', 53, 1, 5, 255]);
        assert_eq!(dhcp_message_type(&padded), Some(5));
        let mut past_end = bootp[..240].to_vec();
        past_end.extend_from_slice(&[12, 200, b'h']);
        assert_eq!(dhcp_message_type(&past_end), None);
        let mut no_cookie = bootp.to_vec();
        no_cookie[236] = 0;
        assert_eq!(dhcp_message_type(&no_cookie), None);
        let frames = vec![(0, frame[..100].to_vec()), (1, no_cookie_frame(&frame))];
        let (s, _) = analyse("capture/eth0.pcapng", &pcapng(1, &frames));
        assert_eq!(s.dhcp.malformed, 2);
        assert_eq!(s.dhcp.requests, 0);
    }

    fn no_cookie_frame(frame: &[u8]) -> Vec<u8> {
        let mut f = frame.to_vec();
        f[42 + 236] = 0;
        f
    }

    /// Every scenario behind a rule case reads without a note
    /// (`rules/cases/capture/` holds their bytes: diagnose::rules). Those
    /// that are ASCII print as TOML strings; a DNS answer is not (its
    /// flags byte has the QR bit, 0x80, set).
    #[test]
    fn print_rule_cases() {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/http6-gateway-typo-capture/capture/eth0.pcapng"
        );
        let typo = pcapng(1, &diag_test_support::pcap_scenarios::gateway_typo());
        if std::env::var_os("DIAG_PRINT_CASE").is_some() {
            std::fs::write(fixture, &typo).expect("write the fixture capture");
        }
        assert!(
            std::fs::read(fixture).ok() == Some(typo),
            "{fixture} differs from diag_test_support::pcap_scenarios::gateway_typo"
        );
        for (name, frames) in diag_test_support::pcap_scenarios::all() {
            let bytes = pcapng(1, &frames);
            if std::env::var_os("DIAG_PRINT_CASE").is_some() {
                if let Some(text) = toml_string(&bytes) {
                    println!("@@{name}@@ = {text}");
                }
                continue;
            }
            let (_, notes) = analyse("capture/eth0.pcapng", &bytes);
            assert!(notes.is_empty(), "{name}: {notes:?}");
        }
    }

    #[test]
    fn capture_stats_give_drops_and_notes() {
        let text = br#"[{"interface":"eth0","packets":90,"bytes":9000,"kernel_packets":90,"kernel_drops":10,"stopped_by":"duration"},
{"interface":"eth1","packets":5,"bytes":500,"kernel_packets":5,"kernel_drops":0,"stopped_by":"packets"}]"#;
        let (drops, notes) = parse_stats(text);
        assert_eq!(drops, 10);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].message.contains("dropped 10 of 100"), "{notes:?}");
        for bad in [&b""[..], b"[{\"interface\":", b"{}", b"garbage"] {
            let (drops, notes) = parse_stats(bad);
            assert_eq!((drops, notes.len()), (0, 1), "{bad:?}");
        }
        let (drops, notes) = parse_stats(b"[]");
        assert_eq!((drops, notes.len()), (0, 0));
    }

    #[test]
    fn arp_conflicts_and_syn_counts() {
        let a = ip("192.0.2.7");
        let segment = |src: &str, dst: &str, sport, dport, seq, flags| {
            ethernet(
                HOST,
                HOST,
                0x0800,
                &ipv4(ip(src), ip(dst), 6, &tcp(sport, dport, seq, flags)),
            )
        };
        let frames = vec![
            (0, arp(2, [2, 0, 0, 0, 0, 7], a, HOST, ip("192.0.2.2"))),
            (1, arp(2, [2, 0, 0, 0, 0, 8], a, HOST, ip("192.0.2.2"))),
            // A SYN, its retransmission, and one SYN-ACK.
            (2, segment("198.51.100.1", "192.0.2.2", 40000, 80, 1, 0x02)),
            (3, segment("198.51.100.1", "192.0.2.2", 40000, 80, 1, 0x02)),
            (4, segment("192.0.2.2", "198.51.100.1", 80, 40000, 9, 0x12)),
        ];
        let (s, _) = analyse("capture/x.pcap", &pcap(1, &frames));
        assert_eq!(s.arp.conflicts, 1);
        assert!(s.arp.conflict_samples[0]
            .excerpt
            .contains("was 02:00:00:00:00:07"));
        assert_eq!((s.tcp.syn, s.tcp.synack, s.tcp.syn_retransmits), (2, 1, 1));
        assert_eq!(s.tcp.top_service, "192.0.2.2:80");
        assert_eq!(s.tcp.top_service_synacks, 1);
        assert_eq!(s.tcp.samples[0].line, 3);
    }
}
