//! `diag fleet PATH...`: reads saved `diag/1` documents (files, or
//! directories searched for `*.json`), and analyses bundles and
//! sosreports (directories holding a `manifest.json` or `sos_commands/`,
//! and archives: `diag_core::source::ARCHIVE_SUFFIXES`) on every core, then prints
//! the fleet view (`diag_core::diagnose::fleet`, rendered by
//! `diag_core::report::fleet`). An input that cannot be read or is not a
//! `diag/1` document is skipped with a note, never fatal.

use crate::cli::args::FleetFormat;
use crate::cli::common::{write_stdout, EXIT_UNKNOWN};
use anyhow::Result;
use diag_core::diagnose::fleet::{self, FleetSkip, HostDiagnosis, Saved};
use diag_core::diagnose::SCHEMA;
use diag_core::report;
use std::path::{Path, PathBuf};

/// Directory levels searched below a PATH (the collect playbook writes
/// `DIR/HOST/diag-HOST-TIME.json`).
const DEPTH: usize = 6;

/// Largest document read (a diag/1 document is well under 1 MB).
const MAX_BYTES: u64 = 64 << 20;

pub(crate) fn run(paths: &[PathBuf], format: FleetFormat) -> Result<u8> {
    let mut files = Vec::new();
    let mut bundles = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() && is_bundle_dir(path) => bundles.push(path.clone()),
            Ok(meta) if meta.is_dir() => walk(path, DEPTH, &mut files, &mut bundles, &mut skipped),
            Ok(_) if is_archive(path) => bundles.push(path.clone()),
            Ok(_) => files.push(path.clone()),
            Err(err) => skipped.push(skip(path, &err.to_string())),
        }
    }
    let mut hosts = Vec::with_capacity(files.len() + bundles.len());
    for file in files {
        match read(&file) {
            Ok(diagnosis) => hosts.push(HostDiagnosis {
                origin: file.display().to_string(),
                diagnosis,
            }),
            Err(reason) => skipped.push(skip(&file, &reason)),
        }
    }
    for (path, result) in analyse_all(&bundles)? {
        match result {
            Ok(diagnosis) => hosts.push(HostDiagnosis {
                origin: path.display().to_string(),
                diagnosis,
            }),
            Err(reason) => skipped.push(skip(&path, &reason)),
        }
    }
    let view = fleet::summarise(hosts, skipped);
    let out = match format {
        FleetFormat::Text => report::fleet::text(&view),
        FleetFormat::Json => report::fleet::json(&view),
        FleetFormat::Md => report::fleet::markdown(&view),
        FleetFormat::Html => report::fleet::html(&view),
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

/// Whether `dir` is a bundle or a sosreport tree, analysed rather than
/// searched: it holds a bundle's manifest, sos's `sos_commands/`, or the
/// top directories of a bundle's inputs (`dev/kmsg`, `proc/...`).
fn is_bundle_dir(dir: &Path) -> bool {
    dir.join("manifest.json").is_file()
        || ["sos_commands", "dev", "proc", "commands", "sys"]
            .iter()
            .any(|top| dir.join(top).is_dir())
}

/// Whether `path` names a bundle or sosreport archive.
fn is_archive(path: &Path) -> bool {
    let name = path.to_string_lossy();
    diag_core::source::is_archive_name(&name)
}

/// Each bundle analysed as `diag analyze` does (the built-in rules,
/// default limits), on as many threads as the machine has cores; in the
/// order given.
fn analyse_all(bundles: &[PathBuf]) -> Result<Vec<(PathBuf, std::result::Result<Saved, String>)>> {
    if bundles.is_empty() {
        return Ok(Vec::new());
    }
    let rules = diag_core::diagnose::rules::RuleSet::builtin()?;
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(bundles.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<std::result::Result<Saved, String>>> =
        (0..bundles.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = bundles.get(i) else {
                            break;
                        };
                        done.push((i, analyse(path, &rules)));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            for (i, result) in worker.join().unwrap_or_default() {
                results[i] = Some(result);
            }
        }
    });
    Ok(bundles
        .iter()
        .cloned()
        .zip(results)
        .map(|(path, result)| {
            let result = result.unwrap_or_else(|| Err("its analysis did not finish".to_string()));
            (path, result)
        })
        .collect())
}

/// One bundle or sosreport, diagnosed.
fn analyse(
    path: &Path,
    rules: &diag_core::diagnose::rules::RuleSet,
) -> std::result::Result<Saved, String> {
    // The errors name the path; the skip note names it already.
    let why = |e: diag_core::Error| {
        let text = e.to_string();
        let path = format!("{}: ", path.display());
        text.strip_prefix(&path)
            .map_or(text.clone(), str::to_string)
    };
    let source = diag_core::source::open(path).map_err(why)?;
    let request = diag_core::analysis::Request::new(Default::default())
        .require_inputs()
        .rules(rules);
    let prepared = diag_core::analysis::prepare(source.as_ref(), &request).map_err(why)?;
    let analysis = prepared.diagnose(rules);
    Ok(Saved::of_analysis(
        &analysis.diagnosis,
        &analysis.facts.net.default_routes,
    ))
}

/// The `*.json` files below `dir`, in name order, and the bundles and
/// sosreports (trees and archives); symbolic links are not followed.
fn walk(
    dir: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
    bundles: &mut Vec<PathBuf>,
    skipped: &mut Vec<FleetSkip>,
) {
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
        if kind.is_dir() && is_bundle_dir(&path) {
            bundles.push(path);
        } else if kind.is_dir() {
            if depth > 0 {
                walk(&path, depth - 1, files, bundles, skipped);
            }
        } else if kind.is_file() && is_archive(&path) {
            bundles.push(path);
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
