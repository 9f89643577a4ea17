//! The bundle archive unpacker on arbitrary tar streams.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::archive(data));
