//! Every capture of the vendored corpus (`tests/corpus/pcap/`): no panic,
//! and what each one is known to hold (see `tests/corpus/PROVENANCE.tsv`)
//! is reported.

use diag_core::parse::pcap::{analyse, CaptureSummary};
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/corpus/pcap"
    ))
}

fn read(name: &str) -> Vec<u8> {
    let path = corpus().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(name: &str) -> (CaptureSummary, Vec<String>) {
    let bytes = read(name);
    let (s, notes) = analyse(&format!("capture/{name}"), &bytes);
    (s, notes.into_iter().map(|n| n.message).collect())
}

#[test]
fn every_corpus_capture_reads_without_panic() {
    let dir = std::fs::read_dir(corpus()).unwrap_or_else(|e| panic!("{}: {e}", corpus().display()));
    let mut n = 0;
    for entry in dir.flatten() {
        let bytes = std::fs::read(entry.path()).expect("read");
        let name = entry.file_name().to_string_lossy().into_owned();
        let (s, notes) = analyse(&name, &bytes);
        // Any prefix of a capture reads too (truncated downloads).
        for cut in [bytes.len() / 2, bytes.len().saturating_sub(3)] {
            let (t, _) = analyse(&name, &bytes[..cut]);
            assert!(t.packets <= s.packets, "{name}");
        }
        if std::env::var_os("DIAG_SHOW").is_some() {
            eprintln!(
                "{name}: {} {} pkts {:.1}s link {} trunc {} malformed {} protos {:?} arp req {} rep {} grat {} unsol {} targets {} unans {} conflicts {} | syn {} synack {} rst {} srcs {} top {} {} srcs {} | scans {:?} | dns q {} r {} unans {} servfail {} nx {} malformed {} rc {:?} | notes {:?}",
                s.format, s.packets, s.duration, s.link_type, s.truncated, s.malformed, s.protocols,
                s.arp.requests, s.arp.replies, s.arp.gratuitous, s.arp.unsolicited_replies, s.arp.distinct_targets, s.arp.unanswered_targets, s.arp.conflicts,
                s.tcp.syn, s.tcp.synack, s.tcp.rst, s.tcp.syn_sources, s.tcp.top_service, s.tcp.top_service_syns, s.tcp.top_service_sources,
                s.scans.iter().map(|x| (x.kind.clone(), x.probed)).collect::<Vec<_>>(),
                s.dns.queries, s.dns.responses, s.dns.unanswered, s.dns.servfail, s.dns.nxdomain, s.dns.malformed,
                s.dns.resolvers.iter().map(|r| (r.address.clone(), r.queries, r.unanswered, r.rcodes.clone())).collect::<Vec<_>>(),
                notes.iter().map(|n| n.message.clone()).collect::<Vec<_>>(),
            );
        }
        n += 1;
    }
    assert!(n >= 30, "expected the 30 corpus captures, read {n}");
}

#[test]
fn floods_scans_arp_and_dns_failures_are_reported() {
    // SYN floods from spoofed sources: many SYNs, many sources, no SYN-ACK.
    for name in [
        "sgr__pkt.TCP.synflood.spoofed.first24999.pcap",
        "sgr__pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng",
    ] {
        let (s, _) = load(name);
        assert!(s.tcp.top_service_syns > 9000, "{name}: {:?}", s.tcp);
        assert!(s.tcp.top_service_sources > 9000, "{name}: {:?}", s.tcp);
        assert_eq!(s.tcp.synack, 0, "{name}");
    }
    // Scans: a vertical port scan and a horizontal SYN sweep.
    let (s, _) = load("sgr__portScan_1_to_10000.pcapng");
    assert_eq!(s.format, "pcapng");
    assert!(
        s.scans
            .iter()
            .any(|x| x.kind == "ports" && x.probed >= 10_000),
        "{:?}",
        s.scans
    );
    assert!((s.duration - 5.4).abs() < 0.2, "{}", s.duration);
    let (s, _) = load("sgr__hs-tcp_synPingSweepRand.pcapng");
    assert_eq!(s.format, "pcap", "classic pcap under a .pcapng name");
    assert!(
        s.scans.iter().any(|x| x.kind == "hosts" && x.probed >= 200),
        "{:?}",
        s.scans
    );
    // ARP: a scan (many targets, none answered), spoofing (replies nobody
    // asked for), the gateway asked for in vain (Linux SLL), SNAP.
    let (s, _) = load("sgr__hs-arpScan.pcap");
    assert!(
        s.arp.requests >= 500 && s.arp.unanswered_targets >= 250,
        "{:?}",
        s.arp
    );
    let (s, _) = load("sgr__na-arpSpoofing.pcap");
    assert_eq!((s.arp.requests, s.arp.unsolicited_replies), (0, 36));
    assert_eq!(s.arp.spoofers.len(), 1, "{:?}", s.arp.spoofers);
    assert_eq!(
        (
            s.arp.spoofers[0].mac.as_str(),
            s.arp.spoofers[0].replies,
            s.arp.spoofers[0].addresses
        ),
        ("00:e0:4d:3c:25:7b", 36, 2)
    );
    let (s, _) = load("sgr__hs-arpScan.pcap");
    assert!(s.arp.who_has.peak_per_second >= 300, "{:?}", s.arp.who_has);
    assert_eq!(s.arp.who_has.top_senders[0].address, "10.0.0.128");
    assert!(s.broadcast_share > 0.99);
    let (s, _) = load("zeek__linuxsll-arp.pcap");
    assert_eq!(s.link_type, 113);
    assert_eq!(s.arp.top_unanswered[0].address, "10.1.10.1");
    assert!(s.arp.top_unanswered[0].requests >= 9);
    let (s, _) = load("zeek__snap-arp.pcapng");
    assert_eq!((s.arp.requests, s.arp.replies), (2, 2), "ARP over LLC/SNAP");
    // Malformed ARP: counted, never read past the frame.
    for name in ["zeek__arp-leak.pcap", "tcpdump__arp-too-long-tha.pcap"] {
        let (s, notes) = load(name);
        assert_eq!(s.arp.malformed, s.packets, "{name}");
        assert!(!notes.is_empty(), "{name}");
    }
    // DNS: unanswered queries, NXDOMAIN, extended rcodes (EDNS).
    let (s, _) = load("zeek__ticks-dns.pcap");
    assert_eq!((s.dns.queries, s.dns.responses), (10, 0));
    assert!(s.dns.unanswered >= 9);
    let (s, _) = load("sgr__dgapcap.pcapng");
    assert!(
        s.dns.unanswered >= 50 && s.dns.nxdomain >= 20,
        "{:?}",
        s.dns
    );
    let (s, _) = load("tcpdump__dns-badcookie.pcap");
    assert_eq!(s.link_type, 0);
    assert_eq!(s.dns.resolvers[0].rcodes.get("BADCOOKIE"), Some(&1));
    let (s, _) = load("tcpdump__dns-badvers.pcap");
    assert_eq!(s.dns.resolvers[0].rcodes.get("BADVERS"), Some(&1));
    let (s, _) = load("zeek__dns_dns_extended_rcode.pcap");
    assert_eq!(s.link_type, 228);
    assert_eq!(s.dns.responses, 1);
    // Link types and timestamps.
    let (s, _) = load("tcpdump__tcp-handshake-nano.pcap");
    assert_eq!((s.link_type, s.tcp.syn, s.tcp.synack), (113, 1, 1));
    let (s, notes) = load("tcpdump__empty.pcap");
    assert_eq!(s.packets, 0);
    assert!(notes.is_empty());
    let (s, _) = load("zeek__tcp_rst-inject-rae.pcap");
    assert_eq!(s.tcp.rst, 3);
    assert_eq!(s.tcp.rsts.top_senders[0].address, "1.2.0.3");
    // TCP health: duplicated segments, retransmissions, ICMP errors.
    let (s, _) = load("zeek__tcp_ssh-dups.pcap");
    assert_eq!(
        (s.tcp.retransmitted.packets, s.tcp.data_segments),
        (162, 216)
    );
    let (s, _) = load("zeek__tcp_retransmit-fast009.pcap");
    assert_eq!(s.tcp.retransmitted.packets, 3);
    let (s, _) = load("zeek__tcp_retransmit-timeout.pcapng");
    assert_eq!(s.tcp.retransmitted.packets, 1);
    let (s, _) = load("sgr__pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng");
    assert_eq!(s.tcp.rsts.packets, 239);
    assert!(s.tcp.rsts.peak_per_second >= 100, "{:?}", s.tcp.rsts);
    let (s, _) = load("zeek__icmp_icmp-destunreach-udp.pcap");
    assert_eq!(s.icmp.unreachable_codes.get("port"), Some(&1));
    let (s, _) = load("tcpdump__eapon1.pcap");
    assert_eq!(s.arp.announcements.packets, 3);
}

/// The ids the whole pipeline (built-in rules) reports for one corpus
/// capture given as `capture/<name>`, findings and causes together.
fn reported(name: &str) -> Vec<String> {
    reported_with(name, &[])
}

/// [`reported`], with more inputs beside the capture (the host's routes).
fn reported_with(name: &str, more: &[(&str, &str)]) -> Vec<String> {
    let bytes = read(name);
    let snapshot = diag_core::Snapshot::from_inputs(
        std::iter::once((format!("capture/{name}"), bytes)).chain(
            more.iter()
                .map(|(k, v)| ((*k).to_string(), v.as_bytes().to_vec())),
        ),
    );
    let rules = diag_core::diagnose::rules::RuleSet::builtin().expect("built-in rules");
    let d = diag_core::diagnose::diagnose(&snapshot, &rules);
    d.causes
        .iter()
        .map(|c| c.id.clone())
        .chain(d.findings.iter().map(|f| f.id.clone()))
        .collect()
}

#[test]
fn floods_scans_and_dns_failures_become_findings() {
    for (name, id) in [
        (
            "sgr__pkt.TCP.synflood.spoofed.first24999.pcap",
            "net.syn-flood",
        ),
        ("sgr__pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng", "net.syn-flood"),
        ("sgr__portScan_1_to_10000.pcapng", "capture.port-scan"),
        ("sgr__hs-tcp_synPingSweepRand.pcapng", "capture.port-scan"),
        ("zeek__ticks-dns.pcap", "capture.dns-unanswered"),
        ("sgr__dgapcap.pcapng", "capture.dns-unanswered"),
        ("sgr__na-arpSpoofing.pcap", "capture.arp-spoofing"),
        ("sgr__hs-arpScan.pcap", "capture.neighbour-storm"),
        ("sgr__hs-arpScan.pcap", "capture.broadcast-heavy"),
        (
            "sgr__pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng",
            "capture.rst-storm",
        ),
        ("zeek__tcp_ssh-dups.pcap", "capture.tcp-retransmissions"),
        ("tcpdump__eapon1.pcap", "capture.gratuitous-arp"),
    ] {
        let ids = reported(name);
        assert!(ids.iter().any(|i| i == id), "{name}: {id} not in {ids:?}");
    }
    // A port scan is not a flood, and a single handshake is nothing.
    for (name, id) in [
        ("sgr__portScan_1_to_10000.pcapng", "net.syn-flood"),
        (
            "tcpdump__tcp-handshake-nano.pcap",
            "capture.handshakes-unanswered",
        ),
        ("zeek__dns_long-connection.pcap", "capture.dns-unanswered"),
        // Three retransmissions, a single unreachable, a handful of RSTs
        // and broadcasts: below every threshold.
        (
            "zeek__tcp_retransmit-fast009.pcap",
            "capture.tcp-retransmissions",
        ),
        (
            "zeek__icmp_icmp-destunreach-udp.pcap",
            "capture.icmp-unreachable",
        ),
        ("zeek__tcp_rst-inject-rae.pcap", "capture.rst-storm"),
        ("tcpdump__eapon1.pcap", "capture.broadcast-heavy"),
        ("sgr__dgapcap.pcapng", "capture.neighbour-storm"),
        ("zeek__linuxsll-arp.pcap", "capture.gateway-arp-unanswered"),
    ] {
        let ids = reported(name);
        assert!(!ids.iter().any(|i| i == id), "{name}: {id} in {ids:?}");
    }
}

/// Nine requests for 10.1.10.1 without a reply: the unanswered gateway,
/// once the host's routes say 10.1.10.1 is its gateway.
#[test]
fn the_gateway_asked_for_in_vain_is_reported_with_the_routes() {
    let route =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010A010A\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000A010A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
";
    let ids = reported_with("zeek__linuxsll-arp.pcap", &[("proc/net/route", route)]);
    assert!(
        ids.iter().any(|i| i == "capture.gateway-arp-unanswered"),
        "{ids:?}"
    );
}
