//! ICMP and ICMPv6 echo, where the host permits it.
//!
//! First an unprivileged ICMP datagram socket (`socket(AF_INET,
//! SOCK_DGRAM, IPPROTO_ICMP)`, or `AF_INET6`/`IPPROTO_ICMPV6`; allowed
//! when the caller's group is in `net.ipv4.ping_group_range`, which covers
//! both families); else a raw socket (root or `CAP_NET_RAW`); else the
//! probe is *skipped* with the reason. Packets are built and read with
//! `pnet_packet`. The kernel fills in the ICMPv6 checksum (it needs the
//! source address) on both kinds of socket; an IPv4 raw socket hands over
//! the IP header with each message, an IPv6 one does not.

use crate::facts::probe::Outcome;
use nix::sys::socket::{
    recvfrom, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol,
    SockType, SockaddrStorage,
};
use nix::sys::time::TimeVal;
use pnet_packet::icmp::{self, IcmpPacket, IcmpTypes};
use pnet_packet::icmpv6::{Icmpv6Packet, Icmpv6Types};
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// The result of one echo probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Echo {
    /// `reply`, `timeout`, `unreachable`, `skipped` or `error`.
    pub outcome: Outcome,
    /// Time to the reply (or to giving up).
    pub latency: Duration,
    /// Why it was skipped, or the error.
    pub error: String,
}

/// Echo request and reply types, and the one that says "unreachable", of
/// the target's family.
struct Kinds {
    request: u8,
    reply: u8,
    unreachable: u8,
}

const V4: Kinds = Kinds {
    request: IcmpTypes::EchoRequest.0,
    reply: IcmpTypes::EchoReply.0,
    unreachable: IcmpTypes::DestinationUnreachable.0,
};
const V6: Kinds = Kinds {
    request: Icmpv6Types::EchoRequest.0,
    reply: Icmpv6Types::EchoReply.0,
    unreachable: Icmpv6Types::DestinationUnreachable.0,
};

fn open(v6: bool) -> Result<(OwnedFd, bool), String> {
    let (family, protocol, knob) = if v6 {
        (AddressFamily::Inet6, SockProtocol::IcmpV6, "ICMPv6")
    } else {
        (AddressFamily::Inet, SockProtocol::Icmp, "ICMP")
    };
    let dgram = socket(family, SockType::Datagram, SockFlag::SOCK_CLOEXEC, protocol);
    match dgram {
        Ok(fd) => Ok((fd, false)),
        Err(dgram_err) => socket(family, SockType::Raw, SockFlag::SOCK_CLOEXEC, protocol)
            .map(|fd| (fd, true))
            .map_err(|raw_err| {
                format!(
                    "{knob} not permitted: datagram socket: {}, raw socket: {} (needs net.ipv4.ping_group_range to include the caller's group, or root)",
                    dgram_err.desc(),
                    raw_err.desc()
                )
            }),
    }
}

/// Sends one echo request to `target` (ICMP for IPv4, ICMPv6 for IPv6)
/// and waits up to `timeout` for the reply, retrying `retries` more times
/// after a timeout.
pub fn echo(target: IpAddr, timeout: Duration, retries: u32) -> Echo {
    let (fd, raw) = match open(target.is_ipv6()) {
        Ok(pair) => pair,
        Err(reason) => {
            return Echo {
                outcome: Outcome::Skipped,
                latency: Duration::ZERO,
                error: reason,
            }
        }
    };
    let ident = (std::process::id() & 0xffff) as u16;
    let mut last = Echo {
        outcome: Outcome::Timeout,
        latency: Duration::ZERO,
        error: String::new(),
    };
    for seq in 0..=retries {
        last = once(&fd, raw, target, ident, seq as u16, timeout);
        if last.outcome != Outcome::Timeout {
            break;
        }
    }
    last
}

/// The 16-byte echo request: type, code 0, checksum, identifier,
/// sequence number, 8 bytes of payload. The ICMPv6 checksum is left to
/// the kernel.
fn request(kinds: &Kinds, v6: bool, ident: u16, seq: u16) -> [u8; 16] {
    let mut buf = [0u8; 16];
    buf[0] = kinds.request;
    buf[4..6].copy_from_slice(&ident.to_be_bytes());
    buf[6..8].copy_from_slice(&seq.to_be_bytes());
    buf[8..].copy_from_slice(b"diag-prb");
    if !v6 {
        if let Some(packet) = IcmpPacket::new(&buf) {
            let sum = icmp::checksum(&packet);
            buf[2..4].copy_from_slice(&sum.to_be_bytes());
        }
    }
    buf
}

fn source_of(from: Option<SockaddrStorage>) -> Option<IpAddr> {
    let from = from?;
    if let Some(v4) = from.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    from.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

/// The destination of the datagram quoted in an ICMP error (after its
/// 8-byte header).
fn quoted_destination(message: &[u8], v6: bool) -> Option<IpAddr> {
    let inner = message.get(8..)?;
    if v6 {
        Ipv6Packet::new(inner).map(|p| IpAddr::V6(p.get_destination()))
    } else {
        Ipv4Packet::new(inner).map(|p| IpAddr::V4(p.get_destination()))
    }
}

fn once(fd: &OwnedFd, raw: bool, target: IpAddr, ident: u16, seq: u16, timeout: Duration) -> Echo {
    let v6 = target.is_ipv6();
    let kinds = if v6 { &V6 } else { &V4 };
    let request = request(kinds, v6, ident, seq);
    let dest = SockaddrStorage::from(SocketAddr::new(target, 0));
    let started = Instant::now();
    if let Err(err) = sendto(fd.as_raw_fd(), &request, &dest, MsgFlags::empty()) {
        let outcome = match err {
            nix::errno::Errno::EHOSTUNREACH
            | nix::errno::Errno::ENETUNREACH
            | nix::errno::Errno::EADDRNOTAVAIL => Outcome::Unreachable,
            _ => Outcome::Error,
        };
        return Echo {
            outcome,
            latency: started.elapsed(),
            error: format!("send: {}", err.desc()),
        };
    }
    let mut reply = [0u8; 1500];
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Echo {
                outcome: Outcome::Timeout,
                latency: started.elapsed(),
                error: String::new(),
            };
        }
        let tv = TimeVal::new(
            left.as_secs() as i64,
            i64::from(left.subsec_micros()).max(1),
        );
        if let Err(err) = setsockopt(fd, sockopt::ReceiveTimeout, &tv) {
            return error(format!("setsockopt: {}", err.desc()), started.elapsed());
        }
        let (n, from) = match recvfrom::<SockaddrStorage>(fd.as_raw_fd(), &mut reply) {
            Ok((n, from)) => (n, source_of(from)),
            Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::EHOSTUNREACH | nix::errno::Errno::ENETUNREACH) => {
                return Echo {
                    outcome: Outcome::Unreachable,
                    latency: started.elapsed(),
                    error: "host unreachable".into(),
                }
            }
            Err(err) => return error(format!("receive: {}", err.desc()), started.elapsed()),
        };
        if !raw && from != Some(target) {
            continue;
        }
        let bytes = &reply[..n];
        // An IPv4 raw socket hands over the IP header too; an IPv6 raw
        // socket and datagram sockets only the ICMP message (a datagram
        // socket with the kernel's own identifier).
        let (source, message) = if raw && !v6 {
            let Some(ip) = Ipv4Packet::new(bytes) else {
                continue;
            };
            let header = usize::from(ip.get_header_length()) * 4;
            if header > bytes.len() {
                continue;
            }
            (Some(IpAddr::V4(ip.get_source())), &bytes[header..])
        } else {
            (from, bytes)
        };
        let (kind, sequence, identifier) = match (v6, message.len() >= 8) {
            (_, false) => continue,
            (true, true) => {
                let Some(p) = Icmpv6Packet::new(message) else {
                    continue;
                };
                (p.get_icmpv6_type().0, &message[6..8], &message[4..6])
            }
            (false, true) => {
                let Some(p) = IcmpPacket::new(message) else {
                    continue;
                };
                (p.get_icmp_type().0, &message[6..8], &message[4..6])
            }
        };
        if kind == kinds.reply && source == Some(target) {
            let same_seq = u16::from_be_bytes([sequence[0], sequence[1]]) == seq;
            let same_id = u16::from_be_bytes([identifier[0], identifier[1]]) == ident;
            if same_seq && (!raw || same_id) {
                return Echo {
                    outcome: Outcome::Reply,
                    latency: started.elapsed(),
                    error: String::new(),
                };
            }
        } else if kind == kinds.unreachable
            && raw
            && quoted_destination(message, v6) == Some(target)
        {
            // The original datagram follows the 8-byte header: it was our
            // request to this target.
            let by = source.map(|s| s.to_string()).unwrap_or_default();
            return Echo {
                outcome: Outcome::Unreachable,
                latency: started.elapsed(),
                error: format!("ICMP destination unreachable from {by}"),
            };
        }
    }
}

fn error(text: String, latency: Duration) -> Echo {
    Echo {
        outcome: Outcome::Error,
        latency,
        error: text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_answers_or_the_probe_says_why_not() {
        let echo = echo(
            IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            Duration::from_secs(2),
            0,
        );
        match echo.outcome {
            Outcome::Reply => assert!(echo.error.is_empty()),
            Outcome::Skipped => assert!(echo.error.contains("not permitted"), "{echo:?}"),
            other => panic!("loopback echo: {other:?} {echo:?}"),
        }
    }

    #[test]
    fn ipv6_loopback_answers_or_the_probe_says_why_not() {
        let echo = echo("::1".parse().expect("v6"), Duration::from_secs(2), 0);
        match echo.outcome {
            Outcome::Reply => assert!(echo.error.is_empty()),
            // No IPv6 at all (ipv6.disable=1) is an error to send, not a
            // wrong answer.
            Outcome::Skipped | Outcome::Error | Outcome::Unreachable => {
                assert!(!echo.error.is_empty(), "{echo:?}")
            }
            other => panic!("loopback echo: {other:?} {echo:?}"),
        }
    }

    #[test]
    fn echo_requests_of_both_families() {
        let v4 = request(&V4, false, 0x1234, 7);
        assert_eq!(v4[0], 8);
        let packet = IcmpPacket::new(&v4).expect("16 bytes");
        assert_eq!(icmp::checksum(&packet).to_be_bytes(), [v4[2], v4[3]]);
        let v6 = request(&V6, true, 0x1234, 7);
        assert_eq!(v6[0], 128);
        assert_eq!(&v6[2..8], &[0, 0, 0x12, 0x34, 0, 7]);
    }
}
