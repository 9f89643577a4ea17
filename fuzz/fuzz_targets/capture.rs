//! The packet decoder over every link type diag reads, then the whole
//! capture analysis over the same bytes taken as a pcap/pcapng file.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::capture(data));
