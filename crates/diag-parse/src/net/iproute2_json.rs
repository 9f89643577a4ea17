//! `ip -j` (iproute2's JSON): addresses and links (`ip -j addr`,
//! `ip -j -s -d link`), routes of every table (`ip -j route show table
//! all`), neighbours (`ip -j neigh`) and policy rules (`ip -j rule`), the
//! bundle's `net/*.json`. On a live host diag writes the same files from
//! netlink (`source/netlink.rs`). Older bundles may only have
//! `/proc/net/route`: that is read by [`super::procnet::route`] into the
//! same [`Route`] type.
//!
//! Each array is read element by element ([`crate::json_records`]):
//! a bad record is a note and the others are still used, and a million
//! routes are converted on several threads.

use super::{
    parse_ip, parse_prefix, render_link, table_number, Address, Interner, Link, LinkStats,
    Neighbour, PolicyRule, Route, RouteKind, ADDR_FLAGS, TABLE_MAIN,
};
use crate::json_records;
use crate::model::Note;
use ipnet::IpNet;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Runs `each` over every element of the JSON array `text`, deserialised as
/// `T`; a bad element or a cut file becomes a note and the rest is used.
fn for_each_record<'a, T, F>(input: &str, text: &'a str, notes: &mut Vec<Note>, mut each: F)
where
    T: Deserialize<'a>,
    F: FnMut(T, u32, &mut Vec<Note>),
{
    let (elements, problem) = json_records::split(text);
    let mut bad = 0usize;
    for element in elements {
        match serde_json::from_str::<T>(element.text) {
            Ok(record) => each(record, element.line, notes),
            Err(err) => {
                bad += 1;
                if bad <= 20 {
                    notes.push(Note::line(
                        input,
                        element.line as usize,
                        format!("unreadable record: {err}"),
                    ));
                }
            }
        }
    }
    if bad > 20 {
        notes.push(Note::input(
            input,
            format!("{} more unreadable records", bad - 20),
        ));
    }
    json_records::problem_note(input, problem, notes);
}

/// Like [`for_each_record`] for big tables: the elements are deserialised
/// and converted on up to four threads (a million routes is a few hundred
/// milliseconds of JSON on one core), each with its own [`Interner`]; the
/// results and notes keep the input's order.
fn convert_records<'a, T, O, F>(
    input: &str,
    text: &'a str,
    notes: &mut Vec<Note>,
    convert: F,
) -> Vec<O>
where
    T: Deserialize<'a>,
    O: Send,
    F: Fn(T, u32, &mut Interner, &mut Vec<Note>) -> Option<O> + Sync,
{
    let (elements, problem) = json_records::split(text);
    let threads = if elements.len() < 50_000 {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    };
    let chunk = elements.len().div_ceil(threads.max(1)).max(1);
    let work = |part: &[json_records::Element<'a>]| {
        let mut out = Vec::with_capacity(part.len());
        let mut part_notes = Vec::new();
        let mut bad = Vec::new();
        let mut interner = Interner::default();
        for element in part {
            match serde_json::from_str::<T>(element.text) {
                Ok(record) => {
                    if let Some(o) = convert(record, element.line, &mut interner, &mut part_notes) {
                        out.push(o);
                    }
                }
                Err(err) => bad.push(Note::line(
                    input,
                    element.line as usize,
                    format!("unreadable record: {err}"),
                )),
            }
        }
        (out, part_notes, bad)
    };
    let parts: Vec<_> = if threads <= 1 {
        vec![work(&elements)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = elements
                .chunks(chunk)
                .map(|part| scope.spawn(move || work(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| (Vec::new(), Vec::new(), Vec::new()))
                })
                .collect()
        })
    };
    let mut out = Vec::with_capacity(elements.len());
    let mut bad: Vec<Note> = Vec::new();
    for (records, part_notes, part_bad) in parts {
        out.extend(records);
        notes.extend(part_notes);
        bad.extend(part_bad);
    }
    let extra = bad.len().saturating_sub(20);
    notes.extend(bad.into_iter().take(20));
    if extra > 0 {
        notes.push(Note::input(
            input,
            format!("{extra} more unreadable records"),
        ));
    }
    json_records::problem_note(input, problem, notes);
    out
}

#[derive(Deserialize)]
struct AddrInfoJson<'a> {
    #[serde(borrow, default)]
    family: Cow<'a, str>,
    #[serde(borrow)]
    local: Option<Cow<'a, str>>,
    prefixlen: Option<u8>,
    #[serde(borrow, default)]
    scope: Cow<'a, str>,
    #[serde(borrow, default)]
    label: Cow<'a, str>,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct StatsDir {
    #[serde(default)]
    bytes: u64,
    #[serde(default)]
    packets: u64,
    #[serde(default)]
    errors: u64,
    #[serde(default)]
    dropped: u64,
    #[serde(default)]
    carrier_errors: u64,
    #[serde(default)]
    collisions: u64,
}

#[derive(Deserialize)]
struct Stats64 {
    rx: StatsDir,
    tx: StatsDir,
}

#[derive(Deserialize)]
struct LinkInfoJson<'a> {
    #[serde(borrow, default)]
    info_kind: Cow<'a, str>,
}

#[derive(Deserialize)]
struct LinkJson<'a> {
    #[serde(default)]
    ifindex: u32,
    #[serde(borrow)]
    ifname: Cow<'a, str>,
    #[serde(default)]
    flags: Vec<Cow<'a, str>>,
    #[serde(default)]
    mtu: u32,
    #[serde(borrow, default)]
    operstate: Cow<'a, str>,
    #[serde(borrow, default)]
    link_type: Cow<'a, str>,
    #[serde(borrow, default)]
    address: Cow<'a, str>,
    #[serde(borrow, default)]
    master: Cow<'a, str>,
    #[serde(borrow, default)]
    link: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    linkinfo: Option<LinkInfoJson<'a>>,
    stats64: Option<Stats64>,
    #[serde(borrow, default)]
    addr_info: Vec<AddrInfoJson<'a>>,
}

fn link_from_json(record: &LinkJson<'_>, input: &str, line: u32) -> Link {
    let flags: Vec<String> = record.flags.iter().map(|f| f.to_string()).collect();
    let has = |name: &str| flags.iter().any(|f| f == name);
    let up = has("UP");
    let carrier = if has("LOWER_UP") {
        Some(true)
    } else if has("NO-CARRIER") || (up && record.operstate == "DOWN") {
        Some(false)
    } else {
        // Down interfaces report no carrier either way.
        None
    };
    let resolves_neighbours = !(has("NOARP")
        || has("POINTOPOINT")
        || has("LOOPBACK")
        || matches!(&*record.link_type, "none" | "loopback" | "ppp" | "void"));
    let stats = record.stats64.as_ref().map(|s| LinkStats {
        rx_bytes: s.rx.bytes,
        rx_packets: s.rx.packets,
        rx_errors: s.rx.errors,
        rx_dropped: s.rx.dropped,
        tx_bytes: s.tx.bytes,
        tx_packets: s.tx.packets,
        tx_errors: s.tx.errors,
        tx_dropped: s.tx.dropped,
        tx_carrier_errors: s.tx.carrier_errors,
        collisions: s.tx.collisions,
    });
    let mut link = Link {
        index: record.ifindex,
        name: record.ifname.to_string(),
        up,
        carrier,
        mtu: record.mtu,
        operstate: record.operstate.to_string(),
        link_type: record.link_type.to_string(),
        mac: record.address.to_string(),
        resolves_neighbours,
        kind: record
            .linkinfo
            .as_ref()
            .map(|l| l.info_kind.to_string())
            .unwrap_or_default(),
        master: record.master.to_string(),
        parent: record.link.as_deref().unwrap_or_default().to_string(),
        speed: None,
        duplex: String::new(),
        stats,
        input: input.to_string(),
        line,
        excerpt: String::new(),
        flags,
    };
    link.excerpt = render_link(&link);
    link
}

/// Parses `ip -j addr` output: links with their `addr_info`.
pub fn parse_ip_addr_json(input: &str, text: &str) -> (Vec<Link>, Vec<Address>, Vec<Note>) {
    let mut links = Vec::new();
    let mut addresses = Vec::new();
    let mut notes = Vec::new();
    for_each_record(
        input,
        text,
        &mut notes,
        |record: LinkJson<'_>, line, notes| {
            for info in &record.addr_info {
                let Some(local) = info.local.as_deref() else {
                    continue;
                };
                let Some(local_ip) = parse_ip(local) else {
                    notes.push(Note::line(
                        input,
                        line as usize,
                        format!("{}: bad address {local:?}", record.ifname),
                    ));
                    continue;
                };
                let prefixlen = info
                    .prefixlen
                    .unwrap_or(if local_ip.is_ipv4() { 32 } else { 128 });
                let flags: Vec<String> = ADDR_FLAGS
                    .iter()
                    .filter(|f| matches!(info.rest.get(**f), Some(serde_json::Value::Bool(true))))
                    .map(|f| f.to_string())
                    .collect();
                let family = if info.family.is_empty() {
                    if local_ip.is_ipv4() {
                        "inet"
                    } else {
                        "inet6"
                    }
                } else {
                    &info.family
                };
                let mut excerpt = format!("{}: {family} {local_ip}/{prefixlen}", record.ifname);
                if !info.scope.is_empty() {
                    let _ = write!(excerpt, " scope {}", info.scope);
                }
                for flag in &flags {
                    let _ = write!(excerpt, " {flag}");
                }
                if !info.label.is_empty() && info.label != record.ifname {
                    let _ = write!(excerpt, " {}", info.label);
                }
                addresses.push(Address {
                    ifname: record.ifname.to_string(),
                    local: local_ip,
                    prefixlen,
                    scope: info.scope.to_string(),
                    label: info.label.to_string(),
                    flags,
                    input: input.to_string(),
                    line,
                    excerpt,
                });
            }
            links.push(link_from_json(&record, input, line));
        },
    );
    (links, addresses, notes)
}

/// Parses `ip -j -s -d link` output.
pub fn parse_ip_link_json(input: &str, text: &str) -> (Vec<Link>, Vec<Note>) {
    let mut links = Vec::new();
    let mut notes = Vec::new();
    for_each_record(input, text, &mut notes, |record: LinkJson<'_>, line, _| {
        links.push(link_from_json(&record, input, line));
    });
    (links, notes)
}

#[derive(Deserialize)]
struct ViaJson<'a> {
    #[serde(borrow)]
    host: Cow<'a, str>,
}

#[derive(Deserialize)]
struct NextHopJson<'a> {
    #[serde(borrow)]
    gateway: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    dev: Cow<'a, str>,
}

#[derive(Deserialize)]
struct RouteJson<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    dst: Cow<'a, str>,
    #[serde(borrow, default)]
    family: Cow<'a, str>,
    #[serde(borrow)]
    gateway: Option<Cow<'a, str>>,
    #[serde(borrow)]
    via: Option<ViaJson<'a>>,
    #[serde(borrow, default)]
    dev: Cow<'a, str>,
    #[serde(borrow)]
    table: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    protocol: Cow<'a, str>,
    #[serde(borrow, default)]
    scope: Cow<'a, str>,
    #[serde(borrow)]
    prefsrc: Option<Cow<'a, str>>,
    #[serde(default)]
    metric: u32,
    #[serde(borrow, default)]
    flags: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pref: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    nexthops: Vec<NextHopJson<'a>>,
}

/// Parses `ip -j route show table all` output (either family, or both
/// mixed; `inet6` hints the family of records that do not show it).
pub fn parse_ip_route_json(
    input: &str,
    text: &str,
    family_hint: Option<&str>,
) -> (Vec<Route>, Vec<Note>) {
    // Interned per thread (see `convert_records`).
    let mut notes = Vec::new();
    let routes = convert_records(
        input,
        text,
        &mut notes,
        |r: RouteJson<'_>, line, interner, notes| {
            let gateway_text = r
                .gateway
                .as_deref()
                .or(r.via.as_ref().map(|v| &*v.host))
                .or(r.nexthops.first().and_then(|n| n.gateway.as_deref()));
            let gateway = gateway_text.and_then(parse_ip);
            let prefsrc = r.prefsrc.as_deref().and_then(parse_ip);
            let v6 = match &*r.family {
                "inet6" => true,
                "inet" => false,
                _ => gateway
                    .or(prefsrc)
                    .map(|ip| ip.is_ipv6())
                    .or_else(|| (r.dst.contains(':')).then_some(true))
                    .unwrap_or(r.pref.is_some() || family_hint == Some("inet6")),
            };
            let dst = if r.dst == "default" {
                Some(if v6 {
                    IpNet::V6(ipnet::Ipv6Net::default())
                } else {
                    IpNet::V4(ipnet::Ipv4Net::default())
                })
            } else {
                parse_prefix(&r.dst)
            };
            let Some(dst) = dst else {
                notes.push(Note::line(
                    input,
                    line as usize,
                    format!("bad route destination {:?}", r.dst),
                ));
                return None;
            };
            let table = match r.table.as_deref() {
                None => TABLE_MAIN,
                Some(name) => match table_number(name) {
                    Some(n) => n,
                    None => {
                        // As `iproute2_text` does: a name only /etc/iproute2/rt_tables
                        // knows; never confused with main.
                        notes.push(Note::line(
                            input,
                            line as usize,
                            format!("unknown table name {name:?} (kept as table 0)"),
                        ));
                        0
                    }
                },
            };
            let dev = if r.dev.is_empty() {
                r.nexthops.first().map(|n| &*n.dev).unwrap_or("")
            } else {
                &r.dev
            };
            Some(Route {
                dst,
                kind: RouteKind::parse(&r.kind),
                table,
                gateway,
                dev: interner.get(dev),
                metric: r.metric,
                protocol: interner.get(&r.protocol),
                scope: interner.get(&r.scope),
                prefsrc,
                onlink: r.flags.iter().any(|f| f == "onlink"),
                linkdown: r.flags.iter().any(|f| f == "linkdown"),
                line,
            })
        },
    );
    (routes, notes)
}

#[derive(Deserialize)]
struct NeighJson<'a> {
    #[serde(borrow)]
    dst: Cow<'a, str>,
    #[serde(borrow, default)]
    dev: Cow<'a, str>,
    #[serde(borrow, default)]
    lladdr: Cow<'a, str>,
    #[serde(borrow, default)]
    state: Vec<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present")]
    router: bool,
}

/// True for any value, `null` included: `ip -j` prints flags as `"router": null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d)?;
    Ok(true)
}

/// Parses `ip -j neigh` output (both families).
pub fn parse_ip_neigh_json(
    input: &str,
    text: &str,
    interner: &mut Interner,
) -> (Vec<Neighbour>, Vec<Note>) {
    let mut neighbours = Vec::new();
    let mut notes = Vec::new();
    for_each_record(input, text, &mut notes, |n: NeighJson<'_>, line, notes| {
        let Some(dst) = parse_ip(&n.dst) else {
            notes.push(Note::line(
                input,
                line as usize,
                format!("bad neighbour address {:?}", n.dst),
            ));
            return;
        };
        let state = n
            .state
            .iter()
            .map(|s| s.as_ref())
            .collect::<Vec<_>>()
            .join(",");
        neighbours.push(Neighbour {
            dst,
            dev: interner.get(&n.dev),
            lladdr: interner.get(&n.lladdr.to_ascii_lowercase()),
            state: interner.get(if state.is_empty() { "NONE" } else { &state }),
            // `ip -j` prints the flag as `"router": null`.
            router: n.router,
            line,
        });
    });
    (neighbours, notes)
}

#[derive(Deserialize)]
struct RuleJson<'a> {
    #[serde(default)]
    priority: u32,
    #[serde(borrow, default)]
    src: Option<Cow<'a, str>>,
    srclen: Option<u8>,
    #[serde(borrow, default)]
    dst: Option<Cow<'a, str>>,
    dstlen: Option<u8>,
    #[serde(borrow, default)]
    iif: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    oif: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    fwmark: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    table: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    action: Option<Cow<'a, str>>,
}

/// Parses `ip -j rule` output.
pub fn parse_ip_rule_json(input: &str, text: &str, family: &str) -> (Vec<PolicyRule>, Vec<Note>) {
    let mut rules = Vec::new();
    let mut notes = Vec::new();
    for_each_record(input, text, &mut notes, |r: RuleJson<'_>, line, _| {
        let mut selector = String::new();
        let prefix = |addr: &Option<Cow<'_, str>>, len: Option<u8>| match (addr, len) {
            (Some(a), Some(l)) => format!("{a}/{l}"),
            (Some(a), None) => a.to_string(),
            (None, _) => "all".to_string(),
        };
        let _ = write!(selector, "from {}", prefix(&r.src, r.srclen));
        if r.dst.is_some() {
            let _ = write!(selector, " to {}", prefix(&r.dst, r.dstlen));
        }
        if let Some(iif) = &r.iif {
            let _ = write!(selector, " iif {iif}");
        }
        if let Some(oif) = &r.oif {
            let _ = write!(selector, " oif {oif}");
        }
        if let Some(mark) = &r.fwmark {
            let _ = write!(selector, " fwmark {mark}");
        }
        let table = r.table.as_deref().unwrap_or_default().to_string();
        if !table.is_empty() {
            let _ = write!(selector, " lookup {table}");
        } else if let Some(action) = &r.action {
            let _ = write!(selector, " {action}");
        }
        rules.push(PolicyRule {
            family: family.to_string(),
            priority: r.priority,
            excerpt: format!("{}:\t{selector}", r.priority),
            selector,
            table,
            input: input.to_string(),
            line,
        });
    });
    (rules, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::TABLE_LOCAL;
    use std::sync::Arc;

    // `ip -j addr` on this project's VM (iproute2 6.1, Debian 12), one veth
    // address renamed to document-only ranges.
    const ADDR: &str = r#"[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":7,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"02:fc:00:00:00:01","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"addr_info":[{"family":"inet","local":"192.0.2.2","prefixlen":24,"broadcast":"192.0.2.255","scope":"global","label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet","local":"192.0.2.7","prefixlen":24,"broadcast":"192.0.2.255","scope":"global","secondary":true,"label":"eth0:1","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"2001:db8::2","prefixlen":64,"scope":"global","tentative":true,"dadfailed":true,"valid_life_time":4294967295,"preferred_life_time":4294967295}]}]"#;

    #[test]
    fn addresses_and_links_from_ip_addr() {
        let (links, addrs, notes) = parse_ip_addr_json("net/addr.json", ADDR);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(links.len(), 2);
        assert!(!links[0].resolves_neighbours && links[1].resolves_neighbours);
        assert_eq!(links[1].carrier, Some(true));
        assert_eq!(addrs.len(), 5);
        let alias = &addrs[3];
        assert_eq!(alias.local.to_string(), "192.0.2.7");
        assert_eq!(alias.label, "eth0:1");
        assert_eq!(alias.flags, vec!["secondary"]);
        assert_eq!(addrs[4].flags, vec!["tentative", "dadfailed"]);
        assert!(
            addrs[4].excerpt.contains("dadfailed"),
            "{}",
            addrs[4].excerpt
        );
    }

    #[test]
    fn routes_of_both_families_and_every_table() {
        // `ip -j route show table all` on the VM, plus a typo'd on-link
        // default route, an unreachable route, a multipath route and a
        // numbered table.
        let text = r#"[{"dst":"default","dev":"eth0","scope":"link","flags":[]},{"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2","flags":["linkdown"]},{"type":"local","dst":"192.0.2.2","dev":"eth0","table":"local","protocol":"kernel","scope":"host","prefsrc":"192.0.2.2","flags":[]},{"dst":"default","gateway":"fd00::1","dev":"eth0","metric":1024,"flags":[],"pref":"medium"},{"type":"unreachable","dst":"198.51.100.0/24","table":"100","flags":[]},{"dst":"203.0.113.0/24","protocol":"bgp","metric":20,"flags":[],"nexthops":[{"gateway":"192.0.2.1","dev":"eth0","weight":1,"flags":[]}]},{"dst":"default","dev":"eth0","metric":1024,"flags":[],"pref":"medium"}]"#;
        let (routes, notes) = parse_ip_route_json("net/route.json", text, None);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(routes.len(), 7);
        assert!(routes[0].is_default() && routes[0].gateway.is_none());
        assert!(routes[0].dst.addr().is_ipv4());
        assert_eq!(routes[0].render(), "default dev eth0 scope link");
        assert!(routes[1].linkdown);
        assert_eq!(routes[2].table, TABLE_LOCAL);
        assert_eq!(routes[2].kind, RouteKind::Local);
        assert!(routes[3].dst.addr().is_ipv6() && routes[3].is_default());
        assert_eq!(routes[4].kind, RouteKind::Unreachable);
        assert_eq!(routes[4].table, 100);
        assert_eq!(
            routes[5].gateway.map(|g| g.to_string()).as_deref(),
            Some("192.0.2.1")
        );
        assert_eq!(&*routes[5].dev, "eth0");
        // An IPv6 on-link default (it has `pref`).
        assert!(routes[6].dst.addr().is_ipv6());
        assert!(Arc::ptr_eq(&routes[0].dev, &routes[1].dev));
    }

    #[test]
    fn neighbours_with_router_flag_and_unresolved_states() {
        let text = r#"[{"dst":"192.0.2.1","dev":"eth0","lladdr":"02:FC:00:00:00:05","router":null,"state":["REACHABLE"]},{"dst":"fd00::1","dev":"eth0","state":["FAILED"]},{"dst":"192.0.2.9","dev":"eth0","state":["INCOMPLETE"]},{"dst":"not-an-ip","dev":"eth0","state":["STALE"]}]"#;
        let mut interner = Interner::default();
        let (neighbours, notes) = parse_ip_neigh_json("net/neigh.json", text, &mut interner);
        assert_eq!(neighbours.len(), 3);
        assert_eq!(notes.len(), 1);
        assert!(neighbours[0].router && !neighbours[0].unresolved());
        assert_eq!(&*neighbours[0].lladdr, "02:fc:00:00:00:05");
        assert!(neighbours[1].unresolved() && neighbours[2].unresolved());
        assert_eq!(
            neighbours[0].render(),
            "192.0.2.1 dev eth0 lladdr 02:fc:00:00:00:05 router REACHABLE"
        );
    }

    #[test]
    fn big_tables_are_parsed_in_parallel_in_order() {
        let mut text = String::from("[\n");
        for i in 0..60_000u32 {
            if i > 0 {
                text.push_str(",\n");
            }
            if i == 30_000 {
                text.push_str("{\"dst\":\"bogus\",\"dev\":\"eth0\",\"flags\":[]}");
                continue;
            }
            text.push_str(&format!(
                "{{\"dst\":\"10.{}.{}.0/24\",\"gateway\":\"192.0.2.1\",\"dev\":\"eth{}\",\"flags\":[]}}",
                i >> 8,
                i & 255,
                i % 2
            ));
        }
        text.push_str("\n]\n");
        let (routes, notes) = parse_ip_route_json("net/route.json", &text, None);
        assert_eq!(routes.len(), 59_999);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].line, Some(30_002));
        assert!(routes.windows(2).all(|w| w[0].line < w[1].line));
        assert_eq!(routes[0].dst.to_string(), "10.0.0.0/24");
        assert_eq!(&*routes[59_998].dev, "eth1");
    }

    #[test]
    fn policy_rules() {
        let text = r#"[{"priority":0,"src":"all","table":"local"},{"priority":100,"src":"192.0.2.0","srclen":24,"table":"100"},{"priority":200,"src":"all","fwmark":"0x1","action":"unreachable"},{"priority":32766,"src":"all","table":"main"}]"#;
        let (rules, notes) = parse_ip_rule_json("net/rule.json", text, "inet");
        assert!(notes.is_empty());
        assert_eq!(rules.len(), 4);
        assert_eq!(rules[1].selector, "from 192.0.2.0/24 lookup 100");
        assert_eq!(rules[2].selector, "from all fwmark 0x1 unreachable");
    }

    #[test]
    fn malformed_and_truncated_json_keep_the_good_records() {
        let text = "[\n{\"dst\":\"192.0.2.1\",\"dev\":\"eth0\",\"state\":[\"STALE\"]},\n{\"dst\":42},\n{\"dst\":\"192.0.2.3\",\"dev\":\"eth0\",\"state\":[\"STALE\"]},\n{\"dst\":\"192.0";
        let mut interner = Interner::default();
        let (neighbours, notes) = parse_ip_neigh_json("net/neigh.json", text, &mut interner);
        assert_eq!(neighbours.len(), 2);
        assert_eq!(neighbours[1].line, 4);
        let lines: Vec<_> = notes.iter().map(|n| n.line).collect();
        assert_eq!(lines, vec![Some(3), Some(5)], "{notes:?}");
        let (links, addrs, notes) = parse_ip_addr_json("net/addr.json", "not json");
        assert!(links.is_empty() && addrs.is_empty() && notes.len() == 1);
        let (links, _, notes) = parse_ip_addr_json("net/addr.json", "");
        assert!(links.is_empty());
        assert!(notes[0].message.starts_with("empty file"), "{notes:?}");
    }
}
