//! Generated network tables at Internet scale, shared by `benches/net.rs`
//! and `xtask net-scale` (`xtask/src/net_scale.rs`, which includes this
//! file by path): `net/route.json` with 1,000,000 BGP routes (distinct
//! /24s) plus the connected and default routes, `net/neigh.json` with
//! 100,000 neighbours on a connected /15 and 1,000 off-link ones,
//! `net/addr.json` with the two interfaces. One record per line, as diag's
//! netlink collector writes them.

#![allow(dead_code)]

use std::fmt::Write;

/// BGP routes.
pub const ROUTES: usize = 1_000_000;
/// Neighbours in all (on-link and off-link).
pub const NEIGHBOURS: usize = 101_000;

/// The three inputs.
pub fn inputs() -> Vec<(String, String)> {
    let addr = r#"[
{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"}]},
{"ifindex":2,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"02:00:00:00:00:01","addr_info":[{"family":"inet","local":"192.0.2.2","prefixlen":24,"scope":"global","label":"eth0"}]},
{"ifindex":3,"ifname":"eth1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"02:00:00:00:00:02","addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":15,"scope":"global","label":"eth1"}]}
]
"#;
    let mut route = String::with_capacity(ROUTES * 100);
    route.push_str("[\n{\"dst\":\"default\",\"gateway\":\"192.0.2.1\",\"dev\":\"eth0\",\"protocol\":\"bgp\",\"metric\":20,\"flags\":[]},\n");
    route.push_str("{\"dst\":\"192.0.2.0/24\",\"dev\":\"eth0\",\"protocol\":\"kernel\",\"scope\":\"link\",\"prefsrc\":\"192.0.2.2\",\"flags\":[]},\n");
    route.push_str("{\"dst\":\"10.0.0.0/15\",\"dev\":\"eth1\",\"protocol\":\"kernel\",\"scope\":\"link\",\"prefsrc\":\"10.0.0.1\",\"flags\":[]}");
    for i in 0..ROUTES {
        // Distinct /24s from 11.0.0.0 upwards.
        let n = 11 * 65536 + i as u32;
        let _ = write!(
            route,
            ",\n{{\"dst\":\"{}.{}.{}.0/24\",\"gateway\":\"192.0.2.{}\",\"dev\":\"eth0\",\"protocol\":\"bgp\",\"metric\":20,\"flags\":[]}}",
            n >> 16,
            (n >> 8) & 255,
            n & 255,
            1 + i % 4
        );
    }
    route.push_str("\n]\n");
    let mut neigh = String::with_capacity(NEIGHBOURS * 90);
    neigh.push_str("[\n");
    for i in 0..NEIGHBOURS {
        if i > 0 {
            neigh.push_str(",\n");
        }
        let (dst, dev) = if i < 100_000 {
            let n = 2 + i as u32;
            (
                format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255),
                "eth1",
            )
        } else {
            let n = i as u32;
            (format!("198.51.{}.{}", (n >> 8) & 255, n & 255), "eth0")
        };
        let _ = write!(
            neigh,
            "{{\"dst\":\"{dst}\",\"dev\":\"{dev}\",\"lladdr\":\"02:00:00:{:02x}:{:02x}:{:02x}\",\"state\":[\"{}\"]}}",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            if i % 3 == 0 { "STALE" } else { "REACHABLE" }
        );
    }
    neigh.push_str("\n]\n");
    vec![
        ("net/addr.json".to_string(), addr.to_string()),
        ("net/route.json".to_string(), route),
        ("net/neigh.json".to_string(), neigh),
    ]
}
