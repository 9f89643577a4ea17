//! Sends UDP frames as fast as it can, for the live capture benchmark
//! (`benches/capture.sh`): `xtask blast IFACE SECONDS DST_IP [THREADS]`.
//! Run it inside a test namespace only: the frames go out of IFACE to
//! DST_IP (the other end of the bench's veth pair).
//!
//! Each thread has its own AF_PACKET socket with `PACKET_QDISC_BYPASS`
//! (the frames skip the qdisc layer) and hands the kernel 256 frames per
//! `sendmmsg(2)` call, so the syscall cost is paid once per batch rather
//! than once per frame. Prints the number of frames the kernel accepted.
#![allow(unsafe_code)] // raw AF_PACKET socket calls (pnet has no sendmmsg)

use diag_core::parse::pcap::build::{ethernet, ipv4, udp};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

const BATCH: usize = 256;

fn sender(ifindex: i32, frame: &[u8], end: Instant) -> u64 {
    // SAFETY: plain socket calls on a socket this function owns; every
    // pointer handed to the kernel points into live locals of the right
    // size for the duration of the call.
    unsafe {
        let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let one: libc::c_int = 1;
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_QDISC_BYPASS,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let mut addr: libc::sockaddr_ll = std::mem::zeroed();
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_ifindex = ifindex;
        addr.sll_halen = 6;
        let rc = libc::bind(
            fd,
            (&addr as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        );
        assert!(rc == 0, "bind: {}", std::io::Error::last_os_error());
        let mut iov = libc::iovec {
            iov_base: frame.as_ptr() as *mut libc::c_void,
            iov_len: frame.len(),
        };
        let mut msgs: Vec<libc::mmsghdr> = (0..BATCH)
            .map(|_| {
                let mut m: libc::mmsghdr = std::mem::zeroed();
                m.msg_hdr.msg_iov = &mut iov;
                m.msg_hdr.msg_iovlen = 1;
                m
            })
            .collect();
        let mut sent = 0u64;
        while Instant::now() < end {
            for _ in 0..16 {
                let n = libc::sendmmsg(fd, msgs.as_mut_ptr(), BATCH as libc::c_uint, 0);
                if n > 0 {
                    sent += n as u64;
                }
            }
        }
        libc::close(fd);
        sent
    }
}

/// Runs `blast` with its arguments.
pub fn main(args: Vec<String>) {
    let mut args = args.into_iter();
    let name = args.next().expect("IFACE");
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let dst: Ipv4Addr = args.next().and_then(|s| s.parse().ok()).expect("DST_IP");
    let threads: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let iface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .expect("no such interface");
    let ifindex = i32::try_from(iface.index).expect("ifindex");
    let frame = ethernet(
        [0xff; 6],
        [2, 0, 0, 0, 0, 9],
        0x0800,
        &ipv4(
            Ipv4Addr::new(10, 220, 0, 9),
            dst,
            17,
            &udp(9, 9, &[0x42; 18]),
        ),
    );
    // A valid IPv4 header checksum (the builder leaves it 0), so the
    // receiving stack takes the datagrams up to UDP: to the closed port 9
    // they are NO_SOCKET drops (benches/drop_reasons.sh), not IP_CSUM.
    let mut frame = frame;
    let sum = ipv4_header_checksum(&frame[14..34]);
    frame[24..26].copy_from_slice(&sum.to_be_bytes());
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let sent: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| sender(ifindex, &frame, end)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("sender thread"))
            .sum()
    });
    println!("{sent}");
}

/// The one's-complement sum of an IPv4 header whose checksum field is 0.
fn ipv4_header_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
