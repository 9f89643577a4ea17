//! The captures behind the capture rules' cases and fixtures, one function
//! per scenario, each documenting the shape of its packets.
//!
//! Rule cases carry text, so these captures are pcapng files whose every
//! byte is ASCII (see [`super::build::toml_string`]): MACs, addresses,
//! ports and lengths keep each byte below 0x80, TCP windows are 0x7210,
//! and timestamps are built by [`tick`] so that no byte of them reaches
//! 0x80. A test checks that `rules/capture.toml` holds exactly these
//! bytes; `DIAG_PRINT_CASE=1 cargo test -p diag-core print_rule_cases`
//! prints them.

use super::build::{arp, dns, ethernet, ipv4, tcp, udp, Mac};
use std::net::Ipv4Addr;

/// Frames with their times in microseconds, as [`super::build::pcapng`]
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
        ("ip_conflict", ip_conflict()),
        ("ip_moved_once", ip_moved_once()),
    ]
}
