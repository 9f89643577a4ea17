//! `diag probe` against real hosts built in network namespaces: a host
//! with configured addresses of which some are not bound, probed from
//! another namespace with `--targets-from` the host's bundle; a client
//! behind a router with a resolver (dnsmasq) beyond it, where the router
//! stops forwarding and the resolver stops. Traffic goes only between the
//! namespaces the tests create. Needs root (CI runs as root), python3 and
//! dnsmasq (`.ci/run` installs dnsmasq-base).

mod common;
use diag_test_support::netns as ns;

use common::{cause_ids, finding_ids};
use ns::{veth, wait_for_tcp, Ns};
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

/// Starts a TCP server in `ns` that accepts and closes every connection
/// on `bind:port`, and waits until `reach:port` accepts.
fn serve_tcp(ns: &Ns, bind: &str, port: u16, reach: &str) -> ns::Killed {
    let server = ns.spawn(&[
        "python3",
        "-c",
        &format!("import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('{bind}',{port}))\ns.listen(64)\nwhile True:\n  c,_=s.accept(); c.close()"),
    ]);
    wait_for_tcp(ns, reach, port);
    server
}

/// TCP only, one quick attempt each.
const TCP_ONCE: [&str; 6] = ["--no-dns", "--no-path", "--timeout", "1", "--retries", "0"];

/// `diag probe --targets-from FROM` in `client` (TCP only, JSON): the
/// document and the exit code.
fn probe_targets_from(client: &Ns, from: &str) -> (serde_json::Value, i32) {
    let mut args = vec!["probe", "--targets-from", from, "--format", "json"];
    args.extend(TCP_ONCE);
    let (out, code) = diag_in(client, None, &args);
    (json(&out), code)
}

/// The incident-000 host seen from outside: `addr.unreachable`, critical,
/// naming exactly the three unbound addresses (192.0.2.12 to .14).
fn three_unbound_are_critical(doc: &serde_json::Value) -> &serde_json::Value {
    let finding = item(doc, "addr.unreachable").expect("addr.unreachable");
    assert_eq!(finding["severity"], "critical");
    assert_eq!(
        evidence_addresses(finding),
        ["192.0.2.12", "192.0.2.13", "192.0.2.14"]
    );
    finding
}

/// Incident 000 from the outside: /etc/ips lists five addresses, two are
/// bound, a web server listens on all addresses. `diag probe
/// --targets-from` the host's bundle, run from another namespace, names
/// exactly the three unbound ones and exits CRITICAL; once they are bound,
/// it is OK.
#[test]
fn unbound_configured_addresses_are_unreachable_from_another_host() {
    let (host, client, etc) = ns::half_bound_aliases();
    let _web = serve_tcp(&host, "0.0.0.0", 8080, "192.0.2.10");

    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("host-bundle");
    let bundle_arg = bundle.to_str().expect("utf-8 path");
    let (_, code) = diag_in(&host, Some(etc.path()), &["collect", "-o", bundle_arg]);
    assert_eq!(code, 0);

    let (doc, code) = probe_targets_from(&client, bundle_arg);
    assert_eq!(code, 2, "{doc}");
    let finding = three_unbound_are_critical(&doc);
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
    three_unbound_are_critical(&doc);

    // `check --probe` takes the probe settings of `diag probe`: on port 9,
    // where nothing listens, the bound addresses refuse (and --port makes
    // every address expected to serve).
    let (out, _) = diag_in(
        &host,
        Some(etc.path()),
        &[
            "check",
            "--probe",
            "--port",
            "9",
            "--timeout",
            "1",
            "--retries",
            "0",
            "--no-dns",
            "--no-path",
            "--format",
            "json",
        ],
    );
    let doc = json(&out);
    let refused = item(&doc, "addr.port-refused").expect("addr.port-refused");
    assert_eq!(
        evidence_addresses(refused),
        ["192.0.2.10", "192.0.2.11", "192.0.2.2"]
    );
    three_unbound_are_critical(&doc);
    let out = host
        .command(Some(etc.path()), env!("CARGO_BIN_EXE_diag"))
        .args(["check", "--port", "9"])
        .output()
        .expect("run diag");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("need --probe"), "{stderr}");

    // The plugin form: status line first, exit code 2.
    let mut plugin = vec!["probe", "--targets-from", bundle_arg];
    plugin.extend(TCP_ONCE);
    let (text, code) = diag_in(&client, None, &plugin);
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
    let (doc, code) = probe_targets_from(&client, bundle_arg);
    assert_eq!(code, 0, "{doc}");
    assert!(item(&doc, "addr.unreachable").is_none(), "{doc}");
}

/// `--targets-from` the JSON `diag check --format json` printed on the
/// host (not its bundle): the diagnosis carries the host's expected and
/// bound addresses and listening ports (`targets`), so a prober elsewhere
/// names exactly the configured addresses that are not bound.
#[test]
fn targets_from_the_check_json_of_the_host() {
    let (host, client, etc) = ns::half_bound_aliases();
    let web = serve_tcp(&host, "0.0.0.0", 8080, "192.0.2.10");

    let (out, code) = diag_in(&host, Some(etc.path()), &["check", "--format", "json"]);
    assert_eq!(code, 2, "{out}");
    let doc = json(&out);
    let targets = &doc["targets"];
    assert_eq!(targets["expected"].as_array().expect("expected").len(), 5);
    assert_eq!(targets["expected"][2]["address"], "192.0.2.12");
    assert_eq!(targets["expected"][2]["bound"], false);
    assert_eq!(targets["expected"][2]["input"], "etc/ips");
    assert_eq!(targets["expected"][2]["line"], 3);
    assert!(
        targets["listening"]
            .as_array()
            .expect("listening")
            .iter()
            .any(|l| l["port"] == 8080 && l["address"] == "0.0.0.0"),
        "{targets}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let saved = dir.path().join("host-check.json");
    std::fs::write(&saved, &out).expect("save the check output");
    let saved_arg = saved.to_str().expect("utf-8 path");

    let (doc, code) = probe_targets_from(&client, saved_arg);
    assert_eq!(code, 2, "{doc}");
    let finding = three_unbound_are_critical(&doc);
    let summary = finding["summary"].as_str().expect("summary");
    assert!(summary.contains("host-check.json:etc/ips:3"), "{summary}");
    assert!(summary.contains("(3 timed out)"), "{summary}");
    assert!(item(&doc, "addr.port-refused").is_none(), "{doc}");

    // The web server stops: the bound addresses (the aliases and the
    // host's own 192.0.2.2) still answer with a reset, and a warning of
    // its own names them; the unbound ones stay critical.
    web.stop();
    let (doc, code) = probe_targets_from(&client, saved_arg);
    assert_eq!(code, 2, "{doc}");
    three_unbound_are_critical(&doc);
    let refused = item(&doc, "addr.port-refused").expect("addr.port-refused");
    assert_eq!(refused["severity"], "warning");
    assert_eq!(
        evidence_addresses(refused),
        ["192.0.2.10", "192.0.2.11", "192.0.2.2"]
    );
    let summary = refused["summary"].as_str().expect("summary");
    assert!(summary.contains("192.0.2.10 (8080; from"), "{summary}");

    // A JSON file that is not a diagnosis is refused with its name.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}\n").expect("write");
    let out = client
        .command(None, env!("CARGO_BIN_EXE_diag"))
        .args(["probe", "--no-dns", "--no-path", "--targets-from"])
        .arg(&junk)
        .output()
        .expect("run diag");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("junk.json: not diag/1 JSON"), "{stderr}");
}

/// Incident 001 in miniature: client → router → upstream, where the
/// upstream namespace runs a resolver (dnsmasq) and a web server. Healthy:
/// nothing. The router blackholes the upstream: `upstream.unreachable`
/// ranked first, explaining `dns.resolver-failing`. The path works again
/// but the resolver is stopped: only `dns.resolver-failing`.
#[test]
fn upstream_and_resolver_failures_from_behind_a_router() {
    let (client, router, upstream) = ns::routed_upstream();
    let _web = serve_tcp(&upstream, "10.2.0.2", 80, "10.2.0.2");
    let dnsmasq = ns::resolver(&upstream, "10.2.0.2", &["/example.test/192.0.2.99"]);

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

/// ICMPv6 echo between two namespaces over ULA addresses: the address
/// that is there replies, one that nobody carries does not.
#[test]
fn icmpv6_echo_between_namespaces() {
    let host = Ns::new();
    let client = Ns::new();
    veth(&host, "eth0", &client, "eth0");
    host.ip(&["addr", "add", "fd00:d1a9::1/64", "dev", "eth0", "nodad"]);
    client.ip(&["addr", "add", "fd00:d1a9::2/64", "dev", "eth0", "nodad"]);
    let args = [
        "probe",
        "--no-dns",
        "--beyond",
        "fd00:d1a9::1",
        "--beyond",
        "fd00:d1a9::99",
        "--timeout",
        "1",
        "--retries",
        "0",
    ];
    // As root: a raw ICMPv6 socket. Then with the datagram ("ping")
    // socket, which the namespace's own ping_group_range allows root.
    for round in ["raw", "datagram"] {
        if round == "datagram" {
            client.exec(&["sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 0"]);
        }
        let (text, _) = diag_in(&client, None, &args);
        assert!(
            text.lines()
                .any(|l| l.starts_with("beyond fd00:d1a9::1 icmp reply")),
            "{round}: {text}"
        );
        let missing = text
            .lines()
            .find(|l| l.starts_with("beyond fd00:d1a9::99 icmp "))
            .unwrap_or_else(|| panic!("{round}: no result for fd00:d1a9::99:\n{text}"));
        assert!(
            missing.contains(" timeout ") || missing.contains(" unreachable "),
            "{round}: {missing}"
        );
    }
}

/// A resolver in its own namespace that truncates every UDP answer (TC)
/// and answers in full over TCP: the DNS probe asks again over TCP and
/// reports the full answer.
#[test]
fn a_truncated_dns_answer_is_asked_again_over_tcp() {
    let client = Ns::new();
    let resolver = Ns::new();
    veth(&client, "eth0", &resolver, "eth0");
    client.ip(&["addr", "add", "10.3.0.2/24", "dev", "eth0"]);
    resolver.ip(&["addr", "add", "10.3.0.53/24", "dev", "eth0"]);
    let _dns = resolver.spawn(&["python3", "-c", TRUNCATING_RESOLVER]);
    wait_for_tcp(&resolver, "10.3.0.53", 53);
    let etc = tempfile::tempdir().expect("tempdir");
    std::fs::write(etc.path().join("resolv.conf"), "nameserver 10.3.0.53\n").expect("resolv");
    let args = [
        "probe",
        "--no-path",
        "--dns-name",
        "big.test",
        "--timeout",
        "1",
        "--retries",
        "0",
    ];
    let (text, code) = diag_in(&client, Some(etc.path()), &args);
    assert_eq!(code, 0, "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("dns 10.3.0.53 big.test A "))
        .unwrap_or_else(|| panic!("no DNS result:\n{text}"));
    assert!(line.contains("reply NoError [192.0.2.99]"), "{line}");
    assert!(
        line.ends_with("(truncated over UDP, asked over TCP)"),
        "{line}"
    );
}

/// UDP: every query gets an empty answer with TC set. TCP: the question
/// with one A record, 192.0.2.99.
const TRUNCATING_RESOLVER: &str = r#"
import socket, struct, threading
def question(msg):
    i = 12
    while msg[i]:
        i += msg[i] + 1
    return msg[12:i + 5]
def reply(msg, truncated):
    flags = 0x8180 | (0x0200 if truncated else 0) | (struct.unpack('>H', msg[2:4])[0] & 0x0100)
    answer = b'' if truncated else b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 60, 4) + bytes([192, 0, 2, 99])
    return msg[:2] + struct.pack('>HHHHH', flags, 1, 0 if truncated else 1, 0, 0) + question(msg) + answer
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.3.0.53', 53))
def udp():
    while True:
        msg, peer = s.recvfrom(512)
        s.sendto(reply(msg, True), peer)
threading.Thread(target=udp, daemon=True).start()
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(('10.3.0.53', 53))
t.listen(8)
while True:
    c, _ = t.accept()
    head = c.recv(2, socket.MSG_WAITALL)
    if len(head) == 2:
        # (a bare connect, as from wait_for_tcp, sends nothing)
        out = reply(c.recv(struct.unpack('>H', head)[0], socket.MSG_WAITALL), False)
        c.sendall(struct.pack('>H', len(out)) + out)
    c.close()
"#;

/// The files of a bundle directory, as sorted relative paths.
fn files_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("below");
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// The `time=` of a status line's performance data, in seconds.
fn reported_time(status: &str) -> f64 {
    status
        .split_whitespace()
        .find_map(|w| w.strip_prefix("time=")?.strip_suffix('s')?.parse().ok())
        .unwrap_or_else(|| panic!("no time= in {status}"))
}

/// Issue 20: named targets are all `diag probe` touches. The namespace
/// has a nameserver in resolv.conf and a default gateway, on a veth whose
/// other end is in the same namespace (nothing answers, nothing leaves):
/// any DNS query or gateway probe would show as a record. `diag probe
/// 127.0.0.1 --port P` connects to 127.0.0.1:P and nothing else (no DNS
/// or path record, no capture: well under the 2 s a capture took), and
/// its time is the run's; `--dns` and `--path` add the resolver and the
/// gateway.
#[test]
fn named_targets_are_all_that_is_probed() {
    let ns = Ns::new();
    ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    ns.ip(&["link", "set", "va", "up"]);
    ns.ip(&["link", "set", "vb", "up"]);
    ns.ip(&["addr", "add", "10.9.0.1/24", "dev", "va"]);
    ns.ip(&["route", "add", "default", "via", "10.9.0.254"]);
    let etc = tempfile::tempdir().expect("tempdir");
    std::fs::write(etc.path().join("resolv.conf"), "nameserver 10.9.0.53\n").expect("resolv");
    let _server = serve_tcp(&ns, "127.0.0.1", 18080, "127.0.0.1");
    let quick = ["--timeout", "1", "--retries", "0"];

    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("results");
    let bundle_arg = bundle.to_str().expect("utf-8 path");
    let mut args = vec!["probe", "127.0.0.1", "--port", "18080", "--format", "json"];
    args.extend(quick);
    args.extend(["-o", bundle_arg]);
    let started = std::time::Instant::now();
    let (out, code) = diag_in(&ns, Some(etc.path()), &args);
    let wall = started.elapsed();
    assert_eq!(code, 0, "{out}");
    let doc = json(&out);
    assert!(
        cause_ids(&doc).is_empty() && finding_ids(&doc).is_empty(),
        "{out}"
    );
    assert_eq!(doc["skipped"], serde_json::json!([]), "{out}");
    // What ran, as written: one TCP record, for 127.0.0.1:18080; no
    // probe/dns.json, no probe/path.json, no capture/.
    assert_eq!(
        files_below(&bundle),
        [
            "manifest.json",
            "probe/tcp.json",
            "proc/sys/kernel/hostname"
        ]
    );
    let tcp = std::fs::read_to_string(bundle.join("probe/tcp.json")).expect("tcp.json");
    let records: Vec<serde_json::Value> = tcp.lines().map(json).collect();
    assert_eq!(records.len(), 1, "{tcp}");
    assert_eq!(records[0]["address"], "127.0.0.1");
    assert_eq!(records[0]["port"], 18080);
    assert_eq!(records[0]["result"], "open");
    assert!(
        wall.as_secs_f64() < 1.5,
        "took {wall:?}: a capture or a probe ran"
    );

    // The status line: no DNS, no path, and the time of the whole run
    // (the wall time less starting diag in the namespace).
    let mut args = vec!["probe", "127.0.0.1:18080"];
    args.extend(quick);
    let started = std::time::Instant::now();
    let (text, code) = diag_in(&ns, Some(etc.path()), &args);
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{text}");
    let status = text.lines().next().expect("status line");
    assert!(status.starts_with("DIAG PROBE OK - "), "{status}");
    assert!(
        status.contains(" | tcp=1 tcp_answered=1 dns=0 dns_answered=0 path=0 path_answered=0 "),
        "{status}"
    );
    assert_eq!(text.lines().count(), 2, "{text}");
    let time = reported_time(status);
    assert!(time <= wall && wall - time < 1.0, "time={time} of {wall} s");

    // --dns and --path ask for the resolver and the gateway (neither
    // answers); their timeouts are in the time.
    let mut args = vec!["probe", "127.0.0.1:18080", "--dns", "--path"];
    args.extend(quick);
    let started = std::time::Instant::now();
    let (text, code) = diag_in(&ns, Some(etc.path()), &args);
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(code, 2, "{text}");
    for probe in [
        "dns 10.9.0.53 ",
        "gateway 10.9.0.254 icmp ",
        "gateway 10.9.0.254:22 tcp ",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(probe)),
            "{probe}: {text}"
        );
    }
    let time = reported_time(text.lines().next().expect("status line"));
    assert!(time >= 2.0 && time <= wall, "time={time} of {wall} s");
}
