//! Bounded live packet capture with `pnet_datalink` (AF_PACKET, no
//! libpcap): one, several or all interfaces, stopped by a duration, a
//! packet count or a byte budget, whichever comes first.
//!
//! ```text
//!  open one AF_PACKET socket per interface ─▶ drop this thread's capabilities
//!     ─▶ read until the deadline / budget ─▶ capture/<iface>.pcap + capture/stats.json
//! ```
//!
//! The result is a set of generated inputs of the live source: classic
//! pcap files (microsecond timestamps, the configured snap length) that
//! `diag collect` stores like any other input and the same parser
//! ([`crate::parse::pcap::analyse`]) reads, and `capture/stats.json` with what
//! the kernel counted for each socket (`PACKET_STATISTICS`: packets
//! delivered and dropped).
//!
//! Decisions:
//! - The socket is created here (so its descriptor stays known for
//!   `PACKET_STATISTICS` and a larger receive buffer) and handed to
//!   `pnet_datalink`, which binds it to the interface and sets promiscuous
//!   mode when asked. Frames are read from the descriptor directly, up to
//!   64 per `recvmmsg(2)` with `MSG_TRUNC` (so a frame cut at the snap
//!   length keeps its wire length); pnet's receiver costs a `poll` and a
//!   `recvfrom` per frame.
//! - Frames are stamped when their batch is read, not by the kernel
//!   (microseconds off under load).
//! - Capabilities are per thread on Linux: once its sockets are open, the
//!   capturing thread drops every capability it has (`capset` with empty
//!   sets), while the collector threads keep theirs.
//! - Budgets are shared by all interfaces: `max_packets` and `max_bytes`
//!   bound the whole capture, not each interface.
//! - The one module of diag-core allowed `unsafe`: libc calls, each with
//!   its SAFETY note: `socket` whose descriptor pnet then owns,
//!   `SO_RCVBUFFORCE`, `PACKET_STATISTICS`, per-thread `capget`/`capset`
//!   (no safe crate wraps these for us), and the batch read `recvmmsg` with
//!   `poll` (nix wraps both: moving these two to nix is a candidate).

#![allow(unsafe_code)]

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What to capture and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureOptions {
    /// Interfaces to capture on; empty: every interface that is up, the
    /// loopback excepted.
    pub interfaces: Vec<String>,
    /// How long to capture; zero turns capture off.
    pub duration: Duration,
    /// Stop after this many packets, all interfaces together.
    pub max_packets: u64,
    /// Stop after this many captured bytes, all interfaces together.
    pub max_bytes: u64,
    /// Bytes kept of each packet.
    pub snaplen: u32,
    /// Put the interfaces in promiscuous mode (off by default: a
    /// diagnosis sees what the host itself sends and receives).
    pub promiscuous: bool,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            interfaces: Vec::new(),
            duration: Duration::from_secs(2),
            max_packets: 200_000,
            max_bytes: 8 << 20,
            snaplen: 256,
            promiscuous: false,
        }
    }
}

impl CaptureOptions {
    /// Whether capture is on (a non-zero duration).
    pub fn enabled(&self) -> bool {
        !self.duration.is_zero()
    }
}

/// Why capture could not run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The process lacks CAP_NET_RAW.
    #[error("needs CAP_NET_RAW (run as root, or setcap cap_net_raw+ep on the binary)")]
    NotPermitted,
    /// No interface matched.
    #[error("no interface to capture on ({0})")]
    NoInterface(String),
    /// Opening or reading a socket failed.
    #[error("{0}: {1}")]
    Socket(String, io::Error),
}

pub use crate::parse::pcap::InterfaceStats;

/// A finished capture: one pcap per interface, and the counts.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// `(canonical name, pcap bytes)`, one per interface.
    pub files: Vec<(String, Vec<u8>)>,
    /// Per interface.
    pub stats: Vec<InterfaceStats>,
    /// Interfaces that could not be captured on, and why.
    pub failed: Vec<(String, String)>,
}

impl Captured {
    /// `capture/stats.json`.
    pub fn stats_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.stats).unwrap_or_default()
    }
}

/// Whether this thread has CAP_NET_RAW in its effective set.
pub fn has_net_raw() -> bool {
    let (header, data) = cap_structs();
    let mut header = header;
    let mut data = data;
    // SAFETY: capget with a v3 header and two data structs, as the kernel
    // ABI (linux/capability.h) requires.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    rc == 0 && data[0].effective & (1 << CAP_NET_RAW) != 0
}

const CAP_NET_RAW: u32 = 13;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn cap_structs() -> (CapHeader, [CapData; 2]) {
    (
        CapHeader {
            version: 0x2008_0522,
            pid: 0,
        },
        [CapData::default(); 2],
    )
}

/// Drops every capability of the calling thread.
fn drop_thread_capabilities() -> io::Result<()> {
    let (mut header, data) = cap_structs();
    // SAFETY: capset with a v3 header and two zeroed data structs: the
    // calling thread keeps no capability.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The pcap link type for an interface, from its ARPHRD type in sysfs
/// (Ethernet and loopback frames are Ethernet; `none` devices such as
/// tun carry raw IP).
fn link_type(interface: &str) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/sys/class/net/{interface}/type")).ok()?;
    match text.trim() {
        "1" | "772" => Some(1),
        "65534" => Some(101),
        _ => None,
    }
}

struct Open {
    name: String,
    fd: libc::c_int,
    link_type: u32,
    /// pnet's receiver owns the socket and closes it when dropped; frames
    /// are read from `fd` directly.
    _rx: Box<dyn pnet_datalink::DataLinkReceiver>,
}

fn open(
    iface: &pnet_datalink::NetworkInterface,
    options: &CaptureOptions,
) -> Result<Open, CaptureError> {
    let name = iface.name.clone();
    let link_type = link_type(&name).ok_or_else(|| {
        CaptureError::Socket(
            name.clone(),
            io::Error::other("link type not supported (Ethernet, loopback and raw IP are)"),
        )
    })?;
    // SAFETY: a plain socket(2) call; the descriptor is handed to pnet,
    // which owns and closes it.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW,
            i32::from((libc::ETH_P_ALL as u16).to_be()),
        )
    };
    if fd < 0 {
        let err = io::Error::last_os_error();
        return Err(match err.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => CaptureError::NotPermitted,
            _ => CaptureError::Socket(name, err),
        });
    }
    // A receive buffer for bursts; SO_RCVBUFFORCE passes rmem_max when
    // privileged, SO_RCVBUF is the fallback.
    let size: libc::c_int = 32 << 20;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: setsockopt with an int option on a socket we own.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            break;
        }
    }
    let config = pnet_datalink::Config {
        read_buffer_size: options.snaplen.max(64) as usize,
        read_timeout: Some(Duration::from_millis(50)),
        promiscuous: options.promiscuous,
        socket_fd: Some(fd),
        ..pnet_datalink::Config::default()
    };
    match pnet_datalink::channel(iface, config) {
        Ok(pnet_datalink::Channel::Ethernet(_tx, rx)) => Ok(Open {
            name,
            fd,
            link_type,
            _rx: rx,
        }),
        Ok(_) => Err(CaptureError::Socket(
            name,
            io::Error::other("unexpected channel type"),
        )),
        Err(err) => Err(CaptureError::Socket(name, err)),
    }
}

/// `PACKET_STATISTICS` of a socket: (packets, drops) since the last call.
fn kernel_stats(fd: libc::c_int) -> (u64, u64) {
    #[repr(C)]
    #[derive(Default)]
    struct TpacketStats {
        tp_packets: u32,
        tp_drops: u32,
    }
    const SOL_PACKET: libc::c_int = 263;
    const PACKET_STATISTICS: libc::c_int = 6;
    let mut stats = TpacketStats::default();
    let mut len = std::mem::size_of::<TpacketStats>() as libc::socklen_t;
    // SAFETY: getsockopt into a struct of the size we pass.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            SOL_PACKET,
            PACKET_STATISTICS,
            (&mut stats as *mut TpacketStats).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        (u64::from(stats.tp_packets), u64::from(stats.tp_drops))
    } else {
        (0, 0)
    }
}

/// Captures on the interfaces `options` names (or all that are up) until
/// the duration passes or a budget is spent. Interfaces that fail are
/// listed in [`Captured::failed`]; an error only when none could be
/// opened.
pub fn capture(options: &CaptureOptions) -> Result<Captured, CaptureError> {
    if !has_net_raw() {
        return Err(CaptureError::NotPermitted);
    }
    let all = pnet_datalink::interfaces();
    let chosen: Vec<_> = if options.interfaces.is_empty() {
        all.into_iter()
            .filter(|i| i.is_up() && !i.is_loopback())
            .collect()
    } else {
        let mut chosen = Vec::new();
        for name in &options.interfaces {
            match all.iter().find(|i| &i.name == name) {
                Some(i) => chosen.push(i.clone()),
                None => return Err(CaptureError::NoInterface(format!("{name} does not exist"))),
            }
        }
        chosen
    };
    if chosen.is_empty() {
        return Err(CaptureError::NoInterface(
            "none is up besides the loopback".into(),
        ));
    }
    let mut result = Captured::default();
    let mut sockets = Vec::new();
    for iface in &chosen {
        match open(iface, options) {
            Ok(o) => sockets.push(o),
            Err(CaptureError::NotPermitted) => return Err(CaptureError::NotPermitted),
            Err(e) => result.failed.push((iface.name.clone(), e.to_string())),
        }
    }
    if sockets.is_empty() {
        let why = result
            .failed
            .iter()
            .map(|(i, e)| format!("{i}: {e}"))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(CaptureError::NoInterface(why));
    }
    let deadline = Instant::now() + options.duration;
    let packets = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = sockets
        .into_iter()
        .map(|o| {
            let (packets, bytes, options) = (packets.clone(), bytes.clone(), options.clone());
            std::thread::spawn(move || read_until(o, deadline, &options, &packets, &bytes))
        })
        .collect();
    for h in handles {
        match h.join() {
            Ok((name, pcap, stats)) => {
                result.files.push((format!("capture/{name}.pcap"), pcap));
                result.stats.push(stats);
            }
            Err(_) => result
                .failed
                .push(("?".into(), "capture thread panicked".into())),
        }
    }
    Ok(result)
}

fn read_until(
    o: Open,
    deadline: Instant,
    options: &CaptureOptions,
    packets: &AtomicU64,
    bytes: &AtomicU64,
) -> (String, Vec<u8>, InterfaceStats) {
    // The socket is open: this thread needs no privilege any more.
    let _ = drop_thread_capabilities();
    let mut pcap = crate::parse::pcap::build::pcap_header(o.link_type, options.snaplen);
    let mut stats = InterfaceStats {
        interface: o.name.clone(),
        stopped_by: "duration".into(),
        ..InterfaceStats::default()
    };
    // Counts from before this point (the socket sees packets as soon as it
    // is bound) are included: they were delivered to the socket too.
    //
    // Frames are read up to BATCH at a time with recvmmsg(2) (pnet's
    // receiver costs a poll and a recvfrom per frame); poll(2) waits,
    // at most 50 ms, only when the socket is empty.
    const BATCH: usize = 64;
    let snap = options.snaplen.max(64) as usize;
    let mut buffers = vec![0u8; BATCH * snap];
    'reading: while Instant::now() < deadline {
        let mut iovecs: Vec<libc::iovec> = buffers
            .chunks_mut(snap)
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            })
            .collect();
        // SAFETY: an all-zero mmsghdr is valid (no name, no control).
        let mut msgs: Vec<libc::mmsghdr> = (0..BATCH)
            .map(|_| unsafe { std::mem::zeroed::<libc::mmsghdr>() })
            .collect();
        for (m, iov) in msgs.iter_mut().zip(iovecs.iter_mut()) {
            m.msg_hdr.msg_iov = iov;
            m.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: every message points at its own `snap`-byte slice of
        // `buffers`, alive for the call; MSG_TRUNC reports the frame's
        // full length while writing at most `snap` bytes.
        let n = unsafe {
            libc::recvmmsg(
                o.fd,
                msgs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                std::ptr::null_mut(),
            )
        };
        if n <= 0 {
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => {
                    let mut pfd = libc::pollfd {
                        fd: o.fd,
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: poll on one pollfd we own.
                    unsafe { libc::poll(&mut pfd, 1, 50) };
                    continue;
                }
                _ => break,
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        for (i, m) in msgs.iter().take(n as usize).enumerate() {
            let wire = m.msg_len as usize;
            let keep = wire.min(snap).min(options.snaplen as usize);
            let data = &buffers[i * snap..i * snap + keep];
            let n = packets.fetch_add(1, Ordering::Relaxed) + 1;
            let b = bytes.fetch_add(keep as u64, Ordering::Relaxed) + keep as u64;
            if n > options.max_packets {
                stats.stopped_by = "packets".into();
                break 'reading;
            }
            if b > options.max_bytes {
                stats.stopped_by = "bytes".into();
                break 'reading;
            }
            let len = u32::try_from(keep).unwrap_or(u32::MAX);
            pcap.extend_from_slice(
                &u32::try_from(now.as_secs())
                    .unwrap_or(u32::MAX)
                    .to_le_bytes(),
            );
            pcap.extend_from_slice(&now.subsec_micros().to_le_bytes());
            pcap.extend_from_slice(&len.to_le_bytes());
            pcap.extend_from_slice(&u32::try_from(wire).unwrap_or(u32::MAX).to_le_bytes());
            pcap.extend_from_slice(data);
            stats.packets += 1;
            stats.bytes += keep as u64;
        }
    }
    let (kernel_packets, kernel_drops) = kernel_stats(o.fd);
    stats.kernel_packets = kernel_packets;
    stats.kernel_drops = kernel_drops;
    (o.name, pcap, stats)
}

/// A capture running beside the collectors.
pub type Running = Option<std::thread::JoinHandle<Result<Captured, CaptureError>>>;

/// Starts capturing in the background when `source` is the live host at
/// `/` and capture is on; `None` otherwise (bundles, `--root DIR`).
pub fn start(source: &dyn super::Source, options: &CaptureOptions) -> Running {
    if source.kind() != super::SourceKind::Live || source.location() != "/" || !options.enabled() {
        return None;
    }
    let options = options.clone();
    Some(std::thread::spawn(move || capture(&options)))
}

/// Waits for the capture: its files (`capture/<iface>.pcap`,
/// `capture/stats.json`) as `(canonical name, bytes)`, and the collectors
/// that failed (an interface, or the whole `capture`) with the reason.
/// Nothing when no capture ran.
pub fn finish(running: Running) -> (Vec<(String, Vec<u8>)>, Vec<crate::model::Skipped>) {
    let Some(handle) = running else {
        return (Vec::new(), Vec::new());
    };
    let skipped = |collector: &str, reason: String| crate::model::Skipped {
        collector: collector.to_string(),
        reason,
    };
    match handle.join() {
        Ok(Ok(captured)) => {
            let mut files = vec![("capture/stats.json".to_string(), captured.stats_json())];
            files.extend(captured.files);
            let failed = captured
                .failed
                .into_iter()
                .map(|(iface, why)| skipped(&format!("capture/{iface}.pcap"), why))
                .collect();
            (files, failed)
        }
        Ok(Err(err)) => (Vec::new(), vec![skipped("capture", err.to_string())]),
        Err(_) => (
            Vec::new(),
            vec![skipped("capture", "the capture thread panicked".into())],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_of_the_capture_reads_back() {
        let mut pcap = crate::parse::pcap::build::pcap_header(1, 96);
        let frame = crate::parse::pcap::build::arp(
            1,
            [2, 0, 0, 0, 0, 1],
            "10.0.0.1".parse().expect("ip"),
            [0; 6],
            "10.0.0.2".parse().expect("ip"),
        );
        // Seconds, microseconds, captured and wire length.
        for field in [1u32, 2, 42, 42] {
            pcap.extend_from_slice(&field.to_le_bytes());
        }
        pcap.extend_from_slice(&frame);
        let (s, notes) = crate::parse::pcap::analyse("capture/eth0.pcap", &pcap);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!((s.packets, s.arp.requests), (1, 1));
    }

    #[test]
    fn zero_seconds_is_off() {
        let options = CaptureOptions {
            duration: Duration::ZERO,
            ..CaptureOptions::default()
        };
        assert!(!options.enabled());
        assert!(CaptureOptions::default().enabled());
    }
}
