//! Network parsers on arbitrary text: procfs/sysfs, `ip -j` JSON record by
//! record, every `ip`/net-tools text format through the sniffer, sockets,
//! counters, and the derived views over whatever tables came out.
#![no_main]
use diag_core::parse::{net, netstate, nettext, sockets, counters};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = net::parse_neigh_cache_stats("proc/net/stat/arp_cache", "arp_cache", &text);
    let _ = net::parse_interface_flags("eth0", "sys/class/net/eth0/flags", &text);
    let mut interner = netstate::Interner::default();
    let _ = netstate::parse_ip_addr_json("net/addr.json", &text);
    let _ = netstate::parse_ip_link_json("net/link.json", &text);
    let _ = netstate::parse_ip_route_json("net/route.json", &text, None);
    let _ = netstate::parse_ip_neigh_json("net/neigh.json", &text, &mut interner);
    let _ = netstate::parse_ip_rule_json("net/rule.json", &text, "inet");
    if let Some(format) = nettext::sniff(&text) {
        let _ = nettext::parse(format, "commands/ip_x", &text, None, &mut interner);
    }
    let _ = sockets::parse_proc_net_sockets("proc/net/tcp6", "tcp6", &text);
    let _ = counters::parse_proc_net_snmp("proc/net/netstat", &text);
    let _ = counters::parse_proc_net_dev("proc/net/dev", &text);
    let snapshot = diag_core::Snapshot::from_inputs([
        ("net/addr.json", text.to_string()),
        ("commands/ip_route", text.to_string()),
        ("proc/net/arp", text.to_string()),
        ("etc/ips", text.to_string()),
    ]);
    let _ = diag_core::Facts::from_snapshot(&snapshot);
});
