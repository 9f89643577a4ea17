//! The filesystem parsers on arbitrary text: mounts, fstab, statvfs JSON,
//! diskstats, a quota tool's command line.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::fs(data));
