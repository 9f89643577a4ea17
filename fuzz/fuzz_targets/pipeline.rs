//! The whole pipeline (parse every input, run every built-in rule) on a
//! snapshot whose inputs are all the same arbitrary bytes, the kernel log
//! sources and a gzip rotation included.
#![no_main]

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::pipeline(data));
