//! The command line: [`run`] parses it and hands each command to its
//! module; the exit code of a run that failed is [`EXIT_UNKNOWN`].
//!
//! The modules form layers, each importing only from those below it (and
//! never from this one), so that they import one another without a cycle:
//! this `mod.rs` (parsing, dispatch) uses the command modules ([`check`],
//! [`analyze`], [`collect`], [`report`], [`probe`], [`baseline`],
//! [`rules`], [`watch`], [`tui`], [`docs`], [`fleet`]), which never use each other;
//! they use [`common`], the helpers several commands share; and all of
//! them use [`args`], the clap definitions, which use nothing of the
//! crate. `crate::tui` (the terminal UI itself) uses nothing of `cli`.

mod analyze;
mod args;
mod baseline;
mod check;
mod collect;
mod common;
mod docs;
mod fleet;
mod probe;
mod report;
mod rules;
mod tui;
mod watch;

use crate::cli::common::Emit;
pub(crate) use crate::cli::common::EXIT_UNKNOWN;

use crate::cli::args::{
    CaptureArgs, Cli, Command, Format, IntervalArg, OutputArg, ReadArgs, RuleArgs, TuiFlags,
};
use anyhow::Result;
use clap::Parser;
use diag_core::sanitize::{self, visible};
use std::process::ExitCode;

/// Parses the command line and runs it; maps every error to exit code 3.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => EXIT_UNKNOWN,
            };
            // clap renders its own message (with usage, coloured on a
            // terminal); a value from the command line that holds a
            // control character is printed plain, through the sanitiser.
            let plain = err.render().to_string();
            if plain
                .chars()
                .any(|c| c != '\n' && c != '\t' && sanitize::is_control(c))
            {
                eprint!("{}", visible(&plain));
            } else {
                let _ = err.print();
            }
            return ExitCode::from(code);
        }
    };
    match execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // The one place errors are printed: they name paths and quote
            // bundles and rule files, so they pass the sanitiser whole.
            eprintln!("diag: error: {}", visible(&format!("{err:#}")));
            ExitCode::from(EXIT_UNKNOWN)
        }
    }
}

/// Runs the command (the TUI or `check` when there is none, as `--help`
/// says) with the `--rules` and TUI flags given before it merged into its
/// own.
fn execute(mut cli: Cli) -> Result<u8> {
    let started = std::time::Instant::now();
    let read = ReadArgs {
        read_timeout: 5.0,
        since: None,
    };
    let command = match cli.command.take() {
        Some(command) => command,
        None if crate::tui::interactive() => Command::Tui {
            root: None,
            read,
            rules: RuleArgs::default(),
            interval: IntervalArg::default(),
            tui_flags: TuiFlags::default(),
        },
        None => Command::Check {
            root: None,
            format: Format::Text,
            output: OutputArg::default(),
            read,
            probe: Default::default(),
            baseline: None,
            rules: RuleArgs::default(),
            capture: CaptureArgs::default(),
        },
    };
    match command {
        Command::Check {
            root,
            format,
            output,
            read,
            probe,
            baseline,
            rules,
            capture,
        } => check::run(
            root,
            &Emit::of("check", format, &output, started)?,
            &read,
            baseline.as_deref(),
            &cli.rules.and(&rules),
            &capture,
            &probe,
        ),
        Command::Analyze {
            path,
            tui: true,
            read,
            rules,
            tui_flags,
            ..
        } => {
            let args = tui::tui_args(&cli, IntervalArg::default(), tui_flags);
            tui::on_bundle(path, &read, &cli.rules.and(&rules), &args)
        }
        Command::Tui {
            root,
            read,
            rules,
            interval,
            tui_flags,
        } => {
            let args = tui::tui_args(&cli, interval, tui_flags);
            tui::on_live_host(root, &read, &cli.rules.and(&rules), &args)
        }
        Command::Analyze {
            path,
            format,
            output,
            read,
            baseline,
            rules,
            ..
        } => analyze::run(
            &path,
            &Emit::of("analyze", format, &output, started)?,
            &read,
            baseline.as_deref(),
            &cli.rules.and(&rules),
        ),
        Command::Baseline { command, read } => baseline::run(command, &read),
        Command::Collect {
            output,
            root,
            read,
            probe,
            capture,
        } => collect::run(&output, root, &read, &probe, &capture),
        Command::Watch { args, rules } => watch::run(&args, &cli.rules.and(&rules)),
        Command::Report { args, rules } => report::run(args, &cli.rules.and(&rules)),
        Command::Probe {
            args,
            format,
            output_file,
            metrics,
            syslog,
            rules,
        } => probe::run(
            &args,
            Emit::new(
                "probe",
                format,
                output_file.as_deref(),
                &metrics,
                &syslog,
                started,
            )?,
            &cli.rules.and(&rules),
        ),
        Command::Rules { command } => rules::run(command, &cli.rules),
        Command::Fleet { paths, format } => fleet::run(&paths, format),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { command } => docs::man(command.as_deref()),
    }
}
