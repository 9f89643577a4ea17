//! Samples of the text forms, shared by the tests of the text parsers. Samples marked "this VM" were captured
//! read-only on the project's development VM (Debian 12, iproute2 6.1.0,
//! net-tools 2.10, kernel 6.18) with the command named above each; the
//! others are written by hand in the format iproute2 prints (the VM has no
//! multipath or policy routes, and its network must not be changed), and
//! say so. The corpus test reads `tests/corpus/{route,neigh,addr}` in
//! place.

use super::text::{parse, Format};
use super::{Interner, Neighbour, Route};
use crate::model::Note;
use ipnet::IpNet;
use std::net::IpAddr;

// this VM: `ip addr`
pub(super) const IP_ADDR: &str = r#"1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
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
pub(super) const IP_ROUTE_TABLE_ALL: &str = r#"default via 192.0.2.1 dev eth0 
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
pub(super) const IP6_ROUTE: &str = r#"fd00::/64 dev eth0 proto kernel metric 256 pref medium
fe80::/64 dev eth0 proto kernel metric 256 pref medium
default via fd00::1 dev eth0 metric 1024 pref medium
"#;

// this VM: `ip neigh`
pub(super) const IP_NEIGH: &str = r#"192.0.2.1 dev eth0 lladdr 02:fc:00:00:00:05 STALE 
fd00::1 dev eth0 FAILED 
"#;

// this VM: `ip rule`
pub(super) const IP_RULE: &str = r#"0:	from all lookup local
32766:	from all lookup main
32767:	from all lookup default
"#;

// this VM: `cat /proc/net/route`
pub(super) const PROC_NET_ROUTE: &str = r#"Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT                                                       
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0                                                                               
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0                                                                               
"#;

// this VM: `cat /proc/net/ipv6_route`
pub(super) const PROC_NET_IPV6_ROUTE: &str = r#"fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001       lo
fd000000000000000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001     eth0
fe8000000000000000fc00fffe000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
"#;

// this VM: `cat /proc/net/arp`
pub(super) const PROC_NET_ARP: &str = r#"IP address       HW type     Flags       HW address            Mask     Device
192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0
"#;

// this VM: `route -n`
pub(super) const ROUTE_N: &str = r#"Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
0.0.0.0         192.0.2.1       0.0.0.0         UG    0      0        0 eth0
192.0.2.0       0.0.0.0         255.255.255.0   U     0      0        0 eth0
"#;

// this VM: `route -n -A inet6`
pub(super) const ROUTE_N6: &str = r#"Kernel IPv6 routing table
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
pub(super) const NETSTAT_RN: &str = r#"Kernel IP routing table
Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface
0.0.0.0         192.0.2.1       0.0.0.0         UG        0 0          0 eth0
192.0.2.0       0.0.0.0         255.255.255.0   U         0 0          0 eth0
"#;

// this VM: `arp -n`
pub(super) const ARP_N: &str = r#"Address                  HWtype  HWaddress           Flags Mask            Iface
192.0.2.1                ether   02:fc:00:00:00:05   C                     eth0
"#;

// this VM: `ip -s link show lo`
pub(super) const IP_S_LINK: &str = r#"1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    RX:  bytes packets errors dropped  missed   mcast           
          8308      86      0       0       0       0 
    TX:  bytes packets errors dropped carrier collsns           
          8308      86      0       0       0       0 
"#;

// this VM: `ip -o addr`
pub(super) const IP_O_ADDR: &str = r#"1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host \       valid_lft forever preferred_lft forever
4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\       valid_lft forever preferred_lft forever
4: eth0    inet6 fd00::2/64 scope global nodad \       valid_lft forever preferred_lft forever
4: eth0    inet6 fe80::fc:ff:fe00:1/64 scope link \       valid_lft forever preferred_lft forever
"#;

// this VM: `ip -d link show ifb0`
pub(super) const IP_D_LINK: &str = r#"2: ifb0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 32
    link/ether 9e:83:b3:18:27:df brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 
    ifb addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 
"#;

pub(super) fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

pub(super) fn net(s: &str) -> IpNet {
    s.parse().expect("test prefix")
}

pub(super) fn parse_routes(
    format: Format,
    text: &str,
    hint: Option<&str>,
) -> (Vec<Route>, Vec<Note>) {
    let mut interner = Interner::default();
    let (tables, notes) = parse(format, "test", text, hint, &mut interner);
    (tables.routes, notes)
}

pub(super) fn neighbours(format: Format, text: &str) -> (Vec<Neighbour>, Vec<Note>) {
    let mut interner = Interner::default();
    let (tables, notes) = parse(format, "test", text, None, &mut interner);
    (tables.neighbours, notes)
}

pub(super) fn note_lines(notes: &[Note]) -> Vec<Option<u32>> {
    notes.iter().map(|n| n.line).collect()
}
