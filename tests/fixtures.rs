//! Walks every scenario in `fixtures/`: each is a bundle with an
//! `expected.toml` beside its inputs. Adding a scenario needs no code.
//!
//! ```toml
//! origin = "where the inputs come from"       # required
//! top_cause = "route.gateway-misconfigured"   # "" = no cause may be proposed
//! explains = ["..."]                          # the top cause must explain these
//! must = ["..."]                              # findings or causes that must appear
//! must_not = ["..."]                          # ... that must not appear
//! ruled_out = ["..."]                         # hypotheses that must be ruled out
//! alarms = ["..."]                            # optional: with it, no warning or
//!                                             # critical beyond top_cause, explains,
//!                                             # must and these may appear
//! exit_code = 2                               # optional
//! [corpus]                                    # optional: inputs taken from
//! "proc/mdstat" = "mdstat/some-file"          # tests/corpus by path
//! ```
//!
//! A `[corpus]` input is placed into a temporary copy of the fixture before
//! the analysis: a real input from another machine is kept once, in
//! `tests/corpus` with its provenance, not copied into each fixture.

mod common;

use common::{cause_ids, copy_tree, diag_json, ids, workspace};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    origin: String,
    top_cause: String,
    #[serde(default)]
    explains: Vec<String>,
    #[serde(default)]
    must: Vec<String>,
    #[serde(default)]
    must_not: Vec<String>,
    #[serde(default)]
    ruled_out: Vec<String>,
    #[serde(default)]
    alarms: Option<Vec<String>>,
    #[serde(default)]
    exit_code: Option<i32>,
    #[serde(default)]
    corpus: std::collections::BTreeMap<String, String>,
}

fn check_fixture(dir: &std::path::Path) -> Result<(), String> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(dir.join("expected.toml"))
        .map_err(|e| format!("{name}: expected.toml: {e}"))?;
    let expected: Expected =
        toml::from_str(&text).map_err(|e| format!("{name}: expected.toml: {e}"))?;
    if expected.origin.trim().is_empty() {
        return Err(format!(
            "{name}: expected.toml must say where the fixture comes from (origin)"
        ));
    }
    let assembled = tempfile::tempdir().map_err(|e| format!("{name}: {e}"))?;
    let bundle = if expected.corpus.is_empty() {
        dir.to_path_buf()
    } else {
        let root = assembled.path().join(&name);
        copy_tree(dir, &root).map_err(|e| format!("{name}: copy: {e}"))?;
        for (input, path) in &expected.corpus {
            let target = root.join(input);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("{name}: {e}"))?;
            }
            std::fs::copy(common::corpus().join(path), &target)
                .map_err(|e| format!("{name}: corpus {path}: {e}"))?;
        }
        root
    };
    let (json, code) = diag_json(&[
        "analyze",
        bundle.to_str().unwrap_or_default(),
        "--format",
        "json",
    ]);
    let causes = cause_ids(&json);
    let present: Vec<String> = causes
        .iter()
        .cloned()
        .chain(ids(&json["findings"]))
        .collect();
    let mut errors = Vec::new();
    match (expected.top_cause.as_str(), causes.first()) {
        ("", None) => {}
        ("", Some(top)) => errors.push(format!(
            "expected no cause, got {top} first (all: {causes:?})"
        )),
        (want, Some(top)) if top == want => {}
        (want, got) => errors.push(format!(
            "top cause should be {want}, got {got:?} (all: {causes:?})"
        )),
    }
    if let Some(top) = json["causes"].get(0) {
        let explains: Vec<String> = top["explains"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for id in &expected.explains {
            if !explains.contains(id) {
                errors.push(format!(
                    "top cause should explain {id}, explains {explains:?}"
                ));
            }
        }
        if top["evidence"].as_array().is_none_or(|e| e.is_empty()) {
            errors.push("top cause has no evidence".into());
        }
    }
    for id in &expected.must {
        if !present.contains(id) {
            errors.push(format!("{id} missing (present: {present:?})"));
        }
    }
    for id in &expected.must_not {
        if present.contains(id) {
            errors.push(format!("{id} must not appear"));
        }
    }
    let ruled_out = ids(&json["ruled_out"]);
    for id in &expected.ruled_out {
        if !ruled_out.contains(id) {
            errors.push(format!(
                "{id} should be ruled out (ruled out: {ruled_out:?})"
            ));
        }
    }
    if let Some(alarms) = &expected.alarms {
        let allowed: Vec<&String> = std::iter::once(&expected.top_cause)
            .chain(&expected.explains)
            .chain(&expected.must)
            .chain(alarms)
            .collect();
        for list in ["causes", "findings"] {
            for item in json[list].as_array().into_iter().flatten() {
                let id = item["id"].as_str().unwrap_or_default().to_string();
                let severity = item["severity"].as_str().unwrap_or_default();
                if severity != "info" && !allowed.contains(&&id) {
                    errors.push(format!("unrelated alarm {id} ({severity})"));
                }
            }
        }
    }
    if let Some(want) = expected.exit_code {
        if code != want {
            errors.push(format!("exit code {code}, expected {want}"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}:\n  {}", errors.join("\n  ")))
    }
}

#[test]
fn every_fixture_gets_its_expected_diagnosis() {
    let root = workspace().join("fixtures");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 4, "fixtures missing: {dirs:?}");
    let failures: Vec<String> = dirs.iter().filter_map(|d| check_fixture(d).err()).collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The founding incident's ranking must not depend on which kernel log
/// source a bundle has: the same state as dmesg text and as /dev/kmsg.
#[test]
fn http6_top_cause_from_text_and_from_kmsg() {
    for name in ["http6-gateway-typo", "http6-ratelimit-only"] {
        let dir = workspace().join("fixtures").join(name);
        let (json, _) = diag_json(&[
            "analyze",
            dir.to_str().unwrap_or_default(),
            "--format",
            "json",
        ]);
        assert_eq!(
            cause_ids(&json).first().map(String::as_str),
            Some("route.gateway-misconfigured"),
            "{name}"
        );
        let confidence = json["causes"][0]["confidence"].as_f64().unwrap_or(0.0);
        assert!(confidence >= 0.85, "{name}: confidence {confidence}");
    }
}

/// Every real kernel log of `tests/corpus/kmsg` goes through the binary
/// as a one-file bundle (under `dev/kmsg`: diag reads it as records, or as
/// dmesg text when it is not in record format) without a failure, and the
/// ones that show an overflow or a rate-limit report are recognised.
#[test]
fn corpus_kernel_logs_are_read_and_understood() {
    let dir = common::corpus().join("kmsg");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    // What diag makes of each real log, reviewed: a change shows up as a
    // snapshot diff (tests/snapshots/fixtures__corpus_findings.snap).
    let mut recognised = std::collections::BTreeMap::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(file).expect("read corpus file");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let bundle = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(bundle.path().join("dev")).expect("mkdir");
        std::fs::write(bundle.path().join("dev/kmsg"), &bytes).expect("write");
        let out = common::diag(&[
            "analyze",
            bundle.path().to_str().unwrap_or_default(),
            "--format",
            "json",
        ]);
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
            failures.push(format!("{name}: no JSON; stderr: {}", common::stderr(&out)));
            continue;
        };
        let findings = ids(&json["findings"]);
        let mut all: Vec<String> = ids(&json["causes"])
            .into_iter()
            .chain(findings.iter().cloned())
            .collect();
        all.sort();
        recognised.insert(name.clone(), all.join(" "));
        let lower = text.to_lowercase();
        let expect = [
            (&["table overflow"][..], "neigh.table-overflow"),
            // 2.6-era printk said "printk: N messages suppressed."
            (
                &["callbacks suppressed", "messages suppressed"][..],
                "kmsg.messages-suppressed",
            ),
        ];
        for (needles, id) in expect {
            let shown = needles.iter().any(|n| lower.contains(n));
            let needle = needles.join("' or '");
            if shown != findings.contains(&id.to_string()) {
                failures.push(format!(
                    "{name}: '{needle}' in log: {shown}, {id} found: {}",
                    !shown
                ));
            }
        }
    }
    assert!(files.len() > 40);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    insta::assert_json_snapshot!("corpus_findings", recognised);
}
