//! DNS queries through one nameserver, over UDP, with `hickory-proto`
//! building and reading the messages.
//!
//! The socket is connected to the server, so an ICMP port unreachable (no
//! resolver running there) comes back at once as `unreachable` instead of
//! a timeout. A response whose id does not match is ignored. A truncated
//! (TC) response is asked again over TCP (RFC 7766) within one more
//! timeout; when the TCP query fails, the truncated response's rcode is
//! kept, with the TCP error.

use crate::facts::probe::Outcome;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
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
    /// The UDP response was truncated and this answer came over TCP.
    pub tcp: bool,
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
        tcp: false,
    }
}

/// The answer a response gives.
fn answer_of(response: &Message, latency: Duration, tcp: bool) -> Answer {
    let code = response.response_code();
    let outcome = if matches!(code, ResponseCode::NoError | ResponseCode::NXDomain) {
        Outcome::Reply
    } else {
        Outcome::Failed
    };
    Answer {
        outcome,
        rcode: format!("{code:?}"),
        answers: response
            .answers()
            .iter()
            .take(8)
            .map(|r| r.data().to_string())
            .collect(),
        latency,
        error: String::new(),
        tcp,
    }
}

/// Sends `query` to `server` over TCP (two-byte length prefix, RFC 1035
/// 4.2.2) and reads the response, all within `timeout`.
fn over_tcp(
    server: SocketAddr,
    query: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<Message, String> {
    use std::io::{Read, Write};
    let deadline = Instant::now() + timeout;
    let left = || {
        let d = deadline.saturating_duration_since(Instant::now());
        (!d.is_zero()).then_some(d).ok_or("timed out".to_string())
    };
    let mut stream =
        TcpStream::connect_timeout(&server, left()?).map_err(|e| format!("connect: {e}"))?;
    let len = u16::try_from(query.len()).map_err(|_| "query too long".to_string())?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    stream
        .set_write_timeout(Some(left()?))
        .and_then(|()| stream.write_all(&framed))
        .map_err(|e| format!("send: {e}"))?;
    let mut head = [0u8; 2];
    stream
        .set_read_timeout(Some(left()?))
        .and_then(|()| stream.read_exact(&mut head))
        .map_err(|e| format!("receive: {e}"))?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(head))];
    stream
        .set_read_timeout(Some(left()?))
        .and_then(|()| stream.read_exact(&mut body))
        .map_err(|e| format!("receive: {e}"))?;
    let response = Message::from_vec(&body).map_err(|e| format!("not a DNS message: {e}"))?;
    if response.id() != id || response.message_type() != MessageType::Response {
        return Err("the response does not match the query".into());
    }
    Ok(response)
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
                    if !response.truncated() {
                        return answer_of(&response, sent.elapsed(), false);
                    }
                    return match over_tcp(server, &bytes, id, timeout) {
                        Ok(full) => answer_of(&full, sent.elapsed(), true),
                        Err(err) => Answer {
                            error: format!("truncated over UDP; TCP retry: {err}"),
                            ..answer_of(&response, sent.elapsed(), false)
                        },
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

    /// A UDP responder that answers every query truncated (TC, no
    /// records), on a free port; with `tcp`, a TCP responder on the same
    /// port that answers in full.
    fn truncating_server(tcp: bool) -> (u16, std::thread::JoinHandle<()>) {
        use hickory_proto::rr::{rdata::A, RData, Record};
        use std::io::{Read, Write};
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("addr").port();
        let listener = tcp.then(|| std::net::TcpListener::bind(("127.0.0.1", port)).expect("tcp"));
        let handle = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let (n, from) = udp.recv_from(&mut buf).expect("query");
            let query = Message::from_vec(&buf[..n]).expect("parse query");
            let mut truncated = query.clone();
            truncated
                .set_message_type(MessageType::Response)
                .set_truncated(true);
            udp.send_to(&truncated.to_vec().expect("enc"), from)
                .expect("send");
            let Some(listener) = listener else { return };
            let (mut stream, _) = listener.accept().expect("accept");
            let mut head = [0u8; 2];
            stream.read_exact(&mut head).expect("length");
            let mut body = vec![0u8; usize::from(u16::from_be_bytes(head))];
            stream.read_exact(&mut body).expect("query over tcp");
            let query = Message::from_vec(&body).expect("parse tcp query");
            let name = query.queries()[0].name().clone();
            let mut full = query.clone();
            full.set_message_type(MessageType::Response);
            full.add_answer(Record::from_rdata(
                name,
                60,
                RData::A(A::new(192, 0, 2, 99)),
            ));
            let bytes = full.to_vec().expect("enc");
            let mut framed = u16::try_from(bytes.len())
                .expect("short")
                .to_be_bytes()
                .to_vec();
            framed.extend_from_slice(&bytes);
            stream.write_all(&framed).expect("send over tcp");
        });
        (port, handle)
    }

    #[test]
    fn a_truncated_answer_is_asked_again_over_tcp() {
        let (port, handle) = truncating_server(true);
        let answer = query_port(port);
        handle.join().expect("server");
        assert_eq!(answer.outcome, Outcome::Reply, "{answer:?}");
        assert!(answer.tcp);
        assert_eq!(answer.answers, ["192.0.2.99"]);
        assert!(answer.error.is_empty(), "{answer:?}");
    }

    #[test]
    fn a_truncated_answer_stands_when_tcp_fails() {
        let (port, handle) = truncating_server(false);
        let answer = query_port(port);
        handle.join().expect("server");
        assert_eq!(answer.outcome, Outcome::Reply, "{answer:?}");
        assert_eq!(answer.rcode, "NoError");
        assert!(!answer.tcp);
        assert!(
            answer
                .error
                .starts_with("truncated over UDP; TCP retry: connect:"),
            "{answer:?}"
        );
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
