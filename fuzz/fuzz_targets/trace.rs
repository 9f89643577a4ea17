//! The trace-event parsers (`kfree_skb` lines, `format` files, ring
//! statistics) on arbitrary text.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::trace(data));
