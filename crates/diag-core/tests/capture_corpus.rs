//! Every capture of the shared corpus (`../shared/corpus/pcap/`, read by
//! path, never copied): no panic, and what each one is known to hold (see
//! `PROVENANCE.tsv`) is reported.

use diag_core::capture::{analyse, CaptureSummary};
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/pcap"
    ))
}

fn load(name: &str) -> (CaptureSummary, Vec<String>) {
    let bytes = std::fs::read(corpus().join(name)).expect(name);
    let (s, notes) = analyse(&format!("capture/{name}"), &bytes);
    (s, notes.into_iter().map(|n| n.message).collect())
}

#[test]
fn every_corpus_capture_reads_without_panic() {
    let Ok(dir) = std::fs::read_dir(corpus()) else {
        eprintln!("no corpus beside the checkout; skipped");
        return;
    };
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

fn have_corpus() -> bool {
    corpus().is_dir()
}

#[test]
fn floods_scans_arp_and_dns_failures_are_reported() {
    if !have_corpus() {
        return;
    }
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
}

/// The ids the whole pipeline (built-in rules) reports for one corpus
/// capture given as `capture/<name>`, findings and causes together.
fn reported(name: &str) -> Vec<String> {
    let bytes = std::fs::read(corpus().join(name)).expect(name);
    let snapshot = diag_core::Snapshot::from_inputs([(format!("capture/{name}"), bytes)]);
    let rules = diag_core::rules::RuleSet::builtin().expect("built-in rules");
    let d = diag_core::diagnose::diagnose(&snapshot, &rules);
    d.causes
        .iter()
        .map(|c| c.id.clone())
        .chain(d.findings.iter().map(|f| f.id.clone()))
        .collect()
}

#[test]
fn floods_scans_and_dns_failures_become_findings() {
    if !have_corpus() {
        return;
    }
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
    ] {
        let ids = reported(name);
        assert!(!ids.iter().any(|i| i == id), "{name}: {id} in {ids:?}");
    }
}
