//! Tests of the `ip` text parsers on the samples of this VM and by hand
//! (see `super::super::samples`).

use super::*;
use crate::net::samples::*;
use crate::net::text::Format;
use crate::net::NAMED_TABLE_BASE;

#[test]
fn ip_addr_of_this_vm() {
    let (links, addrs, notes) = parse_ip_addr("commands/ip_addr", IP_ADDR);
    assert!(notes.is_empty(), "{notes:?}");
    let names: Vec<_> = links.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["lo", "ifb0", "ifb1", "eth0"]);
    let eth0 = &links[3];
    assert_eq!((eth0.index, eth0.mtu, eth0.line), (4, 1400, 11));
    assert!(eth0.up && eth0.carrier == Some(true) && eth0.resolves_neighbours);
    assert_eq!(eth0.operstate, "UP");
    assert_eq!(
        (eth0.link_type.as_str(), eth0.mac.as_str()),
        ("ether", "02:fc:00:00:00:01")
    );
    assert!(eth0.excerpt.starts_with("4: eth0: <BROADCAST"));
    assert!(!links[0].resolves_neighbours, "loopback");
    // ifb0 is down and NOARP: no carrier either way, resolves nothing.
    assert!(!links[1].up && links[1].carrier.is_none() && !links[1].resolves_neighbours);
    assert_eq!(addrs.len(), 5);
    let v4 = &addrs[2];
    assert_eq!(
        (v4.ifname.as_str(), v4.local, v4.prefixlen),
        ("eth0", ip("192.0.2.2"), 24)
    );
    assert_eq!(
        (v4.scope.as_str(), v4.label.as_str(), v4.line),
        ("global", "eth0", 13)
    );
    assert_eq!(
        v4.excerpt,
        "inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0"
    );
    assert_eq!(addrs[3].flags, ["nodad"]);
    assert!(addrs[3].label.is_empty(), "IPv6 addresses have no label");
    assert_eq!(addrs[4].scope, "link");
}

#[test]
fn ip_addr_counters_details_and_oneline() {
    let (links, _, notes) = parse_ip_addr("x", IP_S_LINK);
    assert!(notes.is_empty(), "{notes:?}");
    let stats = links[0].stats.expect("ip -s counters");
    assert_eq!(
        (stats.rx_bytes, stats.rx_packets, stats.tx_packets),
        (8308, 86, 86)
    );
    let (links, _, notes) = parse_ip_addr("x", IP_D_LINK);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(links[0].kind, "ifb");
    let (links, addrs, notes) = parse_ip_addr("x", IP_O_ADDR);
    assert!(notes.is_empty() && links.is_empty(), "{notes:?}");
    assert_eq!(addrs.len(), 5);
    assert_eq!(
        (addrs[2].ifname.as_str(), addrs[2].label.as_str()),
        ("eth0", "eth0")
    );
    assert_eq!(
        addrs[3].flags,
        ["nodad"],
        "valid_lft after the backslash is not a flag"
    );
}

#[test]
fn ip_addr_flags_labels_peers_and_parents() {
    // By hand, in iproute2's format: an alias label, a peer address, flags
    // in both orders, veth and VLAN names, a master.
    let text = "\
Message truncated
7: eth0@if8: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UP group default qlen 1000
    link/ether 02:fc:00:00:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet 192.0.2.7/24 brd 192.0.2.255 scope global secondary eth0:1
    inet 198.51.100.1 peer 198.51.100.2/32 scope global eth0
    inet6 2001:db8::2/64 scope global dadfailed tentative
    inet6 2001:db8::3/64 scope global tentative dadfailed
8: eth0.100@eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state LOWERLAYERDOWN
    link/ether 02:fc:00:00:00:02 brd ff:ff:ff:ff:ff:ff
9: tun0@NONE: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1480 state UNKNOWN
    link/[65534]
    altname tunnel-zero
/usr/sbin/ip: bad command or file name
";
    let (links, addrs, notes) = parse_ip_addr("x", text);
    assert_eq!(note_lines(&notes), [Some(1), Some(13)], "{notes:?}");
    assert_eq!(links.len(), 3);
    assert_eq!(
        (links[0].name.as_str(), links[0].parent.as_str()),
        ("eth0", "")
    );
    assert_eq!(links[0].master, "br0");
    assert_eq!(
        (links[1].name.as_str(), links[1].parent.as_str()),
        ("eth0.100", "eth0")
    );
    assert_eq!(links[1].carrier, Some(false));
    assert_eq!(
        (links[2].name.as_str(), links[2].link_type.as_str()),
        ("tun0", "none")
    );
    assert!(!links[2].resolves_neighbours);
    assert_eq!(addrs[0].label, "eth0:1");
    assert_eq!(addrs[0].flags, ["secondary"]);
    assert_eq!(
        (addrs[1].local, addrs[1].prefixlen),
        (ip("198.51.100.1"), 32)
    );
    for a in &addrs[2..] {
        assert!(a.flags.contains(&"dadfailed".to_string()), "{a:?}");
        assert!(a.flags.contains(&"tentative".to_string()), "{a:?}");
    }
}

#[test]
fn ip_addr_cut_and_malformed_lines_become_notes() {
    let text = "\
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP
    inet 192.0.2.
    inet 192.0.2.9/99 scope global eth0
    inet6 zz::1/64 scope link
    inet 192.0.2.3/24 brd
3: eth1: <BROADCAST,MULTI";
    let (links, addrs, notes) = parse_ip_addr("x", text);
    assert_eq!(links.len(), 1);
    assert_eq!(addrs.len(), 1, "the address before the cut `brd` is kept");
    assert_eq!(addrs[0].local, ip("192.0.2.3"));
    assert_eq!(
        note_lines(&notes),
        [Some(2), Some(3), Some(4), Some(5), Some(6)],
        "{notes:?}"
    );
    // Nothing at all, garbage, a lone continuation line.
    for text in [
        "",
        "\u{0}\u{ff}",
        "    valid_lft forever",
        "1:",
        ": <>",
        "inet6",
    ] {
        let _ = parse_ip_addr("x", text);
    }
}

#[test]
fn ip_route_table_all_of_this_vm() {
    let (routes, notes) = parse_routes(Format::IpRoute, IP_ROUTE_TABLE_ALL, None);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(routes.len(), 14);
    let default = &routes[0];
    assert!(default.is_default() && default.dst.addr().is_ipv4());
    assert_eq!(
        (default.gateway, &*default.dev),
        (Some(ip("192.0.2.1")), "eth0")
    );
    assert_eq!(default.table, TABLE_MAIN);
    assert_eq!(default.render(), "default via 192.0.2.1 dev eth0");
    let connected = &routes[1];
    assert_eq!(
        (&*connected.protocol, &*connected.scope),
        ("kernel", "link")
    );
    assert_eq!(connected.prefsrc, Some(ip("192.0.2.2")));
    assert_eq!(
        (routes[2].kind, routes[2].table),
        (RouteKind::Local, TABLE_LOCAL)
    );
    assert_eq!(routes[4].kind, RouteKind::Broadcast);
    let v6_default = routes
        .iter()
        .find(|r| r.is_default() && r.dst.addr().is_ipv6());
    let v6_default = v6_default.expect("IPv6 default");
    assert_eq!(
        (v6_default.gateway, v6_default.metric),
        (Some(ip("fd00::1")), 1024)
    );
    assert_eq!(routes[13].kind, RouteKind::Multicast);
    assert_eq!(routes[13].dst, net("ff00::/8"));
    let (v6, notes) = parse_routes(Format::IpRoute, IP6_ROUTE, Some("inet6"));
    assert!(notes.is_empty() && v6.len() == 3, "{notes:?}");
}

#[test]
fn ip_route_kinds_tables_flags_and_multipath() {
    // By hand, in iproute2 6.1's format.
    let text = "\
unreachable 10.0.0.0/8 metric 1024 error -101
blackhole 10.1.0.0/16
prohibit 10.2.0.0/16 table 100
throw 10.3.0.0/16 table mgmt
default via 192.0.2.1 dev eth0 onlink
198.51.100.0/24 dev eth1 proto kernel scope link src 198.51.100.2 linkdown
default proto static metric 20
\tnexthop via 192.0.2.1 dev eth0 weight 1 dead linkdown
\tnexthop via 192.0.2.254 dev eth1 weight 1
default dev ppp0 scope link
default dev eth0 metric 1024 pref medium
default via inet6 fe80::1 dev eth0 proto bgp
2001:db8::/32 via fe80::1 dev eth0 proto static metric 1024 mtu lock 1400 pref high
203.0.113.0/24 encap mpls 100 via 192.0.2.1 dev eth0 frobnicate 7
";
    let (r, notes) = parse_routes(Format::IpRoute, text, None);
    assert_eq!(r.len(), 12, "{r:#?}");
    let kinds: Vec<_> = r[..4].iter().map(|r| r.kind).collect();
    use RouteKind::*;
    assert_eq!(kinds, [Unreachable, Blackhole, Prohibit, Throw]);
    assert_eq!((r[0].metric, r[0].table), (1024, TABLE_MAIN));
    assert_eq!(r[2].table, 100);
    assert_eq!(
        r[3].table, NAMED_TABLE_BASE,
        "a name of the host's rt_tables"
    );
    assert!(r[4].onlink && r[4].gateway == Some(ip("192.0.2.1")));
    assert!(r[5].linkdown);
    let multipath = &r[6];
    assert_eq!(
        (multipath.gateway, &*multipath.dev),
        (Some(ip("192.0.2.1")), "eth0")
    );
    assert!(multipath.linkdown, "first nexthop's flags");
    assert_eq!(multipath.line, 7);
    assert!(r[7].is_default() && r[7].gateway.is_none() && r[7].dst.addr().is_ipv4());
    assert!(r[8].dst.addr().is_ipv6(), "pref is printed for IPv6 only");
    assert!(r[9].dst.addr().is_ipv4(), "IPv4 route via an IPv6 next hop");
    assert_eq!(r[9].gateway, Some(ip("fe80::1")));
    assert_eq!(r[10].metric, 1024);
    assert_eq!(r[11].gateway, Some(ip("192.0.2.1")));
    let messages: Vec<_> = notes.iter().map(|n| (n.line, n.message.as_str())).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(notes[0].message.contains("frobnicate"));

    // The family hint decides address-less records; without it the record
    // before decides.
    let (r, _) = parse_routes(Format::IpRoute, "default dev tun0\n", Some("inet6"));
    assert!(r[0].dst.addr().is_ipv6());
    let (r, _) = parse_routes(
        Format::IpRoute,
        "fd00::/64 dev eth0\ndefault dev tun0\n",
        None,
    );
    assert!(r[1].dst.addr().is_ipv6());
}

#[test]
fn ip_route_cut_and_malformed_lines_become_notes() {
    let text = "\
$ ip route
default via 192.0.2.1 dev eth0
10.0.0.0/8 via
10.1.0.0/16 dev
10.2.0.0/16 dev eth0 metric
10.3.0.0/16
unreachable
10.4.0.0/33 dev eth0
    nexthop via 192.0.2.9 dev eth9
10.5.0.0/16 dev eth0 metric many
";
    let (r, notes) = parse_routes(Format::IpRoute, text, None);
    let dsts: Vec<_> = r.iter().map(|r| r.dst.to_string()).collect();
    assert_eq!(dsts, ["0.0.0.0/0", "10.2.0.0/16", "10.5.0.0/16"]);
    assert_eq!(
        note_lines(&notes),
        [1, 3, 3, 4, 4, 5, 6, 7, 8, 9, 10].map(Some),
        "{notes:#?}"
    );
}

#[test]
fn rules_of_this_vm_and_by_hand() {
    let (rules, notes) = parse_ip_rule("x", IP_RULE, "inet");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(rules.len(), 3);
    assert_eq!((rules[0].priority, rules[0].table.as_str()), (0, "local"));
    assert_eq!(rules[0].selector, "from all lookup local");
    assert_eq!(rules[0].excerpt, "0:\tfrom all lookup local");
    assert_eq!(rules[2].priority, 32767);
    // By hand, iproute2's format.
    let text = "\
100:\tfrom 192.0.2.0/24 lookup 100
200:\tfrom all fwmark 0x1 unreachable
300:\tfrom 2001:db8::/32 iif eth0 [detached] lookup mgmt
garbage
400:
";
    let (rules, notes) = parse_ip_rule("x", text, "inet");
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[1].table, "");
    assert_eq!(
        (rules[2].family.as_str(), rules[2].table.as_str()),
        ("inet6", "mgmt")
    );
    assert_eq!(note_lines(&notes), [Some(4), Some(5)]);
}

/// `ip -s -s neigh show` (what sos collects) adds `ref N`, `used A/B/C`
/// and `probes N`: `ref` was reported as an unknown attribute and its
/// value as another one (a real line of the hotsos sosreport).
#[test]
fn ip_s_s_neigh_show_ref_is_known() {
    let mut interner = Interner::default();
    let (neighbours, notes) = parse_ip_neigh(
        "commands/ip_neigh",
        "10.0.0.131 dev br-ens3 lladdr 00:16:3e:3a:20:be ref 1 used 82/10/77 probes 1 REACHABLE\n",
        &mut interner,
    );
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(neighbours.len(), 1);
    assert_eq!(&*neighbours[0].dev, "br-ens3");
    assert_eq!(neighbours[0].state.to_string(), "REACHABLE");
}
