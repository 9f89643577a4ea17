//! procfs/sysfs network parsers on arbitrary text.
#![no_main]
use diag_core::parse::net;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = net::parse_neigh_cache_stats("proc/net/stat/arp_cache", "arp_cache", &text);
    let _ = net::parse_proc_net_route("proc/net/route", &text);
    let _ = net::parse_interface_flags("eth0", "sys/class/net/eth0/flags", &text);
});
