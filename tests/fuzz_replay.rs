//! Replays every saved fuzz input through its target's function on the
//! stable compiler, as an ordinary test: `fuzz/seeds/NAME/*` (real
//! inputs), `fuzz/corpus/NAME/*` (what fuzzing found, minimised) and `fuzz/regressions/NAME/*` (each
//! input that once crashed a target, named after what it found). The
//! targets' bodies live in `fuzz/entries.rs`, shared with the libFuzzer
//! binaries, so a regression replayed here is the same call that crashed.

#[path = "../fuzz/entries.rs"]
mod entries;

mod common;

use std::path::Path;

fn replay(dir: &Path, run: fn(&[u8])) -> usize {
    let Ok(files) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut count = 0;
    for file in files {
        let path = file.expect("entry").path();
        let data = match std::fs::read(&path) {
            Ok(data) => data,
            // A fuzzer running beside the test (locally) replaced it.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => panic!("{}: {err}", path.display()),
        };
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} crashes its target", path.display());
        count += 1;
    }
    count
}

#[test]
fn every_saved_fuzz_input_runs_clean() {
    let root = common::workspace().join("fuzz");
    let mut total = 0;
    for (name, run) in entries::TARGETS {
        let corpus = replay(&root.join("corpus").join(name), *run)
            + replay(&root.join("seeds").join(name), *run);
        let regressions = replay(&root.join("regressions").join(name), *run);
        assert!(
            corpus > 0,
            "fuzz/corpus/{name} is empty: every target keeps a committed corpus"
        );
        eprintln!("{name}: {corpus} corpus inputs, {regressions} regressions");
        total += corpus + regressions;
    }
    eprintln!("{total} saved fuzz inputs replayed");
}
