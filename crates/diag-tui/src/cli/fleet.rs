//! `diag fleet PATH...`: reads saved `diag/1` documents (files, or
//! directories searched for `*.json`) and prints the fleet view
//! (`diag_core::diagnose::fleet`, rendered by `diag_core::report::fleet`).
//! An input that cannot be read or is not a `diag/1` document is skipped
//! with a note, never fatal.

use crate::cli::args::FleetFormat;
use crate::cli::common::{write_stdout, EXIT_UNKNOWN};
use anyhow::Result;
use diag_core::diagnose::diagnosis::SCHEMA;
use diag_core::diagnose::fleet::{self, FleetSkip, HostDiagnosis, Saved};
use diag_core::report;
use std::path::{Path, PathBuf};

/// Directory levels searched below a PATH (the collect playbook writes
/// `DIR/HOST/diag-HOST-TIME.json`).
const DEPTH: usize = 6;

/// Largest document read (a diag/1 document is well under 1 MB).
const MAX_BYTES: u64 = 64 << 20;

pub(crate) fn run(paths: &[PathBuf], format: FleetFormat) -> Result<u8> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, DEPTH, &mut files, &mut skipped),
            Ok(_) => files.push(path.clone()),
            Err(err) => skipped.push(skip(path, &err.to_string())),
        }
    }
    let mut hosts = Vec::with_capacity(files.len());
    for file in files {
        match read(&file) {
            Ok(diagnosis) => hosts.push(HostDiagnosis {
                origin: file.display().to_string(),
                diagnosis,
            }),
            Err(reason) => skipped.push(skip(&file, &reason)),
        }
    }
    let view = fleet::summarise(hosts, skipped);
    let out = match format {
        FleetFormat::Text => report::fleet::text(&view),
        FleetFormat::Json => report::fleet::json(&view),
    };
    write_stdout(&out)?;
    if view.hosts.is_empty() {
        return Ok(EXIT_UNKNOWN);
    }
    Ok(u8::try_from(view.exit_code()).unwrap_or(EXIT_UNKNOWN))
}

fn skip(path: &Path, reason: &str) -> FleetSkip {
    FleetSkip {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// The `*.json` files below `dir`, in name order; symbolic links are not
/// followed.
fn walk(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, skipped: &mut Vec<FleetSkip>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            skipped.push(skip(dir, &err.to_string()));
            return;
        }
    };
    let mut paths: Vec<(PathBuf, std::fs::FileType)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.path(), e.file_type().ok()?)))
        .collect();
    paths.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind) in paths {
        if kind.is_dir() {
            if depth > 0 {
                walk(&path, depth - 1, files, skipped);
            }
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
}

/// One `diag/1` document, or why not.
fn read(path: &Path) -> std::result::Result<Saved, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!("larger than {MAX_BYTES} bytes"));
    }
    // A diag/1 document, else why not: not JSON, another shape, or a
    // diag/1 document that does not parse (only on that path is the
    // document parsed twice).
    serde_json::from_slice::<Saved>(&bytes)
        .map_err(
            |e| match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Err(_) => format!("not JSON: {e}"),
                Ok(value) if value.get("schema").and_then(|s| s.as_str()) == Some(SCHEMA) => {
                    format!("not a valid {SCHEMA} document: {e}")
                }
                Ok(_) => format!("not a {SCHEMA} document (a JSON document of another shape)"),
            },
        )
        .and_then(|d| {
            if d.schema == SCHEMA {
                Ok(d)
            } else {
                Err(format!("schema {:?}, not {SCHEMA}", d.schema))
            }
        })
}
