//! Embedding diag-core: analyse a bundle and print its most likely cause.
//!
//! ```sh
//! cargo run -p diag-core --example top_cause -- fixtures/http6-gateway-typo
//! ```
//!
//! Prints `ID (confidence): summary` and the evidence of the top cause, or
//! `no cause found`; exits 1 on a bad argument or an unreadable bundle.

use diag_core::analysis::{Analysis, Request};
use diag_core::diagnose::rules::RuleSet;
use diag_core::source::Bundle;

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: top_cause BUNDLE");
        return std::process::ExitCode::from(1);
    };
    let result = Bundle::open(&path).and_then(|bundle| {
        let rules = RuleSet::builtin()?;
        Ok(Analysis::run(&bundle, &rules, &Request::default())?.diagnosis)
    });
    let diagnosis = match result {
        Ok(diagnosis) => diagnosis,
        Err(err) => {
            eprintln!("top_cause: {err}");
            return std::process::ExitCode::from(1);
        }
    };
    match diagnosis.causes.first() {
        Some(top) => {
            println!("{} ({:.2}): {}", top.id, top.confidence, top.summary);
            for evidence in &top.evidence {
                match evidence.line {
                    Some(line) => println!("  {}:{line}: {}", evidence.input, evidence.excerpt),
                    None => println!("  {}: {}", evidence.input, evidence.excerpt),
                }
            }
        }
        None => println!("no cause found"),
    }
    std::process::ExitCode::SUCCESS
}
