//! The sosreport converters on arbitrary text: `sysctl -a`, `systemctl
//! list-units`, `mount -l`, `date --utc`, a failed command's output.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::sosreport(data));
