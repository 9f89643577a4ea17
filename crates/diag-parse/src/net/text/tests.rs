//! Tests of the sniffer and of every text form through it: the samples of
//! this VM (`super::samples`), the corpus (`tests/corpus/{route,neigh,addr}`,
//! read in place), cut and wrong input.

use super::*;
use crate::net::samples::*;
use crate::net::{
    Address, Link, Neighbour, Route, RouteKind, MAX_LINE_NOTES, NAMED_TABLE_BASE, TABLE_LOCAL,
    TABLE_MAIN,
};
use std::path::Path;

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
            // Each table name the text cannot number is a table of its own
            // (issue 24, class 4), its name kept.
            assert!(notes.is_empty(), "{notes:?}");
            assert_eq!(
                t.table_names,
                std::collections::BTreeMap::from([
                    (NAMED_TABLE_BASE, "red_mgmt".to_string()),
                    (NAMED_TABLE_BASE + 1, "red_storage".to_string()),
                ])
            );
            let main = defaults(t, TABLE_MAIN);
            assert_eq!(main.len(), 1, "policy tables' defaults are not in main");
            assert_eq!(
                (main[0].gateway, &*main[0].dev),
                (Some(ip("30.142.64.1")), "bond0.400")
            );
            assert_eq!(defaults(t, NAMED_TABLE_BASE).len(), 1);
            assert_eq!(defaults(t, NAMED_TABLE_BASE + 1).len(), 1);
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
                    crate::net::procnet::stat::parse_neigh_cache_stats(&name, "arp_cache", &text);
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
