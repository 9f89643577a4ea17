//! Tests of the text parsers. Samples marked "this VM" were captured
//! read-only on the project's development VM (Debian 12, iproute2 6.1.0,
//! net-tools 2.10, kernel 6.18) with the command named above each; the
//! others are written by hand in the format iproute2 prints (the VM has no
//! multipath or policy routes, and its network must not be changed), and
//! say so. The corpus test reads `tests/corpus/{route,neigh,addr}` in
//! place.

use super::*;
use std::path::Path;

// this VM: `ip addr`
const IP_ADDR: &str = r#"1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
    inet6 ::1/128 scope host 
       valid_lft forever preferred_lft forever
2: ifb0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default qlen 32
    link/ether 9e:83:b3:18:27:df brd ff:ff:ff:ff:ff:ff
3: ifb1: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default qlen 32
    link/ether 36:20:7f:fa:92:56 brd ff:ff:ff:ff:ff:ff
4: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc pfifo_fast state UP group default qlen 1000
    link/ether 02:fc:00:00:00:01 brd ff:ff:ff:ff:ff:ff
    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0
       valid_lft forever preferred_lft forever
    inet6 fd00::2/64 scope global nodad 
       valid_lft forever preferred_lft forever
    inet6 fe80::fc:ff:fe00:1/64 scope link 
       valid_lft forever preferred_lft forever
"#;

// this VM: `ip route show table all`
const IP_ROUTE_TABLE_ALL: &str = r#"default via 192.0.2.1 dev eth0 
192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2 
local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 
local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 
broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 
local 192.0.2.2 dev eth0 table local proto kernel scope host src 192.0.2.2 
broadcast 192.0.2.255 dev eth0 table local proto kernel scope link src 192.0.2.2 
fd00::/64 dev eth0 proto kernel metric 256 pref medium
fe80::/64 dev eth0 proto kernel metric 256 pref medium
default via fd00::1 dev eth0 metric 1024 pref medium
local ::1 dev lo table local proto kernel metric 0 pref medium
local fd00::2 dev eth0 table local proto kernel metric 0 pref medium
local fe80::fc:ff:fe00:1 dev eth0 table local proto kernel metric 0 pref medium
multicast ff00::/8 dev eth0 table local proto kernel metric 256 pref medium
"#;

// this VM: `ip -6 route`
const IP6_ROUTE: &str = r#"fd00::/64 dev eth0 proto kernel metric 256 pref medium
fe80::/64 dev eth0 proto kernel metric 256 pref medium
default via fd00::1 dev eth0 metric 1024 pref medium
"#;

// this VM: `ip neigh`
const IP_NEIGH: &str = r#"192.0.2.1 dev eth0 lladdr 02:fc:00:00:00:05 STALE 
fd00::1 dev eth0 FAILED 
"#;

// this VM: `ip rule`
const IP_RULE: &str = r#"0:	from all lookup local
32766:	from all lookup main
32767:	from all lookup default
"#;

// this VM: `cat /proc/net/route`
const PROC_NET_ROUTE: &str = r#"Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT                                                       
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0                                                                               
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0                                                                               
"#;

// this VM: `cat /proc/net/ipv6_route`
const PROC_NET_IPV6_ROUTE: &str = r#"fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001       lo
fd000000000000000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001     eth0
fe8000000000000000fc00fffe000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
"#;

// this VM: `cat /proc/net/arp`
const PROC_NET_ARP: &str = r#"IP address       HW type     Flags       HW address            Mask     Device
192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0
"#;

// this VM: `route -n`
const ROUTE_N: &str = r#"Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
0.0.0.0         192.0.2.1       0.0.0.0         UG    0      0        0 eth0
192.0.2.0       0.0.0.0         255.255.255.0   U     0      0        0 eth0
"#;

// this VM: `route -n -A inet6`
const ROUTE_N6: &str = r#"Kernel IPv6 routing table
Destination                    Next Hop                   Flag Met Ref  Use If
fd00::/64                      ::                         U    256 1      0 eth0
fe80::/64                      ::                         U    256 2      0 eth0
::/0                           fd00::1                    UG   1024 3      0 eth0
::1/128                        ::                         Un   0   4      0 lo
fd00::2/128                    ::                         Un   0   3      0 eth0
fe80::fc:ff:fe00:1/128         ::                         Un   0   2      0 eth0
ff00::/8                       ::                         U    256 3      0 eth0
::/0                           ::                         !n   -1  1      0 lo
"#;

// this VM: `netstat -rn`
const NETSTAT_RN: &str = r#"Kernel IP routing table
Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface
0.0.0.0         192.0.2.1       0.0.0.0         UG        0 0          0 eth0
192.0.2.0       0.0.0.0         255.255.255.0   U         0 0          0 eth0
"#;

// this VM: `arp -n`
const ARP_N: &str = r#"Address                  HWtype  HWaddress           Flags Mask            Iface
192.0.2.1                ether   02:fc:00:00:00:05   C                     eth0
"#;

// this VM: `ip -s link show lo`
const IP_S_LINK: &str = r#"1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    RX:  bytes packets errors dropped  missed   mcast           
          8308      86      0       0       0       0 
    TX:  bytes packets errors dropped carrier collsns           
          8308      86      0       0       0       0 
"#;

// this VM: `ip -o addr`
const IP_O_ADDR: &str = r#"1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host \       valid_lft forever preferred_lft forever
4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\       valid_lft forever preferred_lft forever
4: eth0    inet6 fd00::2/64 scope global nodad \       valid_lft forever preferred_lft forever
4: eth0    inet6 fe80::fc:ff:fe00:1/64 scope link \       valid_lft forever preferred_lft forever
"#;

// this VM: `ip -d link show ifb0`
const IP_D_LINK: &str = r#"2: ifb0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 32
    link/ether 9e:83:b3:18:27:df brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 
    ifb addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 
"#;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn net(s: &str) -> IpNet {
    s.parse().expect("test prefix")
}

fn parse_routes(format: Format, text: &str, hint: Option<&str>) -> (Vec<Route>, Vec<Note>) {
    let mut interner = Interner::default();
    let (tables, notes) = parse(format, "test", text, hint, &mut interner);
    (tables.routes, notes)
}

fn neighbours(format: Format, text: &str) -> (Vec<Neighbour>, Vec<Note>) {
    let mut interner = Interner::default();
    let (tables, notes) = parse(format, "test", text, None, &mut interner);
    (tables.neighbours, notes)
}

fn note_lines(notes: &[Note]) -> Vec<Option<u32>> {
    notes.iter().map(|n| n.line).collect()
}

#[test]
fn sniff_recognises_every_sample_of_this_vm() {
    for (text, format) in [
        (IP_ADDR, Format::IpAddr),
        (IP_S_LINK, Format::IpAddr),
        (IP_O_ADDR, Format::IpAddr),
        (IP_D_LINK, Format::IpAddr),
        (IP_ROUTE_TABLE_ALL, Format::IpRoute),
        (IP6_ROUTE, Format::IpRoute),
        (IP_NEIGH, Format::IpNeigh),
        (IP_RULE, Format::IpRule),
        (PROC_NET_ROUTE, Format::ProcNetRoute),
        (PROC_NET_IPV6_ROUTE, Format::ProcNetIpv6Route),
        (PROC_NET_ARP, Format::ProcNetArp),
        (ROUTE_N, Format::RouteN),
        (NETSTAT_RN, Format::RouteN),
        (ROUTE_N6, Format::RouteN6),
        (ARP_N, Format::ArpN),
    ] {
        assert_eq!(sniff(text), Some(format), "{text}");
    }
    assert_eq!(sniff(""), None);
    assert_eq!(sniff("/usr/sbin/ip: bad command or file name\n"), None);
    assert_eq!(sniff("\u{0}\u{1}garbage"), None);
}

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
    assert_eq!(r[3].table, 0, "unknown table name");
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
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(notes[0].line, Some(4));
    assert!(notes[0].message.contains("mgmt"));
    assert!(notes[1].message.contains("frobnicate"));

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
fn route_n_and_netstat_of_this_vm() {
    for text in [ROUTE_N, NETSTAT_RN] {
        let (r, notes) = parse_routes(Format::RouteN, text, None);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(r.len(), 2);
        assert!(r[0].is_default() && r[0].gateway == Some(ip("192.0.2.1")));
        assert_eq!(r[1].dst, net("192.0.2.0/24"));
        assert_eq!((r[1].gateway, &*r[1].dev), (None, "eth0"));
    }
    let (r, notes) = parse_routes(Format::RouteN6, ROUTE_N6, None);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(r.len(), 8);
    assert_eq!(r[0].dst, net("fd00::/64"));
    assert_eq!((r[0].gateway, r[0].metric), (None, 256));
    assert!(r[2].is_default() && r[2].gateway == Some(ip("fd00::1")));
    let null = &r[7];
    assert_eq!(
        (null.kind, null.table, null.metric),
        (RouteKind::Unreachable, 0, u32::MAX)
    );
}

#[test]
fn route_n_reject_names_and_broken_rows() {
    // By hand, net-tools 2.10's format: a reject route, a row `route`
    // without -n would print, a cut row, a row before any header.
    let text = "\
0.0.0.0         192.0.2.1       0.0.0.0         UG    0      0        0 eth0
Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
10.0.0.0        -               255.0.0.0       !     0      -        0 -
default         _gateway        0.0.0.0         UG    0      0        0 eth0
192.0.2.0       0.0.0.0         255.255.255.0   U     0      0
";
    let (r, notes) = parse_routes(Format::RouteN, text, None);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].kind, r[0].dst, &*r[0].dev),
        (RouteKind::Unreachable, net("10.0.0.0/8"), "")
    );
    assert_eq!(note_lines(&notes), [Some(1), Some(5), Some(6)], "{notes:?}");
}

#[test]
fn proc_net_route_of_this_vm() {
    let mut interner = Interner::default();
    let (r, notes) = parse_proc_net_route("proc/net/route", PROC_NET_ROUTE, &mut interner);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].dst, r[0].gateway),
        (net("0.0.0.0/0"), Some(ip("192.0.2.1")))
    );
    assert_eq!(
        (r[1].dst, r[1].gateway, r[1].line),
        (net("192.0.2.0/24"), None, 3)
    );
    // A reject route, a blackhole (`*`), a cut line, a bad header.
    let text =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
*\t0000000A\t00000000\t0201\t0\t0\t0\t000000FF\t0\t0\t0\n\
*\t0000010A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
eth0\t000200C0\t0000";
    let (r, notes) = parse_proc_net_route("x", text, &mut interner);
    assert_eq!((r[0].kind, &*r[0].dev), (RouteKind::Unreachable, ""));
    assert_eq!(r[1].kind, RouteKind::Unicast);
    assert_eq!(note_lines(&notes), [Some(4)]);
    let (r, notes) = parse_proc_net_route("x", "garbage\n", &mut interner);
    assert!(r.is_empty() && notes.len() == 1);
}

#[test]
fn proc_net_ipv6_route_of_this_vm() {
    let mut interner = Interner::default();
    let (r, notes) = parse_proc_net_ipv6_route("x", PROC_NET_IPV6_ROUTE, &mut interner);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(r.len(), 8);
    assert_eq!(
        (r[0].dst, r[0].metric, &*r[0].dev),
        (net("fd00::/64"), 256, "eth0")
    );
    assert!(r[2].is_default() && r[2].gateway == Some(ip("fd00::1")));
    assert_eq!(
        (r[3].kind, r[3].table, r[3].dst),
        (RouteKind::Local, TABLE_LOCAL, net("::1/128"))
    );
    assert_eq!(r[5].dst, net("fe80::fc:ff:fe00:1/128"));
    let null = &r[7];
    assert_eq!(
        (null.kind, null.table, &*null.dev),
        (RouteKind::Unreachable, 0, "lo")
    );
    let text = "fd000000000000000000000000000000 40 00000000000000000000000000000000 00\n\
zz000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n\
fd000000000000000000000000000000 99 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n";
    let (r, notes) = parse_proc_net_ipv6_route("x", text, &mut interner);
    assert!(r.is_empty());
    assert_eq!(note_lines(&notes), [Some(1), Some(2), Some(3)]);
}

#[test]
fn neighbours_of_this_vm() {
    let (n, notes) = neighbours(Format::IpNeigh, IP_NEIGH);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(n.len(), 2);
    assert_eq!(
        n[0].render(),
        "192.0.2.1 dev eth0 lladdr 02:fc:00:00:00:05 STALE"
    );
    assert!(n[1].unresolved() && n[1].lladdr.is_empty() && n[1].dst == ip("fd00::1"));
    for (format, text) in [(Format::ArpN, ARP_N), (Format::ProcNetArp, PROC_NET_ARP)] {
        let (n, notes) = neighbours(format, text);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(n.len(), 1);
        assert_eq!((n[0].dst, &*n[0].dev), (ip("192.0.2.1"), "eth0"));
        assert_eq!(
            (&*n[0].lladdr, &*n[0].state),
            ("02:fc:00:00:00:05", "COMPLETE")
        );
    }
}

#[test]
fn neighbour_states_router_flag_and_broken_lines() {
    // By hand, iproute2's format.
    let text = "\
192.0.2.1 dev eth0 lladdr 02:FC:00:00:00:05 router STALE
192.0.2.9 dev eth0  FAILED
192.0.2.10 dev eth0 lladdr xx:xx:xx:xx:xx:01 PROBE DELAY
192.0.2.11 dev eth0 lladdr 02:fc:00:00:00:0b proxy
fe80::1 dev eth0 router FAILED
192.0.2.
192.0.2.12
192.0.2.13 dev
192.0.2.14 dev eth0 lladdr
";
    let (n, notes) = neighbours(Format::IpNeigh, text);
    assert_eq!(n.len(), 5);
    assert!(n[0].router && &*n[0].lladdr == "02:fc:00:00:00:05");
    assert!(n[1].unresolved() && n[1].lladdr.is_empty());
    assert_eq!(
        (&*n[2].lladdr, &*n[2].state),
        ("xx:xx:xx:xx:xx:01", "PROBE,DELAY")
    );
    assert_eq!(&*n[3].state, "NONE");
    assert!(n[4].router && n[4].unresolved());
    assert_eq!(note_lines(&notes), [6, 7, 8, 9].map(Some), "{notes:?}");

    // By hand, net-tools and procfs formats.
    let arp = "\
Address                  HWtype  HWaddress           Flags Mask            Iface
192.0.2.5                        (incomplete)                              eth0
192.0.2.6                ether   02:fc:00:00:00:06   CM                    eth0
192.0.2.7                ether   02:fc:00:00:00:07   C     *               eth0
192.0.2.8
";
    let (n, notes) = neighbours(Format::ArpN, arp);
    let states: Vec<_> = n.iter().map(|n| &*n.state).collect();
    assert_eq!(states, ["INCOMPLETE", "PERMANENT", "COMPLETE"]);
    assert!(n[0].unresolved() && n[0].lladdr.is_empty());
    assert_eq!(note_lines(&notes), [Some(5)]);
    let proc_arp = "\
IP address       HW type     Flags       HW address            Mask     Device
192.0.2.5        0x1         0x0         00:00:00:00:00:00     *        eth0
192.0.2.6        0x1         0x6         02:fc:00:00:00:06     *        eth0
192.0.2.7        0x1         0x4         02:fc:00:00:00:07     *        eth0
192.0.2.8        0x1         0xZ         02:fc:00:00:00:08     *        eth0
192.0.2.9        0x1         0x2
";
    let (n, notes) = neighbours(Format::ProcNetArp, proc_arp);
    let states: Vec<_> = n.iter().map(|n| &*n.state).collect();
    assert_eq!(states, ["INCOMPLETE", "PERMANENT", "PERMANENT"]);
    assert!(n[0].lladdr.is_empty() && n[0].unresolved());
    assert_eq!(note_lines(&notes), [Some(5), Some(6)]);
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

#[test]
fn line_notes_are_capped() {
    let text = "garbage\n".repeat(100);
    let (_, notes) = parse_routes(Format::IpRoute, &text, None);
    assert_eq!(notes.len(), MAX_LINE_NOTES + 1);
    assert!(notes[MAX_LINE_NOTES].message.starts_with("80 more notes"));
}

#[test]
fn no_parser_panics_on_any_prefix_of_any_sample() {
    let samples = [
        IP_ADDR,
        IP_S_LINK,
        IP_O_ADDR,
        IP_D_LINK,
        IP_ROUTE_TABLE_ALL,
        IP6_ROUTE,
        IP_NEIGH,
        IP_RULE,
        PROC_NET_ROUTE,
        PROC_NET_IPV6_ROUTE,
        PROC_NET_ARP,
        ROUTE_N,
        ROUTE_N6,
        NETSTAT_RN,
        ARP_N,
    ];
    let formats = [
        Format::IpAddr,
        Format::IpRoute,
        Format::RouteN,
        Format::RouteN6,
        Format::ProcNetRoute,
        Format::ProcNetIpv6Route,
        Format::IpNeigh,
        Format::ArpN,
        Format::ProcNetArp,
        Format::IpRule,
        Format::NeighCacheStats,
    ];
    let mut interner = Interner::default();
    for sample in samples {
        // Every cut, through every parser: cut files and the wrong parser
        // are both notes, never a panic.
        for end in (0..=sample.len()).filter(|&i| sample.is_char_boundary(i)) {
            let _ = sniff(&sample[..end]);
            for format in formats {
                let _ = parse(format, "x", &sample[..end], None, &mut interner);
            }
        }
    }
}

/// What one corpus file must yield: the format [`sniff`] finds, the fewest
/// records (links + addresses, routes, neighbours or rules) and facts read
/// from the file and its PROVENANCE.tsv line.
struct Expect {
    file: &'static str,
    format: Option<Format>,
    min_records: usize,
    check: fn(&NetTables, &[Note]),
}

fn corpus_dir() -> std::path::PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus")).to_path_buf()
}

fn records(t: &NetTables) -> usize {
    t.links.len() + t.addresses.len() + t.routes.len() + t.neighbours.len() + t.rules.len()
}

fn link<'a>(t: &'a NetTables, name: &str) -> &'a Link {
    t.links
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no link {name}"))
}

fn address<'a>(t: &'a NetTables, local: &str) -> &'a Address {
    t.addresses
        .iter()
        .find(|a| a.local == ip(local))
        .unwrap_or_else(|| panic!("no address {local}"))
}

fn defaults(t: &NetTables, table: u32) -> Vec<&Route> {
    t.routes
        .iter()
        .filter(|r| r.is_default() && r.table == table && r.kind == RouteKind::Unicast)
        .collect()
}

fn neighbour<'a>(t: &'a NetTables, dst: &str) -> &'a Neighbour {
    t.neighbours
        .iter()
        .find(|n| n.dst == ip(dst))
        .unwrap_or_else(|| panic!("no neighbour {dst}"))
}

fn only_not_panic(_: &NetTables, _: &[Note]) {}

const CORPUS: &[Expect] = &[
    // --- addr/
    Expect {
        file: "addr/babeld__issue50_ip_addr_nocarrier_tentative",
        format: Some(Format::IpAddr),
        min_records: 14,
        check: |t, notes| {
            // FRAGMENT: starts inside lo's block; its four addresses are kept
            // without an interface, with one note.
            assert_eq!((t.links.len(), t.addresses.len()), (5, 9));
            assert!(t.addresses[..4].iter().all(|a| a.ifname.is_empty()));
            assert_eq!(notes.len(), 1, "{notes:?}");
            let tap = link(t, "slaptap0");
            assert!(tap.up && tap.carrier == Some(false) && tap.operstate == "DOWN");
            let stuck = address(t, "2001:67c:1254:e:df:2b35:ffff:ffff");
            assert_eq!((stuck.ifname.as_str(), stuck.prefixlen), ("slaptap0", 128));
            assert_eq!(stuck.flags, ["tentative"]);
            let tunnel = link(t, "chucloud");
            assert!(tunnel.parent.is_empty() && !tunnel.resolves_neighbours);
        },
    },
    Expect {
        file: "addr/ifupdown2__pr331_ip_addr_tentative_tabindent",
        format: Some(Format::IpAddr),
        min_records: 2,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let ens10 = link(t, "ens10");
            assert_eq!((ens10.index, ens10.mac.as_str()), (5, "52:54:00:97:3d:30"));
            let ll = address(t, "fe80::5054:ff:fe97:3d30");
            assert_eq!((ll.ifname.as_str(), ll.scope.as_str()), ("ens10", "link"));
            assert_eq!(ll.flags, ["tentative"]);
        },
    },
    Expect {
        file: "addr/insights-core__test_ip.IP_ADDR_TEST",
        format: Some(Format::IpAddr),
        min_records: 13,
        check: |t, notes| {
            assert_eq!((t.links.len(), t.addresses.len()), (6, 7));
            // The three "Message truncated" lines.
            assert_eq!(note_lines(notes), [Some(1), Some(2), Some(3)]);
            let slave = link(t, "eth7");
            assert_eq!(slave.master, "bond1");
            assert!(slave.up && slave.carrier == Some(false));
            assert_eq!(link(t, "bond1.57").parent, "bond1");
            assert_eq!(link(t, "tunl1").link_type, "none");
            let peer = address(t, "172.30.0.1");
            assert_eq!((peer.ifname.as_str(), peer.prefixlen), ("tunl1", 32));
            let slaac = address(t, "2001::211:3fff:fee2:f59e");
            assert_eq!(slaac.flags, ["mngtmpaddr", "dynamic"]);
            assert_eq!(address(t, "10.192.4.171").label, "bond1.57");
        },
    },
    Expect {
        file: "addr/netlink__issue848_ip_addr_dadfailed",
        format: Some(Format::IpAddr),
        min_records: 5,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            assert_eq!((t.links.len(), t.addresses.len()), (1, 4));
            let dup = address(t, "fe80::99c4:71a3:d1de:11a8");
            assert_eq!(dup.flags, ["tentative", "noprefixroute", "dadfailed"]);
            assert_eq!(dup.line, 7);
            let v4 = address(t, "10.6.113.39");
            assert_eq!((v4.prefixlen, v4.label.as_str()), (21, "ens192"));
            assert_eq!(v4.flags, ["noprefixroute"]);
            let failed = t
                .addresses
                .iter()
                .filter(|a| a.flags.iter().any(|f| f == "dadfailed"));
            assert_eq!(failed.count(), 1);
        },
    },
    Expect {
        file: "addr/odhcp6c__issue55_ip6_addr_dadfailed",
        format: Some(Format::IpAddr),
        min_records: 13,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            assert_eq!((t.links.len(), t.addresses.len()), (6, 7));
            let vlan = link(t, "eth0.2");
            assert_eq!((vlan.index, vlan.parent.as_str()), (11, "eth0"));
            let dup = address(t, "fe80::eade:27ff:fe77:771c");
            assert_eq!(
                (dup.ifname.as_str(), dup.flags.clone()),
                (
                    "eth0.2",
                    vec!["tentative".to_string(), "dadfailed".to_string()]
                )
            );
            // The same link-local on three interfaces.
            let same = t
                .addresses
                .iter()
                .filter(|a| a.local == ip("fe80::1ad6:c7ff:fe8c:c116"));
            assert_eq!(same.count(), 3);
            assert!(!link(t, "6in4-henet").resolves_neighbours);
        },
    },
    Expect {
        file: "addr/resource-agents__issue235_link_nocarrier_lowerlayerdown",
        format: Some(Format::IpAddr),
        min_records: 2,
        check: |t, notes| {
            // FRAGMENT: headers without their index.
            assert!(notes.is_empty(), "{notes:?}");
            let eth0 = link(t, "eth0");
            assert_eq!((eth0.index, eth0.operstate.as_str()), (0, "DOWN"));
            assert_eq!(eth0.carrier, Some(false));
            let vlan = link(t, "vlan2");
            assert_eq!(
                (vlan.parent.as_str(), vlan.operstate.as_str()),
                ("bond0", "LOWERLAYERDOWN")
            );
        },
    },
    // --- route/
    Expect {
        file: "route/cfengine-documentation__pr1400_proc_net_route_tabs",
        format: Some(Format::ProcNetRoute),
        min_records: 3,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let d = defaults(t, TABLE_MAIN);
            assert_eq!(d.len(), 1);
            assert_eq!(
                (d[0].gateway, &*d[0].dev, d[0].metric),
                (Some(ip("192.168.2.1")), "enp4s0", 100)
            );
            assert!(t
                .routes
                .iter()
                .any(|r| r.dst == net("169.254.0.0/16") && r.metric == 1000));
            assert!(t
                .routes
                .iter()
                .any(|r| r.dst == net("192.168.2.0/24") && r.gateway.is_none()));
        },
    },
    Expect {
        file: "route/cockpit__issue13557_ip_r",
        format: Some(Format::IpRoute),
        min_records: 5,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let d = defaults(t, TABLE_MAIN);
            let metrics: Vec<_> = d.iter().map(|r| (&*r.dev, r.metric)).collect();
            assert_eq!(metrics, [("enp68s0", 100), ("wlp69s0", 600)]);
            assert!(d.iter().all(|r| r.gateway == Some(ip("192.168.0.1"))));
            let virbr = t
                .routes
                .iter()
                .find(|r| &*r.dev == "virbr0")
                .expect("virbr0");
            assert!(virbr.linkdown && virbr.prefsrc == Some(ip("192.168.122.1")));
        },
    },
    Expect {
        file: "route/cockpit__issue13557_route_n",
        format: Some(Format::RouteN),
        min_records: 5,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let d = defaults(t, TABLE_MAIN);
            let metrics: Vec<_> = d.iter().map(|r| (&*r.dev, r.metric)).collect();
            assert_eq!(metrics, [("enp68s0", 100), ("wlp69s0", 600)]);
            assert!(d.iter().all(|r| r.gateway == Some(ip("192.168.0.1"))));
            let virbr = t
                .routes
                .iter()
                .find(|r| &*r.dev == "virbr0")
                .expect("virbr0");
            assert_eq!((virbr.dst, virbr.gateway), (net("192.168.122.0/24"), None));
        },
    },
    Expect {
        file: "route/eminence-procfs__pr162_proc_net_route",
        format: Some(Format::ProcNetRoute),
        min_records: 1,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let d = defaults(t, TABLE_MAIN);
            assert_eq!(
                (d[0].gateway, &*d[0].dev, d[0].metric),
                (Some(ip("192.168.18.1")), "wlp4s0", 600)
            );
        },
    },
    Expect {
        file: "route/insights-core__test_ip.IP_ROUTE_CANNOT_DETECT_THESE_ERRORS_YET",
        format: None,
        min_records: 0,
        check: only_not_panic,
    },
    Expect {
        file: "route/insights-core__test_ip.IP_ROUTE_SHOW_TABLE_ALL_TEST",
        format: Some(Format::IpRoute),
        min_records: 14,
        check: |t, notes| {
            // One note per table name the text cannot number.
            assert_eq!(notes.len(), 2, "{notes:?}");
            assert!(
                notes[0].message.contains("red_mgmt") && notes[1].message.contains("red_storage")
            );
            let main = defaults(t, TABLE_MAIN);
            assert_eq!(main.len(), 1, "policy tables' defaults are not in main");
            assert_eq!(
                (main[0].gateway, &*main[0].dev),
                (Some(ip("30.142.64.1")), "bond0.400")
            );
            assert_eq!(defaults(t, 0).len(), 2);
            let throws = t
                .routes
                .iter()
                .filter(|r| r.kind == RouteKind::Throw)
                .count();
            assert_eq!(throws, 2);
            let local = t.routes.iter().filter(|r| r.table == TABLE_LOCAL).count();
            assert_eq!(local, 2);
            assert!(t.routes.iter().any(|r| &*r.dev == "notExist"));
        },
    },
    Expect {
        file: "route/insights-core__test_ip.IP_ROUTE_SHOW_TABLE_ALL_TEST_2",
        format: Some(Format::IpRoute),
        min_records: 46,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            assert_eq!(t.routes.len(), 46, "cache lines are not routes");
            let v4 = defaults(t, TABLE_MAIN);
            assert_eq!(v4.len(), 2);
            assert_eq!(
                (v4[0].gateway, &*v4[0].dev),
                (Some(ip("192.168.23.250")), "enp0s25")
            );
            assert!(v4[1].dst.addr().is_ipv6());
            assert_eq!(
                (v4[1].gateway, &*v4[1].protocol, v4[1].metric),
                (Some(ip("fe80::a96:d7ff:fe38:d757")), "ra", 1024)
            );
            let unreachable = t
                .routes
                .iter()
                .filter(|r| r.kind == RouteKind::Unreachable)
                .count();
            assert_eq!(unreachable, 11);
            // `unreachable default dev lo table unspec`: IPv6 (the records
            // before it are), table 0.
            let null: Vec<_> = t
                .routes
                .iter()
                .filter(|r| r.is_default() && r.kind == RouteKind::Unreachable)
                .collect();
            assert_eq!(null.len(), 2);
            assert!(null
                .iter()
                .all(|r| r.table == 0 && r.dst.addr().is_ipv6() && r.metric == u32::MAX));
            assert!(t
                .routes
                .iter()
                .any(|r| r.kind == RouteKind::Multicast && r.dst == net("2001:dbc::/64")));
        },
    },
    Expect {
        file: "route/insights-core__test_ip.IP_ROUTE_SHOW_TABLE_ALL_TEST_BAD",
        format: Some(Format::IpRoute),
        min_records: 0,
        check: only_not_panic,
    },
    Expect {
        file: "route/insights-core__test_route.ROUTE",
        format: Some(Format::RouteN),
        min_records: 3,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let d = defaults(t, TABLE_MAIN);
            assert_eq!(
                (d[0].gateway, &*d[0].dev),
                (Some(ip("10.66.208.254")), "eth0")
            );
            assert!(t
                .routes
                .iter()
                .any(|r| r.dst == net("169.254.0.0/16") && r.metric == 1002));
        },
    },
    Expect {
        file: "route/netlink__issue1053_proc_net_route",
        format: Some(Format::ProcNetRoute),
        min_records: 1,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            assert_eq!(defaults(t, TABLE_MAIN)[0].gateway, Some(ip("172.20.64.1")));
        },
    },
    Expect {
        file: "route/procfs__net_route_test",
        format: Some(Format::ProcNetRoute),
        min_records: 2,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            assert_eq!(
                defaults(t, TABLE_MAIN)[0].gateway,
                Some(ip("192.168.3.149"))
            );
            assert_eq!(t.routes[1].dst, net("192.168.0.0/16"));
        },
    },
    // --- neigh/
    Expect {
        file: "neigh/home-assistant__issue13351_ip_neigh_many_FAILED",
        format: Some(Format::IpNeigh),
        min_records: 28,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let failed: Vec<_> = t
                .neighbours
                .iter()
                .filter(|n| &*n.state == "FAILED")
                .collect();
            assert_eq!(failed.len(), 8);
            assert!(failed.iter().all(|n| n.lladdr.is_empty()));
            assert_eq!(&*neighbour(t, "169.254.169.254").dev, "eth0");
            // Redacted MACs are kept as given.
            assert_eq!(&*neighbour(t, "192.168.1.63").lladdr, "xx:57:9b:18:c7:xx");
        },
    },
    Expect {
        file: "neigh/insights-core__test_ip.BAD_NEIGH_CONTEXT",
        format: Some(Format::IpNeigh),
        min_records: 0,
        check: only_not_panic,
    },
    Expect {
        file: "neigh/insights-core__test_ip.IPV4_NEIGH_CONTEXT",
        format: Some(Format::IpNeigh),
        min_records: 8,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let states: Vec<_> = t.neighbours.iter().map(|n| &*n.state).collect();
            assert_eq!(
                states,
                [
                    "PERMANENT",
                    "NOARP",
                    "REACHABLE",
                    "STALE",
                    "DELAY",
                    "FAILED",
                    "FAILED",
                    "FAILED"
                ]
            );
            let bare = neighbour(t, "172.17.0.18");
            assert!(bare.dev.is_empty() && bare.lladdr.is_empty() && bare.unresolved());
            assert_eq!(&*neighbour(t, "172.17.0.19").dev, "docker0");
        },
    },
    Expect {
        file: "neigh/insights-core__test_ip.IPV6_NEIGH_CONTEXT",
        format: Some(Format::IpNeigh),
        min_records: 2,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            assert!(t
                .neighbours
                .iter()
                .all(|n| &*n.state == "NOARP" && n.dst.is_multicast()));
            assert_eq!(
                &*neighbour(t, "ff02::1:ffea:2c00").lladdr,
                "33:33:ff:ea:2c:00"
            );
        },
    },
    Expect {
        file: "neigh/insights-core__test_ip.IP_NEIGH_SHOW",
        format: Some(Format::IpNeigh),
        min_records: 14,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let router = neighbour(t, "fe80::22a:6aff:fe65:c3c2");
            assert!(router.router && &*router.state == "STALE");
            assert_eq!(t.neighbours.iter().filter(|n| n.router).count(), 1);
            let incomplete = neighbour(t, "10.101.5.71");
            assert!(incomplete.unresolved() && incomplete.lladdr.is_empty());
            assert_eq!(&*incomplete.dev, "bond0.102");
            assert_eq!(t.neighbours.iter().filter(|n| n.dst.is_ipv6()).count(), 7);
        },
    },
    Expect {
        file: "neigh/procfs__proc_net_arp",
        format: Some(Format::ProcNetArp),
        min_records: 2,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let done = neighbour(t, "192.168.224.1");
            assert_eq!(
                (&*done.lladdr, &*done.state, &*done.dev),
                ("00:50:56:c0:00:08", "COMPLETE", "ens33")
            );
            let pending = neighbour(t, "192.168.224.2");
            assert!(pending.unresolved() && pending.lladdr.is_empty());
        },
    },
    Expect {
        file: "neigh/procfs__proc_net_stat_arp_cache",
        format: Some(Format::NeighCacheStats),
        min_records: 0,
        check: only_not_panic,
    },
    Expect {
        file: "neigh/router7__issue31_ip4_neigh_nud_all",
        format: Some(Format::IpNeigh),
        min_records: 1,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let n = neighbour(t, "212.51.156.1");
            assert_eq!(
                (&*n.dev, &*n.lladdr, &*n.state),
                ("uplink0", "00:24:14:ef:72:ff", "REACHABLE")
            );
        },
    },
    Expect {
        file: "neigh/sonic-buildimage__pr16311_router_FAILED",
        format: Some(Format::IpNeigh),
        min_records: 2,
        check: |t, notes| {
            assert!(notes.is_empty(), "{notes:?}");
            let n = &t.neighbours;
            assert!(n[0].router && !n[1].router);
            assert!(n
                .iter()
                .all(|n| n.unresolved() && n.lladdr.is_empty() && &*n.dev == "PortChannel19"));
        },
    },
];

/// Every file of `corpus/{route,neigh,addr}`, read in place: sniffed,
/// parsed without a panic, and for the files listed in [`CORPUS`] the
/// format, the record count and the facts checked. Files not listed yet
/// (added to the corpus later) are only parsed.
#[test]
fn corpus_files_are_sniffed_and_understood() {
    let dir = corpus_dir();
    let mut seen = Vec::new();
    for sub in ["route", "neigh", "addr"] {
        let entries = std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(sub).display()));
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            let name = format!(
                "{sub}/{}",
                path.file_name().expect("name").to_string_lossy()
            );
            let bytes = std::fs::read(&path).expect("corpus file");
            let text = String::from_utf8_lossy(&bytes);
            let format = sniff(&text);
            let mut interner = Interner::default();
            let (tables, notes) = match format {
                Some(format) => parse(format, &name, &text, None, &mut interner),
                None => (NetTables::default(), Vec::new()),
            };
            if format == Some(Format::NeighCacheStats) {
                let (stats, notes) =
                    crate::parse::net::parse_neigh_cache_stats(&name, "arp_cache", &text);
                let stats = stats.expect("arp_cache counters");
                assert!(
                    notes.is_empty() && stats.table_fulls == 0xc + 0x18,
                    "{stats:?}"
                );
            }
            // And through every parser, which must not panic either.
            for other in [
                Format::IpAddr,
                Format::IpRoute,
                Format::RouteN,
                Format::ProcNetRoute,
                Format::ProcNetIpv6Route,
                Format::IpNeigh,
                Format::ArpN,
                Format::ProcNetArp,
                Format::IpRule,
            ] {
                let _ = parse(other, &name, &text, Some("inet6"), &mut interner);
            }
            if let Some(expect) = CORPUS.iter().find(|e| e.file == name) {
                assert_eq!(format, expect.format, "{name}");
                assert!(
                    records(&tables) >= expect.min_records,
                    "{name}: {} records",
                    records(&tables)
                );
                assert!(notes.iter().all(|n| n.input == name), "{name}");
                (expect.check)(&tables, &notes);
            }
            seen.push(name);
        }
    }
    for expect in CORPUS {
        assert!(
            seen.iter().any(|s| s == expect.file),
            "{} is gone from the corpus",
            expect.file
        );
    }
}
