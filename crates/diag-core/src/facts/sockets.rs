//! Sockets from `/proc/net/{tcp,tcp6,udp,udp6}`: who listens where, how
//! many connections sit in each TCP state (SYN_RECV for a SYN flood), and
//! which process owns a socket when the caller knows the `/proc/<pid>/fd`
//! links.
//!
//! The kernel prints each address as 32-bit words in host byte order
//! (`0100007F` is 127.0.0.1 on x86). diag reads them as little-endian, like
//! [`crate::parse::net`] does for `/proc/net/route`: every machine diag targets is
//! little-endian, and a bundle may be analysed on another machine than the
//! one it came from, so the analysing machine's byte order must not matter.

use crate::model::Note;
use crate::source::snapshot::Snapshot;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The socket tables diag reads, with the protocol each one holds.
pub const SOCKET_INPUTS: [(&str, &str); 4] = [
    ("proc/net/tcp", "tcp"),
    ("proc/net/tcp6", "tcp"),
    ("proc/net/udp", "udp"),
    ("proc/net/udp6", "udp"),
];

/// At most this many malformed-line notes per input; the rest are counted
/// in one more note. A garbled 100k-line table must not bury every other
/// note of the diagnosis.
const MAX_LINE_NOTES: usize = 20;

/// One socket, one line of a `/proc/net/{tcp,tcp6,udp,udp6}` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Socket {
    /// `tcp` or `udp` (for both address families).
    pub proto: String,
    /// Local address. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.7`) are
    /// kept as the kernel shows them, as IPv6.
    pub local: IpAddr,
    /// Local port.
    pub port: u16,
    /// Remote address; unspecified (`0.0.0.0` or `::`) when not connected.
    pub remote: IpAddr,
    /// Remote port; 0 when not connected.
    pub remote_port: u16,
    /// State name from `include/net/tcp_states.h` (`LISTEN`,
    /// `ESTABLISHED`, `SYN_RECV`, ...). Half-open connections (request
    /// sockets) are shown by the kernel as `SYN_RECV`. An unconnected UDP
    /// socket is `CLOSE`, a connected one `ESTABLISHED`. A code this
    /// version does not know is kept as `UNKNOWN_<hex>`.
    pub state: String,
    /// A TCP socket in `LISTEN`, or a UDP socket bound with no remote end
    /// (`0:0`): something that accepts traffic sent to `local:port`.
    pub listening: bool,
    /// Owner's user id.
    pub uid: u32,
    /// Socket inode, matches the `socket:[inode]` link under
    /// `/proc/<pid>/fd`; 0 for TIME_WAIT and request sockets.
    pub inode: u64,
    /// Bytes in the send queue (TCP: unacknowledged).
    pub tx_queue: u64,
    /// Bytes in the receive queue; for a TCP listener, the number of
    /// connections waiting in the accept queue.
    pub rx_queue: u64,
    /// Datagrams the socket dropped (UDP only; 0 for TCP).
    pub drops: u64,
    /// Canonical input name.
    pub input: String,
    /// 1-based line in the input.
    pub line: u32,
    /// The raw line, trailing padding removed.
    pub excerpt: String,
}

/// The name of a TCP state code as in `include/net/tcp_states.h`.
pub fn tcp_state_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0x01 => "ESTABLISHED",
        0x02 => "SYN_SENT",
        0x03 => "SYN_RECV",
        0x04 => "FIN_WAIT1",
        0x05 => "FIN_WAIT2",
        0x06 => "TIME_WAIT",
        0x07 => "CLOSE",
        0x08 => "CLOSE_WAIT",
        0x09 => "LAST_ACK",
        0x0A => "LISTEN",
        0x0B => "CLOSING",
        0x0C => "NEW_SYN_RECV",
        0x0D => "BOUND_INACTIVE",
        _ => return None,
    })
}

/// Parses one `/proc/net/{tcp,tcp6,udp,udp6}` table. `proto` is the file's
/// name (`tcp`, `tcp6`, `udp` or `udp6`); `Socket::proto` is `tcp` or
/// `udp`. Linear in the size of the input.
pub fn parse_proc_net_sockets(input: &str, proto: &str, text: &str) -> (Vec<Socket>, Vec<Note>) {
    let mut sockets = Vec::new();
    let mut notes = Vec::new();
    let proto = match proto {
        "tcp" | "tcp6" => "tcp",
        "udp" | "udp6" => "udp",
        other => {
            notes.push(Note::input(
                input,
                format!("unknown socket protocol {other:?} (expected tcp, tcp6, udp or udp6)"),
            ));
            return (sockets, notes);
        }
    };
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim_start().starts_with("sl ") => {}
        Some(_) => {
            notes.push(Note::line(input, 1, "header does not start with 'sl'"));
            return (sockets, notes);
        }
        None => {
            notes.push(Note::input(input, "empty file (not even the header)"));
            return (sockets, notes);
        }
    }
    let mut malformed = 0usize;
    for (index, raw) in lines {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match parse_socket_line(proto, raw) {
            Ok(mut socket) => {
                socket.input = input.to_string();
                socket.line = u32::try_from(line).unwrap_or(u32::MAX);
                sockets.push(socket);
            }
            Err(message) => {
                malformed += 1;
                if malformed <= MAX_LINE_NOTES {
                    notes.push(Note::line(input, line, message));
                }
            }
        }
    }
    if malformed > MAX_LINE_NOTES {
        notes.push(Note::input(
            input,
            format!(
                "{} more malformed lines not listed",
                malformed - MAX_LINE_NOTES
            ),
        ));
    }
    (sockets, notes)
}

/// Fields every socket line has, up to and including the socket pointer:
/// `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer`
/// (TIME_WAIT and request sockets stop there; a line with fewer was cut).
const MIN_FIELDS: usize = 12;

fn parse_socket_line(proto: &str, raw: &str) -> Result<Socket, String> {
    let mut fields = [""; MIN_FIELDS + 1];
    let mut count = 0;
    for field in raw.split_whitespace() {
        if count < fields.len() {
            fields[count] = field;
        }
        count += 1;
    }
    if count < MIN_FIELDS {
        return Err(format!(
            "expected at least {MIN_FIELDS} columns, found {count} (line cut short?)"
        ));
    }
    let slot = fields[0];
    if !slot
        .strip_suffix(':')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("expected a slot number like '0:', got {slot:?}"));
    }
    let (local, port) = endpoint(fields[1]).ok_or("malformed local address")?;
    let (remote, remote_port) = endpoint(fields[2]).ok_or("malformed remote address")?;
    let code = hex_u8(fields[3]).ok_or("malformed state (expected 2 hex digits)")?;
    let state = match tcp_state_name(code) {
        Some(name) => name.to_string(),
        None => format!("UNKNOWN_{code:02X}"),
    };
    let (tx_queue, rx_queue) = fields[4]
        .split_once(':')
        .and_then(|(tx, rx)| Some((hex_u64(tx)?, hex_u64(rx)?)))
        .ok_or("malformed tx_queue:rx_queue")?;
    let uid = fields[7].parse::<u32>().map_err(|_| "malformed uid")?;
    let inode = fields[9].parse::<u64>().map_err(|_| "malformed inode")?;
    let drops = if proto == "udp" && count > MIN_FIELDS {
        fields[MIN_FIELDS]
            .parse::<u64>()
            .map_err(|_| "malformed drops")?
    } else {
        0
    };
    let listening = match proto {
        "tcp" => code == 0x0A,
        _ => remote.is_unspecified() && remote_port == 0,
    };
    Ok(Socket {
        proto: proto.to_string(),
        local,
        port,
        remote,
        remote_port,
        state,
        listening,
        uid,
        inode,
        tx_queue,
        rx_queue,
        drops,
        input: String::new(),
        line: 0,
        excerpt: raw.trim_end().to_string(),
    })
}

/// `0100007F:1F90` or `00000000000000000000000001000000:20FB`.
fn endpoint(field: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = field.split_once(':')?;
    if port.len() != 4 {
        return None;
    }
    let port = u16::try_from(hex_u64(port)?).ok()?;
    let addr = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(hex_u32(addr)?.to_le_bytes())),
        32 => {
            let mut bytes = [0u8; 16];
            for (word, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                let hex = addr.get(word * 8..word * 8 + 8)?;
                chunk.copy_from_slice(&hex_u32(hex)?.to_le_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((addr, port))
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex_u32(s: &str) -> Option<u32> {
    if s.len() == 8 && is_hex(s) {
        u32::from_str_radix(s, 16).ok()
    } else {
        None
    }
}

fn hex_u64(s: &str) -> Option<u64> {
    if is_hex(s) {
        u64::from_str_radix(s, 16).ok()
    } else {
        None
    }
}

fn hex_u8(s: &str) -> Option<u8> {
    if s.len() == 2 && is_hex(s) {
        u8::from_str_radix(s, 16).ok()
    } else {
        None
    }
}

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

/// Parses the socket tables of a snapshot ([`SOCKET_INPUTS`]).
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

/// A process that holds a socket open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SocketOwner {
    /// Process id.
    pub pid: u32,
    /// Command name.
    pub comm: String,
}

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

    // All four captured on the development VM (Linux 6.18, x86_64) while
    // loopback-only test sockets were open; see testdata/README.md.
    const TCP: &str = include_str!("testdata/proc_net_tcp");
    const TCP6: &str = include_str!("testdata/proc_net_tcp6");
    const UDP: &str = include_str!("testdata/proc_net_udp");
    const UDP6: &str = include_str!("testdata/proc_net_udp6");

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().expect("ipv4"))
    }

    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse().expect("ipv6"))
    }

    #[test]
    fn tcp_listeners_and_connections() {
        let (sockets, notes) = parse_proc_net_sockets("proc/net/tcp", "tcp", TCP);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(sockets.len(), 4);
        let s = &sockets[1];
        assert_eq!(
            (s.local, s.port, s.state.as_str()),
            (v4("127.0.0.1"), 8080, "LISTEN")
        );
        assert!(s.listening);
        assert_eq!(
            (s.inode, s.line, s.input.as_str()),
            (206747, 3, "proc/net/tcp")
        );
        assert!(s.excerpt.starts_with("   1: 0100007F:1F90") && !s.excerpt.ends_with(' '));
        let server = &sockets[2];
        assert_eq!(
            (
                server.state.as_str(),
                server.remote,
                server.remote_port,
                server.rx_queue
            ),
            ("ESTABLISHED", v4("127.0.0.1"), 54440, 5)
        );
        assert!(!server.listening);
        assert_eq!(sockets[0].port, 2024);
        assert!(sockets[0].local.is_unspecified());
    }

    #[test]
    fn tcp6_byte_order() {
        let (sockets, notes) = parse_proc_net_sockets("proc/net/tcp6", "tcp6", TCP6);
        assert!(notes.is_empty(), "{notes:?}");
        let found: Vec<(IpAddr, u16, &str)> = sockets
            .iter()
            .map(|s| (s.local, s.port, s.state.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (v6("::ffff:127.0.0.1"), 9090, "LISTEN"),
                (v6("::1"), 8443, "LISTEN"),
                (v6("::"), 2222, "LISTEN"),
                (v6("::1"), 51034, "TIME_WAIT"),
                (v6("::1"), 51050, "ESTABLISHED"),
                (v6("::1"), 8443, "ESTABLISHED"),
            ]
        );
        assert_eq!(sockets[3].inode, 0);
        assert!(sockets.iter().all(|s| s.proto == "tcp"));
    }

    #[test]
    fn ipv6_addresses_are_four_little_endian_words() {
        // Lines in the kernel's format with addresses encoded the way
        // `%08X` of each `s6_addr32` word prints them on x86 (computed with
        // Python: struct.unpack('<IIII', inet_pton(AF_INET6, addr))).
        let text = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF0000070200C0:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 100 1 0000000000000000 100 0 0 10 0
   1: 000080FE00000000FF00FC00010000FE:0016 B80D0120000000000000000001000000:C350 01 00000000:00000000 00:00000000 00000000  1000        0 101 1 0000000000000000 20 4 30 10 -1
";
        let (sockets, notes) = parse_proc_net_sockets("proc/net/tcp6", "tcp6", text);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(sockets[0].local, v6("::ffff:192.0.2.7"));
        assert_eq!(sockets[1].local, v6("fe80::fc:ff:fe00:1"));
        assert_eq!(sockets[1].remote, v6("2001:db8::1"));
        assert_eq!(
            (sockets[1].port, sockets[1].remote_port, sockets[1].uid),
            (22, 50000, 1000)
        );
    }

    #[test]
    fn udp_bound_is_listening_connected_is_not() {
        let (sockets, notes) = parse_proc_net_sockets("proc/net/udp", "udp", UDP);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(sockets.len(), 2);
        let bound = &sockets[0];
        assert_eq!(
            (
                bound.proto.as_str(),
                bound.port,
                bound.state.as_str(),
                bound.rx_queue
            ),
            ("udp", 5353, "CLOSE", 832)
        );
        assert!(bound.listening);
        assert_eq!(sockets[1].state, "ESTABLISHED");
        assert!(!sockets[1].listening);
        let (sockets, notes) = parse_proc_net_sockets("proc/net/udp6", "udp6", UDP6);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!((sockets[0].local, sockets[0].port), (v6("::"), 5354));
        assert!(sockets[0].listening);
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
    fn truncated_table_keeps_whole_lines_and_notes_the_cut_one() {
        // Cut in the middle of the inode column of the last line.
        let cut = &TCP[..TCP.find("206752").expect("inode") + 3];
        let (sockets, notes) = parse_proc_net_sockets("proc/net/tcp", "tcp", cut);
        assert_eq!(sockets.len(), 2);
        assert_eq!(notes.len(), 1);
        assert_eq!(
            (notes[0].line, notes[0].input.as_str()),
            (Some(4), "proc/net/tcp")
        );
        assert!(
            notes[0].message.contains("cut short"),
            "{}",
            notes[0].message
        );
        // Cut in the middle of an address.
        let cut = &TCP6[..TCP6.find("FFFF0000").expect("mapped")];
        let (sockets, notes) = parse_proc_net_sockets("proc/net/tcp6", "tcp6", cut);
        assert!(sockets.is_empty());
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].line, Some(2));
    }

    #[test]
    fn garbage_is_noted_and_never_panics() {
        let header = TCP.lines().next().expect("header");
        let bad = [
            "   9: 0100007F:1F90 00000000:0000 ZZ 00000000:00000000 00:00000000 00000000     0        0 1 1 0",
            "   9: 0100007F:1F9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0",
            "   9: 0100007:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0",
            "   9: +100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0",
            "   9: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000    -1        0 1 1 0",
            "   9: 0100007F:1F90 00000000:0000 0A 00000000 00:00000000 00000000     0        0 1 1 0",
            "   9: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 x 1 0",
            "nine: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0",
            "   9: 0100007F:1F90 0000000000000000000000000000000é:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0",
            "\u{0}\u{1}garbage",
        ];
        let text = format!(
            "{header}\n{}\n{}",
            bad.join("\n"),
            TCP.lines().nth(1).expect("line")
        );
        let (sockets, notes) = parse_proc_net_sockets("proc/net/tcp", "tcp", &text);
        assert_eq!(sockets.len(), 1, "{sockets:?}");
        assert_eq!(sockets[0].line, 12);
        let lines: Vec<Option<u32>> = notes.iter().map(|n| n.line).collect();
        assert_eq!(lines, (2..=11).map(Some).collect::<Vec<_>>());

        let (sockets, notes) = parse_proc_net_sockets("proc/net/tcp", "tcp", "garbage\n1: 2 3\n");
        assert!(sockets.is_empty());
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].line, Some(1));
        let (_, notes) = parse_proc_net_sockets("proc/net/tcp", "tcp", "");
        assert_eq!((notes.len(), notes[0].line), (1, None));
        let (_, notes) = parse_proc_net_sockets("proc/net/raw", "raw", TCP);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn unknown_state_is_kept_and_named() {
        let text = TCP.replacen(" 0A ", " 1F ", 1);
        let (sockets, notes) = parse_proc_net_sockets("proc/net/tcp", "tcp", &text);
        assert!(notes.is_empty());
        assert_eq!(sockets[0].state, "UNKNOWN_1F");
        assert!(!sockets[0].listening);
    }

    #[test]
    fn notes_about_a_garbled_table_are_capped() {
        let mut text = String::from(TCP.lines().next().expect("header"));
        for _ in 0..1000 {
            text.push_str("\n   0: garbage");
        }
        let (_, notes) = parse_proc_net_sockets("proc/net/tcp", "tcp", &text);
        assert_eq!(notes.len(), MAX_LINE_NOTES + 1);
        assert!(notes[MAX_LINE_NOTES].message.starts_with("980 more"));
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

    /// Reads this machine's live tables (read-only; the only socket opened
    /// is a listener on loopback). Run alone with `cargo test live_`.
    #[test]
    fn live_proc_net_sockets_parse_without_notes() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let udp_port = udp.local_addr().expect("addr").port();
        let mut all = Vec::new();
        for (name, proto) in SOCKET_INPUTS {
            let path = format!("/{name}");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue; // no IPv6 on this kernel
            };
            let (sockets, notes) = parse_proc_net_sockets(name, proto, &text);
            assert!(notes.is_empty(), "{path}: {notes:?}");
            all.extend(sockets);
        }
        let ours = listener_for(&all, "tcp", v4("127.0.0.1"), port).expect("our listener");
        assert_eq!(
            (ours.local, ours.state.as_str()),
            (v4("127.0.0.1"), "LISTEN")
        );
        assert!(ours.listening && ours.inode != 0);
        let ours = listener_for(&all, "udp", v4("127.0.0.1"), udp_port).expect("our udp socket");
        assert_eq!(ours.state, "CLOSE");
    }
}
