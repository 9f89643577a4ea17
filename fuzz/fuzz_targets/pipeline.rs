//! The whole pipeline (parse every input, run every built-in rule) on a
//! snapshot whose inputs are all the same arbitrary bytes, the kernel log
//! sources and a gzip rotation included.
#![no_main]
use diag_core::{diagnose::diagnose, rules::RuleSet, Snapshot};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static RULES: LazyLock<RuleSet> = LazyLock::new(|| RuleSet::builtin().expect("built-in rules"));

fuzz_target!(|data: &[u8]| {
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
});
