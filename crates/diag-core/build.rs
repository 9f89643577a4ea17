//! Embeds every `rules/*.toml` of the workspace into the library, so the
//! `diag` binary carries its built-in rules in one file; and reads the
//! doc comments of the `Facts` types for `diag rules facts`
//! (build/facts_docs.rs).
//!
//! Each file is embedded twice, both compressed with zstd: with the lines
//! of its `[[rule.case]]` tables blanked, and whole. Every command but
//! `diag rules test`/`validate` parses the first text, whose other lines,
//! and so every line number, are the same as the file's. The fixture cases
//! are most of the text and only those two commands need them; the files
//! cases name (`{ file = "capture/syn_flood.pcapng" }`, below
//! `rules/cases/`) follow the whole texts in the second blob. Compressed,
//! the two take ~0.1 MB of the binary instead of 0.9 MB
//! (docs/static-binary.md). `rules/cases/` holds no rule files.

use std::fmt::Write;
use std::path::Path;

#[path = "build/facts_docs.rs"]
mod facts_docs;

fn main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let parse = Path::new(env!("CARGO_MANIFEST_DIR")).join("../diag-parse/src");
    let (docs, read) = facts_docs::generate(&[&src, &parse]);
    println!("cargo:rerun-if-changed={}", src.join("facts").display());
    println!("cargo:rerun-if-changed={}", parse.display());
    for path in read {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    // Compressed: only `diag rules facts` reads it (~60 KB of doc text).
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    let packed = zstd::bulk::compress(docs.as_bytes(), 19).expect("compress the fact docs");
    let path = Path::new(&out_dir).join("fact-docs.zst");
    std::fs::write(&path, packed).expect("write the fact docs");
    let code = format!(
        "/// The doc table of the facts' structs (build/facts_docs.rs), zstd.\n\
         pub(crate) const FACT_DOCS: &[u8] = include_bytes!({:?});\n\
         /// Its length unpacked.\n\
         pub(crate) const FACT_DOCS_LEN: usize = {};\n",
        path.display().to_string(),
        docs.len()
    );
    std::fs::write(Path::new(&out_dir).join("fact_docs.rs"), code).expect("write fact_docs.rs");
    rules();
}

/// The built-in rule files, blanked and whole, and the case files.
fn rules() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort_unstable();
    let cases_dir = dir.join("cases");
    println!("cargo:rerun-if-changed={}", cases_dir.display());
    let mut case_files = std::collections::BTreeSet::new();
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    let mut code = String::from(
        "/// Built-in rule files: (file name, length in bytes of its text in\n\
         /// [`BLANKED`], of its text in [`WHOLE`]).\n\
         pub(crate) const FILES: &[(&str, usize, usize)] = &[\n",
    );
    let mut blanked = String::new();
    let mut whole = String::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .strip_prefix(&dir)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).expect("read a rule file");
        case_files.extend(case_file_names(&text));
        let stripped = without_cases(&text);
        check_stripped(&name, &text, &stripped);
        let _ = writeln!(code, "    ({name:?}, {}, {}),", stripped.len(), text.len());
        blanked.push_str(&stripped);
        whole.push_str(&text);
    }
    code.push_str("];\n");
    // The case files after the whole texts: (name below rules/cases/,
    // length). A name that is not there, or not a plain relative path, is
    // left out: loading the rule reports it at the case.
    let mut whole = whole.into_bytes();
    code.push_str(
        "/// Files below `rules/cases/` that cases name: (name, length in bytes),\n\
         /// in [`WHOLE`] after the rule texts, in this order.\n\
         pub(crate) const CASE_FILES: &[(&str, usize)] = &[\n",
    );
    for name in &case_files {
        let plain = !name.starts_with('/')
            && name
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        let path = cases_dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let Some(bytes) = plain.then(|| std::fs::read(&path).ok()).flatten() else {
            continue;
        };
        let _ = writeln!(code, "    ({name:?}, {}),", bytes.len());
        whole.extend_from_slice(&bytes);
    }
    code.push_str("];\n");
    // Level 19: the build compresses once; unpacking takes ~1 ms (blanked,
    // every command) and ~5 ms (whole, `rules test` and `validate`).
    for (name, text, what) in [
        (
            "BLANKED",
            blanked.as_bytes(),
            "with its case tables blanked",
        ),
        (
            "WHOLE",
            &whole[..],
            "whole, cases included, then the [`CASE_FILES`]",
        ),
    ] {
        let packed = zstd::bulk::compress(text, 19).expect("compress the rule files");
        let path = Path::new(&out_dir).join(format!("rules-{}.zst", name.to_lowercase()));
        std::fs::write(&path, packed).expect("write a compressed rule text");
        let _ = writeln!(
            code,
            "/// Every built-in file {what}, concatenated in the order of\n\
             /// [`FILES`], zstd-compressed.\n\
             pub(crate) const {name}: &[u8] = include_bytes!({:?});\n\
             /// The length in bytes of [`{name}`] unpacked.\n\
             pub(crate) const {name}_LEN: usize = {};",
            path.display().to_string(),
            text.len()
        );
    }
    let out = Path::new(&out_dir).join("builtin_rules.rs");
    std::fs::write(out, code).expect("write builtin_rules.rs");
}

/// Every `*.toml` below `dir`, recursively (`rules/kernel/*.toml`, ...),
/// except below `rules/cases/` (the files cases name).
fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "cases") && path.parent() == Some(dir) {
                continue;
            }
            collect(&path, files);
        } else if path.extension().is_some_and(|x| x == "toml") {
            files.push(path);
        }
    }
}

/// The `file` of every case input given as `{ file = "..." }`.
fn case_file_names(text: &str) -> Vec<String> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let mut names = Vec::new();
    let rules = table.get("rule").and_then(toml::Value::as_array);
    for rule in rules.into_iter().flatten() {
        let cases = rule.get("case").and_then(toml::Value::as_array);
        for case in cases.into_iter().flatten() {
            let inputs = case.get("inputs").and_then(toml::Value::as_table);
            for input in inputs.into_iter().flat_map(|t| t.values()) {
                if let Some(file) = input.get("file").and_then(toml::Value::as_str) {
                    names.push(file.to_string());
                }
            }
        }
    }
    names
}

/// `text` with every line of a `[[rule.case]]` table (its header, keys,
/// `[rule.case.inputs]` and multi-line strings) made empty.
///
/// A table ends at the next header outside a multi-line string; lines of
/// a multi-line string that start with `[` (JSON, dmesg) are not headers.
/// [`check_stripped`] proves the result on every file.
fn without_cases(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_case = false;
    // The delimiter of the multi-line string the scan is inside.
    let mut open: Option<&str> = None;
    for line in text.split_inclusive('\n') {
        if open.is_none() {
            let t = line.trim_start();
            if t.starts_with("[[rule.case]]") {
                in_case = true;
            } else if t.starts_with('[') && !t.starts_with("[rule.case.") {
                in_case = false;
            }
        }
        let mut rest = line;
        loop {
            match open {
                Some(delim) => match closing(rest, delim) {
                    Some(end) => {
                        rest = &rest[end + 3..];
                        open = None;
                    }
                    None => break,
                },
                None => {
                    let code = rest.split('#').next().unwrap_or("");
                    let next = ["'''", "\"\"\""]
                        .into_iter()
                        .filter_map(|d| code.find(d).map(|i| (i, d)))
                        .min();
                    match next {
                        Some((start, delim)) => {
                            rest = &rest[start + 3..];
                            open = Some(delim);
                        }
                        None => break,
                    }
                }
            }
        }
        if in_case {
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Where `delim` closes a multi-line string in `rest` (a `"""` preceded
/// by an odd number of backslashes is escaped).
fn closing(rest: &str, delim: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = rest[from..].find(delim).map(|i| i + from) {
        let backslashes = rest[..i].bytes().rev().take_while(|&b| b == b'\\').count();
        if delim == "'''" || backslashes % 2 == 0 {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// Fails the build unless `stripped` parses to `text` without the `case`
/// arrays of its rules and has the same number of lines.
fn check_stripped(name: &str, text: &str, stripped: &str) {
    assert_eq!(
        text.lines().count(),
        stripped.lines().count(),
        "rules/{name}: blanking the cases changed the line count"
    );
    let (Ok(mut whole), Ok(without)) =
        (text.parse::<toml::Table>(), stripped.parse::<toml::Table>())
    else {
        // A file that does not parse is reported, located, when it loads.
        return;
    };
    if let Some(toml::Value::Array(rules)) = whole.get_mut("rule") {
        for rule in rules {
            if let toml::Value::Table(rule) = rule {
                rule.remove("case");
            }
        }
    }
    assert!(
        whole == without,
        "rules/{name}: blanking the [[rule.case]] tables changed more than the cases; \
         see without_cases in crates/diag-core/build.rs"
    );
}
