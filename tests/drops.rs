//! Packet drop reasons recorded for real (issue 26): traffic in network
//! namespaces that the kernel drops, `diag collect` run inside them with
//! its drop recording on (a tracing instance of its own), the bundle's
//! `trace/kfree_skb.txt` counted and `diag analyze` run on the bundle.
//!
//! Safety rules as in tests/netns.rs: fresh namespaces and veth pairs,
//! deleted on drop; traffic only to loopback or the tests' own addresses;
//! sysctls set inside the namespaces (deleted with them), and the global
//! gc_thresh restored on drop. The tracepoint is global: the tests count
//! their own traffic (its protocol, at least as many as they sent) and run
//! one at a time (a lock here; the `live` nextest group across binaries).
//! They need root, nftables and python3 (CI: `.ci/run`); a missing tool
//! fails them.

mod common;

use diag_test_support::netns;

use common::item;
use diag_core::parse::trace::kfree_skb;
use netns::{veth, Ns as Netns};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `diag collect` inside `ns` for a window of `seconds`, runs
/// `traffic` once the recording is on, and returns the bundle.
fn collect_during(ns: &Netns, seconds: &str, traffic: impl FnOnce()) -> tempfile::TempDir {
    collect_with_pid(ns, seconds, traffic).0
}

/// [`collect_during`], with the pid diag ran as (`ip netns exec` execs it).
fn collect_with_pid(ns: &Netns, seconds: &str, traffic: impl FnOnce()) -> (tempfile::TempDir, u32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle");
    // The kernel log is the machine's: only this test's part of it is
    // looked at (a benchmark's fake OOM flood minutes before made
    // mem.oom-one-process outrank the gateway typo).
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        .saturating_sub(5);
    let mut child = ns
        .command(None, env!("CARGO_BIN_EXE_diag"))
        .args(["collect", "-o"])
        .arg(&bundle)
        .args(["--capture-seconds", seconds])
        .arg(format!("--since=@{since}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run diag collect");
    let pid = child.id();
    // The recorder enables the event as collection starts.
    std::thread::sleep(Duration::from_millis(600));
    traffic();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
            }
            assert!(status.success(), "diag collect failed: {stderr}");
            break;
        }
        assert!(Instant::now() < deadline, "diag collect did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    (dir, pid)
}

/// Events per (reason, protocol) in a bundle's recording: its counts
/// (every event, read while the window ran), which a live run on this
/// kernel always writes.
fn count(bundle: &Path, reason: &str, protocol: u16) -> u64 {
    let path = bundle.join("bundle/trace/kfree_skb.counts");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (was the recording skipped?)", path.display()));
    let (counts, notes) = diag_core::parse::trace::counts::parse_counts("counts", &text);
    assert!(notes.is_empty(), "{notes:?}");
    counts
        .totals
        .iter()
        .filter(|row| row.reason.as_deref() == Some(reason) && row.protocol == protocol)
        .map(|row| row.events)
        .sum()
}

/// Sample lines per (reason, protocol) in a bundle's `kfree_skb.txt`.
fn samples(bundle: &Path, reason: &str, protocol: u16) -> u64 {
    let path = bundle.join("bundle/trace/kfree_skb.txt");
    let text = std::fs::read_to_string(&path).expect("kfree_skb.txt");
    let mut n = 0;
    kfree_skb::parse_trace("trace/kfree_skb.txt", &text, |_, e| {
        if e.reason == Some(reason) && e.protocol == Some(protocol) {
            n += 1;
        }
    });
    n
}

fn analyze(bundle: &Path) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(["analyze", "--format", "json"])
        .arg(bundle.join("bundle"))
        .output()
        .expect("run diag analyze");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "diag analyze did not print JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Sends `n` UDP datagrams from inside `ns` to `addr:port`.
fn udp(ns: &Netns, addr: &str, port: u16, n: u32) {
    let script = format!(
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor _ in range({n}):\n    s.sendto(b'x', ('{addr}', {port}))\n"
    );
    ns.exec(&["python3", "-c", &script]);
}

#[test]
fn a_firewall_drop_rule_is_netfilter_drop() {
    let _lock = lock();
    let ns = Netns::new();
    ns.exec(&["nft", "add", "table", "inet", "diagtest"]);
    ns.exec(&[
        "nft",
        "add chain inet diagtest input { type filter hook input priority 0; }",
    ]);
    ns.exec(&[
        "nft", "add", "rule", "inet", "diagtest", "input", "udp", "dport", "9999", "drop",
    ]);
    let bundle = collect_during(&ns, "2", || udp(&ns, "127.0.0.1", 9999, 300));
    let dropped = count(bundle.path(), "NETFILTER_DROP", 0x0800);
    assert!(
        dropped >= 300,
        "{dropped} NETFILTER_DROP events for 300 datagrams"
    );
    let json = analyze(bundle.path());
    let finding = item(&json, "findings", "drops.firewall").expect("drops.firewall");
    let excerpt = finding["evidence"][0]["excerpt"]
        .as_str()
        .unwrap_or_default();
    assert!(excerpt.starts_with("NETFILTER_DROP: "), "{finding:#}");
    assert!(excerpt.contains("ipv4"), "{finding:#}");
}

/// More drops than the ring holds (about 21,000 events per CPU at
/// 1,024 KiB): read while the window runs, every one is counted and none
/// is lost; the bundle's text keeps samples, the facts the whole count.
#[test]
fn every_drop_of_a_flood_larger_than_the_ring_is_counted() {
    let _lock = lock();
    let ns = Netns::new();
    let sent = 60_000;
    let bundle = collect_during(&ns, "3", || udp(&ns, "127.0.0.1", 9, sent));
    let counted = count(bundle.path(), "NO_SOCKET", 0x0800);
    assert!(
        counted >= u64::from(sent),
        "{counted} NO_SOCKET events for {sent} datagrams"
    );
    let sampled = samples(bundle.path(), "NO_SOCKET", 0x0800);
    assert!((1..=16).contains(&sampled), "{sampled} sample lines");
    let source = diag_core::Bundle::open(bundle.path().join("bundle")).expect("bundle");
    let options = diag_core::source::CollectOptions::default();
    let snapshot = diag_core::Snapshot::collect(&source, &options);
    let (facts, _) = diag_core::Facts::from_snapshot(&snapshot);
    assert_eq!(facts.drops.lost, 0, "{:#?}", facts.drops);
    let no_socket = facts
        .drops
        .reason("NO_SOCKET")
        .expect("NO_SOCKET in facts.drops");
    assert!(no_socket.count >= u64::from(sent), "{no_socket:#?}");
    assert!(no_socket.line > 0, "{no_socket:#?}");
}

#[test]
fn strict_rp_filter_with_an_asymmetric_path_is_ip_rpfilter() {
    let _lock = lock();
    // `host` has two links to `peer`; the route back to the peer's
    // address goes through eth0, its packets arrive on eth1.
    let host = Netns::new();
    let peer = Netns::new();
    veth(&host, "eth0", &peer, "eth0");
    veth(&host, "eth1", &peer, "eth1");
    host.ip(&["addr", "add", "10.210.0.1/24", "dev", "eth0"]);
    peer.ip(&["addr", "add", "10.210.0.2/24", "dev", "eth0"]);
    host.ip(&["addr", "add", "10.211.0.1/24", "dev", "eth1"]);
    peer.ip(&["addr", "add", "10.211.0.2/24", "dev", "eth1"]);
    for key in ["all", "eth1"] {
        host.exec(&["sysctl", "-qw", &format!("net.ipv4.conf.{key}.rp_filter=1")]);
    }
    // The peer sends from 10.210.0.2 (its eth0 address) out of eth1.
    peer.ip(&[
        "route",
        "add",
        "10.212.0.1/32",
        "dev",
        "eth1",
        "src",
        "10.210.0.2",
    ]);
    host.ip(&["addr", "add", "10.212.0.1/32", "dev", "lo"]);
    // ARP is filtered too: the peer knows the host's MAC.
    host.ip(&["link", "set", "eth1", "address", "02:00:00:00:01:01"]);
    peer.ip(&[
        "neigh",
        "add",
        "10.212.0.1",
        "lladdr",
        "02:00:00:00:01:01",
        "dev",
        "eth1",
        "nud",
        "permanent",
    ]);
    let bundle = collect_during(&host, "2", || udp(&peer, "10.212.0.1", 9, 100));
    let filtered = count(bundle.path(), "IP_RPFILTER", 0x0800);
    assert!(
        filtered >= 100,
        "{filtered} IP_RPFILTER events for 100 datagrams"
    );
    let json = analyze(bundle.path());
    assert!(
        item(&json, "findings", "drops.rp-filter").is_some(),
        "{json:#}"
    );
}

/// Founding incident 002 with gc_thresh lowered: an on-link default
/// route, datagrams to 400 addresses; the kernel cannot create neighbours
/// (NEIGH_CREATEFAIL), and the drop counts are the overflow's evidence
/// under the gateway typo.
#[test]
fn gateway_typo_drops_are_neigh_createfail_under_the_typo() {
    let _lock = lock();
    let host = Netns::new();
    let upstream = Netns::new();
    veth(&host, "eth0", &upstream, "eth0");
    host.ip(&["addr", "add", "10.200.0.1/24", "dev", "eth0"]);
    upstream.ip(&["addr", "add", "10.200.0.2/24", "dev", "eth0"]);
    host.ip(&["route", "add", "default", "dev", "eth0"]);
    upstream.ip(&["route", "add", "local", "10.201.0.0/16", "dev", "lo"]);
    let _thresh = netns::GcThresh::lower([16, 32, 64]);
    let bundle = collect_during(&host, "3", || {
        host.exec(&[
            "bash",
            "-c",
            "for i in $(seq 0 399); do echo x 2>/dev/null > /dev/udp/10.201.$((i / 200)).$((i % 200 + 1))/9; done",
        ]);
    });
    let failed = count(bundle.path(), "NEIGH_CREATEFAIL", 0x0800);
    assert!(failed >= 100, "{failed} NEIGH_CREATEFAIL events");
    let json = analyze(bundle.path());
    assert_eq!(
        common::cause_ids(&json).first().map(String::as_str),
        Some("route.gateway-misconfigured"),
        "{json:#}"
    );
    let overflow = item(&json, "findings", "neigh.table-overflow").expect("neigh.table-overflow");
    let evidence = overflow["evidence"].as_array().expect("evidence");
    assert!(
        evidence.iter().any(|e| e["input"] == "trace/kfree_skb.txt"
            && e["excerpt"]
                .as_str()
                .unwrap_or_default()
                .starts_with("NEIGH_CREATEFAIL: ")),
        "{overflow:#}"
    );
    assert!(
        overflow["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("packets dropped as NEIGH_CREATEFAIL"),
        "{overflow:#}"
    );
}

/// The recording's instance is gone after a run, and the host's mount
/// table has no tracefs it did not have before.
#[test]
fn the_tracing_instance_and_the_private_mount_do_not_outlive_the_run() {
    let _lock = lock();
    let mounts_before = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let ns = Netns::new();
    let (bundle, pid) = collect_with_pid(&ns, "0.5", || {});
    assert!(bundle.path().join("bundle/trace/kfree_skb.format").exists());
    let stats =
        std::fs::read_to_string(bundle.path().join("bundle/trace/kfree_skb.stats")).expect("stats");
    assert!(stats.starts_with("window_seconds: "), "{stats}");
    let mounts_after = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let tracefs = |m: &str| m.lines().filter(|l| l.contains(" - tracefs ")).count();
    assert_eq!(tracefs(&mounts_before), tracefs(&mounts_after));
    // Look at the instances in a private mount of our own.
    let script = format!(
        "mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing; ls /sys/kernel/tracing/instances | grep -c '^diag-{pid}$' || true"
    );
    let out = netns::must(&[
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
    ]);
    let out = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.trim(), "0", "diag-{pid} left behind");
}

/// A server that never accepts, flooded with connections. On 6.x a SYN
/// that finds the accept queue full is counted (`ListenOverflows`) and
/// freed without a `kfree_skb` event; `TCP_LISTEN_OVERFLOW` events come
/// only from handshakes completed into a full queue. The finding reads
/// both, and names the port whose accept queue holds connections.
#[test]
fn a_listener_that_never_accepts_overflows() {
    let _lock = lock();
    let ns = Netns::new();
    let _server = ns.spawn(&[
        "python3",
        "-c",
        "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',8080))\ns.listen(1)\ntime.sleep(30)",
    ]);
    netns::wait_for_tcp(&ns, "127.0.0.1", 8080);
    let bundle = collect_during(&ns, "2", || {
        ns.exec(&[
            "python3",
            "-c",
            "import socket,time\ncs=[]\nfor i in range(100):\n  c=socket.socket(); c.setblocking(False)\n  try: c.connect(('127.0.0.1',8080))\n  except BlockingIOError: pass\n  cs.append(c)\ntime.sleep(1.2)",
        ]);
    });
    let json = analyze(bundle.path());
    let finding = item(&json, "findings", "drops.listen-overflow").expect("drops.listen-overflow");
    let summary = finding["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("ListenOverflows grew by"), "{finding:#}");
    assert!(
        summary.contains("waiting to be accepted on port 8080"),
        "{finding:#}"
    );
}
