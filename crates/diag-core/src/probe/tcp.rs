//! TCP connect probes: bounded concurrency, a per-attempt timeout, retries,
//! and a global rate limit on connection attempts.
//!
//! Each worker is an OS thread with a small stack doing blocking
//! `connect` with a timeout (`TcpStream::connect_timeout`, a non-blocking
//! connect and `poll` underneath): no async runtime, and the number of
//! sockets open at once is at most the concurrency.

use super::{Pacer, ProbeOptions};
use crate::facts::probe::Outcome;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Stack size of a probe worker: connect needs little, and 1024 workers
/// with the default 2 MiB stacks would reserve 2 GiB of address space.
const WORKER_STACK: usize = 64 * 1024;

/// The result of probing one address and port.
#[derive(Debug, Clone, PartialEq)]
pub struct Connect {
    /// What the last attempt got.
    pub outcome: Outcome,
    /// Duration of the last attempt.
    pub latency: Duration,
    /// Attempts made.
    pub attempts: u32,
    /// Error text of the last attempt, empty when it connected.
    pub error: String,
}

/// One connect attempt.
pub fn attempt(addr: SocketAddr, timeout: Duration) -> (Outcome, Duration, String) {
    let started = Instant::now();
    let result = TcpStream::connect_timeout(&addr, timeout);
    let latency = started.elapsed();
    match result {
        Ok(stream) => {
            drop(stream);
            (Outcome::Open, latency, String::new())
        }
        Err(err) => (classify(&err), latency, err.to_string()),
    }
}

/// Maps a connect error to an outcome.
pub fn classify(err: &std::io::Error) -> Outcome {
    use std::io::ErrorKind;
    match err.kind() {
        ErrorKind::ConnectionRefused => Outcome::Refused,
        ErrorKind::TimedOut | ErrorKind::WouldBlock => Outcome::Timeout,
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => Outcome::Unreachable,
        _ => match err.raw_os_error() {
            Some(code)
                if code == nix::libc::EHOSTDOWN
                    || code == nix::libc::EHOSTUNREACH
                    || code == nix::libc::ENETUNREACH =>
            {
                Outcome::Unreachable
            }
            _ => Outcome::Error,
        },
    }
}

/// Probes one address with retries: a refused or open port is final;
/// a timeout, an unreachable or an error is tried again up to
/// `options.retries` more times.
pub fn probe(addr: SocketAddr, options: &ProbeOptions, pacer: &Pacer) -> Connect {
    let mut attempts = 0;
    loop {
        pacer.wait();
        attempts += 1;
        let (outcome, latency, error) = attempt(addr, options.timeout);
        let last = attempts > options.retries;
        if matches!(outcome, Outcome::Open | Outcome::Refused) || last {
            return Connect {
                outcome,
                latency,
                attempts,
                error,
            };
        }
    }
}

/// Probes every address, at most `options.concurrency` at once; results
/// are in the order of `addrs`.
pub fn probe_all(addrs: &[SocketAddr], options: &ProbeOptions, pacer: &Pacer) -> Vec<Connect> {
    let slots: Vec<Mutex<Option<Connect>>> = addrs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = options.concurrency.clamp(1, addrs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let spawned = std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(addr) = addrs.get(i) else { break };
                    let result = probe(*addr, options, pacer);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(result);
                    }
                });
            // Too many threads for this machine: the ones running still
            // work through the whole queue.
            if spawned.is_err() {
                break;
            }
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner().ok().flatten().unwrap_or(Connect {
                outcome: Outcome::Error,
                latency: Duration::ZERO,
                attempts: 0,
                error: "no worker thread could be started".into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn open_and_refused_on_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let open = listener.local_addr().expect("addr");
        // A port that was just free: bind, read the port, close.
        let closed = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port");
        let options = ProbeOptions::default();
        let pacer = Pacer::new(options.rate);
        let results = probe_all(&[open, closed], &options, &pacer);
        assert_eq!(results[0].outcome, Outcome::Open);
        assert_eq!(results[1].outcome, Outcome::Refused);
        assert_eq!(results[1].attempts, 1, "a reset is final, no retry");
    }
}
