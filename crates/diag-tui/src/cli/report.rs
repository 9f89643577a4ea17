//! `diag report`: the postmortem report, in one or more formats from one
//! diagnosis.
//!
//! Each `-o PATH` gets the format its extension names (`.md`, `.markdown`,
//! `.html`, `.htm`, `.json`); `--format` gives it to outputs whose
//! extension names none, `-` (stdout) among them, and must not contradict
//! an extension. Files are written atomically (`report::write_atomic`).
//!
//! Its arguments ([`ReportArgs`], [`ReportFormat`]) are defined in
//! [`crate::cli::args`]; this module imports only that and
//! [`crate::cli::common`].

use crate::cli::args::{ReportArgs, ReportFormat, RuleArgs};
use crate::cli::common::{live, load_rules, options};
use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use diag_core::analysis::{Analysis, Request};
use diag_core::report::{self, Report};
use std::io::Write;
use std::path::Path;

impl ReportFormat {
    fn from_extension(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "md" | "markdown" => Some(ReportFormat::Md),
            "html" | "htm" => Some(ReportFormat::Html),
            "json" => Some(ReportFormat::Json),
            _ => None,
        }
    }

    /// The name `--format` takes (`md`, `html`, `json`), for messages.
    fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }

    fn render(self, report: &Report) -> String {
        match self {
            ReportFormat::Md => report::markdown(report),
            ReportFormat::Html => report::html(report),
            ReportFormat::Json => report::json(report),
        }
    }
}

/// Runs `diag report`; 0 when every output was written.
pub(crate) fn run(args: ReportArgs, rules: &RuleArgs) -> Result<u8> {
    // Decide every output's format before any work, so a bad flag costs
    // nothing and writes nothing.
    let mut outputs = Vec::new();
    for path in &args.output {
        let by_extension = if path.as_os_str() == "-" {
            None
        } else {
            ReportFormat::from_extension(path)
        };
        let format = match (by_extension, args.format) {
            (Some(ext), Some(flag)) if ext != flag => bail!(
                "{}: the extension says {} but --format says {}",
                path.display(),
                ext.name(),
                flag.name()
            ),
            (Some(format), _) | (None, Some(format)) => format,
            (None, None) => bail!(
                "{}: cannot tell the format; use --format md|html|json or an extension .md, .html or .json",
                path.display()
            ),
        };
        outputs.push((path, format));
    }
    let rules = load_rules(rules)?;
    let options = options(&args.read)?;
    let command_line: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let request = Request::new(options).rules(&rules);
    let analysis = match &args.from {
        Some(path) => Analysis::run(diag_core::source::open(path)?.as_ref(), &rules, &request)?,
        None => Analysis::run(&live(None)?, &rules, &request)?,
    };
    let report = analysis.report(&rules, command_line);
    for (path, format) in outputs {
        let text = format.render(&report);
        if path.as_os_str() == "-" {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other.context("cannot write the report to stdout")?,
            }
        } else {
            report::write_atomic(path, text.as_bytes())?;
            eprintln!("diag: wrote {} ({} bytes)", path.display(), text.len());
        }
    }
    Ok(0)
}
