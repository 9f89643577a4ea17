//! Builds frames and pcap files: the generator behind diag's capture
//! fixtures and tests, so every packet a fixture holds has a documented
//! shape (see `tests/gen_pcap.rs`).
//!
//! Frames are Ethernet II; IPv4 headers carry no options and a zero
//! checksum (diag does not check checksums, neither do captures of
//! offloading NICs); TCP headers are 20 bytes.

use std::net::Ipv4Addr;

/// A MAC address.
pub type Mac = [u8; 6];

/// The broadcast MAC address.
pub const BROADCAST: Mac = [0xff; 6];

/// An Ethernet II frame.
pub fn ethernet(dst: Mac, src: Mac, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An Ethernet ARP frame (op 1 request, broadcast; op 2 reply, unicast to
/// `tha`).
pub fn arp(op: u16, sha: Mac, spa: Ipv4Addr, tha: Mac, tpa: Ipv4Addr) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4];
    a.extend_from_slice(&op.to_be_bytes());
    a.extend_from_slice(&sha);
    a.extend_from_slice(&spa.octets());
    a.extend_from_slice(&tha);
    a.extend_from_slice(&tpa.octets());
    let dst = if op == 1 { BROADCAST } else { tha };
    ethernet(dst, sha, 0x0806, &a)
}

/// An IPv4 packet (20-byte header) around `payload`.
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// A 20-byte TCP header with `flags` (SYN 0x02, ACK 0x10, RST 0x04).
pub fn tcp(sport: u16, dport: u16, seq: u32, flags: u8) -> Vec<u8> {
    let mut t = Vec::with_capacity(20);
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    t
}

/// An ICMP message (`kind`, `code`, zero checksum, 4 unused bytes, or the
/// new gateway of a redirect) around `payload` (for errors: the IP header
/// and first 8 bytes of the datagram that caused them).
pub fn icmp(kind: u8, code: u8, rest: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut m = vec![kind, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(payload);
    m
}

/// A UDP header around `payload`.
pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&len.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// A DNS message with one question (`name`, type A): a query, or a
/// response with `rcode` and no answers.
pub fn dns(id: u16, name: &str, response: Option<u8>) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    match response {
        None => m.extend_from_slice(&[0x01, 0x00]),
        Some(rcode) => m.extend_from_slice(&[0x81, 0x80 | (rcode & 0x0f)]),
    }
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        m.push(u8::try_from(label.len().min(63)).unwrap_or(63));
        m.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    m
}

/// The 24-byte header of a classic pcap file: little-endian, microsecond
/// timestamps, version 2.4.
pub fn pcap_header(link_type: u32, snaplen: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&snaplen.to_le_bytes());
    out.extend_from_slice(&link_type.to_le_bytes());
    out
}

/// A classic pcap file (microsecond timestamps, little-endian, link type
/// `link_type`) holding `frames`, each with its time in microseconds.
pub fn pcap(link_type: u32, frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = pcap_header(link_type, 262_144);
    for (micros, data) in frames {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(
            &u32::try_from(micros / 1_000_000)
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        out.extend_from_slice(&u32::try_from(micros % 1_000_000).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// A pcapng file (one section, one interface of `link_type`) holding
/// `frames`, each with its time in microseconds.
pub fn pcapng(link_type: u16, frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    // Interface description block: no options.
    body.extend_from_slice(&1u32.to_le_bytes());
    body.extend_from_slice(&20u32.to_le_bytes());
    body.extend_from_slice(&link_type.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&16_384u32.to_le_bytes());
    body.extend_from_slice(&20u32.to_le_bytes());
    for (micros, data) in frames {
        let padded = data.len().div_ceil(4) * 4;
        let len = u32::try_from(32 + padded).unwrap_or(u32::MAX);
        let captured = u32::try_from(data.len()).unwrap_or(u32::MAX);
        body.extend_from_slice(&6u32.to_le_bytes());
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&u32::try_from(micros >> 32).unwrap_or(0).to_le_bytes());
        body.extend_from_slice(
            &u32::try_from(micros & 0xffff_ffff)
                .unwrap_or(0)
                .to_le_bytes(),
        );
        body.extend_from_slice(&captured.to_le_bytes());
        body.extend_from_slice(&captured.to_le_bytes());
        body.extend_from_slice(data);
        body.resize(body.len() + padded - data.len(), 0);
        body.extend_from_slice(&len.to_le_bytes());
    }
    let mut out = Vec::with_capacity(28 + body.len());
    out.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
    out.extend_from_slice(&28u32.to_le_bytes());
    out.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&28u32.to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// `bytes` as a TOML basic string (control characters escaped), when
/// every byte is ASCII: rule cases carry text, so a capture in a case must
/// be a pcapng whose every byte is below 0x80 (unicast MACs, addresses
/// and lengths below 128 per byte).
pub fn toml_string(bytes: &[u8]) -> Option<String> {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(b)),
            0..=0x7f => s.push_str(&format!("\\u{b:04X}")),
            _ => return None,
        }
    }
    s.push('"');
    Some(s)
}
