//! TCP connections one by one, in small captures (issue 24, class 10).
//!
//! What a user brings to show one failing session is a capture of one or
//! two connections: a refused connect, a SYN never answered, a stall then
//! a retransmission, a RST in the middle of a transfer. The aggregate
//! capture rules need tens of packets of a kind before they say anything;
//! these connections are judged one at a time instead.
//!
//! A capture is *small* while it has at most [`MAX_CONNECTIONS`]
//! connections: each is looked up in a short list (a linear search beats
//! a hash on a list this short, and a capture of one bulk flow finds its
//! connection first every time). The 17th connection drops the list: a
//! busy capture is the aggregate rules' business, and costs one branch per
//! segment from then on.
//!
//! - The *client* is the side that sent the SYN (without one: the side
//!   the SYN-ACK went to, else the first segment's sender).
//! - A *stall* is the silence of the whole connection before a segment
//!   that repeats bytes or a SYN already sent: at least [`STALL_NS`]
//!   (Linux's minimum retransmission timeout) is a retransmission timeout,
//!   not a fast retransmit.
//! - A RST's *TTL* is compared, when the capture ends, with its sender's
//!   other segments in the connection, before or after it: a host's TCP
//!   stack sends every segment of a connection with one initial TTL over
//!   one path, so a RST that arrives with another TTL was sent by
//!   something else on the path (a firewall, an IPS, a censor) in the
//!   peer's name. The real trace `zeek__tcp_rst-inject-rae.pcap` shows
//!   why after too: the injected RST answers the SYN before the server's
//!   own SYN-ACK (and its TTL) arrives.

use super::decode::Decoded;
use super::{file, Analyser, Quad};
use crate::model::Record;
use serde::Serialize;
use std::net::IpAddr;

/// Connections a capture may have and still be judged one by one.
pub const MAX_CONNECTIONS: usize = 16;

/// Silence before a retransmission that makes it a timeout: 200 ms,
/// Linux's minimum retransmission timeout (`TCP_RTO_MIN`).
pub const STALL_NS: u128 = 200_000_000;

/// One TCP connection of a small capture.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Connection {
    /// Canonical input name of the capture.
    pub input: String,
    /// The client's `address:port` (`[v6]:port`).
    pub client: String,
    /// The server's.
    pub server: String,
    /// SYNs the client sent (more than one: it retried).
    pub syns: u64,
    /// The server answered a SYN with a SYN-ACK.
    pub synack: bool,
    /// Segments carrying data, both ways.
    pub data_segments: u64,
    /// Segments that repeated data or a SYN already sent.
    pub retransmits: u64,
    /// The longest silence of the connection before a retransmission, in
    /// milliseconds (0 without one).
    pub stall_ms: u64,
    /// Seconds from the connection's first segment to its last.
    pub seconds: f64,
    /// `client` or `server` when a RST from that side's own stack (its TTL
    /// that of the side's other segments, or unknown) ended it, else
    /// empty.
    pub reset_by: String,
    /// That RST answered a SYN and the server never sent a SYN-ACK: the
    /// connection was refused (port closed, or a firewall's REJECT).
    pub refused: bool,
    /// That RST came after data had been exchanged.
    pub reset_after_data: bool,
    /// RSTs whose TTL (hop limit) differs from their sender's other
    /// segments in the connection, before or after them: sent by
    /// something on the path in that side's name.
    pub injected_resets: u64,
    /// `client` or `server`: in whose name the first of them came.
    pub injected_by: String,
    /// Its TTL.
    pub injected_ttl: u64,
    /// The TTL of that side's own segments.
    pub sender_ttl: u64,
    /// The client's first SYN (or the first segment), as evidence.
    pub first: Record,
    /// The retransmission after the longest stall (empty input when none).
    pub stall: Record,
    /// The RST of `reset_by` (empty input when none).
    pub reset: Record,
    /// The first injected RST (empty input when none).
    pub injected: Record,
}

impl Connection {
    /// A connection with a default record in each place (the shape rule
    /// conditions are checked against).
    pub fn schema_sample() -> Connection {
        Connection::default()
    }
}

/// A tracked connection and what judging it needs beyond [`Connection`].
#[derive(Debug, Clone)]
pub(super) struct Tracked {
    /// Client address and port, server address and port.
    key: Quad,
    /// Time of the connection's first and last segment.
    first_ns: u128,
    last_ns: u128,
    /// The TTL of the client's and the server's segments other than RSTs
    /// (the last seen; 0 before one).
    client_ttl: u8,
    server_ttl: u8,
    /// The first RSTs: from the client, TTL, data seen before it, SYN-ACK
    /// seen before it, the frame (judged when the capture ends: a side's
    /// own TTL may only show after the RST).
    resets: Vec<Reset>,
    conn: Connection,
}

/// A RST, judged when the capture ends.
#[derive(Debug, Clone)]
struct Reset {
    from_client: bool,
    ttl: u8,
    after_data: bool,
    after_synack: bool,
    record: Record,
}

/// RSTs of one connection kept for judging (the first few tell).
const RESETS: usize = 4;

impl Tracked {
    /// The connection, its RSTs judged against each side's own TTL.
    fn judged(self) -> Connection {
        let mut c = self.conn;
        c.seconds = self.last_ns.saturating_sub(self.first_ns) as f64 / 1e9;
        let side = |from_client: bool| if from_client { "client" } else { "server" };
        for r in self.resets {
            let own = if r.from_client {
                self.client_ttl
            } else {
                self.server_ttl
            };
            if own != 0 && own != r.ttl {
                c.injected_resets += 1;
                if c.injected.input.is_empty() {
                    c.injected_by = side(r.from_client).to_string();
                    c.injected_ttl = u64::from(r.ttl);
                    c.sender_ttl = u64::from(own);
                    c.injected = r.record;
                }
            } else if c.reset_by.is_empty() {
                c.reset_by = side(r.from_client).to_string();
                c.refused = !r.from_client && !r.after_synack && !c.synack && c.syns > 0;
                c.reset_after_data = r.after_data;
                c.reset = r.record;
            }
        }
        c
    }
}

/// The connections of one capture while it is small.
#[derive(Debug, Clone, Default)]
pub(super) struct Connections {
    list: Vec<Tracked>,
    /// More than [`MAX_CONNECTIONS`] were seen: the list was dropped.
    over: bool,
}

impl Connections {
    /// The connections, in the order they started; empty for a capture
    /// that was not small.
    pub(super) fn finish(self) -> Vec<Connection> {
        if self.over {
            return Vec::new();
        }
        self.list.into_iter().map(Tracked::judged).collect()
    }
}

/// `address:port`, with brackets around an IPv6 address.
fn endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

impl Analyser<'_> {
    /// Counts a TCP segment in its connection, while the capture is
    /// small; `data` says it carries data, `repeat` that the data was
    /// sent before.
    pub(super) fn connection(
        &mut self,
        f: &file::Frame<'_>,
        d: &Decoded<'_>,
        (src, sport, dst, dport): (IpAddr, u16, IpAddr, u16),
        data: bool,
        repeat: bool,
    ) {
        if self.connections.over {
            return;
        }
        let forward = Quad(src, sport, dst, dport);
        let backward = Quad(dst, dport, src, sport);
        let found = self
            .connections
            .list
            .iter()
            .position(|t| t.key == forward || t.key == backward);
        let at = match found {
            Some(at) => at,
            None if self.connections.list.len() >= MAX_CONNECTIONS => {
                self.connections = Connections {
                    list: Vec::new(),
                    over: true,
                };
                return;
            }
            None => {
                // The SYN-ACK's receiver is the client; else the sender.
                let key = if d.is_synack() { backward } else { forward };
                let conn = Connection {
                    input: self.input.clone(),
                    client: endpoint(key.0, key.1),
                    server: endpoint(key.2, key.3),
                    first: self.record(f.number, self.describe(f.number, f.time_ns, d, f.wire_len)),
                    ..Connection::default()
                };
                self.connections.list.push(Tracked {
                    key,
                    first_ns: f.time_ns,
                    last_ns: f.time_ns,
                    client_ttl: 0,
                    server_ttl: 0,
                    resets: Vec::new(),
                    conn,
                });
                self.connections.list.len() - 1
            }
        };
        let from_client = self.connections.list[at].key == forward;
        let syn = d.is_syn();
        let resend = {
            let t = &self.connections.list[at];
            (syn && from_client && t.conn.syns > 0) || repeat
        };
        let stall_ns = f.time_ns.saturating_sub(self.connections.list[at].last_ns);
        let (record_stall, record_reset) = {
            let t = &self.connections.list[at];
            (
                resend
                    && stall_ns / 1_000_000 > u128::from(t.conn.stall_ms)
                    && stall_ns >= STALL_NS,
                d.is_rst() && t.resets.len() < RESETS,
            )
        };
        let described = (record_stall || record_reset)
            .then(|| self.record(f.number, self.describe(f.number, f.time_ns, d, f.wire_len)));
        let t = &mut self.connections.list[at];
        t.last_ns = t.last_ns.max(f.time_ns);
        let c = &mut t.conn;
        if syn && from_client {
            c.syns += 1;
        }
        if d.is_synack() && !from_client {
            c.synack = true;
        }
        if data {
            c.data_segments += 1;
        }
        if resend {
            c.retransmits += 1;
        }
        if record_stall {
            c.stall_ms = u64::try_from(stall_ns / 1_000_000).unwrap_or(u64::MAX);
            c.stall = described.clone().unwrap_or_default();
        }
        if !d.is_rst() {
            if from_client {
                t.client_ttl = d.ttl;
            } else {
                t.server_ttl = d.ttl;
            }
            return;
        }
        if record_reset {
            t.resets.push(Reset {
                from_client,
                ttl: d.ttl,
                after_data: c.data_segments > 0,
                after_synack: c.synack,
                record: described.unwrap_or_default(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{analyse, build};
    use super::*;
    use diag_test_support::pcap_scenarios as scenarios;

    fn connections(frames: &scenarios::Frames) -> Vec<Connection> {
        let bytes = build::pcapng(1, frames);
        analyse("capture/eth0.pcapng", &bytes).0.tcp.connections
    }

    #[test]
    fn one_session_is_judged_on_its_own() {
        let clean = connections(&scenarios::session_clean());
        assert_eq!(clean.len(), 1, "{clean:?}");
        let c = &clean[0];
        assert_eq!(
            (c.client.as_str(), c.server.as_str()),
            ("10.0.0.2:28928", "10.0.0.100:443")
        );
        assert_eq!(
            (c.syns, c.synack, c.retransmits, c.stall_ms),
            (1, true, 0, 0)
        );
        assert_eq!(c.data_segments, 5);
        assert!(c.reset_by.is_empty() && c.reset.input.is_empty());
        assert!(
            c.first.excerpt.contains("10.0.0.2.28928 > 10.0.0.100.443"),
            "{:?}",
            c.first
        );

        let refused = connections(&scenarios::session_refused());
        let c = &refused[0];
        assert_eq!(c.server, "10.0.0.100:8080");
        assert!(
            c.refused && !c.reset_after_data && c.injected_resets == 0,
            "{c:?}"
        );
        assert_eq!(c.reset_by, "server");
        assert_eq!(c.reset.line, 2);

        let timeout = connections(&scenarios::session_connect_timeout());
        let c = &timeout[0];
        assert_eq!((c.syns, c.synack, c.retransmits), (3, false, 2));
        // The longest silence: the second retry, ~2 s after the first.
        assert!((1900..2100).contains(&c.stall_ms), "{c:?}");
        assert_eq!(c.stall.line, 3);

        let stall = connections(&scenarios::session_stall());
        let c = &stall[0];
        assert_eq!(c.retransmits, 1);
        assert!((900..1100).contains(&c.stall_ms), "{c:?}");
        assert!(c.seconds > 0.9, "{c:?}");

        let injected = connections(&scenarios::session_reset_injected());
        let c = &injected[0];
        assert!(c.reset_by.is_empty() && c.injected_resets == 1, "{c:?}");
        assert_eq!((c.injected_ttl, c.sender_ttl), (51, 64));
        assert_eq!(c.injected_by, "server");
        let genuine = connections(&scenarios::session_reset_after_data());
        let c = &genuine[0];
        assert!(
            c.reset_after_data && c.injected_resets == 0 && !c.refused,
            "{c:?}"
        );
        assert_eq!(c.reset_by, "server");
    }

    /// A real trace (Zeek's test suite, vendored in tests/corpus): a RST
    /// with TTL 46 answers the SYN, then the server, whose segments have
    /// TTL 49, completes the handshake: an injected RST, not a refusal;
    /// the server's own RST after the request is the connection's end.
    #[test]
    fn a_reset_injected_before_the_servers_answer_is_not_a_refusal() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/corpus/pcap/zeek__tcp_rst-inject-rae.pcap"
        );
        let bytes = std::fs::read(path).expect("vendored corpus pcap");
        let conns = analyse("capture/eth0.pcap", &bytes).0.tcp.connections;
        assert_eq!(conns.len(), 1, "{conns:?}");
        let c = &conns[0];
        assert_eq!(
            (c.client.as_str(), c.server.as_str()),
            ("1.2.0.2:2527", "1.2.0.3:6649")
        );
        assert!(!c.refused && c.synack, "{c:?}");
        assert_eq!(
            (c.injected_resets, c.injected_ttl, c.sender_ttl),
            (1, 46, 49)
        );
        assert_eq!(c.injected.line, 2);
        assert_eq!(c.reset_by, "server");
        assert!(c.reset_after_data, "{c:?}");
    }

    /// Past [`MAX_CONNECTIONS`] the capture is busy: no list at all.
    #[test]
    fn a_busy_capture_has_no_connection_list() {
        assert!(connections(&scenarios::rst_storm()).is_empty());
        assert!(connections(&scenarios::syn_flood()).is_empty());
        // And a capture without TCP has an empty one.
        assert!(connections(&scenarios::dns_refused()).is_empty());
    }
}
