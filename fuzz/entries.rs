//! The fuzz targets' bodies, one function per target, shared by the
//! libFuzzer binaries (`fuzz_targets/*.rs`, `cargo +nightly fuzz run NAME`)
//! and by the workspace test `tests/fuzz_replay.rs`, which replays every
//! saved input (`fuzz/corpus/NAME/`, `fuzz/regressions/NAME/`) through the
//! same function on the stable compiler. The parsers are diag-parse's
//! (no OS dependency); the derivations, the rules, the pipeline and the
//! sources are diag-core's.
#![allow(dead_code)]

use diag_core::facts::md::{merge, Classify};
use diag_core::{diagnose::diagnose, diagnose::rules::RuleSet, Snapshot};
use diag_parse::md::{mdadm_detail, mdstat, sysfs};
use diag_parse::net::{self, iproute2_json, procnet, Interner};
use diag_parse::pcap::{analyse, decode::decode};
use diag_parse::{events, fs, kernel_log};
use std::sync::LazyLock;

static RULES: LazyLock<RuleSet> = LazyLock::new(|| RuleSet::builtin().expect("built-in rules"));

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target by name, for the replay test.
pub const TARGETS: &[(&str, Target)] = &[
    ("capture", capture),
    ("fs", fs),
    ("kernel_log", kernel_log),
    ("mdstat", mdstat),
    ("net", net),
    ("pipeline", pipeline),
    ("rules", rules),
    ("archive", archive),
    ("sanitize", sanitize),
    ("sosreport", sosreport),
    ("trace", trace),
];

/// The packet decoder over every link type diag reads, then the whole
/// capture analysis over the same bytes taken as a pcap/pcapng file.
pub fn capture(data: &[u8]) {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let link = [0u32, 1, 101, 113, 228, 229, 12345][usize::from(selector) % 7];
    let d = decode(link, packet);
    let _ = d.describe(u32::try_from(packet.len()).unwrap_or(u32::MAX));
    let _ = analyse("capture/fuzz.pcap", data);
}

/// The filesystem parsers on arbitrary text: mounts, fstab, statvfs JSON,
/// diskstats, a quota tool's command line.
pub fn fs(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (mut mounts, _) = fs::parse_mounts("proc/mounts", &text);
    let (fstab, _) = fs::parse_fstab("etc/fstab", &text);
    diag_core::facts::fs::judge_read_only(&mut mounts, Some(&fstab));
    let _ = fs::parse_statvfs_json("fs/statvfs.json", &text);
    let _ = fs::parse_diskstats("proc/diskstats", &text);
    let _ = fs::quota_process(1, "quotacheck", Some(data), &mounts);
    let _ = fs::unescape_octal(&text);
}

/// Every kernel-log parser, and event grouping, on arbitrary text.
pub fn kernel_log(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (mut entries, _) = kernel_log::parse_kmsg("dev/kmsg", &text);
    events::group(&mut entries);
    let (mut entries, _) = kernel_log::parse_dmesg("commands/dmesg", &text);
    kernel_log::number_boots(&mut entries);
    events::group(&mut entries);
    let _ = kernel_log::parse_syslog("var/log/kern.log", &text);
    for line in text.lines() {
        let _ = kernel_log::parse_stamp(line);
    }
}

/// The md parsers on arbitrary text: `/proc/mdstat` (classification
/// included), `mdadm --detail`, sysfs attributes, and their merge.
pub fn mdstat(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (mut parsed, _) = mdstat::parse_mdstat("proc/mdstat", &text);
    for array in &mut parsed.arrays {
        array.classify();
    }
    let (details, _) = mdadm_detail::parse_mdadm_detail("commands/mdadm_--detail_md0", &text);
    // The same bytes as every sysfs attribute of md0 and of one member.
    let files: Vec<(String, String)> = [
        "array_state",
        "level",
        "raid_disks",
        "degraded",
        "sync_action",
        "sync_completed",
        "mismatch_cnt",
        "last_sync_action",
        "metadata_version",
        "dev-sda1/state",
        "dev-sda1/slot",
    ]
    .iter()
    .map(|attr| (format!("sys/block/md0/md/{attr}"), text.to_string()))
    .collect();
    let (sysfs, _) = sysfs::parse_sysfs_md("md0", &files);
    let mdadm = details
        .into_iter()
        .map(|d| ("md0".to_string(), d))
        .collect();
    let mut notes = Vec::new();
    let _ = merge(parsed.arrays, vec![sysfs], mdadm, &mut notes);
}

/// Network parsers on arbitrary text: procfs/sysfs, `ip -j` JSON record by
/// record, every `ip`/net-tools text format through the sniffer, sockets,
/// counters, and the derived views over whatever tables came out.
pub fn net(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = procnet::stat::parse_neigh_cache_stats("proc/net/stat/arp_cache", "arp_cache", &text);
    let _ = net::sysfs::parse_interface_flags("eth0", "sys/class/net/eth0/flags", &text);
    let mut interner = Interner::default();
    let _ = iproute2_json::parse_ip_addr_json("net/addr.json", &text);
    let _ = iproute2_json::parse_ip_link_json("net/link.json", &text);
    let _ = iproute2_json::parse_ip_route_json("net/route.json", &text, None);
    let _ = iproute2_json::parse_ip_neigh_json("net/neigh.json", &text, &mut interner);
    let _ = iproute2_json::parse_ip_rule_json("net/rule.json", &text, "inet");
    if let Some(format) = net::text::sniff(&text) {
        let _ = net::text::parse(format, "commands/ip_x", &text, None, &mut interner);
    }
    let _ = procnet::sockets::parse_proc_net_sockets("proc/net/tcp6", "tcp6", &text);
    let _ = procnet::snmp::parse_proc_net_snmp("proc/net/netstat", &text);
    let _ = procnet::dev::parse_proc_net_dev("proc/net/dev", &text);
    let snapshot = diag_core::Snapshot::from_inputs([
        ("net/addr.json", text.to_string()),
        ("commands/ip_route", text.to_string()),
        ("proc/net/arp", text.to_string()),
        ("etc/ips", text.to_string()),
    ]);
    let _ = diag_core::Facts::from_snapshot(&snapshot);
}

/// The whole pipeline (parse every input, run every built-in rule) on a
/// snapshot whose inputs are all the same arbitrary bytes, the kernel log
/// sources and a gzip rotation included.
pub fn pipeline(data: &[u8]) {
    let names = [
        "dev/kmsg",
        "var/log/kern.log",
        "var/log/kern.log.1.gz",
        "sys/fs/pstore/dmesg-ramoops-0",
        "proc/net/route",
        "proc/net/stat/arp_cache",
        "proc/stat",
        "etc/localtime",
        "sys/class/net/eth0/flags",
        "proc/mdstat",
        "sys/block/md0/md/array_state",
        "sys/block/md0/md/degraded",
        "sys/block/md0/md/dev-sda1/state",
        "commands/mdadm_--detail_md0",
        "proc/mounts",
        "etc/fstab",
        "fs/statvfs.json",
        "proc/diskstats",
        "proc/1/comm",
        "proc/1/cmdline",
    ];
    let snapshot = Snapshot::from_inputs(names.iter().map(|n| (*n, data.to_vec())));
    let _ = diagnose(&snapshot, &RULES);
}

/// The rule loader (TOML, regex, CEL, field checks) on arbitrary files.
pub fn rules(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = RuleSet::from_files(&[("fuzz.toml".to_string(), text)]);
}

/// The bundle archive unpacker (tar headers, GNU long names, PAX records,
/// sparse entries, links, limits) on an arbitrary uncompressed tar stream.
pub fn archive(data: &[u8]) {
    diag_core::source::fuzz_unpack(data);
}

/// The one sanitiser: whatever the bytes, its output holds no character
/// that could drive a terminal (tabs and line feeds only where allowed).
pub fn sanitize(data: &[u8]) {
    use diag_parse::sanitize::{is_control, visible, visible_line};
    let text = String::from_utf8_lossy(data);
    let shown = visible(&text);
    assert!(
        !shown
            .chars()
            .any(|c| is_control(c) && c != '\n' && c != '\t'),
        "visible() let a control through: {shown:?}"
    );
    let line = visible_line(&text);
    assert!(
        !line.chars().any(|c| is_control(c) && c != '\t'),
        "visible_line() let a control through: {line:?}"
    );
}

/// The sosreport converters (`sysctl -a` to `proc/sys` files, `systemctl
/// list-units` text to JSON, `mount -l` to `/proc/mounts`, `date --utc`,
/// failed-command detection) on arbitrary text: never a name outside
/// `proc/sys/`, always valid JSON, always six-field mount lines.
pub fn sosreport(data: &[u8]) {
    use diag_core::source::sosreport::{
        failed_command, list_units_json, parse_date, proc_mounts, sysctl_files,
    };
    let text = String::from_utf8_lossy(data);
    for (name, value) in sysctl_files(&text) {
        assert!(name.starts_with("proc/sys/"), "{name:?}");
        assert!(
            name.split('/')
                .all(|p| !p.is_empty() && p != "." && p != ".."),
            "{name:?}"
        );
        assert!(value.ends_with('\n'));
    }
    let json: serde_json::Value =
        serde_json::from_str(&list_units_json(&text)).expect("list-units JSON");
    assert!(json.is_array());
    for line in proc_mounts(&text).lines() {
        assert_eq!(line.split(' ').count(), 6, "{line:?}");
    }
    let _ = parse_date(&text);
    let _ = failed_command(&text);
}

/// The trace-event parsers on arbitrary text: `kfree_skb` lines in every
/// shape (tracefs, trace-cmd, perf), an event's `format` file, ring-buffer
/// statistics and diag's recording statistics.
pub fn trace(data: &[u8]) {
    use diag_parse::trace;
    let text = String::from_utf8_lossy(data);
    let mut events = 0u64;
    let _ = trace::kfree_skb::parse_trace("trace/kfree_skb.txt", &text, |_, e| {
        events += u64::from(e.reason.is_some()) + u64::from(e.location.is_some());
    });
    let _ = trace::parse_event_format("trace/kfree_skb.format", &text);
    let _ = trace::parse_ring_stats("per_cpu/cpu0/stats", &text);
    let _ = trace::parse_recording_stats("trace/kfree_skb.stats", &text);
}
