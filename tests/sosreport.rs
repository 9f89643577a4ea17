//! `diag analyze` of a real sosreport tree (sos 4.2, Ubuntu 20.04:
//! `tests/sosreports/hotsos-openstack`, see its PROVENANCE.md): read as a
//! sosreport, with the host, kernel, collection time, addresses and
//! failed commands of the report, never of the analysing machine.

mod common;

use common::workspace;
use std::process::Command;

fn analyze_json(tree: &std::path::Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(["analyze", "--format", "json"])
        .arg(tree)
        .output()
        .expect("run diag");
    assert!(
        out.status.code().is_some_and(|c| c <= 2),
        "diag failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("diag/1 JSON")
}

fn tree() -> std::path::PathBuf {
    let tree = workspace().join("tests/sosreports/hotsos-openstack");
    assert!(
        tree.join("sos_commands").is_dir(),
        "{} is missing: it is vendored in the repository",
        tree.display()
    );
    tree
}

#[test]
fn a_sosreport_is_read_as_one_with_the_reports_host_kernel_and_date() {
    let d = analyze_json(&tree());
    let source = &d["source"];
    assert_eq!(source["kind"], "sosreport");
    assert_eq!(source["host"], "compute4");
    assert_eq!(source["kernel"], "5.4.0-97-generic");
    // From sos_commands/date/date_--utc, not from this machine's clock.
    assert_eq!(source["collected_at"], "2022-02-10T16:19:17Z");
    // mount -l stands in for the missing proc/mounts.
    assert_eq!(source["inputs_absent"], serde_json::json!([]));
}

#[test]
fn a_sosreports_addresses_are_the_bound_targets() {
    let d = analyze_json(&tree());
    let bound: Vec<&str> = d["targets"]["bound"]
        .as_array()
        .expect("targets.bound")
        .iter()
        .filter_map(|t| t["address"].as_str())
        .collect();
    assert!(bound.contains(&"10.0.0.128"), "bound: {bound:?}");
}

#[test]
fn a_command_that_failed_under_sos_is_skipped_not_parsed() {
    let d = analyze_json(&tree());
    let skipped = d["skipped"].as_array().expect("skipped");
    assert!(
        skipped
            .iter()
            .any(|s| s["collector"] == "commands/mdadm_--detail_all"
                && s["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("failed when sos ran it")
                        && r.contains("mdadm: cannot open /dev/md*"))),
        "skipped: {skipped:?}"
    );
    // Nothing about md arrays was made up from the error text.
    let text = d.to_string();
    assert!(!text.contains("md.array"), "{text}");
}

#[test]
fn syslog_lines_of_a_sosreport_take_the_reports_year() {
    // The tree's var/log/kern.log holds year-less lines of February 2022
    // (two rate-limit reports of an earlier boot): their year is the
    // report's, never this machine's.
    let d = analyze_json(&tree());
    let finding = d["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == "kmsg.messages-suppressed")
        .expect("the rate-limit reports of var/log/kern.log are found");
    let summary = finding["summary"].as_str().expect("summary");
    assert!(summary.contains("2022-02-04 09:35:00"), "{summary}");
}

/// Packs the vendored tree as `sos report` does: `sosreport-HOST-DATE/`
/// inside a `.tar.xz` (real `tar` and `xz`, as on the host sos ran on).
fn packed(dir: &std::path::Path) -> std::path::PathBuf {
    let top = "sosreport-compute4-2022-02-10-lkvmdmb";
    common::copy_tree(&tree(), &dir.join(top)).expect("copy the tree");
    let archive = dir.join(format!("{top}.tar.xz"));
    let status = Command::new("tar")
        .arg("-cJf")
        .arg(&archive)
        .arg("-C")
        .arg(dir)
        .arg(top)
        .status()
        .expect("tar with xz (apt-get install tar xz-utils)");
    assert!(status.success(), "tar -cJf failed");
    archive
}

#[test]
fn a_sosreport_archive_reads_as_its_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = packed(dir.path());
    let mut from_archive = analyze_json(&archive);
    let mut from_tree = analyze_json(&tree());
    for d in [&mut from_archive, &mut from_tree] {
        let d = d.as_object_mut().expect("object");
        d.remove("generated_at");
        d["source"].as_object_mut().expect("source").remove("path");
    }
    assert_eq!(from_archive["source"]["kind"], "sosreport");
    assert_eq!(from_archive, from_tree);
}

#[test]
fn a_truncated_sosreport_archive_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = packed(dir.path());
    let bytes = std::fs::read(&archive).expect("read");
    std::fs::write(&archive, &bytes[..bytes.len() / 2]).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_diag"))
        .arg("analyze")
        .arg(&archive)
        .output()
        .expect("run diag");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot read bundle archive"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
