//! `diag`: the incident debugging toolkit's command line.
//!
//! Exit codes follow the monitoring-plugin convention: 0 nothing above info,
//! 1 warning, 2 critical, 3 diag itself could not run (bad flag, missing
//! bundle, broken rule file). Errors are one clear line on stderr naming
//! the file (and line); never a panic or a backtrace. Errors, like every
//! output, pass the one sanitiser (`diag_core::sanitize`): a path or a
//! bundle's string cannot send escape sequences to the terminal.

mod cli;
mod tui;

use std::process::ExitCode;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        // A panic message can quote host data: through the sanitiser too.
        eprintln!(
            "diag: internal error: {}",
            diag_core::sanitize::visible(&info.to_string())
        );
        eprintln!("diag: please report this with the command line that caused it");
    }));
    match std::panic::catch_unwind(cli::run) {
        Ok(code) => code,
        Err(_) => ExitCode::from(cli::EXIT_UNKNOWN),
    }
}
