//! The network tables: addresses, links, routes (every table, both
//! families), policy rules and neighbours.
//!
//! The bundle stores them as `net/*.json` in the shape `ip -j` prints
//! (`ip -j addr`, `ip -j -s -d link`, `ip -j route show table all`,
//! `ip -j neigh`, `ip -j rule`); on a live host diag produces the same
//! files from netlink (`source/netlink.rs`), so live and replay read the
//! same thing. Older bundles may only have `/proc/net/route`; that is
//! parsed into the same [`Route`] type (`parse/net.rs`).
//!
//! A full Internet table is a million routes, so [`Route`] and
//! [`Neighbour`] are compact (interned device names, numeric table and
//! protocol) and the tables are never handed to rule conditions whole:
//! `parse/netview.rs` derives the small views rules need.

use super::json_records;
use crate::model::Note;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

/// One address bound to an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    /// Interface the address is on.
    pub ifname: String,
    /// The address.
    pub local: IpAddr,
    /// Prefix length.
    pub prefixlen: u8,
    /// `global`, `link`, `host`, `site`.
    pub scope: String,
    /// IPv4 label (`eth0:1`), empty when none.
    pub label: String,
    /// `tentative`, `dadfailed`, `deprecated`, `secondary`, `dynamic`...
    pub flags: Vec<String>,
    /// Canonical input name.
    pub input: String,
    /// 1-based line of the record.
    pub line: u32,
    /// The address as `ip addr` prints it.
    pub excerpt: String,
}

/// Interface counters (`stats64`, or sysfs `statistics/`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStats {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Packets dropped on transmit.
    pub tx_dropped: u64,
    /// Transmit carrier errors.
    pub tx_carrier_errors: u64,
    /// Collisions.
    pub collisions: u64,
}

/// One network interface.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Flags as `ip link` prints them (`UP`, `LOWER_UP`, `NO-CARRIER`, ...).
    pub flags: Vec<String>,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// Carrier present (LOWER_UP), when known.
    pub carrier: Option<bool>,
    /// MTU.
    pub mtu: u32,
    /// RFC 2863 operational state (`UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`).
    pub operstate: String,
    /// `ether`, `loopback`, `none` (tunnels), ...
    pub link_type: String,
    /// Hardware address.
    pub mac: String,
    /// Whether the link resolves neighbours (not NOARP, point-to-point or
    /// loopback): an on-link route through it makes the kernel ARP for
    /// every destination.
    pub resolves_neighbours: bool,
    /// `vlan`, `bond`, `bridge`, `veth`, ... empty for a plain device.
    pub kind: String,
    /// Master device (bond or bridge), empty when none.
    pub master: String,
    /// Parent device of a VLAN or macvlan, empty when none.
    pub parent: String,
    /// Speed in Mbit/s, when known.
    pub speed: Option<u32>,
    /// `full` or `half`, when known.
    pub duplex: String,
    /// Counters, when known.
    pub stats: Option<LinkStats>,
    /// Canonical input name.
    pub input: String,
    /// 1-based line of the record.
    pub line: u32,
    /// A one-line summary as evidence.
    pub excerpt: String,
}

/// Route types (`RTN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteKind {
    /// A normal route.
    Unicast,
    /// A local address (table local).
    Local,
    /// Broadcast.
    Broadcast,
    /// Anycast.
    Anycast,
    /// Multicast.
    Multicast,
    /// Silently dropped.
    Blackhole,
    /// Answered with "host unreachable".
    Unreachable,
    /// Answered with "administratively prohibited".
    Prohibit,
    /// Continue the lookup in the next rule's table.
    Throw,
    /// NAT (obsolete).
    Nat,
    /// Anything else.
    Other,
}

impl RouteKind {
    fn parse(name: &str) -> RouteKind {
        match name {
            "" => RouteKind::Unicast,
            other => RouteKind::from_name(other).unwrap_or(RouteKind::Other),
        }
    }

    /// The type `ip route` names with `name`, if it is one.
    pub(crate) fn from_name(name: &str) -> Option<RouteKind> {
        Some(match name {
            "unicast" => RouteKind::Unicast,
            "local" => RouteKind::Local,
            "broadcast" => RouteKind::Broadcast,
            "anycast" => RouteKind::Anycast,
            "multicast" => RouteKind::Multicast,
            "blackhole" => RouteKind::Blackhole,
            "unreachable" => RouteKind::Unreachable,
            "prohibit" => RouteKind::Prohibit,
            "throw" => RouteKind::Throw,
            "nat" => RouteKind::Nat,
            _ => return None,
        })
    }

    /// The name `ip route` uses.
    pub fn name(self) -> &'static str {
        match self {
            RouteKind::Unicast => "unicast",
            RouteKind::Local => "local",
            RouteKind::Broadcast => "broadcast",
            RouteKind::Anycast => "anycast",
            RouteKind::Multicast => "multicast",
            RouteKind::Blackhole => "blackhole",
            RouteKind::Unreachable => "unreachable",
            RouteKind::Prohibit => "prohibit",
            RouteKind::Throw => "throw",
            RouteKind::Nat => "nat",
            RouteKind::Other => "other",
        }
    }
}

/// The main routing table's number.
pub const TABLE_MAIN: u32 = 254;
/// The local table's number.
pub const TABLE_LOCAL: u32 = 255;

/// Table number from an `ip` table name or number.
pub fn table_number(name: &str) -> Option<u32> {
    match name {
        "main" => Some(TABLE_MAIN),
        "local" => Some(TABLE_LOCAL),
        "default" => Some(253),
        "unspec" => Some(0),
        other => other.parse().ok(),
    }
}

/// The `ip` name of a table number.
pub fn table_name(table: u32) -> Cow<'static, str> {
    match table {
        TABLE_MAIN => "main".into(),
        TABLE_LOCAL => "local".into(),
        253 => "default".into(),
        n => n.to_string().into(),
    }
}

/// One route. Compact: a full Internet table is a million of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// Destination prefix (`0.0.0.0/0` or `::/0` for a default route).
    pub dst: IpNet,
    /// Route type.
    pub kind: RouteKind,
    /// Table number (254 main, 255 local).
    pub table: u32,
    /// Next hop, `None` when the route is on-link.
    pub gateway: Option<IpAddr>,
    /// Outgoing interface (interned), empty for blackhole-like routes.
    pub dev: Arc<str>,
    /// Metric (priority).
    pub metric: u32,
    /// Protocol that installed the route (`kernel`, `static`, `bgp`, ...).
    pub protocol: Arc<str>,
    /// Scope (`global`, `link`, `host`).
    pub scope: Arc<str>,
    /// Preferred source address.
    pub prefsrc: Option<IpAddr>,
    /// `onlink` given: the gateway is used even outside connected subnets.
    pub onlink: bool,
    /// `linkdown`: the device has no carrier.
    pub linkdown: bool,
    /// 1-based line of the record in its input.
    pub line: u32,
}

impl Route {
    /// Whether this is a default route.
    pub fn is_default(&self) -> bool {
        self.dst.prefix_len() == 0
    }

    /// The route as `ip route` prints it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.kind != RouteKind::Unicast {
            out.push_str(self.kind.name());
            out.push(' ');
        }
        if self.is_default() {
            out.push_str("default");
        } else if self.dst.prefix_len() == self.dst.max_prefix_len() {
            let _ = write!(out, "{}", self.dst.addr());
        } else {
            let _ = write!(out, "{}", self.dst);
        }
        if let Some(gw) = self.gateway {
            let _ = write!(out, " via {gw}");
        }
        if !self.dev.is_empty() {
            let _ = write!(out, " dev {}", self.dev);
        }
        if self.table != TABLE_MAIN {
            let _ = write!(out, " table {}", table_name(self.table));
        }
        if !self.protocol.is_empty() && &*self.protocol != "boot" {
            let _ = write!(out, " proto {}", self.protocol);
        }
        if !self.scope.is_empty() && &*self.scope != "global" {
            let _ = write!(out, " scope {}", self.scope);
        }
        if let Some(src) = self.prefsrc {
            let _ = write!(out, " src {src}");
        }
        if self.metric != 0 {
            let _ = write!(out, " metric {}", self.metric);
        }
        if self.onlink {
            out.push_str(" onlink");
        }
        if self.linkdown {
            out.push_str(" linkdown");
        }
        out
    }
}

/// One neighbour (ARP or NDP) entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Neighbour {
    /// The neighbour's address.
    pub dst: IpAddr,
    /// Interface (interned).
    pub dev: Arc<str>,
    /// Link-layer address, empty when unresolved.
    pub lladdr: Arc<str>,
    /// NUD state (`REACHABLE`, `STALE`, `FAILED`, `INCOMPLETE`, `PERMANENT`,
    /// ...; interned). Several states are joined with `,`.
    pub state: Arc<str>,
    /// The neighbour said it is a router.
    pub router: bool,
    /// 1-based line of the record in its input.
    pub line: u32,
}

impl Neighbour {
    /// The entry as `ip neigh` prints it.
    pub fn render(&self) -> String {
        let mut out = format!("{} dev {}", self.dst, self.dev);
        if !self.lladdr.is_empty() {
            let _ = write!(out, " lladdr {}", self.lladdr);
        }
        if self.router {
            out.push_str(" router");
        }
        let _ = write!(out, " {}", self.state.replace(',', " "));
        out
    }

    /// Whether the entry is unresolved (`FAILED` or `INCOMPLETE`).
    pub fn unresolved(&self) -> bool {
        self.state.contains("FAILED") || self.state.contains("INCOMPLETE")
    }
}

/// One policy-routing rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRule {
    /// `inet` or `inet6`.
    pub family: String,
    /// Priority.
    pub priority: u32,
    /// The rule as `ip rule` prints it (`from all lookup main`).
    pub selector: String,
    /// Table looked up, empty for an action rule (`unreachable`, ...).
    pub table: String,
    /// Canonical input name.
    pub input: String,
    /// 1-based line of the record.
    pub line: u32,
    /// `priority: selector`, as evidence.
    pub excerpt: String,
}

/// Every network table of one snapshot.
#[derive(Debug, Clone, Default)]
pub struct NetTables {
    /// Addresses.
    pub addresses: Vec<Address>,
    /// Interfaces.
    pub links: Vec<Link>,
    /// Routes of every table, both families.
    pub routes: Vec<Route>,
    /// Input the routes came from (for evidence).
    pub routes_input: String,
    /// Neighbours, both families.
    pub neighbours: Vec<Neighbour>,
    /// Input the neighbours came from.
    pub neighbours_input: String,
    /// Policy rules.
    pub rules: Vec<PolicyRule>,
}

/// Interns the few distinct strings (device names, states) of a big table.
/// A handful of values cover a million routes, so the most recent ones are
/// compared first, before any hashing.
#[derive(Debug, Default)]
pub struct Interner {
    recent: Vec<Arc<str>>,
    all: HashMap<String, Arc<str>>,
}

impl Interner {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(found) = self.recent.iter().find(|r| &***r == s) {
            return found.clone();
        }
        let value = match self.all.get(s) {
            Some(found) => found.clone(),
            None => {
                let value: Arc<str> = Arc::from(s);
                self.all.insert(s.to_string(), value.clone());
                value
            }
        };
        if self.recent.len() == 8 {
            self.recent.remove(0);
        }
        self.recent.push(value.clone());
        value
    }
}

/// The default route's destination of one family (`0.0.0.0/0`, `::/0`).
pub(crate) fn default_net(v6: bool) -> IpNet {
    if v6 {
        IpNet::V6(ipnet::Ipv6Net::default())
    } else {
        IpNet::V4(ipnet::Ipv4Net::default())
    }
}

/// Parses `A.B.C.D/len`, `A::B/len` or a bare address (a host route), with
/// the host bits cleared; faster than the generic parser on a million
/// routes.
pub(crate) fn parse_prefix(text: &str) -> Option<IpNet> {
    let (addr, len) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let ip = parse_ip(addr)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    IpNet::new(ip, len.unwrap_or(max)).ok().map(|n| n.trunc())
}

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

pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    // Scoped IPv6 (`fe80::1%eth0`) keeps only the address.
    s.split('%').next()?.parse().ok()
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

/// A link as a one-line summary (`eth0: <BROADCAST,UP,LOWER_UP> mtu 1500 state UP`).
pub fn render_link(link: &Link) -> String {
    let mut out = format!(
        "{}: <{}> mtu {} state {}",
        link.name,
        link.flags.join(","),
        link.mtu,
        if link.operstate.is_empty() {
            "UNKNOWN"
        } else {
            &link.operstate
        }
    );
    if !link.master.is_empty() {
        let _ = write!(out, " master {}", link.master);
    }
    if !link.mac.is_empty() {
        let _ = write!(out, " link/{} {}", link.link_type, link.mac);
    }
    if let Some(s) = &link.stats {
        let _ = write!(
            out,
            " rx errors {} dropped {} tx errors {} dropped {}",
            s.rx_errors, s.rx_dropped, s.tx_errors, s.tx_dropped
        );
    }
    out
}

/// Address flags as `ip addr` prints them (words in the text form,
/// `"flag": true` keys in `ip -j`).
pub(crate) const ADDR_FLAGS: &[&str] = &[
    "secondary",
    "primary",
    "tentative",
    "dadfailed",
    "deprecated",
    "dynamic",
    "optimistic",
    "noprefixroute",
    "home",
    "nodad",
    "mngtmpaddr",
    "temporary",
    "permanent",
    "stable-privacy",
    "autojoin",
];

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
                        // As `nettext` does: a name only /etc/iproute2/rt_tables
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
