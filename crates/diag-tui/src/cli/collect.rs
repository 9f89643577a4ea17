//! `diag collect -o PATH`: save the live host's state as a bundle (a
//! directory, or a .tar.zst archive), with the packet capture and the
//! `--probe` results, for `diag analyze` later. Imports only
//! [`crate::cli::args`] and [`crate::cli::common`].

use crate::cli::args::{CaptureArgs, ProbeFlags, ReadArgs};
use crate::cli::common::{clean_up_on_signal, live, options};
use anyhow::{Context, Result};
use diag_core::sanitize::visible_line;
use diag_core::source::Snapshot;
use std::path::{Path, PathBuf};

/// Runs `diag collect`: writes the bundle to `output` and says on stderr
/// what it holds and what was skipped; 0 when the bundle was written.
pub(crate) fn run(
    output: &Path,
    root: Option<PathBuf>,
    read: &ReadArgs,
    probe: &ProbeFlags,
    capture: &CaptureArgs,
) -> Result<u8> {
    if !capture.no_drop_reasons {
        clean_up_on_signal()?;
    }
    let source = live(root)?;
    let mut options = options(read)?;
    options.capture = capture.options()?;
    options.drops.enabled = !capture.no_drop_reasons;
    probe.validate()?;
    let mut snapshot = Snapshot::collect(&source, &options);
    probe.add_to(&mut snapshot)?;
    snapshot
        .write_bundle(output)
        .with_context(|| format!("cannot write bundle {}", output.display()))?;
    let bytes: usize = snapshot.inputs.values().map(|i| i.bytes.len()).sum();
    eprintln!(
        "diag: wrote {} ({} inputs, {} bytes, {} skipped)",
        visible_line(&output.display().to_string()),
        snapshot.inputs.len(),
        bytes,
        snapshot.skipped.len()
    );
    for skipped in &snapshot.skipped {
        eprintln!(
            "diag: skipped {}: {}",
            visible_line(&skipped.collector),
            visible_line(&skipped.reason)
        );
    }
    Ok(0)
}
