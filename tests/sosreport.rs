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

/// A user rule over the rate-limit reports of the tree's
/// `var/log/kern.log` (two, of an earlier boot). No built-in rule reads
/// them (kauditd's limit hides nothing: the records reach auditd).
fn audit_limited_rule() -> tempfile::TempDir {
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
    rules
}

/// `diag analyze --format json --rules RULES TREE`.
fn analyze_with_rules(rules: &std::path::Path, tree: &std::path::Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(["analyze", "--format", "json", "--rules"])
        .arg(rules)
        .arg(tree)
        .output()
        .expect("run diag");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    })
}

#[test]
fn syslog_lines_of_a_sosreport_take_the_reports_year() {
    // The tree's var/log/kern.log holds year-less lines of February 2022:
    // their year is the report's, never this machine's.
    let rules = audit_limited_rule();
    let d = analyze_with_rules(rules.path(), &tree());
    let finding = common::item(&d, "findings", "t.audit-limited")
        .expect("the rate-limit reports of var/log/kern.log are found");
    let summary = finding["summary"].as_str().expect("summary");
    assert!(summary.contains("2022-02-04 09:35:00"), "{summary}");
}

/// sos cuts a log over its size limit to its last bytes: it writes
/// `sos_strings/<plugin>/var.log.kern.log.tailed` and leaves a link at
/// the host path (`var/log/kern.log -> ../../sos_strings/logs/...`, sos
/// 4.x `Plugin._add_copy_paths`). Such a file is read, noted as partial,
/// and its first line, cut by sos mid-way, is left out; the same when the
/// link was lost on the way.
#[test]
fn a_log_sos_cut_to_its_tail_is_read_and_noted_as_partial() {
    let rules = audit_limited_rule();
    let kern_log = std::fs::read(tree().join("var/log/kern.log")).expect("kern.log");
    // Cut inside the first rate-limit report (line 18, 09:35:00): sos's
    // tail starts with "4 09:35:00 compute4 kernel: ...".
    let text = String::from_utf8_lossy(&kern_log);
    let at = text
        .find("Feb  4 09:35:00 compute4 kernel: [   59.799581] kauditd")
        .expect("line 18")
        + 5;
    for keep_link in [true, false] {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = variant(dir.path());
        let strings = root.join("sos_strings/logs");
        std::fs::create_dir_all(&strings).expect("mkdir");
        std::fs::write(strings.join("var.log.kern.log.tailed"), &kern_log[at..]).expect("tailed");
        std::fs::remove_file(root.join("var/log/kern.log")).expect("rm");
        if keep_link {
            std::os::unix::fs::symlink(
                "../../sos_strings/logs/var.log.kern.log.tailed",
                root.join("var/log/kern.log"),
            )
            .expect("symlink");
        }
        let d = analyze_with_rules(rules.path(), &root);
        let notes = d["notes"].to_string();
        assert!(
            notes.contains("partial: sos kept only the end of this file (sos_strings/logs/var.log.kern.log.tailed)"),
            "{notes}"
        );
        let summary = common::item(&d, "findings", "t.audit-limited")
            .expect("the second report is still read")["summary"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // The second report (09:35:06), not the cut first one.
        assert!(summary.contains("2022-02-04 09:35:06"), "{summary}");
        let kernel_inputs = d.to_string();
        assert!(
            !kernel_inputs.contains("4 09:35:00 compute4"),
            "link {keep_link}"
        );
    }
    // Hostile names in sos_strings: nothing read, nothing noted, no panic.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = variant(dir.path());
    let strings = root.join("sos_strings/logs");
    std::fs::create_dir_all(&strings).expect("mkdir");
    for name in [
        "..tailed",
        "...tailed",
        "var..log.tailed",
        ".tailed",
        "var.log..tailed",
    ] {
        std::fs::write(strings.join(name), "x\n").expect("write");
    }
    let d = analyze_json(&root);
    assert!(
        !d["notes"].to_string().contains("partial"),
        "{}",
        d["notes"]
    );
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

/// The vendored tree copied into `dir` as `sosreport-compute4-.../`, ready
/// to be edited into a faulted variant.
fn variant(dir: &std::path::Path) -> std::path::PathBuf {
    let root = dir.join("sosreport-compute4-2022-02-10-lkvmdmb");
    common::copy_tree(&tree(), &root).expect("copy the tree");
    root
}

/// Replaces the line of `file` (below `root`) that starts with `from`.
fn replace_line(root: &std::path::Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    let mut found = false;
    let edited: String = text
        .lines()
        .map(|line| {
            if !found && line.starts_with(from) {
                found = true;
                format!("{to}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert!(found, "{file} has no line starting with {from:?}");
    std::fs::write(&path, edited).expect("write");
}

/// Inserts `lines` into the tree's `sos_commands/kernel/dmesg` (plain
/// `dmesg`: `[ seconds] message`) where their kernel time puts them, as
/// dmesg prints them (`[%5lu.%06lu]`); a line's continuation (after a
/// `\n`) is indented as dmesg indents it.
fn insert_dmesg(root: &std::path::Path, lines: &[(f64, &str)]) {
    let path = root.join("sos_commands/kernel/dmesg");
    let text = std::fs::read_to_string(&path).expect("read dmesg");
    let time = |line: &str| -> f64 {
        line.strip_prefix('[')
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(t, _)| t.trim().parse().ok())
            .unwrap_or(f64::MAX)
    };
    let printed = |(at, message): &(f64, &str)| -> String {
        let stamp = format!("[{at:12.6}] ");
        let indent = " ".repeat(stamp.len());
        let mut out = stamp;
        out.push_str(&message.replace('\n', &format!("\n{indent}")));
        out.push('\n');
        out
    };
    let mut pending = lines.iter().peekable();
    let mut out = String::new();
    for line in text.lines() {
        while let Some(new) = pending.next_if(|(at, _)| *at < time(line)) {
            out.push_str(&printed(new));
        }
        out.push_str(line);
        out.push('\n');
    }
    pending.for_each(|new| out.push_str(&printed(new)));
    std::fs::write(&path, out).expect("write dmesg");
}

/// The id of the top cause of `diag analyze` of `path`, if any.
fn top_cause(path: &std::path::Path) -> Option<String> {
    common::cause_ids(&analyze_json(path)).into_iter().next()
}

/// The findings the top cause of `diag analyze` of `path` explains.
fn top_explains(path: &std::path::Path) -> Vec<String> {
    analyze_json(path)["causes"][0]["explains"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// When the faults below happened: 16:19:17 UTC, when sos ran, is 63669 s
/// after this host booted (its audit lines: `[ 4301.999258] audit(
/// 1644450589.972:424)`), so these lines are 42 minutes before the report.
const FAULT_AT: f64 = 61_149.21;

/// The kernel lines of the founding incident (docs/incidents/002) after
/// the downgrade, as 5.4 prints them: overflow reports between
/// `net_ratelimit` reports.
fn overflow_lines() -> Vec<(f64, &'static str)> {
    let mut lines = Vec::new();
    for i in 0..6 {
        let at = FAULT_AT + f64::from(i) * 5.0;
        lines.push((at, "neighbour: arp_cache: neighbor table overflow!"));
        if i % 2 == 1 {
            lines.push((at + 0.000_004, "net_ratelimit: 2127 callbacks suppressed"));
        }
    }
    lines
}

/// Issue 22's "done when": a gateway typo written into a real sosreport
/// (the default route of `ip route show table all` through this host's
/// own address, as in the founding incident 002, or through no gateway
/// at all) with neighbour-table overflows in its `dmesg` gets the same
/// top cause as the equivalent diag bundles; the tree as sos wrote it
/// does not.
#[test]
fn a_sosreport_with_a_gateway_typo_gets_the_bundles_top_cause() {
    let healthy = top_cause(&tree());
    for (variant_route, fixture) in [
        (
            "default via 10.0.0.128 dev br-ens3 proto static ",
            "scenario-002-gateway-typo-own-address",
        ),
        (
            "default dev br-ens3 proto static scope link ",
            "scenario-002-gateway-typo-onlink",
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = variant(dir.path());
        replace_line(
            &root,
            "sos_commands/networking/ip_route_show_table_all",
            "default via 10.0.0.2 ",
            variant_route,
        );
        insert_dmesg(&root, &overflow_lines());
        let bundle = top_cause(&workspace().join("fixtures").join(fixture));
        assert_eq!(bundle.as_deref(), Some("route.gateway-misconfigured"));
        assert_eq!(top_cause(&root), bundle, "{variant_route}");
        // The overflow lines in sos's dmesg are what it explains.
        let explains = top_explains(&root);
        assert!(
            explains.iter().any(|id| id == "neigh.table-overflow"),
            "{explains:?}"
        );
        assert_ne!(healthy, bundle);
    }
}

/// Issue 22's "past versus present": a kernel-log finding of a sosreport
/// says when its lines were logged relative to the report. The tree has no
/// `proc/stat`; its `uptime` (`up 17:41`, to the minute) beside the
/// report's date places the running boot, so the overflow lines written
/// 2,520 s before sos ran read as 42 min before.
#[test]
fn kernel_log_findings_of_a_sosreport_say_how_long_before_the_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = variant(dir.path());
    insert_dmesg(&root, &overflow_lines());
    let d = analyze_json(&root);
    let summary = |id: &str| -> String {
        common::item(&d, "findings", id).unwrap_or_else(|| panic!("{id}: {d:#}"))["summary"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let overflow = summary("neigh.table-overflow");
    assert!(
        overflow.ends_with("Logged from 42 min to 41 min before collection."),
        "{overflow}"
    );
    // Its wall-clock times too: 15:37 UTC on the report's day.
    let suppressed = summary("kmsg.messages-suppressed");
    assert!(suppressed.contains("2022-02-10 15:37:"), "{suppressed}");
    // Without the report's date nothing is placed: no "before collection"
    // from the analysing machine's clock.
    std::fs::remove_file(root.join("sos_commands/date/date_--utc")).expect("rm");
    std::fs::remove_file(root.join("sos_commands/date/date")).expect("rm");
    let d = analyze_json(&root);
    assert!(!d["findings"].to_string().contains("before collection"));
    // Nor does the report say it was collected when it was analysed.
    assert!(d["source"].get("collected_at").is_none(), "{}", d["source"]);
}

/// The other half of the founding incident: md0 (raid1 over sda1 and
/// sdb1) degraded after sdb's read errors, written as sos keeps it:
/// `proc/mdstat`, `mdadm -D /dev/md*` in one file (mdadm's complaint
/// about the `/dev/md` directory first, as the glob makes it), the ATA,
/// SCSI, block and md lines of a 5.4 kernel in `dmesg`. Same top cause
/// as the diag bundle of the same fault.
#[test]
fn a_sosreport_with_a_degraded_array_and_disk_errors_gets_the_bundles_top_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = variant(dir.path());
    std::fs::create_dir_all(root.join("proc")).expect("mkdir proc");
    std::fs::write(
        root.join("proc/mdstat"),
        "Personalities : [raid1] [linear] [multipath] [raid0] [raid6] [raid5] [raid4] [raid10] \n\
         md0 : active raid1 sdb1[1](F) sda1[0]\n      \
         976630464 blocks super 1.2 [2/1] [U_]\n      \
         bitmap: 3/8 pages [12KB], 65536KB chunk\n\n\
         unused devices: <none>\n",
    )
    .expect("mdstat");
    std::fs::write(
        root.join("sos_commands/md/mdadm_-D_.dev.md"),
        "mdadm: /dev/md does not appear to be an md device
/dev/md0:
           Version : 1.2
     Creation Time : Fri Feb  4 09:12:44 2022
        Raid Level : raid1
        Array Size : 976630464 (931.39 GiB 1000.07 GB)
     Used Dev Size : 976630464 (931.39 GiB 1000.07 GB)
      Raid Devices : 2
     Total Devices : 2
       Persistence : Superblock is persistent

     Intent Bitmap : Internal

       Update Time : Thu Feb 10 15:37:18 2022
             State : clean, degraded 
    Active Devices : 1
   Working Devices : 1
    Failed Devices : 1
     Spare Devices : 0

Consistency Policy : bitmap

              Name : compute4:0  (local to host compute4)
              UUID : 3f1c2a9e:0d4b7c1a:9e2f6b3d:77c1a0e4
            Events : 18214

    Number   Major   Minor   RaidDevice State
       0       8        1        0      active sync   /dev/sda1
       -       0        0        1      removed

       1       8       17        -      faulty   /dev/sdb1
",
    )
    .expect("mdadm -D");
    let at = FAULT_AT;
    insert_dmesg(
        &root,
        &[
            (at, "ata2.00: exception Emask 0x0 SAct 0x100 SErr 0x0 action 0x0"),
            (at + 0.000_05, "ata2.00: irq_stat 0x40000008"),
            (at + 0.000_10, "ata2.00: failed command: READ FPDMA QUEUED"),
            (
                at + 0.000_15,
                "ata2.00: cmd 60/08:40:c8:cd:1d/00:00:00:00:00/40 tag 8 ncq dma 4096 in\n\
                 res 41/40:00:c8:cd:1d/00:00:00:00:00/40 Emask 0x409 (media error) <F>",
            ),
            (at + 0.000_20, "ata2.00: status: { DRDY ERR }"),
            (at + 0.000_25, "ata2.00: error: { UNC }"),
            (at + 1.5, "ata2.00: configured for UDMA/133"),
            (
                at + 1.500_05,
                "sd 1:0:0:0: [sdb] tag#8 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_SENSE",
            ),
            (
                at + 1.500_10,
                "sd 1:0:0:0: [sdb] tag#8 Sense Key : Medium Error [current] ",
            ),
            (
                at + 1.500_15,
                "sd 1:0:0:0: [sdb] tag#8 Add. Sense: Unrecovered read error - auto reallocate failed",
            ),
            (
                at + 1.500_20,
                "sd 1:0:0:0: [sdb] tag#8 CDB: Read(10) 28 00 00 1d cd c8 00 00 08 00",
            ),
            (
                at + 1.500_25,
                "blk_update_request: I/O error, dev sdb, sector 1953224 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
            ),
            (at + 1.500_30, "ata2: EH complete"),
            (
                at + 2.0,
                "md/raid1:md0: Disk failure on sdb1, disabling device.",
            ),
            (
                at + 2.000_01,
                "md/raid1:md0: Operation continuing on 1 devices.",
            ),
        ],
    );
    let bundle = top_cause(&workspace().join("fixtures/scenario-002-degraded-raid1-ata-errors"));
    assert_eq!(bundle.as_deref(), Some("disk.failing"));
    assert_eq!(top_cause(&root), bundle);
    // From mdstat and mdadm -D, and from the disk lines of dmesg.
    let explains = top_explains(&root);
    for id in ["md.array-degraded", "md.member-faulty", "disk.medium-error"] {
        assert!(explains.iter().any(|e| e == id), "{id}: {explains:?}");
    }
    assert_ne!(top_cause(&tree()), bundle);
}

/// sos's `parted`, `fdisk` and `blkid` probe every block device while it
/// collects, and an unbound loop device answers with I/O errors (5.4's
/// `blk_update_request: I/O error, dev loop1, sector 0 ...`). Logged
/// inside the collection window of `sos_reports/manifest.json` (sos 4.x,
/// local times as on this project's VM), on a loop device `losetup -a`
/// does not list (loop1 here) they are collection artefacts, noted and not
/// taken for a disk failure; the same lines before sos ran, or an error on
/// a device `lsblk` lists, still are.
#[test]
fn io_errors_sos_caused_while_collecting_are_artefacts_not_disk_failures() {
    // 16:10:01 to 16:19:16 UTC; the report's date is 16:19:17, 63,660 s
    // after boot by its uptime.
    let manifest = r#"{"version": "4.2", "cmdline": "sosreport --batch", "start_time": "2022-02-10 16:10:01.577867", "end_time": "2022-02-10 16:19:16.970240", "run_time": "0:09:15.392373", "compression": "auto", "policy": "Ubuntu", "components": {"report": {"sysroot": "/", "preset": "ubuntu"}}}"#;
    let probed = |at: f64, dev: &str| -> Vec<(f64, String)> {
        vec![
            (
                at,
                format!("blk_update_request: I/O error, dev {dev}, sector 0 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 0"),
            ),
            (
                at + 0.002,
                format!("blk_update_request: I/O error, dev {dev}, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0"),
            ),
            (
                at + 0.004,
                format!("Buffer I/O error on dev {dev}, logical block 0, async page read"),
            ),
        ]
    };
    let analyse = |lines: Vec<(f64, String)>| -> serde_json::Value {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = variant(dir.path());
        std::fs::create_dir_all(root.join("sos_reports")).expect("mkdir");
        std::fs::write(root.join("sos_reports/manifest.json"), manifest).expect("manifest");
        let lines: Vec<(f64, &str)> = lines.iter().map(|(t, l)| (*t, l.as_str())).collect();
        insert_dmesg(&root, &lines);
        analyze_json(&root)
    };
    // 16:12:37, during the collection: loop1 has no backing file.
    let d = analyse(probed(63_260.1, "loop1"));
    let ids = common::finding_ids(&d);
    assert!(!ids.iter().any(|id| id.starts_with("disk.")), "{ids:?}");
    let notes = d["notes"].to_string();
    assert!(
        notes.contains("3 kernel line(s) logged while sos collected the report (2022-02-10 16:10:01 UTC to 2022-02-10 16:19:16 UTC)")
            && notes.contains("(loop1)")
            && notes.contains("collection artefacts, not disk failures"),
        "{notes}"
    );
    // The same lines eight hours earlier: not sos's doing.
    let d = analyse(probed(30_000.1, "loop1"));
    assert!(common::finding_ids(&d).contains(&"disk.io-error".to_string()));
    assert!(!d["notes"].to_string().contains("collection artefacts"));
    // During the collection, but on vdb, which lsblk lists: a disk error.
    let d = analyse(probed(63_260.1, "vdb"));
    assert!(common::finding_ids(&d).contains(&"disk.io-error".to_string()));
    // A bound loop device (loop0 backs core20) is not sos's doing either.
    let d = analyse(probed(63_260.1, "loop0"));
    assert!(common::finding_ids(&d).contains(&"disk.io-error".to_string()));
}

/// The journal of the running boot (`journalctl --no-pager --catalog
/// --boot`, a slice of the hotsos report's) holds kernel lines from
/// 22:38:11; the report's `dmesg` wrapped and starts 4,301 s after boot.
/// The journal's three AppArmor denials before it are read, its two that
/// `dmesg` also holds are not counted again, its systemd lines are not
/// kernel lines: 794 + 3.
#[test]
fn the_journal_adds_the_kernel_lines_dmesg_lost_counted_once() {
    let d = analyze_json(&tree());
    let denied = common::item(&d, "findings", "security.apparmor-denied").expect("denials");
    assert_eq!(denied["count"], 797, "{denied:#}");
    let cited: Vec<(String, u64)> = denied["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                e["input"].as_str().unwrap_or_default().to_string(),
                e["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let journal = "commands/journalctl_--boot".to_string();
    assert_eq!(
        cited[..4],
        [
            (journal.clone(), 9),
            (journal.clone(), 10),
            (journal, 11),
            ("commands/dmesg".to_string(), 1)
        ]
    );
}

/// The hotsos tree has no `proc/net` and no `netstat`/`ss` of the host
/// (only of its network namespaces, where the command failed): a variant
/// gets this machine's real `netstat -W -neopa` and `ss -peaonmi`
/// (`crates/diag-parse/src/net/testdata/README.md`) at sos's paths.
/// Its listeners are then `targets.listening`, from `ss` when both are
/// there; a failed command at the path is skipped, never parsed.
#[test]
fn sockets_of_a_sosreport_without_proc_net_come_from_netstat_or_ss() {
    let testdata = workspace().join("crates/diag-parse/src/net/testdata");
    let listening = |d: &serde_json::Value| -> Vec<String> {
        d["targets"]["listening"]
            .as_array()
            .expect("targets.listening")
            .iter()
            .map(|l| format!("{} {}", l["address"].as_str().unwrap_or("?"), l["port"]))
            .collect()
    };
    let expected = [
        "0.0.0.0 2024",
        "127.0.0.1 18080",
        "127.0.0.1 18081",
        ":: 18082",
    ];
    // The tree as sos wrote it: no sockets at all.
    assert_eq!(listening(&analyze_json(&tree())), Vec::<String>::new());

    let dir = tempfile::tempdir().expect("tempdir");
    let root = variant(dir.path());
    let networking = root.join("sos_commands/networking");
    std::fs::copy(
        testdata.join("netstat_-W_-neopa"),
        networking.join("netstat_-W_-neopa"),
    )
    .expect("netstat");
    assert_eq!(listening(&analyze_json(&root)), expected);

    // ss beside it is read instead: the same sockets at the same moment.
    std::fs::copy(testdata.join("ss_-peaonmi"), networking.join("ss_-peaonmi")).expect("ss");
    let d = analyze_json(&root);
    assert_eq!(listening(&d), expected);
    assert!(
        !d["notes"].to_string().contains("commands/netstat"),
        "{}",
        d["notes"]
    );

    // The command failed when sos ran it (the hotsos namespaces' netstat).
    std::fs::remove_file(networking.join("ss_-peaonmi")).expect("rm");
    std::fs::copy(
        testdata.join("hotsos_netns_netstat_-W_-neopa"),
        networking.join("netstat_-W_-neopa"),
    )
    .expect("failed netstat");
    let d = analyze_json(&root);
    assert_eq!(listening(&d), Vec::<String>::new());
    let skipped = d["skipped"].to_string();
    assert!(
        skipped.contains("the command failed when sos ran it: exec of \\\"netstat\\\" failed"),
        "{skipped}"
    );
}

/// The hotsos tree's `sos_commands/host/hostnamectl_status` (not in the
/// vendored slice), byte for byte: a KVM guest.
const HOTSOS_HOSTNAMECTL: &str = "   Static hostname: compute4
         Icon name: computer-vm
           Chassis: vm
        Machine ID: d22e39617b3341ccbc225ca6ee6a973d
           Boot ID: 901c1e96f7bd44a28a0d69d9933a9a75
    Virtualization: kvm
  Operating System: Ubuntu 20.04.3 LTS
            Kernel: Linux 5.4.0-97-generic
      Architecture: x86-64
";

/// The hotsos tree made into a report taken inside an LXD container on
/// compute4: `hostnamectl status` says `Virtualization: lxc` (the tree's
/// own file with the lines systemd prints in a container), the network
/// files are the container's (`lo` and `eth0@if13` on `lxdbr0`'s
/// 10.0.3.0/24, in `ip -d address` text), `mount -l` is an LXD container's
/// on a ZFS dataset; `dmesg` keeps the host's kernel log, with the disk
/// errors of the degraded-array variant (sdb, md0) and a link going down
/// on the host's ens3.
fn container_variant(dir: &std::path::Path) -> std::path::PathBuf {
    let root = variant(dir);
    std::fs::write(
        root.join("sos_commands/host/hostnamectl_status"),
        HOTSOS_HOSTNAMECTL
            .replace("computer-vm", "computer-container")
            .replace("Chassis: vm", "Chassis: container")
            .replace("Virtualization: kvm", "Virtualization: lxc"),
    )
    .expect("hostnamectl status");
    let networking = root.join("sos_commands/networking");
    std::fs::remove_dir_all(&networking).expect("rm networking");
    std::fs::create_dir_all(&networking).expect("mkdir networking");
    std::fs::write(
        networking.join("ip_-d_address"),
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0 minmtu 0 maxmtu 0 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
    inet6 ::1/128 scope host 
       valid_lft forever preferred_lft forever
12: eth0@if13: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
    link/ether 00:16:3e:5a:1b:2c brd ff:ff:ff:ff:ff:ff link-netnsid 0 promiscuity 0 minmtu 68 maxmtu 65535 
    veth numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 
    inet 10.0.3.17/24 brd 10.0.3.255 scope global dynamic eth0
       valid_lft 3403sec preferred_lft 3403sec
",
    )
    .expect("ip -d address");
    std::fs::write(
        networking.join("ip_route_show_table_all"),
        "default via 10.0.3.1 dev eth0 proto dhcp src 10.0.3.17 metric 100 
10.0.3.0/24 dev eth0 proto kernel scope link src 10.0.3.17 
10.0.3.1 dev eth0 proto dhcp scope link src 10.0.3.17 metric 100 
broadcast 10.0.3.0 dev eth0 table local proto kernel scope link src 10.0.3.17 
local 10.0.3.17 dev eth0 table local proto kernel scope host src 10.0.3.17 
broadcast 10.0.3.255 dev eth0 table local proto kernel scope link src 10.0.3.17 
broadcast 127.0.0.0 dev lo table local proto kernel scope link src 127.0.0.1 
local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 
local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 
broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 
",
    )
    .expect("ip route");
    std::fs::write(
        root.join("sos_commands/filesys/mount_-l"),
        "default/containers/c1 on / type zfs (rw,relatime,xattr,posixacl)
none on /dev type tmpfs (rw,relatime,size=492k,mode=755,uid=1000000,gid=1000000)
proc on /proc type proc (rw,nosuid,nodev,noexec,relatime)
sysfs on /sys type sysfs (rw,relatime)
udev on /dev/fuse type devtmpfs (rw,nosuid,noexec,relatime,size=8151592k,nr_inodes=2037898,mode=755)
tmpfs on /dev/lxd type tmpfs (rw,relatime,size=100k,mode=755)
tmpfs on /dev/.lxd-mounts type tmpfs (rw,relatime,size=100k,mode=711)
tmpfs on /run type tmpfs (rw,nosuid,nodev,size=1639320k,mode=755,uid=1000000,gid=1000000)
",
    )
    .expect("mount -l");
    let at = FAULT_AT;
    insert_dmesg(
        &root,
        &[
            (
                at + 1.500_05,
                "sd 1:0:0:0: [sdb] tag#8 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_SENSE",
            ),
            (
                at + 1.500_10,
                "sd 1:0:0:0: [sdb] tag#8 Sense Key : Medium Error [current] ",
            ),
            (
                at + 1.500_25,
                "blk_update_request: I/O error, dev sdb, sector 1953224 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
            ),
            (at + 2.0, "md/raid1:md0: Disk failure on sdb1, disabling device."),
            (at + 2.000_01, "md/raid1:md0: Operation continuing on 1 devices."),
            (at + 30.0, "e1000e: ens3 NIC Link is Down"),
        ],
    );
    root
}

/// Issue 22: a container's report holds the host's kernel log. Its
/// findings about devices the container does not have say so, are info
/// and are no cause; the same tree as a VM's report, or a container that
/// mounts the disk, keeps them as its own.
#[test]
fn a_containers_report_does_not_take_the_hosts_kernel_log_for_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = container_variant(dir.path());
    let d = analyze_json(&root);
    let findings = d["findings"].as_array().expect("findings");
    let hosts: Vec<(&str, &str, &str)> = findings
        .iter()
        .filter(|f| {
            f["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with("host's kernel log: "))
        })
        .map(|f| {
            (
                f["id"].as_str().unwrap_or_default(),
                f["severity"].as_str().unwrap_or_default(),
                f["summary"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let ids: Vec<&str> = hosts.iter().map(|h| h.0).collect();
    for id in ["disk.io-error", "net.nic-link-down"] {
        assert!(ids.contains(&id), "{id}: {hosts:?}");
    }
    assert!(hosts.iter().all(|h| h.1 == "info"), "{hosts:?}");
    let io = hosts.iter().find(|h| h.0 == "disk.io-error").expect("io");
    assert!(
        io.2.starts_with(
            "host's kernel log: sdb is not this container's (lxc). Reads or writes failed on sdb"
        ),
        "{}",
        io.2
    );
    let link = hosts
        .iter()
        .find(|h| h.0 == "net.nic-link-down")
        .expect("link");
    assert!(
        link.2.contains("ens3 is not this container's"),
        "{}",
        link.2
    );
    let causes = common::cause_ids(&d);
    assert!(
        !causes
            .iter()
            .any(|c| c.starts_with("disk.") || c.starts_with("md.")),
        "{causes:?}"
    );
    assert!(
        !findings.iter().any(|f| f["severity"] != "info"
            && f["id"].as_str().is_some_and(|id| id.starts_with("disk."))),
        "{findings:?}"
    );

    // The same tree as the VM's report: the disk errors are its own.
    replace_line(
        &root,
        "sos_commands/host/hostnamectl_status",
        "    Virtualization:",
        "    Virtualization: kvm",
    );
    let d = analyze_json(&root);
    assert!(!d["findings"].to_string().contains("host's kernel log"));
    let io = d["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == "disk.io-error"))
        .expect("disk.io-error");
    assert_eq!(io["severity"], "critical");

    // A container that mounts sdb1 has the disk: the errors are its own too.
    replace_line(
        &root,
        "sos_commands/host/hostnamectl_status",
        "    Virtualization:",
        "    Virtualization: lxc",
    );
    let mounts = root.join("sos_commands/filesys/mount_-l");
    let mut text = std::fs::read_to_string(&mounts).expect("read mounts");
    text.push_str("/dev/sdb1 on /srv/data type ext4 (rw,relatime)\n");
    std::fs::write(&mounts, text).expect("write mounts");
    let d = analyze_json(&root);
    let summaries = d["findings"].to_string();
    assert!(
        !summaries.contains("sdb is not this container's"),
        "{summaries}"
    );
    assert!(
        summaries.contains("ens3 is not this container's"),
        "{summaries}"
    );
}

/// The same artefacts without `sos_reports/manifest.json` (sos 3.x writes
/// none, nor does the hotsos tree have one): sos's window comes from the
/// first and last record of `sos_logs/sos.log`. The log here is written
/// for the test in sos's record format (as Debian's sos 4.0 wrote it on
/// this project's VM, `parse::sos_log`), its times those of the hotsos
/// run (16:10:01 to 16:19:16 UTC).
#[test]
fn without_a_manifest_sos_log_gives_the_collection_window() {
    let log = "2022-02-10 16:10:01,577 INFO: [archive:TarFileArchive] initialised empty FileCacheArchive at '/tmp/sos.k2l1wz7n/sosreport-compute4-2022-02-10-lkvmdmb'
2022-02-10 16:10:01,578 INFO: [sos.report:setup] executing 'sos report --batch'
2022-02-10 16:12:30,102 INFO: [plugin:block] collecting output of 'parted -s /dev/loop1 unit s print'
2022-02-10 16:19:16,940 INFO: [plugin:networking] collecting output of 'ufw app list'
";
    let analyse = |at: f64, with_log: bool| -> serde_json::Value {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = variant(dir.path());
        if with_log {
            std::fs::create_dir_all(root.join("sos_logs")).expect("mkdir");
            std::fs::write(root.join("sos_logs/sos.log"), log).expect("sos.log");
        }
        insert_dmesg(
            &root,
            &[
                (at, "blk_update_request: I/O error, dev loop1, sector 0 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 0"),
                (at + 0.004, "Buffer I/O error on dev loop1, logical block 0, async page read"),
            ],
        );
        analyze_json(&root)
    };
    // 16:12:37, during the collection.
    let d = analyse(63_260.1, true);
    assert!(
        !common::finding_ids(&d)
            .iter()
            .any(|id| id.starts_with("disk.")),
        "{:?}",
        common::finding_ids(&d)
    );
    let notes = d["notes"].to_string();
    assert!(
        notes.contains("2 kernel line(s) logged while sos collected the report (2022-02-10 16:10:01 UTC to 2022-02-10 16:19:16 UTC)"),
        "{notes}"
    );
    // Without the log there is no window: a disk error, as before.
    let d = analyse(63_260.1, false);
    assert!(common::finding_ids(&d).contains(&"disk.io-error".to_string()));
    // Eight hours before sos ran: not sos's doing.
    let d = analyse(30_000.1, true);
    assert!(common::finding_ids(&d).contains(&"disk.io-error".to_string()));
}
