//! ICMP echo, where the host permits it.
//!
//! First an unprivileged ICMP datagram socket (`socket(AF_INET,
//! SOCK_DGRAM, IPPROTO_ICMP)`, allowed when the caller's group is in
//! `net.ipv4.ping_group_range`); else a raw socket (root or
//! `CAP_NET_RAW`); else the probe is *skipped* with the reason. Packets
//! are built and read with `pnet_packet`. IPv6 targets are skipped (echo
//! over ICMPv6 is not implemented; a TCP probe covers them).

use crate::parse::probe::Outcome;
use nix::sys::socket::{
    recvfrom, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol,
    SockType, SockaddrIn,
};
use nix::sys::time::TimeVal;
use pnet_packet::icmp::echo_reply::EchoReplyPacket;
use pnet_packet::icmp::echo_request::MutableEchoRequestPacket;
use pnet_packet::icmp::{self, IcmpPacket, IcmpTypes};
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::Packet;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
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

fn open() -> Result<(OwnedFd, bool), String> {
    let dgram = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::Icmp,
    );
    match dgram {
        Ok(fd) => Ok((fd, false)),
        Err(dgram_err) => socket(
            AddressFamily::Inet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::Icmp,
        )
        .map(|fd| (fd, true))
        .map_err(|raw_err| {
            format!(
                "ICMP not permitted: datagram socket: {}, raw socket: {} (needs net.ipv4.ping_group_range to include the caller's group, or root)",
                dgram_err.desc(),
                raw_err.desc()
            )
        }),
    }
}

/// Sends one echo request to `target` and waits up to `timeout` for the
/// reply, retrying `retries` more times after a timeout.
pub fn echo(target: IpAddr, timeout: Duration, retries: u32) -> Echo {
    let IpAddr::V4(v4) = target else {
        return Echo {
            outcome: Outcome::Skipped,
            latency: Duration::ZERO,
            error: "ICMPv6 echo is not implemented".into(),
        };
    };
    let (fd, raw) = match open() {
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
        last = once(&fd, raw, v4, ident, seq as u16, timeout);
        if last.outcome != Outcome::Timeout {
            break;
        }
    }
    last
}

fn once(
    fd: &OwnedFd,
    raw: bool,
    target: Ipv4Addr,
    ident: u16,
    seq: u16,
    timeout: Duration,
) -> Echo {
    let mut buf = [0u8; 16];
    let Some(mut request) = MutableEchoRequestPacket::new(&mut buf) else {
        return error("cannot build the echo request".into(), Duration::ZERO);
    };
    request.set_icmp_type(IcmpTypes::EchoRequest);
    request.set_identifier(ident);
    request.set_sequence_number(seq);
    request.set_payload(b"diag-prb");
    let checksum = icmp::checksum(&IcmpPacket::new(request.packet()).expect("16 bytes"));
    request.set_checksum(checksum);
    let dest = SockaddrIn::from(SocketAddrV4::new(target, 0));
    let started = Instant::now();
    if let Err(err) = sendto(fd.as_raw_fd(), request.packet(), &dest, MsgFlags::empty()) {
        let outcome = match err {
            nix::errno::Errno::EHOSTUNREACH | nix::errno::Errno::ENETUNREACH => {
                Outcome::Unreachable
            }
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
        let n = match recvfrom::<SockaddrIn>(fd.as_raw_fd(), &mut reply) {
            Ok((n, Some(from))) if from.ip() == target || raw => n,
            Ok(_) => continue,
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
        let bytes = &reply[..n];
        // A raw socket hands over the IP header too; a datagram socket
        // only the ICMP message (with the kernel's own identifier).
        let (source, message) = if raw {
            let Some(ip) = Ipv4Packet::new(bytes) else {
                continue;
            };
            let header = usize::from(ip.get_header_length()) * 4;
            if header > bytes.len() {
                continue;
            }
            (ip.get_source(), &bytes[header..])
        } else {
            (target, bytes)
        };
        let Some(packet) = IcmpPacket::new(message) else {
            continue;
        };
        match packet.get_icmp_type() {
            IcmpTypes::EchoReply if source == target => {
                let Some(echo) = EchoReplyPacket::new(message) else {
                    continue;
                };
                if echo.get_sequence_number() == seq && (!raw || echo.get_identifier() == ident) {
                    return Echo {
                        outcome: Outcome::Reply,
                        latency: started.elapsed(),
                        error: String::new(),
                    };
                }
            }
            IcmpTypes::DestinationUnreachable if raw => {
                // The original datagram follows the 8-byte header: was it
                // our request to this target?
                let inner = message.get(8..).and_then(Ipv4Packet::new);
                if inner.is_some_and(|p| p.get_destination() == target) {
                    return Echo {
                        outcome: Outcome::Unreachable,
                        latency: started.elapsed(),
                        error: format!("ICMP destination unreachable from {source}"),
                    };
                }
            }
            _ => {}
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
        let echo = echo(IpAddr::V4(Ipv4Addr::LOCALHOST), Duration::from_secs(2), 0);
        match echo.outcome {
            Outcome::Reply => assert!(echo.error.is_empty()),
            Outcome::Skipped => assert!(echo.error.contains("not permitted"), "{echo:?}"),
            other => panic!("loopback echo: {other:?} {echo:?}"),
        }
    }

    #[test]
    fn ipv6_is_skipped_with_a_reason() {
        let echo = echo("::1".parse().expect("v6"), Duration::from_secs(1), 0);
        assert_eq!(echo.outcome, Outcome::Skipped);
        assert!(!echo.error.is_empty());
    }
}
