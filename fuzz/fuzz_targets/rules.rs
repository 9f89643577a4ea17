//! The rule loader (TOML, regex, CEL, field checks) on arbitrary files.
#![no_main]
use diag_core::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = RuleSet::from_files(&[("fuzz.toml".to_string(), text)]);
});
