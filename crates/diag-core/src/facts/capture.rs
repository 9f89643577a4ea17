//! What rule conditions see of the captures (`facts.capture`): the
//! per-capture summaries of [`crate::parse::pcap`] joined with the host's
//! connected subnets and gateways ([`crate::facts::netview::NetFacts`]).

use crate::facts::netview::NetFacts;
use crate::model::{Note, Record};
use crate::parse::pcap::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

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
    /// The TCP connections of every small capture (at most
    /// [`crate::parse::pcap::connections::MAX_CONNECTIONS`] in it), one by
    /// one: what the per-connection rules judge (`capture.tcp-*` of a
    /// single session).
    pub connections: Vec<Connection>,
    /// Unicast resolvers of every capture (multicast mDNS/LLMNR groups
    /// left out), most queries first.
    pub resolvers: Vec<ResolverStats>,
    /// Unanswered and SERVFAIL queries of all resolvers, as evidence.
    pub dns_failure_samples: Vec<Record>,
    /// Responses with another error rcode (NXDOMAIN, REFUSED, FORMERR,
    /// NOTIMP, BADVERS, BADCOOKIE, ...) of all resolvers, as evidence.
    pub dns_error_samples: Vec<Record>,
    /// DHCPv4 messages of every capture, summed (samples: the first of
    /// each kind).
    pub dhcp: crate::parse::pcap::DhcpSummary,
    /// Addresses claimed by two hardware addresses, all captures.
    pub arp_conflicts: u64,
    /// One record per conflict, all captures.
    pub arp_conflict_samples: Vec<Record>,
    /// Packets the kernel dropped during a live capture (all interfaces,
    /// from `capture/stats.json`).
    pub kernel_drops: u64,
    /// Per default gateway (IPv4) and capture: how often the capture asked
    /// for it by ARP and whether a reply came.
    pub gateways: Vec<GatewayArp>,
    /// The first request for each gateway asked for in vain, as evidence.
    pub gateway_arp_samples: Vec<Record>,
    /// ARP requests of the capture with most of them (top askers, peak
    /// rate).
    pub arp_requests: Burst,
    /// ICMPv6 neighbour solicitations of the capture with most of them.
    pub nd_solicitations: Burst,
    /// Gratuitous ARP of the capture with most of it.
    pub gratuitous: Burst,
    /// Hardware addresses that sent ARP replies nobody asked for, all
    /// captures, most replies first.
    pub arp_spoofers: Vec<Spoofer>,
    /// ARP replies no request in their capture asked for, all captures.
    pub arp_unsolicited_replies: u64,
    /// Unsolicited ARP replies claiming a default gateway's address.
    pub arp_spoofed_gateway: u64,
    /// Unsolicited replies as evidence, those claiming a gateway first.
    pub arp_spoof_samples: Vec<Record>,
    /// RSTs of the capture with most of them.
    pub rsts: Burst,
    /// Zero-window segments of the capture with most of them.
    pub zero_windows: Burst,
    /// Retransmitted data segments of the capture with most of them.
    pub retransmitted: Burst,
    /// Data segments of that capture.
    pub data_segments: u64,
    /// Its retransmitted share of data segments, in per cent.
    pub retransmit_percent: f64,
    /// ICMP destination unreachables of the capture with most of them.
    pub icmp_unreachable: Burst,
    /// Their codes (`port`, `host`, ...).
    pub icmp_unreachable_codes: BTreeMap<String, u64>,
    /// ICMP redirects of the capture with most of them.
    pub icmp_redirects: Burst,
    /// Broadcast and multicast frames of the capture with most of them.
    pub broadcast: Burst,
    /// Their share of that capture's packets (0..1).
    pub broadcast_share: f64,
}

/// A default gateway as the ARP of one capture saw it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GatewayArp {
    /// The gateway's address.
    pub gateway: String,
    /// Canonical input name of the capture.
    pub input: String,
    /// ARP requests for it.
    pub requests: u64,
    /// Whether any ARP reply in the capture claimed it.
    pub answered: bool,
}

impl CaptureFacts {
    /// Capture facts with one default element in every list (the shape
    /// rule conditions are checked against).
    pub fn schema_sample() -> Self {
        let one = CaptureSummary::schema_sample();
        CaptureFacts {
            tcp: one.tcp.clone(),
            scans: one.scans.clone(),
            connections: one.tcp.connections.clone(),
            resolvers: one.dns.resolvers.clone(),
            arp_offlink_samples: vec![Record::default()],
            dns_failure_samples: vec![Record::default()],
            dns_error_samples: vec![Record::default()],
            dhcp: one.dhcp.clone(),
            arp_conflict_samples: vec![Record::default()],
            gateways: vec![GatewayArp::default()],
            gateway_arp_samples: vec![Record::default()],
            arp_requests: one.arp.who_has.clone(),
            nd_solicitations: one.nd_solicits.clone(),
            gratuitous: one.arp.announcements.clone(),
            arp_spoofers: one.arp.spoofers.clone(),
            arp_spoof_samples: vec![Record::default()],
            rsts: one.tcp.rsts.clone(),
            zero_windows: one.tcp.zero_windows.clone(),
            retransmitted: one.tcp.retransmitted.clone(),
            icmp_unreachable: one.icmp.unreachable.clone(),
            icmp_unreachable_codes: one.icmp.unreachable_codes.clone(),
            icmp_redirects: one.icmp.redirects.clone(),
            broadcast: one.broadcast.clone(),
            captures: vec![one],
            ..CaptureFacts::default()
        }
    }
}

/// Joins capture summaries with the host's addresses and routes.
pub fn view(captures: Vec<CaptureSummary>, net: &NetFacts) -> CaptureFacts {
    let connected = crate::facts::netview::connected_subnets(&net.tables);
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
    crate::sort::sort(&mut offlink);
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
        facts.connections.extend(c.tcp.connections.iter().cloned());
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
        let (sum, one) = (&mut facts.dhcp, &c.dhcp);
        for (total, n) in [
            (&mut sum.discovers, one.discovers),
            (&mut sum.offers, one.offers),
            (&mut sum.requests, one.requests),
            (&mut sum.acks, one.acks),
            (&mut sum.naks, one.naks),
            (&mut sum.declines, one.declines),
            (&mut sum.malformed, one.malformed),
        ] {
            *total += n;
        }
        let room = SAMPLES.saturating_sub(sum.samples.len());
        sum.samples.extend(one.samples.iter().take(room).cloned());
        facts.arp_conflicts += c.arp.conflicts;
        facts
            .arp_conflict_samples
            .extend(c.arp.conflict_samples.iter().cloned());
    }
    crate::sort::sort_by(&mut facts.resolvers, |a, b| {
        b.queries.cmp(&a.queries).then(a.address.cmp(&b.address))
    });
    facts.dns_failure_samples = facts
        .resolvers
        .iter()
        .flat_map(|r| r.samples.iter().cloned())
        .take(SAMPLES)
        .collect();
    facts.dns_error_samples = facts
        .resolvers
        .iter()
        .flat_map(|r| r.error_samples.iter().cloned())
        .take(SAMPLES)
        .collect();
    neighbour_facts(&mut facts, &captures, net);
    facts.captures = captures;
    facts
}

/// The capture with the most frames in the burst `pick` chooses, if any
/// has one.
fn busiest(
    captures: &[CaptureSummary],
    pick: fn(&CaptureSummary) -> &Burst,
) -> Option<&CaptureSummary> {
    captures
        .iter()
        .filter(|c| pick(c).packets > 0)
        .max_by_key(|c| pick(c).packets)
}

/// The facts behind the neighbour, TCP-health, ICMP and broadcast rules:
/// gateways asked for in vain, unsolicited replies, and the busiest
/// capture's bursts.
fn neighbour_facts(facts: &mut CaptureFacts, captures: &[CaptureSummary], net: &NetFacts) {
    let gateways: Vec<Ipv4Addr> = net
        .default_routes
        .iter()
        .filter_map(|r| r.gateway.parse().ok())
        .collect();
    let mut spoof_samples = Vec::new();
    for c in captures {
        for gw in &gateways {
            let requests = c.arp.requests_for.get(gw).copied().unwrap_or(0);
            if requests == 0 {
                continue;
            }
            let answered = c.arp.answered.contains(gw);
            if !answered {
                if let Some((n, asker)) = c.arp.targets.get(gw) {
                    facts.gateway_arp_samples.push(Record {
                        input: c.input.clone(),
                        line: u32::try_from(*n).unwrap_or(u32::MAX),
                        excerpt: format!(
                            "#{n} ARP, Request who-has {gw} tell {asker} (the default gateway; {requests} request(s), no reply in the capture)"
                        ),
                    });
                }
            }
            facts.gateways.push(GatewayArp {
                gateway: gw.to_string(),
                input: c.input.clone(),
                requests,
                answered,
            });
        }
        for gw in &gateways {
            if let Some((replies, n, mac)) = c.arp.unsolicited_claims.get(gw) {
                facts.arp_spoofed_gateway += replies;
                spoof_samples.push(Record {
                    input: c.input.clone(),
                    line: u32::try_from(*n).unwrap_or(u32::MAX),
                    excerpt: format!(
                        "#{n} ARP, Reply {gw} is-at {} (the default gateway; {replies} reply(ies) nobody asked for)",
                        decode::mac(mac)
                    ),
                });
            }
        }
        facts.arp_spoofers.extend(c.arp.spoofers.iter().cloned());
        facts.arp_unsolicited_replies += c.arp.unsolicited_replies;
    }
    crate::sort::sort_by(&mut facts.arp_spoofers, |a, b| {
        b.replies.cmp(&a.replies).then(a.mac.cmp(&b.mac))
    });
    spoof_samples.extend(
        captures
            .iter()
            .flat_map(|c| c.arp.unsolicited.samples.iter().cloned()),
    );
    spoof_samples.truncate(SAMPLES);
    facts.arp_spoof_samples = spoof_samples;
    let burst = |pick: fn(&CaptureSummary) -> &Burst| {
        busiest(captures, pick)
            .map(|c| pick(c).clone())
            .unwrap_or_default()
    };
    facts.arp_requests = burst(|c| &c.arp.who_has);
    facts.nd_solicitations = burst(|c| &c.nd_solicits);
    facts.gratuitous = burst(|c| &c.arp.announcements);
    facts.rsts = burst(|c| &c.tcp.rsts);
    facts.zero_windows = burst(|c| &c.tcp.zero_windows);
    if let Some(c) = busiest(captures, |c| &c.tcp.retransmitted) {
        facts.retransmitted = c.tcp.retransmitted.clone();
        facts.data_segments = c.tcp.data_segments;
        facts.retransmit_percent = c.tcp.retransmit_percent;
    }
    if let Some(c) = busiest(captures, |c| &c.icmp.unreachable) {
        facts.icmp_unreachable = c.icmp.unreachable.clone();
        facts.icmp_unreachable_codes = c.icmp.unreachable_codes.clone();
    }
    facts.icmp_redirects = burst(|c| &c.icmp.redirects);
    if let Some(c) = busiest(captures, |c| &c.broadcast) {
        facts.broadcast = c.broadcast.clone();
        facts.broadcast_share = c.broadcast_share;
    }
}

/// Fills `facts.capture` from every `capture/*.pcap` and `capture/*.pcapng`
/// input of the snapshot.
pub fn fill(
    facts: &mut crate::facts::Facts,
    snapshot: &crate::source::snapshot::Snapshot,
    notes: &mut Vec<Note>,
) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::netview::NetFacts;
    use crate::parse::pcap::analyse;
    use crate::parse::pcap::build::*;
    use std::net::Ipv4Addr;

    const HOST: [u8; 6] = [2, 0, 0, 0, 0, 1];

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().expect("ip")
    }

    /// A capture in a bundle directory is read whole, however large: the
    /// 32 MiB cap of other inputs once cut a 140 MB capture to its first
    /// quarter and called the file truncated.
    #[test]
    fn bundle_captures_larger_than_the_input_cap_are_analysed_whole() {
        let limit = crate::source::Limits::default().max_bytes;
        let frame = ethernet(
            [0xff; 6],
            HOST,
            0x0800,
            &ipv4(
                ip("10.0.0.1"),
                ip("10.0.0.2"),
                17,
                &udp(1, 2, &[0x41; 1400]),
            ),
        );
        let n = limit / (frame.len() + 16) + 1000;
        let frames: Vec<(u64, Vec<u8>)> = (0..n as u64).map(|i| (i, frame.clone())).collect();
        let file = pcap(1, &frames);
        assert!(file.len() > limit);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("capture")).expect("mkdir");
        std::fs::write(dir.path().join("capture/big.pcap"), &file).expect("write");
        let bundle = crate::source::Bundle::open(dir.path()).expect("bundle");
        let snapshot =
            crate::Snapshot::collect(&bundle, &crate::source::snapshot::CollectOptions::default());
        let input = &snapshot.inputs["capture/big.pcap"];
        assert!(!input.truncated);
        assert_eq!(input.bytes.len(), file.len());
        let (s, notes) = analyse("capture/big.pcap", &input.bytes);
        assert_eq!(s.packets, n as u64);
        assert!(!s.truncated);
        assert!(notes.is_empty(), "{notes:?}");
        // The same bundle packed as .tar.zst.
        let packed = tempfile::tempdir().expect("tempdir");
        let archive = packed.path().join("bundle.tar.zst");
        let out = std::fs::File::create(&archive).expect("create");
        let mut tar = tar::Builder::new(zstd::Encoder::new(out, 1).expect("zstd").auto_finish());
        tar.append_dir_all("bundle", dir.path()).expect("tar");
        tar.into_inner().expect("finish");
        let bundle = crate::source::Bundle::open(&archive).expect("archive");
        let snapshot =
            crate::Snapshot::collect(&bundle, &crate::source::snapshot::CollectOptions::default());
        let input = &snapshot.inputs["capture/big.pcap"];
        assert!(!input.truncated);
        assert_eq!(input.bytes.len(), file.len());
    }

    /// 250 IPv6 neighbour solicitations within one second (fe80::9 asking
    /// for 2001:db8::N), then one a second for three seconds.
    #[test]
    fn nd_storm_counts_peak_and_askers() {
        let ns = |n: u16| {
            let mut icmp = vec![135, 0, 0, 0, 0, 0, 0, 0];
            let target: std::net::Ipv6Addr = format!("2001:db8::{n:x}").parse().expect("v6");
            icmp.extend_from_slice(&target.octets());
            let mut v6 = vec![0x60, 0, 0, 0, 0, icmp.len() as u8, 58, 255];
            v6.extend_from_slice(
                &"fe80::9"
                    .parse::<std::net::Ipv6Addr>()
                    .expect("v6")
                    .octets(),
            );
            v6.extend_from_slice(
                &"ff02::1:ff00:1"
                    .parse::<std::net::Ipv6Addr>()
                    .expect("v6")
                    .octets(),
            );
            v6.extend_from_slice(&icmp);
            ethernet([0x33, 0x33, 0xff, 0, 0, 1], HOST, 0x86dd, &v6)
        };
        let mut frames: Vec<(u64, Vec<u8>)> =
            (0..250).map(|n| (u64::from(n) * 3_000, ns(n))).collect();
        frames.extend((1..=3).map(|k| (1_000_000 * k + 500_000, ns(1000))));
        let (s, _) = analyse("capture/x.pcap", &pcap(1, &frames));
        assert_eq!(s.nd_solicitations, 253);
        assert_eq!(s.nd_solicits.peak_per_second, 250);
        assert_eq!(s.nd_solicits.top_senders[0].address, "fe80::9");
        assert_eq!(s.broadcast.packets, 253, "multicast MAC");
        let facts = view(vec![s], &NetFacts::default());
        assert_eq!(facts.nd_solicitations.peak_per_second, 250);
    }

    /// Unsolicited replies claiming the gateway count against it; a reply
    /// to a request does not, nor does a gratuitous reply.
    #[test]
    fn unsolicited_replies_claiming_the_gateway() {
        let gw = ip("192.0.2.1");
        let evil = [2, 0, 0, 0, 0, 0x66];
        let frames = vec![
            (0, arp(1, HOST, ip("192.0.2.2"), [0; 6], ip("192.0.2.9"))),
            (
                1,
                arp(
                    2,
                    [2, 0, 0, 0, 0, 9],
                    ip("192.0.2.9"),
                    HOST,
                    ip("192.0.2.2"),
                ),
            ),
            (2, arp(2, evil, gw, HOST, ip("192.0.2.2"))),
            (3, arp(2, evil, gw, HOST, ip("192.0.2.2"))),
            (4, arp(2, evil, ip("192.0.2.5"), [0; 6], ip("192.0.2.5"))),
        ];
        let (s, _) = analyse("capture/x.pcap", &pcap(1, &frames));
        assert_eq!(
            (s.arp.replies, s.arp.unsolicited_replies, s.arp.gratuitous),
            (4, 2, 1)
        );
        let mut net = NetFacts::default();
        net.default_routes
            .push(crate::facts::netview::DefaultRoute {
                gateway: gw.to_string(),
                ..Default::default()
            });
        let facts = view(vec![s], &net);
        assert_eq!(facts.arp_spoofed_gateway, 2);
        assert!(facts.arp_spoof_samples[0]
            .excerpt
            .contains("the default gateway"));
        assert_eq!(facts.gateways.len(), 0, "nobody asked for the gateway");
    }
}
