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
    // (two audit rate-limit reports of an earlier boot): their year is
    // the report's, never this machine's. No built-in rule reads them
    // (kauditd's limit hides nothing: the records reach auditd), so a
    // user rule does.
    let rules = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        rules.path().join("audit.toml"),
        r#"[[rule]]
id = "t.audit-limited"
title = "audit records rate-limited"
severity = "info"
summary = "first {first}"
[rule.log]
pattern = 'kauditd_printk_skb: \d+ callbacks suppressed'
[[rule.case]]
name = "fires"
expect = "fires"
[rule.case.inputs]
"dev/kmsg" = "4,1,1000,-;kauditd_printk_skb: 19 callbacks suppressed\n"
[[rule.case]]
name = "quiet"
expect = "quiet"
[rule.case.inputs]
"dev/kmsg" = "6,1,1000,-;hello\n"
"#,
    )
    .expect("rule");
    let out = Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(["analyze", "--format", "json", "--rules"])
        .arg(rules.path())
        .arg(tree())
        .output()
        .expect("run diag");
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    let finding = d["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == "t.audit-limited")
        .expect("the rate-limit reports of var/log/kern.log are found");
    let summary = finding["summary"].as_str().expect("summary");
    assert!(summary.contains("2022-02-04 09:35:00"), "{summary}");
}

/// kauditd's own rate limit (`kauditd_printk_skb: N callbacks
/// suppressed`, the only rate-limit reports of this real sosreport) hides
/// nothing: the records still reach auditd. It made
/// `kmsg.messages-suppressed` a false warning here.
#[test]
fn kauditd_rate_limit_in_a_real_sosreport_is_no_finding() {
    let d = analyze_json(&tree());
    let ids: Vec<&str> = d["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(!ids.contains(&"kmsg.messages-suppressed"), "{ids:?}");
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

/// sos 3.x could compress with bzip2 (`-z bzip2`) and gzip: the same tree
/// packed with `tar -cjf` and `tar -czf` (real `bzip2` and `gzip`) reads as
/// the tree does.
#[test]
fn a_sosreport_packed_with_bzip2_or_gzip_reads_as_its_tree() {
    let mut from_tree = analyze_json(&tree());
    let d = from_tree.as_object_mut().expect("object");
    d.remove("generated_at");
    d["source"].as_object_mut().expect("source").remove("path");
    for (flag, ext) in [("-cjf", "tar.bz2"), ("-czf", "tar.gz")] {
        let dir = tempfile::tempdir().expect("tempdir");
        let top = "sosreport-compute4-2022-02-10-lkvmdmb";
        common::copy_tree(&tree(), &dir.path().join(top)).expect("copy the tree");
        let archive = dir.path().join(format!("{top}.{ext}"));
        let status = Command::new("tar")
            .arg(flag)
            .arg(&archive)
            .arg("-C")
            .arg(dir.path())
            .arg(top)
            .status()
            .expect("tar with bzip2 and gzip (apt-get install tar bzip2 gzip)");
        assert!(status.success(), "tar {flag} failed");
        let mut from_archive = analyze_json(&archive);
        let d = from_archive.as_object_mut().expect("object");
        d.remove("generated_at");
        d["source"].as_object_mut().expect("source").remove("path");
        assert_eq!(from_archive["source"]["kind"], "sosreport", "{ext}");
        assert_eq!(from_archive, from_tree, "{ext}");
    }
}

/// sos keeps the host's links in the tree and in the archive it packs
/// (sos 4.x on Debian 12, this project's VM, 2026-12-06): `proc/net ->
/// self/net`, `proc/self -> <pid>`, `proc/mounts -> self/mounts`, `date ->
/// sos_commands/date/date`. The archive's links are followed as the
/// tree's are: both read the neighbour table, routes and mounts behind
/// them, and analyse the same.
#[test]
fn a_sosreport_archive_with_sos_links_reads_as_its_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let top = "sosreport-vm-2026-12-06-vhotjgc";
    let root = dir.path().join(top);
    common::copy_tree(&tree(), &root).expect("copy the tree");
    let proc = root.join("proc/11226");
    std::fs::create_dir_all(proc.join("net")).expect("mkdir");
    // As sos copied them on this project's VM (the route table padded to
    // 128 columns as the kernel writes it).
    let pad = |line: &str| format!("{line:<127}\n");
    std::fs::write(
        proc.join("net/arp"),
        "IP address       HW type     Flags       HW address            Mask     Device\n\
         192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n",
    )
    .expect("arp");
    std::fs::write(
        proc.join("net/route"),
        [
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
            "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
            "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
        ]
        .map(pad)
        .concat(),
    )
    .expect("route");
    std::fs::write(
        proc.join("mounts"),
        "proc /proc proc rw,relatime 0 0\nsysfs /sys sysfs rw,relatime 0 0\n\
         /dev/vda1 / ext4 rw,relatime,errors=remount-ro 0 0\n",
    )
    .expect("mounts");
    for (link, target) in [
        ("proc/self", "11226"),
        ("proc/net", "self/net"),
        ("proc/mounts", "self/mounts"),
        ("etc/mtab", "../proc/mounts"),
        ("date", "sos_commands/date/date"),
        ("escape", "../../../etc/shadow"),
    ] {
        std::os::unix::fs::symlink(target, root.join(link)).expect("symlink");
    }
    let archive = dir.path().join(format!("{top}.tar.xz"));
    let status = Command::new("tar")
        .arg("-cJf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path())
        .arg(top)
        .status()
        .expect("tar with xz (apt-get install tar xz-utils)");
    assert!(status.success(), "tar -cJf failed");
    let mut from_archive = analyze_json(&archive);
    let mut from_tree = analyze_json(&root);
    let without_links = analyze_json(&tree());
    for d in [&mut from_archive, &mut from_tree] {
        let d = d.as_object_mut().expect("object");
        d.remove("generated_at");
        d["source"].as_object_mut().expect("source").remove("path");
    }
    let read = |d: &serde_json::Value| d["source"]["inputs_read"].as_u64().expect("inputs_read");
    // proc/net/arp and proc/net/route, through the links (proc/mounts
    // too, but without it diag makes one from sos's `mount -l`).
    assert!(
        read(&from_tree) >= read(&without_links) + 2,
        "{} inputs with the links, {} without",
        read(&from_tree),
        read(&without_links)
    );
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

/// Issue 22: the real `sos report --batch` of this machine (Debian's
/// sosreport package, which `.ci/run` installs) against `diag report` of
/// the same machine read live a moment later: the same bound addresses,
/// default routes and md findings. Needs root, as sos does.
#[test]
fn a_real_sos_report_of_this_machine_agrees_with_diag_live() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new("sos")
        .args(["report", "--batch", "--quiet", "--tmp-dir"])
        .arg(dir.path())
        .args(["-o", "networking,host,kernel,md,date,filesys"])
        .output()
        .expect("sos (apt-get install sosreport; .ci/run installs it)");
    assert!(
        status.status.success(),
        "sos report failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let archive = std::fs::read_dir(dir.path())
        .expect("read the tmp dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".tar.xz"))
        .expect("sos wrote a .tar.xz");
    let report = |from: Option<&std::path::Path>| -> serde_json::Value {
        let mut command = Command::new(env!("CARGO_BIN_EXE_diag"));
        command.args(["report", "--format", "json", "-o", "-"]);
        if let Some(from) = from {
            command.arg("--from").arg(from);
        }
        let out = command.output().expect("run diag");
        assert!(
            out.status.code().is_some_and(|c| c <= 2),
            "diag failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("diag/1 JSON")
    };
    let sos = report(Some(&archive));
    let live = report(None);
    assert_eq!(sos["source"]["kind"], "sosreport");
    let rows = |d: &serde_json::Value, table: &str, a: &str, b: &str| {
        let mut rows: Vec<(String, String)> = d["report"]["tables"][table]
            .as_array()
            .unwrap_or_else(|| panic!("report.tables.{table}: {d:#}"))
            .iter()
            .map(|r| {
                (
                    r[a].as_str().unwrap_or("").into(),
                    r[b].as_str().unwrap_or("").into(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let bound = rows(&live, "bound_addresses", "interface", "address");
    assert!(!bound.is_empty(), "no address bound live: {live:#}");
    assert_eq!(rows(&sos, "bound_addresses", "interface", "address"), bound);
    assert_eq!(
        rows(&sos, "default_routes", "dev", "gateway"),
        rows(&live, "default_routes", "dev", "gateway")
    );
    let md = |d: &serde_json::Value| -> Vec<String> {
        common::finding_ids(d)
            .into_iter()
            .filter(|id| id.starts_with("md."))
            .collect()
    };
    assert_eq!(md(&sos), md(&live));
}
