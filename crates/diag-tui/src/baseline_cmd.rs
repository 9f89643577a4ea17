//! `diag baseline save` and the `--baseline FILE` option of `check` and
//! `analyze`.
//!
//! A baseline is the JSON document of `diag_core::parse::baseline`: what a
//! healthy host looked like (kernel, command line, addresses, routes,
//! sysctls, RAID members, mounts, and owner/group/mode/hash of watched
//! paths). `check --baseline FILE` puts it into the snapshot as the input
//! `baseline/baseline.json`; the parsers compare it with the current state
//! and rules turn every difference into findings with the change as
//! evidence.

use anyhow::{Context, Result};
use clap::Subcommand;
use diag_core::parse::baseline::{Baseline, BASELINE_INPUT};
use diag_core::parse::services::perms::{snapshot_paths, PATHS_INPUT};
use diag_core::sanitize::visible_line;
use diag_core::snapshot::{CollectOptions, Input, Snapshot};
use diag_core::source::services::{parse_watch_file, records_json, stat_records, watch_list};
use diag_core::Facts;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `diag baseline ...`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Record the host's state on a healthy day: kernel and command line,
    /// addresses, routes, sysctls, RAID members, mounts, and owner, group,
    /// mode (and SHA-256 of small files) of watched paths. `diag check
    /// --baseline FILE` later shows what changed.
    Save {
        /// Where to write the baseline (replaced atomically).
        #[arg(short, long, value_name = "FILE", default_value = "diag-baseline.json")]
        output: PathBuf,
        /// Read the host's files below DIR instead of /.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// More paths to watch: one absolute path a line, `#` comments, a
        /// trailing `/*` adds the directory's first level (the default list
        /// and the root's etc/diag/watch are always watched).
        #[arg(long, value_name = "FILE")]
        watch: Option<PathBuf>,
    },
}

/// Runs `diag baseline ...`; `source_root` is the checked `--root`.
pub fn run(command: BaselineCommand, options: &CollectOptions) -> Result<u8> {
    match command {
        BaselineCommand::Save {
            output,
            root,
            watch,
        } => {
            let source = crate::cli::live(root)?;
            let extra = match &watch {
                Some(file) => parse_watch_file(
                    &std::fs::read_to_string(file)
                        .with_context(|| format!("cannot read watch list {}", file.display()))?,
                ),
                None => Vec::new(),
            };
            let mut snapshot = Snapshot::collect(&source, options);
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

fn put(snapshot: &mut Snapshot, name: &str, bytes: Vec<u8>) {
    snapshot.inputs.insert(
        name.to_string(),
        Input {
            bytes: bytes.into(),
            truncated: false,
        },
    );
}

/// Adds the baseline in `file` to `snapshot`. Below a live root, paths the
/// baseline watched that this collection did not (a `--watch` list) are
/// stat'ed now so they are compared too. A file that is not a baseline is
/// a warning naming it; the diagnosis goes on without it.
pub fn attach(snapshot: &mut Snapshot, file: &Path, live_root: Option<&Path>) -> Result<()> {
    let bytes =
        std::fs::read(file).with_context(|| format!("cannot read baseline {}", file.display()))?;
    let baseline = match Baseline::from_json(&bytes) {
        Ok(b) => b,
        Err(err) => {
            eprintln!(
                "diag: warning: {}: {}; diagnosing without a baseline",
                visible_line(&file.display().to_string()),
                visible_line(&err.to_string())
            );
            return Ok(());
        }
    };
    if let Some(root) = live_root {
        let mut notes = Vec::new();
        let mut records: Vec<_> = snapshot_paths(snapshot, &mut notes)
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        let have: BTreeSet<&str> = records.iter().map(|r| r.path.as_str()).collect();
        let missing: BTreeSet<String> = baseline
            .paths
            .iter()
            .filter(|r| !have.contains(r.path.as_str()))
            .map(|r| r.path.clone())
            .collect();
        if !missing.is_empty() {
            let have: BTreeSet<String> = have.iter().map(|s| s.to_string()).collect();
            records.extend(
                stat_records(root, &missing)
                    .into_iter()
                    .filter(|r| !have.contains(&r.path)),
            );
            records.sort_by(|a, b| a.path.cmp(&b.path));
            put(snapshot, PATHS_INPUT, records_json(&records));
        }
    }
    put(snapshot, BASELINE_INPUT, bytes);
    Ok(())
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
