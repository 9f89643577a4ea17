//! Peak memory of parse + diagnose at Internet scale: writes the generated
//! tables of `data.rs` as a bundle directory, analyses it the way
//! `diag analyze` does, and prints the time and the process's peak resident
//! memory (VmHWM). Run with `cargo run --release -p diag-core --example
//! net_scale`.

use diag_core::diagnose::rules::RuleSet;
use diag_core::source::Bundle;
use std::time::Instant;

mod data;

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Child mode: analyse the bundle at argv[2] in a fresh process, so the
    // peak is diag's alone and not the generator's.
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "analyze" {
        let rules = RuleSet::builtin()?;
        let started = Instant::now();
        let bundle = Bundle::open(std::path::Path::new(&args[2]))?;
        let diagnosis =
            diag_core::analysis::Analysis::run(&bundle, &rules, &Default::default())?.diagnosis;
        let elapsed = started.elapsed();
        println!(
            "analyze (read bundle, parse, diagnose): {:.0} ms, {} findings; peak RSS {} MiB",
            elapsed.as_secs_f64() * 1000.0,
            diagnosis.findings.len(),
            peak_kib() / 1024
        );
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    for (name, text) in data::inputs() {
        let path = dir.path().join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("analyze")
        .arg(dir.path())
        .status()?;
    if !status.success() {
        return Err(format!("analysis failed: {status}").into());
    }
    Ok(())
}
