//! The `diag` binary against bad input, and its help and rule commands.
//! Every bad input gets one clear message naming the file (and line), exit
//! code 3, and no panic or backtrace.

mod common;

use common::{diag, diag_json, finding_ids, stderr, workspace};
use std::fs;

fn assert_clean_failure(args: &[&str], must_mention: &str) -> String {
    let out = diag(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "diag {args:?}: stderr:\n{err}");
    assert!(
        err.contains(must_mention),
        "diag {args:?}: {must_mention:?} not in:\n{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    err
}

#[test]
fn help_is_stable() {
    let out = diag(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn unknown_flag_exits_3() {
    assert_clean_failure(&["check", "--no-such-flag"], "--no-such-flag");
}

#[test]
fn missing_bundle() {
    let err = assert_clean_failure(&["analyze", "/nonexistent/bundle"], "/nonexistent/bundle");
    insta::assert_snapshot!(err.trim_end());
}

#[test]
fn empty_bundle_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_str().expect("utf8");
    assert_clean_failure(&["analyze", path], "the directory is empty");
}

#[test]
fn truncated_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("b.tar.zst");
    let src = workspace().join("fixtures/http6-gateway-typo");
    // Build a real archive with diag itself, then cut it in half.
    let root = dir.path().join("root");
    copy_dir(&src, &root);
    let out = diag(&[
        "collect",
        "--root",
        root.to_str().expect("utf8"),
        "-o",
        archive.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (whole, _) = diag_json(&[
        "analyze",
        archive.to_str().expect("utf8"),
        "--format",
        "json",
    ]);
    assert!(finding_ids(&whole).contains(&"neigh.table-overflow".to_string()));
    let bytes = fs::read(&archive).expect("read archive");
    let cut = dir.path().join("cut.tar.zst");
    fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    assert_clean_failure(
        &["analyze", cut.to_str().expect("utf8")],
        "cut.tar.zst: cannot read bundle archive",
    );
}

#[test]
fn not_a_bundle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("notes.txt");
    fs::write(&file, "hello").expect("write");
    assert_clean_failure(&["analyze", file.to_str().expect("utf8")], "not a bundle");
}

/// A pcap or pcapng file that tcpdump or Wireshark wrote is analysed on
/// its own, as a bundle holding only that capture; a file named `.pcapng`
/// that is classic pcap is read by its magic number.
#[test]
fn a_lone_capture_file_is_analysed() {
    let corpus = common::corpus().join("pcap");
    for (file, finding) in [
        (
            "sgr__pkt.TCP.synflood.spoofed.first24999.pcap",
            "capture.handshakes-unanswered",
        ),
        ("sgr__dgapcap.pcapng", "capture.dns-unanswered"),
        ("sgr__hs-arpScan.pcap", "capture.neighbour-storm"),
    ] {
        let path = corpus.join(file);
        let (json, _) = diag_json(&["analyze", path.to_str().expect("utf8"), "--format", "json"]);
        assert!(
            finding_ids(&json).iter().any(|id| id == finding),
            "{file}: {finding} not in {:?}",
            finding_ids(&json)
        );
        let evidence = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["id"] == finding)
            .map(|f| f["evidence"][0]["input"].clone());
        assert_eq!(
            evidence,
            Some(serde_json::Value::from(format!("capture/{file}"))),
            "{file}"
        );
    }
    // A capture tcpdump never wrote to (killed at once) is empty: named
    // like a capture, it is analysed, and the note says it is empty.
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("dump.pcap");
    fs::write(&empty, "").expect("write");
    let (json, code) = diag_json(&["analyze", empty.to_str().expect("utf8"), "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(json["notes"][0]["input"], "capture/dump.pcap");
    assert!(
        json["notes"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("empty file")),
        "{json}"
    );
}

#[test]
fn rule_file_with_syntax_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("bad.toml"),
        "[[rule]]\nid = \"x.y\"\ntitle = \n",
    )
    .expect("write");
    let rules = dir.path().to_str().expect("utf8");
    let err = assert_clean_failure(&["check", "--rules", rules], "bad.toml:3:");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn rule_with_bad_regex() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("r.toml"),
        "[[rule]]\nid = \"x.y\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\n[rule.log]\npattern = 'a(b'\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("s.toml"),
        "[[rule]]\nid = \"x.z\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"true\"\n",
    )
    .expect("write");
    let rules = dir.path().to_str().expect("utf8");
    assert_clean_failure(
        &["check", "--rules", rules],
        "r.toml:7:13: regex does not compile",
    );
    let out = diag(&["rules", "validate", rules]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("r.toml:7:") && text.contains("regex does not compile"),
        "{text}"
    );
    // Every problem is reported, not only the first.
    assert!(
        text.contains("s.toml:2:1: rule \"x.z\" needs at least one case"),
        "{text}"
    );
}

#[test]
fn rules_directory_that_does_not_exist() {
    assert_clean_failure(
        &["check", "--rules", "/nonexistent/rules"],
        "/nonexistent/rules",
    );
}

#[test]
fn builtin_rules_validate_and_pass_their_cases() {
    let out = diag(&["rules", "validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = diag(&["rules", "test"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(" 0 failed"), "{text}");
    let out = diag(&["rules", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for id in [
        "neigh.table-overflow",
        "kmsg.messages-suppressed",
        "route.gateway-misconfigured",
    ] {
        assert!(text.contains(id), "{id} not listed:\n{text}");
    }
}

#[test]
fn user_rule_overrides_builtin_by_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("override.toml"),
        r#"
[[rule]]
id = "kmsg.messages-suppressed"
title = "Site policy: rate limiting is only informational here"
severity = "info"
summary = "{count} rate-limit report(s)"
[rule.log]
pattern = 'callbacks suppressed'
[[rule.case]]
name = "fires"
expect = "fires"
inputs."dev/kmsg" = "4,1,1,-;net_ratelimit: 5 callbacks suppressed"
[[rule.case]]
name = "quiet"
expect = "quiet"
inputs."dev/kmsg" = "4,1,1,-;hello"
"#,
    )
    .expect("write");
    let rules = dir.path().to_str().expect("utf8");
    let fixture = workspace().join("fixtures/http6-gateway-typo");
    let (json, _) = diag_json(&[
        "analyze",
        fixture.to_str().expect("utf8"),
        "--format",
        "json",
        "--rules",
        rules,
    ]);
    let finding = json["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == "kmsg.messages-suppressed"))
        .expect("overridden rule still fires");
    assert_eq!(finding["severity"], "info");
    assert!(finding["title"]
        .as_str()
        .is_some_and(|t| t.starts_with("Site policy")));
}

#[test]
fn collect_refuses_an_existing_path_and_leaves_no_partial_bundle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("exists");
    fs::create_dir(&target).expect("mkdir");
    fs::write(target.join("keep"), "x").expect("write");
    let root = workspace().join("fixtures/http6-gateway-typo");
    assert_clean_failure(
        &[
            "collect",
            "--root",
            root.to_str().expect("utf8"),
            "-o",
            target.to_str().expect("utf8"),
        ],
        "already exists",
    );
    let out = dir.path().join("fresh");
    let status = diag(&[
        "collect",
        "--root",
        root.to_str().expect("utf8"),
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let names: Vec<String> = fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["schema"], "diag-bundle/1");
    assert!(out.join("proc/net/route").is_file());
}

#[test]
fn malformed_lines_become_notes_and_the_rest_is_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("dev")).expect("mkdir");
    fs::write(
        dir.path().join("dev/kmsg"),
        "4,1,100,-;net_ratelimit: 9 callbacks suppressed\nthis is not a record\n6,2,200,-;neighbour: arp_cache: neighbor table overflow!\n",
    )
    .expect("write");
    let (json, code) = diag_json(&[
        "analyze",
        dir.path().to_str().expect("utf8"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    let findings = finding_ids(&json);
    assert!(
        findings.contains(&"neigh.table-overflow".to_string()),
        "{findings:?}"
    );
    assert!(
        findings.contains(&"kmsg.messages-suppressed".to_string()),
        "{findings:?}"
    );
    let notes = json["notes"].as_array().expect("notes");
    assert!(
        notes
            .iter()
            .any(|n| n["input"] == "dev/kmsg" && n["line"] == 2),
        "{notes:?}"
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn a_hung_input_is_skipped_after_the_timeout() {
    // Opening a FIFO with no writer blocks forever: a stand-in for a hung
    // NFS mount or a wedged sysfs attribute.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = workspace().join("fixtures/http6-gateway-typo");
    let copy = dir.path().join("root");
    copy_dir(&root, &copy);
    let fifo = copy.join("proc/net/route");
    fs::remove_file(&fifo).expect("rm");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let started = std::time::Instant::now();
    let (json, code) = diag_json(&[
        "check",
        "--root",
        copy.to_str().expect("utf8"),
        "--read-timeout",
        "0.5",
        "--format",
        "json",
    ]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let skipped = json["skipped"].as_array().expect("skipped");
    assert!(
        skipped.iter().any(|s| s["collector"] == "proc/net/route"
            && s["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("timed out"))),
        "{skipped:?}"
    );
    // Everything else was still read and diagnosed.
    assert!(finding_ids(&json).contains(&"neigh.table-overflow".to_string()));
    assert_eq!(code, 2);
}

#[test]
fn collect_keeps_the_live_syslog_and_its_three_newest_rotations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let log = root.join("var/log");
    fs::create_dir_all(&log).expect("mkdir");
    let line = |boot: &str| {
        format!("Dec 24 15:20:00 web1 kernel: [    0.000000] Linux version {boot} #1 SMP\n")
    };
    fs::write(log.join("kern.log"), line("6.1.0")).expect("write");
    fs::write(log.join("kern.log.1"), line("6.0.0")).expect("write");
    for n in 2..=6 {
        let mut gz = std::process::Command::new("gzip")
            .arg("-c")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("gzip");
        use std::io::Write;
        gz.stdin
            .take()
            .expect("stdin")
            .write_all(line(&format!("5.{n}.0")).as_bytes())
            .expect("pipe");
        let out = gz.wait_with_output().expect("gzip");
        fs::write(log.join(format!("kern.log.{n}.gz")), out.stdout).expect("write");
    }
    fs::create_dir_all(root.join("etc")).expect("mkdir");
    fs::copy("/etc/localtime", root.join("etc/localtime")).expect("a TZif file at /etc/localtime");
    let bundle = dir.path().join("bundle");
    let out = diag(&[
        "collect",
        "--root",
        root.to_str().expect("utf8"),
        "-o",
        bundle.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut kept: Vec<String> = fs::read_dir(bundle.join("var/log"))
        .expect("var/log in bundle")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        vec!["kern.log", "kern.log.1", "kern.log.2.gz", "kern.log.3.gz"]
    );
    // The compressed rotations were stored whole (their head), and decode.
    let (json, code) = diag_json(&[
        "analyze",
        bundle.to_str().expect("utf8"),
        "--format",
        "json",
    ]);
    assert_ne!(code, 3);
    assert!(
        json["notes"].as_array().is_some_and(|n| n.is_empty()),
        "{json:#}"
    );
}
