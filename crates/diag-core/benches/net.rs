//! A full Internet routing table (1,000,000 routes) and a busy router's
//! neighbour table (100,000 entries) through parse and diagnose (target:
//! under 1 s; peak memory is measured by `xtask net-scale`), with
//! `grep -c` over the same files as a reference measured in the same run
//! (the machine is shared; compare the ratio, not the absolute time).

use criterion::{criterion_group, criterion_main, Criterion};
use diag_core::diagnose::diagnose;
use diag_core::diagnose::rules::RuleSet;
use diag_core::{Facts, Snapshot};
use std::hint::black_box;
use std::process::Command;

#[path = "common/net_data.rs"]
mod data;

fn bench(c: &mut Criterion) {
    let rules = RuleSet::builtin().expect("built-in rules");
    let inputs = data::inputs();
    let snapshot = Snapshot::from_inputs(inputs.clone());
    let (facts, notes) = Facts::from_snapshot(&snapshot);
    assert!(notes.is_empty(), "{:?}", &notes[..notes.len().min(3)]);
    assert_eq!(facts.net.route_count as usize, data::ROUTES + 3);
    assert_eq!(facts.net.neigh.ipv4 as usize, data::NEIGHBOURS);
    let diagnosis = diagnose(&snapshot, &rules);
    assert!(diagnosis.has("neigh.offlink-entries"));
    assert!(!diagnosis.has("route.gateway-misconfigured"));

    let mut group = c.benchmark_group("net_1m_routes_100k_neigh");
    group.sample_size(10);
    group.bench_function("parse_only", |b| {
        b.iter(|| black_box(Facts::from_snapshot(&snapshot)))
    });
    group.bench_function("parse_and_diagnose", |b| {
        b.iter(|| black_box(diagnose(&snapshot, &rules)))
    });

    // Reference: grep counting the records of the same two files.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for (name, text) in &inputs {
        let path = dir.path().join(name.replace('/', "_"));
        std::fs::write(&path, text).expect("write");
        files.push(path.display().to_string());
    }
    let mut args = vec!["-c".to_string(), "\"dst\"".to_string()];
    args.extend(files);
    match Command::new("grep").args(&args).output() {
        Ok(out) if out.status.success() => {
            group.bench_function("reference_grep_c", |b| {
                b.iter(|| black_box(Command::new("grep").args(&args).output().expect("grep")))
            });
        }
        other => println!("reference grep unavailable: {other:?}"),
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
