//! The network tables in every text form people paste and other tools
//! bundle: `ip addr`/`ip link`, `ip route`, `ip neigh`, `ip rule`, net-tools
//! `route -n`, `netstat -rn` and `arp -n`, and `/proc/net/route`,
//! `/proc/net/ipv6_route` and `/proc/net/arp`.
//!
//! Every parser produces the types of [`netstate`](super::netstate), the
//! same the `ip -j` parsers produce, so a rule reads a pasted `ip route` and
//! a bundle's `net/route.json` alike. [`sniff`] tells which [`Format`] a
//! text is when its name does not say (bundles from other tools hold `ip`
//! output under arbitrary names); [`parse`] runs the right parser.
//!
//! As everywhere in diag, odd input never panics: a line that cannot be used
//! becomes a [`Note`] naming the input and the line, and the rest is used.
//! At most [`MAX_LINE_NOTES`] line notes are kept per input; one more note
//! counts the others.
//!
//! What the text forms cannot say:
//! - `ip route` omits `table` for the main table, and for every table when
//!   the listing was filtered to one (`ip route show table 100`): routes
//!   without `table` are put in main, except `local` and `broadcast` routes,
//!   which are put in local. A table name that is not one of `ip`'s own
//!   (`main`, `local`, `default`, `unspec`) comes from the host's
//!   `rt_tables` file, which the text does not carry: such routes get table
//!   0 and one note per name.
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

use super::netstate::{
    default_net, parse_ip as ip_addr, parse_prefix as ip_or_net, ADDR_FLAGS as KNOWN_ADDR_FLAGS,
};
use super::netstate::{
    table_number, Address, Interner, Link, LinkStats, Neighbour, NetTables, PolicyRule, Route,
    RouteKind, TABLE_LOCAL, TABLE_MAIN,
};
use crate::model::Note;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::cmp::Reverse;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The most line notes kept per input; the rest are counted in one note.
pub const MAX_LINE_NOTES: usize = 20;

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
    /// rows; read with [`net::parse_neigh_cache_stats`](super::net::parse_neigh_cache_stats).
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

/// Line notes of one input, at most [`MAX_LINE_NOTES`] of them.
struct Notes<'a> {
    input: &'a str,
    notes: Vec<Note>,
    more: usize,
    said: HashSet<String>,
}

impl<'a> Notes<'a> {
    fn new(input: &'a str) -> Self {
        Notes {
            input,
            notes: Vec::new(),
            more: 0,
            said: HashSet::new(),
        }
    }

    fn line(&mut self, line: usize, message: impl Into<String>) {
        if self.notes.len() < MAX_LINE_NOTES {
            self.notes.push(Note::line(self.input, line, message));
        } else {
            self.more += 1;
        }
    }

    /// A note made only the first time `key` comes up in this input.
    fn once(&mut self, key: &str, line: usize, message: impl Into<String>) {
        if self.said.insert(key.to_string()) {
            self.line(line, message);
        }
    }

    fn finish(mut self) -> Vec<Note> {
        if self.more > 0 {
            self.notes.push(Note::input(
                self.input,
                format!("{} more notes like these", self.more),
            ));
        }
        self.notes
    }
}

fn line_u32(line: usize) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------
// ip addr / ip link

/// The `<FLAGS>` line that starts a link in `ip addr`/`ip link`:
/// `2: eth0: <BROADCAST,...> mtu 1500 ...`, or without the index in some
/// pastes (`eth0: <NO-CARRIER,...> ...`).
fn is_link_header(line: &str) -> bool {
    split_link_header(line).is_some()
}

/// Index (when shown), name as printed (`eth0@if7`) and the rest after the
/// name's colon, for a link header line.
fn split_link_header(line: &str) -> Option<(Option<u32>, &str, &str)> {
    let mut rest = line;
    let mut index = None;
    if let Some((number, after)) = rest.split_once(':') {
        if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
            index = number.parse().ok();
            rest = after.trim_start();
        }
    }
    let (name, after) = match rest.split_once(char::is_whitespace) {
        Some((name, after)) => (name, after.trim_start()),
        None => (rest, ""),
    };
    let name = name.strip_suffix(':')?;
    if name.is_empty() || name.contains(':') || name.contains('/') {
        return None;
    }
    // Without the index, only `<` after the name makes this a header; with
    // it, a line cut right after the name (`2: eth0:`) is one too.
    if after.starts_with('<') || (index.is_some() && after.is_empty()) {
        Some((index, name, after))
    } else {
        None
    }
}

/// `ip -o addr` lines: `2: eth0    inet 192.0.2.2/24 ... \       valid_lft ...`.
fn is_oneline_addr(tokens: &[&str]) -> bool {
    tokens.len() >= 4
        && tokens[0]
            .strip_suffix(':')
            .is_some_and(|n| n.parse::<u32>().is_ok())
        && matches!(tokens[2], "inet" | "inet6")
}

/// `ip -d link` detail lines start with the link kind.
const LINK_KINDS: &[&str] = &[
    "vlan",
    "veth",
    "bridge",
    "bond",
    "macvlan",
    "macvtap",
    "ipvlan",
    "vxlan",
    "geneve",
    "gre",
    "gretap",
    "ip6gre",
    "ip6gretap",
    "ipip",
    "sit",
    "ip6tnl",
    "vti",
    "vti6",
    "tun",
    "dummy",
    "wireguard",
    "ifb",
    "vrf",
    "team",
    "nlmon",
    "openvswitch",
    "xfrm",
    "netkit",
    "hsr",
    "ipoib",
];

/// Parses `ip addr` (or `ip link`) text: `ip addr`, `ip -4 addr`,
/// `ip -6 addr`, `-s` counters, `-d` details (the link kind), `-o` one-line
/// output, tab-indented pastes and pastes that start mid-block.
///
/// `eth0@if7` is the link `eth0`; the part after `@` is kept as the parent
/// unless it is `NONE` or `ifN` (a peer in another namespace). Addresses met
/// before any link header (a paste that starts mid-block) are kept with the
/// interface of their IPv4 label, or none, and one note.
pub fn parse_ip_addr(input: &str, text: &str) -> (Vec<Link>, Vec<Address>, Vec<Note>) {
    let mut notes = Notes::new(input);
    let mut links = Vec::new();
    let mut addresses = Vec::new();
    // The link whose block we are in, and the name addresses belong to
    // (set also by a header cut short, whose link is not kept).
    let mut current: Option<Link> = None;
    let mut ifname: Option<String> = None;
    // Column names of an `ip -s` counter header (`RX:  bytes packets ...`)
    // and whether it is RX (`None`: a header whose values are not kept).
    let mut counters: Option<(Option<bool>, Vec<String>)> = None;
    // Indentation of the last link header (pastes may indent everything).
    let mut header_indent = 0;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        // `ip -o` joins a record's lines with `\`.
        for segment in raw.split('\\') {
            let trimmed = segment.trim();
            let indent = segment.len() - segment.trim_start().len();
            if trimmed.is_empty() {
                continue;
            }
            if let Some((rx, columns)) = counters.take() {
                let values: Option<Vec<u64>> =
                    trimmed.split_whitespace().map(|v| v.parse().ok()).collect();
                if let Some(values) = values {
                    if let (Some(rx), Some(link)) = (rx, current.as_mut()) {
                        apply_counters(link, rx, &columns, &values);
                    }
                    continue;
                }
            }
            if let Some((number, name, rest)) = split_link_header(trimmed) {
                if let Some(done) = current.take() {
                    links.push(finish_link(done));
                }
                let (name, parent) = split_link_name(name);
                ifname = Some(name.to_string());
                header_indent = indent;
                match parse_link_attrs(rest) {
                    Some(mut link) => {
                        link.index = number.unwrap_or(0);
                        link.name = name.to_string();
                        link.parent = parent.to_string();
                        link.input = input.to_string();
                        link.line = line_u32(line);
                        link.excerpt = trimmed.to_string();
                        current = Some(link);
                    }
                    None => notes.line(
                        line,
                        format!("link {name}: header cut short before the end of its <flags>"),
                    ),
                }
                continue;
            }
            let tokens: Vec<&str> = trimmed.split_whitespace().collect();
            let mut words = &tokens[..];
            let mut oneline_name = None;
            if is_oneline_addr(&tokens) {
                oneline_name = Some(split_link_name(tokens[1]).0);
                words = &tokens[2..];
            }
            let first = words[0];
            match first {
                "inet" | "inet6" => {
                    let name = oneline_name.map(str::to_string).or_else(|| ifname.clone());
                    match parse_address(words, line, &mut notes) {
                        Some(mut address) => {
                            match name {
                                Some(name) => address.ifname = name,
                                None => {
                                    address.ifname = address
                                        .label
                                        .split(':')
                                        .next()
                                        .unwrap_or_default()
                                        .to_string();
                                    notes.once(
                                        "orphan",
                                        line,
                                        "address before any link header (the paste starts \
                                         mid-block): kept with the interface of its label, if any",
                                    );
                                }
                            }
                            address.input = input.to_string();
                            address.line = line_u32(line);
                            address.excerpt = trimmed.to_string();
                            addresses.push(address);
                        }
                        None => continue,
                    }
                }
                word if word.starts_with("link/") => match current.as_mut() {
                    Some(link) => {
                        let kind = &word["link/".len()..];
                        link.link_type = match kind {
                            "[65534]" => "none".to_string(),
                            other => other.to_string(),
                        };
                        if let Some(mac) = words.get(1).filter(|w| !is_link_keyword(w)) {
                            link.mac = (*mac).to_string();
                        }
                    }
                    None => {
                        if ifname.is_none() {
                            notes.line(line, "link/ line before any link header");
                        }
                    }
                },
                "valid_lft" | "altname" => {}
                "RX:" | "TX:" => {
                    counters = Some((
                        Some(first == "RX:"),
                        words[1..].iter().map(|w| w.to_string()).collect(),
                    ));
                }
                "RX" | "TX" => counters = Some((None, Vec::new())),
                // Indented deeper than the link's header: part of its block.
                word if ifname.is_some() && indent > header_indent => {
                    // `ip -d` detail lines (and others from newer `ip`).
                    if let Some(link) = current.as_mut() {
                        if link.kind.is_empty() && LINK_KINDS.contains(&word) {
                            link.kind = word.to_string();
                        }
                    }
                }
                _ => notes.line(line, "not ip addr output"),
            }
        }
    }
    if let Some(done) = current.take() {
        links.push(finish_link(done));
    }
    (links, addresses, notes.finish())
}

/// Words on a `link/` line that are not the hardware address.
fn is_link_keyword(word: &str) -> bool {
    matches!(
        word,
        "brd" | "peer" | "link-netnsid" | "link-netns" | "promiscuity" | "permaddr"
    )
}

/// `eth0@if7` → `eth0` and no parent; `eth0.100@eth0` → `eth0.100`, parent `eth0`.
fn split_link_name(printed: &str) -> (&str, &str) {
    match printed.split_once('@') {
        Some((name, parent)) => {
            let in_other_netns = parent
                .strip_prefix("if")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if parent == "NONE" || in_other_netns {
                (name, "")
            } else {
                (name, parent)
            }
        }
        None => (printed, ""),
    }
}

/// The `<FLAGS> mtu 1500 ... state UP ...` part of a link header; `None`
/// when it is cut inside the flags.
fn parse_link_attrs(rest: &str) -> Option<Link> {
    let mut link = Link::default();
    let after = if rest.is_empty() {
        ""
    } else {
        let inner = rest.strip_prefix('<')?;
        let (flags, after) = inner.split_once('>')?;
        link.flags = flags
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
        after
    };
    let tokens: Vec<&str> = after.split_whitespace().collect();
    let mut i = 0;
    while i < tokens.len() {
        let value = tokens.get(i + 1).copied();
        match (tokens[i], value) {
            ("mtu", Some(v)) => link.mtu = v.parse().unwrap_or(0),
            ("state", Some(v)) => link.operstate = v.to_string(),
            ("master", Some(v)) => link.master = v.to_string(),
            ("qdisc" | "group" | "qlen" | "mode" | "link-netnsid" | "netns", Some(_)) => {}
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Some(link)
}

/// Derives `up`, `carrier` and `resolves_neighbours` as the JSON parser does.
fn finish_link(mut link: Link) -> Link {
    let has = |name: &str| link.flags.iter().any(|f| f == name);
    let up = has("UP");
    link.carrier = if has("LOWER_UP") {
        Some(true)
    } else if has("NO-CARRIER") || (up && link.operstate == "DOWN") {
        Some(false)
    } else {
        None
    };
    link.resolves_neighbours = !(has("NOARP")
        || has("POINTOPOINT")
        || has("LOOPBACK")
        || matches!(
            link.link_type.as_str(),
            "none" | "loopback" | "ppp" | "void"
        ));
    link.up = up;
    link
}

fn apply_counters(link: &mut Link, rx: bool, columns: &[String], values: &[u64]) {
    let stats = link.stats.get_or_insert_with(LinkStats::default);
    for (column, value) in columns.iter().zip(values) {
        let slot = match (rx, column.as_str()) {
            (true, "bytes") => &mut stats.rx_bytes,
            (true, "packets") => &mut stats.rx_packets,
            (true, "errors") => &mut stats.rx_errors,
            (true, "dropped") => &mut stats.rx_dropped,
            (false, "bytes") => &mut stats.tx_bytes,
            (false, "packets") => &mut stats.tx_packets,
            (false, "errors") => &mut stats.tx_errors,
            (false, "dropped") => &mut stats.tx_dropped,
            (false, "carrier") => &mut stats.tx_carrier_errors,
            (false, "collsns") => &mut stats.collisions,
            _ => continue,
        };
        *slot = *value;
    }
}

/// `inet 192.0.2.2/24 brd 192.0.2.255 scope global secondary eth0:1`,
/// `inet 172.30.0.1 peer 172.30.0.2/32 scope global tun0`,
/// `inet6 fe80::1/64 scope link tentative dadfailed`. Fills every field but
/// the interface, input, line and excerpt.
fn parse_address(words: &[&str], line: usize, notes: &mut Notes<'_>) -> Option<Address> {
    let v4 = words[0] == "inet";
    let Some(printed) = words.get(1) else {
        notes.line(line, "address line cut short after the family");
        return None;
    };
    let (local_text, plen_text) = match printed.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (*printed, None),
    };
    let Some(local) = ip_addr(local_text).filter(|ip| ip.is_ipv4() == v4) else {
        notes.line(line, format!("bad {} address {printed:?}", words[0]));
        return None;
    };
    let max = if v4 { 32 } else { 128 };
    let mut prefixlen = match plen_text.map(str::parse::<u8>) {
        None => max,
        Some(Ok(p)) if p <= max => p,
        Some(_) => {
            notes.line(line, format!("bad prefix length in {printed:?}"));
            return None;
        }
    };
    let mut address = Address {
        ifname: String::new(),
        local,
        prefixlen,
        scope: String::new(),
        label: String::new(),
        flags: Vec::new(),
        input: String::new(),
        line: 0,
        excerpt: String::new(),
    };
    let mut i = 2;
    while i < words.len() {
        let word = words[i];
        match word {
            "brd" | "peer" | "scope" | "metric" | "proto" | "valid_lft" | "preferred_lft" => {
                let Some(value) = words.get(i + 1) else {
                    notes.line(
                        line,
                        format!("address line ends after `{word}` (cut short?)"),
                    );
                    break;
                };
                match word {
                    "scope" => address.scope = (*value).to_string(),
                    "peer" => {
                        // `local peer remote/len`: the length is the peer's.
                        if let Some(p) = value.split_once('/').and_then(|(_, p)| p.parse().ok()) {
                            prefixlen = p;
                        }
                    }
                    _ => {}
                }
                i += 2;
                continue;
            }
            _ if v4 && i + 1 == words.len() && !KNOWN_ADDR_FLAGS.contains(&word) => {
                address.label = word.to_string();
            }
            _ => address.flags.push(word.to_string()),
        }
        i += 1;
    }
    address.prefixlen = prefixlen.min(max);
    Some(address)
}

// ---------------------------------------------------------------------------
// ip route

fn route_kind(word: &str) -> Option<RouteKind> {
    RouteKind::from_name(word)
}

/// `ip route` attributes followed by one value.
const ROUTE_VALUE_WORDS: &[&str] = &[
    "dev",
    "table",
    "proto",
    "scope",
    "src",
    "metric",
    "pref",
    "error",
    "mtu",
    "advmss",
    "hoplimit",
    "expires",
    "weight",
    "nhid",
    "tos",
    "dsfield",
    "realm",
    "realms",
    "rtt",
    "rttvar",
    "rto_min",
    "cwnd",
    "initcwnd",
    "initrwnd",
    "ssthresh",
    "reordering",
    "window",
    "features",
    "quickack",
    "congctl",
    "fastopen_no_cookie",
    "from",
    "uid",
    "iif",
    "oif",
    "mark",
    "ttl-propagate",
    "as",
    "users",
    "age",
    "ipid",
    "used",
];

/// `ip route` flags (no value).
const ROUTE_FLAG_WORDS: &[&str] = &[
    "onlink",
    "linkdown",
    "dead",
    "pervasive",
    "offload",
    "trap",
    "notify",
    "rt_offload",
    "rt_trap",
    "rt_offload_failed",
    "cache",
    "unresolved",
];

#[derive(Default)]
struct RouteDraft {
    line: usize,
    kind: Option<RouteKind>,
    /// `None` for `default`.
    dst: Option<IpNet>,
    gateway: Option<IpAddr>,
    /// The gateway was printed with its family (`via inet6 fe80::1`): it is
    /// of the other family than the route.
    gateway_other_family: bool,
    dev: String,
    table: Option<u32>,
    protocol: String,
    scope: String,
    prefsrc: Option<IpAddr>,
    metric: u32,
    onlink: bool,
    linkdown: bool,
    /// `pref` is printed for IPv6 routes only.
    pref: bool,
    /// `nhid`: the next hop is a nexthop object the text does not show.
    nhid: bool,
}

/// Parses `ip route`, `ip -6 route` or `ip route show table all` text
/// (either family, or both mixed).
///
/// The family of a record that shows no address (`default dev eth0`) is
/// taken from `pref` (printed for IPv6 only), else from `family_hint`
/// (`inet` or `inet6`), else from the record before it, else IPv4. A
/// multipath route takes the gateway, device and `linkdown` of its first
/// `nexthop` line; `cache` lines are skipped. Unknown attributes are
/// ignored, with one note per attribute name.
pub fn parse_ip_route(
    input: &str,
    text: &str,
    family_hint: Option<&str>,
    interner: &mut Interner,
) -> (Vec<Route>, Vec<Note>) {
    let mut notes = Notes::new(input);
    let mut routes = Vec::new();
    let hint = family_hint.map(|f| f == "inet6");
    let mut previous_v6: Option<bool> = None;
    let mut pending: Option<RouteDraft> = None;
    let mut finish = |draft: RouteDraft,
                      notes: &mut Notes<'_>,
                      routes: &mut Vec<Route>,
                      previous_v6: &mut Option<bool>| {
        if let Some(route) = finish_route(draft, hint, *previous_v6, notes, interner) {
            *previous_v6 = Some(route.dst.addr().is_ipv6());
            routes.push(route);
        }
    };
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let tokens: Vec<&str> = raw.split_whitespace().collect();
        let Some(&first) = tokens.first() else {
            continue;
        };
        match first {
            "nexthop" => match pending.as_mut() {
                Some(draft) => route_attrs(draft, &tokens[1..], line, &mut notes),
                None => notes.line(line, "nexthop line without a route before it"),
            },
            "cache" if pending.is_some() => {}
            _ => {
                if let Some(draft) = pending.take() {
                    finish(draft, &mut notes, &mut routes, &mut previous_v6);
                }
                pending = start_route(&tokens, line, &mut notes);
            }
        }
    }
    if let Some(draft) = pending.take() {
        finish(draft, &mut notes, &mut routes, &mut previous_v6);
    }
    (routes, notes.finish())
}

fn start_route(tokens: &[&str], line: usize, notes: &mut Notes<'_>) -> Option<RouteDraft> {
    let mut draft = RouteDraft {
        line,
        ..RouteDraft::default()
    };
    let mut rest = tokens;
    if let Some(kind) = route_kind(tokens[0]) {
        draft.kind = Some(kind);
        rest = &tokens[1..];
    }
    let Some((&dst, attrs)) = rest.split_first() else {
        notes.line(line, "route type without a destination (cut short?)");
        return None;
    };
    if dst != "default" {
        let Some(net) = ip_or_net(dst) else {
            notes.line(line, format!("not a route: {dst:?} is not a destination"));
            return None;
        };
        draft.dst = Some(net);
    }
    route_attrs(&mut draft, attrs, line, notes);
    Some(draft)
}

/// Applies `ip route` attributes to `draft`; next-hop attributes (`via`,
/// `dev`) only where the draft has none yet, so the first nexthop wins.
fn route_attrs(draft: &mut RouteDraft, tokens: &[&str], line: usize, notes: &mut Notes<'_>) {
    let mut i = 0;
    while i < tokens.len() {
        let word = tokens[i];
        if word == "via" {
            let mut j = i + 1;
            let mut other_family = false;
            if let Some(&family) = tokens.get(j) {
                if matches!(family, "inet" | "inet6" | "link") {
                    other_family = family != "link";
                    j += 1;
                }
            }
            match tokens.get(j).map(|t| (t, ip_addr(t))) {
                Some((_, Some(gw))) => {
                    if draft.gateway.is_none() {
                        draft.gateway = Some(gw);
                        draft.gateway_other_family = other_family;
                    }
                }
                Some((text, None)) => notes.line(line, format!("bad gateway {text:?}")),
                None => notes.line(line, "route line ends after `via` (cut short?)"),
            }
            i = j + 1;
            continue;
        }
        if word == "encap" {
            // `encap mpls 100`, `encap seg6 mode encap segs 1 [ ... ]`:
            // skip to the next attribute we know.
            i += 1;
            while i < tokens.len()
                && tokens[i] != "via"
                && !ROUTE_VALUE_WORDS.contains(&tokens[i])
                && !ROUTE_FLAG_WORDS.contains(&tokens[i])
            {
                i += 1;
            }
            continue;
        }
        if word == "nexthop" {
            i += 1;
            continue;
        }
        if ROUTE_FLAG_WORDS.contains(&word) {
            match word {
                "onlink" => draft.onlink = true,
                "linkdown" => draft.linkdown = true,
                _ => {}
            }
            i += 1;
            continue;
        }
        if !ROUTE_VALUE_WORDS.contains(&word) {
            notes.once(
                &format!("attr:{word}"),
                line,
                format!("unknown route attribute {word:?} (ignored)"),
            );
            // A number after it is taken as its value.
            let valued = tokens
                .get(i + 1)
                .is_some_and(|t| t.starts_with(|c: char| c.is_ascii_digit()));
            i += if valued { 2 } else { 1 };
            continue;
        }
        let mut j = i + 1;
        // `mtu lock 1400`, `congctl lock cubic`.
        if tokens.get(j) == Some(&"lock") {
            j += 1;
        }
        let Some(&value) = tokens.get(j) else {
            notes.line(line, format!("route line ends after `{word}` (cut short?)"));
            return;
        };
        match word {
            "dev" if draft.dev.is_empty() => draft.dev = value.to_string(),
            "table" => {
                draft.table = Some(match table_number(value) {
                    Some(n) => n,
                    None => {
                        notes.once(
                            &format!("table:{value}"),
                            line,
                            format!(
                                "table name {value:?} is defined in the host's rt_tables, which \
                                 this text does not carry: its routes are counted in table 0"
                            ),
                        );
                        0
                    }
                });
            }
            "proto" => draft.protocol = value.to_string(),
            "scope" => draft.scope = value.to_string(),
            "src" => match ip_addr(value) {
                Some(ip) => draft.prefsrc = Some(ip),
                None => notes.line(line, format!("bad source address {value:?}")),
            },
            "metric" => match value.parse() {
                Ok(m) => draft.metric = m,
                Err(_) => notes.line(line, format!("bad metric {value:?}")),
            },
            "pref" => draft.pref = true,
            "nhid" => draft.nhid = true,
            _ => {}
        }
        i = j + 1;
    }
}

fn finish_route(
    draft: RouteDraft,
    hint: Option<bool>,
    previous_v6: Option<bool>,
    notes: &mut Notes<'_>,
    interner: &mut Interner,
) -> Option<Route> {
    let kind = draft.kind.unwrap_or(RouteKind::Unicast);
    let needs_next_hop = !matches!(
        kind,
        RouteKind::Blackhole
            | RouteKind::Unreachable
            | RouteKind::Prohibit
            | RouteKind::Throw
            | RouteKind::Nat
    );
    if needs_next_hop && draft.dev.is_empty() && draft.gateway.is_none() && !draft.nhid {
        notes.line(
            draft.line,
            "route names no device, gateway or nexthop (cut short?)",
        );
        return None;
    }
    let dst = match draft.dst {
        Some(net) => net.trunc(),
        None => {
            let from_gateway = draft
                .gateway
                .map(|gw| gw.is_ipv6() != draft.gateway_other_family);
            let v6 = from_gateway
                .or(draft.prefsrc.map(|ip| ip.is_ipv6()))
                .or(draft.pref.then_some(true))
                .or(hint)
                .or(previous_v6)
                .unwrap_or(false);
            default_net(v6)
        }
    };
    let table = draft.table.unwrap_or(match kind {
        RouteKind::Local | RouteKind::Broadcast => TABLE_LOCAL,
        _ => TABLE_MAIN,
    });
    Some(Route {
        dst,
        kind,
        table,
        gateway: draft.gateway,
        dev: interner.get(&draft.dev),
        metric: draft.metric,
        protocol: interner.get(&draft.protocol),
        scope: interner.get(&draft.scope),
        prefsrc: draft.prefsrc,
        onlink: draft.onlink,
        linkdown: draft.linkdown,
        line: line_u32(draft.line),
    })
}

// ---------------------------------------------------------------------------
// route -n, netstat -rn, /proc/net/route, /proc/net/ipv6_route

/// Whether this is the kernel's IPv6 catch-all reject route, which `ip`
/// shows as `unreachable default dev lo table unspec ... metric 4294967295`.
fn is_ipv6_null_entry(dst: &IpNet, metric: u32, dev: &str) -> bool {
    dst.addr().is_ipv6() && dst.prefix_len() == 0 && metric == u32::MAX && dev == "lo"
}

/// A device column: `*` and `-` mean none.
fn device(column: &str) -> &str {
    if matches!(column, "*" | "-") {
        ""
    } else {
        column
    }
}

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

// ---------------------------------------------------------------------------
// ip neigh, arp -n, /proc/net/arp

/// NUD state names `ip neigh` prints.
const NUD_STATES: &[&str] = &[
    "INCOMPLETE",
    "REACHABLE",
    "STALE",
    "DELAY",
    "PROBE",
    "FAILED",
    "NOARP",
    "PERMANENT",
    "NONE",
];

fn is_nud(word: &str) -> bool {
    NUD_STATES.contains(&word)
}

/// A link-layer address as the JSON parser keeps it (lower case), unless it
/// is not one (`xx:57:9b:18:c7:xx`, redacted): then as given.
fn lladdr(text: &str) -> String {
    let hex_octets = text
        .split(':')
        .all(|o| !o.is_empty() && o.len() <= 2 && o.bytes().all(|b| b.is_ascii_hexdigit()));
    if hex_octets {
        text.to_ascii_lowercase()
    } else {
        text.to_string()
    }
}

/// Parses `ip neigh` text (both families):
/// `192.0.2.1 dev eth0 lladdr 02:fc:00:00:00:05 router REACHABLE`,
/// `192.0.2.9 dev eth0  FAILED` (no lladdr), several states on one line
/// (joined with `,`), no state at all (`NONE`, as the JSON parser says).
/// `ip neigh show dev eth0` omits `dev`: such entries have no device.
pub fn parse_ip_neigh(
    input: &str,
    text: &str,
    interner: &mut Interner,
) -> (Vec<Neighbour>, Vec<Note>) {
    let mut notes = Notes::new(input);
    let mut neighbours = Vec::new();
    'lines: for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let tokens: Vec<&str> = raw.split_whitespace().collect();
        let Some((&first, rest)) = tokens.split_first() else {
            continue;
        };
        let Some(dst) = ip_addr(first) else {
            notes.line(
                line,
                format!("not a neighbour: {first:?} is not an address"),
            );
            continue;
        };
        if rest.is_empty() {
            notes.line(line, "nothing after the address (cut short?)");
            continue;
        }
        let mut dev = "";
        let mut hw = String::new();
        let mut router = false;
        let mut states: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < rest.len() {
            let word = rest[i];
            match word {
                "dev" | "lladdr" | "used" | "probes" | "protocol" | "vni" | "port" | "nud" => {
                    let Some(&value) = rest.get(i + 1) else {
                        notes.line(line, format!("line ends after `{word}` (cut short?)"));
                        continue 'lines;
                    };
                    match word {
                        "dev" => dev = value,
                        "lladdr" => hw = lladdr(value),
                        _ => {}
                    }
                    i += 2;
                    continue;
                }
                "router" => router = true,
                "proxy" | "extern_learn" | "offload" | "managed" | "self" | "master" => {}
                w if w.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') => states.push(w),
                w => notes.once(
                    &format!("attr:{w}"),
                    line,
                    format!("unknown neighbour attribute {w:?} (ignored)"),
                ),
            }
            i += 1;
        }
        let state = if states.is_empty() {
            "NONE".to_string()
        } else {
            states.join(",")
        };
        neighbours.push(Neighbour {
            dst,
            dev: interner.get(dev),
            lladdr: interner.get(&hw),
            state: interner.get(&state),
            router,
            line: line_u32(line),
        });
    }
    (neighbours, notes.finish())
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

const ATF_COM: u32 = 0x2;
const ATF_PERM: u32 = 0x4;

/// Parses `/proc/net/arp`: `IP address HW type Flags HW address Mask
/// Device`. Flags `0x2` is complete (state `COMPLETE`), `0x4`/`0x6`
/// permanent, `0x0` incomplete (its `00:00:00:00:00:00` address is dropped).
pub fn parse_proc_net_arp(
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
        if first == "IP" {
            continue;
        }
        let Some(dst) = ip_addr(first) else {
            notes.line(
                line,
                format!("not an arp entry: {first:?} is not an address"),
            );
            continue;
        };
        if fields.len() != 6 {
            notes.line(
                line,
                format!("expected 6 columns, found {} (cut short?)", fields.len()),
            );
            continue;
        }
        let Some(flags) = fields[2]
            .strip_prefix("0x")
            .and_then(|h| u32::from_str_radix(h, 16).ok())
        else {
            notes.line(line, format!("bad flags {:?}", fields[2]));
            continue;
        };
        let state = if flags & ATF_PERM != 0 {
            "PERMANENT"
        } else if flags & ATF_COM != 0 {
            "COMPLETE"
        } else {
            "INCOMPLETE"
        };
        let hw = if flags & (ATF_COM | ATF_PERM) != 0 {
            lladdr(fields[3])
        } else {
            String::new()
        };
        neighbours.push(Neighbour {
            dst,
            dev: interner.get(fields[5]),
            lladdr: interner.get(&hw),
            state: interner.get(state),
            router: false,
            line: line_u32(line),
        });
    }
    (neighbours, notes.finish())
}

// ---------------------------------------------------------------------------
// ip rule

/// Parses `ip rule` text (`0:\tfrom all lookup local`). The family is that
/// of the addresses a rule names (`from 2001:db8::/32`), else `family`
/// (`ip rule` text does not print it); the selector is the text after the
/// priority with its spaces collapsed; the table is the word after `lookup`
/// (or `table`), empty for an action rule (`unreachable`, `goto`...).
pub fn parse_ip_rule(input: &str, text: &str, family: &str) -> (Vec<PolicyRule>, Vec<Note>) {
    let mut notes = Notes::new(input);
    let mut rules = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let Some((priority, rest)) = trimmed.split_once(':') else {
            notes.line(line, "not a rule: no `priority:`");
            continue;
        };
        let Ok(priority) = priority.trim().parse::<u32>() else {
            notes.line(line, format!("not a rule: bad priority {priority:?}"));
            continue;
        };
        let tokens: Vec<&str> = rest.split_whitespace().collect();
        if tokens.is_empty() {
            notes.line(line, "rule without a selector (cut short?)");
            continue;
        }
        let after = |word: &str| {
            tokens
                .iter()
                .position(|t| *t == word)
                .and_then(|i| tokens.get(i + 1))
                .copied()
        };
        let table = after("lookup").or_else(|| after("table")).unwrap_or("");
        let rule_family = ["from", "to"]
            .iter()
            .filter_map(|w| after(w))
            .find_map(ip_or_net)
            .map(|net| {
                if net.addr().is_ipv6() {
                    "inet6"
                } else {
                    "inet"
                }
            })
            .unwrap_or(family);
        rules.push(PolicyRule {
            family: rule_family.to_string(),
            priority,
            selector: tokens.join(" "),
            table: table.to_string(),
            input: input.to_string(),
            line: line_u32(line),
            excerpt: trimmed.to_string(),
        });
    }
    (rules, notes.finish())
}

#[cfg(test)]
mod tests;
