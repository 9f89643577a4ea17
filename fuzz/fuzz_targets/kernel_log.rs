//! Every kernel-log parser, and event grouping, on arbitrary text.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::kernel_log(data));
