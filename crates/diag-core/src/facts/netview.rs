//! What rule conditions see of the network: the small tables whole
//! (addresses, links, policy rules) and derived views of the big ones
//! (default routes with their gateway checks, a neighbour-table summary
//! with the off-link entries).
//!
//! Why derived views: a full Internet table is a million routes and a busy
//! router holds 100,000 neighbours. Converting those to CEL values for every
//! rule would cost seconds and gigabytes; the joins rules need (is the
//! gateway one of our addresses? which neighbours lie outside every
//! connected subnet?) are computed here once, in one pass each, with
//! interval sets. Rules stay data: they decide what the views mean.

use super::counters::{self, NetCounters};
use super::netconfig;
use super::sockets::{self, SocketTable};
use super::sysctl::{self, NetSysctls};
use super::Facts;
use crate::model::Note;
use crate::parse::net::procnet::sockets::Socket;
use crate::parse::net::procnet::{arp, dev, route, snmp};
use crate::parse::net::sysctl::Setting;
use crate::parse::net::{
    self, iproute2_json, sysfs, text, Address, Interner, Link, Neighbour, NetTables, PolicyRule,
    RouteKind,
};
use crate::parse::netconfig::hosts::HostsEntry;
use crate::parse::netconfig::resolv::Nameserver;
use crate::parse::netconfig::ExpectedAddress;
use crate::source::snapshot::Snapshot;
use ipnet::IpNet;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

/// A default route and what diag checked about its gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DefaultRoute {
    /// `inet` or `inet6`.
    pub family: String,
    /// Table name (`main`, `local`, a number, or a name of the host's
    /// `rt_tables` as `ip route` text printed it).
    pub table: String,
    /// Route type (`unicast`, `unreachable`, ...).
    pub kind: String,
    /// Outgoing interface.
    pub dev: String,
    /// Gateway, empty when the route is on-link.
    pub gateway: String,
    /// Metric.
    pub metric: u64,
    /// `onlink` flag given.
    pub onlink: bool,
    /// The interface resolves neighbours (Ethernet-like): an on-link route
    /// through it ARPs for every destination. True when the interface is
    /// unknown.
    pub dev_resolves_neighbours: bool,
    /// The gateway is one of this host's own addresses.
    pub gateway_is_local: bool,
    /// The gateway lies in a subnet of one of this host's addresses (or of
    /// a link-scope route). False for on-link routes.
    pub gateway_connected: bool,
    /// Whether a connected-subnet check was possible (addresses known).
    pub connected_known: bool,
    /// State of the gateway's neighbour entry (`REACHABLE`, `FAILED`, ...),
    /// empty when there is none.
    pub gateway_neigh_state: String,
    /// The gateway's neighbour entry as evidence, empty when none.
    pub gateway_neigh: String,
    /// Canonical input name.
    pub input: String,
    /// 1-based line of the route in its input.
    pub line: u32,
    /// The route as `ip route` prints it.
    pub excerpt: String,
    /// What is wrong with it as this host's way out, empty when nothing:
    /// `on-link` (no gateway on an interface that resolves neighbours:
    /// every destination is ARPed for), `own-address` (the gateway is
    /// one of this host's addresses), `unreachable-gateway` (the gateway
    /// is in no connected subnet and the route is not `onlink`). Computed
    /// here once, for unicast routes only: the `route.gateway-misconfigured`
    /// rule and the report's route table both read it.
    pub problem: String,
}

impl DefaultRoute {
    /// The [`DefaultRoute::problem`] of a route with these fields.
    fn judge(&self) -> &'static str {
        if self.kind != "unicast" {
            ""
        } else if self.gateway.is_empty() && self.dev_resolves_neighbours {
            "on-link"
        } else if self.gateway_is_local {
            "own-address"
        } else if !self.gateway.is_empty()
            && self.connected_known
            && !self.gateway_connected
            && !self.onlink
        {
            "unreachable-gateway"
        } else {
            ""
        }
    }
}

pub use crate::model::Record;

/// A summary of the neighbour tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NeighSummary {
    /// Whether a neighbour table was collected.
    pub collected: bool,
    /// IPv4 entries (ARP).
    pub ipv4: u64,
    /// IPv6 entries (NDP), multicast and NOARP entries excluded.
    pub ipv6: u64,
    /// Entries per NUD state.
    pub by_state: BTreeMap<String, u64>,
    /// Entries in FAILED or INCOMPLETE state.
    pub unresolved: u64,
    /// Unicast entries for addresses outside every connected subnet.
    pub offlink: u64,
    /// `offlink` as a share of all unicast entries (0..1).
    pub offlink_share: f64,
    /// Distinct link-layer addresses among resolved off-link entries.
    pub offlink_macs: u64,
    /// The most common link-layer address among off-link entries.
    pub offlink_top_mac: String,
    /// How many off-link entries have it.
    pub offlink_top_mac_count: u64,
    /// Interfaces the off-link entries are on.
    pub offlink_devs: Vec<String>,
    /// The first off-link entries, as evidence.
    pub offlink_samples: Vec<Record>,
    /// Whether connected subnets were known (addresses collected).
    pub connected_known: bool,
    /// Unicast entries per interface (multicast and NOARP excluded).
    pub entries_by_dev: BTreeMap<String, u64>,
    /// FAILED or INCOMPLETE entries per interface.
    pub unresolved_by_dev: BTreeMap<String, u64>,
    /// FAILED or INCOMPLETE entries with what each neighbour is to this
    /// host (a router, a route's next hop), the ones with a role first; at
    /// most `UNRESOLVED_SAMPLES` (50).
    pub unresolved_entries: Vec<UnresolvedNeighbour>,
}

/// A neighbour that does not answer (`FAILED` or `INCOMPLETE`), and what
/// it is to this host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnresolvedNeighbour {
    /// The neighbour's address.
    pub address: String,
    /// Interface.
    pub dev: String,
    /// NUD state (`FAILED`, `INCOMPLETE`).
    pub state: String,
    /// The entry carries the IPv6 `router` flag: the neighbour announced
    /// itself as a router (a routing peer, the IPv6 default gateway).
    pub router: bool,
    /// The address is the gateway (next hop) of a route of any table,
    /// default or not.
    pub next_hop: bool,
    /// The address is the gateway of a default route.
    pub default_gateway: bool,
    /// Canonical input name.
    pub input: String,
    /// 1-based line.
    pub line: u32,
    /// The entry as `ip neigh` prints it.
    pub excerpt: String,
}

/// Network facts as rule conditions see them (`facts.net`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NetFacts {
    /// Every table, whole. Not exposed to conditions (see the module doc).
    #[serde(skip)]
    pub tables: NetTables,
    /// Inputs the tables came from.
    pub inputs: Vec<String>,
    /// Addresses bound to interfaces.
    pub addresses: Vec<Address>,
    /// Interfaces.
    pub links: Vec<Link>,
    /// Number of routes, all tables and families.
    pub route_count: u64,
    /// Whether any route table was collected.
    pub routes_collected: bool,
    /// Default routes of every table, with their gateway checks.
    pub default_routes: Vec<DefaultRoute>,
    /// Policy routing rules.
    pub rules: Vec<PolicyRule>,
    /// Neighbour-table summary.
    pub neigh: NeighSummary,
    /// Sockets: listeners and counts per state.
    pub sockets: SocketView,
    /// Kernel network counters (snmp, netstat, dev, conntrack).
    pub counters: NetCounters,
    /// Network sysctls.
    pub sysctl: NetSysctls,
    /// Addresses the configuration says the host should carry, each
    /// checked against what is bound.
    pub expected: Vec<ExpectedCheck>,
    /// Whether any network configuration with addresses was read.
    pub config_collected: bool,
    /// Resolvers from `/etc/resolv.conf`.
    pub nameservers: Vec<Nameserver>,
    /// `/etc/hosts` entries.
    pub hosts: Vec<HostsEntry>,
}

/// A configured address and what the host actually does with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpectedCheck {
    /// The configured address.
    pub address: String,
    /// Prefix length when the configuration gives one, else 0.
    pub prefixlen: u8,
    /// Interface or alias label as configured.
    pub interface: String,
    /// Which configuration format it came from (`cpanel-ips`, `ifcfg`, ...).
    pub origin: String,
    /// The configuration brings it up at boot.
    pub on_boot: bool,
    /// An interface carries it (or a `local` route covers it).
    pub bound: bool,
    /// The interface that carries it, empty when none.
    pub bound_on: String,
    /// A TCP listener accepts connections on it (bound to it or to the
    /// wildcard): a service expects to answer there.
    pub served: bool,
    /// The listening ports that cover it (`80, 443`).
    pub ports: String,
    /// `/etc/hosts` maps the host's own name to it.
    pub named: bool,
    /// Configuration file (canonical input name).
    pub input: String,
    /// Line in that file.
    pub line: u32,
    /// The configuration line.
    pub excerpt: String,
}

fn check_expected(
    expected: &[ExpectedAddress],
    tables: &NetTables,
    local: &IntervalSet,
    socket_table: &SocketTable,
    hosts: &[HostsEntry],
    hostname: &str,
) -> Vec<ExpectedCheck> {
    let short = hostname.split('.').next().unwrap_or_default();
    let listeners = sockets::listeners(&socket_table.sockets);
    expected
        .iter()
        .map(|e| {
            let ip = canonical(e.address);
            let carrier = tables.addresses.iter().find(|a| canonical(a.local) == ip);
            let mut ports: Vec<u16> = listeners
                .iter()
                .filter(|s| s.proto == "tcp")
                .filter(|s| {
                    let l = canonical(s.local);
                    l == ip || (l.is_unspecified() && (l.is_ipv6() || ip.is_ipv4()))
                })
                .map(|s| s.port)
                .collect();
            ports.sort_unstable();
            ports.dedup();
            ExpectedCheck {
                address: ip.to_string(),
                prefixlen: e.prefixlen.unwrap_or(0),
                interface: e.interface.clone(),
                origin: e.origin.clone(),
                on_boot: e.on_boot,
                bound: carrier.is_some() || local.contains(ip),
                bound_on: carrier.map(|a| a.ifname.clone()).unwrap_or_default(),
                served: !ports.is_empty(),
                ports: ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                named: !hostname.is_empty()
                    && hosts.iter().any(|h| {
                        canonical(h.address) == ip
                            && h.names.iter().any(|n| n == hostname || n == short)
                    }),
                input: e.input.clone(),
                line: e.line,
                excerpt: e.excerpt.clone(),
            }
        })
        .collect()
}

/// What conditions see of the socket tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SocketView {
    /// Whether any socket table was collected.
    pub collected: bool,
    /// Listening TCP sockets and bound unconnected UDP sockets (at most
    /// [`MAX_LISTENERS`]).
    pub listeners: Vec<Socket>,
    /// How many listeners there are in all.
    pub listeners_total: u64,
    /// Listeners bound to a specific address that no interface carries
    /// (and no `local` route covers): they cannot receive anything.
    pub unbound_listeners: Vec<Socket>,
    /// TCP sockets per state.
    pub tcp_states: BTreeMap<String, u64>,
    /// UDP sockets per state.
    pub udp_states: BTreeMap<String, u64>,
    /// Half-open TCP connections (SYN_RECV).
    pub syn_recv: u64,
    /// SYN_RECV per local port (port as text).
    pub syn_recv_by_port: BTreeMap<String, u64>,
}

/// At most this many listeners are shown to conditions.
pub const MAX_LISTENERS: usize = 2000;

/// Sorted, merged address intervals: "is this address in any of these
/// prefixes" in O(log n).
#[derive(Debug, Default)]
pub(crate) struct IntervalSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl IntervalSet {
    fn insert(&mut self, net: &IpNet) {
        match net {
            IpNet::V4(n) => self
                .v4
                .push((u32::from(n.network()), u32::from(n.broadcast()))),
            IpNet::V6(n) => self
                .v6
                .push((u128::from(n.network()), u128::from(n.broadcast()))),
        }
    }

    fn finish(&mut self) {
        fn merge<T: Ord + Copy>(v: &mut Vec<(T, T)>) {
            v.sort_unstable();
            let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
            for &(start, end) in v.iter() {
                match out.last_mut() {
                    Some(last) if start <= last.1 => {
                        if end > last.1 {
                            last.1 = end;
                        }
                    }
                    _ => out.push((start, end)),
                }
            }
            *v = out;
        }
        merge(&mut self.v4);
        merge(&mut self.v6);
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        fn find<T: Ord + Copy>(v: &[(T, T)], x: T) -> bool {
            let i = v.partition_point(|&(start, _)| start <= x);
            i > 0 && v[i - 1].1 >= x
        }
        match ip {
            IpAddr::V4(a) => find(&self.v4, u32::from(a)),
            IpAddr::V6(a) => find(&self.v6, u128::from(a)),
        }
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "inet"
    } else {
        "inet6"
    }
}

/// Reads the network tables of `snapshot`: `net/*.json` first, then the
/// procfs/sysfs files older bundles have.
pub fn tables_from_snapshot(
    snapshot: &Snapshot,
    notes: &mut Vec<Note>,
) -> (NetTables, Vec<String>) {
    let mut t = NetTables::default();
    let mut inputs = Vec::new();
    let mut interner = Interner::default();
    let used = |name: &str, inputs: &mut Vec<String>| inputs.push(name.to_string());

    if let Some(text) = snapshot.text("net/link.json") {
        let (links, more) = iproute2_json::parse_ip_link_json("net/link.json", &text);
        t.links = links;
        notes.extend(more);
        used("net/link.json", &mut inputs);
    }
    if let Some(text) = snapshot.text("net/addr.json") {
        let (links, addresses, more) = iproute2_json::parse_ip_addr_json("net/addr.json", &text);
        if t.links.is_empty() {
            t.links = links;
        }
        t.addresses = addresses;
        notes.extend(more);
        used("net/addr.json", &mut inputs);
    }
    for (name, hint) in [("net/route.json", None), ("net/route6.json", Some("inet6"))] {
        if let Some(text) = snapshot.text(name) {
            let (routes, more) = iproute2_json::parse_ip_route_json(name, &text, hint);
            if t.routes_input.is_empty() {
                t.routes_input = name.to_string();
            }
            t.routes.extend(routes);
            notes.extend(more);
            used(name, &mut inputs);
        }
    }
    if t.routes_input.is_empty() {
        if let Some(text) = snapshot.text("proc/net/route") {
            let (routes, more) =
                route::parse_proc_net_route("proc/net/route", &text, &mut interner);
            notes.extend(more);
            t.routes_input = "proc/net/route".into();
            t.routes = routes;
            used("proc/net/route", &mut inputs);
        }
    }
    if t.routes_input == "proc/net/route" {
        if let Some(text) = snapshot.text("proc/net/ipv6_route") {
            let (routes, more) =
                route::parse_proc_net_ipv6_route("proc/net/ipv6_route", &text, &mut interner);
            t.routes.extend(routes);
            notes.extend(more);
            used("proc/net/ipv6_route", &mut inputs);
        }
    }
    if let Some(text) = snapshot.text("net/neigh.json") {
        let (neighbours, more) =
            iproute2_json::parse_ip_neigh_json("net/neigh.json", &text, &mut interner);
        t.neighbours = neighbours;
        t.neighbours_input = "net/neigh.json".into();
        notes.extend(more);
        used("net/neigh.json", &mut inputs);
    }
    for (name, fam) in [("net/rule.json", "inet"), ("net/rule6.json", "inet6")] {
        if let Some(text) = snapshot.text(name) {
            let (rules, more) = iproute2_json::parse_ip_rule_json(name, &text, fam);
            t.rules.extend(rules);
            notes.extend(more);
            used(name, &mut inputs);
        }
    }
    if t.neighbours_input.is_empty() {
        if let Some(text) = snapshot.text("proc/net/arp") {
            let (neighbours, more) = arp::parse_proc_net_arp("proc/net/arp", &text, &mut interner);
            t.neighbours = neighbours;
            t.neighbours_input = "proc/net/arp".into();
            notes.extend(more);
            used("proc/net/arp", &mut inputs);
        }
    }
    // `ip` text output saved by hand or by other tools (`commands/ip_addr`,
    // `commands/ip_route`, ...): whatever JSON and procfs did not give.
    for (name, input) in snapshot.inputs.range("commands/ip_".to_string()..) {
        if !name.starts_with("commands/ip_") {
            break;
        }
        let text = input.text();
        let Some(format) = text::sniff(&text) else {
            notes.push(Note::input(name, "not a format diag knows of `ip` output"));
            continue;
        };
        let hint = name.contains("-6").then_some("inet6");
        let (more_tables, more) = text::parse(format, name, &text, hint, &mut interner);
        let mut took = false;
        if t.addresses.is_empty() && !more_tables.addresses.is_empty() {
            t.addresses = more_tables.addresses;
            took = true;
        }
        if t.links.is_empty() && !more_tables.links.is_empty() {
            t.links = more_tables.links;
            took = true;
        }
        if (t.routes_input.is_empty() || t.routes_input.starts_with("commands/"))
            && !more_tables.routes.is_empty()
        {
            if t.routes_input.is_empty() {
                t.routes_input = name.clone();
            }
            t.routes.extend(more_tables.routes);
            took = true;
        }
        if (t.neighbours_input.is_empty() || t.neighbours_input.starts_with("commands/"))
            && !more_tables.neighbours.is_empty()
        {
            if t.neighbours_input.is_empty() {
                t.neighbours_input = name.clone();
            }
            t.neighbours.extend(more_tables.neighbours);
            took = true;
        }
        if t.rules.is_empty() && !more_tables.rules.is_empty() {
            t.rules = more_tables.rules;
            took = true;
        }
        notes.extend(more);
        if took {
            used(name, &mut inputs);
        }
    }
    // Interface flags from sysfs, for links netlink did not give.
    let known: HashSet<String> = t.links.iter().map(|l| l.name.clone()).collect();
    for (name, input) in &snapshot.inputs {
        let Some(iface) = name
            .strip_prefix("sys/class/net/")
            .and_then(|rest| rest.strip_suffix("/flags"))
        else {
            continue;
        };
        if known.contains(iface) {
            continue;
        }
        match sysfs::parse_interface_flags(iface, name, &input.text()) {
            Ok(flags) => t.links.push(legacy_link(&flags, name)),
            Err(note) => notes.push(note),
        }
    }
    // Speed and duplex, which netlink does not carry.
    for link in &mut t.links {
        let base = format!("sys/class/net/{}", link.name);
        if let Some(text) = snapshot.text(&format!("{base}/speed")) {
            // -1 (and absurd values) mean unknown.
            link.speed = text
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v > 0);
        }
        if let Some(text) = snapshot.text(&format!("{base}/duplex")) {
            let duplex = text.trim();
            if duplex == "full" || duplex == "half" {
                link.duplex = duplex.to_string();
            }
        }
        if link.speed.is_some() || !link.duplex.is_empty() {
            link.excerpt.push_str(&format!(
                " speed {} duplex {}",
                link.speed
                    .map_or("unknown".to_string(), |s| format!("{s}Mb/s")),
                if link.duplex.is_empty() {
                    "unknown"
                } else {
                    &link.duplex
                }
            ));
        }
    }
    t.table_names = interner.named_tables();
    (t, inputs)
}

fn legacy_link(flags: &sysfs::Interface, input: &str) -> Link {
    let mut names = Vec::new();
    for (set, name) in [
        (flags.up, "UP"),
        (flags.loopback, "LOOPBACK"),
        (flags.pointopoint, "POINTOPOINT"),
        (flags.noarp, "NOARP"),
        (flags.flags & 0x10000 != 0, "LOWER_UP"),
    ] {
        if set {
            names.push(name.to_string());
        }
    }
    let mut link = Link {
        name: flags.name.clone(),
        up: flags.up,
        resolves_neighbours: !(flags.loopback || flags.pointopoint || flags.noarp),
        flags: names,
        input: input.to_string(),
        line: 1,
        ..Link::default()
    };
    link.excerpt = format!(
        "{}: flags {:#x} <{}>",
        link.name,
        flags.flags,
        link.flags.join(",")
    );
    link
}

/// Addresses this host answers for: its own, and `local` routes
/// (`127.0.0.0/8`, AnyIP ranges like `ip route add local 10.0.0.0/16 dev lo`).
fn local_addresses(tables: &NetTables) -> IntervalSet {
    let mut local = IntervalSet::default();
    for r in &tables.routes {
        if r.kind == RouteKind::Local {
            local.insert(&r.dst);
        }
    }
    for a in &tables.addresses {
        local.insert(&IpNet::from(a.local));
    }
    local.finish();
    local
}

/// The subnets this host reaches without a gateway: those of its
/// addresses, link-scope routes other than a default, and IPv6 link-local.
pub(crate) fn connected_subnets(tables: &NetTables) -> IntervalSet {
    let mut connected = IntervalSet::default();
    for a in &tables.addresses {
        if let Ok(net) = IpNet::new(a.local, a.prefixlen) {
            if net.prefix_len() < net.max_prefix_len() {
                connected.insert(&net.trunc());
            }
        }
    }
    // Link-scope routes other than a default route also make a subnet
    // connected (`ip route add 10.0.0.0/8 dev eth1`).
    for r in &tables.routes {
        if r.kind == RouteKind::Unicast
            && r.gateway.is_none()
            && !r.is_default()
            && !r.dev.is_empty()
            && &*r.dev != "lo"
        {
            connected.insert(&r.dst);
        }
    }
    // IPv6 link-local is always on-link.
    connected.insert(
        &"fe80::/10"
            .parse()
            .unwrap_or_else(|_| IpNet::V6(Default::default())),
    );
    connected.finish();
    connected
}

/// Derives the views rule conditions see from the whole tables.
pub fn derive(tables: NetTables, inputs: Vec<String>, socket_table: &SocketTable) -> NetFacts {
    let connected = connected_subnets(&tables);
    let own: HashSet<IpAddr> = tables.addresses.iter().map(|a| a.local).collect();
    let local = local_addresses(&tables);
    let connected_known = !tables.addresses.is_empty();

    let links: HashMap<&str, &Link> = tables.links.iter().map(|l| (l.name.as_str(), l)).collect();
    let neigh_by: HashMap<(IpAddr, &str), &Neighbour> = tables
        .neighbours
        .iter()
        .map(|n| ((n.dst, &*n.dev), n))
        .collect();

    let mut default_routes = Vec::new();
    for r in tables.routes.iter().filter(|r| r.is_default()) {
        // Table 0 holds only the kernel's own IPv6 null entry
        // (`/proc/net/ipv6_route`'s reject `::/0` on `lo`, metric
        // 0xffffffff), which no `ip route` shows and nobody configured.
        if r.table == net::TABLE_LOCAL || r.table == 0 {
            continue;
        }
        let neigh = r
            .gateway
            .and_then(|gw| neigh_by.get(&(gw, &*r.dev)).copied());
        let mut route = DefaultRoute {
            family: family(r.dst.addr()).into(),
            table: match tables.table_names.get(&r.table) {
                Some(name) => name.clone(),
                None => net::table_name(r.table).into_owned(),
            },
            kind: r.kind.name().into(),
            dev: r.dev.to_string(),
            gateway: r.gateway.map(|g| g.to_string()).unwrap_or_default(),
            metric: u64::from(r.metric),
            onlink: r.onlink,
            dev_resolves_neighbours: links.get(&*r.dev).is_none_or(|l| l.resolves_neighbours),
            gateway_is_local: r.gateway.is_some_and(|g| own.contains(&g)),
            gateway_connected: r.gateway.is_some_and(|g| connected.contains(g)),
            connected_known,
            gateway_neigh_state: neigh.map(|n| n.state.to_string()).unwrap_or_default(),
            gateway_neigh: neigh.map(Neighbour::render).unwrap_or_default(),
            input: tables.routes_input.clone(),
            line: r.line,
            excerpt: match tables.table_names.get(&r.table) {
                Some(name) => r
                    .render()
                    .replace(&format!(" table {}", r.table), &format!(" table {name}")),
                None => r.render(),
            },
            problem: String::new(),
        };
        route.problem = route.judge().into();
        default_routes.push(route);
    }

    let neigh = summarise_neighbours(&tables, &connected, connected_known);
    let sockets = socket_view(socket_table, &local, !tables.addresses.is_empty());
    NetFacts {
        sockets,
        counters: NetCounters::default(),
        sysctl: NetSysctls::default(),
        expected: Vec::new(),
        config_collected: false,
        nameservers: Vec::new(),
        hosts: Vec::new(),
        inputs,
        addresses: tables.addresses.clone(),
        links: tables.links.clone(),
        route_count: tables.routes.len() as u64,
        routes_collected: !tables.routes_input.is_empty(),
        default_routes,
        rules: tables.rules.clone(),
        neigh,
        tables,
    }
}

const SAMPLES: usize = 10;
/// At most this many unresolved neighbours are handed to the rules.
const UNRESOLVED_SAMPLES: usize = 50;

/// IPv4-mapped IPv6 addresses stand for their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn socket_view(table: &SocketTable, local: &IntervalSet, addresses_known: bool) -> SocketView {
    let listeners: Vec<&Socket> = sockets::listeners(&table.sockets);
    let unbound_listeners = if addresses_known {
        listeners
            .iter()
            .filter(|s| {
                let ip = canonical(s.local);
                !ip.is_unspecified() && !ip.is_loopback() && !local.contains(ip)
            })
            .map(|s| (*s).clone())
            .collect()
    } else {
        Vec::new()
    };
    SocketView {
        collected: !table.inputs.is_empty(),
        listeners_total: listeners.len() as u64,
        listeners: listeners.into_iter().take(MAX_LISTENERS).cloned().collect(),
        unbound_listeners,
        tcp_states: table.tcp_states.clone(),
        udp_states: table.udp_states.clone(),
        syn_recv: table.syn_recv,
        syn_recv_by_port: table
            .syn_recv_by_port
            .iter()
            .map(|(port, n)| (port.to_string(), *n))
            .collect(),
    }
}

fn summarise_neighbours(
    t: &NetTables,
    connected: &IntervalSet,
    connected_known: bool,
) -> NeighSummary {
    let mut s = NeighSummary {
        collected: !t.neighbours_input.is_empty(),
        connected_known,
        ..NeighSummary::default()
    };
    let mut states: HashMap<Arc<str>, u64> = HashMap::new();
    let mut macs: HashMap<Arc<str>, u64> = HashMap::new();
    let mut devs: Vec<String> = Vec::new();
    let mut unicast = 0u64;
    let mut next_hops: HashSet<IpAddr> = HashSet::new();
    let mut default_gateways: HashSet<IpAddr> = HashSet::new();
    for r in &t.routes {
        if let Some(gateway) = r.gateway {
            next_hops.insert(gateway);
            if r.is_default() {
                default_gateways.insert(gateway);
            }
        }
    }
    let mut with_role = Vec::new();
    let mut without_role = Vec::new();
    for n in &t.neighbours {
        let noarp = n.state.contains("NOARP");
        let multicast = n.dst.is_multicast() || n.dst.is_unspecified();
        if noarp || multicast {
            continue;
        }
        unicast += 1;
        match n.dst {
            IpAddr::V4(_) => s.ipv4 += 1,
            IpAddr::V6(_) => s.ipv6 += 1,
        }
        *states.entry(n.state.clone()).or_default() += 1;
        *s.entries_by_dev.entry(n.dev.to_string()).or_default() += 1;
        if n.unresolved() {
            s.unresolved += 1;
            *s.unresolved_by_dev.entry(n.dev.to_string()).or_default() += 1;
            let next_hop = next_hops.contains(&n.dst);
            let role = n.router || next_hop;
            let kept = if role {
                &mut with_role
            } else {
                &mut without_role
            };
            if kept.len() < UNRESOLVED_SAMPLES {
                kept.push(UnresolvedNeighbour {
                    address: n.dst.to_string(),
                    dev: n.dev.to_string(),
                    state: n.state.to_string(),
                    router: n.router,
                    next_hop,
                    default_gateway: default_gateways.contains(&n.dst),
                    input: t.neighbours_input.clone(),
                    line: n.line,
                    excerpt: n.render(),
                });
            }
        }
        if connected_known && !connected.contains(n.dst) {
            s.offlink += 1;
            if !n.lladdr.is_empty() {
                *macs.entry(n.lladdr.clone()).or_default() += 1;
            }
            if !devs.iter().any(|d| **d == *n.dev) {
                devs.push(n.dev.to_string());
            }
            if s.offlink_samples.len() < SAMPLES {
                s.offlink_samples.push(Record {
                    input: t.neighbours_input.clone(),
                    line: n.line,
                    excerpt: n.render(),
                });
            }
        }
    }
    s.by_state = states
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    s.offlink_share = if unicast == 0 {
        0.0
    } else {
        s.offlink as f64 / unicast as f64
    };
    s.offlink_macs = macs.len() as u64;
    if let Some((mac, count)) = macs
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
    {
        s.offlink_top_mac = mac.to_string();
        s.offlink_top_mac_count = count;
    }
    s.offlink_devs = devs;
    let room = UNRESOLVED_SAMPLES.saturating_sub(with_role.len());
    with_role.extend(without_role.into_iter().take(room));
    s.unresolved_entries = with_role;
    s
}

impl NetFacts {
    /// For each entry of `tables.neighbours`, in order: whether it is an
    /// off-link entry (a unicast address outside every connected subnet),
    /// by the same test as [`NeighSummary::offlink`]. All false when no
    /// address was collected (connected subnets unknown).
    pub fn neighbour_offlink(&self) -> Vec<bool> {
        let known = !self.tables.addresses.is_empty();
        let connected = connected_subnets(&self.tables);
        self.tables
            .neighbours
            .iter()
            .map(|n| {
                known
                    && !n.state.contains("NOARP")
                    && !n.dst.is_multicast()
                    && !n.dst.is_unspecified()
                    && !connected.contains(n.dst)
            })
            .collect()
    }

    /// Reads and derives the network facts of `snapshot`.
    pub fn from_snapshot(snapshot: &Snapshot, notes: &mut Vec<Note>) -> NetFacts {
        let (tables, inputs) = tables_from_snapshot(snapshot, notes);
        let (socket_table, more) = sockets::from_snapshot(snapshot);
        notes.extend(more);
        let (config, more) = netconfig::from_snapshot(snapshot);
        notes.extend(more);
        let hostname = snapshot.host().unwrap_or_default();
        let mut net = derive(tables, inputs, &socket_table);
        let local = local_addresses(&net.tables);
        net.expected = check_expected(
            &config.expected,
            &net.tables,
            &local,
            &socket_table,
            &config.hosts,
            &hostname,
        );
        net.config_collected = !config.expected.is_empty();
        net.nameservers = config.nameservers;
        net.hosts = config.hosts;
        let (counters, more) = counters::from_snapshot(snapshot);
        notes.extend(more);
        net.counters = counters;
        let (sysctl, more) = sysctl::from_snapshot(snapshot);
        notes.extend(more);
        net.sysctl = sysctl;
        net
    }

    /// One element in every list: the shape conditions are checked against.
    pub fn schema_sample() -> NetFacts {
        let addr = Address {
            ifname: String::new(),
            local: IpAddr::from([0, 0, 0, 0]),
            prefixlen: 0,
            scope: String::new(),
            label: String::new(),
            flags: vec![String::new()],
            input: String::new(),
            line: 0,
            excerpt: String::new(),
        };
        let link = Link {
            flags: vec![String::new()],
            carrier: Some(false),
            speed: Some(0),
            stats: Some(net::LinkStats::default()),
            ..Link::default()
        };
        let rule = PolicyRule {
            family: String::new(),
            priority: 0,
            selector: String::new(),
            table: String::new(),
            input: String::new(),
            line: 0,
            excerpt: String::new(),
        };
        NetFacts {
            inputs: vec![String::new()],
            addresses: vec![addr],
            links: vec![link],
            default_routes: vec![DefaultRoute::default()],
            rules: vec![rule],
            counters: {
                let c = || Some(snmp::Counter::default());
                NetCounters {
                    inputs: vec![String::new()],
                    protocols: snmp::ProtocolCounters {
                        values: BTreeMap::from([(
                            String::new(),
                            BTreeMap::from([(String::new(), 0)]),
                        )]),
                        ..snmp::ProtocolCounters::default()
                    },
                    stack: counters::StackCounters {
                        tcp_out_segs: c(),
                        tcp_retrans_segs: c(),
                        syncookies_sent: c(),
                        syncookies_recv: c(),
                        syncookies_failed: c(),
                        listen_overflows: c(),
                        listen_drops: c(),
                        req_q_full_drop: c(),
                        req_q_full_do_cookies: c(),
                        ip_in_hdr_errors: c(),
                        ip_in_addr_errors: c(),
                        ip_out_no_routes: c(),
                        ip_in_discards: c(),
                        icmp_in_dest_unreachs: c(),
                        icmp_out_dest_unreachs: c(),
                        udp_rcvbuf_errors: c(),
                        udp_in_errors: c(),
                        udp_no_ports: c(),
                        tcp_retrans_ratio: Some(0.0),
                    },
                    interfaces: vec![dev::InterfaceCounters::default()],
                    conntrack: counters::Conntrack {
                        count: c(),
                        max: c(),
                        usage: Some(0.0),
                    },
                    window: vec![counters::CounterGrowth::default()],
                    softnet: Some(Default::default()),
                }
            },
            sysctl: {
                let s = || Some(Setting::default());
                NetSysctls {
                    inputs: vec![String::new()],
                    ip_forward: s(),
                    tcp_syncookies: s(),
                    tcp_max_syn_backlog: s(),
                    somaxconn: s(),
                    nf_conntrack_max: s(),
                    conf: vec![sysctl::InterfaceConf {
                        iface: String::new(),
                        rp_filter: s(),
                        arp_ignore: s(),
                        arp_announce: s(),
                        forwarding: s(),
                        forwarding6: s(),
                        effective_rp_filter: Some(0),
                        effective_arp_ignore: Some(0),
                        effective_arp_announce: Some(0),
                    }],
                }
            },
            expected: vec![ExpectedCheck::default()],
            nameservers: vec![Nameserver::default()],
            hosts: vec![HostsEntry {
                names: vec![String::new()],
                ..HostsEntry::default()
            }],
            sockets: SocketView {
                listeners: vec![sample_socket()],
                unbound_listeners: vec![sample_socket()],
                tcp_states: BTreeMap::from([(String::new(), 0)]),
                udp_states: BTreeMap::from([(String::new(), 0)]),
                syn_recv_by_port: BTreeMap::from([(String::new(), 0)]),
                ..SocketView::default()
            },
            neigh: NeighSummary {
                by_state: BTreeMap::from([(String::new(), 0)]),
                offlink_devs: vec![String::new()],
                offlink_samples: vec![Record::default()],
                entries_by_dev: BTreeMap::from([(String::new(), 0)]),
                unresolved_by_dev: BTreeMap::from([(String::new(), 0)]),
                unresolved_entries: vec![UnresolvedNeighbour::default()],
                ..NeighSummary::default()
            },
            ..NetFacts::default()
        }
    }
}

fn sample_socket() -> Socket {
    Socket {
        proto: String::new(),
        local: IpAddr::from([0, 0, 0, 0]),
        port: 0,
        remote: IpAddr::from([0, 0, 0, 0]),
        remote_port: 0,
        state: String::new(),
        listening: false,
        uid: 0,
        inode: 0,
        tx_queue: 0,
        rx_queue: 0,
        drops: 0,
        owners: vec![sockets::SocketOwner {
            pid: 0,
            comm: String::new(),
        }],
        input: String::new(),
        line: 0,
        excerpt: String::new(),
    }
}

/// Fills `facts.net` (called from [`Facts::from_snapshot`]).
pub(crate) fn fill(facts: &mut Facts, snapshot: &Snapshot, notes: &mut Vec<Note>) {
    facts.net = NetFacts::from_snapshot(snapshot, notes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(inputs: &[(&str, &str)]) -> Snapshot {
        Snapshot::from_inputs(
            inputs
                .iter()
                .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec())),
        )
    }

    const ADDR: &str = r#"[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"}]},
{"ifindex":2,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"02:00:00:00:00:01","addr_info":[{"family":"inet","local":"192.0.2.2","prefixlen":24,"scope":"global","label":"eth0"}]}]"#;

    #[test]
    fn gateway_typo_views() {
        // The http6 incident: default route via the host's own address,
        // and an on-link default; the neighbour table full of Internet
        // addresses, all answered by one MAC.
        let routes = r#"[{"dst":"default","gateway":"192.0.2.2","dev":"eth0","flags":[]},
{"dst":"default","dev":"eth0","table":"100","scope":"link","flags":[]},
{"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2","flags":[]}]"#;
        let neigh = r#"[{"dst":"192.0.2.1","dev":"eth0","lladdr":"02:00:00:00:00:05","state":["REACHABLE"]},
{"dst":"198.51.100.7","dev":"eth0","lladdr":"02:00:00:00:00:05","state":["STALE"]},
{"dst":"203.0.113.9","dev":"eth0","lladdr":"02:00:00:00:00:05","state":["REACHABLE"]},
{"dst":"203.0.113.10","dev":"eth0","state":["INCOMPLETE"]},
{"dst":"fe80::1","dev":"eth0","lladdr":"02:00:00:00:00:05","router":null,"state":["STALE"]},
{"dst":"ff02::16","dev":"eth0","lladdr":"33:33:00:00:00:16","state":["NOARP"]}]"#;
        let snap = snapshot(&[
            ("net/addr.json", ADDR),
            ("net/route.json", routes),
            ("net/neigh.json", neigh),
        ]);
        let mut notes = Vec::new();
        let net = NetFacts::from_snapshot(&snap, &mut notes);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(net.default_routes.len(), 2);
        let own = &net.default_routes[0];
        assert!(own.gateway_is_local && own.gateway_connected);
        assert_eq!(own.line, 1);
        let onlink = &net.default_routes[1];
        assert!(onlink.gateway.is_empty() && onlink.dev_resolves_neighbours);
        assert_eq!(onlink.table, "100");
        assert_eq!(net.neigh.ipv4, 4);
        assert_eq!(net.neigh.ipv6, 1);
        assert_eq!(net.neigh.offlink, 3);
        assert_eq!(net.neigh.offlink_top_mac, "02:00:00:00:00:05");
        assert_eq!(net.neigh.offlink_top_mac_count, 2);
        assert_eq!(net.neigh.offlink_samples[0].line, 2);
        assert_eq!(net.neigh.unresolved, 1);
    }

    #[test]
    fn legacy_proc_route_and_sysfs_flags() {
        let snap = snapshot(&[
            (
                "proc/net/route",
                "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                 ppp0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n",
            ),
            ("sys/class/net/ppp0/flags", "0x10d1\n"),
        ]);
        let mut notes = Vec::new();
        let net = NetFacts::from_snapshot(&snap, &mut notes);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(net.default_routes.len(), 1);
        assert!(!net.default_routes[0].dev_resolves_neighbours);
        assert!(!net.default_routes[0].connected_known);
    }

    /// A sosreport's `proc/net/ipv6_route` (readable since archive links
    /// are followed) listed the kernel's IPv6 null entry as a default
    /// route on `lo`, beside the real ones.
    #[test]
    fn the_ipv6_null_entry_is_no_default_route() {
        // This project's VM, as sos copied them (the route table without
        // its 128-column padding).
        let snap = snapshot(&[
            (
                "proc/net/route",
                "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                 eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                 eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
            ),
            (
                "proc/net/ipv6_route",
                "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n\
                 00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001       lo\n\
                 00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n",
            ),
        ]);
        let mut notes = Vec::new();
        let net = NetFacts::from_snapshot(&snap, &mut notes);
        let defaults: Vec<(&str, &str)> = net
            .default_routes
            .iter()
            .map(|r| (r.dev.as_str(), r.gateway.as_str()))
            .collect();
        assert_eq!(defaults, [("eth0", "192.0.2.1"), ("eth0", "fd00::1")]);
    }

    #[test]
    fn ip_text_output_and_procfs_fallbacks() {
        // A bundle made by hand on the http6 host: `ip addr` and `ip route`
        // saved as text, `/proc/net/arp` copied.
        let snap = snapshot(&[
            (
                "commands/ip_addr",
                "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000\n    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\n",
            ),
            (
                "commands/ip_route",
                "default via 192.0.2.2 dev eth0\n192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2\n",
            ),
            (
                "proc/net/arp",
                "IP address       HW type     Flags       HW address            Mask     Device\n198.51.100.1     0x1         0x2         02:00:00:00:00:05     *        eth0\n",
            ),
            ("commands/ip_garbage", "hello\n"),
        ]);
        let mut notes = Vec::new();
        let net = NetFacts::from_snapshot(&snap, &mut notes);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].input, "commands/ip_garbage");
        assert_eq!(net.default_routes.len(), 1);
        assert!(net.default_routes[0].gateway_is_local);
        assert_eq!(net.default_routes[0].input, "commands/ip_route");
        assert_eq!(net.neigh.offlink, 1);
        assert!(net.inputs.contains(&"proc/net/arp".to_string()));
    }

    /// A copied root where an interface vanished between the directory
    /// listing and the reads, and a directory sits among config files: no
    /// skipped entry, no note, the rest still used.
    #[test]
    fn vanished_interface_and_stray_directory() {
        use crate::source::snapshot::CollectOptions;
        use crate::source::LiveHost;
        let root = tempfile::tempdir().expect("tempdir");
        let p = root.path();
        for dir in [
            "sys/class/net/eth0",
            "sys/class/net/gone",
            "etc/netplan/old",
            "net",
        ] {
            std::fs::create_dir_all(p.join(dir)).expect("mkdir");
        }
        std::fs::write(p.join("sys/class/net/eth0/flags"), "0x1003\n").expect("write");
        std::fs::write(p.join("sys/class/net/eth0/speed"), "1000\n").expect("write");
        std::fs::write(p.join("sys/class/net/eth0/duplex"), "full\n").expect("write");
        std::fs::write(p.join("net/addr.json"), ADDR).expect("write");
        let snap = Snapshot::collect(&LiveHost::with_root(p), &CollectOptions::default());
        assert!(snap.skipped.is_empty(), "{:?}", snap.skipped);
        let mut notes = Vec::new();
        let net = NetFacts::from_snapshot(&snap, &mut notes);
        assert!(notes.is_empty(), "{notes:?}");
        let eth0 = net.links.iter().find(|l| l.name == "eth0").expect("eth0");
        assert_eq!((eth0.speed, eth0.duplex.as_str()), (Some(1000), "full"));
        assert!(
            eth0.excerpt.ends_with("speed 1000Mb/s duplex full"),
            "{}",
            eth0.excerpt
        );
        assert!(!net.links.iter().any(|l| l.name == "gone"));
    }

    #[test]
    fn interval_set() {
        let mut set = IntervalSet::default();
        for net in ["10.0.0.0/8", "10.1.0.0/16", "192.0.2.0/24", "2001:db8::/32"] {
            set.insert(&net.parse().expect("net"));
        }
        set.finish();
        for (ip, inside) in [
            ("10.255.255.255", true),
            ("11.0.0.0", false),
            ("192.0.2.0", true),
            ("192.0.3.0", false),
            ("2001:db8::1", true),
            ("2001:db9::1", false),
        ] {
            assert_eq!(set.contains(ip.parse().expect("ip")), inside, "{ip}");
        }
    }
}
