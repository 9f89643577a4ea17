//! The md parsers on arbitrary text: `/proc/mdstat` (classification
//! included), `mdadm --detail`, sysfs attributes, and their merge.
#![no_main]
use diag_core::parse::{md, mdstat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (parsed, _) = mdstat::parse_mdstat("proc/mdstat", &text);
    let (details, _) = md::parse_mdadm_detail("commands/mdadm_--detail_md0", &text);
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
    let (sysfs, _) = md::parse_sysfs_md("md0", &files);
    let mdadm = details.into_iter().map(|d| ("md0".to_string(), d)).collect();
    let mut notes = Vec::new();
    let _ = md::merge(parsed.arrays, vec![sysfs], mdadm, &mut notes);
});
