//! The `diag` binary's command line and terminal UI, as a library: the
//! binary (package `diag`, `crates/diag/src/main.rs`) only calls [`main`].
//!
//! Why a library: the release profile builds this crate at `opt-level =
//! "z"` and the binary's own crate, the one fat LTO runs its pipeline in,
//! at 2 (`Cargo.toml`, docs/static-binary.md): the command glue and the TUI
//! are small code that runs once per command, not hot loops, and the
//! whole program's link-time pass keeps its speed.
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

/// The whole command: parses the arguments, runs the command, returns
/// its exit code (3 if diag panicked).
pub fn main() -> ExitCode {
    one_malloc_arena();
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

/// Every thread allocates from glibc's one main arena. A thread of its own
/// otherwise gets an arena of its own: the kernel-log stream's placing
/// thread (`Compactor::input`) held 10 MiB more at its peak that way
/// (69 MiB, over issue 23's 64, on a 32 MiB log at 50% matching lines),
/// for no speed (docs/kernel-log.md). diag's threads allocate little at
/// the same time: one lock is not contended.
#[allow(unsafe_code)]
fn one_malloc_arena() {
    // SAFETY: mallopt only sets a parameter of the allocator; it is
    // called before any thread is started.
    unsafe {
        nix::libc::mallopt(nix::libc::M_ARENA_MAX, 1);
    }
}
