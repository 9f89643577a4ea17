//! Network parsers on arbitrary text: procfs/sysfs, `ip -j` JSON record by
//! record, every `ip`/net-tools text format through the sniffer, sockets,
//! counters, and the derived views over whatever tables came out.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::net(data));
