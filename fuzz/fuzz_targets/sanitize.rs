//! The one sanitiser on arbitrary text: nothing that drives a terminal
//! gets through.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::sanitize(data));
