//! net-tools, the older commands: `route -n` and `netstat -rn` (IPv4, and
//! IPv6 with `-A inet6`) and `arp -n`. They show the main table only,
//! without protocol or scope, and whether a neighbour entry is complete,
//! not its NUD state (see [`super::text`]).

use super::{
    device, is_ipv6_null_entry, line_u32, lladdr, parse_ip as ip_addr, Interner, Neighbour, Notes,
    Route, RouteKind, TABLE_MAIN,
};
use crate::model::Note;
use ipnet::{IpNet, Ipv4Net};
use std::net::Ipv4Addr;

/// Parses net-tools `route -n` and `netstat -rn` tables, IPv4
/// (`Destination Gateway Genmask Flags Metric Ref Use Iface`; `netstat`
/// has `MSS Window irtt` instead of `Metric Ref Use`) and IPv6
/// (`route -n -A inet6`: `Destination Next Hop Flag Met Ref Use If`), or
/// several tables one after the other.
///
/// The gateway is kept when the `G` flag is set (`0.0.0.0` and `::` mean
/// on-link); a `!` flag is a reject route. `route` without `-n` prints names
/// (`default`, `_gateway`): `default` is understood, a named gateway is not.
pub fn parse_route_n(input: &str, text: &str, interner: &mut Interner) -> (Vec<Route>, Vec<Note>) {
    let mut notes = Notes::new(input);
    let mut routes = Vec::new();
    let mut columns: Option<Vec<String>> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with("Kernel IP") {
            continue;
        }
        if trimmed.starts_with("Destination") {
            let mut names: Vec<String> = Vec::new();
            for word in trimmed.split_whitespace() {
                if word == "Hop" && names.last().is_some_and(|n| n == "Next") {
                    if let Some(last) = names.last_mut() {
                        *last = "Next Hop".to_string();
                    }
                } else {
                    names.push(word.to_string());
                }
            }
            columns = Some(names);
            continue;
        }
        let Some(names) = columns.as_ref() else {
            notes.line(line, "row before the routing table's header");
            continue;
        };
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        if fields.len() != names.len() {
            notes.line(
                line,
                format!("expected {} columns, found {}", names.len(), fields.len()),
            );
            continue;
        }
        let get = |name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .map(|i| fields[i])
                .unwrap_or("")
        };
        let v6 = names.iter().any(|n| n == "Next Hop");
        let flags = if v6 { get("Flag") } else { get("Flags") };
        let iface = device(if v6 { get("If") } else { get("Iface") });
        let metric_text = if v6 { get("Met") } else { get("Metric") };
        let metric = match metric_text {
            "" => 0,
            m => match m.parse::<i64>() {
                // `route -A inet6` prints 0xffffffff as -1.
                Ok(-1) => u32::MAX,
                Ok(m) => u32::try_from(m).unwrap_or(u32::MAX),
                Err(_) => {
                    notes.line(line, format!("bad metric {m:?}"));
                    continue;
                }
            },
        };
        let (dst, gateway_text) = if v6 {
            let dst = get("Destination").parse::<IpNet>().ok();
            (dst, get("Next Hop"))
        } else {
            let dst_text = get("Destination");
            let dst = if dst_text == "default" {
                Some(Ipv4Addr::UNSPECIFIED)
            } else {
                dst_text.parse::<Ipv4Addr>().ok()
            };
            let mask = get("Genmask").parse::<Ipv4Addr>().ok();
            let net = dst
                .zip(mask)
                .and_then(|(dst, mask)| Ipv4Net::new(dst, u32::from(mask).count_ones() as u8).ok());
            (net.map(IpNet::V4), get("Gateway"))
        };
        let Some(dst) = dst else {
            notes.line(
                line,
                "bad destination or mask (route without -n prints names)",
            );
            continue;
        };
        let gateway = if flags.contains('G') {
            match ip_addr(gateway_text) {
                Some(gw) => Some(gw),
                None => {
                    notes.line(
                        line,
                        format!("gateway {gateway_text:?} is a name, not an address (use -n)"),
                    );
                    continue;
                }
            }
        } else {
            None
        };
        let kind = if flags.contains('!') {
            RouteKind::Unreachable
        } else {
            RouteKind::Unicast
        };
        let dst = dst.trunc();
        let table = if is_ipv6_null_entry(&dst, metric, iface) {
            0
        } else {
            TABLE_MAIN
        };
        routes.push(Route {
            dst,
            kind,
            table,
            gateway,
            dev: interner.get(iface),
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

/// Parses net-tools `arp -n`: `Address HWtype HWaddress Flags Mask Iface`
/// (the Mask column is blank unless set), `(incomplete)` entries. Flags `C`
/// is complete (state `COMPLETE`), `M` permanent.
pub fn parse_arp_n(
    input: &str,
    text: &str,
    interner: &mut Interner,
) -> (Vec<Neighbour>, Vec<Note>) {
    let mut notes = Notes::new(input);
    let mut neighbours = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let fields: Vec<&str> = raw.split_whitespace().collect();
        let Some(&first) = fields.first() else {
            continue;
        };
        if first == "Address" {
            continue;
        }
        let Some(dst) = ip_addr(first) else {
            notes.line(
                line,
                format!("not an arp entry: {first:?} is not an address"),
            );
            continue;
        };
        let (hw, state, dev) = match fields.as_slice() {
            [_, "(incomplete)", dev] => (String::new(), "INCOMPLETE", *dev),
            [_, _hwtype, hw, flags, .., dev] if fields.len() <= 6 => {
                let state = if flags.contains('M') {
                    "PERMANENT"
                } else if flags.contains('C') {
                    "COMPLETE"
                } else {
                    "INCOMPLETE"
                };
                (lladdr(hw), state, *dev)
            }
            _ => {
                notes.line(
                    line,
                    format!("expected 3 to 6 columns, found {}", fields.len()),
                );
                continue;
            }
        };
        neighbours.push(Neighbour {
            dst,
            dev: interner.get(dev),
            lladdr: interner.get(&hw),
            state: interner.get(state),
            router: false,
            line: line_u32(line),
        });
    }
    (neighbours, notes.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::samples::*;
    use crate::net::text::Format;

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
}
