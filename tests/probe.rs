//! `diag probe` against real hosts built in network namespaces: a host
//! with configured addresses of which some are not bound, probed from
//! another namespace with `--targets-from` the host's bundle; a client
//! behind a router with a resolver (dnsmasq) beyond it, where the router
//! stops forwarding and the resolver stops. Traffic goes only between the
//! namespaces the tests create. Needs root (CI runs as root), python3 and
//! dnsmasq (`.ci/run` installs dnsmasq-base).

mod common;
#[path = "common/netns.rs"]
mod ns;

use common::{cause_ids, finding_ids};
use ns::{wait_for_tcp, Ns};
use std::path::Path;

/// Runs `diag ARGS` in `ns` (with `/etc` from `etc`): the JSON document
/// (when `--format json`), stdout and the exit code.
fn diag_in(ns: &Ns, etc: Option<&Path>, args: &[&str]) -> (String, i32) {
    let out = ns
        .command(etc, env!("CARGO_BIN_EXE_diag"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run diag");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.stderr.is_empty() || out.status.code() != Some(3),
        "diag {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (stdout, out.status.code().unwrap_or(-1))
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn item<'a>(json: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    ["causes", "findings"].iter().find_map(|list| {
        json[*list]
            .as_array()?
            .iter()
            .find(|f| f["id"].as_str() == Some(id))
    })
}

/// The addresses named in a finding's evidence (probe/tcp.json records).
fn evidence_addresses(finding: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = finding["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            assert_eq!(e["input"], "probe/tcp.json");
            assert!(e["line"].as_u64().is_some());
            let record = json(e["excerpt"].as_str().expect("excerpt"));
            record["address"].as_str().expect("address").to_string()
        })
        .collect();
    out.sort();
    out
}

/// Incident 000 from the outside: /etc/ips lists five addresses, two are
/// bound, a web server listens on all addresses. `diag probe
/// --targets-from` the host's bundle, run from another namespace, names
/// exactly the three unbound ones and exits CRITICAL; once they are bound,
/// it is OK.
#[test]
fn unbound_configured_addresses_are_unreachable_from_another_host() {
    let (host, client, etc) = ns::half_bound_aliases();
    let _web = host.spawn(&[
        "python3",
        "-c",
        "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',8080))\ns.listen(64)\nwhile True:\n  c,_=s.accept(); c.close()",
    ]);
    wait_for_tcp(&host, "192.0.2.10", 8080);

    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("host-bundle");
    let bundle_arg = bundle.to_str().expect("utf-8 path");
    let (_, code) = diag_in(&host, Some(etc.path()), &["collect", "-o", bundle_arg]);
    assert_eq!(code, 0);

    let probe = [
        "probe",
        "--targets-from",
        bundle_arg,
        "--no-dns",
        "--no-path",
        "--timeout",
        "1",
        "--retries",
        "0",
    ];
    let mut with_json = probe.to_vec();
    with_json.extend(["--format", "json"]);
    let (out, code) = diag_in(&client, None, &with_json);
    let doc = json(&out);
    assert_eq!(code, 2, "{out}");
    let finding = item(&doc, "addr.unreachable").expect("addr.unreachable");
    assert_eq!(finding["severity"], "critical");
    assert_eq!(
        evidence_addresses(finding),
        ["192.0.2.12", "192.0.2.13", "192.0.2.14"]
    );
    let summary = finding["summary"].as_str().expect("summary");
    assert!(summary.contains("does not carry"), "{summary}");
    assert!(summary.contains("etc/ips:3"), "{summary}");

    // On the host itself (`check --probe`): the unbound configuration is
    // the cause, and it explains the unreachable addresses.
    let (out, code) = diag_in(
        &host,
        Some(etc.path()),
        &["check", "--probe", "--format", "json"],
    );
    let doc = json(&out);
    assert_eq!(code, 2, "{out}");
    let cause = item(&doc, "addr.configured-not-bound").expect("cause");
    let explains: Vec<&str> = cause["explains"]
        .as_array()
        .expect("explains")
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    assert!(explains.contains(&"addr.unreachable"), "{out}");
    assert_eq!(
        evidence_addresses(item(&doc, "addr.unreachable").expect("symptom")),
        ["192.0.2.12", "192.0.2.13", "192.0.2.14"]
    );

    // The plugin form: status line first, exit code 2.
    let (text, code) = diag_in(&client, None, &probe);
    assert_eq!(code, 2);
    assert!(
        text.starts_with("DIAG PROBE CRITICAL - addr.unreachable: 3 address(es)"),
        "{text}"
    );
    assert!(text.contains("tcp 192.0.2.10:8080 open"), "{text}");

    // Bring the rest up: a healthy run reports nothing.
    for n in 12..=14 {
        host.ip(&["addr", "add", &format!("192.0.2.{n}/24"), "dev", "eth0"]);
    }
    let (out, code) = diag_in(&client, None, &with_json);
    let doc = json(&out);
    assert_eq!(code, 0, "{out}");
    assert!(item(&doc, "addr.unreachable").is_none(), "{out}");
}

/// Incident 001 in miniature: client → router → upstream, where the
/// upstream namespace runs a resolver (dnsmasq) and a web server. Healthy:
/// nothing. The router blackholes the upstream: `upstream.unreachable`
/// ranked first, explaining `dns.resolver-failing`. The path works again
/// but the resolver is stopped: only `dns.resolver-failing`.
#[test]
fn upstream_and_resolver_failures_from_behind_a_router() {
    let (client, router, upstream) = ns::routed_upstream();
    let _web = upstream.spawn(&[
        "python3",
        "-c",
        "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('10.2.0.2',80))\ns.listen(64)\nwhile True:\n  c,_=s.accept(); c.close()",
    ]);
    let dnsmasq = ns::resolver(&upstream, "10.2.0.2", &["/example.test/192.0.2.99"]);
    wait_for_tcp(&upstream, "10.2.0.2", 80);

    let etc = tempfile::tempdir().expect("tempdir");
    std::fs::write(etc.path().join("resolv.conf"), "nameserver 10.2.0.2\n").expect("resolv");
    std::fs::write(etc.path().join("hostname"), "client1\n").expect("hostname");
    let probe = [
        "probe",
        "--beyond",
        "10.2.0.2:80",
        "--dns-name",
        "example.test",
        "--timeout",
        "1",
        "--retries",
        "0",
        "--format",
        "json",
    ];

    let (out, code) = diag_in(&client, Some(etc.path()), &probe);
    let doc = json(&out);
    assert_eq!(code, 0, "{out}");
    assert!(
        cause_ids(&doc).is_empty() && finding_ids(&doc).is_empty(),
        "{out}"
    );

    // The router stops forwarding to the upstream.
    router.ip(&["route", "add", "blackhole", "10.2.0.2/32"]);
    let (out, code) = diag_in(&client, Some(etc.path()), &probe);
    let doc = json(&out);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        cause_ids(&doc).first().map(String::as_str),
        Some("upstream.unreachable"),
        "{out}"
    );
    assert_eq!(doc["causes"][0]["explains"][0], "dns.resolver-failing");
    assert!(
        finding_ids(&doc).contains(&"dns.resolver-failing".to_string()),
        "{out}"
    );

    // Forwarding again, but the resolver is gone.
    router.ip(&["route", "del", "blackhole", "10.2.0.2/32"]);
    dnsmasq.stop();
    let (out, code) = diag_in(&client, Some(etc.path()), &probe);
    let doc = json(&out);
    assert_eq!(code, 2, "{out}");
    assert!(cause_ids(&doc).is_empty(), "{out}");
    assert_eq!(finding_ids(&doc), ["dns.resolver-failing"], "{out}");
}

/// `--every` prints the full result once, then only changes, and stops
/// with the last status's exit code on SIGTERM.
#[test]
fn every_prints_changes_only_and_stops_on_sigterm() {
    let host = Ns::new();
    let _web = host.spawn(&[
        "python3",
        "-c",
        "import socket\ns=socket.socket()\ns.bind(('127.0.0.1',8080))\ns.listen(64)\nwhile True:\n  c,_=s.accept(); c.close()",
    ]);
    wait_for_tcp(&host, "127.0.0.1", 8080);
    let child = host
        .command(None, env!("CARGO_BIN_EXE_diag"))
        .args(["probe", "--every", "1s", "--no-dns", "--no-path"])
        .args(["127.0.0.1:8080", "--timeout", "1"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start diag");
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let pid = child.id().to_string();
    // `ip netns exec` execs diag in place: the pid is diag's.
    ns::must(&["kill", "-TERM", &pid]);
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.matches("DIAG PROBE OK").count(), 1, "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
}
