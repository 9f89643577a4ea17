//! `ss -peaonmi` as iproute2 prints it (sos's networking plugin writes it
//! to `sos_commands/networking/ss_-peaonmi`): the TCP and UDP sockets of
//! every family, with who holds each one, as the same [`Socket`] records
//! `/proc/net/{tcp,udp}` gives.
//!
//! A socket is one line (`Netid State Recv-Q Send-Q Local:Port Peer:Port
//! Process`), then, with `-m`/`-i`, lines that start with a tab
//! (`\t skmem:(r0,rb212992,...,d0)`, TCP info). Other socket kinds (`nl`,
//! `u_str`, `p_raw`, ...) are skipped, as diag does not read
//! `/proc/net/unix` either. sos merges the command's error output into the
//! file (`RTNETLINK answers: Invalid argument` before the header): a line
//! before the header is not a socket.
//!
//! What differs from `/proc/net`: ss names states its own way (`ESTAB`,
//! `UNCONN`, `SYN-RECV`), read back as the kernel's names (`ESTABLISHED`,
//! `CLOSE`, `SYN_RECV`); a listener's Send-Q is its backlog, not a queue,
//! so `tx_queue` is 0 for it as in `/proc/net/tcp`; `*` as a local address
//! is read as `::`: recent ss prints it for a dual-stack IPv6 wildcard
//! (`0.0.0.0` and `[::]` otherwise), older ss also for the IPv4 wildcard,
//! and `::` covers IPv4 too when diag asks who listens on an address (so
//! `targets.listening` may say `::` where `/proc/net` says `0.0.0.0`);
//! the old `:::22` is `::` as well; an interface bound
//! with `SO_BINDTODEVICE` (`127.0.0.53%lo:53`) is left out of the address;
//! `uid:` is printed only for a user other than root (0 otherwise); UDP
//! drops are the `d` of `skmem:(...)`.

use super::procnet::sockets::{Socket, SocketOwner};
use super::Notes;
use crate::model::Note;
use std::net::{IpAddr, Ipv6Addr};

/// Parses `ss -peaonmi` (or any `ss -tuna`-like output with its header):
/// the TCP and UDP sockets, in order, and a note per line that could not
/// be used. Linear in the size of the input.
pub fn parse_ss_sockets(input: &str, text: &str) -> (Vec<Socket>, Vec<Note>) {
    let mut sockets: Vec<Socket> = Vec::new();
    let mut notes = Vec::new();
    let mut header = false;
    let mut line_notes = Notes::new(input);
    // Whether the last first line was a TCP or UDP socket (continuation
    // lines belong to it).
    let mut current = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if !header {
            header = raw.starts_with("Netid") && raw.contains("State");
            continue;
        }
        if raw.trim().is_empty() {
            continue;
        }
        if raw.starts_with(char::is_whitespace) {
            if current {
                if let (Some(socket), Some(drops)) = (sockets.last_mut(), skmem_drops(raw)) {
                    if socket.proto == "udp" {
                        socket.drops = drops;
                    }
                }
            }
            continue;
        }
        current = false;
        let netid = raw.split_whitespace().next().unwrap_or_default();
        if netid != "tcp" && netid != "udp" {
            continue;
        }
        match parse_line(netid, raw) {
            Ok(mut socket) => {
                socket.input = input.to_string();
                socket.line = u32::try_from(line).unwrap_or(u32::MAX);
                sockets.push(socket);
                current = true;
            }
            Err(message) => line_notes.line(line, message),
        }
    }
    if !header {
        notes.push(Note::input(
            input,
            "no `Netid State ...` header: not ss output, nothing read",
        ));
    }
    notes.extend(line_notes.finish());
    (sockets, notes)
}

/// The kernel's name (`include/net/tcp_states.h`) of a state as ss prints
/// it; `None` for a word ss does not print.
pub fn state_name(ss: &str) -> Option<&'static str> {
    Some(match ss {
        "ESTAB" => "ESTABLISHED",
        "SYN-SENT" => "SYN_SENT",
        "SYN-RECV" => "SYN_RECV",
        "FIN-WAIT-1" => "FIN_WAIT1",
        "FIN-WAIT-2" => "FIN_WAIT2",
        "TIME-WAIT" => "TIME_WAIT",
        "UNCONN" | "CLOSE" => "CLOSE",
        "CLOSE-WAIT" => "CLOSE_WAIT",
        "LAST-ACK" => "LAST_ACK",
        "LISTEN" => "LISTEN",
        "CLOSING" => "CLOSING",
        "UNKNOWN" => "UNKNOWN",
        _ => return None,
    })
}

fn parse_line(proto: &str, raw: &str) -> Result<Socket, String> {
    let mut fields = raw.split_whitespace();
    let (Some(_), Some(state), Some(recv_q), Some(send_q), Some(local), Some(peer)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err("expected at least 6 columns (line cut short?)".into());
    };
    let state = state_name(state).ok_or_else(|| format!("unknown state {state:?}"))?;
    let rx_queue = recv_q.parse::<u64>().map_err(|_| "malformed Recv-Q")?;
    let send_q = send_q.parse::<u64>().map_err(|_| "malformed Send-Q")?;
    let (local, port) = endpoint(local).ok_or("malformed local address:port")?;
    let (remote, remote_port) = endpoint(peer).ok_or("malformed peer address:port")?;
    let rest: Vec<&str> = fields.collect();
    let number = |key: &str| {
        rest.iter()
            .find_map(|f| f.strip_prefix(key).and_then(|v| v.parse::<u64>().ok()))
    };
    let listening = match proto {
        "tcp" => state == "LISTEN",
        _ => remote.is_unspecified() && remote_port == 0,
    };
    Ok(Socket {
        proto: proto.to_string(),
        local,
        port,
        remote,
        remote_port,
        state: state.to_string(),
        listening,
        uid: number("uid:")
            .and_then(|u| u32::try_from(u).ok())
            .unwrap_or(0),
        inode: number("ino:").unwrap_or(0),
        tx_queue: if state == "LISTEN" { 0 } else { send_q },
        rx_queue,
        drops: 0,
        owners: owners(raw),
        input: String::new(),
        line: 0,
        excerpt: raw.trim_end().to_string(),
    })
}

/// `127.0.0.1:22`, `[::1]:53`, `*:22` (the dual-stack wildcard),
/// `0.0.0.0:*`, `127.0.0.53%lo:53`, `[fe80::1]%ens3:546`; a port `*` is 0.
fn endpoint(field: &str) -> Option<(IpAddr, u16)> {
    let (host, port) = field.rsplit_once(':')?;
    let port = match port {
        "*" => 0,
        p => p.parse::<u16>().ok()?,
    };
    let host = host.split_once('%').map_or(host, |(h, _)| h);
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let addr = match host {
        "*" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        h => h.parse().ok()?,
    };
    Some((addr, port))
}

/// Longest command name kept (the kernel's is 15 bytes; a longer one is
/// not ss's).
const COMM_MAX: usize = 64;

/// The processes of `users:(("sshd",pid=812,fd=3),("sshd",pid=900,fd=3))`,
/// each once; none when the line has no `users:`. A name is taken as
/// printed, between `("` and `",pid=`, control characters made visible.
fn owners(raw: &str) -> Vec<SocketOwner> {
    let mut found: Vec<SocketOwner> = Vec::new();
    let Some((_, mut rest)) = raw.split_once("users:(") else {
        return found;
    };
    while let Some(start) = rest.find("(\"") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("\",pid=") else {
            break;
        };
        let digits = &after[end + 6..];
        let len = digits.bytes().take_while(u8::is_ascii_digit).count();
        rest = &digits[len..];
        let Ok(pid) = digits[..len].parse::<u32>() else {
            continue;
        };
        let comm: String = after[..end].chars().take(COMM_MAX).collect();
        if !found.iter().any(|o| o.pid == pid) {
            found.push(SocketOwner {
                pid,
                comm: crate::sanitize::visible_line(&comm),
            });
        }
    }
    found
}

/// The `d` (drops) of a `skmem:(r0,rb212992,t0,tb212992,f0,w0,o0,bl0,d0)`.
fn skmem_drops(raw: &str) -> Option<u64> {
    let (_, rest) = raw.split_once("skmem:(")?;
    let (inside, _) = rest.split_once(')')?;
    inside
        .split(',')
        .find_map(|f| f.strip_prefix('d').and_then(|v| v.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured on the development VM; see testdata/README.md.
    const SS: &str = include_str!("testdata/ss_-peaonmi");

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn real_ss_output_gives_the_tcp_and_udp_sockets() {
        let (sockets, notes) = parse_ss_sockets("commands/ss_-peaonmi", SS);
        assert!(notes.is_empty(), "{notes:?}");
        let summary: Vec<(&str, IpAddr, u16, &str, bool)> = sockets
            .iter()
            .map(|s| {
                (
                    s.proto.as_str(),
                    s.local,
                    s.port,
                    s.state.as_str(),
                    s.listening,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("udp", ip("127.0.0.1"), 15353, "CLOSE", true),
                ("udp", ip("127.0.0.1"), 35108, "ESTABLISHED", false),
                ("udp", ip("::1"), 15354, "CLOSE", true),
                ("tcp", ip("0.0.0.0"), 2024, "LISTEN", true),
                ("tcp", ip("127.0.0.1"), 18081, "LISTEN", true),
                ("tcp", ip("127.0.0.1"), 18080, "LISTEN", true),
                ("tcp", ip("127.0.0.1"), 49126, "ESTABLISHED", false),
                ("tcp", ip("127.0.0.1"), 18081, "ESTABLISHED", false),
                ("tcp", ip("::"), 18082, "LISTEN", true),
            ]
        );
        let listener = &sockets[4];
        assert_eq!(listener.inode, 2_504_557);
        assert_eq!(listener.tx_queue, 0, "a listener's Send-Q is its backlog");
        assert_eq!(
            listener.owners,
            [SocketOwner {
                pid: 17954,
                comm: "python3".into()
            }]
        );
        assert_eq!(listener.line, 15);
        assert!(
            sockets[3].owners.is_empty(),
            "a kernel listener has no process"
        );
        assert_eq!(sockets[6].remote, ip("127.0.0.1"));
        assert_eq!(sockets[6].remote_port, 18081);
        assert_eq!(sockets[0].input, "commands/ss_-peaonmi");
    }

    #[test]
    fn interface_scopes_uids_drops_and_several_owners() {
        let text = "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
udp   UNCONN 0      0      127.0.0.53%lo:53        0.0.0.0:*     users:((\"systemd-resolve\",pid=640,fd=12)) uid:101 ino:19712 sk:3 <->\n\
\t skmem:(r0,rb212992,t0,tb212992,f0,w0,o0,bl0,d17)\n\
udp   UNCONN 0      0      [fe80::5054:ff:fe12:3456]%ens3:546 [::]:*  users:((\"systemd-network\",pid=600,fd=19)) uid:100 ino:1 sk:4 <->\n\
tcp   LISTEN 0      4096   [::]:22  [::]:*  users:((\"sshd\",pid=812,fd=4),(\"sshd\",pid=812,fd=4),(\"sshd\",pid=900,fd=3)) ino:2 sk:5 v6only:1 <->\n\
tcp   SYN-RECV 0    0      192.0.2.7:443 198.51.100.9:50000 timer:(on,1.2sec,0) ino:0 sk:6\n\
tcp   LISTEN     0      128     :::22                   :::*                   ino:3 sk:7 <->\n";
        let (sockets, notes) = parse_ss_sockets("x", text);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(sockets[0].local, ip("127.0.0.53"));
        assert_eq!((sockets[0].uid, sockets[0].drops), (101, 17));
        assert_eq!(sockets[0].owners[0].comm, "systemd-resolve");
        assert_eq!(sockets[1].local, ip("fe80::5054:ff:fe12:3456"));
        assert_eq!(sockets[1].port, 546);
        let pids: Vec<u32> = sockets[2].owners.iter().map(|o| o.pid).collect();
        assert_eq!(pids, [812, 900]);
        assert_eq!(sockets[3].state, "SYN_RECV");
        assert!(!sockets[3].listening);
        // Older ss: the IPv6 wildcard as `:::22`.
        assert_eq!((sockets[4].local, sockets[4].port), (ip("::"), 22));
    }

    #[test]
    fn malformed_truncated_and_hostile_lines_are_notes() {
        // No header: the failed command's error text, not sockets.
        let (sockets, notes) =
            parse_ss_sockets("x", "exec of \"ss\" failed: No such file or directory\n");
        assert!(sockets.is_empty());
        assert_eq!(notes.len(), 1);
        let text = "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
tcp   LISTEN 0 5 127.0.0.1:22\n\
tcp   BOGUS 0 5 127.0.0.1:22 0.0.0.0:*\n\
tcp   LISTEN x 5 127.0.0.1:22 0.0.0.0:*\n\
tcp   LISTEN 0 5 127.0.0.1:99999 0.0.0.0:*\n\
tcp   LISTEN 0 5 not-an-ip:22 0.0.0.0:*\n\
tcp   LISTEN 0 5 127.0.0.1:22 0.0.0.0:* users:((\"\x1b[31mevil\",pid=1,fd=3)) users:((\"x\",pid=,fd=1)) uid:99999999999 ino:-1\n\
\t skmem:(d\n\
udp   UNCONN 0 0 127.0.0.1:53 0.0.0.0:* users:((\"unterminated\n";
        let (sockets, notes) = parse_ss_sockets("x", text);
        assert_eq!(notes.len(), 5, "{notes:?}");
        assert_eq!(notes[0].line, Some(2));
        assert_eq!(sockets.len(), 2);
        assert_eq!(sockets[0].owners.len(), 1);
        assert_eq!(sockets[0].owners[0].comm, "\u{241b}[31mevil");
        assert_eq!((sockets[0].uid, sockets[0].inode), (0, 0));
        assert!(sockets[1].owners.is_empty());
        // Cut anywhere, never a panic.
        for end in 0..SS.len() {
            if SS.is_char_boundary(end) {
                let _ = parse_ss_sockets("x", &SS[..end]);
            }
        }
    }
}
