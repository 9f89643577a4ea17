//! Issue 23: every line of a large log is analysed. A 300 MiB syslog
//! `kern.log` is generated with an OOM kill in its first line and a RAID
//! member failure in its last; `diag analyze` must find both.
//!
//! It runs the release binary (`.ci/run` builds it before the tests): a
//! debug build reads a log of this size tens of times slower. The same
//! check at any size is `benches/kernel_log.sh` (`BIG_MIB`).

mod common;

use std::io::Write;

/// Ordinary kernel messages that no rule matches: the bulk of the log.
const FILLER: [&str; 8] = [
    "usb 1-1: new high-speed USB device number 2 using xhci_hcd",
    "random: crng init done",
    "NET: Registered PF_INET6 protocol family",
    "Bluetooth: HCI device and connection manager initialized",
    "e1000e: Intel(R) PRO/1000 Network Driver",
    "x86/fpu: Supported XSAVE feature 0x001: 'x87 floating point registers'",
    "audit: type=1400 audit(1700000000.123:45): apparmor=\"STATUS\" operation=\"profile_load\" profile=\"unconfined\" name=\"nvidia_modprobe\" pid=612 comm=\"apparmor_parser\"",
    "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
];

#[test]
fn a_300_mib_log_is_read_to_both_ends() {
    let bin = common::release_binary();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("var/log/kern.log");
    std::fs::create_dir_all(dir.path().join("var/log")).expect("mkdir");
    let file = std::fs::File::create(&path).expect("create");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let size: u64 = 300 << 20;
    let (mut written, mut micros, mut n) = (0u64, 1_000_000u64, 0usize);
    let mut line = |out: &mut std::io::BufWriter<std::fs::File>, message: &str| {
        micros += 100;
        let text = format!(
            "Feb 10 10:05:00 h kernel: [{:5}.{:06}] {message}\n",
            micros / 1_000_000,
            micros % 1_000_000
        );
        out.write_all(text.as_bytes()).expect("write");
        text.len() as u64
    };
    written += line(&mut out, "Linux version 6.1.0 (test)");
    written += line(
        &mut out,
        "Out of memory: Killed process 4242 (first-mib) total-vm:1kB",
    );
    while written < size - 4096 {
        written += line(&mut out, FILLER[n % FILLER.len()]);
        n += 1;
    }
    line(
        &mut out,
        "md/raid1:md0: Disk failure on sdz9, disabling device.",
    );
    out.flush().expect("flush");
    drop(out);
    let len = std::fs::metadata(&path).expect("stat").len();
    assert!(len >= size - 4096, "{len} bytes");
    eprintln!("{} holds {len} bytes", path.display());

    let output = std::process::Command::new(&bin)
        .args(["analyze", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("diag runs");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("diag/1 JSON ({e}): {}", common::stderr(&output));
    });
    let findings = json["findings"].as_array().expect("findings");
    let found = |id: &str, text: &str| {
        findings.iter().any(|f| {
            f["id"].as_str().is_some_and(|i| i.starts_with(id)) && f.to_string().contains(text)
        })
    };
    assert!(
        found("mem.oom-kill", "first-mib"),
        "the OOM kill of the first line is found: {json:#}"
    );
    assert!(
        found("md.", "sdz9"),
        "the RAID failure of the last line is found: {json:#}"
    );
    // Read whole, not cut: no note says the input was cut.
    assert!(
        !json.to_string().contains("was cut"),
        "the log is not cut: {}",
        json["notes"]
    );
}
