//! `ip` (iproute2) text output, as people paste it and other tools bundle
//! it: `ip addr`/`ip link` (with `-4`, `-6`, `-s`, `-d`, `-o`), `ip route`
//! (`-6`, `show table all`), `ip neigh`, `ip rule`. The records are the
//! types `ip -j` is read into ([`super::iproute2_json`]); what the text
//! does not say is listed in [`super::text`].

use super::{
    default_net, line_u32, lladdr, parse_ip as ip_addr, parse_prefix as ip_or_net, table_number,
    Address, Interner, Link, LinkStats, Neighbour, Notes, PolicyRule, Route, RouteKind,
    ADDR_FLAGS as KNOWN_ADDR_FLAGS, TABLE_LOCAL, TABLE_MAIN,
};
use crate::model::Note;
use ipnet::IpNet;
use std::net::IpAddr;

// ---------------------------------------------------------------------------
// ip addr / ip link

/// The `<FLAGS>` line that starts a link in `ip addr`/`ip link`:
/// `2: eth0: <BROADCAST,...> mtu 1500 ...`, or without the index in some
/// pastes (`eth0: <NO-CARRIER,...> ...`).
pub(super) fn is_link_header(line: &str) -> bool {
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
pub(super) fn is_oneline_addr(tokens: &[&str]) -> bool {
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

/// The route type `ip route` names with `word`, if it is one.
pub(super) fn route_kind(word: &str) -> Option<RouteKind> {
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
    /// A table name only the host's `rt_tables` knows (given its number
    /// in `finish_route`).
    table_name: Option<String>,
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
            "table" => match table_number(value) {
                Some(n) => draft.table = Some(n),
                None => draft.table_name = Some(value.to_string()),
            },
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
    let table = match &draft.table_name {
        Some(name) => Some(interner.named_table(name)),
        None => draft.table,
    };
    let table = table.unwrap_or(match kind {
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
// ip neigh

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

/// Whether `word` is a NUD state name.
pub(super) fn is_nud(word: &str) -> bool {
    NUD_STATES.contains(&word)
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
                "dev" | "lladdr" | "used" | "probes" | "ref" | "protocol" | "vni" | "port"
                | "nud" => {
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
