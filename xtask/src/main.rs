//! diag's developer tools: benchmark drivers and data generators, kept out
//! of `diag-core/examples/` (which holds only embedding examples) and out
//! of the shipped binary. One binary, one subcommand per tool:
//!
//! ```text
//! xtask gen-pcap [OUT [PACKETS]]               a mixed-traffic pcap (benches/capture.sh)
//! xtask blast IFACE SECONDS DST_IP [THREADS]   UDP frames as fast as the kernel takes them
//! xtask net-scale                              parse + diagnose time and peak memory at Internet scale
//! xtask log-patterns DIR                       the rules' log patterns for rg and grep -E (benches/kernel_log.sh)
//! ```
//!
//! Build it with the release profile for measurements:
//! `cargo build --release -p xtask` (then `target/release/xtask ...`), or
//! `cargo run --release -p xtask -- SUBCOMMAND ARGS...`.

use std::process::ExitCode;

mod blast;
mod gen_pcap;
mod log_patterns;
mod net_scale;

const USAGE: &str = "usage: xtask gen-pcap [OUT [PACKETS]]
       xtask blast IFACE SECONDS DST_IP [THREADS]
       xtask net-scale
       xtask log-patterns DIR";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let args: Vec<String> = args.collect();
    // As the tools' own `main` did when they were examples: an error is
    // printed as `Error: ...` (Debug) and the exit status is 1.
    let result: Result<(), Box<dyn std::error::Error>> = match command.as_str() {
        "gen-pcap" => gen_pcap::main(args).map_err(Into::into),
        "blast" => {
            blast::main(args);
            Ok(())
        }
        "net-scale" => net_scale::main(args),
        "log-patterns" => log_patterns::main(args),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err:?}");
            ExitCode::FAILURE
        }
    }
}
