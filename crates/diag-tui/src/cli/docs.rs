//! `diag completions SHELL` and `diag man [COMMAND]`: the shell completion
//! scripts and the manual pages, both generated from the clap definitions
//! of [`crate::cli::args`]. Imports only that and [`crate::cli::common`].

use crate::cli::args::{Cli, CompletionShell};
use crate::cli::common::write_stdout;
use anyhow::{bail, Result};
use clap::CommandFactory;
use diag_core::sanitize::visible_line;

/// Prints the completion script of `shell`.
pub(crate) fn completions(shell: CompletionShell) -> Result<u8> {
    use clap_complete::shells::{Bash, Fish, Zsh};
    let mut out = Vec::new();
    let mut cli = Cli::command();
    match shell {
        CompletionShell::Bash => clap_complete::generate(Bash, &mut cli, "diag", &mut out),
        CompletionShell::Zsh => clap_complete::generate(Zsh, &mut cli, "diag", &mut out),
        CompletionShell::Fish => clap_complete::generate(Fish, &mut cli, "diag", &mut out),
    }
    write_stdout(&String::from_utf8_lossy(&out))?;
    Ok(0)
}

/// Prints the manual page of diag, or of `command`.
pub(crate) fn man(command: Option<&str>) -> Result<u8> {
    write_stdout(&man_page(command)?)?;
    Ok(0)
}

/// The roff manual page of diag, or of one of its commands (`diag-check`,
/// with the options it takes).
fn man_page(command: Option<&str>) -> Result<String> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    // Gives every command its full name (`diag-check`) and usage.
    cli.build();
    let source = format!("diag {}", env!("CARGO_PKG_VERSION"));
    let page = match command {
        // The NAME section reads `diag \- find ...`.
        None => {
            cli.about("find the likely root cause of a misbehaving Linux server, with the evidence")
        }
        Some(name) => match cli.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => bail!("no command {}: see `diag --help`", visible_line(name)),
        },
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .source(source)
        .render(&mut out)?;
    // clap_mangen puts `after_help` (the exit status) under "EXTRA".
    let text = String::from_utf8_lossy(&out).replace("\n.SH EXTRA\n", "\n.SH \"EXIT STATUS\"\n");
    Ok(text)
}
