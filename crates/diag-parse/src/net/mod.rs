//! Network state: the tables (addresses, links, routes of every table and
//! both families, policy rules, neighbours) and the kernel's network
//! counters, in every form diag reads. One file per input format, named as
//! an operator names it:
//!
//! | file | format |
//! |------|--------|
//! | [`iproute2_json`] | `ip -j addr`, `ip -j -s -d link`, `ip -j route show table all`, `ip -j neigh`, `ip -j rule`: a bundle's `net/*.json` (on a live host diag writes the same files from netlink, `source/netlink.rs`, so live and replay read the same thing) |
//! | [`iproute2_text`] | `ip addr`/`ip link`, `ip route`, `ip neigh`, `ip rule` as `ip` prints them |
//! | [`nettools`] | net-tools `route -n`, `netstat -rn`, `arp -n` |
//! | [`netstat`] | net-tools `netstat -W -neopa`: TCP and UDP sockets and their processes |
//! | [`ss`] | iproute2 `ss -peaonmi`: TCP and UDP sockets and their processes |
//! | [`procnet`] | `/proc/net`: `route`, `ipv6_route`, `arp`, `tcp`/`udp` (and `6`), `snmp`/`netstat`, `dev`, `stat/{arp,ndisc}_cache` |
//! | [`sysfs`] | `/sys/class/net/<iface>/flags` |
//! | [`sysctl`] | `/proc/sys/net/...`: one integer per file |
//! | [`text`] | any text form of a table: which one it is ([`text::sniff`]) and its parser ([`text::parse`]) |
//!
//! The table types every parser of a table produces are here ([`Route`],
//! [`Neighbour`], [`Link`], [`Address`], [`PolicyRule`]), so a rule reads
//! a pasted `ip route` and a bundle's `net/route.json` alike. A full
//! Internet table is a million routes, so [`Route`] and [`Neighbour`] are
//! compact (interned device names, numeric table and protocol) and the
//! tables are never handed to rule conditions whole:
//! `diag_core::facts::netview` derives the small views rules need.
//!
//! As everywhere in diag, odd input never panics: a line that cannot be
//! used becomes a [`Note`] naming the input and the line, and the rest is
//! used. The text parsers keep at most [`MAX_LINE_NOTES`] line notes per
//! input; one more note counts the others.

use crate::model::Note;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

pub mod iproute2_json;
pub mod iproute2_text;
pub mod netstat;
pub mod nettools;
pub mod procnet;
#[cfg(test)]
mod samples;
pub mod ss;
pub mod sysctl;
pub mod sysfs;
pub mod text;

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
    /// Names of the tables known only from the host's `rt_tables`, by the
    /// number their routes were given (see [`NAMED_TABLE_BASE`]).
    pub table_names: BTreeMap<u32, String>,
}

/// Interns the few distinct strings (device names, states) of a big table.
/// A handful of values cover a million routes, so the most recent ones are
/// compared first, before any hashing.
#[derive(Debug, Default)]
pub struct Interner {
    recent: Vec<Arc<str>>,
    all: HashMap<String, Arc<str>>,
    /// Table names only the host's `rt_tables` knows, in the order seen:
    /// the one at index `i` is table [`NAMED_TABLE_BASE`] + `i`.
    tables: Vec<String>,
}

/// The number given to the first table known only by a name from the
/// host's `rt_tables` (`table red_mgmt` in `ip route` text, which does not
/// carry the file): each such name gets its own number from here up, so
/// its routes stay in a table of their own (two named tables' default
/// routes do not compete), and [`NetTables::table_names`] gives the name
/// back. The kernel's table numbers this high are unused in practice.
pub const NAMED_TABLE_BASE: u32 = 0xF000_0000;

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

    /// The number standing for a table name that is not `ip`'s own (see
    /// [`NAMED_TABLE_BASE`]): the same number for the same name.
    pub fn named_table(&mut self, name: &str) -> u32 {
        let index = match self.tables.iter().position(|t| t == name) {
            Some(index) => index,
            None => {
                self.tables.push(name.to_string());
                self.tables.len() - 1
            }
        };
        NAMED_TABLE_BASE.saturating_add(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// Every named table seen, by the number it was given.
    pub fn named_tables(&self) -> BTreeMap<u32, String> {
        (0u32..)
            .zip(&self.tables)
            .map(|(i, name)| (NAMED_TABLE_BASE.saturating_add(i), name.clone()))
            .collect()
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

/// An address as `ip` prints it; a scoped IPv6 address (`fe80::1%eth0`)
/// keeps only the address.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    s.split('%').next()?.parse().ok()
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

// ---------------------------------------------------------------------------
// Shared by the text parsers (`iproute2_text`, `nettools`, `procnet`)

/// The most line notes kept per input; the rest are counted in one note.
pub const MAX_LINE_NOTES: usize = 20;

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
