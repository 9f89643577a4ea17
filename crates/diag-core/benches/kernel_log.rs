//! Kernel-log throughput: the full built-in rule set over 1 GiB of
//! realistic `/dev/kmsg` text (real messages from `tests/corpus/kmsg`),
//! in MB/s, against `LC_ALL=C grep -E -c -f patterns` over the same text in
//! the same run (the machine is shared: compare the ratio).
//!
//! diag never holds a 1 GiB log at once (an input is read up to its size
//! limit; `diag watch` keeps a window): the text is fed to the pipeline in
//! 16 MiB pieces cut at line ends, each parsed into facts and evaluated
//! with every rule, which is what reading a large kern.log costs.
//! `DIAG_BENCH_BYTES` sets another size (e.g. 268435456 for a quick run).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use diag_core::diagnose::evaluate;
use diag_core::diagnose::rules::RuleSet;
use diag_core::{Facts, Snapshot};
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

const PIECE: usize = 16 << 20;

/// The end of the last whole line within the first `max` bytes (all of
/// `text` when it is shorter; `max` itself if no line ends before it).
fn line_end_before(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    // '\n' is never inside a multi-byte character: a char boundary.
    text.as_bytes()[..max]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(text.len(), |i| i + 1)
}

/// Parses and evaluates `text` piece by piece; returns the findings fired
/// over all pieces (so the work cannot be optimised away).
fn run_pipeline(text: &str, rules: &RuleSet) -> usize {
    let mut fired = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let end = line_end_before(rest, PIECE);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        let snapshot = Snapshot::from_inputs([("dev/kmsg", piece)]);
        let (facts, _) = Facts::from_snapshot(&snapshot);
        fired += evaluate(&facts, rules).findings.len();
    }
    fired
}

fn bench(c: &mut Criterion) {
    let bytes: usize = std::env::var("DIAG_BENCH_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 30);
    let rules = RuleSet::builtin().expect("built-in rules");
    let messages = common::corpus_messages();
    let text = common::kmsg_text(&messages, usize::MAX, bytes);
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("kmsg");
    std::fs::write(&log, &text).expect("write log");
    let patterns = dir.path().join("patterns");
    std::fs::write(&patterns, common::ere_patterns(&rules)).expect("write patterns");
    let lines = text.lines().count();
    println!(
        "kernel log: {} MiB, {lines} records; {} log patterns",
        text.len() >> 20,
        rules.rules().iter().filter(|r| r.log.is_some()).count()
    );
    assert!(run_pipeline(&text[..line_end_before(&text, PIECE)], &rules) > 0);

    let mut group = c.benchmark_group("kernel_log");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(1));
    group.warm_up_time(Duration::from_millis(1));
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("diag_parse_and_all_rules", |b| {
        b.iter(|| black_box(run_pipeline(&text, &rules)))
    });

    group.finish();

    // The reference: GNU grep with the same patterns, one run over the
    // first DIAG_GREP_BYTES (default 64 MiB) of the same file (grep -E with
    // 80-odd patterns reads about 1 MiB/s: ten runs over 1 GiB would take
    // hours; its throughput does not depend on the size).
    let grep_bytes: usize = std::env::var("DIAG_GREP_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64 << 20)
        .min(text.len());
    let cut = line_end_before(&text, grep_bytes);
    let prefix = dir.path().join("kmsg-prefix");
    std::fs::write(&prefix, &text[..cut]).expect("write prefix");
    let start = Instant::now();
    let ours = run_pipeline(&text[..cut], &rules);
    let diag_time = start.elapsed();
    let (set, _) = rules.log_set().expect("log patterns");
    let diag_lines = text[..cut]
        .lines()
        .filter(|l| set.is_match(l.split_once(';').map_or(*l, |(_, m)| m).as_bytes()))
        .count();
    let start = Instant::now();
    let out = Command::new("grep")
        .env("LC_ALL", "C")
        .args(["-E", "-c", "-f"])
        .arg(&patterns)
        .arg(&prefix)
        .output();
    let grep_time = start.elapsed();
    let mib = cut as f64 / f64::from(1 << 20);
    match out {
        Ok(out) if out.status.code().is_some_and(|c| c <= 1) => println!(
            "same {mib:.0} MiB, one run each: diag {:.2} s ({:.1} MiB/s, {ours} findings, {diag_lines} lines matched a pattern); \
             LC_ALL=C grep -E -c -f {:.2} s ({:.1} MiB/s, {} lines); grep/diag time = {:.1}",
            diag_time.as_secs_f64(),
            mib / diag_time.as_secs_f64(),
            grep_time.as_secs_f64(),
            mib / grep_time.as_secs_f64(),
            String::from_utf8_lossy(&out.stdout).trim(),
            grep_time.as_secs_f64() / diag_time.as_secs_f64()
        ),
        Ok(out) => println!(
            "reference grep -E not run ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(err) => println!("reference grep -E not run: {err}"),
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
