//! The sockets of a snapshot: every `/proc/net/{tcp,tcp6,udp,udp6}` table
//! read with [`crate::parse::net::procnet::sockets`], who listens where,
//! how many connections sit in each TCP state (SYN_RECV for a SYN flood),
//! and which process owns a socket when the caller knows the
//! `/proc/<pid>/fd` links. A sosreport without `/proc/net` gives the same
//! sockets from `ss -peaonmi` or `netstat -W -neopa`, with their
//! processes ([`SOCKET_LISTINGS`]).

use crate::model::Note;
use crate::parse::net::netstat::parse_netstat_sockets;
use crate::parse::net::procnet::sockets::{parse_proc_net_sockets, Socket};
use crate::parse::net::ss::parse_ss_sockets;
use crate::source::snapshot::Snapshot;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

/// The socket tables diag reads, with the protocol each one holds.
pub const SOCKET_INPUTS: [(&str, &str); 4] = [
    ("proc/net/tcp", "tcp"),
    ("proc/net/tcp6", "tcp"),
    ("proc/net/udp", "udp"),
    ("proc/net/udp6", "udp"),
];

/// The sockets that accept traffic: TCP listeners and unconnected UDP
/// sockets, in input order.
pub fn listeners(sockets: &[Socket]) -> Vec<&Socket> {
    sockets.iter().filter(|s| s.listening).collect()
}

/// How many sockets of protocol `proto` (`tcp` or `udp`) are in each state.
pub fn count_by_state(sockets: &[Socket], proto: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for socket in sockets.iter().filter(|s| s.proto == proto) {
        *counts.entry(socket.state.clone()).or_insert(0) += 1;
    }
    counts
}

/// The listening socket of protocol `proto` that accepts traffic sent to
/// `addr:port`, if any: one bound to exactly that address (an IPv4 address
/// and its IPv4-mapped IPv6 form count as the same), else one bound to the
/// wildcard (`0.0.0.0` for IPv4; `::` for IPv6, and for IPv4 too since
/// an IPv6 wildcard socket is dual-stack unless `IPV6_V6ONLY` was set,
/// which `/proc/net` does not show).
pub fn listener_for<'a>(
    sockets: &'a [Socket],
    proto: &str,
    addr: IpAddr,
    port: u16,
) -> Option<&'a Socket> {
    let wanted = canonical(addr);
    let mut wildcard = None;
    for socket in sockets {
        if !socket.listening || socket.proto != proto || socket.port != port {
            continue;
        }
        let local = canonical(socket.local);
        if local == wanted {
            return Some(socket);
        }
        let covers = match (local, wanted) {
            (IpAddr::V4(l), IpAddr::V4(_)) => l.is_unspecified(),
            (IpAddr::V6(l), _) => l.is_unspecified(),
            (IpAddr::V4(_), IpAddr::V6(_)) => false,
        };
        if covers && wildcard.is_none() {
            wildcard = Some(socket);
        }
    }
    wildcard
}

/// An IPv4-mapped IPv6 address as the IPv4 address it stands for.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => addr,
        },
        v4 => v4,
    }
}

/// Every socket of a snapshot and the counts rules read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SocketTable {
    /// Canonical names of the tables read.
    pub inputs: Vec<String>,
    /// Every socket, table by table, in input order.
    pub sockets: Vec<Socket>,
    /// TCP sockets per state name.
    pub tcp_states: BTreeMap<String, u64>,
    /// UDP sockets per state name (`CLOSE`: unconnected, `ESTABLISHED`:
    /// connected).
    pub udp_states: BTreeMap<String, u64>,
    /// Half-open TCP connections (SYN_RECV), the first thing to look at
    /// for a SYN flood.
    pub syn_recv: u64,
    /// SYN_RECV connections per local port: a flood aims at one service.
    pub syn_recv_by_port: BTreeMap<u16, u64>,
}

impl SocketTable {
    /// Builds the table and its counts from parsed sockets.
    pub fn new(inputs: Vec<String>, sockets: Vec<Socket>) -> Self {
        let mut syn_recv_by_port = BTreeMap::new();
        for socket in &sockets {
            if socket.proto == "tcp" && socket.state == "SYN_RECV" {
                *syn_recv_by_port.entry(socket.port).or_insert(0) += 1;
            }
        }
        SocketTable {
            inputs,
            tcp_states: count_by_state(&sockets, "tcp"),
            udp_states: count_by_state(&sockets, "udp"),
            syn_recv: syn_recv_by_port.values().sum(),
            syn_recv_by_port,
            sockets,
        }
    }
}

/// A socket listing of the commands that print every TCP and UDP socket
/// with its process (a sosreport's), read only when the snapshot has no
/// [`SOCKET_INPUTS`] table; the first one present is read.
pub const SOCKET_LISTINGS: [&str; 2] = ["commands/ss_-peaonmi", "commands/netstat_-neopa"];

/// Parses the socket tables of a snapshot ([`SOCKET_INPUTS`]), else the
/// first of [`SOCKET_LISTINGS`] it holds (`ss`, `netstat`: the same
/// sockets, and who holds them).
pub fn from_snapshot(snapshot: &Snapshot) -> (SocketTable, Vec<Note>) {
    let mut inputs = Vec::new();
    let mut sockets = Vec::new();
    let mut notes = Vec::new();
    for (name, proto) in SOCKET_INPUTS {
        if let Some(text) = snapshot.text(name) {
            let (more, more_notes) = parse_proc_net_sockets(name, proto, &text);
            inputs.push(name.to_string());
            sockets.extend(more);
            notes.extend(more_notes);
        }
    }
    if inputs.is_empty() {
        if let Some((name, text)) = SOCKET_LISTINGS
            .iter()
            .find_map(|name| Some((*name, snapshot.text(name)?)))
        {
            let (more, more_notes) = match name {
                "commands/ss_-peaonmi" => parse_ss_sockets(name, &text),
                _ => parse_netstat_sockets(name, &text),
            };
            inputs.push(name.to_string());
            sockets.extend(more);
            notes.extend(more_notes);
        }
    }
    (SocketTable::new(inputs, sockets), notes)
}

/// The socket inodes one process holds open, as read from the
/// `socket:[inode]` links under `/proc/<pid>/fd` (see [`parse_fd_link`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProcessSockets {
    /// Process id.
    pub pid: u32,
    /// Command name from `/proc/<pid>/comm`, trailing newline removed.
    pub comm: String,
    /// Inodes of the sockets it holds.
    pub inodes: Vec<u64>,
}

pub use crate::parse::net::procnet::sockets::SocketOwner;

/// The inode of a `/proc/<pid>/fd/<n>` link target such as `socket:[1649]`;
/// `None` for anything that is not a socket.
pub fn parse_fd_link(target: &str) -> Option<u64> {
    target
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Who holds each socket: for every inode of `sockets` that some process
/// holds, the processes (several after `fork`), in the order given.
/// Linear in the number of sockets plus the number of inodes listed.
pub fn owners_by_inode(
    sockets: &[Socket],
    processes: &[ProcessSockets],
) -> HashMap<u64, Vec<SocketOwner>> {
    let wanted: HashSet<u64> = sockets
        .iter()
        .map(|s| s.inode)
        .filter(|&inode| inode != 0)
        .collect();
    let mut owners: HashMap<u64, Vec<SocketOwner>> = HashMap::new();
    for process in processes {
        for inode in &process.inodes {
            if wanted.contains(inode) {
                let list = owners.entry(*inode).or_default();
                if !list.iter().any(|o| o.pid == process.pid) {
                    list.push(SocketOwner {
                        pid: process.pid,
                        comm: process.comm.clone(),
                    });
                }
            }
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured on the development VM (Linux 6.18, x86_64) while
    // loopback-only test sockets were open; see
    // parse/net/procnet/testdata/README.md.
    const TCP: &str = include_str!("../../../diag-parse/src/net/procnet/testdata/proc_net_tcp");
    const TCP6: &str = include_str!("../../../diag-parse/src/net/procnet/testdata/proc_net_tcp6");
    const UDP: &str = include_str!("../../../diag-parse/src/net/procnet/testdata/proc_net_udp");

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().expect("ipv4"))
    }

    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse().expect("ipv6"))
    }

    #[test]
    fn listener_lookup_understands_wildcards_and_mapped_addresses() {
        let mut sockets = parse_proc_net_sockets("proc/net/tcp", "tcp", TCP).0;
        sockets.extend(parse_proc_net_sockets("proc/net/tcp6", "tcp6", TCP6).0);
        let found = |addr: IpAddr, port| listener_for(&sockets, "tcp", addr, port).map(|s| s.line);
        // 127.0.0.1:9090 is served by the v4-mapped listener.
        assert_eq!(found(v4("127.0.0.1"), 9090), Some(2));
        assert_eq!(found(v6("::ffff:127.0.0.1"), 8080), Some(3));
        // [::]:2222 is dual-stack; 0.0.0.0:2024 covers IPv4 only.
        assert_eq!(found(v4("192.0.2.7"), 2222), Some(4));
        assert_eq!(found(v4("192.0.2.7"), 2024), Some(2));
        assert_eq!(found(v6("2001:db8::1"), 2024), None);
        assert_eq!(found(v4("192.0.2.7"), 8080), None);
        assert_eq!(found(v6("::1"), 8443), Some(3));
        assert_eq!(listener_for(&sockets, "udp", v4("127.0.0.1"), 8080), None);
        assert_eq!(listeners(&sockets).len(), 5);
    }

    #[test]
    fn counts_by_state_and_syn_recv_per_port() {
        let header = TCP.lines().next().expect("header");
        let mut text = format!("{header}\n");
        for (i, port) in [(0, 443), (1, 443), (2, 443), (3, 22)] {
            let remote: u32 = 0x0A | ((i + 1) << 24); // 10.0.0.(i+1)
                                                      // A request socket as get_openreq4() prints it.
            text.push_str(&format!(
                "{i:4}: 070200C0:{port:04X} {remote:08X}:C350 03 00000000:00000000 01:00000064 00000000     0        0 0 1 0000000000000000\n"
            ));
        }
        text.push_str(TCP.lines().nth(2).expect("listener"));
        let snapshot =
            Snapshot::from_inputs([("proc/net/tcp", text), ("proc/net/udp", UDP.into())]);
        let (table, notes) = from_snapshot(&snapshot);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(table.inputs, ["proc/net/tcp", "proc/net/udp"]);
        assert_eq!(table.syn_recv, 4);
        assert_eq!(table.syn_recv_by_port, BTreeMap::from([(22, 1), (443, 3)]));
        assert_eq!(
            table.tcp_states,
            BTreeMap::from([("LISTEN".into(), 1), ("SYN_RECV".into(), 4)])
        );
        assert_eq!(
            table.udp_states,
            BTreeMap::from([("CLOSE".into(), 1), ("ESTABLISHED".into(), 1)])
        );
        assert_eq!(table.sockets[0].remote, v4("10.0.0.1"));
        assert_eq!(table.sockets[0].local, v4("192.0.2.7"));
    }

    #[test]
    fn ss_or_netstat_only_when_proc_net_is_missing() {
        let ss = include_str!("../../../diag-parse/src/net/testdata/ss_-peaonmi");
        let netstat = include_str!("../../../diag-parse/src/net/testdata/netstat_-W_-neopa");
        let (table, _) = from_snapshot(&Snapshot::from_inputs([
            ("proc/net/tcp", TCP.to_string()),
            ("commands/ss_-peaonmi", ss.to_string()),
        ]));
        assert_eq!(table.inputs, ["proc/net/tcp"]);
        let (table, notes) = from_snapshot(&Snapshot::from_inputs([
            ("commands/netstat_-neopa", netstat.to_string()),
            ("commands/ss_-peaonmi", ss.to_string()),
        ]));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(table.inputs, ["commands/ss_-peaonmi"]);
        assert_eq!(table.tcp_states["LISTEN"], 4);
        assert_eq!(table.udp_states["CLOSE"], 2);
        let (table, _) = from_snapshot(&Snapshot::from_inputs([(
            "commands/netstat_-neopa",
            netstat.to_string(),
        )]));
        assert_eq!(table.inputs, ["commands/netstat_-neopa"]);
        assert_eq!(listeners(&table.sockets)[1].owners[0].comm, "python3");
    }

    #[test]
    fn hundred_thousand_sockets_parse() {
        let header = TCP.lines().next().expect("header");
        let mut text = format!("{header}\n");
        for i in 0..100_000u32 {
            text.push_str(&format!(
                "{i:4}: 0100007F:1F90 {:08X}:{:04X} 01 00000000:00000000 00:00000000 00000000     0        0 {} 1 0000000000000000 20 4 30 10 -1\n",
                i.swap_bytes(),
                i % 65536,
                i + 1
            ));
        }
        let (sockets, notes) = parse_proc_net_sockets("proc/net/tcp", "tcp", &text);
        assert!(notes.is_empty());
        assert_eq!(sockets.len(), 100_000);
        let table = SocketTable::new(vec![], sockets);
        assert_eq!(table.tcp_states["ESTABLISHED"], 100_000);
    }

    #[test]
    fn fd_links_and_owners() {
        assert_eq!(parse_fd_link("socket:[206747]"), Some(206747));
        assert_eq!(parse_fd_link("pipe:[206747]"), None);
        assert_eq!(parse_fd_link("socket:[]"), None);
        assert_eq!(parse_fd_link("/dev/null"), None);
        let (sockets, _) = parse_proc_net_sockets("proc/net/tcp", "tcp", TCP);
        let processes = [
            ProcessSockets {
                pid: 10,
                comm: "nginx".into(),
                inodes: vec![206747, 206747, 999],
            },
            ProcessSockets {
                pid: 11,
                comm: "nginx".into(),
                inodes: vec![206747],
            },
            ProcessSockets {
                pid: 12,
                comm: "sshd".into(),
                inodes: vec![1649, 0],
            },
        ];
        let owners = owners_by_inode(&sockets, &processes);
        let pids = |inode| -> Vec<u32> { owners[&inode].iter().map(|o| o.pid).collect() };
        assert_eq!(pids(206747), [10, 11]);
        assert_eq!(owners[&1649][0].comm, "sshd");
        assert!(!owners.contains_key(&999) && !owners.contains_key(&0));
    }
}
