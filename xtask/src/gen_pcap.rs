//! Writes a pcap of mixed traffic for the capture benchmark
//! (`benches/capture.sh`): `xtask gen-pcap OUT PACKETS` (defaults:
//! `mixed.pcap`, 1,000,000).
//!
//! Per 20 packets: one TCP connection (SYN, SYN-ACK, six data segments of
//! 200 bytes), 4 UDP datagrams, 2 DNS queries and their 2 responses, 2 ARP
//! requests and 1 reply, 1 ICMP echo; 1,000 client addresses, 50,000
//! connections, 10 µs apart.
//!
//! Until session 5 the ports of the SYN-ACK, the data and the DNS answers
//! did not match their SYN or query: every TCP segment was a flow of its
//! own (a 100,000-entry table overflowing) and DNS went unanswered, which
//! is a flood, not the mixed traffic this file means to be.

use diag_core::parse::pcap::build::{arp, dns, ethernet, ipv4, tcp, udp};
use std::io::Write;
use std::net::Ipv4Addr;

/// Runs `gen-pcap` with its arguments.
pub fn main(args: Vec<String>) -> std::io::Result<()> {
    let mut args = args.into_iter();
    let out = args.next().unwrap_or_else(|| "mixed.pcap".into());
    let n: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    file.write_all(&diag_core::parse::pcap::build::pcap_header(1, 65_535))?;
    let server = Ipv4Addr::new(10, 0, 0, 2);
    let a = [2, 0, 0, 0, 0, 1];
    let b = [2, 0, 0, 0, 0, 2];
    let payload = vec![0x41u8; 200];
    for i in 0..n {
        let c = (i / 20) % 1000;
        let client = Ipv4Addr::new(10, 1, (c / 250) as u8, (c % 250) as u8 + 1);
        // One connection per group of 20 packets: 50,000 distinct ones
        // before a client port comes back.
        let g = i / 20;
        let sport = 1_024 + (g % 50_000) as u16;
        let frame = match i % 20 {
            0 => ethernet(
                b,
                a,
                0x0800,
                &ipv4(client, server, 6, &tcp(sport, 443, 1, 0x02)),
            ),
            1 => ethernet(
                a,
                b,
                0x0800,
                &ipv4(server, client, 6, &tcp(443, sport, 9, 0x12)),
            ),
            2..=7 => {
                // Consecutive 200-byte segments of the connection.
                let mut seg = tcp(sport, 443, 2 + 200 * (i % 20 - 2) as u32, 0x18);
                seg.extend_from_slice(&payload);
                ethernet(b, a, 0x0800, &ipv4(client, server, 6, &seg))
            }
            8..=11 => ethernet(
                b,
                a,
                0x0800,
                &ipv4(client, server, 17, &udp(sport, 5000, &payload[..64])),
            ),
            12 | 13 => {
                let q = dns((i % 65_536) as u16, "www.example.org", None);
                ethernet(b, a, 0x0800, &ipv4(client, server, 17, &udp(sport, 53, &q)))
            }
            14 | 15 => {
                // The answer to the query two packets before (same id).
                let r = dns(((i - 2) % 65_536) as u16, "www.example.org", Some(0));
                ethernet(a, b, 0x0800, &ipv4(server, client, 17, &udp(53, sport, &r)))
            }
            16 | 17 => arp(1, a, client, [0; 6], server),
            18 => arp(2, b, server, a, client),
            _ => ethernet(
                b,
                a,
                0x0800,
                &ipv4(client, server, 1, &[8, 0, 0, 0, 0, 1, 0, 1]),
            ),
        };
        let micros = i * 10;
        file.write_all(&((micros / 1_000_000) as u32).to_le_bytes())?;
        file.write_all(&((micros % 1_000_000) as u32).to_le_bytes())?;
        let len = (frame.len() as u32).to_le_bytes();
        file.write_all(&len)?;
        file.write_all(&len)?;
        file.write_all(&frame)?;
    }
    file.flush()
}
