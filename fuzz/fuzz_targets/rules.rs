//! The rule loader (TOML, regex, CEL, field checks) on arbitrary files.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::rules(data));
