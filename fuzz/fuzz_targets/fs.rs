//! The filesystem parsers on arbitrary text: mounts, fstab, statvfs JSON,
//! diskstats, a quota tool's command line.
#![no_main]
use diag_core::parse::fs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (mut mounts, _) = fs::parse_mounts("proc/mounts", &text);
    let (fstab, _) = fs::parse_fstab("etc/fstab", &text);
    fs::judge_read_only(&mut mounts, Some(&fstab));
    let _ = fs::parse_statvfs_json("fs/statvfs.json", &text);
    let _ = fs::parse_diskstats("proc/diskstats", &text);
    let _ = fs::quota_process(1, "quotacheck", Some(data), &mounts);
    let _ = fs::unescape_octal(&text);
});
