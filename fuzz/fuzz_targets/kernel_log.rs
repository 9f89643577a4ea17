//! Every kernel-log parser, and event grouping, on arbitrary text.
#![no_main]
use diag_core::parse::{events, kernel_log};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (mut entries, _) = kernel_log::parse_kmsg("dev/kmsg", &text);
    events::group(&mut entries);
    let (mut entries, _) = kernel_log::parse_dmesg("commands/dmesg", &text);
    kernel_log::number_boots(&mut entries);
    events::group(&mut entries);
    let _ = kernel_log::parse_syslog("var/log/kern.log", &text);
    for line in text.lines() {
        let _ = kernel_log::parse_stamp(line);
    }
});
