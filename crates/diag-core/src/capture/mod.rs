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
//! which a capture alone does not have: [`view`] joins the summaries with
//! [`crate::parse::netview::NetFacts`] into what rule conditions see
//! (`facts.capture`).

pub mod build;
pub mod decode;
pub mod file;
pub mod scenarios;

use crate::model::Note;
use crate::parse::netview::{NetFacts, Record};
use decode::{Decoded, Transport};
use hickory_proto::op::{Message, MessageType, ResponseCode};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};

/// Maps keyed by addresses hold at most this many entries.
pub const MAX_KEYS: usize = 100_000;
/// Evidence records kept per kind.
const SAMPLES: usize = 10;
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
    /// REFUSED responses.
    pub refused: u64,
    /// Responses per rcode name (extended rcodes included: BADVERS, BADCOOKIE).
    pub rcodes: BTreeMap<String, u64>,
    /// The first unanswered or failed queries, as evidence.
    pub samples: Vec<Record>,
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
    /// DNS.
    pub dns: DnsSummary,
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
        let mut r = ResolverStats {
            samples: vec![Record::default()],
            ..ResolverStats::default()
        };
        r.rcodes.insert(String::new(), 0);
        s.dns.resolvers = vec![r];
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
type DnsKey = (IpAddr, u16, IpAddr, u16);

#[derive(Default)]
struct Analyser {
    input: String,
    s: CaptureSummary,
    first_ns: Option<u128>,
    last_ns: u128,
    broadcast: u64,
    talkers: HashMap<IpAddr, (u64, u64)>,
    arp_answered: HashSet<Ipv4Addr>,
    arp_requests_for: HashMap<Ipv4Addr, u64>,
    arp_claims: HashMap<Ipv4Addr, [u8; 6]>,
    syn_sources: HashSet<IpAddr>,
    syn_destinations: HashSet<IpAddr>,
    syn_seen: HashSet<(IpAddr, u16, IpAddr, u16)>,
    syn_completed: HashSet<(IpAddr, u16, IpAddr, u16)>,
    services: HashMap<(IpAddr, u16), Service>,
    service_sources: HashSet<(IpAddr, u16, IpAddr)>,
    // (source, destination) → ports; source → destinations on one port.
    scan_ports: HashMap<(IpAddr, IpAddr), (HashSet<u16>, u64, String)>,
    scan_hosts: HashMap<(IpAddr, u16), (HashSet<IpAddr>, u64, String)>,
    dns_pending: HashMap<DnsKey, (u64, u128, String)>,
    resolvers: HashMap<IpAddr, ResolverStats>,
}

fn bounded_insert<'m, K: std::hash::Hash + Eq, V>(
    map: &'m mut HashMap<K, V>,
    key: K,
    overflowed: &mut u64,
    default: impl FnOnce() -> V,
) -> Option<&'m mut V> {
    if !map.contains_key(&key) && map.len() >= MAX_KEYS {
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
    if set.contains(&key) {
        return false;
    }
    if set.len() >= MAX_KEYS {
        *overflowed += 1;
        return false;
    }
    set.insert(key)
}

impl Analyser {
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

    fn frame(&mut self, f: file::Frame<'_>) {
        let s = &mut self.s;
        s.packets += 1;
        s.bytes += u64::from(
            f.wire_len
                .max(u32::try_from(f.data.len()).unwrap_or(u32::MAX)),
        );
        if self.first_ns.is_none() {
            self.first_ns = Some(f.time_ns);
        }
        self.last_ns = self.last_ns.max(f.time_ns);
        if f.link_type == 1 && f.data.first().is_some_and(|b| b & 1 == 1) {
            self.broadcast += 1;
        }
        let d = decode::decode(f.link_type, f.data);
        *s.protocols.entry(d.proto.to_string()).or_default() += 1;
        if d.malformed.is_some() {
            s.malformed += 1;
            if d.proto == "arp" {
                s.arp.malformed += 1;
            }
        }
        for ip in [d.src, d.dst].into_iter().flatten() {
            if f.link_type != 1 && ip.is_multicast() {
                self.broadcast += 1;
            }
            if let Some(t) = bounded_insert(&mut self.talkers, ip, &mut s.overflowed, || (0, 0)) {
                t.0 += 1;
                t.1 += u64::from(f.wire_len);
            }
        }
        if let Some(a) = d.arp {
            self.arp(&f, &d, a);
        }
        if let (Some(src), Some(dst)) = (d.src, d.dst) {
            match d.transport {
                Transport::Tcp { sport, dport, .. } => self.tcp(&f, &d, src, sport, dst, dport),
                Transport::Udp {
                    sport,
                    dport,
                    payload,
                } if d.proto == "dns" => self.dns(&f, &d, (src, sport), (dst, dport), payload),
                Transport::Icmp { version, kind, .. } => match (version, kind) {
                    (4, 3) | (6, 1) => self.s.icmp_unreachable += 1,
                    (4, 5) | (6, 137) => self.s.icmp_redirects += 1,
                    (6, 135) => self.s.nd_solicitations += 1,
                    _ => {}
                },
                _ => {}
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
            1 if a.spa == a.tpa || a.spa.is_unspecified() => s.arp.gratuitous += 1,
            1 => {
                s.arp.requests += 1;
                if let Some(n) =
                    bounded_insert(&mut self.arp_requests_for, a.tpa, &mut s.overflowed, || 0)
                {
                    *n += 1;
                }
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
                if !self.arp_requests_for.contains_key(&a.spa) {
                    s.arp.unsolicited_replies += 1;
                }
                bounded_set(&mut self.arp_answered, a.spa, &mut s.overflowed);
            }
            _ => {}
        }
    }

    fn tcp(
        &mut self,
        f: &file::Frame<'_>,
        d: &Decoded<'_>,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
    ) {
        let s = &mut self.s;
        if d.is_rst() {
            s.tcp.rst += 1;
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
        if d.is_plain_ack() {
            let flow = (src, sport, dst, dport);
            if self.syn_seen.contains(&flow)
                && bounded_set(&mut self.syn_completed, flow, &mut s.overflowed)
            {
                s.tcp.established += 1;
            }
            return;
        }
        if !d.is_syn() {
            return;
        }
        s.tcp.syn += 1;
        bounded_set(&mut self.syn_sources, src, &mut s.overflowed);
        bounded_set(&mut self.syn_destinations, dst, &mut s.overflowed);
        if !bounded_set(
            &mut self.syn_seen,
            (src, sport, dst, dport),
            &mut s.overflowed,
        ) && self.syn_seen.contains(&(src, sport, dst, dport))
        {
            s.tcp.syn_retransmits += 1;
        }
        bounded_set(
            &mut self.service_sources,
            (dst, dport, src),
            &mut s.overflowed,
        );
        let text = self.describe(f.number, f.time_ns, d, f.wire_len);
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
            (HashSet::new(), 0, format!("{}\u{0}{text}", f.number))
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
            || (HashSet::new(), 0, format!("{}\u{0}{text}", f.number)),
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
        payload: &[u8],
    ) {
        let Ok(msg) = Message::from_vec(payload) else {
            self.s.dns.malformed += 1;
            return;
        };
        let name = msg
            .queries()
            .first()
            .map(|q| format!("{} {}", q.query_type(), q.name()))
            .unwrap_or_default();
        let text = format!(
            "{} {name}",
            self.describe(f.number, f.time_ns, d, f.wire_len)
        );
        let s = &mut self.s;
        match msg.message_type() {
            MessageType::Query => {
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
                let key = (src.0, src.1, dst.0, msg.id());
                if let Some(p) =
                    bounded_insert(&mut self.dns_pending, key, &mut s.overflowed, || {
                        (f.number, f.time_ns, text.clone())
                    })
                {
                    let _ = p;
                }
            }
            MessageType::Response => {
                s.dns.responses += 1;
                let resolver = src.0;
                self.dns_pending.remove(&(dst.0, dst.1, src.0, msg.id()));
                let code = msg.response_code();
                if code == ResponseCode::ServFail {
                    s.dns.servfail += 1;
                }
                if code == ResponseCode::NXDomain {
                    s.dns.nxdomain += 1;
                }
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
                        ResponseCode::NXDomain => r.nxdomain += 1,
                        ResponseCode::Refused => r.refused += 1,
                        _ => {}
                    }
                    *r.rcodes.entry(rcode_name(code)).or_default() += 1;
                    if code == ResponseCode::ServFail && r.samples.len() < SAMPLES {
                        r.samples.push(Record {
                            input: self.input.clone(),
                            line: u32::try_from(f.number).unwrap_or(u32::MAX),
                            excerpt: format!("{text} {code}"),
                        });
                    }
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
        if s.packets > 0 {
            s.broadcast_share = self.broadcast as f64 / s.packets as f64;
        }
        let mut talkers: Vec<(IpAddr, (u64, u64))> = self.talkers.into_iter().collect();
        talkers.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(&b.0)));
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
        let mut unanswered: Vec<(Ipv4Addr, u64)> = self
            .arp_requests_for
            .iter()
            .filter(|(ip, _)| !self.arp_answered.contains(ip))
            .map(|(ip, n)| (*ip, *n))
            .collect();
        s.arp.unanswered_targets = unanswered.len() as u64;
        unanswered.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
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
        scans.sort_by(|a, b| b.probed.cmp(&a.probed).then(a.source.cmp(&b.source)));
        scans.truncate(TOP);
        s.scans = scans;
        // DNS: what stayed pending, older than the grace period.
        let mut pending: Vec<_> = self.dns_pending.into_iter().collect();
        pending.sort_by_key(|(_, (n, _, _))| *n);
        for ((_, _, resolver, _), (n, t, text)) in pending {
            if self.last_ns.saturating_sub(t) < DNS_GRACE_NS {
                continue;
            }
            s.dns.unanswered += 1;
            if let Some(r) = self.resolvers.get_mut(&resolver) {
                r.unanswered += 1;
                if r.samples.len() < SAMPLES {
                    r.samples.push(Record {
                        input: self.input.clone(),
                        line: u32::try_from(n).unwrap_or(u32::MAX),
                        excerpt: format!("{text} (no response)"),
                    });
                }
            }
        }
        let mut resolvers: Vec<ResolverStats> = self.resolvers.into_values().collect();
        resolvers.sort_by(|a, b| b.queries.cmp(&a.queries).then(a.address.cmp(&b.address)));
        resolvers.truncate(TOP);
        s.dns.resolvers = resolvers;
        s
    }
}

fn rcode_name(code: ResponseCode) -> String {
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
            n => format!("RCODE{n}"),
        },
    }
}

/// Analyses one capture file held in `bytes` (canonical name `input`).
/// Never fails: a truncated, empty or garbage file gives what could be
/// read, and a note says what was wrong.
pub fn analyse(input: &str, bytes: &[u8]) -> (CaptureSummary, Vec<Note>) {
    let mut a = Analyser {
        input: input.to_string(),
        ..Analyser::default()
    };
    let info = file::read_frames(bytes, |f| a.frame(f));
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

/// What rule conditions see of the captures (`facts.capture`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CaptureFacts {
    /// Whether any capture was read.
    pub collected: bool,
    /// One summary per capture input.
    pub captures: Vec<CaptureSummary>,
    /// Whether connected subnets were known (addresses collected), so the
    /// off-link counts mean something.
    pub connected_known: bool,
    /// Distinct ARP targets outside every connected subnet, all captures.
    pub arp_offlink_targets: u64,
    /// Distinct ARP targets, all captures.
    pub arp_targets: u64,
    /// `arp_offlink_targets / arp_targets` (0..1).
    pub arp_offlink_share: f64,
    /// The first requests for off-link targets, as evidence.
    pub arp_offlink_samples: Vec<Record>,
    /// SYN sources that were themselves ARPed for as off-link targets:
    /// the host tries to answer clients it wrongly thinks are on its link.
    pub syn_sources_arped_offlink: u64,
    /// TCP set-up of the capture with the most SYNs: what `net.syn-flood`
    /// and `capture.handshakes-unanswered` weigh.
    pub tcp: TcpSummary,
    /// Of that capture's SYNs, the share that repeated one already seen
    /// (clients retrying), in per cent.
    pub syn_retransmit_percent: u64,
    /// Every scan of every capture (each one is also an evidence record).
    pub scans: Vec<Scan>,
    /// Unicast resolvers of every capture (multicast mDNS/LLMNR groups
    /// left out), most queries first.
    pub resolvers: Vec<ResolverStats>,
    /// Unanswered and SERVFAIL queries of all resolvers, as evidence.
    pub dns_failure_samples: Vec<Record>,
    /// Addresses claimed by two hardware addresses, all captures.
    pub arp_conflicts: u64,
    /// One record per conflict, all captures.
    pub arp_conflict_samples: Vec<Record>,
    /// Packets the kernel dropped during a live capture (all interfaces,
    /// from `capture/stats.json`).
    pub kernel_drops: u64,
}

impl CaptureFacts {
    /// Capture facts with one default element in every list (the shape
    /// rule conditions are checked against).
    pub fn schema_sample() -> Self {
        let one = CaptureSummary::schema_sample();
        CaptureFacts {
            tcp: one.tcp.clone(),
            scans: one.scans.clone(),
            resolvers: one.dns.resolvers.clone(),
            arp_offlink_samples: vec![Record::default()],
            dns_failure_samples: vec![Record::default()],
            arp_conflict_samples: vec![Record::default()],
            captures: vec![one],
            ..CaptureFacts::default()
        }
    }
}

/// Joins capture summaries with the host's addresses and routes.
pub fn view(captures: Vec<CaptureSummary>, net: &NetFacts) -> CaptureFacts {
    let connected = crate::parse::netview::connected_subnets(&net.tables);
    let connected_known = !net.tables.addresses.is_empty();
    let mut facts = CaptureFacts {
        collected: !captures.is_empty(),
        connected_known,
        ..CaptureFacts::default()
    };
    let mut offlink: Vec<(u64, &str, Ipv4Addr, Ipv4Addr)> = Vec::new();
    for c in &captures {
        facts.arp_targets += c.arp.targets.len() as u64;
        if !connected_known {
            continue;
        }
        for (target, (number, asker)) in &c.arp.targets {
            let ip = IpAddr::V4(*target);
            if !connected.contains(ip) && !target.is_link_local() {
                offlink.push((*number, &c.input, *target, *asker));
            }
        }
    }
    facts.arp_offlink_targets = offlink.len() as u64;
    if facts.arp_targets > 0 {
        facts.arp_offlink_share = facts.arp_offlink_targets as f64 / facts.arp_targets as f64;
    }
    offlink.sort();
    facts.arp_offlink_samples = offlink
        .iter()
        .take(SAMPLES)
        .map(|(n, input, target, asker)| Record {
            input: (*input).to_string(),
            line: u32::try_from(*n).unwrap_or(u32::MAX),
            excerpt: format!(
                "#{n} ARP, Request who-has {target} tell {asker} (outside every connected subnet)"
            ),
        })
        .collect();
    for c in &captures {
        facts.syn_sources_arped_offlink += c
            .tcp
            .sources_arped
            .iter()
            .filter(|ip| connected_known && !connected.contains(IpAddr::V4(**ip)))
            .count() as u64;
    }
    if let Some(busiest) = captures.iter().max_by_key(|c| c.tcp.syn) {
        facts.tcp = busiest.tcp.clone();
        facts.syn_retransmit_percent = (busiest.tcp.syn_retransmits * 100)
            .checked_div(busiest.tcp.syn)
            .unwrap_or(0);
    }
    for c in &captures {
        facts.scans.extend(c.scans.iter().cloned());
        // mDNS and LLMNR queries go to multicast groups, which no single
        // resolver answers: they are not resolvers.
        facts.resolvers.extend(
            c.dns
                .resolvers
                .iter()
                .filter(|r| {
                    !r.address
                        .parse::<IpAddr>()
                        .is_ok_and(|ip| ip.is_multicast())
                })
                .cloned(),
        );
        facts.arp_conflicts += c.arp.conflicts;
        facts
            .arp_conflict_samples
            .extend(c.arp.conflict_samples.iter().cloned());
    }
    facts
        .resolvers
        .sort_by(|a, b| b.queries.cmp(&a.queries).then(a.address.cmp(&b.address)));
    facts.dns_failure_samples = facts
        .resolvers
        .iter()
        .flat_map(|r| r.samples.iter().cloned())
        .take(SAMPLES)
        .collect();
    facts.captures = captures;
    facts
}

/// Fills `facts.capture` from every `capture/*.pcap` and `capture/*.pcapng`
/// input of the snapshot.
pub fn fill(facts: &mut crate::Facts, snapshot: &crate::Snapshot, notes: &mut Vec<Note>) {
    let mut summaries = Vec::new();
    for (name, input) in &snapshot.inputs {
        if !name.starts_with("capture/") || !(name.ends_with(".pcap") || name.ends_with(".pcapng"))
        {
            continue;
        }
        let (summary, more) = analyse(name, &input.bytes);
        notes.extend(more);
        summaries.push(summary);
    }
    facts.capture = view(summaries, &facts.net);
    if let Some(stats) = snapshot.inputs.get(STATS) {
        let (drops, more) = parse_stats(&stats.bytes);
        facts.capture.kernel_drops = drops;
        notes.extend(more);
    }
}

/// The counts a live capture wrote beside its pcaps.
pub const STATS: &str = "capture/stats.json";

/// Reads `capture/stats.json` ([`crate::source::capture::InterfaceStats`]
/// records): the packets the kernel dropped, all interfaces, and a note
/// for each interface that dropped any or a file that does not parse.
pub fn parse_stats(bytes: &[u8]) -> (u64, Vec<Note>) {
    let stats: Vec<crate::source::capture::InterfaceStats> = match serde_json::from_slice(bytes) {
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

    /// Every scenario behind a rule case is ASCII, reads without a note,
    /// and `rules/capture.toml` holds its bytes exactly (regenerate with
    /// `DIAG_PRINT_CASE=1`).
    #[test]
    fn print_rule_cases() {
        let rules = include_str!("../../../../rules/capture.toml");
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/http6-gateway-typo-capture/capture/eth0.pcapng"
        );
        let typo = pcapng(1, &scenarios::gateway_typo());
        if std::env::var_os("DIAG_PRINT_CASE").is_some() {
            std::fs::write(fixture, &typo).expect("write the fixture capture");
        }
        assert!(
            std::fs::read(fixture).ok() == Some(typo),
            "{fixture} differs from capture::scenarios::gateway_typo"
        );
        for (name, frames) in scenarios::all() {
            let bytes = pcapng(1, &frames);
            let text = toml_string(&bytes).unwrap_or_else(|| panic!("{name} is not ASCII"));
            if std::env::var_os("DIAG_PRINT_CASE").is_some() {
                println!("@@{name}@@ = {text}");
                continue;
            }
            let (_, notes) = analyse("capture/eth0.pcapng", &bytes);
            assert!(notes.is_empty(), "{name}: {notes:?}");
            assert!(
                rules.contains(&format!("\"capture/eth0.pcapng\" = {text}")),
                "rules/capture.toml lacks the {name} capture"
            );
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
