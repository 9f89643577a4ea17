//! Live network tables from rtnetlink, written as `net/*.json` in the shape
//! `ip -j` prints, so the parsers read a live host and a bundle the same way
//! (and a bundle someone made with `ip -j` by hand too).
//!
//! Each dump runs in the network namespace of the calling process, so
//! `ip netns exec NS diag check` sees that namespace. Records are written
//! one per line, so evidence can point at a line of the file.
//!
//! | input | like |
//! |---|---|
//! | `net/link.json` | `ip -j -s -d link` |
//! | `net/addr.json` | `ip -j addr` |
//! | `net/route.json` | `ip -j route show table all` plus `ip -6 ...` (with a `family` key) |
//! | `net/neigh.json` | `ip -j neigh` (both families) |
//! | `net/rule.json`, `net/rule6.json` | `ip -j rule`, `ip -j -6 rule` |

use super::ReadError;
use netlink_packet_core::{Parseable, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteVia,
};
use netlink_packet_route::rule::{RuleAttribute, RuleMessage};
use netlink_packet_route::AddressFamily;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::IpAddr;

/// The inputs this module generates.
pub const INPUTS: &[&str] = &[
    "net/link.json",
    "net/addr.json",
    "net/route.json",
    "net/neigh.json",
    "net/rule.json",
    "net/rule6.json",
];

/// Dumps the table behind `name` (one of [`INPUTS`]) as JSON text.
pub fn generate(name: &str) -> Result<Vec<u8>, ReadError> {
    let mut nl = Netlink::open()?;
    let links = nl.links()?;
    let names: HashMap<u32, String> = links
        .iter()
        .filter_map(|l| Some((l.index, l.name.clone()?)))
        .collect();
    // `ip` marks a link whose lower device is down `M-DOWN`.
    let down: Vec<u32> = links
        .iter()
        .filter(|l| l.flags & 0x1 == 0)
        .map(|l| l.index)
        .collect();
    let link_json = |l: &Link| {
        let mut record = link_json(l, &names);
        if l.parent.is_some_and(|p| p != l.index && down.contains(&p)) {
            if let Some(Value::Array(flags)) = record.get_mut("flags") {
                flags.push("M-DOWN".into());
            }
        }
        record
    };
    let records: Vec<Value> = match name {
        "net/link.json" => links.iter().map(link_json).collect(),
        "net/addr.json" => {
            let addrs = nl.addresses()?;
            links
                .iter()
                .map(|l| {
                    let mut record = link_json(l);
                    let infos: Vec<Value> = addrs
                        .iter()
                        .filter(|a| a.header.index == l.index)
                        .filter_map(addr_info_json)
                        .collect();
                    if let Value::Object(map) = &mut record {
                        map.remove("stats64");
                        map.insert("addr_info".into(), Value::Array(infos));
                    }
                    record
                })
                .collect()
        }
        "net/route.json" => nl
            .routes()?
            .iter()
            .filter_map(|r| route_json(r, &names))
            .collect(),
        "net/neigh.json" => nl
            .neighbours()?
            .iter()
            .filter_map(|n| neigh_json(n, &names))
            .collect(),
        "net/rule.json" => nl
            .rules(AddressFamily::Inet)?
            .iter()
            .map(rule_json)
            .collect(),
        "net/rule6.json" => nl
            .rules(AddressFamily::Inet6)?
            .iter()
            .map(rule_json)
            .collect(),
        _ => return Err(ReadError::NotFound),
    };
    Ok(one_per_line(&records))
}

/// `[\n{...},\n{...}\n]\n`: valid JSON, one record per line.
fn one_per_line(records: &[Value]) -> Vec<u8> {
    let mut out = b"[\n".to_vec();
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        // Serialising a `Value` cannot fail.
        out.extend_from_slice(record.to_string().as_bytes());
    }
    out.extend_from_slice(b"\n]\n");
    out
}

struct Netlink {
    socket: Socket,
    seq: u32,
}

impl Netlink {
    fn open() -> Result<Self, ReadError> {
        let fail = |what: &str, err: std::io::Error| {
            if err.kind() == std::io::ErrorKind::PermissionDenied {
                ReadError::Denied(format!("netlink {what}: {err}"))
            } else {
                ReadError::Failed(format!("netlink {what}: {err}"))
            }
        };
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(|e| fail("socket", e))?;
        socket.bind_auto().map_err(|e| fail("bind", e))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| fail("connect", e))?;
        Ok(Netlink { socket, seq: 0 })
    }

    /// Sends one dump request of message type `kind` (its fixed header
    /// `body`, zeros but for the family) and parses every reply of type
    /// `kind - 2` (`RTM_GET*` answers `RTM_NEW*`). A dump interrupted by a
    /// concurrent change (`NLM_F_DUMP_INTR`) is retried a few times.
    ///
    /// The request and the replies' framing (`nlmsghdr`) are written and
    /// read here, not with `NetlinkMessage<RouteNetlinkMessage>`: that
    /// type serialises and parses every rtnetlink message (traffic
    /// control, namespaces, ...) and took ~0.1 MB of the binary for five
    /// dumps (docs/static-binary.md). The messages themselves are parsed
    /// by `netlink-packet-route`.
    fn dump<M: Parseable<[u8]>>(&mut self, kind: u16, body: &[u8]) -> Result<Vec<M>, ReadError> {
        self.dump_payloads(kind, body)?
            .iter()
            .map(|payload| {
                M::parse(payload).map_err(|e| ReadError::Failed(format!("netlink message: {e}")))
            })
            .collect()
    }

    /// The payloads of a dump's replies, retried when a concurrent change
    /// interrupted it.
    fn dump_payloads(&mut self, kind: u16, body: &[u8]) -> Result<Vec<Vec<u8>>, ReadError> {
        for _attempt in 0..3 {
            self.seq += 1;
            let len = NLMSG_HDRLEN + body.len();
            let mut request = Vec::with_capacity(len);
            request.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_ne_bytes());
            request.extend_from_slice(&kind.to_ne_bytes());
            request.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
            request.extend_from_slice(&self.seq.to_ne_bytes());
            request.extend_from_slice(&0u32.to_ne_bytes());
            request.extend_from_slice(body);
            self.socket
                .send(&request, 0)
                .map_err(|e| ReadError::Failed(format!("netlink send: {e}")))?;
            let (replies, interrupted) = self.receive(kind - 2)?;
            if !interrupted {
                return Ok(replies);
            }
        }
        Err(ReadError::Failed(
            "netlink dump kept being interrupted by concurrent changes".into(),
        ))
    }

    /// The payloads of the replies of type `want` to the last request,
    /// and whether the dump was interrupted.
    fn receive(&mut self, want: u16) -> Result<(Vec<Vec<u8>>, bool), ReadError> {
        let mut replies = Vec::new();
        let mut interrupted = false;
        let mut buf = vec![0u8; 1 << 20];
        let truncated = || ReadError::Failed("netlink message: truncated".into());
        loop {
            let size = self
                .socket
                .recv(&mut &mut buf[..], 0)
                .map_err(|e| ReadError::Failed(format!("netlink recv: {e}")))?;
            let mut offset = 0;
            while offset < size {
                let header = buf[offset..size]
                    .get(..NLMSG_HDRLEN)
                    .ok_or_else(truncated)?;
                let field =
                    |at: usize| [header[at], header[at + 1], header[at + 2], header[at + 3]];
                let length = u32::from_ne_bytes(field(0)) as usize;
                let kind = u16::from_ne_bytes([header[4], header[5]]);
                let flags = u16::from_ne_bytes([header[6], header[7]]);
                let sequence = u32::from_ne_bytes(field(8));
                let payload = buf[offset..size]
                    .get(NLMSG_HDRLEN..length.max(NLMSG_HDRLEN))
                    .ok_or_else(truncated)?;
                // NLMSG_ALIGN: messages start on 4-byte boundaries.
                offset += length.max(NLMSG_HDRLEN).next_multiple_of(4);
                if sequence != self.seq {
                    // A reply to an earlier, abandoned request.
                    continue;
                }
                if flags & NLM_F_DUMP_INTR != 0 {
                    interrupted = true;
                }
                match kind {
                    NLMSG_DONE => return Ok((replies, interrupted)),
                    NLMSG_ERROR => {
                        let code = payload
                            .get(..4)
                            .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                        if code != 0 {
                            return Err(ReadError::Failed(format!(
                                "netlink error: {}",
                                std::io::Error::from_raw_os_error(-code)
                            )));
                        }
                    }
                    _ if kind == want => replies.push(payload.to_vec()),
                    _ => {}
                }
            }
        }
    }

    fn links(&mut self) -> Result<Vec<Link>, ReadError> {
        // struct ifinfomsg: 16 bytes, every field 0 (all links).
        self.dump_payloads(RTM_GETLINK, &[0; 16])?
            .iter()
            .map(|payload| Link::parse(payload))
            .collect()
    }

    fn addresses(&mut self) -> Result<Vec<AddressMessage>, ReadError> {
        // struct ifaddrmsg: 8 bytes, family AF_UNSPEC (both).
        self.dump(RTM_GETADDR, &[0; 8])
    }

    fn routes(&mut self) -> Result<Vec<RouteMessage>, ReadError> {
        let mut all = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            // struct rtmsg: 12 bytes, rtm_family first.
            let mut body = [0u8; 12];
            body[0] = u8::from(family);
            all.extend(self.dump::<RouteMessage>(RTM_GETROUTE, &body)?);
        }
        Ok(all)
    }

    fn neighbours(&mut self) -> Result<Vec<NeighbourMessage>, ReadError> {
        // struct ndmsg: 12 bytes, family AF_UNSPEC (both).
        self.dump(RTM_GETNEIGH, &[0; 12])
    }

    fn rules(&mut self, family: AddressFamily) -> Result<Vec<RuleMessage>, ReadError> {
        // struct fib_rule_hdr: 12 bytes, family first.
        let mut body = [0u8; 12];
        body[0] = u8::from(family);
        self.dump(RTM_GETRULE, &body)
    }
}

/// `struct nlmsghdr`'s size, and the message types used (linux/netlink.h,
/// linux/rtnetlink.h).
const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_GETLINK: u16 = 18;
const RTM_GETADDR: u16 = 22;
const RTM_GETROUTE: u16 = 26;
const RTM_GETNEIGH: u16 = 30;
const RTM_GETRULE: u16 = 34;

/// One `RTM_NEWLINK` message, the fields [`link_json`] writes, parsed
/// here: `netlink-packet-route`'s `LinkMessage` parses every attribute of
/// every kind of link (bond, VXLAN, ... options) and took ~0.15 MB of the
/// binary for these ten fields (docs/static-binary.md).
#[derive(Debug, Default, PartialEq)]
struct Link {
    index: u32,
    /// `ifi_flags` (`IFF_*`).
    flags: u32,
    /// `ifi_type` (`ARPHRD_*`).
    link_type: u16,
    name: Option<String>,
    mtu: Option<u32>,
    operstate: Option<u8>,
    address: Option<Vec<u8>>,
    master: Option<u32>,
    /// `IFLA_LINK`: the lower device (a VLAN's, a veth's peer).
    parent: Option<u32>,
    /// `IFLA_INFO_KIND` of `IFLA_LINKINFO`.
    kind: Option<String>,
    /// `struct rtnl_link_stats64`, as many of its counters as were sent.
    stats64: Option<Vec<u64>>,
}

// linux/if_link.h
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINK: u16 = 5;
const IFLA_MASTER: u16 = 10;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_STATS64: u16 = 23;
const IFLA_INFO_KIND: u16 = 1;

impl Link {
    /// Parses the payload of one message (`struct ifinfomsg`, then its
    /// attributes).
    fn parse(payload: &[u8]) -> Result<Link, ReadError> {
        let header = payload
            .get(..16)
            .ok_or_else(|| ReadError::Failed("netlink message: link header truncated".into()))?;
        let u32_at = |b: &[u8], at: usize| {
            b.get(at..at + 4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        let mut link = Link {
            link_type: u16::from_ne_bytes([header[2], header[3]]),
            index: u32_at(header, 4).unwrap_or(0),
            flags: u32_at(header, 8).unwrap_or(0),
            ..Link::default()
        };
        for (kind, data) in attributes(&payload[16..]) {
            match kind {
                IFLA_IFNAME => link.name = Some(c_string(data)),
                IFLA_MTU => link.mtu = u32_at(data, 0),
                IFLA_OPERSTATE => link.operstate = data.first().copied(),
                IFLA_ADDRESS => link.address = Some(data.to_vec()),
                IFLA_MASTER => link.master = u32_at(data, 0),
                IFLA_LINK => link.parent = u32_at(data, 0),
                IFLA_LINKINFO => {
                    link.kind = attributes(data)
                        .find(|(k, _)| *k == IFLA_INFO_KIND)
                        .map(|(_, d)| c_string(d));
                }
                IFLA_STATS64 => {
                    link.stats64 = Some(
                        data.chunks_exact(8)
                            .map(|b| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])))
                            .collect(),
                    );
                }
                _ => {}
            }
        }
        Ok(link)
    }
}

/// The attributes (`struct rtattr`s) in `bytes`: each one's type (without
/// the `NLA_F_NESTED`/`NLA_F_NET_BYTEORDER` bits) and payload, up to the
/// first one whose length does not fit.
fn attributes(bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let len = usize::from(u16::from_ne_bytes([*rest.first()?, *rest.get(1)?]));
        let kind = u16::from_ne_bytes([*rest.get(2)?, *rest.get(3)?]) & 0x3fff;
        let data = rest.get(4..len)?;
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or(&[]);
        Some((kind, data))
    })
}

/// A NUL-terminated attribute string.
fn c_string(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

fn mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

const LINK_FLAGS: &[(u32, &str)] = &[
    (0x1, "UP"),
    (0x2, "BROADCAST"),
    (0x4, "DEBUG"),
    (0x8, "LOOPBACK"),
    (0x10, "POINTOPOINT"),
    (0x20, "NOTRAILERS"),
    (0x40, "RUNNING"),
    (0x80, "NOARP"),
    (0x100, "PROMISC"),
    (0x200, "ALLMULTI"),
    (0x400, "MASTER"),
    (0x800, "SLAVE"),
    (0x1000, "MULTICAST"),
    (0x10000, "LOWER_UP"),
    (0x20000, "DORMANT"),
];

const OPERSTATES: &[&str] = &[
    "UNKNOWN",
    "NOTPRESENT",
    "DOWN",
    "LOWERLAYERDOWN",
    "TESTING",
    "DORMANT",
    "UP",
];

fn link_type_name(kind: u16) -> &'static str {
    match kind {
        1 => "ether",
        772 => "loopback",
        512 => "ppp",
        768 | 776 | 778 | 823 => "ipip",
        65534 => "none",
        801 => "ieee802.11",
        32 => "infiniband",
        _ => "other",
    }
}

fn link_json(link: &Link, names: &HashMap<u32, String>) -> Value {
    let bits = link.flags;
    let up = bits & 0x1 != 0;
    let mut flags: Vec<&str> = LINK_FLAGS
        .iter()
        .filter(|(bit, name)| bits & bit != 0 && *name != "RUNNING")
        .map(|(_, name)| *name)
        .collect();
    if up && bits & 0x10000 == 0 {
        // What `ip link` shows for an interface that is up without carrier.
        flags.insert(0, "NO-CARRIER");
    }
    let mut map = Map::new();
    map.insert("ifindex".into(), json!(link.index));
    if let Some(name) = &link.name {
        map.insert("ifname".into(), json!(name));
    }
    if let Some(mtu) = link.mtu {
        map.insert("mtu".into(), json!(mtu));
    }
    if let Some(state) = link.operstate {
        map.insert(
            "operstate".into(),
            json!(OPERSTATES
                .get(usize::from(state))
                .copied()
                .unwrap_or("UNKNOWN")),
        );
    }
    if let Some(bytes) = &link.address {
        map.insert("address".into(), json!(mac(bytes)));
    }
    if let Some(kind) = &link.kind {
        map.insert("linkinfo".into(), json!({ "info_kind": kind }));
    }
    if let Some(s) = &link.stats64 {
        let n = |i: usize| s.get(i).copied().unwrap_or(0);
        map.insert(
            "stats64".into(),
            json!({
                "rx": {"bytes": n(2), "packets": n(0), "errors": n(4), "dropped": n(6), "over_errors": n(11), "multicast": n(8)},
                "tx": {"bytes": n(3), "packets": n(1), "errors": n(5), "dropped": n(7), "carrier_errors": n(17), "collisions": n(9)},
            }),
        );
    }
    map.insert("flags".into(), json!(flags));
    map.insert("link_type".into(), json!(link_type_name(link.link_type)));
    if let Some(name) = link.master.and_then(|i| names.get(&i)) {
        map.insert("master".into(), json!(name));
    }
    if let Some(index) = link.parent.filter(|i| *i != link.index) {
        // Another namespace's index (a veth peer) has no name here.
        match names.get(&index) {
            Some(name) => map.insert("link".into(), json!(name)),
            None => map.insert("link_index".into(), json!(index)),
        };
    }
    Value::Object(map)
}

fn family_name(family: AddressFamily) -> &'static str {
    match family {
        AddressFamily::Inet => "inet",
        AddressFamily::Inet6 => "inet6",
        _ => "other",
    }
}

fn scope_name(scope: u8) -> String {
    match scope {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}

const ADDR_FLAGS: &[(u32, &str)] = &[
    (0x01, "secondary"),
    (0x02, "nodad"),
    (0x04, "optimistic"),
    (0x08, "dadfailed"),
    (0x10, "home"),
    (0x20, "deprecated"),
    (0x40, "tentative"),
    (0x100, "mngtmpaddr"),
    (0x200, "noprefixroute"),
];

fn addr_info_json(addr: &AddressMessage) -> Option<Value> {
    let mut map = Map::new();
    map.insert("family".into(), json!(family_name(addr.header.family)));
    let mut local = None;
    let mut address = None;
    let mut flags = u32::from(addr.header.flags.bits());
    for attr in &addr.attributes {
        match attr {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Label(label) => {
                map.insert("label".into(), json!(label));
            }
            AddressAttribute::Flags(f) => flags = f.bits(),
            AddressAttribute::CacheInfo(info) => {
                map.insert("valid_life_time".into(), json!(info.ifa_valid));
                map.insert("preferred_life_time".into(), json!(info.ifa_preferred));
            }
            _ => {}
        }
    }
    // IPv4 puts the interface's own address in IFA_LOCAL (IFA_ADDRESS is
    // the peer on point-to-point links); IPv6 only sends IFA_ADDRESS.
    let ip: IpAddr = local.or(address)?;
    map.insert("local".into(), json!(ip.to_string()));
    map.insert("prefixlen".into(), json!(addr.header.prefix_len));
    map.insert(
        "scope".into(),
        json!(scope_name(u8::from(addr.header.scope))),
    );
    for (bit, name) in ADDR_FLAGS {
        if flags & bit != 0 {
            map.insert((*name).into(), json!(true));
        }
    }
    if flags & 0x80 == 0 && addr.header.family == AddressFamily::Inet6 {
        map.insert("dynamic".into(), json!(true));
    }
    Some(Value::Object(map))
}

fn protocol_name(protocol: u8) -> String {
    match protocol {
        0 => "unspec".into(),
        1 => "redirect".into(),
        2 => "kernel".into(),
        3 => "boot".into(),
        4 => "static".into(),
        8 => "gated".into(),
        9 => "ra".into(),
        10 => "mrt".into(),
        11 => "zebra".into(),
        12 => "bird".into(),
        16 => "dhcp".into(),
        18 => "keepalived".into(),
        42 => "babel".into(),
        186 => "bgp".into(),
        187 => "isis".into(),
        188 => "ospf".into(),
        189 => "rip".into(),
        192 => "eigrp".into(),
        n => n.to_string(),
    }
}

const ROUTE_TYPES: &[&str] = &[
    "unspec",
    "unicast",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
    "xresolve",
];

fn route_address(addr: &RouteAddress) -> Option<IpAddr> {
    match addr {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn table_json(table: u32) -> String {
    match table {
        254 => "main".into(),
        255 => "local".into(),
        253 => "default".into(),
        n => n.to_string(),
    }
}

fn route_json(route: &RouteMessage, names: &HashMap<u32, String>) -> Option<Value> {
    let family = family_name(route.header.address_family);
    if family == "other" {
        return None;
    }
    // The kernel's cached clones (RTM_F_CLONED) are not routes.
    if route.header.flags.bits() & 0x200 != 0 {
        return None;
    }
    let mut map = Map::new();
    let kind = u8::from(route.header.kind) as usize;
    let kind = ROUTE_TYPES.get(kind).copied().unwrap_or("unicast");
    if kind != "unicast" {
        map.insert("type".into(), json!(kind));
    }
    let mut dst = None;
    let mut table = u32::from(route.header.table);
    let mut gateway = None;
    let mut dev = None;
    let mut metric = None;
    let mut prefsrc = None;
    let mut nexthops = Vec::new();
    for attr in &route.attributes {
        match attr {
            RouteAttribute::Destination(a) => dst = route_address(a),
            RouteAttribute::Gateway(a) => gateway = route_address(a),
            RouteAttribute::Via(RouteVia::Inet(v4)) => gateway = Some(IpAddr::V4(*v4)),
            RouteAttribute::Via(RouteVia::Inet6(v6)) => gateway = Some(IpAddr::V6(*v6)),
            RouteAttribute::Oif(index) => dev = names.get(index).cloned(),
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Priority(p) => metric = Some(*p),
            RouteAttribute::PrefSource(a) => prefsrc = route_address(a),
            RouteAttribute::MultiPath(hops) => {
                for hop in hops {
                    let mut h = Map::new();
                    for a in &hop.attributes {
                        if let RouteAttribute::Gateway(g) = a {
                            if let Some(ip) = route_address(g) {
                                h.insert("gateway".into(), json!(ip.to_string()));
                            }
                        }
                    }
                    if let Some(name) = names.get(&hop.interface_index) {
                        h.insert("dev".into(), json!(name));
                    }
                    h.insert("weight".into(), json!(u32::from(hop.hops) + 1));
                    nexthops.push(Value::Object(h));
                }
            }
            _ => {}
        }
    }
    let prefix = route.header.destination_prefix_length;
    let dst = match dst {
        None if prefix == 0 => "default".to_string(),
        None => return None,
        Some(ip) if u32::from(prefix) == if ip.is_ipv4() { 32 } else { 128 } => ip.to_string(),
        Some(ip) => format!("{ip}/{prefix}"),
    };
    map.insert("dst".into(), json!(dst));
    map.insert("family".into(), json!(family));
    if let Some(gw) = gateway {
        map.insert("gateway".into(), json!(gw.to_string()));
    }
    if let Some(dev) = dev {
        map.insert("dev".into(), json!(dev));
    }
    if table != 254 {
        map.insert("table".into(), json!(table_json(table)));
    }
    let protocol = u8::from(route.header.protocol);
    if protocol != 3 {
        map.insert("protocol".into(), json!(protocol_name(protocol)));
    }
    let scope = u8::from(route.header.scope);
    if scope != 0 {
        map.insert("scope".into(), json!(scope_name(scope)));
    }
    if let Some(src) = prefsrc {
        map.insert("prefsrc".into(), json!(src.to_string()));
    }
    if let Some(metric) = metric {
        map.insert("metric".into(), json!(metric));
    }
    let mut flags = Vec::new();
    let bits = route.header.flags;
    if bits.contains(RouteFlags::Onlink) {
        flags.push("onlink");
    }
    if bits.contains(RouteFlags::Linkdown) {
        flags.push("linkdown");
    }
    if bits.contains(RouteFlags::Dead) {
        flags.push("dead");
    }
    map.insert("flags".into(), json!(flags));
    if !nexthops.is_empty() {
        map.insert("nexthops".into(), Value::Array(nexthops));
    }
    Some(Value::Object(map))
}

const NUD_STATES: &[(u16, &str)] = &[
    (0x01, "INCOMPLETE"),
    (0x02, "REACHABLE"),
    (0x04, "STALE"),
    (0x08, "DELAY"),
    (0x10, "PROBE"),
    (0x20, "FAILED"),
    (0x40, "NOARP"),
    (0x80, "PERMANENT"),
];

fn neigh_json(neigh: &NeighbourMessage, names: &HashMap<u32, String>) -> Option<Value> {
    let mut map = Map::new();
    let mut dst = None;
    for attr in &neigh.attributes {
        match attr {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => {
                dst = Some(IpAddr::V4(*v4));
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => {
                dst = Some(IpAddr::V6(*v6));
            }
            NeighbourAttribute::LinkLayerAddress(bytes) => {
                map.insert("lladdr".into(), json!(mac(bytes)));
            }
            _ => {}
        }
    }
    let dst = dst?;
    map.insert("dst".into(), json!(dst.to_string()));
    if let Some(dev) = names.get(&neigh.header.ifindex) {
        map.insert("dev".into(), json!(dev));
    }
    if neigh.header.flags.contains(NeighbourFlags::Router) {
        map.insert("router".into(), Value::Null);
    }
    let bits = u16::from(neigh.header.state);
    let states: Vec<&str> = NUD_STATES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    map.insert(
        "state".into(),
        json!(if states.is_empty() {
            vec!["NONE"]
        } else {
            states
        }),
    );
    Some(Value::Object(map))
}

const RULE_ACTIONS: &[&str] = &[
    "unspec",
    "to_tbl",
    "goto",
    "nop",
    "res3",
    "res4",
    "blackhole",
    "unreachable",
    "prohibit",
];

fn rule_json(rule: &RuleMessage) -> Value {
    let mut map = Map::new();
    let mut priority = 0;
    let mut table = u32::from(rule.header.table);
    let mut src = None;
    let mut dst = None;
    for attr in &rule.attributes {
        match attr {
            RuleAttribute::Priority(p) => priority = *p,
            RuleAttribute::Table(t) => table = *t,
            RuleAttribute::Source(ip) => src = Some(*ip),
            RuleAttribute::Destination(ip) => dst = Some(*ip),
            RuleAttribute::Iifname(name) => {
                map.insert("iif".into(), json!(name));
            }
            RuleAttribute::Oifname(name) => {
                map.insert("oif".into(), json!(name));
            }
            RuleAttribute::FwMark(mark) => {
                map.insert("fwmark".into(), json!(format!("{mark:#x}")));
            }
            _ => {}
        }
    }
    map.insert("priority".into(), json!(priority));
    match src {
        Some(ip) => {
            map.insert("src".into(), json!(ip.to_string()));
            map.insert("srclen".into(), json!(rule.header.src_len));
        }
        None => {
            map.insert("src".into(), json!("all"));
        }
    }
    if let Some(ip) = dst {
        map.insert("dst".into(), json!(ip.to_string()));
        map.insert("dstlen".into(), json!(rule.header.dst_len));
    }
    let action = u8::from(rule.header.action) as usize;
    if action == 1 {
        map.insert("table".into(), json!(table_json(table)));
    } else {
        map.insert(
            "action".into(),
            json!(RULE_ACTIONS.get(action).copied().unwrap_or("unknown")),
        );
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One attribute as the kernel writes it: length, type, payload,
    /// padded to four bytes.
    fn attr(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&u16::try_from(4 + data.len()).expect("short").to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    }

    /// An `RTM_NEWLINK` payload of a veth that is up without carrier,
    /// enslaved to ifindex 3, its peer ifindex 9.
    fn veth() -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&[0, 0]); // family, pad
        p.extend_from_slice(&1u16.to_ne_bytes()); // ARPHRD_ETHER
        p.extend_from_slice(&7i32.to_ne_bytes());
        p.extend_from_slice(&(0x1u32 | 0x2 | 0x1000).to_ne_bytes()); // UP BROADCAST MULTICAST
        p.extend_from_slice(&0u32.to_ne_bytes());
        p.extend(attr(IFLA_IFNAME, b"eth0\0"));
        p.extend(attr(IFLA_MTU, &1400u32.to_ne_bytes()));
        p.extend(attr(IFLA_OPERSTATE, &[2]));
        p.extend(attr(IFLA_ADDRESS, &[2, 0, 0x5e, 0x10, 0, 1]));
        p.extend(attr(IFLA_MASTER, &3u32.to_ne_bytes()));
        p.extend(attr(IFLA_LINK, &9u32.to_ne_bytes()));
        p.extend(attr(
            IFLA_LINKINFO | 0x8000,
            &attr(IFLA_INFO_KIND, b"veth\0"),
        ));
        let stats: Vec<u8> = (0..24u64).flat_map(|i| (i * 10).to_ne_bytes()).collect();
        p.extend(attr(IFLA_STATS64, &stats));
        p
    }

    #[test]
    fn a_link_message_parses_to_what_ip_shows() {
        let link = Link::parse(&veth()).expect("parses");
        assert_eq!((link.index, link.link_type, link.mtu), (7, 1, Some(1400)));
        assert_eq!(link.name.as_deref(), Some("eth0"));
        assert_eq!(link.kind.as_deref(), Some("veth"));
        assert_eq!(
            (link.master, link.parent, link.operstate),
            (Some(3), Some(9), Some(2))
        );
        let names = HashMap::from([(3, "br0".to_string())]);
        let json = link_json(&link, &names);
        assert_eq!(json["ifname"], "eth0");
        assert_eq!(json["operstate"], "DOWN");
        assert_eq!(json["address"], "02:00:5e:10:00:01");
        assert_eq!(json["master"], "br0");
        // The peer is in another namespace: an index, not a name.
        assert_eq!(json["link_index"], 9);
        assert_eq!(json["linkinfo"]["info_kind"], "veth");
        assert_eq!(json["flags"][0], "NO-CARRIER");
        assert_eq!(json["stats64"]["rx"]["bytes"], 20);
        assert_eq!(json["stats64"]["tx"]["carrier_errors"], 170);
    }

    /// Cut anywhere, or given garbage, the parser never panics: a header
    /// too short is an error, attributes that do not fit are left out.
    #[test]
    fn truncated_and_garbage_link_messages_do_not_panic() {
        let whole = veth();
        for len in 0..whole.len() {
            match Link::parse(&whole[..len]) {
                Err(_) => assert!(len < 16, "{len}"),
                Ok(link) => assert_eq!(link.index, 7),
            }
        }
        let mut garbage = whole[..16].to_vec();
        // A zero-length attribute, one shorter than its header, one
        // longer than what is left, a nested one with garbage inside.
        garbage.extend_from_slice(&[0, 0, 3, 0]);
        assert_eq!(Link::parse(&garbage).expect("header").name, None);
        let mut garbage = whole[..16].to_vec();
        garbage.extend_from_slice(&[2, 0, 3, 0, 0xff, 0xff, 3, 0]);
        assert_eq!(Link::parse(&garbage).expect("header").name, None);
        let mut garbage = whole[..16].to_vec();
        garbage.extend(attr(IFLA_LINKINFO, &[9, 0, 1, 0, 0xff]));
        garbage.extend(attr(IFLA_STATS64, &[1, 2, 3]));
        garbage.extend(attr(IFLA_IFNAME, &[0xff, 0xfe]));
        let link = Link::parse(&garbage).expect("header");
        assert_eq!(link.kind, None);
        assert_eq!(link.stats64, Some(Vec::new()));
        assert_eq!(link.name.as_deref(), Some("\u{fffd}\u{fffd}"));
        let json = link_json(&link, &HashMap::new());
        assert_eq!(json["stats64"]["rx"]["bytes"], 0);
    }
}
