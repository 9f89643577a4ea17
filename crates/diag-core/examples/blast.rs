//! Sends UDP frames as fast as one AF_PACKET socket can, for the live
//! capture benchmark (`benches/capture.sh`): `blast IFACE SECONDS DST_IP`.
//! Run it inside a test namespace only: the frames go out of IFACE to
//! DST_IP (the other end of the bench's veth pair).

use diag_core::capture::build::{ethernet, ipv4, udp};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().expect("IFACE");
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let dst: Ipv4Addr = args.next().and_then(|s| s.parse().ok()).expect("DST_IP");
    let iface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .expect("no such interface");
    let Ok(pnet_datalink::Channel::Ethernet(mut tx, _rx)) =
        pnet_datalink::channel(&iface, pnet_datalink::Config::default())
    else {
        panic!("cannot open {name}");
    };
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
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut sent = 0u64;
    while Instant::now() < end {
        for _ in 0..1000 {
            if let Some(Ok(())) = tx.send_to(&frame, None) {
                sent += 1;
            }
        }
    }
    println!("{sent}");
}
