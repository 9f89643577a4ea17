//! The network tables in every text form people paste and other tools
//! bundle: `ip addr`/`ip link`, `ip route`, `ip neigh`, `ip rule`
//! ([`super::iproute2_text`]), net-tools `route -n`, `netstat -rn` and
//! `arp -n` ([`super::nettools`]), and `/proc/net/route`,
//! `/proc/net/ipv6_route` and `/proc/net/arp` ([`super::procnet`]).
//!
//! Every parser produces the types of [`super`], the same the `ip -j`
//! parsers ([`super::iproute2_json`]) produce, so a rule reads a pasted `ip route` and
//! a bundle's `net/route.json` alike. [`sniff`] tells which [`Format`] a
//! text is when its name does not say (bundles from other tools hold `ip`
//! output under arbitrary names); [`parse`] runs the right parser.
//!
//! As everywhere in diag, odd input never panics: a line that cannot be used
//! becomes a [`Note`] naming the input and the line, and the rest is used.
//! At most [`MAX_LINE_NOTES`](super::MAX_LINE_NOTES) line notes are kept per input; one more note
//! counts the others.
//!
//! What the text forms cannot say:
//! - `ip route` omits `table` for the main table, and for every table when
//!   the listing was filtered to one (`ip route show table 100`): routes
//!   without `table` are put in main, except `local` and `broadcast` routes,
//!   which are put in local. A table name that is not one of `ip`'s own
//!   (`main`, `local`, `default`, `unspec`) comes from the host's
//!   `rt_tables` file, which the text does not carry: each such name gets a
//!   number of its own from `NAMED_TABLE_BASE` up, and `NetTables::table_names`
//!   gives the name back (two named tables are two tables).
//! - `route -n`, `netstat -rn` and `/proc/net/route` show the IPv4 main
//!   table only, without protocol or scope; a reject route (`!` flag,
//!   `RTF_REJECT`) is `unreachable` or `prohibit`, counted as unreachable.
//! - `/proc/net/ipv6_route` and `route -n -A inet6` show every table
//!   without saying which: routes are put in main, except the kernel's
//!   catch-all reject route (`::/0 dev lo metric 0xffffffff`: table 0, as
//!   `ip` shows it) and, in `/proc/net/ipv6_route` only, `RTF_LOCAL` and
//!   `RTF_ANYCAST` routes (local and anycast, table local; `route` does not
//!   print those flags, so its local routes are unicast routes in main).
//! - `arp -n` and `/proc/net/arp` show only whether an entry is complete:
//!   complete entries get the state `COMPLETE` (not a NUD state: `ip`
//!   would say `REACHABLE`, `STALE`, `DELAY` or `PROBE`), permanent ones
//!   `PERMANENT`, the others `INCOMPLETE` (`FAILED` looks the same there).

use super::iproute2_text::{
    is_link_header, is_nud, is_oneline_addr, parse_ip_addr, parse_ip_neigh, parse_ip_route,
    parse_ip_rule, route_kind,
};
use super::nettools::{parse_arp_n, parse_route_n};
use super::procnet::arp::parse_proc_net_arp;
use super::procnet::route::{parse_proc_net_ipv6_route, parse_proc_net_route};
use super::{parse_ip as ip_addr, parse_prefix as ip_or_net, Interner, NetTables};
use crate::model::Note;
use std::cmp::Reverse;

/// A text form of a network table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `ip addr`, `ip -4 addr`, `ip -6 addr`, `ip link` (also with `-s`,
    /// `-d` and `-o`): links and their addresses.
    IpAddr,
    /// `ip route`, `ip -6 route`, `ip route show table all`.
    IpRoute,
    /// net-tools `route -n` or `netstat -rn` (IPv4).
    RouteN,
    /// net-tools `route -n -A inet6` or `netstat -rn -A inet6`.
    RouteN6,
    /// `/proc/net/route`.
    ProcNetRoute,
    /// `/proc/net/ipv6_route`.
    ProcNetIpv6Route,
    /// `ip neigh`, `ip -4 neigh`, `ip -6 neigh`.
    IpNeigh,
    /// net-tools `arp -n`.
    ArpN,
    /// `/proc/net/arp`.
    ProcNetArp,
    /// `ip rule`, `ip -6 rule`.
    IpRule,
    /// `/proc/net/stat/arp_cache` or `ndisc_cache`: counters, not table
    /// rows; read with [`parse_neigh_cache_stats`](super::procnet::stat::parse_neigh_cache_stats).
    NeighCacheStats,
}

impl Format {
    /// The command or file that prints this format.
    pub fn name(self) -> &'static str {
        match self {
            Format::IpAddr => "ip addr",
            Format::IpRoute => "ip route",
            Format::RouteN => "route -n",
            Format::RouteN6 => "route -n -A inet6",
            Format::ProcNetRoute => "/proc/net/route",
            Format::ProcNetIpv6Route => "/proc/net/ipv6_route",
            Format::IpNeigh => "ip neigh",
            Format::ArpN => "arp -n",
            Format::ProcNetArp => "/proc/net/arp",
            Format::IpRule => "ip rule",
            Format::NeighCacheStats => "/proc/net/stat/arp_cache",
        }
    }
}

/// Which format `text` is, from its first 200 non-blank lines; `None` when
/// no line looks like any of them (a shell error, an empty file).
///
/// A table header (`Iface`, `Destination`, `IP address`, `Address HWtype`,
/// `entries allocs`) decides at once; otherwise every line votes for the
/// formats it can belong to and the most votes win, so a few lines of
/// noise (`Message truncated`, a prompt) do not matter.
pub fn sniff(text: &str) -> Option<Format> {
    const ORDER: [Format; 5] = [
        Format::IpAddr,
        Format::IpRoute,
        Format::IpNeigh,
        Format::IpRule,
        Format::ProcNetIpv6Route,
    ];
    let mut votes = [0usize; ORDER.len()];
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(200)
    {
        if let Some(format) = header_format(line) {
            return Some(format);
        }
        if let Some(format) = line_format(line) {
            if let Some(i) = ORDER.iter().position(|f| *f == format) {
                votes[i] += 1;
            }
        }
    }
    let (best, count) = votes
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, Reverse(*i)))?;
    (*count > 0).then_some(ORDER[best])
}

/// A table header that names its format.
fn header_format(line: &str) -> Option<Format> {
    let has = |word: &str| line.contains(word);
    if line.starts_with("Iface") && has("Destination") && has("Gateway") {
        Some(Format::ProcNetRoute)
    } else if line.starts_with("Kernel IPv6 routing table")
        || (line.starts_with("Destination") && has("Next Hop"))
    {
        Some(Format::RouteN6)
    } else if line.starts_with("Kernel IP routing table")
        || (line.starts_with("Destination") && has("Genmask"))
    {
        Some(Format::RouteN)
    } else if line.starts_with("IP address") && has("HW type") {
        Some(Format::ProcNetArp)
    } else if line.starts_with("Address") && has("HWtype") {
        Some(Format::ArpN)
    } else if line.starts_with("entries") && has("allocs") {
        Some(Format::NeighCacheStats)
    } else {
        None
    }
}

/// The format one line of a headerless format belongs to.
fn line_format(line: &str) -> Option<Format> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let first = *tokens.first()?;
    if is_link_header(line)
        || first.starts_with("link/")
        || matches!(first, "valid_lft" | "altname")
        || (matches!(first, "inet" | "inet6") && tokens.get(1).and_then(|t| ip_or_net(t)).is_some())
        || is_oneline_addr(&tokens)
    {
        return Some(Format::IpAddr);
    }
    if first
        .strip_suffix(':')
        .is_some_and(|n| n.parse::<u32>().is_ok())
        && matches!(tokens.get(1), Some(&"from") | Some(&"not"))
    {
        return Some(Format::IpRule);
    }
    if tokens.len() >= 9 && first.len() == 32 && first.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(Format::ProcNetIpv6Route);
    }
    if first == "nexthop" {
        return Some(Format::IpRoute);
    }
    let addr_first = ip_addr(first).is_some();
    if addr_first && (tokens.contains(&"lladdr") || tokens.last().is_some_and(|t| is_nud(t))) {
        return Some(Format::IpNeigh);
    }
    let dst = if route_kind(first).is_some() {
        tokens.get(1).copied()
    } else {
        Some(first)
    };
    let dst_ok = dst.is_some_and(|d| d == "default" || ip_or_net(d).is_some());
    if dst_ok
        && (route_kind(first).is_some()
            || first == "default"
            || first.contains('/')
            || tokens.iter().any(|t| ROUTE_ONLY_WORDS.contains(t)))
    {
        return Some(Format::IpRoute);
    }
    None
}

/// Words that appear in `ip route` lines and never in `ip neigh` lines.
const ROUTE_ONLY_WORDS: &[&str] = &[
    "via", "proto", "scope", "src", "metric", "table", "error", "pref", "linkdown", "onlink",
    "expires",
];

/// Runs the parser of `format` over `text` and gathers what it found.
///
/// `family_hint` (`inet` or `inet6`) is the family of `ip route` records
/// that show no address (`default dev eth0`) and of `ip rule` records; the
/// other formats say their family. [`Format::NeighCacheStats`] holds
/// counters, not table rows: it yields empty tables and a note.
pub fn parse(
    format: Format,
    input: &str,
    text: &str,
    family_hint: Option<&str>,
    interner: &mut Interner,
) -> (NetTables, Vec<Note>) {
    let mut tables = NetTables::default();
    let notes = match format {
        Format::IpAddr => {
            let (links, addresses, notes) = parse_ip_addr(input, text);
            tables.links = links;
            tables.addresses = addresses;
            notes
        }
        Format::IpRoute
        | Format::RouteN
        | Format::RouteN6
        | Format::ProcNetRoute
        | Format::ProcNetIpv6Route => {
            let (routes, notes) = match format {
                Format::IpRoute => parse_ip_route(input, text, family_hint, interner),
                Format::RouteN | Format::RouteN6 => parse_route_n(input, text, interner),
                Format::ProcNetRoute => parse_proc_net_route(input, text, interner),
                _ => parse_proc_net_ipv6_route(input, text, interner),
            };
            tables.routes = routes;
            tables.routes_input = input.to_string();
            tables.table_names = interner.named_tables();
            notes
        }
        Format::IpNeigh | Format::ArpN | Format::ProcNetArp => {
            let (neighbours, notes) = match format {
                Format::IpNeigh => parse_ip_neigh(input, text, interner),
                Format::ArpN => parse_arp_n(input, text, interner),
                _ => parse_proc_net_arp(input, text, interner),
            };
            tables.neighbours = neighbours;
            tables.neighbours_input = input.to_string();
            notes
        }
        Format::IpRule => {
            let (rules, notes) = parse_ip_rule(input, text, family_hint.unwrap_or("inet"));
            tables.rules = rules;
            notes
        }
        Format::NeighCacheStats => vec![Note::input(
            input,
            "neighbour-cache counters, not table rows (read by the arp_cache parser)",
        )],
    };
    (tables, notes)
}

#[cfg(test)]
mod tests;
