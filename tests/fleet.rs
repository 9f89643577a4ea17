//! diag in the fleet's alerting stack (issue 27, docs/fleet.md): the
//! Prometheus metrics diag writes, read by a real node_exporter and
//! scraped by a real Prometheus that loads the shipped alert rules; the
//! alert fires on a host with a configured address not bound and resolves
//! once the host is healthy. Also `promtool` on what diag writes and
//! ships, and the Ansible playbooks (syntax, and the collect playbook run
//! for real against localhost).
//!
//! Debian's `prometheus`, `prometheus-node-exporter` and `ansible-core`
//! (`.ci/run` installs them): a missing tool fails the test, it is not
//! skipped. Everything listens on 127.0.0.1 on free ports, in temporary
//! directories; the daemons are this test's own children, killed when it
//! ends (also when it fails). The Debian services are never started.

mod common;

use common::{diag, diag_json, stderr, workspace};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The unbound-address incident (000): 14 ifcfg files, some not bound.
const FAULTY: &str = "fixtures/scenario-000-aliases-ifcfg";
/// A healthy host of the same kind.
const HEALTHY: &str = "fixtures/scenario-healthy-web-host";

/// A daemon of this test: killed and reaped when dropped.
struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(name: &'static str, program: &str, args: &[String], dir: &Path) -> Daemon {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program} (install Debian's {name}): {e}"));
        Daemon { name, child, log }
    }

    /// The daemon's output so far, for a failure message.
    fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("--- {} log ---\n{}", self.name, tail.join("\n"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on the loopback (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// GET `path` from 127.0.0.1:`port` over plain HTTP/1.0; the status and
/// body, or None when nothing answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// Polls `check` every 200 ms until it returns Some, for at most `limit`.
fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `diag analyze BUNDLE --format prometheus -o FILE`: exit 0-2 and a file.
fn write_metrics(bundle: &str, file: &Path) {
    let out = diag(&[
        "analyze",
        workspace().join(bundle).to_str().expect("utf8"),
        "--format",
        "prometheus",
        "-o",
        file.to_str().expect("utf8"),
    ]);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "diag analyze {bundle}: {}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty(), "-o writes the file, not stdout");
}

/// The alerts Prometheus reports active (pending or firing), as
/// (alertname, state, labels).
fn alerts(port: u16) -> Option<Vec<(String, String, serde_json::Value)>> {
    let (status, body) = get(port, "/api/v1/alerts")?;
    if status != 200 {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    let list = json["data"]["alerts"].as_array()?;
    Some(
        list.iter()
            .map(|a| {
                (
                    a["labels"]["alertname"].as_str().unwrap_or("").to_string(),
                    a["state"].as_str().unwrap_or("").to_string(),
                    a.clone(),
                )
            })
            .collect(),
    )
}

fn firing(port: u16, name: &str) -> Option<serde_json::Value> {
    alerts(port)?
        .into_iter()
        .find(|(n, state, _)| n == name && state == "firing")
        .map(|(_, _, alert)| alert)
}

#[test]
fn alert_fires_through_node_exporter_and_prometheus_then_resolves() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let textfiles = dir.path().join("textfile");
    std::fs::create_dir(&textfiles).expect("mkdir");
    let prom_file = textfiles.join("diag.prom");
    write_metrics(FAULTY, &prom_file);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&prom_file).expect("stat").permissions(),
    );
    assert_eq!(mode & 0o777, 0o644, "node_exporter's user must read it");

    let exporter_port = free_port();
    let exporter = Daemon::start(
        "prometheus-node-exporter",
        "prometheus-node-exporter",
        &[
            format!("--web.listen-address=127.0.0.1:{exporter_port}"),
            "--collector.disable-defaults".into(),
            "--collector.textfile".into(),
            format!("--collector.textfile.directory={}", textfiles.display()),
        ],
        dir.path(),
    );
    let metrics = wait_for(Duration::from_secs(10), || {
        get(exporter_port, "/metrics").filter(|(s, _)| *s == 200)
    })
    .unwrap_or_else(|| panic!("node_exporter does not answer\n{}", exporter.log()))
    .1;
    assert!(
        metrics.contains("diag_cause_matches{command=\"analyze\""),
        "node_exporter does not serve diag's metrics:\n{metrics}\n{}",
        exporter.log()
    );
    assert!(
        metrics.contains("node_textfile_scrape_error 0"),
        "{metrics}"
    );

    let prometheus_port = free_port();
    let rules = workspace().join("deploy/prometheus/diag-alerts.yml");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {}\n\
             scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n",
            rules.display()
        ),
    )
    .expect("write config");
    let prometheus = Daemon::start(
        "prometheus",
        "prometheus",
        &[
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
        ],
        dir.path(),
    );
    let alert = wait_for(Duration::from_secs(30), || {
        firing(prometheus_port, "DiagAddressNotBound")
    })
    .unwrap_or_else(|| {
        panic!(
            "DiagAddressNotBound never fired; alerts: {:?}\n{}\n{}",
            alerts(prometheus_port),
            prometheus.log(),
            exporter.log()
        )
    });
    println!("Prometheus /api/v1/alerts, firing:\n{alert:#}");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["labels"]["id"], "addr.configured-not-bound");
    assert_eq!(alert["labels"]["command"], "analyze");
    assert_eq!(
        alert["labels"]["instance"],
        format!("127.0.0.1:{exporter_port}")
    );
    let count: f64 = alert["value"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("value");
    assert!(count >= 1.0, "{alert}");
    let summary = alert["annotations"]["summary"].as_str().unwrap_or("");
    assert!(
        summary.starts_with(&format!("{count} configured address(es) not bound")),
        "{summary}"
    );
    // The cause is critical (services listen on the addresses): the
    // generic alert fires too.
    assert!(
        firing(prometheus_port, "DiagCritical").is_some(),
        "{:?}",
        alerts(prometheus_port)
    );

    // The fault removed: diag runs again on a healthy host, the file is
    // replaced whole, and the alert resolves (leaves the active list).
    write_metrics(HEALTHY, &prom_file);
    let resolved = wait_for(Duration::from_secs(20), || {
        alerts(prometheus_port).filter(|list| !list.iter().any(|(n, _, _)| n.starts_with("Diag")))
    });
    assert!(
        resolved.is_some(),
        "DiagAddressNotBound did not resolve: {:?}\n{}",
        alerts(prometheus_port),
        prometheus.log()
    );
    // diag's own health is in the metrics: not stale, just ran.
    let (_, body) = get(
        prometheus_port,
        "/api/v1/query?query=time()-diag_last_run_timestamp_seconds",
    )
    .expect("query");
    assert!(body.contains("\"status\":\"success\""), "{body}");
    drop(prometheus);
    drop(exporter);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// `promtool check metrics` on stdin: its verdict and output.
fn promtool_metrics(text: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool (install Debian's prometheus)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool");
    (out.status.success(), said(&out))
}

#[test]
fn promtool_accepts_what_diag_writes() {
    for bundle in [FAULTY, HEALTHY, "fixtures/http6-gateway-typo"] {
        let out = diag(&[
            "analyze",
            workspace().join(bundle).to_str().expect("utf8"),
            "--format",
            "prometheus",
        ]);
        assert!(matches!(out.status.code(), Some(0..=2)), "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).expect("utf8");
        assert!(text.contains("diag_last_run_timestamp_seconds{"), "{text}");
        let (ok, said) = promtool_metrics(&text);
        assert!(ok, "promtool check metrics on {bundle}:\n{said}\n{text}");
    }
    // diag check on a root, the way the systemd unit runs it.
    let root = workspace().join(FAULTY);
    let out = diag(&[
        "check",
        "--root",
        root.to_str().expect("utf8"),
        "--capture-seconds",
        "0",
        "--format",
        "prometheus",
    ]);
    assert!(matches!(out.status.code(), Some(0..=2)), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.contains("diag_cause_matches{command=\"check\",id=\"addr.configured-not-bound\"}"));
    let (ok, said) = promtool_metrics(&text);
    assert!(ok, "promtool check metrics:\n{said}\n{text}");
}

#[test]
fn promtool_accepts_the_shipped_rules() {
    let rules = workspace().join("deploy/prometheus/diag-alerts.yml");
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .expect("run promtool (install Debian's prometheus)");
    assert!(out.status.success(), "{}", said(&out));
}

/// What a tool printed, stdout then stderr.
fn said(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out))
}

#[test]
fn probe_metrics_of_a_loopback_target() {
    // A listener of the test's own, and a port nothing listens on.
    let open = TcpListener::bind("127.0.0.1:0").expect("bind");
    let open_port = open.local_addr().expect("addr").port();
    let closed_port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("diag-probe-lo.prom");
    let out = diag(&[
        "probe",
        &format!("127.0.0.1:{open_port}"),
        &format!("127.0.0.1:{closed_port}"),
        "--timeout",
        "1",
        "--format",
        "prometheus",
        "--output-file",
        file.to_str().expect("utf8"),
        "--metrics-label",
        "target=lo",
    ]);
    assert!(matches!(out.status.code(), Some(0..=2)), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&file).expect("read");
    let lo = "command=\"probe\",target=\"lo\"";
    assert!(
        text.contains(&format!("diag_probes{{{lo},kind=\"tcp\"}} 2\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("diag_probes_answered{{{lo},kind=\"tcp\"}} 2\n")),
        "a refused connect is an answer: {text}"
    );
    let (ok, said) = promtool_metrics(&text);
    assert!(ok, "{said}\n{text}");
    // --every prints changes as text: no metrics file from it.
    let out = diag(&[
        "probe",
        &format!("127.0.0.1:{open_port}"),
        "--every",
        "1m",
        "--format",
        "prometheus",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    drop(open);
}

#[test]
fn systemd_accepts_the_shipped_units() {
    // `systemd-analyze verify` wants the ExecStart binary to exist: the
    // units with this build's diag in place of /usr/local/bin/diag, the
    // template as one instance.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut units = Vec::new();
    for (name, as_name) in [
        ("diag-check.service", "diag-check.service"),
        ("diag-check.timer", "diag-check.timer"),
        ("diag-probe@.service", "diag-probe@web1.service"),
        ("diag-probe@.timer", "diag-probe@web1.timer"),
    ] {
        let text = std::fs::read_to_string(workspace().join("deploy/systemd").join(name))
            .expect("read unit");
        let path = dir.path().join(as_name);
        std::fs::write(
            &path,
            text.replace("/usr/local/bin/diag", env!("CARGO_BIN_EXE_diag")),
        )
        .expect("write unit");
        units.push(path);
    }
    // The man page is not installed here (install.yml installs it).
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&units)
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .output()
        .expect("run systemd-analyze (Debian's systemd)");
    let said = said(&out);
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

#[test]
fn node_problem_detector_plugin_maps_the_exit_codes() {
    // The plugin runs `$DIAG check --capture-seconds 0`: here a diag that
    // reads a fixture root, and one that cannot run.
    let dir = tempfile::tempdir().expect("tempdir");
    let plugin = workspace().join("deploy/node-problem-detector/diag-check.sh");
    let run = |root: &str, level: &str| {
        let fake = dir.path().join(format!("diag-{}", root.replace('/', "-")));
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\nexec '{}' \"$@\" --root '{}'\n",
                env!("CARGO_BIN_EXE_diag"),
                workspace().join(root).display()
            ),
        )
        .expect("write");
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let out = Command::new("sh")
            .arg(&plugin)
            .arg(level)
            .env("DIAG", &fake)
            .output()
            .expect("run the plugin");
        (out.status.code(), said(&out))
    };
    // Critical (an unbound address a service listens on): NonOK at both
    // levels, the verdict line and the top cause as the message.
    for level in ["warning", "critical"] {
        let (code, message) = run(FAULTY, level);
        assert_eq!(code, Some(1), "{message}");
        assert!(
            message.starts_with("CRITICAL: 1 cause(s)")
                && message.contains("(addr.configured-not-bound, confidence"),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
    }
    // Healthy: OK.
    let (code, message) = run("fixtures/healthy-vm", "warning");
    assert_eq!(code, Some(0), "{message}");
    // diag cannot run (no such root): Unknown.
    let (code, message) = run("fixtures/no-such-root", "critical");
    assert_eq!(code, Some(2), "{message}");
}

#[test]
fn json_lines_on_stdout_and_to_a_syslog_socket() {
    let bundle = workspace().join(FAULTY);
    let bundle = bundle.to_str().expect("utf8");
    let out = diag(&["analyze", bundle, "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
    assert_eq!(kinds, ["cause", "summary"], "{text}");
    assert_eq!(lines[0]["id"], "addr.configured-not-bound");
    assert_eq!(lines[0]["host"], "web1");
    assert!(lines.iter().all(|l| l["time"].is_string()));

    // The same lines as syslog datagrams, to a socket of the test's own
    // (never the host's /dev/log).
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let syslog = format!("--syslog={}", path.display());
    let out = diag(&["analyze", bundle, "--format", "jsonl", &syslog]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "the lines go to syslog, not stdout");
    let mut received = Vec::new();
    let mut buf = vec![0u8; 65536];
    for _ in 0..lines.len() {
        let n = socket.recv(&mut buf).expect("a datagram per line");
        received.push(String::from_utf8(buf[..n].to_vec()).expect("utf8"));
    }
    // RFC 3164 as glibc's syslog() writes it to /dev/log: <PRI>TIMESTAMP
    // TAG[PID]: MESSAGE; daemon facility, critical = 2.
    for (datagram, line) in received.iter().zip(text.lines()) {
        assert!(datagram.starts_with("<26>"), "{datagram}");
        let (head, message) = datagram.split_once(": ").expect("tag");
        assert!(head.contains(" diag["), "{head}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(message).expect("json")["kind"],
            serde_json::from_str::<serde_json::Value>(line).expect("json")["kind"]
        );
    }
    // --syslog is for the JSON lines only.
    let out = diag(&["analyze", bundle, &syslog]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("--syslog needs --format jsonl"));
}

/// A diag/1 document of `fixture` as host `host` with `address` bound.
fn as_host(template: &serde_json::Value, host: &str, address: &str) -> String {
    let mut doc = template.clone();
    doc["source"]["host"] = host.into();
    doc["targets"] = serde_json::json!({
        "expected": [], "listening": [],
        "bound": [{"address": address, "interface": "eth0", "input": "ip/addr", "line": 1}]
    });
    serde_json::to_string(&doc).expect("json")
}

#[test]
fn fleet_view_names_the_widespread_causes_and_the_gateway_outlier() {
    let (healthy, _) = diag_json(&[
        "analyze",
        &workspace().join(HEALTHY).to_string_lossy(),
        "--format",
        "json",
    ]);
    let (faulty, _) = diag_json(&[
        "analyze",
        &workspace().join(FAULTY).to_string_lossy(),
        "--format",
        "json",
    ]);
    let typo = workspace().join("fixtures/http6-gateway-typo");
    let (typo, _) = diag_json(&["analyze", &typo.to_string_lossy(), "--format", "json"]);
    let typo_ids = common::cause_ids(&typo);
    assert!(
        typo_ids
            .iter()
            .any(|id| id == "route.gateway-misconfigured"),
        "{typo_ids:?}"
    );

    // What the collect playbook fetches: DIR/HOST/diag-HOST-TIME.json.
    let dir = tempfile::tempdir().expect("tempdir");
    let hosts = [
        ("web1", "192.0.2.11", &healthy),
        ("web2", "192.0.2.12", &healthy),
        ("web3", "192.0.2.13", &healthy),
        ("http6", "192.0.2.16", &typo),
        ("db1", "198.51.100.5", &faulty),
        ("db2", "198.51.100.6", &faulty),
    ];
    for (host, address, template) in hosts {
        let sub = dir.path().join(host);
        std::fs::create_dir(&sub).expect("mkdir");
        std::fs::write(
            sub.join(format!("diag-{host}-1.json")),
            as_host(template, host, address),
        )
        .expect("write");
    }
    // Hostile inputs: skipped with a note, never a crash.
    std::fs::write(dir.path().join("junk.json"), b"\x1b[2J not json {").expect("write");
    std::fs::write(dir.path().join("other.json"), br#"{"hello": [1, 2]}"#).expect("write");
    std::fs::write(dir.path().join("notes.txt"), b"not a .json: not read").expect("write");
    let path = dir.path().to_string_lossy().to_string();

    let out = diag(&["fleet", &path, "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(view["hosts"].as_array().map(Vec::len), Some(6), "{view}");
    let spread = view["spread"].as_array().expect("spread");
    let first_hosts = spread[0]["hosts"].as_array().map(Vec::len).unwrap_or(0);
    assert!(spread
        .iter()
        .all(|s| s["hosts"].as_array().map(Vec::len).unwrap_or(0) <= first_hosts));
    let not_bound = spread
        .iter()
        .find(|s| s["id"] == "addr.configured-not-bound")
        .expect("the faulty hosts' cause");
    assert_eq!(not_bound["hosts"], serde_json::json!(["db1", "db2"]));
    let outlier = view["outliers"]
        .as_array()
        .expect("outliers")
        .iter()
        .find(|o| o["host"] == "http6")
        .expect("http6 differs from its subnet's peers");
    assert_eq!(outlier["group"], "192.0.2.0/24");
    assert_eq!(outlier["peers"], 3);
    assert!(outlier["only_here"]
        .as_array()
        .expect("ids")
        .iter()
        .any(|id| id == "route.gateway-misconfigured"));
    // db1 and db2 are alike and web1-3 too: no other outlier.
    assert_eq!(view["outliers"].as_array().map(Vec::len), Some(1), "{view}");
    let skipped = view["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 2, "{view}");
    assert!(skipped
        .iter()
        .any(|s| s["reason"].as_str().unwrap_or("").starts_with("not JSON")));
    assert!(skipped
        .iter()
        .any(|s| s["reason"].as_str().unwrap_or("").contains("another shape")));

    let out = diag(&["fleet", &path]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.starts_with("CRITICAL: 6 host(s)"), "{text}");
    assert!(text.contains("http6 (192.0.2.0/24, 3 peer(s))"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
}

/// Saved reports (`diag report --format json`, what the collect playbook
/// fetches) carry the default routes: a host whose gateway differs from
/// its subnet's peers is an outlier even when no rule fired on it, and
/// the on-link default route of the http6 typo is named beside its cause;
/// the same view in Markdown and HTML.
#[test]
fn fleet_view_compares_the_default_gateways_of_saved_reports() {
    let report = |fixture: &str| {
        diag_json(&[
            "report",
            "--from",
            &workspace().join(fixture).to_string_lossy(),
            "--format",
            "json",
            "-o",
            "-",
        ])
        .0
    };
    let healthy = report(HEALTHY);
    assert_eq!(
        healthy["report"]["tables"]["default_routes"][0]["gateway"], "192.0.2.1",
        "{healthy}"
    );
    let mut typo_gateway = healthy.clone();
    typo_gateway["report"]["tables"]["default_routes"][0]["gateway"] = "192.0.2.254".into();
    let typo = report("fixtures/http6-gateway-typo");
    let dir = tempfile::tempdir().expect("tempdir");
    let hosts = [
        ("web1", "192.0.2.11", &healthy),
        ("web2", "192.0.2.12", &healthy),
        ("web3", "192.0.2.13", &healthy),
        ("web4", "192.0.2.14", &typo_gateway),
        ("http6", "192.0.2.16", &typo),
    ];
    for (host, address, template) in hosts {
        std::fs::write(
            dir.path().join(format!("diag-{host}-1.json")),
            as_host(template, host, address),
        )
        .expect("write");
    }
    let path = dir.path().to_string_lossy().to_string();
    let out = diag(&["fleet", &path, "--format", "json"]);
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let outliers = view["outliers"].as_array().expect("outliers");
    assert_eq!(outliers.len(), 2, "{view}");
    let web4 = outliers.iter().find(|o| o["host"] == "web4").expect("web4");
    assert_eq!(web4["only_here"], serde_json::json!([]), "{view}");
    assert_eq!(
        web4["gateway"],
        serde_json::json!({"here": "192.0.2.254", "peers": "192.0.2.1",
                           "peers_agreeing": 3, "peers_known": 4}),
        "{view}"
    );
    let http6 = outliers
        .iter()
        .find(|o| o["host"] == "http6")
        .expect("http6");
    assert_eq!(http6["gateway"]["here"], "on-link", "{view}");
    assert!(http6["only_here"]
        .as_array()
        .expect("ids")
        .iter()
        .any(|id| id == "route.gateway-misconfigured"));

    let text = String::from_utf8(diag(&["fleet", &path]).stdout).expect("utf8");
    assert!(
        text.contains("default gateway 192.0.2.254, where 3 of 4 peer(s) use 192.0.2.1"),
        "{text}"
    );
    let md = String::from_utf8(diag(&["fleet", &path, "--format", "md"]).stdout).expect("utf8");
    assert!(md.starts_with("# diag fleet: 5 host(s)"), "{md}");
    assert!(md.contains("| web4 | 192.0.2.0/24 | 4 |"), "{md}");
    assert!(
        md.contains("default gateway on-link, where 3 of 4 peer(s) use 192.0.2.1"),
        "{md}"
    );
    let page = diag(&["fleet", &path, "--format", "html"]);
    assert_eq!(page.status.code(), Some(2), "{}", stderr(&page));
    let page = String::from_utf8(page.stdout).expect("utf8");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("<td>web4</td>"), "{page}");
    assert!(
        page.contains("where 3 of 4 peer(s) use 192.0.2.1"),
        "{page}"
    );
}

/// Bundles and sosreports (trees and archives) are analysed in place, on
/// every core, beside saved documents: the gateway-typo bundle, the real
/// sosreport tree and a packed copy of a bundle all count as hosts.
#[test]
fn fleet_view_analyses_bundles_and_sosreports_in_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let packed = dir.path().join("db1.tar.zst");
    let status = std::process::Command::new("tar")
        .arg("--zstd")
        .arg("-cf")
        .arg(&packed)
        .arg("-C")
        .arg(workspace().join("fixtures/md-disk-failing-nvme"))
        .arg(".")
        .status()
        .expect("tar with zstd (apt-get install zstd)");
    assert!(status.success());
    let out = diag(&[
        "fleet",
        "--format",
        "json",
        &workspace()
            .join("fixtures/http6-gateway-typo")
            .to_string_lossy(),
        &workspace()
            .join("tests/sosreports/hotsos-openstack")
            .to_string_lossy(),
        &packed.to_string_lossy(),
    ]);
    assert!(
        out.status.code().is_some_and(|c| c <= 2),
        "{}",
        stderr(&out)
    );
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).expect("fleet JSON");
    let text = view.to_string();
    assert!(text.contains("compute4"), "the sosreport's host: {text}");
    assert!(text.contains("route.gateway-misconfigured"), "{text}");
    assert_eq!(
        view["hosts"],
        serde_json::json!(["compute4", "db1", "http6"]),
        "{text}"
    );
    assert!(text.contains("disk.failing"), "the packed bundle: {text}");
    assert!(!text.contains("\"reason\""), "nothing skipped: {text}");
}

#[test]
fn fleet_view_of_nothing_usable_exits_3_without_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, [0xff, 0xfe, 0x00, 0x7b]).expect("write");
    let missing = dir.path().join("missing.json");
    let bad = dir.path().join("bad.tar.zst");
    std::fs::write(&bad, b"not an archive").expect("write");
    let out = diag(&[
        "fleet",
        &junk.to_string_lossy(),
        &missing.to_string_lossy(),
        &bad.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.contains("Skipped 3 input(s)"), "{text}");
    // Nothing read is no verdict, and a skipped bundle is named once.
    assert!(text.starts_with("UNKNOWN: 0 host(s)"), "{text}");
    let bad = bad.to_string_lossy();
    assert!(
        text.contains(&format!("{bad}: cannot read bundle archive"))
            && !text.contains(&format!("{bad}: {bad}")),
        "{text}"
    );
}

/// `ansible-playbook` with its state in `home` (never ~/.ansible).
fn ansible_playbook(home: &Path) -> Command {
    let mut command = Command::new("ansible-playbook");
    command
        .env("ANSIBLE_HOME", home)
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"))
        .env("ANSIBLE_REMOTE_TEMP", home.join("remote-tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_PYTHON_INTERPRETER", "auto_silent");
    command
}

#[test]
fn ansible_playbooks_pass_the_syntax_check() {
    let home = tempfile::tempdir().expect("tempdir");
    for playbook in ["install.yml", "collect.yml"] {
        let out = ansible_playbook(home.path())
            .args(["--syntax-check", "-i", "localhost,"])
            .arg(workspace().join("deploy/ansible").join(playbook))
            .output()
            .expect("run ansible-playbook (install Debian's ansible-core)");
        assert!(out.status.success(), "{playbook}: {}", said(&out));
    }
}

#[test]
fn collect_playbook_fetches_a_bundle_from_localhost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let remote = dir.path().join("remote");
    let fetched = dir.path().join("fetched");
    std::fs::create_dir(&remote).expect("mkdir");
    let root = workspace().join("fixtures/http6-gateway-typo");
    let extra = serde_json::json!({
        "diag_hosts": "localhost",
        "diag_become": false,
        "diag_bin": env!("CARGO_BIN_EXE_diag"),
        "diag_remote_dir": remote,
        "diag_fetch_dir": fetched,
        "diag_collect_args": ["--root", root, "--capture-seconds", "0"],
    });
    let out = ansible_playbook(dir.path())
        .args(["-i", "localhost,", "-c", "local", "-e"])
        .arg(extra.to_string())
        .arg(workspace().join("deploy/ansible/collect.yml"))
        .output()
        .expect("run ansible-playbook (install Debian's ansible-core)");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(out.status.success(), "{said}");
    let host_dir = fetched.join("localhost");
    let names: Vec<String> = std::fs::read_dir(&host_dir)
        .unwrap_or_else(|e| panic!("{}: {e}\n{said}", host_dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let bundle = names
        .iter()
        .find(|n| n.starts_with("diag-localhost-") && n.ends_with(".tar.zst"))
        .unwrap_or_else(|| panic!("no bundle fetched: {names:?}"));
    let json = names
        .iter()
        .find(|n| n.ends_with(".json"))
        .unwrap_or_else(|| panic!("no diagnosis fetched: {names:?}"));
    // The fetched bundle is a bundle diag reads; its diagnosis is the
    // gateway typo's.
    let out = diag(&[
        "analyze",
        host_dir.join(bundle).to_str().expect("utf8"),
        "--format",
        "json",
    ]);
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(host_dir.join(json)).expect("read")).expect("json");
    assert_eq!(saved["schema"], "diag/1");
    assert_eq!(common::finding_ids(&saved), common::finding_ids(&again));
    assert!(
        common::finding_ids(&saved).contains(&"neigh.table-overflow".to_string()),
        "{saved}"
    );
    // Nothing left on the "host".
    let left: Vec<_> = std::fs::read_dir(&remote).expect("read").collect();
    assert!(left.is_empty(), "left on the host: {left:?}");
}
