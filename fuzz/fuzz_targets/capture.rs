//! The packet decoder over every link type diag reads, then the whole
//! capture analysis over the same bytes taken as a pcap/pcapng file.
#![no_main]

use diag_core::capture::{analyse, decode::decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let link = [0u32, 1, 101, 113, 228, 229, 12345][usize::from(selector) % 7];
    let d = decode(link, packet);
    let _ = d.describe(u32::try_from(packet.len()).unwrap_or(u32::MAX));
    let _ = analyse("capture/fuzz.pcap", data);
});
