//! The md parsers on arbitrary text: `/proc/mdstat` (classification
//! included), `mdadm --detail`, sysfs attributes, and their merge.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::mdstat(data));
