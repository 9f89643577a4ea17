//! DNS queries through one nameserver, over UDP, with `hickory-proto`
//! building and reading the messages.
//!
//! The socket is connected to the server, so an ICMP port unreachable (no
//! resolver running there) comes back at once as `unreachable` instead of
//! a timeout. A response whose id does not match is ignored. A truncated
//! (TC) response is taken as it is: its rcode is what this probe needs.

use crate::parse::probe::Outcome;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The result of one query.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// `reply` (NOERROR or NXDOMAIN), `failed` (another rcode), `timeout`,
    /// `unreachable` or `error`.
    pub outcome: Outcome,
    /// The response code, empty without a response.
    pub rcode: String,
    /// The answer records' data, as text.
    pub answers: Vec<String>,
    /// Time to the response (or to giving up).
    pub latency: Duration,
    /// The error text, when there was one.
    pub error: String,
}

fn query_id() -> u16 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    ((nanos ^ std::process::id().rotate_left(16)) & 0xffff) as u16
}

fn failure(outcome: Outcome, latency: Duration, error: String) -> Answer {
    Answer {
        outcome,
        rcode: String::new(),
        answers: Vec::new(),
        latency,
        error,
    }
}

/// Asks `server` (port 53) for `name`/`qtype`, waiting `timeout` per
/// attempt, `retries` more attempts after a timeout.
pub fn query(
    server: IpAddr,
    name: &str,
    qtype: RecordType,
    timeout: Duration,
    retries: u32,
) -> Answer {
    query_at(SocketAddr::new(server, 53), name, qtype, timeout, retries)
}

/// [`query`] to any port.
pub fn query_at(
    server: SocketAddr,
    name: &str,
    qtype: RecordType,
    timeout: Duration,
    retries: u32,
) -> Answer {
    let started = Instant::now();
    let name = match Name::from_ascii(name) {
        Ok(mut n) => {
            n.set_fqdn(true);
            n
        }
        Err(err) => return failure(Outcome::Error, Duration::ZERO, format!("bad name: {err}")),
    };
    let id = query_id();
    let mut message = Message::new();
    message
        .set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(name, qtype));
    let bytes = match message.to_vec() {
        Ok(b) => b,
        Err(err) => return failure(Outcome::Error, Duration::ZERO, err.to_string()),
    };
    let local: SocketAddr = match server.ip() {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = match UdpSocket::bind(local).and_then(|s| {
        s.connect(server)?;
        Ok(s)
    }) {
        Ok(s) => s,
        Err(err) => {
            return failure(
                super::tcp::classify(&err),
                started.elapsed(),
                err.to_string(),
            )
        }
    };
    let mut buf = [0u8; 4096];
    for _ in 0..=retries {
        let sent = Instant::now();
        if let Err(err) = socket.send(&bytes) {
            return failure(super::tcp::classify(&err), sent.elapsed(), err.to_string());
        }
        loop {
            let left = timeout.saturating_sub(sent.elapsed());
            if left.is_zero() {
                break;
            }
            if socket.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match socket.recv(&mut buf) {
                Ok(n) => {
                    let Ok(response) = Message::from_vec(&buf[..n]) else {
                        continue;
                    };
                    if response.id() != id || response.message_type() != MessageType::Response {
                        continue;
                    }
                    let code = response.response_code();
                    let outcome = if matches!(code, ResponseCode::NoError | ResponseCode::NXDomain)
                    {
                        Outcome::Reply
                    } else {
                        Outcome::Failed
                    };
                    return Answer {
                        outcome,
                        rcode: format!("{code:?}"),
                        answers: response
                            .answers()
                            .iter()
                            .take(8)
                            .map(|r| r.data().to_string())
                            .collect(),
                        latency: sent.elapsed(),
                        error: String::new(),
                    };
                }
                Err(err)
                    if matches!(
                        err.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    break;
                }
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    // ECONNREFUSED here is an ICMP port unreachable: no
                    // resolver listens on that address.
                    let outcome = match err.kind() {
                        std::io::ErrorKind::ConnectionRefused => Outcome::Unreachable,
                        _ => super::tcp::classify(&err),
                    };
                    return failure(outcome, sent.elapsed(), err.to_string());
                }
            }
        }
    }
    failure(Outcome::Timeout, timeout, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real DNS responder on loopback: answers the query with SERVFAIL,
    /// after one reply with a wrong id that must be ignored.
    #[test]
    fn rcode_of_a_real_response_and_wrong_ids_are_ignored() {
        let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = server.local_addr().expect("addr").port();
        let handle = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let (n, from) = server.recv_from(&mut buf).expect("query");
            let query = Message::from_vec(&buf[..n]).expect("parse query");
            let mut wrong = query.clone();
            wrong
                .set_id(query.id().wrapping_add(1))
                .set_message_type(MessageType::Response);
            server
                .send_to(&wrong.to_vec().expect("enc"), from)
                .expect("send");
            let mut reply = query.clone();
            reply
                .set_message_type(MessageType::Response)
                .set_response_code(ResponseCode::ServFail);
            server
                .send_to(&reply.to_vec().expect("enc"), from)
                .expect("send");
        });
        let answer = query_port(port);
        handle.join().expect("server");
        assert_eq!(answer.outcome, Outcome::Failed, "{answer:?}");
        assert_eq!(answer.rcode, "ServFail");
    }

    fn query_port(port: u16) -> Answer {
        // The public entry point asks port 53; the test server cannot
        // bind it, so it goes through the same code with another port.
        query_at(
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            "example.test",
            RecordType::A,
            Duration::from_secs(2),
            0,
        )
    }

    #[test]
    fn nobody_listening_is_unreachable_not_a_timeout() {
        let free = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("free port")
            .port();
        let answer = query_port(free);
        assert_eq!(answer.outcome, Outcome::Unreachable, "{answer:?}");
        assert!(answer.latency < Duration::from_secs(1));
    }
}
