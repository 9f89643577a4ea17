//! `/proc/net/{tcp,tcp6,udp,udp6}`: one socket per line, who listens
//! where and in which TCP state each connection is.
//!
//! The kernel prints each address as 32-bit words in host byte order
//! (`0100007F` is 127.0.0.1 on x86). diag reads them as little-endian, like
//! [`super::route`] does for `/proc/net/route`: every machine diag targets
//! is little-endian, and a bundle may be analysed on another machine than
//! the one it came from, so the analysing machine's byte order must not
//! matter.

use crate::model::Note;
use crate::net::Notes;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
    /// The processes that hold it, when the input names them (`ss -p`,
    /// `netstat -p`; `/proc/net` does not): empty when unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<SocketOwner>,
    /// Canonical input name.
    pub input: String,
    /// 1-based line in the input.
    pub line: u32,
    /// The raw line, trailing padding removed.
    pub excerpt: String,
}

/// A process that holds a socket open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SocketOwner {
    /// Process id.
    pub pid: u32,
    /// Command name.
    pub comm: String,
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
    let mut line_notes = Notes::new(input);
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
            Err(message) => line_notes.line(line, message),
        }
    }
    notes.extend(line_notes.finish());
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
        owners: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::MAX_LINE_NOTES;

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
}
