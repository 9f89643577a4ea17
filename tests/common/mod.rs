//! Helpers shared by the end-to-end tests: run the `diag` binary, parse its
//! JSON.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The vendored real-world inputs: `tests/corpus` (see its README.md and
/// PROVENANCE.tsv).
pub fn corpus() -> PathBuf {
    workspace().join("tests/corpus")
}

/// `target/release/diag` of the target directory this test was built in
/// (`target/debug/deps/NAME-*` → `target/release/diag`): `.ci/run` builds
/// it before the tests; a test that needs it fails without it.
pub fn release_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace().join("target"));
    let bin = target.join("release/diag");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build --release` first (.ci/run does)",
        bin.display()
    );
    bin
}

/// Runs `diag` with `args`; no terminal, no colour.
pub fn diag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run diag")
}

/// Runs `diag` and parses its stdout as a diag/1 document.
pub fn diag_json(args: &[&str]) -> (serde_json::Value, i32) {
    let out = diag(args);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "diag {args:?} did not print JSON ({err}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(json["schema"], "diag/1");
    (json, out.status.code().unwrap_or(-1))
}

/// The ids of a diagnosis' causes, in rank order.
pub fn cause_ids(json: &serde_json::Value) -> Vec<String> {
    ids(&json["causes"])
}

/// The ids of a diagnosis' findings.
pub fn finding_ids(json: &serde_json::Value) -> Vec<String> {
    ids(&json["findings"])
}

/// The object of id `id` in the list `list` (`causes`, `findings`,
/// `ruled_out`) of a diagnosis.
pub fn item<'a>(
    json: &'a serde_json::Value,
    list: &str,
    id: &str,
) -> Option<&'a serde_json::Value> {
    json[list]
        .as_array()?
        .iter()
        .find(|f| f["id"].as_str() == Some(id))
}

/// The ids of a list of objects.
pub fn ids(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Copies the directory tree `from` to `to`.
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
