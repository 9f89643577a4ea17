//! `/proc/net/route` (the IPv4 main table) and `/proc/net/ipv6_route`
//! (every IPv6 table, without saying which), read into the same routes as
//! `ip route`.

use crate::model::Note;
use crate::net::{
    device, is_ipv6_null_entry, line_u32, Interner, Notes, Route, RouteKind, TABLE_LOCAL,
    TABLE_MAIN,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const RTF_GATEWAY: u32 = 0x0002;
const RTF_REJECT: u32 = 0x0200;
const RTF_ANYCAST: u32 = 0x0010_0000;
const RTF_LOCAL: u32 = 0x8000_0000;

/// `/proc/net/route` prints addresses as the host-order hex of the
/// network-order bytes, i.e. little-endian on every machine diag targets.
fn hex_ipv4(field: &str) -> Option<Ipv4Addr> {
    if field.len() != 8 {
        return None;
    }
    let value = u32::from_str_radix(field, 16).ok()?;
    Some(Ipv4Addr::from(value.swap_bytes()))
}

/// Parses `/proc/net/route` (the IPv4 main table: tab-separated, addresses
/// in little-endian hex, lines padded with spaces) into the same routes as
/// `ip route`. `RTF_REJECT` routes are unreachable; a device of `*` is none.
pub fn parse_proc_net_route(
    input: &str,
    text: &str,
    interner: &mut Interner,
) -> (Vec<Route>, Vec<Note>) {
    let mut notes = Notes::new(input);
    let mut routes = Vec::new();
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim_start().starts_with("Iface") => {}
        Some(_) => {
            notes.line(1, "header does not start with 'Iface'");
            return (routes, notes.finish());
        }
        None => return (routes, notes.finish()),
    }
    for (index, raw) in lines {
        let line = index + 1;
        let fields: Vec<&str> = raw.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() < 8 {
            notes.line(line, "expected at least 8 columns (cut short?)");
            continue;
        }
        let dst = hex_ipv4(fields[1]);
        let gateway = hex_ipv4(fields[2]);
        let flags = u32::from_str_radix(fields[3], 16).ok();
        let metric = fields[6].parse::<u32>().ok();
        let mask = hex_ipv4(fields[7]);
        let (Some(dst), Some(gateway), Some(flags), Some(metric), Some(mask)) =
            (dst, gateway, flags, metric, mask)
        else {
            notes.line(line, "malformed route (bad hex address, flags or metric)");
            continue;
        };
        let Ok(net) = Ipv4Net::new(dst, u32::from(mask).count_ones() as u8) else {
            notes.line(line, "bad mask");
            continue;
        };
        routes.push(Route {
            dst: IpNet::V4(net.trunc()),
            kind: if flags & RTF_REJECT != 0 {
                RouteKind::Unreachable
            } else {
                RouteKind::Unicast
            },
            table: TABLE_MAIN,
            gateway: (flags & RTF_GATEWAY != 0).then_some(IpAddr::V4(gateway)),
            dev: interner.get(device(fields[0])),
            metric,
            protocol: interner.get(""),
            scope: interner.get(""),
            prefsrc: None,
            onlink: false,
            linkdown: false,
            line: line_u32(line),
        });
    }
    (routes, notes.finish())
}

fn hex_ipv6(field: &str) -> Option<Ipv6Addr> {
    if field.len() != 32 {
        return None;
    }
    u128::from_str_radix(field, 16).ok().map(Ipv6Addr::from)
}

/// Parses `/proc/net/ipv6_route`: per line the destination (32 hex digits)
/// and its prefix length (hex), the source and its length, the next hop,
/// then metric, reference count, use count and flags in hex, and the device.
///
/// `RTF_GATEWAY` keeps the next hop; `RTF_REJECT` is unreachable;
/// `RTF_LOCAL` and `RTF_ANYCAST` routes are local/anycast in table local;
/// every other route is put in main (the file does not say the table).
pub fn parse_proc_net_ipv6_route(
    input: &str,
    text: &str,
    interner: &mut Interner,
) -> (Vec<Route>, Vec<Note>) {
    let mut notes = Notes::new(input);
    let mut routes = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let fields: Vec<&str> = raw.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        // A route without a device has nine columns.
        if !(9..=10).contains(&fields.len()) {
            notes.line(
                line,
                format!("expected 10 columns, found {} (cut short?)", fields.len()),
            );
            continue;
        }
        let dst = hex_ipv6(fields[0]);
        let plen = u8::from_str_radix(fields[1], 16).ok();
        let next_hop = hex_ipv6(fields[4]);
        let metric = u32::from_str_radix(fields[5], 16).ok();
        let flags = u32::from_str_radix(fields[8], 16).ok();
        let (Some(dst), Some(plen), Some(next_hop), Some(metric), Some(flags)) =
            (dst, plen, next_hop, metric, flags)
        else {
            notes.line(line, "malformed route (bad hex field)");
            continue;
        };
        let Ok(net) = Ipv6Net::new(dst, plen) else {
            notes.line(line, format!("bad prefix length {plen}"));
            continue;
        };
        let dst = IpNet::V6(net.trunc());
        let dev = fields.get(9).copied().unwrap_or("");
        let (kind, table) = if flags & RTF_REJECT != 0 {
            let table = if is_ipv6_null_entry(&dst, metric, dev) {
                0
            } else {
                TABLE_MAIN
            };
            (RouteKind::Unreachable, table)
        } else if flags & RTF_LOCAL != 0 {
            (RouteKind::Local, TABLE_LOCAL)
        } else if flags & RTF_ANYCAST != 0 {
            (RouteKind::Anycast, TABLE_LOCAL)
        } else {
            (RouteKind::Unicast, TABLE_MAIN)
        };
        routes.push(Route {
            dst,
            kind,
            table,
            gateway: (flags & RTF_GATEWAY != 0).then_some(IpAddr::V6(next_hop)),
            dev: interner.get(dev),
            metric,
            protocol: interner.get(""),
            scope: interner.get(""),
            prefsrc: None,
            onlink: false,
            linkdown: false,
            line: line_u32(line),
        });
    }
    (routes, notes.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::samples::*;

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
}
