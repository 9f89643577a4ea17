//! net-tools `netstat -W -neopa` (sos's networking plugin writes it to
//! `sos_commands/networking/netstat_-W_-neopa`; `netstat_-T_-neopa` or
//! `netstat_-neopa` on older net-tools): the TCP and UDP sockets of its
//! "Active Internet connections" table, with who holds each one, as the
//! same [`Socket`] records `/proc/net/{tcp,udp}` gives.
//!
//! The columns are `Proto Recv-Q Send-Q Local Address Foreign Address
//! State User Inode PID/Program name Timer`. netstat reads `/proc/net`
//! itself, so its states are the kernel's names; an unconnected UDP
//! socket has an empty State, which is the kernel's `CLOSE`. The program
//! name may hold blanks (`812/nginx: master`) and is `-` when netstat
//! could not see the process. `raw`, `udpl` and the UNIX-domain table
//! that follows are skipped, as diag does not read `/proc/net/raw` or
//! `/proc/net/unix`. With `-n` the User column is a uid; a name (netstat
//! run without `-n`) is read as 0.

use super::procnet::sockets::{Socket, SocketOwner};
use super::Notes;
use crate::model::Note;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses `netstat -neopa` (`-W` or not): the TCP and UDP sockets of the
/// Internet table, in order, and a note per line that could not be used.
/// Linear in the size of the input.
pub fn parse_netstat_sockets(input: &str, text: &str) -> (Vec<Socket>, Vec<Note>) {
    let mut sockets = Vec::new();
    let mut notes = Vec::new();
    let mut header = false;
    let mut line_notes = Notes::new(input);
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.starts_with("Active ") {
            if header {
                // The UNIX-domain (or Bluetooth) table: not read.
                break;
            }
            continue;
        }
        if !header {
            header = raw.starts_with("Proto") && raw.contains("Local Address");
            continue;
        }
        let proto = match raw.split_whitespace().next() {
            Some("tcp" | "tcp6") => "tcp",
            Some("udp" | "udp6") => "udp",
            _ => continue,
        };
        match parse_line(proto, raw) {
            Ok(mut socket) => {
                socket.input = input.to_string();
                socket.line = u32::try_from(line).unwrap_or(u32::MAX);
                sockets.push(socket);
            }
            Err(message) => line_notes.line(line, message),
        }
    }
    if !header {
        notes.push(Note::input(
            input,
            "no `Proto Recv-Q Send-Q Local Address ...` header: not netstat output, nothing read",
        ));
    }
    notes.extend(line_notes.finish());
    (sockets, notes)
}

/// The states netstat prints (net-tools `tcp_state[]`).
const STATES: &[&str] = &[
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT1",
    "FIN_WAIT2",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "CLOSING",
    "UNKNOWN",
];

/// The words `-o` prints before a timer's `(...)`.
const TIMERS: &[&str] = &["off", "on", "keepalive", "timewait", "unkn"];

fn parse_line(proto: &str, raw: &str) -> Result<Socket, String> {
    let fields: Vec<&str> = raw.split_whitespace().collect();
    if fields.len() < 7 {
        return Err(format!(
            "expected at least 7 columns, found {} (line cut short?)",
            fields.len()
        ));
    }
    let rx_queue = fields[1].parse::<u64>().map_err(|_| "malformed Recv-Q")?;
    let tx_queue = fields[2].parse::<u64>().map_err(|_| "malformed Send-Q")?;
    let (local, port) = endpoint(fields[3]).ok_or("malformed local address:port")?;
    let (remote, remote_port) = endpoint(fields[4]).ok_or("malformed foreign address:port")?;
    // An unconnected UDP socket has no State word.
    let (state, next) = if STATES.contains(&fields[5]) {
        (fields[5], 6)
    } else if proto == "udp" {
        ("CLOSE", 5)
    } else {
        return Err(format!("unknown state {:?}", fields[5]));
    };
    let (Some(user), Some(inode)) = (fields.get(next), fields.get(next + 1)) else {
        return Err("no User and Inode columns (netstat run without -e?)".into());
    };
    let inode = inode.parse::<u64>().map_err(|_| "malformed Inode")?;
    let mut program: &[&str] = fields.get(next + 2..).unwrap_or_default();
    // The `-o` timer at the end: `off (0.00/0/0)`.
    if let [rest @ .., word, timer] = program {
        if TIMERS.contains(word) && timer.starts_with('(') && timer.ends_with(')') {
            program = rest;
        }
    }
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
        uid: user.parse().unwrap_or(0),
        inode,
        tx_queue,
        rx_queue,
        drops: 0,
        owners: owner(&program.join(" ")).into_iter().collect(),
        input: String::new(),
        line: 0,
        excerpt: raw.trim_end().to_string(),
    })
}

/// `192.0.2.7:22`, `:::22`, `::ffff:127.0.0.1:8080`, `0.0.0.0:*`; a port
/// `*` is 0, an address `*` the unspecified one of the family.
fn endpoint(field: &str) -> Option<(IpAddr, u16)> {
    let (host, port) = field.rsplit_once(':')?;
    let port = match port {
        "*" => 0,
        p => p.parse::<u16>().ok()?,
    };
    let host = host.split_once('%').map_or(host, |(h, _)| h);
    let addr = match host {
        "*" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        "::" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        h => h.parse().ok()?,
    };
    Some((addr, port))
}

/// Longest program name kept (netstat prints at most 20 characters).
const PROGRAM_MAX: usize = 64;

/// `812/sshd: /usr/sbin/sshd` as its process; `None` for `-`.
fn owner(field: &str) -> Option<SocketOwner> {
    let (pid, comm) = field.split_once('/')?;
    let pid = pid.parse::<u32>().ok()?;
    let comm: String = comm.chars().take(PROGRAM_MAX).collect();
    Some(SocketOwner {
        pid,
        comm: crate::sanitize::visible_line(comm.trim()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured on the development VM; see testdata/README.md.
    const NETSTAT: &str = include_str!("testdata/netstat_-W_-neopa");
    const HOTSOS_NETNS: &str = include_str!("testdata/hotsos_netns_netstat_-W_-neopa");

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn real_netstat_output_gives_the_tcp_and_udp_sockets() {
        let (sockets, notes) = parse_netstat_sockets("commands/netstat_-neopa", NETSTAT);
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
                ("tcp", ip("0.0.0.0"), 2024, "LISTEN", true),
                ("tcp", ip("127.0.0.1"), 18081, "LISTEN", true),
                ("tcp", ip("127.0.0.1"), 18080, "LISTEN", true),
                ("tcp", ip("127.0.0.1"), 49126, "ESTABLISHED", false),
                ("tcp", ip("127.0.0.1"), 18081, "ESTABLISHED", false),
                ("tcp", ip("::"), 18082, "LISTEN", true),
                ("udp", ip("127.0.0.1"), 15353, "CLOSE", true),
                ("udp", ip("127.0.0.1"), 35108, "ESTABLISHED", false),
                ("udp", ip("::1"), 15354, "CLOSE", true),
            ]
        );
        assert!(sockets[0].owners.is_empty(), "`-`: no process");
        assert_eq!(
            sockets[1].owners,
            [SocketOwner {
                pid: 17954,
                comm: "python3".into()
            }]
        );
        assert_eq!(sockets[1].inode, 2_504_557);
        assert_eq!(sockets[1].line, 4);
        assert_eq!(sockets[3].remote_port, 18081);
    }

    #[test]
    fn the_same_sockets_as_ss_saw_at_the_same_moment() {
        let (from_netstat, _) = parse_netstat_sockets("n", NETSTAT);
        let (from_ss, _) =
            super::super::ss::parse_ss_sockets("s", include_str!("testdata/ss_-peaonmi"));
        let key = |s: &Socket| {
            (
                s.proto.clone(),
                s.local,
                s.port,
                s.state.clone(),
                s.inode,
                s.owners.clone(),
            )
        };
        let mut a: Vec<_> = from_netstat.iter().map(key).collect();
        let mut b: Vec<_> = from_ss.iter().map(key).collect();
        crate::sort::sort_by_key(&mut a, |k| k.4);
        crate::sort::sort_by_key(&mut b, |k| k.4);
        assert_eq!(a, b);
    }

    #[test]
    fn program_names_with_blanks_and_old_forms() {
        let text = "Active Internet connections (servers and established)\n\
Proto Recv-Q Send-Q Local Address           Foreign Address         State       User       Inode      PID/Program name     Timer\n\
tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      0          21345      812/nginx: master pr off (0.00/0/0)\n\
tcp6       0      0 ::ffff:192.0.2.7:8080   :::*                    LISTEN      33         21346      900/java             off (0.00/0/0)\n\
tcp        0     36 192.0.2.7:22            198.51.100.9:50000      ESTABLISHED 0          21347      1000/sshd: root@pts  on (0.20/0/0)\n\
udp        0      0 0.0.0.0:68              0.0.0.0:*                           0          21348      600/dhclient\n\
raw6       0      0 :::58                   :::*                    7           0          21349      700/NetworkManager   off (0.00/0/0)\n";
        let (sockets, notes) = parse_netstat_sockets("x", text);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(sockets.len(), 4);
        assert_eq!(sockets[0].owners[0].comm, "nginx: master pr");
        assert_eq!(sockets[1].local, ip("::ffff:192.0.2.7"));
        assert_eq!(sockets[1].uid, 33);
        assert_eq!(sockets[2].tx_queue, 36);
        assert_eq!(sockets[2].owners[0].comm, "sshd: root@pts");
        assert_eq!(
            (sockets[3].state.as_str(), sockets[3].listening),
            ("CLOSE", true)
        );
        assert_eq!(sockets[3].owners[0].pid, 600);
    }

    #[test]
    fn malformed_truncated_and_hostile_lines_are_notes() {
        // The hotsos tree's netstat in a network namespace: the command
        // failed, there is no table.
        let (sockets, notes) = parse_netstat_sockets("x", HOTSOS_NETNS);
        assert!(sockets.is_empty());
        assert_eq!(notes.len(), 1);
        let text = "Proto Recv-Q Send-Q Local Address Foreign Address State User Inode PID/Program name Timer\n\
tcp 0 0 0.0.0.0:22\n\
tcp 0 0 0.0.0.0:22 0.0.0.0:* BOGUS 0 1 -\n\
tcp 0 0 0.0.0.0:70000 0.0.0.0:* LISTEN 0 1 -\n\
tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN 0\n\
tcp x 0 0.0.0.0:22 0.0.0.0:* LISTEN 0 1 -\n\
tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN root 1 99999999999/x\n\
tcp 0 0 0.0.0.0:23 0.0.0.0:* LISTEN 0 2 5/\x1b]0;evil\x07 off (0.00/0/0)\n";
        let (sockets, notes) = parse_netstat_sockets("x", text);
        assert_eq!(notes.len(), 5, "{notes:?}");
        assert_eq!(sockets.len(), 2);
        assert!(sockets[0].owners.is_empty());
        assert_eq!(sockets[0].uid, 0);
        assert_eq!(sockets[1].owners[0].comm, "\u{241b}]0;evil\u{2407}");
        for end in 0..NETSTAT.len() {
            if NETSTAT.is_char_boundary(end) {
                let _ = parse_netstat_sockets("x", &NETSTAT[..end]);
            }
        }
    }
}
