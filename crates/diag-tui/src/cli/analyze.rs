//! `diag analyze PATH`: diagnose a bundle (directory or .tar.zst), or a
//! lone pcap/pcapng capture, exactly as `check` diagnoses the live host,
//! and print the result (`analyze --tui` is in `crate::cli::tui`). Imports
//! only [`crate::cli::args`] and [`crate::cli::common`].

use crate::cli::args::{ReadArgs, RuleArgs};
use crate::cli::common::{load_rules, options, print_diagnosis, warn, Emit};
use anyhow::Result;
use diag_core::analysis::{self, Request};
use std::path::Path;

/// Runs `diag analyze PATH` (without `--tui`); `rules` are the `--rules`
/// given before the command and after it. The exit code is the
/// diagnosis's.
pub(crate) fn run(
    path: &Path,
    emit: &Emit,
    read: &ReadArgs,
    baseline: Option<&Path>,
    rules: &RuleArgs,
) -> Result<u8> {
    let source = diag_core::source::open(path)?;
    // The rules first: a large kernel log is kept only as far as they
    // need it, in its one streaming pass.
    let rules = load_rules(rules)?;
    let request = Request::new(options(read)?)
        .require_inputs()
        .baseline(baseline.map(Path::to_path_buf))
        .rules(&rules);
    // The rules' conditions compile on the second core meanwhile.
    let analysis = rules.while_warming(|| -> Result<_> {
        let mut prepared = analysis::prepare(source.as_ref(), &request)?;
        warn(&prepared.warnings);
        // The captures' bytes are parsed; unmapping a large capture
        // (~9 ms for 142 MB) runs beside the diagnosis, which does not
        // read them.
        let inputs = &mut prepared.snapshot.inputs;
        let mut captures = inputs.split_off("capture/");
        inputs.append(&mut captures.split_off("capture0"));
        Ok(std::thread::scope(|scope| {
            scope.spawn(move || drop(captures));
            prepared.diagnose(&rules)
        }))
    })?;
    let code = print_diagnosis(&analysis.diagnosis, emit);
    // The process ends with this command: what the analysis and the rules
    // hold (a large log's kept entries, the facts, the compiled patterns)
    // goes back with the process, not one allocation at a time (~7 ms of
    // a 32 MiB log's 0.3 s at 50% matching lines, issue 23). Nothing of
    // theirs has to run at the end (the source, which may hold a
    // directory to remove, is dropped as usual).
    std::mem::forget(analysis);
    std::mem::forget(rules);
    code
}
