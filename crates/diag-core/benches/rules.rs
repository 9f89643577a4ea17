//! The full built-in rule set over a snapshot of 100,000 kernel log entries
//! (target: under 100 ms), and `grep -E` with the same patterns over the
//! same text as a reference measured in the same run (the machine is
//! shared; compare the ratio, not the absolute time).

use criterion::{criterion_group, criterion_main, Criterion};
use diag_core::diagnose::{diagnose, evaluate};
use diag_core::rules::RuleSet;
use diag_core::{Facts, Snapshot};
use std::fmt::Write;
use std::hint::black_box;
use std::process::Command;

const ENTRIES: usize = 100_000;

/// Ordinary kernel chatter, with an overflow line every 100 entries and a
/// rate-limit report every 1,000.
fn kmsg_text() -> String {
    let ordinary = [
        "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
        "EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro",
        "audit: type=1400 audit(1392023100.123:42): apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/sbin/ntpd\" name=\"/etc/ssl/openssl.cnf\" pid=1234 comm=\"ntpd\"",
        "TCP: request_sock_TCP: Possible SYN flooding on port 80. Sending cookies.  Check SNMP counters.",
        "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
        "nf_conntrack: nf_conntrack: table full, dropping packet",
        "sd 0:0:0:0: [sda] 1953525168 512-byte logical blocks: (1.00 TB/931 GiB)",
        "md/raid1:md0: active with 2 out of 2 mirrors",
    ];
    let mut text = String::with_capacity(ENTRIES * 100);
    for seq in 0..ENTRIES {
        let usec = 1_000_000 + seq as u64 * 10_000;
        let message = if seq % 1000 == 999 {
            "net_ratelimit: 2127 callbacks suppressed"
        } else if seq % 100 == 99 {
            "neighbour: arp_cache: neighbor table overflow!"
        } else {
            ordinary[seq % ordinary.len()]
        };
        let _ = writeln!(text, "6,{seq},{usec},-;{message}");
    }
    text
}

fn bench(c: &mut Criterion) {
    let rules = RuleSet::builtin().expect("built-in rules");
    let text = kmsg_text();
    let snapshot = Snapshot::from_inputs([("dev/kmsg", text.clone())]);
    let (facts, _) = Facts::from_snapshot(&snapshot);
    assert_eq!(facts.kernel_log.entries.len(), ENTRIES);
    let diagnosis = diagnose(&snapshot, &rules);
    assert!(diagnosis.has("neigh.table-overflow") && diagnosis.has("kmsg.messages-suppressed"));

    let mut group = c.benchmark_group("kmsg_100k");
    group.sample_size(20);
    group.bench_function("evaluate_rules", |b| {
        b.iter(|| black_box(evaluate(&facts, &rules)))
    });
    group.bench_function("parse_and_diagnose", |b| {
        b.iter(|| black_box(diagnose(&snapshot, &rules)))
    });

    // Reference: grep -E with every log pattern of the rule set.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("kmsg");
    std::fs::write(&file, &text).expect("write");
    let patterns: Vec<String> = rules
        .rules()
        .iter()
        .filter_map(|r| r.log.as_ref())
        .map(|l| {
            l.regex
                .as_str()
                .replace("(?P<", "(")
                .replace(r"\w", "[[:alnum:]_]")
                .replace(r"\d", "[0-9]")
        })
        .map(|p| strip_group_names(&p))
        .collect();
    let mut args = vec!["-c".to_string()];
    for p in &patterns {
        args.push("-E".into());
        args.push("-e".into());
        args.push(p.clone());
    }
    args.push(file.display().to_string());
    if Command::new("grep").args(&args).output().is_ok() {
        group.bench_function("reference_grep_E", |b| {
            b.iter(|| black_box(Command::new("grep").args(&args).output().expect("grep")))
        });
    }
    group.finish();
}

/// `(table>arp_cache|...)` left over from `(?P<table>...)`: drop the name.
fn strip_group_names(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(pos) = rest.find('(') {
        out.push_str(&rest[..=pos]);
        rest = &rest[pos + 1..];
        if let Some(end) = rest.find('>') {
            let name = &rest[..end];
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                rest = &rest[end + 1..];
            }
        }
    }
    out.push_str(rest);
    out.replace("(?:", "(")
}

criterion_group!(benches, bench);
criterion_main!(benches);
