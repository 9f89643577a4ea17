//! `diag baseline save`: record what a healthy host looks like.
//!
//! A baseline is the JSON document of `diag_core::facts::baseline`: what a
//! healthy host looked like (kernel, command line, addresses, routes,
//! sysctls, RAID members, mounts, and owner/group/mode/hash of watched
//! paths). `check --baseline FILE` puts it into the snapshot as the input
//! `baseline/baseline.json` (`crate::cli::common::attach`, shared with
//! `analyze`); the parsers compare it with the current state and rules
//! turn every difference into findings with the change as evidence.
//!
//! Its arguments ([`BaselineCommand`]) are defined in [`crate::cli::args`];
//! this module imports only that and [`crate::cli::common`].

use crate::cli::args::{BaselineCommand, ReadArgs};
use crate::cli::common::{live, options, put};
use anyhow::{Context, Result};
use diag_core::facts::baseline::Baseline;
use diag_core::parse::services::perms::PATHS_INPUT;
use diag_core::sanitize::visible_line;
use diag_core::source::Snapshot;
use diag_core::source::{parse_watch_file, records_json, stat_records, watch_list};
use diag_core::Facts;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Runs `diag baseline ...`, reading the host as `read` says.
pub(crate) fn run(command: BaselineCommand, read: &ReadArgs) -> Result<u8> {
    let options = &options(read)?;
    match command {
        BaselineCommand::Save {
            output,
            root,
            watch,
        } => {
            let source = live(root)?;
            let extra = match &watch {
                Some(file) => parse_watch_file(
                    &std::fs::read_to_string(file)
                        .with_context(|| format!("cannot read watch list {}", file.display()))?,
                ),
                None => Vec::new(),
            };
            // A baseline records configuration and state, no traffic: no
            // capture window to wait for (issue 25).
            let mut options = options.clone();
            options.capture.duration = std::time::Duration::ZERO;
            let mut snapshot = Snapshot::collect(&source, &options);
            if !extra.is_empty() {
                let records = stat_records(source.root(), &watch_list(source.root(), &extra));
                put(&mut snapshot, PATHS_INPUT, records_json(&records));
            }
            let (facts, _) = Facts::from_snapshot(&snapshot);
            let baseline = Baseline::from_snapshot(&snapshot, &facts);
            write_atomic(&output, &baseline.to_json())?;
            eprintln!(
                "diag: wrote baseline {} ({} paths, {} addresses, {} routes, {} sysctls, kernel {})",
                visible_line(&output.display().to_string()),
                baseline.paths.len(),
                baseline.addresses.len(),
                baseline.routes.len(),
                baseline.sysctls.len(),
                visible_line(if baseline.kernel.is_empty() {
                    "unknown"
                } else {
                    &baseline.kernel
                })
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
    }
}

/// Writes `bytes` to `path` through a temporary file in the same
/// directory, renamed at the end.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
