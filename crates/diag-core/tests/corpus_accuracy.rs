//! Is diag right on other people's machines? (issue 24, "How to prove it")
//!
//! Every real input of `tests/corpus/` is diagnosed alone in a bundle and
//! compared with what an operator reading the file expects
//! (`corpus_accuracy.toml`: the acceptable top of the ranked list, or no
//! alarm at all). The test prints
//! `corpus: R right, M missed, F false alarms of N` and fails when a
//! sample goes wrong that was right, or goes right while still marked
//! `known` (so the mark is removed and the line only improves).

use diag_core::analysis::{Analysis, Request};
use diag_core::diagnose::rules::RuleSet;
use diag_core::model::Severity;
use diag_core::source::Bundle;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectations {
    sample: Vec<Sample>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    path: String,
    #[serde(default)]
    top: Vec<String>,
    #[serde(default)]
    quiet: bool,
    #[serde(default)]
    also: Vec<String>,
    known: Option<String>,
    why: String,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Verdict {
    Right,
    Missed,
    FalseAlarm,
}

fn corpus() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus"))
}

/// Where a corpus file goes in a bundle: its kind is its folder.
fn bundle_name(path: &str) -> String {
    let (dir, file) = path.split_once('/').unwrap_or(("", path));
    match dir {
        "kmsg" => "dev/kmsg".into(),
        "mdstat" => "proc/mdstat".into(),
        "neigh" if file.ends_with("stat_arp_cache") => "proc/net/stat/arp_cache".into(),
        "route" | "addr" | "neigh" => "commands/ip_x".into(),
        "pcap" => format!(
            "capture/eth0.{}",
            Path::new(file)
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("pcap")
        ),
        other => panic!("{path}: no bundle place for folder {other}"),
    }
}

/// What diag says: the top of the ranked list (the first cause, else the
/// first warning or critical finding), whether anything above info was
/// said, and every id it made.
fn diagnose(rules: &RuleSet, path: &str) -> (Option<String>, bool, BTreeSet<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join(bundle_name(path));
    std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
    std::fs::copy(corpus().join(path), &target).unwrap_or_else(|e| panic!("{path}: {e}"));
    let bundle = Bundle::open(dir.path()).unwrap_or_else(|e| panic!("{path}: {e}"));
    let diagnosis = Analysis::run(&bundle, rules, &Request::default())
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .diagnosis;
    let alarms: Vec<&str> = diagnosis
        .causes
        .iter()
        .map(|c| c.id.as_str())
        .chain(
            diagnosis
                .findings
                .iter()
                .filter(|f| f.severity > Severity::Info)
                .map(|f| f.id.as_str()),
        )
        .collect();
    let ids = diagnosis
        .causes
        .iter()
        .map(|c| c.id.clone())
        .chain(diagnosis.findings.iter().map(|f| f.id.clone()))
        .collect();
    (
        alarms.first().map(|s| s.to_string()),
        !alarms.is_empty(),
        ids,
    )
}

#[test]
fn corpus_accuracy() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus_accuracy.toml"
    ))
    .expect("corpus_accuracy.toml");
    let expectations: Expectations = toml::from_str(&text).expect("corpus_accuracy.toml parses");

    // Every corpus file has exactly one expectation.
    let mut files = BTreeSet::new();
    for dir in std::fs::read_dir(corpus()).expect("corpus").flatten() {
        if !dir.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(dir.path())
            .expect("corpus folder")
            .flatten()
        {
            files.insert(format!(
                "{}/{}",
                dir.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            ));
        }
    }
    let listed: BTreeSet<String> = expectations.sample.iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        listed.len(),
        expectations.sample.len(),
        "a sample is listed twice"
    );
    let unlisted: Vec<_> = files.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&files).collect();
    assert!(
        unlisted.is_empty() && gone.is_empty(),
        "corpus files without an expectation: {unlisted:?}; expectations without a file: {gone:?}"
    );

    let rules = RuleSet::builtin().expect("built-in rules");
    let (mut right, mut missed, mut false_alarms) = (0, 0, 0);
    let mut problems = Vec::new();
    for sample in &expectations.sample {
        assert!(
            sample.quiet == sample.top.is_empty(),
            "{}: give either top or quiet = true",
            sample.path
        );
        assert!(!sample.why.is_empty(), "{}: say why", sample.path);
        let (top, alarmed, ids) = diagnose(&rules, &sample.path);
        let also_ok = sample.also.iter().all(|id| ids.contains(id));
        let verdict = if sample.quiet {
            match (alarmed, also_ok) {
                (true, _) => Verdict::FalseAlarm,
                (false, false) => Verdict::Missed,
                (false, true) => Verdict::Right,
            }
        } else if also_ok && top.as_ref().is_some_and(|t| sample.top.contains(t)) {
            Verdict::Right
        } else {
            Verdict::Missed
        };
        match verdict {
            Verdict::Right => right += 1,
            Verdict::Missed => missed += 1,
            Verdict::FalseAlarm => false_alarms += 1,
        }
        let known = match sample.known.as_deref() {
            None => Verdict::Right,
            Some("missed") => Verdict::Missed,
            Some("false alarm") => Verdict::FalseAlarm,
            Some(other) => panic!("{}: known = {other:?}", sample.path),
        };
        if verdict != known {
            problems.push(format!(
                "{}: now {:?}, marked {:?}: diag's top is {}, the operator expects {}{} ({})",
                sample.path,
                verdict,
                known,
                top.as_deref().unwrap_or("nothing"),
                if sample.quiet {
                    "no alarm".to_string()
                } else {
                    sample.top.join(" or ")
                },
                if sample.also.is_empty() {
                    String::new()
                } else {
                    format!(" with {}", sample.also.join(", "))
                },
                sample.why
            ));
        }
    }
    println!(
        "corpus: {right} right, {missed} missed, {false_alarms} false alarms of {}",
        expectations.sample.len()
    );
    assert!(
        problems.is_empty(),
        "samples whose verdict changed (fix diag, or update `known`):\n{}",
        problems.join("\n")
    );
}
