//! `diag check`: diagnose the live host once and print the result (also
//! what `diag` without a command runs when it is not on a terminal), with
//! `--baseline`, packet capture and `--probe` as asked. Imports only
//! [`crate::cli::args`] and [`crate::cli::common`].

use crate::cli::args::{CaptureArgs, ProbeFlags, ReadArgs, RuleArgs};
use crate::cli::common::{
    clean_up_on_signal, live, options, parse_while_loading, print_diagnosis, warn, Emit,
};
use anyhow::Result;
use diag_core::analysis::{self, ProbeStep, Request};
use diag_core::facts::Facts;
use std::path::{Path, PathBuf};

/// Runs `diag check`; `rules` are the `--rules` given before the command
/// and after it. The exit code is the diagnosis's.
pub(crate) fn run(
    root: Option<PathBuf>,
    emit: &Emit,
    read: &ReadArgs,
    baseline: Option<&Path>,
    rules: &RuleArgs,
    capture: &CaptureArgs,
    probe: &ProbeFlags,
) -> Result<u8> {
    if !capture.no_drop_reasons {
        clean_up_on_signal()?;
    }
    let source = live(root)?;
    let mut options = options(read)?;
    options.capture = capture.options()?;
    options.drops.enabled = !capture.no_drop_reasons;
    probe.validate()?;
    let probe_step = |facts: &Facts| probe.run(facts).map_err(|e| format!("{e:#}").into());
    let request = Request::new(options)
        .require_inputs()
        .baseline(baseline.map(Path::to_path_buf))
        .probe(probe.probe.then_some(&probe_step as ProbeStep));
    let (rules, prepared) =
        parse_while_loading(rules, || Ok(analysis::prepare(&source, &request)?))?;
    warn(&prepared.warnings);
    print_diagnosis(&prepared.diagnose(&rules).diagnosis, emit)
}
