//! The full built-in rule set over a snapshot of 100,000 kernel log entries
//! (target: under 100 ms), and `grep -E` with the same patterns over the
//! same text as a reference measured in the same run (the machine is
//! shared; compare the ratio, not the absolute time). Then the time to
//! load the built-in rules, with and without their fixture cases.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use diag_core::diagnose::rules::RuleSet;
use diag_core::diagnose::{diagnose, evaluate};
use diag_core::{Facts, Snapshot};
use std::hint::black_box;
use std::process::Command;

const ENTRIES: usize = 100_000;

fn bench(c: &mut Criterion) {
    let rules = RuleSet::builtin().expect("built-in rules");
    let text = common::kmsg_text(&common::corpus_messages(), ENTRIES, usize::MAX);
    let snapshot = Snapshot::from_inputs([("dev/kmsg", text.clone())]);
    let (facts, _) = Facts::from_snapshot(&snapshot);
    assert_eq!(facts.kernel_log.entries.len(), ENTRIES);
    let diagnosis = diagnose(&snapshot, &rules);
    assert!(diagnosis.has("neigh.table-overflow") && diagnosis.has("kmsg.messages-suppressed"));

    let mut group = c.benchmark_group("kmsg_100k");
    group.sample_size(20);
    group.bench_function("evaluate_rules", |b| {
        b.iter(|| black_box(evaluate(&facts, &rules)))
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| black_box(Facts::from_snapshot(&snapshot)))
    });
    group.bench_function("parse_and_diagnose", |b| {
        b.iter(|| black_box(diagnose(&snapshot, &rules)))
    });

    // Reference: GNU grep -P (PCRE understands the rules' syntax, named
    // groups included) with every log pattern joined into one, counting
    // matching lines of the same text.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("kmsg");
    std::fs::write(&file, &text).expect("write");
    let names = regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>").expect("regex");
    let joined: Vec<String> = rules
        .rules()
        .iter()
        .filter_map(|r| r.log.as_ref())
        // `(?-u:...)` (Rust: ASCII-only classes) means nothing to PCRE, and
        // group names repeat across rules: both become plain groups.
        .map(|l| {
            let plain = l.pattern().replace("(?-u:", "(?:").replace("(?-u)", "");
            format!("(?:{})", names.replace_all(&plain, "(?:"))
        })
        .collect();
    let args = vec![
        "-c".to_string(),
        "-P".to_string(),
        "-e".to_string(),
        joined.join("|"),
        file.display().to_string(),
    ];
    match Command::new("grep").args(&args).output() {
        Ok(out) if out.status.success() => {
            let count = String::from_utf8_lossy(&out.stdout).trim().to_string();
            println!("reference grep -P counted {count} matching lines");
            group.bench_function("reference_grep_P", |b| {
                b.iter(|| black_box(Command::new("grep").args(&args).output().expect("grep")))
            });
        }
        Ok(out) => println!(
            "reference grep -P failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(err) => println!("reference grep -P not run: {err}"),
    }
    group.finish();
}

/// Loading the built-in rules, which every `diag` command does first: as
/// they load for a diagnosis (patterns compiled on first use, no fixture
/// cases) and checked in full as `diag rules test` loads them.
fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_builtin_rules");
    group.sample_size(20);
    group.bench_function("for_diagnosis", |b| {
        b.iter(|| black_box(RuleSet::builtin().expect("built-in rules")))
    });
    group.bench_function("with_cases_checked", |b| {
        b.iter(|| black_box(RuleSet::builtin_with_cases().expect("built-in rules")))
    });
    group.finish();
}

criterion_group!(benches, bench, load);
criterion_main!(benches);
