//! Packet decoding: link layer (Ethernet with 802.1Q/802.1ad tags and
//! LLC/SNAP, Linux SLL, BSD loopback, raw IP), ARP, IPv4, IPv6, ICMP,
//! ICMPv6 neighbour discovery, TCP and UDP.
//!
//! IP, TCP and UDP headers are read with `pnet_packet`'s borrowed views;
//! the link layers, ARP (whose address lengths real captures get wrong:
//! 255-byte "addresses") and every length a header claims are checked by
//! hand, so a packet that lies about its size is reported as malformed,
//! never read past its end.

use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use pnet_packet::tcp::TcpPacket;
use pnet_packet::udp::UdpPacket;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An ARP packet for IPv4 over a 6-byte hardware address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    /// 1 request, 2 reply.
    pub op: u16,
    /// Sender hardware address.
    pub sha: [u8; 6],
    /// Sender protocol address.
    pub spa: Ipv4Addr,
    /// Target protocol address.
    pub tpa: Ipv4Addr,
}

/// Transport layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport<'a> {
    /// None, or not decoded (a later fragment).
    #[default]
    None,
    /// TCP: ports and the flags byte.
    Tcp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Flags (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10).
        flags: u8,
        /// Sequence number.
        seq: u32,
        /// Advertised window (unscaled).
        window: u16,
        /// Payload bytes as the IP header claims them (not only what was
        /// captured): what a retransmission repeats.
        payload_len: u32,
    },
    /// UDP with its payload.
    Udp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// The datagram's payload (as far as captured).
        payload: &'a [u8],
    },
    /// ICMP or ICMPv6.
    Icmp {
        /// 4 or 6.
        version: u8,
        /// Type.
        kind: u8,
        /// Code.
        code: u8,
        /// Target address of an ICMPv6 neighbour solicitation/advertisement.
        target: Option<Ipv6Addr>,
    },
    /// Another IP protocol.
    Other(u8),
}

/// What one frame holds, as far as it could be decoded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Decoded<'a> {
    /// Protocol name for the counters (`arp`, `tcp`, `udp`, `dns`, ...).
    pub proto: &'static str,
    /// ARP, when the frame is ARP.
    pub arp: Option<Arp>,
    /// Source IP address.
    pub src: Option<IpAddr>,
    /// Destination IP address.
    pub dst: Option<IpAddr>,
    /// Transport layer.
    pub transport: Transport<'a>,
    /// The frame could not be decoded as far as its headers claim.
    pub malformed: Option<&'static str>,
    /// An Ethernet frame to a group (broadcast or multicast) address: the
    /// low bit of its destination's first byte. Decoding reads that byte
    /// anyway; an analyser on another thread then need not.
    pub group: bool,
    /// IPv4 TTL or IPv6 hop limit (0 without an IP header): a RST whose
    /// TTL differs from its sender's other packets came from elsewhere.
    pub ttl: u8,
}

const TCP_FIN: u8 = 0x01;
const TCP_SYN: u8 = 0x02;
const TCP_RST: u8 = 0x04;
const TCP_PSH: u8 = 0x08;
const TCP_ACK: u8 = 0x10;

impl Decoded<'_> {
    /// A DNS message (`proto` is `dns`), tested without a call to
    /// `memcmp`: this runs for every UDP datagram.
    pub fn is_dns(&self) -> bool {
        matches!(self.proto.as_bytes(), [b'd', b'n', b's'])
    }

    /// A TCP SYN without ACK.
    pub fn is_syn(&self) -> bool {
        matches!(self.transport, Transport::Tcp { flags, .. } if flags & (TCP_SYN | TCP_ACK) == TCP_SYN)
    }

    /// A TCP SYN-ACK.
    pub fn is_synack(&self) -> bool {
        matches!(self.transport, Transport::Tcp { flags, .. } if flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK)
    }

    /// A TCP segment with ACK and neither SYN nor RST: the third step of
    /// a handshake, or any later segment of the connection.
    pub fn is_plain_ack(&self) -> bool {
        matches!(self.transport, Transport::Tcp { flags, .. } if flags & (TCP_SYN | TCP_ACK | TCP_RST) == TCP_ACK)
    }

    /// A TCP RST.
    pub fn is_rst(&self) -> bool {
        matches!(self.transport, Transport::Tcp { flags, .. } if flags & TCP_RST != 0)
    }

    /// A TCP FIN.
    pub fn is_fin(&self) -> bool {
        matches!(self.transport, Transport::Tcp { flags, .. } if flags & TCP_FIN != 0)
    }

    fn malformed(proto: &'static str, why: &'static str) -> Self {
        Decoded {
            proto,
            malformed: Some(why),
            ..Decoded::default()
        }
    }

    /// One line, in the spirit of `tcpdump -n`.
    pub fn describe(&self, wire_len: u32) -> String {
        let mut s = String::new();
        if let Some(a) = self.arp {
            let _ = match a.op {
                1 if a.spa == a.tpa => {
                    write!(s, "ARP, Announcement {} is-at {}", a.spa, mac(&a.sha))
                }
                1 => write!(s, "ARP, Request who-has {} tell {}", a.tpa, a.spa),
                2 => write!(s, "ARP, Reply {} is-at {}", a.spa, mac(&a.sha)),
                op => write!(s, "ARP, op {op} {} -> {}", a.spa, a.tpa),
            };
        } else if let (Some(src), Some(dst)) = (self.src, self.dst) {
            let ip = if src.is_ipv4() { "IP" } else { "IP6" };
            match self.transport {
                Transport::Tcp {
                    sport,
                    dport,
                    flags,
                    ..
                } => {
                    let _ = write!(
                        s,
                        "{ip} {} > {}: Flags [{}]",
                        sock(src, sport),
                        sock(dst, dport),
                        tcp_flags(flags)
                    );
                }
                Transport::Udp {
                    sport,
                    dport,
                    payload,
                } => {
                    let _ = write!(
                        s,
                        "{ip} {} > {}: UDP, length {}",
                        sock(src, sport),
                        sock(dst, dport),
                        payload.len()
                    );
                }
                Transport::Icmp {
                    version,
                    kind,
                    code,
                    target,
                } => {
                    let _ = write!(
                        s,
                        "{ip} {src} > {dst}: ICMP{} type {kind} code {code}",
                        if version == 6 { "6" } else { "" }
                    );
                    if let Some(t) = target {
                        let _ = write!(s, " target {t}");
                    }
                }
                Transport::Other(p) => {
                    let _ = write!(s, "{ip} {src} > {dst}: protocol {p}");
                }
                Transport::None => {
                    let _ = write!(s, "{ip} {src} > {dst}: fragment");
                }
            }
        } else {
            let _ = write!(s, "{}", self.proto);
        }
        if let Some(why) = self.malformed {
            let _ = write!(s, " [malformed: {why}]");
        }
        // The frame's size, apart from the UDP payload length above.
        let _ = write!(s, " ({wire_len} bytes on the wire)");
        s
    }
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac(b: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

fn sock(ip: IpAddr, port: u16) -> String {
    format!("{ip}.{port}")
}

fn tcp_flags(flags: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (TCP_SYN, 'S'),
        (TCP_FIN, 'F'),
        (TCP_RST, 'R'),
        (TCP_PSH, 'P'),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    if flags & TCP_ACK != 0 {
        s.push('.');
    }
    s
}

/// Decodes one frame of link type `link_type`.
pub fn decode(link_type: u32, data: &[u8]) -> Decoded<'_> {
    match link_type {
        // BSD loopback: a 4-byte address family in the writer's byte order.
        0 => {
            if data.len() < 4 {
                return Decoded::malformed("null", "short loopback header");
            }
            let le = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
            let be = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
            match (le.min(be), &data[4..]) {
                (2, rest) => ipv4(rest),
                (24 | 28 | 30, rest) => ipv6(rest),
                _ => Decoded {
                    proto: "other",
                    ..Decoded::default()
                },
            }
        }
        1 => {
            let mut d = ethernet(data);
            d.group = data.len() >= 12 && data[0] & 1 == 1;
            d
        }
        // Raw IP.
        101 | 12 | 14 => raw_ip(data),
        228 => ipv4(data),
        229 => ipv6(data),
        // Linux cooked capture: 16-byte header, protocol at 14.
        113 => {
            if data.len() < 16 {
                return Decoded::malformed("sll", "short SLL header");
            }
            let ethertype = u16::from_be_bytes([data[14], data[15]]);
            by_ethertype(ethertype, &data[16..])
        }
        _ => Decoded {
            proto: "unknown-link",
            ..Decoded::default()
        },
    }
}

fn raw_ip(data: &[u8]) -> Decoded<'_> {
    match data.first().map(|b| b >> 4) {
        Some(4) => ipv4(data),
        Some(6) => ipv6(data),
        _ => Decoded::malformed("ip", "not IPv4 or IPv6"),
    }
}

fn ethernet(data: &[u8]) -> Decoded<'_> {
    if data.len() < 14 {
        return Decoded::malformed("ethernet", "short Ethernet header");
    }
    let mut ethertype = u16::from_be_bytes([data[12], data[13]]);
    let mut rest = &data[14..];
    // 802.1Q / 802.1ad tags, possibly stacked.
    let mut tags = 0;
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) && tags < 4 {
        if rest.len() < 4 {
            return Decoded::malformed("vlan", "short 802.1Q tag");
        }
        ethertype = u16::from_be_bytes([rest[2], rest[3]]);
        rest = &rest[4..];
        tags += 1;
    }
    if ethertype <= 1500 {
        // 802.3 length: LLC, and SNAP (AA AA 03 + OUI + ethertype).
        if rest.len() >= 8 && rest[0] == 0xaa && rest[1] == 0xaa && rest[2] == 0x03 {
            let inner = u16::from_be_bytes([rest[6], rest[7]]);
            return by_ethertype(inner, &rest[8..]);
        }
        return Decoded {
            proto: "llc",
            ..Decoded::default()
        };
    }
    by_ethertype(ethertype, rest)
}

fn by_ethertype(ethertype: u16, rest: &[u8]) -> Decoded<'_> {
    match ethertype {
        0x0800 => ipv4(rest),
        0x86dd => ipv6(rest),
        0x0806 => arp(rest),
        0x888e => Decoded {
            proto: "eapol",
            ..Decoded::default()
        },
        0x88cc => Decoded {
            proto: "lldp",
            ..Decoded::default()
        },
        _ => Decoded {
            proto: "other",
            ..Decoded::default()
        },
    }
}

fn arp(b: &[u8]) -> Decoded<'_> {
    if b.len() < 8 {
        return Decoded::malformed("arp", "short ARP header");
    }
    let ptype = u16::from_be_bytes([b[2], b[3]]);
    let (hln, pln) = (usize::from(b[4]), usize::from(b[5]));
    let op = u16::from_be_bytes([b[6], b[7]]);
    let need = 8 + 2 * hln + 2 * pln;
    if hln != 6 || pln != 4 || ptype != 0x0800 {
        return Decoded::malformed("arp", "ARP address lengths other than Ethernet/IPv4");
    }
    if b.len() < need {
        return Decoded::malformed("arp", "ARP shorter than its address lengths");
    }
    let mut sha = [0u8; 6];
    sha.copy_from_slice(&b[8..14]);
    let spa = Ipv4Addr::new(b[14], b[15], b[16], b[17]);
    let tpa = Ipv4Addr::new(b[24], b[25], b[26], b[27]);
    Decoded {
        proto: "arp",
        arp: Some(Arp { op, sha, spa, tpa }),
        ..Decoded::default()
    }
}

fn ipv4(b: &[u8]) -> Decoded<'_> {
    let Some(ip) = Ipv4Packet::new(b) else {
        return Decoded::malformed("ipv4", "short IPv4 header");
    };
    let ihl = usize::from(ip.get_header_length()) * 4;
    if ihl < 20 || ihl > b.len() {
        return Decoded::malformed("ipv4", "IPv4 header length beyond the packet");
    }
    let total = usize::from(ip.get_total_length());
    // A total length of 0 is TSO on the capturing host: use what is there.
    let end = if total >= ihl {
        total.min(b.len())
    } else {
        b.len()
    };
    let mut d = Decoded {
        proto: "ipv4",
        src: Some(IpAddr::V4(ip.get_source())),
        dst: Some(IpAddr::V4(ip.get_destination())),
        ttl: ip.get_ttl(),
        ..Decoded::default()
    };
    if ip.get_fragment_offset() != 0 {
        d.proto = "ipv4-fragment";
        return d;
    }
    let claimed = if total >= ihl { total - ihl } else { end - ihl };
    transport(
        &mut d,
        ip.get_next_level_protocol().0,
        &b[ihl..end],
        claimed,
        4,
    );
    d
}

fn ipv6(b: &[u8]) -> Decoded<'_> {
    let Some(ip) = Ipv6Packet::new(b) else {
        return Decoded::malformed("ipv6", "short IPv6 header");
    };
    let mut d = Decoded {
        proto: "ipv6",
        src: Some(IpAddr::V6(ip.get_source())),
        dst: Some(IpAddr::V6(ip.get_destination())),
        ttl: ip.get_hop_limit(),
        ..Decoded::default()
    };
    let end = (40 + usize::from(ip.get_payload_length())).min(b.len());
    let mut next = ip.get_next_header().0;
    let mut at = 40usize.min(end);
    // Extension headers: hop-by-hop, routing, destination options, fragment.
    for _ in 0..8 {
        match next {
            0 | 43 | 60 => {
                if at + 2 > end {
                    d.malformed = Some("IPv6 extension header beyond the packet");
                    return d;
                }
                next = b[at];
                at += (usize::from(b[at + 1]) + 1) * 8;
            }
            44 => {
                if at + 8 > end {
                    d.malformed = Some("IPv6 fragment header beyond the packet");
                    return d;
                }
                let offset = u16::from_be_bytes([b[at + 2], b[at + 3]]) >> 3;
                next = b[at];
                at += 8;
                if offset != 0 {
                    d.proto = "ipv6-fragment";
                    return d;
                }
            }
            _ => break,
        }
    }
    if at > end {
        d.malformed = Some("IPv6 extension header beyond the packet");
        return d;
    }
    let claimed = (40 + usize::from(ip.get_payload_length())).saturating_sub(at);
    transport(&mut d, next, &b[at..end], claimed, 6);
    d
}

/// `b` is the IP payload as captured, `claimed` its length by the IP
/// header (longer when the snap length cut the packet).
fn transport<'a>(d: &mut Decoded<'a>, proto: u8, b: &'a [u8], claimed: usize, version: u8) {
    match proto {
        6 => {
            d.proto = "tcp";
            match TcpPacket::new(b) {
                Some(tcp) if b.len() >= 16 => {
                    let header = usize::from(b[12] >> 4) * 4;
                    d.transport = Transport::Tcp {
                        sport: tcp.get_source(),
                        dport: tcp.get_destination(),
                        flags: b[13],
                        seq: tcp.get_sequence(),
                        window: u16::from_be_bytes([b[14], b[15]]),
                        payload_len: u32::try_from(claimed.max(b.len()).saturating_sub(header))
                            .unwrap_or(u32::MAX),
                    };
                }
                _ => d.malformed = Some("short TCP header"),
            }
        }
        17 => {
            d.proto = "udp";
            match UdpPacket::new(b) {
                Some(udp) => {
                    let (sport, dport) = (udp.get_source(), udp.get_destination());
                    let payload = &b[8..];
                    if sport == 53 || dport == 53 || sport == 5353 || dport == 5353 {
                        d.proto = "dns";
                    } else if matches!((sport, dport), (67 | 68, 67 | 68)) {
                        d.proto = "dhcp";
                    }
                    d.transport = Transport::Udp {
                        sport,
                        dport,
                        payload,
                    };
                }
                None => d.malformed = Some("short UDP header"),
            }
        }
        1 | 58 => {
            d.proto = if proto == 1 { "icmp" } else { "icmp6" };
            if b.len() < 2 {
                d.malformed = Some("short ICMP header");
                return;
            }
            let kind = b[0];
            let target =
                (proto == 58 && (kind == 135 || kind == 136) && b.len() >= 24).then(|| {
                    let mut t = [0u8; 16];
                    t.copy_from_slice(&b[8..24]);
                    Ipv6Addr::from(t)
                });
            d.transport = Transport::Icmp {
                version,
                kind,
                code: b[1],
                target,
            };
        }
        p => {
            d.transport = Transport::Other(p);
            d.proto = match p {
                2 => "igmp",
                47 => "gre",
                50 => "esp",
                132 => "sctp",
                _ => {
                    if version == 4 {
                        "ipv4-other"
                    } else {
                        "ipv6-other"
                    }
                }
            };
        }
    }
}
