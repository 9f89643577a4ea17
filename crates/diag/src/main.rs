//! `diag`: the incident debugging toolkit's command line. The code is the
//! library `diag_tui` (`crates/diag-tui`), built for size; this crate is
//! the root fat LTO optimizes the whole program in (docs/static-binary.md).

fn main() -> std::process::ExitCode {
    diag_tui::main()
}
