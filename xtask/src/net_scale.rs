//! Peak memory of parse + diagnose at Internet scale: writes the generated
//! tables of `data.rs` as a bundle directory, analyses it the way
//! `diag analyze` does, and prints the time and the process's peak resident
//! memory (VmHWM). Run with `cargo run --release -p xtask -- net-scale`.

use diag_core::diagnose::rules::RuleSet;
use diag_core::source::Bundle;
use std::time::Instant;

// The tables are the network benchmark's too (`benches/net.rs`).
#[path = "../../crates/diag-core/benches/common/net_data.rs"]
mod data;

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Runs `net-scale` with its arguments (none; `analyze DIR` is the child).
pub fn main(args: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    // Child mode (`net-scale analyze DIR`): analyse the bundle at DIR in a
    // fresh process, so the peak is diag's alone and not the generator's.
    if args.len() == 2 && args[0] == "analyze" {
        let rules = RuleSet::builtin()?;
        let started = Instant::now();
        let bundle = Bundle::open(std::path::Path::new(&args[1]))?;
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
        .args(["net-scale", "analyze"])
        .arg(dir.path())
        .status()?;
    if !status.success() {
        return Err(format!("analysis failed: {status}").into());
    }
    Ok(())
}
