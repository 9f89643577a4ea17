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
    // Issue 25: a header, and every column starts where its header does.
    let header = text.lines().next().expect("a header");
    assert!(header.starts_with("ID "), "{header}");
    let kind = header.find("KIND").expect("KIND");
    let title = header.find("TITLE").expect("TITLE");
    for line in text.lines().skip(1) {
        let word_at = |at: usize| line.get(at..).and_then(|s| s.split(' ').next());
        assert!(
            matches!(word_at(kind), Some("cause" | "finding" | "state")),
            "{line}"
        );
        assert!(
            line.get(..title).is_some_and(|s| s.ends_with(' ')),
            "{line}"
        );
    }
}

/// `diag rules facts`: the facts tree conditions read, as text, as the
/// Markdown of docs/facts.md (checked in; a diag-core test fails when it
/// differs) and as JSON; `rules list` shows the state-change patterns.
#[test]
fn rules_facts_prints_the_facts_tree() {
    let out = diag(&["rules", "facts"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("facts.net.default_routes[].gateway "))
        .expect("the gateway of a default route is listed");
    assert!(line.contains(" string "), "{line}");
    let out = diag(&["rules", "facts", "--format", "markdown"]);
    let markdown = String::from_utf8_lossy(&out.stdout);
    let docs = fs::read_to_string(workspace().join("docs/facts.md")).expect("docs/facts.md");
    assert!(
        markdown == docs,
        "docs/facts.md is out of date: diag rules facts --format markdown > docs/facts.md"
    );
    let out = diag(&["rules", "facts", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let fields = json.as_array().expect("a list");
    assert!(fields.iter().any(|f| f["path"] == "facts.host.hostname"
        && f["type"] == "string"
        && f["description"].as_str().is_some_and(|d| !d.is_empty())));
    let out = diag(&["rules", "list"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.lines()
            .any(|l| l.starts_with("link.up-down") && l.contains(" state ")),
        "{list}"
    );
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

/// Terminal escape injection (issue 19): host-controlled strings (a host
/// name, an interface, an md member, a mount point, kernel-log lines, a
/// path) carrying `ESC ] 0 ; … BEL ESC [ 2 J` or a C1 CSI must reach no
/// output raw, in any format, on stdout or stderr.
#[test]
fn escape_sequences_never_reach_the_terminal() {
    use std::process::{Command, Stdio};

    const EVIL: &str = "\x1b]0;owned\x07\x1b[2J\u{9b}31m\u{202e}";
    let dir = tempfile::tempdir().expect("tempdir");
    let b = dir.path().join("bundle");
    let write = |name: &str, contents: &[u8]| {
        let path = b.join(name);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, contents).expect("write");
    };
    write(
        "proc/sys/kernel/hostname",
        format!("web{EVIL}1\n").as_bytes(),
    );
    write("etc/hostname", format!("web{EVIL}1\n").as_bytes());
    write(
        "proc/sys/kernel/osrelease",
        format!("6.1.0{EVIL}\n").as_bytes(),
    );
    let ifname = format!("eth{EVIL}0");
    write(&format!("sys/class/net/{ifname}/flags"), b"0x1003\n");
    write(
        "proc/net/dev",
        format!(
            "Inter-|   Receive                                                |  Transmit\n \
face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n\
{ifname}: 516 6 90 90 0 0 0 0 516 6 90 90 0 0 0 0\n\
garbage{EVIL} line\n"
        )
        .as_bytes(),
    );
    write(
        "net/link.json",
        serde_json::json!([{
            "ifindex": 2, "ifname": ifname, "flags": ["BROADCAST", "MULTICAST"],
            "mtu": 1500, "operstate": "DOWN", "link_type": "ether",
            "address": "32:e7:31:b8:e2:32"
        }])
        .to_string()
        .as_bytes(),
    );
    write(
        "proc/mdstat",
        format!(
            "Personalities : [raid1]\n\
md2 : active raid1 sd{EVIL}b3[1](F) sda3[0]\n      \
1953260544 blocks super 1.2 [2/1] [U_]\n\nunused devices: <none>\n"
        )
        .as_bytes(),
    );
    let mount = format!("/mnt/{EVIL}x");
    write(
        "proc/mounts",
        format!("/dev/sda1 / ext4 rw 0 0\n/dev/sdz1 {mount} ext4 ro,relatime 0 0\n").as_bytes(),
    );
    write(
        "fs/statvfs.json",
        format!(
            "[\n{}\n]\n",
            serde_json::json!({"mount": mount, "fstype": "ext4", "device": "/dev/sdz1",
                "blocks": 1000, "bfree": 0, "bavail": 0, "files": 1000, "ffree": 1,
                "bsize": 4096, "frsize": 4096, "timed_out": false,
                "error": format!("boom{EVIL}"), "elapsed_ms": 0})
        )
        .as_bytes(),
    );
    // /dev/kmsg records: raw control bytes (a corrupt or hostile log) and
    // the kernel's own `\xNN` escapes of them.
    write(
        "dev/kmsg",
        format!(
            "6,1,1000,-;raw {EVIL} text\n\
6,2,1001,-;escaped \\x1b]0;owned\\x07\\x1b[2J \\xc2\\x9b \\x9b \\x7f caf\\xc3\\xa9\n\
4,3,1002,-;neighbour: arp_cache: neighbor table overflow! \\x1b[2J{EVIL}\n\
4,4,1003,-;neighbour: arp_cache: neighbor table overflow! \\x1b]0;t\\x07\n\
4,5,1004,-;md/raid1:md2: Disk failure on sd{EVIL}b3, disabling device.\n\
3,6,1005,-;EXT4-fs error (device sdz1): ext4_journal_check_start:83: Detected aborted journal {EVIL}\n\
not a record {EVIL}\n"
        )
        .as_bytes(),
    );
    // A rule file of its own with a control in its title and a broken one
    // named with an escape (`rules list`, `rules validate`).
    let rules = dir.path().join("rules");
    fs::create_dir_all(&rules).expect("mkdir");
    fs::write(
        rules.join("evil.toml"),
        r#"[[rule]]
id = "x.evil"
severity = "warning"
title = "evil \u001b]0;t\u0007 title"
summary = "evil \u001b[2J summary"
[rule.log]
pattern = 'table overflow'
"#,
    )
    .expect("write rule");
    let bad_rules = dir.path().join(format!("bad{EVIL}rules"));
    fs::create_dir_all(&bad_rules).expect("mkdir");
    fs::write(
        bad_rules.join(format!("r{EVIL}.toml")),
        format!("[[rule]]\nid = \"{EVIL}\n"),
    )
    .expect("write bad rule");

    let bundle = b.to_str().expect("utf8");
    let html = dir.path().join("r.html");
    let baseline = dir.path().join("base.json");
    let missing = dir.path().join(format!("no{EVIL}such"));
    let mut runs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_diag"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run diag");
        runs.push((format!("diag {args:?} stdout"), out.stdout));
        runs.push((format!("diag {args:?} stderr"), out.stderr));
    };
    run(&["analyze", bundle]);
    run(&["analyze", bundle, "--format", "json"]);
    run(&["check", "--root", bundle]);
    run(&["report", "--from", bundle, "--format", "md", "-o", "-"]);
    run(&["report", "--from", bundle, "--format", "json", "-o", "-"]);
    run(&[
        "report",
        "--from",
        bundle,
        "-o",
        html.to_str().expect("utf8"),
    ]);
    run(&["--rules", rules.to_str().expect("utf8"), "rules", "list"]);
    run(&["--rules", rules.to_str().expect("utf8"), "analyze", bundle]);
    run(&["rules", "validate", bad_rules.to_str().expect("utf8")]);
    run(&[
        "--rules",
        bad_rules.to_str().expect("utf8"),
        "rules",
        "list",
    ]);
    run(&["analyze", missing.to_str().expect("utf8")]);
    run(&["analyze", bundle, "--baseline", bundle]);
    run(&[
        "baseline",
        "save",
        "--root",
        bundle,
        "-o",
        baseline.to_str().expect("utf8"),
    ]);
    run(&[
        "check",
        "--root",
        bundle,
        "--baseline",
        baseline.to_str().expect("utf8"),
    ]);
    run(&["check", "--root", missing.to_str().expect("utf8")]);
    runs.push(("report.html".into(), fs::read(&html).expect("html report")));

    // `diag watch` follows a file of records too: let it print, then stop it.
    let mut watch = Command::new(env!("CARGO_BIN_EXE_diag"))
        .args([
            "watch",
            "--from-start",
            "--interval",
            "0.2",
            "--device",
            b.join("dev/kmsg").to_str().expect("utf8"),
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run diag watch");
    // Read until the neighbour finding and its evidence line are printed
    // (or a minute passes on a loaded machine), then stop it.
    let mut stdout = watch.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut told = false;
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen);
            if !told && text.contains("neigh.table-overflow") && text.contains("dev/kmsg:") {
                let _ = tx.send(());
                told = true;
            }
        }
        seen
    });
    let _ = rx.recv_timeout(std::time::Duration::from_secs(60));
    let _ = watch.kill();
    let out = watch.wait_with_output().expect("diag watch");
    let watched = reader.join().expect("reader");
    assert!(
        String::from_utf8_lossy(&watched).contains("neigh.table-overflow"),
        "diag watch printed no finding: {:?}",
        String::from_utf8_lossy(&watched)
    );
    runs.push(("diag watch stdout".into(), watched));
    runs.push(("diag watch stderr".into(), out.stderr));

    // The strings did reach the outputs (made visible), so the test means
    // something.
    let all: Vec<u8> = runs.iter().flat_map(|(_, o)| o.clone()).collect();
    let all = String::from_utf8_lossy(&all);
    for must in ["owned", "table overflow", "/mnt/", "web", "sd"] {
        assert!(all.contains(must), "{must:?} never printed");
    }
    // ESC, BEL, and CSI both as the UTF-8 of U+009B (0xc2 0x9b) and as a
    // raw 0x9b byte that is no part of a UTF-8 character (a 0x9b inside
    // `␛`, U+241B, is not a control).
    let mut bad = Vec::new();
    for (name, output) in &runs {
        let mut at = 0;
        let mut found = None;
        for chunk in output.utf8_chunks() {
            if let Some((i, c)) = chunk
                .valid()
                .char_indices()
                .find(|(_, c)| matches!(c, '\x1b' | '\x07' | '\u{9b}'))
            {
                found = Some((at + i, c as u32));
                break;
            }
            at += chunk.valid().len();
            if let Some(i) = chunk.invalid().iter().position(|b| *b == 0x9b) {
                found = Some((at + i, 0x9b));
                break;
            }
            at += chunk.invalid().len();
        }
        if let Some((i, c)) = found {
            let from = i.saturating_sub(60);
            let to = (i + 60).min(output.len());
            bad.push(format!(
                "{name}: {c:#04x} at byte {i}: {:?}",
                String::from_utf8_lossy(&output[from..to])
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "control bytes reached the output:\n{}",
        bad.join("\n")
    );
}

/// An archive holding only `dev/kmsg` (or only `var/log/kern.log`) and no
/// manifest is read under the same names as the same directory: the
/// single top directory is a real one (`dev`, `var`), not the wrapper that
/// `tar -C parent -c bundle` adds. It was stripped (`kmsg`, `log/kern.log`)
/// and the archive said "OK", exit 0, where the directory says CRITICAL.
#[test]
fn strip_top_dir_keeps_a_real_top_directory() {
    for (name, text) in [
        (
            "dev/kmsg",
            "4,1,100,-;neighbour: arp_cache: neighbor table overflow!\n\
             4,2,200,-;neighbour: arp_cache: neighbor table overflow!\n",
        ),
        (
            "var/log/kern.log",
            "Jun 11 11:04:35 web1 kernel: neighbour: arp_cache: neighbor table overflow!\n\
             Jun 11 11:04:36 web1 kernel: neighbour: arp_cache: neighbor table overflow!\n",
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = dir.path().join("tree");
        let file = tree.join(name);
        fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        fs::write(&file, text).expect("write");
        let top = name.split('/').next().expect("top");
        let archive = dir.path().join("only.tar.zst");
        let status = std::process::Command::new("tar")
            .arg("--zstd")
            .arg("-cf")
            .arg(&archive)
            .arg("-C")
            .arg(&tree)
            .arg(top)
            .status()
            .expect("run tar --zstd");
        assert!(status.success(), "tar --zstd failed");
        let (from_dir, dir_code) =
            diag_json(&["analyze", tree.to_str().expect("utf8"), "--format", "json"]);
        let (from_archive, archive_code) = diag_json(&[
            "analyze",
            archive.to_str().expect("utf8"),
            "--format",
            "json",
        ]);
        assert!(
            finding_ids(&from_dir).contains(&"neigh.table-overflow".to_string()),
            "{name}: {:?}",
            finding_ids(&from_dir)
        );
        assert_eq!(dir_code, 2, "{name}");
        assert_eq!(
            finding_ids(&from_archive),
            finding_ids(&from_dir),
            "{name}: the archive is read differently from the directory"
        );
        assert_eq!(archive_code, dir_code, "{name}");
    }
}

// ---- Issue 19 items 7 and 8: rule evaluation budgets ----------------------

/// Runs `diag` with at most `memory_mib` of address space (`ulimit -v`) and
/// kills it after `seconds`: a run over either limit fails the test instead
/// of hanging it or taking the machine's memory.
fn diag_bounded(args: &[&str], seconds: u64, memory_mib: u64) -> (std::process::Output, f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let start = std::time::Instant::now();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {}; exec \"$0\" \"$@\"",
            memory_mib * 1024
        ))
        .arg(env!("CARGO_BIN_EXE_diag"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(fs::File::create(&out_path).expect("stdout file"))
        .stderr(fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("run diag");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed().as_secs() >= seconds {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "diag {args:?} still running after {seconds} s; stderr:\n{}",
                fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let output = std::process::Output {
        status,
        stdout: fs::read(&out_path).expect("stdout"),
        stderr: fs::read(&err_path).expect("stderr"),
    };
    (output, start.elapsed().as_secs_f64())
}

/// A bundle whose `facts.net.addresses` has `count` entries (one interface).
fn bundle_with_addresses(root: &std::path::Path, count: usize) {
    let addr_info: Vec<String> = (0..count)
        .map(|i| {
            format!(
                r#"{{"family":"inet","local":"10.{}.{}.{}","prefixlen":8,"scope":"global"}}"#,
                i / 65536,
                (i / 256) % 256,
                i % 256
            )
        })
        .collect();
    fs::create_dir_all(root.join("net")).expect("mkdir");
    fs::write(
        root.join("net/addr.json"),
        format!(
            r#"[{{"ifname":"eth0","flags":["UP"],"addr_info":[{}]}}]"#,
            addr_info.join(",")
        ),
    )
    .expect("write addr.json");
    fs::create_dir_all(root.join("dev")).expect("mkdir");
    fs::write(
        root.join("dev/kmsg"),
        "4,1,100,-;neighbour: arp_cache: neighbor table overflow!\n",
    )
    .expect("write kmsg");
}

/// A user rule directory with one rule whose `when` is `condition`.
fn rule_dir_with_condition(dir: &std::path::Path, id: &str, condition: &str) {
    fs::write(
        dir.join("budget.toml"),
        format!(
            r#"[[rule]]
id = "{id}"
title = "t"
severity = "warning"
summary = "s"
when = "{condition}"
[[rule.case]]
name = "fires"
expect = "fires"
inputs."net/addr.json" = '[{{"ifname":"eth0","flags":["UP"],"addr_info":[{{"family":"inet","local":"10.0.0.1","prefixlen":8,"scope":"global"}}]}}]'
[[rule.case]]
name = "quiet"
expect = "quiet"
inputs."dev/kmsg" = "4,1,1,-;hello"
"#
        ),
    )
    .expect("write rule");
}

/// The notes of a diagnosis that name `rule`.
fn notes_of_rule(json: &serde_json::Value, rule: &str) -> Vec<String> {
    json["notes"]
        .as_array()
        .map(|notes| {
            notes
                .iter()
                .filter(|n| n["input"] == format!("rule:{rule}"))
                .map(|n| n["message"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Analyses a bundle of 1,000 addresses with one user rule whose
/// condition is `condition`, under a wall-clock limit of 120 s and a memory
/// cap of `memory_mb`: returns the diagnosis, after checking it ended in
/// time, exited 0-2, and holds a budget note naming the rule.
fn over_budget(rule: &str, condition: &str, memory_mb: u64) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle");
    bundle_with_addresses(&bundle, 1000);
    let rules = dir.path().join("rules");
    fs::create_dir_all(&rules).expect("mkdir");
    rule_dir_with_condition(&rules, rule, condition);
    let (out, seconds) = diag_bounded(
        &[
            "analyze",
            bundle.to_str().expect("utf8"),
            "--format",
            "json",
            "--rules",
            rules.to_str().expect("utf8"),
        ],
        120,
        memory_mb,
    );
    assert!(seconds < 60.0, "took {seconds:.1} s");
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "{:?}\n{}",
        out.status,
        stderr(&out)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("no JSON ({err}); stderr:\n{}", stderr(&out)));
    let notes = notes_of_rule(&json, rule);
    assert!(
        notes.iter().any(|n| n.contains("budget")),
        "no budget note: {:#}",
        json["notes"]
    );
    json
}

/// Three `exists` nested over a 1,000-element list are 10^9 steps (~12
/// minutes): the rule stops at its budget and becomes a note naming it; the
/// rest of the diagnosis is made.
#[test]
fn nested_exists_over_a_large_list_stops_at_the_budget() {
    let json = over_budget(
        "user.nested-exists",
        "facts.net.addresses.exists(a, facts.net.addresses.exists(b, facts.net.addresses.exists(c, a.local == b.local + c.local)))",
        4096,
    );
    assert!(!finding_ids(&json).contains(&"user.nested-exists".to_string()));
    assert!(finding_ids(&json).contains(&"neigh.table-overflow".to_string()));
}

/// Three nested `map`s over 1,000 addresses build 10^9 strings (3.7 GB,
/// then an abort): refused before they run, the process stays well under
/// its memory cap.
#[test]
fn nested_maps_do_not_exhaust_memory() {
    over_budget(
        "user.nested-maps",
        "size(facts.net.addresses.map(a, facts.net.addresses.map(b, facts.net.addresses.map(c, a.excerpt + b.excerpt + c.excerpt)))) > 0",
        2048,
    );
}

/// `(?:a|b)*a(?:a|b){200}c` is valid, but its DFA never fits a cache: a
/// log of `a`/`b` lines took minutes. Matching it on one input stops at the
/// time budget with a note naming the rule and the input, and the built-in
/// patterns still match that input.
#[test]
fn a_pathological_pattern_is_refused_or_budgeted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle");
    fs::create_dir_all(bundle.join("dev")).expect("mkdir");
    // 4 MB of 1,000-character lines of `a` and `b` (a fixed pseudo-random
    // sequence), then a line a built-in rule matches.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut kmsg = String::with_capacity(4 << 20);
    for i in 0..4000u64 {
        kmsg.push_str(&format!("6,{i},{},-;", 1000 + i));
        for _ in 0..1000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            kmsg.push(if state & 1 == 0 { 'a' } else { 'b' });
        }
        kmsg.push('\n');
    }
    kmsg.push_str("4,4000,999999,-;neighbour: arp_cache: neighbor table overflow!\n");
    fs::write(bundle.join("dev/kmsg"), kmsg).expect("write kmsg");
    let rules = dir.path().join("rules");
    fs::create_dir_all(&rules).expect("mkdir");
    fs::write(
        rules.join("slow.toml"),
        log_rule("user.slow-pattern", "(?:a|b)*a(?:a|b){200}c"),
    )
    .expect("write rule");
    let (out, seconds) = diag_bounded(
        &[
            "analyze",
            bundle.to_str().expect("utf8"),
            "--format",
            "json",
            "--rules",
            rules.to_str().expect("utf8"),
        ],
        120,
        4096,
    );
    assert!(seconds < 60.0, "took {seconds:.1} s");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("no JSON ({err}); stderr:\n{}", stderr(&out)));
    assert!(finding_ids(&json).contains(&"neigh.table-overflow".to_string()));
    let notes = notes_of_rule(&json, "user.slow-pattern");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("dev/kmsg") && n.contains("budget")),
        "no note naming the input: {:#}",
        json["notes"]
    );
}

/// A rule file holding one log rule with `pattern` (a TOML literal
/// string), with a firing and a quiet case; the pattern is on line 7.
fn log_rule(id: &str, pattern: &str) -> String {
    format!(
        r#"[[rule]]
id = "{id}"
title = "t"
severity = "warning"
summary = "s"
[rule.log]
pattern = '{pattern}'
[[rule.case]]
name = "fires"
expect = "fires"
inputs."dev/kmsg" = "4,1,1,-;a"
[[rule.case]]
name = "quiet"
expect = "quiet"
inputs."dev/kmsg" = "4,1,1,-;hello"
"#
    )
}

/// `rules validate DIR` warns, at the innermost comprehension, about
/// comprehensions nested three deep; and a log pattern over the compiled
/// size limit is an error at the pattern.
#[test]
fn rules_validate_warns_about_nested_comprehensions_and_big_patterns() {
    let dir = tempfile::tempdir().expect("tempdir");
    rule_dir_with_condition(
        dir.path(),
        "user.nested",
        "facts.net.addresses.exists(a, facts.net.addresses.exists(b, facts.net.addresses.exists(c, a.local == c.local)))",
    );
    let out = diag(&["rules", "validate", dir.path().to_str().expect("utf8")]);
    let text = String::from_utf8_lossy(&out.stdout);
    let file = dir.path().join("budget.toml");
    let warning = text
        .lines()
        .find(|l| l.contains("warning:"))
        .unwrap_or_else(|| panic!("no warning:\n{text}{}", stderr(&out)));
    assert!(
        warning.starts_with(&format!("{}:6:", file.display())),
        "{warning}"
    );
    assert!(warning.contains("nested 3 deep"), "{warning}");
    // A warning alone leaves the rule files valid.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let big = tempfile::tempdir().expect("tempdir");
    fs::write(
        big.path().join("big.toml"),
        log_rule("user.big-pattern", r"x\w{60}"),
    )
    .expect("write rule");
    let out = diag(&["rules", "validate", big.path().to_str().expect("utf8")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{}:7:12:", big.path().join("big.toml").display()))
            && text.contains("size limit"),
        "{text}"
    );
}

/// Issue 20: `diag probe` with a named target connects to it and touches
/// nothing else: one TCP record for 127.0.0.1:PORT (a listener of this
/// test), no DNS or path record, no packet capture, in well under the 2 s
/// a capture took.
#[test]
fn probe_with_a_named_target_connects_to_it_alone() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("address").port().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("results");
    let started = std::time::Instant::now();
    let (doc, code) = diag_json(&[
        "probe",
        "127.0.0.1",
        "--port",
        &port,
        "--timeout",
        "1",
        "--retries",
        "0",
        "--format",
        "json",
        "-o",
        bundle.to_str().expect("utf8"),
    ]);
    let wall = started.elapsed();
    assert_eq!(code, 0, "{doc}");
    assert!(doc["findings"] == serde_json::json!([]), "{doc}");
    assert!(doc["causes"] == serde_json::json!([]), "{doc}");
    assert!(bundle.join("probe/tcp.json").is_file());
    for absent in ["probe/dns.json", "probe/path.json", "capture"] {
        assert!(!bundle.join(absent).exists(), "{absent} written");
    }
    let tcp = fs::read_to_string(bundle.join("probe/tcp.json")).expect("tcp.json");
    let records: Vec<serde_json::Value> = tcp
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(records.len(), 1, "{tcp}");
    assert_eq!(records[0]["address"], "127.0.0.1");
    assert_eq!(records[0]["port"].to_string(), port);
    assert_eq!(records[0]["result"], "open");
    assert!(wall.as_secs_f64() < 1.5, "took {wall:?}");
    drop(listener);
}

/// `--dns` and `--path` are `probe`'s, and contradict `--no-dns` and
/// `--no-path`; a gateway port without `--path` next to named targets
/// would be ignored, so it is refused. All refused before anything is
/// sent.
#[test]
fn probe_dns_and_path_flags() {
    let err = assert_clean_failure(
        &["probe", "127.0.0.1:9", "--dns", "--no-dns"],
        "cannot be used with",
    );
    assert!(err.contains("--no-dns"), "{err}");
    assert_clean_failure(
        &["probe", "127.0.0.1:9", "--path", "--no-path"],
        "cannot be used with",
    );
    assert_clean_failure(
        &["probe", "127.0.0.1:9", "--gateway-port", "443"],
        "--gateway-port needs --path",
    );
    assert_clean_failure(&["check", "--dns"], "--dns");
    let help = String::from_utf8_lossy(&diag(&["probe", "--help"]).stdout).into_owned();
    assert!(help.contains("--dns") && help.contains("--path"), "{help}");
}

/// `diag completions SHELL` prints a completion script naming the
/// commands; `diag man` a roff page (and `diag man COMMAND` the
/// command's).
#[test]
fn completions_and_man_page() {
    let out = diag(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bash = String::from_utf8_lossy(&out.stdout);
    assert!(bash.contains("complete -F _diag"), "{bash}");
    for word in ["analyze", "probe", "--targets-from", "completions"] {
        assert!(bash.contains(word), "{word} not in the bash script");
    }
    for (shell, marker) in [("zsh", "#compdef diag"), ("fish", "complete -c diag")] {
        let out = diag(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("analyze"), "{shell}: {script}");
    }
    assert_clean_failure(&["completions", "tcsh"], "tcsh");

    let out = diag(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = String::from_utf8_lossy(&out.stdout);
    // clap_mangen starts with the roff string `Aq` (an apostrophe), then
    // the title.
    let title = page
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"))
        .expect("a title");
    assert!(title.starts_with(".TH diag 1 "), "{page}");
    for part in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH SUBCOMMANDS",
        "diag\\-probe(1)",
        ".SH \"EXIT STATUS\"",
    ] {
        assert!(page.contains(part), "{part} not in:\n{page}");
    }
    let out = diag(&["man", "check"]);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH diag-check 1 "), "{page}");
    assert!(page.contains("\\-\\-capture\\-seconds"), "{page}");
    assert_clean_failure(&["man", "nonesuch"], "no command nonesuch");
}

/// Every command's `--help` lists the options it takes, and only those
/// (the TUI's flags belong to `tui`, `analyze` and diag without a
/// command); `check --help` fits on a screen or two.
#[test]
fn command_help_is_stable() {
    for command in [
        "check",
        "analyze",
        "collect",
        "report",
        "probe",
        "watch",
        "tui",
        "rules",
        "baseline",
        "completions",
        "man",
    ] {
        let out = diag(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !matches!(command, "tui" | "analyze") {
            for tui in ["--ascii", "--no-color", "--interval <SECONDS>  TUI"] {
                assert!(!text.contains(tui), "{command} --help lists {tui}:\n{text}");
            }
        }
        insta::assert_snapshot!(format!("help_{command}"), text);
    }
    // Subcommands with options of their own.
    for command in [["rules", "facts"]] {
        let out = diag(&[command[0], command[1], "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command:?}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        insta::assert_snapshot!(format!("help_{}_{}", command[0], command[1]), text);
    }
    let check = String::from_utf8_lossy(&diag(&["check", "--help"]).stdout).into_owned();
    assert!(
        check.lines().count() < 60,
        "{} lines:\n{check}",
        check.lines().count()
    );
}

/// Issue 25: `baseline save` collected the live host with the default
/// 2 s packet capture and waited it out, for a baseline that holds no
/// traffic. It reads the host and writes at once (best of two runs well
/// under the 2 s window; about 0.1 s here).
#[test]
fn baseline_save_does_not_wait_for_a_capture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("b.json");
    let best = (0..2)
        .map(|_| {
            let started = std::time::Instant::now();
            let out = diag(&["baseline", "save", "-o", file.to_str().expect("utf-8")]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            started.elapsed()
        })
        .min()
        .expect("two runs");
    assert!(
        best < std::time::Duration::from_millis(1800),
        "baseline save took {best:?}: it waited for a capture"
    );
    assert!(file.exists());
}

#[test]
fn metrics_labels_are_checked() {
    let bundle = workspace().join("fixtures/healthy-vm");
    let bundle = bundle.to_str().expect("utf8");
    assert_clean_failure(
        &["analyze", bundle, "--metrics-label", "target=web1"],
        "--metrics-label needs --format prometheus",
    );
    for bad in ["id=x", "__name=x", "9x=y", "a-b=c", "novalue"] {
        assert_clean_failure(
            &[
                "analyze",
                bundle,
                "--format",
                "prometheus",
                "--metrics-label",
                bad,
            ],
            "--metrics-label",
        );
    }
}
