//! Hostile inputs (issue 19): bundles and roots that come from a broken or
//! compromised machine. Each test is named after the defect it pins.
//!
//! The hung-filesystem tests need root (a FUSE mount in a private mount
//! namespace: `tests/hung/fusehang.py`); CI runs as root. They fail, saying
//! why, when run without it.

mod common;

use common::{diag, stderr, workspace};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// What every output format of `analyze` and `report` prints for `bundle`.
fn every_output(bundle: &Path) -> String {
    let bundle = bundle.to_str().expect("utf-8 path");
    let mut all = String::new();
    for args in [
        vec!["analyze", bundle],
        vec!["analyze", bundle, "--format", "json"],
        vec!["report", "--from", bundle, "--format", "md", "-o", "-"],
        vec!["report", "--from", bundle, "--format", "html", "-o", "-"],
        vec!["report", "--from", bundle, "--format", "json", "-o", "-"],
    ] {
        let out = diag(&args);
        all.push_str(&String::from_utf8_lossy(&out.stdout));
        all.push_str(&stderr(&out));
    }
    all
}

/// Issue 19, defect 1: `ln -sf /etc/shadow B/proc/mdstat; diag analyze B`
/// printed the analysing host's file line by line. Links out of a bundle
/// are refused, named in the output, and what they point at never shows.
#[test]
fn symlinks_in_a_bundle_never_leave_it() {
    let top = tempfile::tempdir().expect("tempdir");
    let secret = top.path().join("shadow");
    std::fs::write(
        &secret,
        "root:SECRET-HASH-1:19000:0:99999:7:::\nneighbor table overflow! SECRET-2\n",
    )
    .expect("write");
    let bundle = top.path().join("bundle");
    common::copy_tree(&workspace().join("fixtures/http6-gateway-typo"), &bundle).expect("copy");
    std::fs::create_dir_all(bundle.join("dev")).expect("mkdir");
    let link = |target: &Path, name: &str| {
        let path = bundle.join(name);
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(target, path).expect("symlink");
    };
    link(&secret, "proc/mdstat");
    link(&secret, "dev/kmsg");
    link(Path::new("/proc/self/mounts"), "proc/mounts");
    std::fs::create_dir_all(bundle.join("proc/sys/kernel")).expect("mkdir");
    link(Path::new("../../../../shadow"), "proc/sys/kernel/hostname");

    let all = every_output(&bundle);
    assert!(
        !all.contains("SECRET"),
        "a file outside the bundle leaked:\n{all}"
    );
    let mounts = std::fs::read_to_string("/proc/self/mounts").expect("mounts");
    let own_mount = mounts.lines().next().expect("a mount");
    assert!(
        !all.contains(own_mount),
        "this machine's mounts were reported as the bundle's"
    );
    let text = String::from_utf8_lossy(&diag(&["analyze", bundle.to_str().expect("utf-8")]).stdout)
        .into_owned();
    for name in [
        "proc/mdstat",
        "dev/kmsg",
        "proc/mounts",
        "proc/sys/kernel/hostname",
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(name) && l.contains("outside the tree")),
            "{name} not named as refused:\n{text}"
        );
    }
    // The rest of the bundle is still diagnosed.
    assert!(text.contains("route.gateway-misconfigured"), "{text}");
}

/// Runs `diag ARGS` beside a FUSE mount at `mnt` that never answers, and
/// returns (exit code, stderr, elapsed).
fn beside_a_hung_mount(mnt: &Path, args: &[&str]) -> (i32, String, Duration) {
    assert!(
        nix_is_root(),
        "the hung-filesystem tests need root (a FUSE mount in a private mount namespace)"
    );
    assert!(
        Path::new("/dev/fuse").exists(),
        "the hung-filesystem tests need /dev/fuse"
    );
    let started = Instant::now();
    let out = Command::new("python3")
        .arg(workspace().join("tests/hung/fusehang.py"))
        .arg(mnt)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_diag"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("python3 (apt-get install python3)");
    (
        out.status.code().unwrap_or(-1),
        stderr(&out),
        started.elapsed(),
    )
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Issue 19, defect 3: a root or bundle on a hung filesystem hung diag
/// forever in a `stat` on the main thread. Every first look at the path
/// runs under the read deadline and the error names the path.
#[test]
fn a_path_on_a_hung_filesystem_does_not_hang_diag() {
    let top = tempfile::tempdir().expect("tempdir");
    let mnt = top.path().join("hung");
    let mnt_s = mnt.to_str().expect("utf-8");
    let out = top.path().join("out");
    let out_s = out.to_str().expect("utf-8");
    let inside = format!("{mnt_s}/bundle");
    let archive = format!("{mnt_s}/x.tar.zst");
    for args in [
        vec!["check", "--root", mnt_s, "--capture-seconds", "0"],
        vec![
            "collect",
            "--root",
            mnt_s,
            "--capture-seconds",
            "0",
            "-o",
            out_s,
        ],
        vec!["tui", "--root", mnt_s],
        vec!["analyze", mnt_s],
        vec!["analyze", &inside],
        vec!["analyze", &archive],
        vec!["report", "--from", &inside, "--format", "md", "-o", "-"],
    ] {
        let (code, err, took) = beside_a_hung_mount(&mnt, &args);
        assert_ne!(code, 124, "diag {args:?} hung (killed after 60 s)");
        assert_eq!(code, 3, "diag {args:?}: {err}");
        assert!(
            err.contains(mnt_s) && err.contains("not answering"),
            "diag {args:?} did not name the hung path: {err}"
        );
        assert!(
            took < Duration::from_secs(20),
            "diag {args:?} took {took:?}"
        );
    }
}

/// Issue 19, defect 11: a source of which nothing could be read (every
/// input timed out, or none is known) printed "OK" and exited 0. It is
/// UNKNOWN (exit 3) now, naming the path and why.
#[test]
fn nothing_read_is_unknown_not_ok() {
    let top = tempfile::tempdir().expect("tempdir");
    // Every input a FIFO nobody writes: each read times out.
    let hung = top.path().join("hung-bundle");
    for name in ["proc/mdstat", "proc/net/route", "dev/kmsg", "proc/net/arp"] {
        let path = hung.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        nix_mkfifo(&path);
    }
    // Files diag knows nothing of.
    let unrelated = top.path().join("doc");
    std::fs::create_dir_all(&unrelated).expect("mkdir");
    std::fs::write(unrelated.join("README"), "a package's documentation\n").expect("write");
    let empty = top.path().join("empty-root");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let hung_s = hung.to_str().expect("utf-8");
    for args in [
        vec!["analyze", hung_s, "--read-timeout", "0.3"],
        vec!["analyze", unrelated.to_str().expect("utf-8")],
        vec![
            "check",
            "--root",
            empty.to_str().expect("utf-8"),
            "--capture-seconds",
            "0",
        ],
    ] {
        let out = diag(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "diag {args:?}: {err}");
        assert!(err.contains("nothing to diagnose"), "diag {args:?}: {err}");
        assert!(err.contains(args[1]) || err.contains(args[2]), "{err}");
    }
    let out = diag(&["analyze", hung_s, "--read-timeout", "0.3"]);
    assert!(stderr(&out).contains("timed out"), "{}", stderr(&out));
}

fn nix_mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo (coreutils)");
    assert!(status.success());
}

/// Issue 20, part 3: a bundle that holds only part of a host says so in
/// its header (inputs read, the kinds every host has that it lacks) and
/// says when it was collected.
#[test]
fn a_thin_bundle_shows_as_thin() {
    let top = tempfile::tempdir().expect("tempdir");
    let thin = top.path().join("thin");
    std::fs::create_dir_all(thin.join("proc")).expect("mkdir");
    std::fs::write(
        thin.join("proc/mdstat"),
        "Personalities : \nunused devices: <none>\n",
    )
    .expect("write");
    let thin_s = thin.to_str().expect("utf-8");
    let out = diag(&["analyze", thin_s]);
    let text = String::from_utf8_lossy(&out.stdout);
    let header = text.lines().nth(1).unwrap_or_default();
    assert!(
        header.starts_with("read 1 input(s); absent: kernel log, routes, neighbours, interfaces, mounts, host name")
            && header.contains("collection time unknown"),
        "{text}"
    );
    let (json, _) = common::diag_json(&["analyze", thin_s, "--format", "json"]);
    assert_eq!(json["source"]["inputs_read"], 1);
    assert_eq!(
        json["source"]["inputs_absent"].as_array().map(Vec::len),
        Some(6)
    );
    assert!(json["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .any(|s| s["collector"] == "kernel log" && s["reason"] == "not present"));

    // A bundle diag collected knows when.
    let fixture = workspace().join("fixtures/scenario-002-gateway-typo-onlink");
    let (json, _) = common::diag_json(&[
        "analyze",
        fixture.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(json["source"]["collected_at"], "2026-11-21T13:59:20Z");
    assert_eq!(json["source"]["inputs_absent"], serde_json::json!([]));
}
