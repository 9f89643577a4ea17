//! The founding incidents of `docs/incidents/`, reproduced for real
//! and diagnosed through the `diag` binary's JSON (`diag/1`): each test
//! asserts the top-ranked cause, the findings it explains, and that
//! nothing unrelated is raised (no other warning or critical).
//!
//! | test                                            | incident | top cause                    |
//! |-------------------------------------------------|----------|------------------------------|
//! | `incident_000_half_bound_aliases_cpanel_ips`    | 000      | `addr.configured-not-bound`  |
//! | `incident_000_half_bound_aliases_ifcfg`         | 000      | `addr.configured-not-bound`  |
//! | `incident_002_gateway_typo_onlink_default`      | 002      | `route.gateway-misconfigured`|
//! | `incident_002_gateway_typo_own_address`         | 002      | `route.gateway-misconfigured`|
//! | `incident_002_gateway_typo_ratelimit_only`      | 002      | `route.gateway-misconfigured`|
//! | `incident_001_upstream_misrouting`              | 001      | `upstream.unreachable`       |
//! | `incident_002_degraded_raid1_ata_errors`        | 002      | `disk.failing`               |
//! | `incident_001_panic_in_the_previous_boot`       | 001      | `kernel.crash`               |
//!
//! Every network scenario ends healthy (the fault undone, the same
//! namespaces): no cause, nothing above info.
//!
//! Each scenario also runs offline: `diag collect` inside the scenario,
//! then `diag analyze` on the bundle in a clean environment (no variables,
//! the root namespace, another directory) must reach the same verdict.
//! With `DIAG_SAVE_SCENARIOS=1` that bundle is saved as
//! `fixtures/scenario-*` with an `expected.toml` made from the same
//! expectations, so the offline half also runs without namespaces
//! (`tests/fixtures.rs` walks them); the saved kernel log is cut to the
//! scenario's window.
//!
//! Hygiene. The kernel log and the neighbour tables' statistics are the
//! machine's, shared with every other test: each scenario marks the time
//! it starts and runs `diag` with `--since` that time, so lines other tests
//! left are not read. Scenarios run one at a time (a lock), so their own
//! kernel lines do not cross. Namespaces, processes and the lowered
//! gc_thresh sysctls are undone by guards, also when an assertion fails.
//! Traffic goes only between namespaces a scenario created. The time each
//! `diag check` took is printed and appended to
//! `$CARGO_TARGET_TMPDIR/scenario-times.txt`.
//!
//! They need root (CI runs as root).

mod common;

use diag_test_support::netns;

use common::{cause_ids, copy_tree, finding_ids, ids, workspace};
use netns::{veth, wait_for_tcp, GcThresh, Killed, Ns};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `diag` binary: this build's, or `DIAG_SCENARIO_BIN` (to time a
/// release build in the same scenarios).
fn diag_bin() -> String {
    std::env::var("DIAG_SCENARIO_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_diag").to_string())
}

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a scenario's diagnosis must say.
struct Expect {
    /// Directory under `fixtures/` its bundle is saved as.
    fixture: &'static str,
    /// The incident file under `docs/incidents/`.
    incident: &'static str,
    /// What the scenario builds, for the fixture's `origin`.
    story: &'static str,
    /// The top-ranked cause; `None`: no cause, nothing above info.
    top: Option<&'static str>,
    /// Findings the top cause must explain (and that must be present).
    explains: &'static [&'static str],
    /// Other findings that must be present.
    must: &'static [&'static str],
    /// Hypotheses that must be ruled out.
    ruled_out: &'static [&'static str],
    /// Other warnings allowed (related symptoms that may or may not show).
    alarms: &'static [&'static str],
}

impl Expect {
    /// The same namespaces with the fault undone.
    fn healthy(&self, story: &'static str) -> Expect {
        Expect {
            fixture: "",
            incident: self.incident,
            story,
            top: None,
            explains: &[],
            must: &[],
            ruled_out: &[],
            alarms: &[],
        }
    }

    fn label(&self) -> String {
        if self.fixture.is_empty() {
            format!("{} healthy ({})", self.incident, self.story)
        } else {
            self.fixture.to_string()
        }
    }

    fn judge(&self, json: &Value, what: &str) {
        let context = || format!("{} ({what}): {}\n{json:#}", self.incident, self.story);
        let causes = cause_ids(json);
        let findings = finding_ids(json);
        if let Some(top) = self.top {
            assert_eq!(top_of(json).as_deref(), Some(top), "top of {}", context());
        }
        if let Some(top) = self.top.filter(|_| !causes.is_empty()) {
            let explained = ids_of(&json["causes"][0]["explains"]);
            for id in self.explains {
                assert!(
                    explained.iter().any(|e| e == id) && findings.iter().any(|f| f == id),
                    "{top} must explain {id}, present: {}",
                    context()
                );
            }
        }
        for id in self.must {
            assert!(
                causes.iter().chain(&findings).any(|f| f == id),
                "{id} missing: {}",
                context()
            );
        }
        let ruled_out = ids(&json["ruled_out"]);
        for id in self.ruled_out {
            assert!(
                ruled_out.iter().any(|r| r == id),
                "{id} not ruled out: {}",
                context()
            );
        }
        let allowed: Vec<&str> = self
            .top
            .iter()
            .chain(self.explains)
            .chain(self.must)
            .chain(self.alarms)
            .copied()
            .collect();
        for list in ["causes", "findings"] {
            for item in json[list].as_array().into_iter().flatten() {
                let id = item["id"].as_str().unwrap_or_default();
                let severity = item["severity"].as_str().unwrap_or_default();
                assert!(
                    severity == "info" || allowed.contains(&id),
                    "unrelated alarm {id} ({severity}): {}",
                    context()
                );
            }
        }
    }

    /// Runs `diag check` (the command is ready but for its arguments),
    /// times it, judges its JSON.
    fn check(&self, mut command: Command, args: &[&str]) -> Value {
        let started = Instant::now();
        let out = command
            .arg("check")
            .args(["--format", "json"])
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run diag check");
        let took = started.elapsed();
        let json = parse(&out, "check");
        let line = format!(
            "{}: top {:?}, diag check took {:.2} s",
            self.label(),
            top_of(&json).unwrap_or_default(),
            took.as_secs_f64()
        );
        eprintln!("scenario {line}");
        let times = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-times.txt");
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(times)
        {
            let _ = writeln!(file, "{line}");
        }
        self.judge(&json, "diag check");
        json
    }

    /// `diag collect` with `command` (ready but for its arguments) into
    /// `bundle`, then `diag analyze` on it in a clean environment: the
    /// same verdict, the same top cause as `live`. Saves the bundle as a
    /// fixture when asked to (see the module's documentation).
    fn offline(&self, mut command: Command, args: &[&str], bundle: &Path, live: &Value) {
        let out = command
            .args(["collect", "-o"])
            .arg(bundle)
            .args(args)
            .output()
            .expect("run diag collect");
        assert!(
            out.status.success(),
            "diag collect failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json = analyze_clean(bundle);
        self.judge(
            &json,
            "diag analyze of the collected bundle, clean environment",
        );
        assert_eq!(
            top_of(&json),
            top_of(live),
            "offline and live disagree on the top"
        );
        if std::env::var_os("DIAG_SAVE_SCENARIOS").is_some() && !self.fixture.is_empty() {
            self.save(bundle, live);
        }
    }

    /// Writes the bundle as `fixtures/<fixture>` with its expected.toml
    /// (whose `top_cause` is a cause: a top that is a finding goes to
    /// `must`).
    fn save(&self, bundle: &Path, live: &Value) {
        let dest = workspace().join("fixtures").join(self.fixture);
        let _ = std::fs::remove_dir_all(&dest);
        copy_tree(bundle, &dest).expect("copy bundle");
        trim_kmsg(&dest);
        let top_is_cause = !cause_ids(live).is_empty();
        let list = |items: &[&str]| {
            items
                .iter()
                .map(|i| format!("{i:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut text = format!(
            "origin = {:?}\ntop_cause = {:?}\n",
            format!(
                "Scenario of tests/scenarios.rs for docs/incidents/{}: {} Collected by `diag collect --since` inside the scenario; dev/kmsg cut to the scenario's window (manifest.json's since). Regenerate with DIAG_SAVE_SCENARIOS=1 cargo test -p diag --test scenarios.",
                self.incident, self.story
            ),
            if top_is_cause { self.top.unwrap_or_default() } else { "" }
        );
        let mut must: Vec<&str> = self.must.to_vec();
        if !top_is_cause {
            must.extend(self.top);
        }
        for (key, items) in [
            ("explains", self.explains),
            ("must", &must[..]),
            ("ruled_out", self.ruled_out),
            ("alarms", self.alarms),
        ] {
            text.push_str(&format!("{key} = [{}]\n", list(items)));
        }
        std::fs::write(dest.join("expected.toml"), text).expect("expected.toml");
    }
}

/// The top of a diagnosis: its first cause; without causes, its most
/// severe finding (a panic in the previous boot explains nothing else, and
/// is still what the operator must read first).
fn top_of(json: &Value) -> Option<String> {
    if let Some(first) = cause_ids(json).into_iter().next() {
        return Some(first);
    }
    let rank = |f: &Value| match f["severity"].as_str() {
        Some("critical") => 2,
        Some("warning") => 1,
        _ => 0,
    };
    let findings = json["findings"].as_array()?;
    let best = findings.iter().map(rank).max()?;
    (best > 0)
        .then(|| findings.iter().find(|f| rank(f) == best))
        .flatten()
        .and_then(|f| f["id"].as_str().map(String::from))
}

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}

fn parse(out: &Output, what: &str) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "diag {what} did not print JSON ({err}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `diag analyze BUNDLE --format json` with no environment variables, in
/// the root namespace, from another directory.
fn analyze_clean(bundle: &Path) -> Value {
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let out = Command::new(diag_bin())
        .env_clear()
        .current_dir(elsewhere.path())
        .arg("analyze")
        .arg(bundle)
        .args(["--format", "json"])
        .output()
        .expect("run diag analyze");
    parse(&out, "analyze")
}

/// Cuts a saved bundle's `dev/kmsg` to the records at or after its
/// manifest's `since` (placed with `proc/stat`'s btime, as diag places
/// them): the machine's earlier lines stay out of the repository, and the
/// analysis, which reads only that window, does not change.
fn trim_kmsg(bundle: &Path) {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).expect("manifest"))
            .expect("manifest JSON");
    let Some(since) = manifest["since"].as_str() else {
        return;
    };
    let since = humantime::parse_rfc3339_weak(since).expect("since");
    let since_us = since.duration_since(UNIX_EPOCH).expect("epoch").as_micros() as i64;
    let stat = std::fs::read_to_string(bundle.join("proc/stat")).expect("proc/stat");
    let btime: i64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
        .expect("btime");
    let path = bundle.join("dev/kmsg");
    let Ok(kmsg) = std::fs::read(&path) else {
        return;
    };
    let mut keep = false;
    let mut out = Vec::new();
    for line in kmsg.split_inclusive(|b| *b == b'\n') {
        if !line.starts_with(b" ") {
            let usec = line
                .split(|b| *b == b',')
                .nth(2)
                .and_then(|f| std::str::from_utf8(f).ok())
                .and_then(|f| f.parse::<i64>().ok());
            keep = usec.is_some_and(|u| btime * 1_000_000 + u >= since_us);
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    std::fs::write(&path, out).expect("write dev/kmsg");
}

/// The start of a scenario's window, as `--since` takes it. Waits a
/// second and a half after it: diag places the running boot's lines with
/// `btime`, whole seconds rounded down, so a line logged within a second
/// of the mark could read as before it.
fn mark() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    std::thread::sleep(Duration::from_millis(1500));
    format!("@{}.{:06}", now.as_secs(), now.subsec_micros())
}

/// Writes `files` (path relative to `dir`, content) below `dir`.
fn write_files(dir: &Path, files: &[(&str, String)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write file");
    }
}

/// A web server accepting (and closing) connections on every address,
/// port 80, in `ns`.
fn web_server(ns: &Ns) -> Killed {
    ns.spawn(&[
        "python3",
        "-c",
        "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',80))\ns.listen(512)\nwhile True:\n  c,_=s.accept(); c.close()",
    ])
}

// ---- incident 000: IP aliases half bound after a reboot --------------------

const ALIASES_CONFIGURED: u8 = 12;
const ALIASES_BOUND: u8 = 8;

fn alias(n: u8) -> String {
    format!("192.0.2.{}", 10 + n)
}

/// The host of incident 000 (`host`, 192.0.2.2/24 on eth0, aliases
/// 192.0.2.10 to .21 configured by `config`, the first eight bound, a web
/// server on all addresses) and a `client` namespace on the same link
/// (192.0.2.1, also the host's default gateway).
fn half_bound(config: &[(&str, String)], expect: &Expect, healthy_fixture: &'static str) {
    let _one = one_at_a_time();
    let since = mark();
    let host = Ns::new();
    let client = Ns::new();
    veth(&host, "eth0", &client, "eth0");
    host.ip(&["addr", "add", "192.0.2.2/24", "dev", "eth0"]);
    // The client is also the host's router.
    client.ip(&["addr", "add", "192.0.2.1/24", "dev", "eth0"]);
    host.ip(&["route", "add", "default", "via", "192.0.2.1"]);
    for n in 0..ALIASES_BOUND {
        host.ip(&["addr", "add", &format!("{}/24", alias(n)), "dev", "eth0"]);
    }
    let files = tempfile::tempdir().expect("tempdir");
    let mut all = vec![
        ("etc/hostname", "web1\n".to_string()),
        ("etc/hosts", "127.0.0.1 localhost\n192.0.2.2 web1\n".into()),
    ];
    all.extend(config.iter().cloned());
    write_files(files.path(), &all);
    let client_files = tempfile::tempdir().expect("tempdir");
    write_files(client_files.path(), &[("etc/hostname", "client\n".into())]);
    let _web = web_server(&host);
    wait_for_tcp(&host, &alias(0), 80);

    let diag = || host.host_command(files.path(), &diag_bin());
    let json = expect.check(diag(), &["--since", &since]);
    let cause = &json["causes"][0];
    let missing: Vec<String> = (ALIASES_BOUND..ALIASES_CONFIGURED).map(alias).collect();
    let evidence: Vec<&str> = cause["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["excerpt"].as_str())
        .collect();
    assert_eq!(evidence.len(), missing.len(), "{cause:#}");
    for address in &missing {
        let exact = format!("{address}:");
        let ifcfg = format!("={address}");
        assert!(
            evidence
                .iter()
                .any(|l| l.starts_with(&exact) || l.ends_with(&ifcfg)),
            "{address} not in the evidence: {cause:#}"
        );
    }
    let summary = cause["summary"].as_str().unwrap_or_default();
    assert!(summary.starts_with("4 of "), "{summary}");

    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("web1");
    expect.offline(diag(), &["--since", &since], &bundle, &json);

    // From another machine, as the customer asked: a TCP connect to each
    // expected address names exactly the four.
    let out = client
        .host_command(client_files.path(), &diag_bin())
        .arg("probe")
        .arg("--targets-from")
        .arg(&bundle)
        .args(["--timeout", "1", "--retries", "0", "--format", "json"])
        .output()
        .expect("run diag probe");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let probe = parse(&out, "probe");
    let finding = probe["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["id"] == "addr.unreachable")
        .unwrap_or_else(|| panic!("no addr.unreachable: {probe:#}"));
    let mut unreachable: Vec<String> = finding["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            let record: Value =
                serde_json::from_str(e["excerpt"].as_str().expect("excerpt")).expect("record");
            record["address"].as_str().expect("address").to_string()
        })
        .collect();
    unreachable.sort();
    assert_eq!(unreachable, missing, "{finding:#}");

    // Healthy: every alias bound.
    for n in ALIASES_BOUND..ALIASES_CONFIGURED {
        host.ip(&["addr", "add", &format!("{}/24", alias(n)), "dev", "eth0"]);
    }
    let healthy = expect.healthy("the same host with all twelve aliases bound.");
    let json = healthy.check(diag(), &["--since", &since]);
    if std::env::var_os("DIAG_SAVE_SCENARIOS").is_some() && !healthy_fixture.is_empty() {
        let healthy = Expect {
            fixture: healthy_fixture,
            ..healthy
        };
        healthy.offline(
            diag(),
            &["--since", &since],
            &dir.path().join("healthy"),
            &json,
        );
    }
}

/// Incident 000 with a cPanel `/etc/ips`: twelve aliases listed, eight
/// bound after the reboot.
#[test]
fn incident_000_half_bound_aliases_cpanel_ips() {
    let ips: String = (0..ALIASES_CONFIGURED)
        .map(|n| format!("{}:255.255.255.0:192.0.2.255\n", alias(n)))
        .collect();
    half_bound(
        &[("etc/ips", ips)],
        &Expect {
            fixture: "scenario-000-aliases-cpanel-ips",
            incident: "000_c0389bd43d0873aa.txt",
            story: "a web host whose cPanel /etc/ips lists twelve aliases, eight bound after the reboot, a web server on all addresses.",
            top: Some("addr.configured-not-bound"),
            explains: &[],
            must: &[],
            ruled_out: &[],
            alarms: &[],
        },
        "scenario-healthy-web-host",
    );
}

/// Incident 000 with RHEL alias files (`ifcfg-eth0:0` to `ifcfg-eth0:11`).
#[test]
fn incident_000_half_bound_aliases_ifcfg() {
    let mut config = vec![(
        "etc/sysconfig/network-scripts/ifcfg-eth0",
        "DEVICE=eth0\nBOOTPROTO=none\nONBOOT=yes\nIPADDR=192.0.2.2\nPREFIX=24\n".to_string(),
    )];
    let names: Vec<String> = (0..ALIASES_CONFIGURED)
        .map(|n| format!("etc/sysconfig/network-scripts/ifcfg-eth0:{n}"))
        .collect();
    for (n, name) in names.iter().enumerate() {
        config.push((
            name.as_str(),
            format!(
                "DEVICE=eth0:{n}\nBOOTPROTO=none\nONPARENT=yes\nIPADDR={}\nNETMASK=255.255.255.0\n",
                alias(n as u8)
            ),
        ));
    }
    half_bound(
        &config,
        &Expect {
            fixture: "scenario-000-aliases-ifcfg",
            incident: "000_c0389bd43d0873aa.txt",
            story: "a web host with twelve ifcfg-eth0:N alias files, eight aliases bound after the reboot, a web server on all addresses.",
            top: Some("addr.configured-not-bound"),
            explains: &[],
            must: &[],
            ruled_out: &[],
            alarms: &[],
        },
        "",
    );
}

// ---- incident 002: the default gateway typo --------------------------------

/// How the gateway is (mis)typed.
#[derive(Clone, Copy, PartialEq)]
enum Typo {
    /// `ip route add default dev eth0`: no gateway, every destination
    /// on-link.
    OnLink,
    /// The gateway typed as the host's own address.
    OwnAddress,
}

/// What the gateway scenarios share: `host` (10.200.0.1/24, a web
/// server) and `upstream` (10.200.0.2/24, the router: it owns
/// 10.201.0.0/16 and 10.202.0.0/16, the "Internet", and, as a router
/// without proxy ARP, answers no ARP for them: `arp_ignore=1`), and the
/// typo.
struct GatewayTypo {
    host: Ns,
    upstream: Ns,
    files: tempfile::TempDir,
    _web: Killed,
    _sink: Killed,
}

impl GatewayTypo {
    fn new(typo: Typo) -> Self {
        let host = Ns::new();
        let upstream = Ns::new();
        veth(&host, "eth0", &upstream, "eth0");
        host.ip(&["addr", "add", "10.200.0.1/24", "dev", "eth0"]);
        upstream.ip(&["addr", "add", "10.200.0.2/24", "dev", "eth0"]);
        for internet in ["10.201.0.0/16", "10.202.0.0/16"] {
            upstream.ip(&["route", "add", "local", internet, "dev", "lo"]);
        }
        upstream.exec(&[
            "sysctl",
            "-qw",
            "net.ipv4.conf.all.arp_ignore=1",
            "net.ipv4.conf.eth0.arp_ignore=1",
        ]);
        match typo {
            Typo::OnLink => host.ip(&["route", "add", "default", "dev", "eth0"]),
            Typo::OwnAddress => host.ip(&["route", "add", "default", "via", "10.200.0.1"]),
        };
        let files = tempfile::tempdir().expect("tempdir");
        write_files(
            files.path(),
            &[
                ("etc/hostname", "http6\n".into()),
                (
                    "etc/hosts",
                    "127.0.0.1 localhost\n10.200.0.1 http6\n".into(),
                ),
            ],
        );
        let web = web_server(&host);
        wait_for_tcp(&host, "10.200.0.1", 80);
        // The Internet's hosts take the host's datagrams (no ICMP errors
        // once the route is right).
        let sink = upstream.spawn(&[
            "python3",
            "-c",
            "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('0.0.0.0',9))\nwhile True: s.recv(2048)",
        ]);
        GatewayTypo {
            host,
            upstream,
            files,
            _web: web,
            _sink: sink,
        }
    }

    fn diag(&self) -> Command {
        self.host.host_command(self.files.path(), &diag_bin())
    }

    /// What the incident's host saw: its own traffic to many remote
    /// destinations, and clients from many remote addresses connecting to
    /// its web server, for `seconds`. Every packet stays between the two
    /// namespaces. With the typo, nothing answers the host's ARP requests:
    /// its datagrams and its SYN-ACKs never leave, the clients retry.
    fn traffic(&self, seconds: u32) -> (Killed, Killed) {
        let outgoing = self.host.spawn(&[
            "python3",
            "-c",
            &format!(
                "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nend=time.time()+{seconds}\nn=0\nwhile time.time()<end:\n  try: s.sendto(b'x',('10.%d.%d.%d'%(201+n%2,n//400%4,n//2%200+1),9))\n  except OSError: pass\n  n+=1\n  time.sleep(0.005)"
            ),
        ]);
        let clients = self.upstream.spawn(&[
            "python3",
            "-c",
            &format!(
                "import socket,time\nend=time.time()+{seconds}\nn=0\nopen_=[]\nwhile time.time()<end:\n  s=socket.socket(); s.setblocking(False)\n  try:\n    s.bind(('10.201.%d.%d'%(4+n//200%8,n%200+1),0)); s.connect_ex(('10.200.0.1',80))\n  except OSError: pass\n  open_.append(s); n+=1\n  open_=open_[-300:]\n  time.sleep(0.01)"
            ),
        ]);
        // Let both start before diag's capture window opens.
        std::thread::sleep(Duration::from_millis(1500));
        (outgoing, clients)
    }
}

fn gateway_typo(typo: Typo, expect: &Expect) {
    let _one = one_at_a_time();
    let since = mark();
    let _thresh = GcThresh::lower([16, 32, 64]);
    let scenario = GatewayTypo::new(typo);
    let _traffic = scenario.traffic(12);
    let json = expect.check(scenario.diag(), &["--since", &since]);
    // The kernel's drop reasons are the overflow's evidence too (issue
    // 26): recorded during the window, whatever the kernel log says.
    let overflow = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["id"] == "neigh.table-overflow")
        .expect("neigh.table-overflow");
    assert!(
        overflow["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["input"] == "trace/kfree_skb.txt"
                && e["excerpt"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("NEIGH_CREATEFAIL: ")),
        "{overflow:#}"
    );
    if typo == Typo::OwnAddress {
        let summary = json["causes"][0]["summary"].as_str().unwrap_or_default();
        assert!(
            summary.contains("this host's own address 10.200.0.1"),
            "{summary}"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    expect.offline(
        scenario.diag(),
        &["--since", &since],
        &dir.path().join("http6"),
        &json,
    );
    // Gone before the healthy half: the host's kernel would go on
    // retransmitting SYN-ACKs to the clients, overflowing the table again.
    drop(_traffic);
    drop(scenario);

    // Healthy: the same hosts with the gateway right; the upstream is the
    // router and answers for the remote addresses.
    let fixed = GatewayTypo::new(typo);
    fixed.host.ip(&["route", "del", "default"]);
    fixed
        .host
        .ip(&["route", "add", "default", "via", "10.200.0.2"]);
    let since = mark();
    let _traffic = fixed.traffic(6);
    expect
        .healthy("the same hosts with the default route via 10.200.0.2.")
        .check(fixed.diag(), &["--since", &since]);
}

const GATEWAY_TYPO: Expect = Expect {
    fixture: "scenario-002-gateway-typo-onlink",
    incident: "002_6400eb198ea08d22.txt",
    story: "a web host whose default route has no gateway (`default dev eth0`), sending to and accepting clients from many remote addresses that another namespace owns; gc_thresh1/2/3 lowered to 16/32/64 so the kernel really overflows the neighbour table.",
    top: Some("route.gateway-misconfigured"),
    explains: &[
        "neigh.table-overflow",
        "neigh.offlink-entries",
        "capture.arp-offlink-targets",
    ],
    must: &[],
    ruled_out: &["net.syn-flood"],
    // Packets queued for neighbours that never answer (NEIGH_FAILED):
    // explained by the typo, present when enough of them time out in the
    // window.
    alarms: &[
        "capture.handshakes-unanswered",
        "kmsg.messages-suppressed",
        "drops.neighbour-unresolved",
    ],
};

/// Incident 002: `default dev eth0`. The host ARPs for every destination
/// and every client; the neighbour table overflows; clients' handshakes
/// fail and they retry, which is not a SYN flood.
#[test]
fn incident_002_gateway_typo_onlink_default() {
    gateway_typo(Typo::OnLink, &GATEWAY_TYPO);
}

/// Incident 002 with the gateway typed as the host's own address.
#[test]
fn incident_002_gateway_typo_own_address() {
    gateway_typo(
        Typo::OwnAddress,
        &Expect {
            fixture: "scenario-002-gateway-typo-own-address",
            story: "the same web host with the default gateway typed as its own address (`default via 10.200.0.1`), same traffic, gc_thresh lowered.",
            ..GATEWAY_TYPO
        },
    );
}

/// Incident 002 as the operators saw it: only `net_ratelimit: N callbacks
/// suppressed` in the window. The overflow happens for real, its lines
/// stay before the window; the typo is found from the route and the
/// neighbour table.
#[test]
fn incident_002_gateway_typo_ratelimit_only() {
    let _one = one_at_a_time();
    let _thresh = GcThresh::lower([16, 32, 64]);
    let scenario = GatewayTypo::new(Typo::OnLink);
    {
        let _traffic = scenario.traffic(4);
        std::thread::sleep(Duration::from_secs(3));
    }
    // Then the host's own traffic goes on at a rate the table holds (20
    // remote destinations): no new overflow line, and the neighbour table
    // keeps showing remote addresses on the link. The window starts here.
    let _light = scenario.host.spawn(&[
        "python3",
        "-c",
        "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor n in range(3000):\n  try: s.sendto(b'x',('10.202.9.%d'%(n%20+1),9))\n  except OSError: pass\n  time.sleep(0.02)",
    ]);
    std::thread::sleep(Duration::from_secs(2));
    let since = mark();
    let mut kmsg = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/kmsg")
        .expect("these tests need root: cannot open /dev/kmsg for writing");
    kmsg.write_all(b"<4>net_ratelimit: 2214 callbacks suppressed\n")
        .expect("write /dev/kmsg");
    let expect = Expect {
        fixture: "scenario-002-gateway-typo-ratelimit-only",
        incident: "002_6400eb198ea08d22.txt",
        story: "the on-link default route after the overflow: the heavy traffic has stopped, the host still sends to 20 remote addresses, only `net_ratelimit: 2214 callbacks suppressed` is in the window; found without capture, from the route and the neighbour table.",
        top: Some("route.gateway-misconfigured"),
        explains: &["neigh.offlink-entries", "kmsg.messages-suppressed"],
        must: &[],
        ruled_out: &[],
        alarms: &["neigh.table-overflow"],
    };
    let json = expect.check(
        scenario.diag(),
        &["--since", &since, "--capture-seconds", "0"],
    );
    let lines: Vec<&str> = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["evidence"].as_array().into_iter().flatten())
        .filter_map(|e| e["excerpt"].as_str())
        .collect();
    assert!(
        !lines.iter().any(|l| l.contains("neighbor table overflow")),
        "the overflow lines are before the window: {json:#}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    expect.offline(
        scenario.diag(),
        &["--since", &since, "--capture-seconds", "0"],
        &dir.path().join("http6"),
        &json,
    );
}

// ---- incident 001: upstream misrouting -------------------------------------

/// Incident 001's network side: `client` → `router` → `upstream`, where the
/// upstream runs the client's resolver (dnsmasq at 10.2.0.2) and a web
/// server (10.2.0.130). The router stops forwarding to 10.2.0.0/25, the
/// part of the address space the resolver is in: the gateway answers,
/// nothing beyond it does; the client's own DNS queries go unanswered on
/// the wire.
#[test]
fn incident_001_upstream_misrouting() {
    let _one = one_at_a_time();
    let since = mark();
    let (client, router, upstream) = netns::routed_upstream();
    upstream.ip(&["addr", "add", "10.2.0.130/24", "dev", "eth0"]);
    let _dnsmasq = netns::resolver(
        &upstream,
        "10.2.0.2",
        &["/example.org/192.0.2.98", "/client1/10.1.0.2"],
    );
    let files = tempfile::tempdir().expect("tempdir");
    write_files(
        files.path(),
        &[
            ("etc/hostname", "client1\n".into()),
            ("etc/hosts", "127.0.0.1 localhost\n".into()),
            ("etc/resolv.conf", "nameserver 10.2.0.2\n".into()),
        ],
    );
    let diag = || client.host_command(files.path(), &diag_bin());
    let dns_traffic = |seconds: &str| {
        let script = workspace().join("tests/traffic/gen.py");
        let script = script.to_str().expect("UTF-8 path").to_string();
        let child = client.spawn(&["python3", &script, "dns", "10.2.0.2", seconds]);
        std::thread::sleep(Duration::from_millis(300));
        child
    };

    // The provider stops routing part of the address space.
    router.ip(&["route", "add", "blackhole", "10.2.0.0/25"]);
    let expect = Expect {
        fixture: "scenario-001-upstream-misrouting",
        incident: "001_5c7c7e1f3e64830d.txt",
        story: "a client behind a router that stopped forwarding to 10.2.0.0/25, where its resolver is; the client's applications keep asking it.",
        top: Some("upstream.unreachable"),
        explains: &["dns.resolver-failing", "capture.dns-unanswered"],
        must: &[],
        ruled_out: &[],
        alarms: &[],
    };
    let json = {
        let _apps = dns_traffic("12");
        let json = expect.check(diag(), &["--since", &since, "--probe"]);
        let dir = tempfile::tempdir().expect("tempdir");
        expect.offline(
            diag(),
            &["--since", &since, "--probe"],
            &dir.path().join("client1"),
            &json,
        );
        json
    };
    let summary = json["causes"][0]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("nameserver 10.2.0.2"), "{summary}");

    // Healthy: routed again.
    router.ip(&["route", "del", "blackhole", "10.2.0.0/25"]);
    let _apps = dns_traffic("6");
    expect
        .healthy("the same client with the router forwarding again.")
        .check(diag(), &["--since", &since, "--probe"]);
}

// ---- storage and crashes: bundles (no md module on the test machine) -------

/// A root tree for `diag check --root`: the files a host's /proc, /sys and
/// /dev/kmsg would show.
fn storage_root(files: &[(&str, String)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    write_files(root.path(), files);
    root
}

fn storage_scenario(root: &Path, expect: &Expect) {
    let _one = one_at_a_time();
    let root_arg = root.to_str().expect("UTF-8 path");
    let json = expect.check(Command::new(diag_bin()), &["--root", root_arg]);
    let dir = tempfile::tempdir().expect("tempdir");
    expect.offline(
        Command::new(diag_bin()),
        &["--root", root_arg],
        &dir.path().join("bundle"),
        &json,
    );
}

/// Files of a raid1 `md0` over sda1 and sdb1.
fn raid1(sdb_state: &str, degraded: bool) -> Vec<(&'static str, String)> {
    let (members, count) = if degraded {
        ("sdb1[1](F) sda1[0]", "[2/1] [U_]")
    } else {
        ("sdb1[1] sda1[0]", "[2/2] [UU]")
    };
    vec![
        (
            "proc/mdstat",
            format!("Personalities : [raid1] [linear] [multipath] [raid0] [raid6] [raid5] [raid4] [raid10] \nmd0 : active raid1 {members}\n      976630464 blocks super 1.2 {count}\n      bitmap: 3/8 pages [12KB], 65536KB chunk\n\nunused devices: <none>\n"),
        ),
        ("proc/mounts", "/dev/md0 / ext4 rw,relatime,errors=remount-ro 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n".into()),
        ("proc/sys/kernel/hostname", "http6\n".into()),
        ("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n".into()),
        ("sys/block/md0/md/array_state", "clean\n".into()),
        ("sys/block/md0/md/level", "raid1\n".into()),
        ("sys/block/md0/md/raid_disks", "2\n".into()),
        ("sys/block/md0/md/degraded", format!("{}\n", u8::from(degraded))),
        ("sys/block/md0/md/sync_action", "idle\n".into()),
        ("sys/block/md0/md/sync_completed", "none\n".into()),
        ("sys/block/md0/md/mismatch_cnt", "0\n".into()),
        ("sys/block/md0/md/last_sync_action", "check\n".into()),
        ("sys/block/md0/md/metadata_version", "1.2\n".into()),
        ("sys/block/md0/md/dev-sda1/state", "in_sync\n".into()),
        ("sys/block/md0/md/dev-sda1/slot", "0\n".into()),
        ("sys/block/md0/md/dev-sdb1/state", format!("{sdb_state}\n")),
        ("sys/block/md0/md/dev-sdb1/slot", if degraded { "none\n".into() } else { "1\n".into() }),
        ("sys/block/md0/slaves/sda1/dev", "8:1\n".into()),
        ("sys/block/md0/slaves/sdb1/dev", "8:17\n".into()),
    ]
}

/// Incident 002's storage side: md0 runs degraded; the failed member's
/// disk (sdb, on ata2) logged ATA read errors just before md failed it.
#[test]
fn incident_002_degraded_raid1_ata_errors() {
    let mut files = raid1("faulty,write_error", true);
    files.push((
        "dev/kmsg",
        "6,0,0,-;Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n\
         6,1,3702110000,-;ata2.00: exception Emask 0x0 SAct 0x100 SErr 0x0 action 0x0\n\
         6,2,3702110050,-;ata2.00: irq_stat 0x40000008\n\
         3,3,3702110100,-;ata2.00: failed command: READ FPDMA QUEUED\n\
         3,4,3702110150,-;ata2.00: cmd 60/08:40:c8:cd:1d/00:00:00:00:00/40 tag 8 ncq dma 4096 in\n\
         3,5,3702110200,-;ata2.00: status: { DRDY ERR }\n\
         3,6,3702110250,-;ata2.00: error: { UNC }\n\
         6,7,3702112000,-;ata2.00: configured for UDMA/133\n\
         6,8,3702112100,-;sd 1:0:0:0: [sdb] tag#8 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK cmd_age=2s\n\
         6,9,3702112150,-;sd 1:0:0:0: [sdb] tag#8 Sense Key : Medium Error [current]\n\
         6,10,3702112200,-;sd 1:0:0:0: [sdb] tag#8 Add. Sense: Unrecovered read error - auto reallocate failed\n\
         3,11,3702112300,-;I/O error, dev sdb, sector 1953224 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2\n\
         6,12,3702112400,-;ata2: EH complete\n\
         2,13,3702113000,-;md/raid1:md0: Disk failure on sdb1, disabling device.\n\
         2,14,3702113010,-;md/raid1:md0: Operation continuing on 1 devices.\n"
            .into(),
    ));
    let root = storage_root(&files);
    storage_scenario(
        root.path(),
        &Expect {
            fixture: "scenario-002-degraded-raid1-ata-errors",
            incident: "002_6400eb198ea08d22.txt",
            story: "md0 (raid1 over sda1 and sdb1) degraded: sdb logged ATA read errors (UNC, medium error, I/O error) and md failed sdb1 out; no spare. Files in the formats of a 6.1 kernel (md.c's sysfs, md_seq_show, libata and SCSI messages in /dev/kmsg).",
            top: Some("disk.failing"),
            explains: &["md.member-faulty", "md.array-degraded"],
            must: &["md.no-spare"],
            ruled_out: &[],
            alarms: &[
                "md.member-failure-logged",
                "disk.io-error",
                "disk.medium-error",
                "disk.command-error",
                "md.degraded-logged",
            ],
        },
    );

    // Healthy: the same array with both members in sync, no errors.
    let mut files = raid1("in_sync", false);
    files.push((
        "dev/kmsg",
        "6,0,0,-;Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n\
         6,1,5102000,-;md/raid1:md0: active with 2 out of 2 mirrors\n"
            .into(),
    ));
    let root = storage_root(&files);
    let _one = one_at_a_time();
    let healthy = Expect {
        fixture: "",
        incident: "002_6400eb198ea08d22.txt",
        story: "md0 clean with both members.",
        top: None,
        explains: &[],
        must: &[],
        ruled_out: &[],
        alarms: &[],
    };
    healthy.check(
        Command::new(diag_bin()),
        &["--root", root.path().to_str().expect("UTF-8")],
    );
}

/// Incident 001: a panic, then a reboot. pstore kept the previous boot's
/// panic; the running boot looks normal.
#[test]
fn incident_001_panic_in_the_previous_boot() {
    let mut files = raid1("in_sync", false);
    files.push((
        "dev/kmsg",
        "6,0,0,-;Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n\
         6,1,2101000,-;pstore: Using crash dump compression: deflate\n\
         6,2,2101100,-;pstore: Registered efi_pstore as persistent store backend\n\
         6,3,5102000,-;md/raid1:md0: active with 2 out of 2 mirrors\n"
            .into(),
    ));
    files.push((
        "sys/fs/pstore/dmesg-efi_pstore-170857322201001",
        "Panic#1 Part1\n\
         <4>[86388.201442] CPU: 3 PID: 1 Comm: systemd Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1\n\
         <4>[86388.201510] Hardware name: Supermicro X9SCL/X9SCM/X9SCL/X9SCM, BIOS 2.10 01/09/2014\n\
         <4>[86388.201590] Call Trace:\n\
         <4>[86388.201620]  <TASK>\n\
         <4>[86388.201650]  dump_stack_lvl+0x44/0x5c\n\
         <4>[86388.201700]  panic+0x118/0x2ed\n\
         <4>[86388.201750]  do_exit.cold+0x15/0x15\n\
         <4>[86388.201800]  </TASK>\n\
         <0>[86388.201900] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000007\n\
         <0>[86388.202000] Kernel Offset: 0x2a000000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)\n"
            .into(),
    ));
    let root = storage_root(&files);
    storage_scenario(
        root.path(),
        &Expect {
            fixture: "scenario-001-panic-previous-boot",
            incident: "001_5c7c7e1f3e64830d.txt",
            story: "the host came back after a kernel panic (init killed); pstore (efi) kept the panic of the previous boot; the running boot is clean, md0 in sync.",
            top: Some("kernel.crash"),
            explains: &["kernel.panic-previous-boot"],
            must: &[],
            ruled_out: &[],
            alarms: &[],
        },
    );
}

/// The scenarios' fixtures have the scenario's expectations (a guard
/// against a fixture edited by hand away from its test).
#[test]
fn scenario_fixtures_are_there() {
    let _one = one_at_a_time();
    let fixtures = workspace().join("fixtures");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .expect("fixtures/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("scenario-"))
        })
        .collect();
    found.sort();
    let names: Vec<String> = found
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "scenario-000-aliases-cpanel-ips",
            "scenario-000-aliases-ifcfg",
            "scenario-001-panic-previous-boot",
            "scenario-001-upstream-misrouting",
            "scenario-002-degraded-raid1-ata-errors",
            "scenario-002-gateway-typo-onlink",
            "scenario-002-gateway-typo-own-address",
            "scenario-002-gateway-typo-ratelimit-only",
            "scenario-healthy-web-host",
        ]
    );
    for dir in found {
        let expected = std::fs::read_to_string(dir.join("expected.toml")).expect("expected.toml");
        assert!(expected.contains("tests/scenarios.rs"), "{}", dir.display());
    }
}
