//! The captures behind the capture rules' cases and fixtures, one function
//! per scenario, each documenting the shape of its packets.
//!
//! Rule cases once carried them as text, so most of these captures are
//! pcapng files whose every byte is ASCII (see
//! [`diag_parse::pcap::build::toml_string`]): MACs, addresses, ports and lengths keep
//! each byte below 0x80, TCP windows are 0x7210, and timestamps are built
//! by [`tick`] so that no byte of them reaches 0x80. The cases now name
//! files (`rules/cases/capture/`, bytes), and the DNS answers are not
//! ASCII (a response's flags byte has its top bit set). A test checks
//! that those files hold exactly these bytes (`DIAG_WRITE_CASES=1 cargo
//! test -p diag-core capture_case_files_are_the_scenarios` writes them).

use diag_parse::pcap::build::{arp, dns, ethernet, icmp, ipv4, tcp, udp, Mac};
use std::net::Ipv4Addr;

/// Frames with their times in microseconds, as [`diag_parse::pcap::build::pcapng`]
/// takes them.
pub type Frames = Vec<(u64, Vec<u8>)>;

/// The host under diagnosis: 10.0.0.2, 02:00:00:00:00:02.
pub const HOST: Mac = [2, 0, 0, 0, 0, 2];
/// Its address.
pub const HOST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The MAC frames to and from the host's peers use.
pub const PEER: Mac = [2, 0, 0, 0, 0, 1];

/// Microseconds for the `i`-th packet (`i` < 16384), 256 µs apart in
/// steps of 128 (the next step then starts 65 ms later), so that no
/// timestamp byte of a pcapng block reaches 0x80.
pub fn tick(i: u64) -> u64 {
    // 7 bits per byte: i = a*128 + b → b in byte 1, a in byte 2.
    ((i / 128) << 16) | ((i % 128) << 8)
}

/// A TCP segment from `src:sport` to `dst:dport` with `flags`, in an
/// Ethernet frame from `smac` to `dmac`, with an ASCII window.
pub fn segment(
    (smac, src, sport): (Mac, Ipv4Addr, u16),
    (dmac, dst, dport): (Mac, Ipv4Addr, u16),
    seq: u32,
    flags: u8,
) -> Vec<u8> {
    let mut t = tcp(sport, dport, seq, flags);
    t[14..16].copy_from_slice(&[0x72, 0x10]);
    ethernet(dmac, smac, 0x0800, &ipv4(src, dst, 6, &t))
}

/// A DNS query from the host (source port `0x3000 + i`) to `resolver`.
pub fn dns_query(i: u16, resolver: Ipv4Addr) -> Vec<u8> {
    let q = dns(0x2000 + i, &format!("host{i}.example.org"), None);
    ethernet(
        PEER,
        HOST,
        0x0800,
        &ipv4(HOST_IP, resolver, 17, &udp(0x3000 + i, 53, &q)),
    )
}

/// The response of `resolver` to [`dns_query`] `i`, with `rcode`.
pub fn dns_reply(i: u16, resolver: Ipv4Addr, rcode: u8) -> Vec<u8> {
    let r = dns(0x2000 + i, &format!("host{i}.example.org"), Some(rcode));
    ethernet(
        HOST,
        PEER,
        0x0800,
        &ipv4(resolver, HOST_IP, 17, &udp(53, 0x3000 + i, &r)),
    )
}

/// `n` queries to 10.0.0.53, each answered at once with the rcode
/// `rcode_of(i)` (query `i` at [`tick`] `2i`, its response at `2i + 1`).
fn dns_answered(n: u16, rcode_of: impl Fn(u16) -> u8) -> Frames {
    let resolver = Ipv4Addr::new(10, 0, 0, 53);
    (0..n)
        .flat_map(|i| {
            let at = u64::from(i) * 2;
            [
                (tick(at), dns_query(i, resolver)),
                (tick(at + 1), dns_reply(i, resolver, rcode_of(i))),
            ]
        })
        .collect()
}

/// `capture.dns-errors` fires (warning): 10 queries to 10.0.0.53, every
/// one answered REFUSED (rcode 5): the resolver will not serve this host.
pub fn dns_refused() -> Frames {
    dns_answered(10, |_| 5)
}

/// `capture.dns-errors` fires (info): 40 queries for 40 names, 30 of them
/// answered NXDOMAIN (rcode 3), the other 10 NOERROR: names that do not
/// exist, looked up in bulk (a domain generation algorithm, a wrong
/// search domain).
pub fn dns_nxdomain_burst() -> Frames {
    dns_answered(40, |i| if i % 4 == 3 { 0 } else { 3 })
}

/// Quiet for `capture.dns-errors`: [`dns_nxdomain_burst`]'s 30 NXDOMAIN
/// answers, all for one name (`host3.example.org`, asked again and again:
/// one wrong name in a configuration, not names made up in bulk).
pub fn dns_nxdomain_one_name() -> Frames {
    let resolver = Ipv4Addr::new(10, 0, 0, 53);
    (0..40u16)
        .flat_map(|i| {
            let at = u64::from(i) * 2;
            let (name, rcode) = if i % 4 == 3 { (i, 0) } else { (3, 3) };
            let mut query = dns_query(name, resolver);
            let mut reply = dns_reply(name, resolver, rcode);
            // Each query its own id and port, as a retrying client sends.
            for frame in [&mut query, &mut reply] {
                let (port_at, id_at) = if frame[23] == 17 && frame[34..36] == [0, 53] {
                    (36, 42) // from the resolver: destination port, id
                } else {
                    (34, 42) // from the host: source port, id
                };
                frame[port_at..port_at + 2].copy_from_slice(&(0x3000 + i).to_be_bytes());
                frame[id_at..id_at + 2].copy_from_slice(&(0x2000 + i).to_be_bytes());
            }
            [(tick(at), query), (tick(at + 1), reply)]
        })
        .collect()
}

/// Quiet for `capture.dns-errors`: an error, then a retry that succeeds,
/// for two names (FORMERR, as a resolver answers a query with EDNS it
/// does not understand, then NOERROR), and one NXDOMAIN among 10 answers.
pub fn dns_retry_after_error() -> Frames {
    dns_answered(12, |i| match i {
        0 | 2 => 1,
        5 => 3,
        _ => 0,
    })
}

/// A DHCPv4 message of type `kind` (option 53: 1 DISCOVER, 2 OFFER,
/// 3 REQUEST, 5 ACK, 6 NAK): from the host (0.0.0.0:68, broadcast) when
/// it is a client's, else from the server 10.0.0.1:67 to the broadcast
/// address; transaction id `xid`.
pub fn dhcp(kind: u8, xid: u32) -> Vec<u8> {
    let client = matches!(kind, 1 | 3 | 4 | 7 | 8);
    let mut m = vec![0u8; 240];
    m[0] = if client { 1 } else { 2 };
    m[1] = 1; // Ethernet
    m[2] = 6;
    m[4..8].copy_from_slice(&xid.to_be_bytes());
    m[28..34].copy_from_slice(&HOST);
    m[236..240].copy_from_slice(&[99, 130, 83, 99]);
    m.extend_from_slice(&[53, 1, kind, 255]);
    let broadcast = Ipv4Addr::BROADCAST;
    if client {
        let datagram = udp(68, 67, &m);
        ethernet(
            [0xff; 6],
            HOST,
            0x0800,
            &ipv4(Ipv4Addr::UNSPECIFIED, broadcast, 17, &datagram),
        )
    } else {
        let datagram = udp(67, 68, &m);
        let server = Ipv4Addr::new(10, 0, 0, 1);
        ethernet(
            [0xff; 6],
            PEER,
            0x0800,
            &ipv4(server, broadcast, 17, &datagram),
        )
    }
}

/// `capture.dhcp-unanswered` fires: the host sends 6 DHCPDISCOVERs (one
/// transaction each, as a client retrying), no server offers.
pub fn dhcp_no_offer() -> Frames {
    (0..6u32)
        .map(|i| (tick(u64::from(i) * 64), dhcp(1, 0x1000 + i)))
        .collect()
}

/// `capture.dhcp-unanswered` fires: the host asks for its old address
/// three times and the server refuses it (DHCPNAK) each time.
pub fn dhcp_nak() -> Frames {
    (0..6u64)
        .map(|i| {
            let kind = if i % 2 == 0 { 3 } else { 6 };
            (tick(i * 8), dhcp(kind, 0x2000 + (i / 2) as u32))
        })
        .collect()
}

/// Quiet for `capture.dhcp-unanswered`: a lease as it should go,
/// DISCOVER, OFFER, REQUEST, ACK.
pub fn dhcp_lease() -> Frames {
    [1, 2, 3, 5]
        .into_iter()
        .enumerate()
        .map(|(i, kind)| (tick(i as u64 * 8), dhcp(kind, 0x3000)))
        .collect()
}

/// `net.syn-flood` fires: 120 SYNs to 10.0.0.2:80, one from each of
/// 10.1.A.B (A = 1 + i/100, B = 1 + i%100), source port 0x4000 + i,
/// [`tick`]s (256 µs) apart (about 3,900 SYN/s), never answered, never repeated.
pub fn syn_flood() -> Frames {
    (0..120u16)
        .map(|i| {
            let src = Ipv4Addr::new(10, 1, 1 + (i / 100) as u8, 1 + (i % 100) as u8);
            let f = segment(
                (PEER, src, 0x4000 + i),
                (HOST, HOST_IP, 80),
                0x1010_1010,
                0x02,
            );
            (tick(u64::from(i)), f)
        })
        .collect()
}

/// Quiet for `net.syn-flood`: a busy server, not a flood. 108 clients
/// 10.1.A.B (as in [`syn_flood`]) each send a SYN to 10.0.0.2:80, get a
/// SYN-ACK and complete the handshake with an ACK; [`tick`]s apart.
pub fn busy_server() -> Frames {
    let mut frames = Vec::new();
    for i in 0..108u16 {
        let src = Ipv4Addr::new(10, 1, 1 + (i / 100) as u8, 1 + (i % 100) as u8);
        let client = (PEER, src, 0x4000 + i);
        let server = (HOST, HOST_IP, 80);
        let at = 3 * u64::from(i);
        frames.push((tick(at), segment(client, server, 0x1010_1010, 0x02)));
        frames.push((tick(at + 1), segment(server, client, 0x2020_2020, 0x12)));
        frames.push((tick(at + 2), segment(client, server, 0x1010_1011, 0x10)));
    }
    frames
}

/// The gateway typo seen on the wire (incident 002): 36 clients
/// 20.0.0.N (N = 1..=36, off-link for 10.0.0.2/24) each send a SYN to
/// 10.0.0.2:80 and retry it twice with the same port and sequence number;
/// after each SYN the host ARPs for the client's address (it thinks the
/// client is on its link) and no reply comes, so no SYN-ACK goes out.
/// Packets are [`tick`]s apart: 108 SYNs, 108 ARP requests (to a unicast
/// MAC: a broadcast MAC is not ASCII).
pub fn gateway_typo() -> Frames {
    let mut frames = Vec::new();
    let mut i = 0u64;
    for _attempt in 0..3 {
        for n in 1..=36u8 {
            let client = Ipv4Addr::new(20, 0, 0, n);
            frames.push((
                tick(i),
                segment(
                    (PEER, client, 0x5000 + u16::from(n)),
                    (HOST, HOST_IP, 80),
                    0x2020_2020,
                    0x02,
                ),
            ));
            let mut ask = arp(1, HOST, HOST_IP, [0; 6], client);
            ask[..6].copy_from_slice(&PEER);
            frames.push((tick(i + 1), ask));
            i += 2;
        }
    }
    frames
}

/// `capture.port-scan` fires: 10.0.0.9 sends one SYN to each of the
/// ports 1..=108 of 10.0.0.2, source port 0x6000, [`tick`]s apart.
pub fn port_scan() -> Frames {
    (1..=108u16)
        .map(|port| {
            let f = segment(
                (PEER, Ipv4Addr::new(10, 0, 0, 9), 0x6000),
                (HOST, HOST_IP, port),
                0x3030_3030,
                0x02,
            );
            (tick(u64::from(port)), f)
        })
        .collect()
}

/// Quiet for the scan and flood rules: 10.0.0.2 opens 22 connections,
/// two to each of 11 servers 10.0.0.100 + K (ports 80 and 22: 443 has a byte above 0x7f), and each
/// is answered with a SYN-ACK; [`tick`]s apart.
pub fn browsing() -> Frames {
    let mut frames = Vec::new();
    let mut i = 0u64;
    for k in 0..11u8 {
        let server = Ipv4Addr::new(10, 0, 0, 100 + k);
        for (j, port) in [80u16, 22].into_iter().enumerate() {
            let sport = 0x7000 + u16::from(k) * 2 + j as u16;
            frames.push((
                tick(i),
                segment(
                    (HOST, HOST_IP, sport),
                    (PEER, server, port),
                    0x4040_4040,
                    0x02,
                ),
            ));
            frames.push((
                tick(i + 1),
                segment(
                    (PEER, server, port),
                    (HOST, HOST_IP, sport),
                    0x5050_5050,
                    0x12,
                ),
            ));
            i += 2;
        }
    }
    frames
}

/// `capture.dns-unanswered` fires: 10.0.0.2 sends 10 queries (ids
/// 0x2000 + i, names hostI.example.org) to 10.0.0.53, one every 16.8 s
/// (i << 24 µs); none is answered, so the nine older than a second at
/// the end of the capture count as unanswered.
pub fn dns_unanswered() -> Frames {
    (0..10u16)
        .map(|i| {
            (
                u64::from(i) << 24,
                dns_query(i, Ipv4Addr::new(10, 0, 0, 53)),
            )
        })
        .collect()
}

/// Quiet for `capture.dns-unanswered`: the same 10 queries, sent within
/// the last 0.6 s of the capture (i << 16 µs): too young to be called
/// unanswered.
pub fn dns_in_flight() -> Frames {
    (0..10u16)
        .map(|i| {
            (
                u64::from(i) << 16,
                dns_query(i, Ipv4Addr::new(10, 0, 0, 53)),
            )
        })
        .collect()
}

/// `capture.ip-conflict` fires: ARP replies to the host claiming
/// 10.0.0.7, alternately from 02:00:00:00:00:07 and 02:00:00:00:00:08,
/// seven replies 65 ms apart: the binding flips six times.
pub fn ip_conflict() -> Frames {
    (0..7u8)
        .map(|i| {
            let mac = [2, 0, 0, 0, 0, 7 + i % 2];
            (
                u64::from(i) << 16,
                arp(2, mac, Ipv4Addr::new(10, 0, 0, 7), HOST, HOST_IP),
            )
        })
        .collect()
}

/// Quiet for `capture.ip-conflict`: the same six replies, all from
/// 02:00:00:00:00:07 (a neighbour answering), and one move of the
/// address to 02:00:00:00:00:08 at the end (a failover: one flip).
pub fn ip_moved_once() -> Frames {
    (0..7u8)
        .map(|i| {
            let mac = [2, 0, 0, 0, 0, if i == 6 { 8 } else { 7 }];
            (
                u64::from(i) << 16,
                arp(2, mac, Ipv4Addr::new(10, 0, 0, 7), HOST, HOST_IP),
            )
        })
        .collect()
}

/// The host's default gateway in the ARP scenarios: 10.0.0.1,
/// 02:00:00:00:00:01 (the [`PEER`] MAC).
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// An ARP request from the host for `target`, to the unicast [`PEER`]
/// MAC (a broadcast MAC is not ASCII).
fn ask(target: Ipv4Addr) -> Vec<u8> {
    let mut f = arp(1, HOST, HOST_IP, [0; 6], target);
    f[..6].copy_from_slice(&PEER);
    f
}

/// The neighbours of the ARP scenarios: 10.0.0.N at 02:00:00:00:00:N,
/// N = 10..=18.
fn neighbour(n: u8) -> (Mac, Ipv4Addr) {
    ([2, 0, 0, 0, 0, n], Ipv4Addr::new(10, 0, 0, n))
}

/// Quiet for the ARP rules: the host asks once for its gateway and for
/// each of nine neighbours 10.0.0.10..=18, and each request is answered
/// by a reply to the host; [`tick`]s apart (20 frames within 5 ms).
pub fn arp_normal() -> Frames {
    let mut frames = Vec::new();
    let mut i = 0;
    for (mac, ip) in std::iter::once((PEER, GATEWAY)).chain((10..=18).map(neighbour)) {
        frames.push((tick(i), ask(ip)));
        frames.push((tick(i + 1), arp(2, mac, ip, HOST, HOST_IP)));
        i += 2;
    }
    frames
}

/// `capture.gateway-arp-unanswered` fires: the host asks for seven
/// neighbours 10.0.0.10..=16 and each answers, but it asks for its
/// gateway 10.0.0.1 seven times, 65 ms apart, and no reply comes.
pub fn gateway_unanswered() -> Frames {
    let mut frames = Vec::new();
    let mut i = 0;
    for n in 10..=16 {
        let (mac, ip) = neighbour(n);
        frames.push((tick(i), ask(ip)));
        frames.push((tick(i + 1), arp(2, mac, ip, HOST, HOST_IP)));
        i += 2;
    }
    for k in 1..=7u64 {
        frames.push((k << 16 | 0x1000, ask(GATEWAY)));
    }
    frames
}

/// `capture.neighbour-storm` fires: 10.0.0.9 (02:00:00:00:00:09) asks for
/// 10.0.A.B (A = 1 + i / 100, B = 1 + i % 100), i = 0..276, [`tick`]s apart:
/// 276 requests within 0.2 s.
pub fn arp_storm() -> Frames {
    (0..276u64)
        .map(|i| {
            let target = Ipv4Addr::new(10, 0, 1 + (i / 100) as u8, 1 + (i % 100) as u8);
            let mut f = arp(
                1,
                [2, 0, 0, 0, 0, 9],
                Ipv4Addr::new(10, 0, 0, 9),
                [0; 6],
                target,
            );
            f[..6].copy_from_slice(&PEER);
            (tick(i), f)
        })
        .collect()
}

/// `capture.arp-spoofing` fires: nobody asks, yet 02:00:00:00:00:66 sends
/// the host fourteen ARP replies, 65 ms apart, claiming in turn the gateway
/// 10.0.0.1 and the neighbours 10.0.0.10 and 10.0.0.11 (the cache
/// poisoning of an on-path attacker).
pub fn arp_spoofing() -> Frames {
    (0..14u8)
        .map(|i| {
            let claimed = [GATEWAY, neighbour(10).1, neighbour(11).1][usize::from(i % 3)];
            (
                u64::from(i) << 16,
                arp(2, [2, 0, 0, 0, 0, 0x66], claimed, HOST, HOST_IP),
            )
        })
        .collect()
}

/// `capture.gratuitous-arp` fires: 10.0.0.7 (02:00:00:00:00:07) announces
/// its address four times, 65 ms apart (requests with sender address =
/// target address, to the unicast [`PEER`] MAC).
pub fn gratuitous() -> Frames {
    (0..4u8)
        .map(|i| {
            let ip = Ipv4Addr::new(10, 0, 0, 7);
            let mut f = arp(1, [2, 0, 0, 0, 0, 7], ip, [0; 6], ip);
            f[..6].copy_from_slice(&PEER);
            (u64::from(i) << 16, f)
        })
        .collect()
}

/// `capture.rst-storm` fires: the host answers 120 clients 10.1.A.B
/// (A = 1 + i / 100, B = 1 + i % 100, source port 0x4000 + i) from port
/// 80 with RST-ACK, [`tick`]s apart (120 RSTs within 0.1 s).
pub fn rst_storm() -> Frames {
    (0..120u16)
        .map(|i| {
            let client = Ipv4Addr::new(10, 1, 1 + (i / 100) as u8, 1 + (i % 100) as u8);
            let f = segment((HOST, HOST_IP, 80), (PEER, client, 0x4000 + i), 0, 0x14);
            (tick(u64::from(i)), f)
        })
        .collect()
}

/// A TCP segment of the bulk-transfer scenarios: `len` bytes of `x`
/// with ACK (PSH-ACK when it carries data) and `window`.
fn data(
    from: (Mac, Ipv4Addr, u16),
    to: (Mac, Ipv4Addr, u16),
    seq: u32,
    len: usize,
    window: u16,
) -> Vec<u8> {
    let mut t = tcp(from.2, to.2, seq, if len > 0 { 0x18 } else { 0x10 });
    t[14..16].copy_from_slice(&window.to_be_bytes());
    t.resize(20 + len, b'x');
    ethernet(to.0, from.0, 0x0800, &ipv4(from.1, to.1, 6, &t))
}

/// The sequence number of the `k`-th segment of the bulk-transfer
/// scenarios: 0x01010101 + 32 (k mod 4) + 256 (k / 4), so that every
/// byte stays ASCII (a gap of 128 bytes every fourth segment: the capture
/// missed them, which is not a retransmission).
fn seq(k: u32) -> u32 {
    0x0101_0101 + ((k / 4) << 8) + (k % 4) * 32
}

/// The server of the bulk-transfer scenarios: 10.0.0.100:80.
const SERVER: (Mac, Ipv4Addr, u16) = (PEER, Ipv4Addr::new(10, 0, 0, 100), 80);
/// The host's end of them: 10.0.0.2:0x7000.
const CLIENT: (Mac, Ipv4Addr, u16) = (HOST, HOST_IP, 0x7000);

/// Quiet for the TCP-health rules: 10.0.0.100:80 sends the host 30
/// segments of 32 bytes (sequence numbers by `seq`), each
/// acknowledged by the host with window 0x7210; [`tick`]s apart.
pub fn bulk_transfer() -> Frames {
    let mut frames = Vec::new();
    for k in 0..30u32 {
        let i = u64::from(k) * 2;
        frames.push((tick(i), data(SERVER, CLIENT, seq(k), 32, 0x7210)));
        frames.push((tick(i + 1), data(CLIENT, SERVER, 0x0202_0202, 0, 0x7210)));
    }
    frames
}

/// `capture.tcp-retransmissions` fires: [`bulk_transfer`], and every
/// third segment (k = 0, 3, ..., 27: 10 of them) is sent a second time
/// right after the first, same sequence number and length: 10
/// retransmissions of 40 data segments (25%).
pub fn bulk_retransmits() -> Frames {
    let mut frames = Vec::new();
    let mut i = 0u64;
    for k in 0..30u32 {
        let seg = data(SERVER, CLIENT, seq(k), 32, 0x7210);
        frames.push((tick(i), seg.clone()));
        if k % 3 == 0 {
            frames.push((tick(i + 1), seg));
            i += 1;
        }
        frames.push((tick(i + 1), data(CLIENT, SERVER, 0x0202_0202, 0, 0x7210)));
        i += 2;
    }
    frames
}

/// `capture.tcp-zero-window` fires: [`bulk_transfer`] for 10 segments,
/// then the host (a reader that stopped reading) advertises a zero window
/// in its next 9 ACKs while the server sends 1-byte zero-window probes;
/// [`tick`]s apart.
pub fn zero_window() -> Frames {
    let mut frames = Vec::new();
    let mut i = 0u64;
    for k in 0..19u32 {
        let (len, window) = if k < 10 { (32, 0x7210) } else { (1, 0) };
        let seq = seq(k.min(10));
        frames.push((tick(i), data(SERVER, CLIENT, seq, len, 0x7210)));
        frames.push((tick(i + 1), data(CLIENT, SERVER, 0x0202_0202, 0, window)));
        i += 2;
    }
    frames
}

/// `capture.icmp-unreachable` and `capture.icmp-redirects` fire: the
/// router 10.0.0.1 answers twelve UDP datagrams of the host (to
/// 10.9.0.N:1900, N = 1..=12) with ICMP destination unreachable, codes
/// port (3) and host (1) in turn, then sends the host three redirects
/// (type 5 code 1, new gateway 10.0.0.3); 65 ms apart. Each ICMP error
/// quotes the datagram's IP header and 8 bytes.
pub fn icmp_errors() -> Frames {
    let quote = |n: u8| {
        let mut q = ipv4(
            HOST_IP,
            Ipv4Addr::new(10, 9, 0, n),
            17,
            &udp(0x3000, 1900, b"ping"),
        );
        q.truncate(28);
        q
    };
    let mut frames = Vec::new();
    for n in 1..=15u8 {
        let (kind, code, rest) = if n <= 12 {
            (3, if n % 2 == 0 { 3 } else { 1 }, [0; 4])
        } else {
            (5, 1, [10, 0, 0, 3])
        };
        let m = icmp(kind, code, rest, &quote(n));
        frames.push((
            u64::from(n) << 16,
            ethernet(HOST, PEER, 0x0800, &ipv4(GATEWAY, HOST_IP, 1, &m)),
        ));
    }
    frames
}

/// `capture.broadcast-heavy` fires: ten hosts (the gateway and
/// 10.0.0.10..=18, MAC 02:00:00:00:00:N) each send 56 RIP-v1-like
/// updates (UDP 520 to 520, 8 bytes `RIPv1-up`) to 10.0.0.127, the broadcast
/// address of 10.0.0.0/25, on the Ethernet group address
/// 03:00:00:00:00:01 (the broadcast MAC is not ASCII; its group bit is
/// what counts); after each round of ten the host gets three 32-byte
/// segments from 10.0.0.100 (165 in all): 560 of 725 frames broadcast
/// (77%), [`tick`]s apart (0.4 s).
pub fn multicast_chatter() -> Frames {
    let all = Ipv4Addr::new(10, 0, 0, 127);
    let mut frames = Vec::new();
    let mut i = 0u64;
    let mut k = 0u32;
    for round in 0..56 {
        for (mac, ip) in std::iter::once((PEER, GATEWAY)).chain((10..=18).map(neighbour)) {
            let d = udp(520, 520, b"RIPv1-up");
            let f = ethernet([3, 0, 0, 0, 0, 1], mac, 0x0800, &ipv4(ip, all, 17, &d));
            frames.push((tick(i), f));
            i += 1;
        }
        if round < 55 {
            for _ in 0..3 {
                frames.push((tick(i), data(SERVER, CLIENT, seq(k), 32, 0x7210)));
                i += 1;
                k += 1;
            }
        }
    }
    frames
}

/// The server of the single-session scenarios (issue 24, class 10):
/// 10.0.0.100:443.
const WEB: (Mac, Ipv4Addr, u16) = (PEER, Ipv4Addr::new(10, 0, 0, 100), 443);
/// The host's end of them: 10.0.0.2:0x7100.
const BROWSER: (Mac, Ipv4Addr, u16) = (HOST, HOST_IP, 0x7100);

/// About one second in [`tick`]s (0.98 s).
const SECOND: u64 = 1920;

/// SYN, SYN-ACK, ACK between [`BROWSER`] and [`WEB`] at [`tick`]s 0 to 2,
/// then the browser's request (32 bytes) at 3 and the server's ACK at 4.
fn session_start() -> Frames {
    vec![
        (tick(0), segment(BROWSER, WEB, 0x0101_0101, 0x02)),
        (tick(1), segment(WEB, BROWSER, 0x0202_0202, 0x12)),
        (tick(2), segment(BROWSER, WEB, 0x0101_0102, 0x10)),
        (tick(3), data(BROWSER, WEB, 0x0101_0102, 32, 0x7210)),
        (tick(4), data(WEB, BROWSER, 0x0202_0203, 0, 0x7210)),
    ]
}

/// `session_start`, then the server's answer in `n` segments of 32
/// bytes (sequence numbers by [`seq`]), each acknowledged, from
/// [`tick`] 5 on; the next free tick.
fn session_answer(frames: &mut Frames, n: u32) -> u64 {
    let mut i = 5;
    for k in 0..n {
        frames.push((tick(i), data(WEB, BROWSER, seq(k), 32, 0x7210)));
        frames.push((tick(i + 1), data(BROWSER, WEB, 0x0101_0122, 0, 0x7210)));
        i += 2;
    }
    i
}

/// Quiet for the per-connection rules: one HTTPS session, opened,
/// answered in four segments and closed by both sides (FIN-ACK each,
/// then an ACK).
pub fn session_clean() -> Frames {
    let mut frames = session_start();
    let i = session_answer(&mut frames, 4);
    frames.push((tick(i), segment(BROWSER, WEB, 0x0101_0122, 0x11)));
    frames.push((tick(i + 1), segment(WEB, BROWSER, seq(4), 0x11)));
    frames.push((tick(i + 2), segment(BROWSER, WEB, 0x0101_0123, 0x10)));
    frames
}

/// `capture.tcp-connection-refused` fires: the host's SYN to
/// 10.0.0.100:8080 is answered by a RST-ACK (nothing listens there).
pub fn session_refused() -> Frames {
    let closed = (WEB.0, WEB.1, 8080);
    vec![
        (tick(0), segment(BROWSER, closed, 0x0101_0101, 0x02)),
        (tick(1), segment(closed, BROWSER, 0, 0x14)),
    ]
}

/// `capture.tcp-connect-timeout` fires: the host sends its SYN to
/// 10.0.0.100:443 three times, about 1 s and 3 s apart as Linux retries,
/// and nothing answers.
pub fn session_connect_timeout() -> Frames {
    [0, SECOND, 3 * SECOND]
        .into_iter()
        .map(|at| (tick(at), segment(BROWSER, WEB, 0x0101_0101, 0x02)))
        .collect()
}

/// `capture.tcp-retransmission-timeout` fires: `session_start`, four
/// segments of the answer acknowledged, the fifth unanswered and sent
/// again about a second later (a retransmission timeout), then
/// acknowledged.
pub fn session_stall() -> Frames {
    let mut frames = session_start();
    let i = session_answer(&mut frames, 4);
    let fifth = data(WEB, BROWSER, seq(4), 32, 0x7210);
    frames.push((tick(i), fifth.clone()));
    frames.push((tick(i + SECOND), fifth));
    frames.push((
        tick(i + SECOND + 1),
        data(BROWSER, WEB, 0x0101_0122, 0, 0x7210),
    ));
    frames
}

/// `session_start`, two segments of the answer, then a RST-ACK in the
/// server's name with IP TTL `ttl` (the server's other segments have 64).
fn session_reset(ttl: u8) -> Frames {
    let mut frames = session_start();
    let i = session_answer(&mut frames, 2);
    let mut rst = segment(WEB, BROWSER, seq(2), 0x14);
    // The TTL: byte 8 of the IPv4 header, after 14 of Ethernet.
    rst[22] = ttl;
    frames.push((tick(i), rst));
    frames
}

/// `capture.tcp-reset-injected` fires: `session_reset` with TTL 51: the
/// RST did not come from the server's TCP stack.
pub fn session_reset_injected() -> Frames {
    session_reset(51)
}

/// `capture.tcp-reset-after-data` fires: `session_reset` with TTL 64,
/// the server's own: it aborted the connection mid-answer.
pub fn session_reset_after_data() -> Frames {
    session_reset(64)
}

/// Section lengths of these files keep every byte below 0x80 too, which
/// is why the packet counts are what they are (108 ports, 11 servers,
/// seven replies).
///
/// Every scenario, by the name rule cases and fixtures refer to.
pub fn all() -> Vec<(&'static str, Frames)> {
    vec![
        ("syn_flood", syn_flood()),
        ("busy_server", busy_server()),
        ("gateway_typo", gateway_typo()),
        ("port_scan", port_scan()),
        ("browsing", browsing()),
        ("dns_unanswered", dns_unanswered()),
        ("dns_in_flight", dns_in_flight()),
        ("dns_refused", dns_refused()),
        ("dns_nxdomain_burst", dns_nxdomain_burst()),
        ("dns_retry_after_error", dns_retry_after_error()),
        ("dns_nxdomain_one_name", dns_nxdomain_one_name()),
        ("dhcp_no_offer", dhcp_no_offer()),
        ("dhcp_nak", dhcp_nak()),
        ("dhcp_lease", dhcp_lease()),
        ("ip_conflict", ip_conflict()),
        ("ip_moved_once", ip_moved_once()),
        ("arp_normal", arp_normal()),
        ("gateway_unanswered", gateway_unanswered()),
        ("arp_storm", arp_storm()),
        ("arp_spoofing", arp_spoofing()),
        ("gratuitous", gratuitous()),
        ("rst_storm", rst_storm()),
        ("bulk_transfer", bulk_transfer()),
        ("bulk_retransmits", bulk_retransmits()),
        ("zero_window", zero_window()),
        ("icmp_errors", icmp_errors()),
        ("multicast_chatter", multicast_chatter()),
        ("session_clean", session_clean()),
        ("session_refused", session_refused()),
        ("session_connect_timeout", session_connect_timeout()),
        ("session_stall", session_stall()),
        ("session_reset_injected", session_reset_injected()),
        ("session_reset_after_data", session_reset_after_data()),
    ]
}
