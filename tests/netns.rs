//! The network incidents built for real in network namespaces, diagnosed by
//! the `diag` binary running inside them (netlink, /proc/net and the
//! configuration files are all read live).
//!
//! Safety rules (the machine is shared, CI too): namespaces and veth pairs
//! get fresh random names and are deleted on drop; a veth end is renamed
//! only inside its namespace; traffic goes only to addresses of namespaces
//! the test created; the global neighbour sysctls are restored on drop,
//! also when the test fails.
//!
//! These tests need root (CI runs as root). They are grouped with the other
//! live tests (`.config/nextest.toml`).

mod common;

use diag_test_support::netns;

use common::{cause_ids, finding_ids, item};
use netns::{veth, Ns as Netns};

/// Serialises the tests that depend on the machine's global neighbour
/// state (gc_thresh sysctls, the rate-limited overflow messages) under
/// plain `cargo test`, which runs them in parallel threads (nextest runs
/// this binary one test at a time anyway).
static NEIGH: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn neigh_lock() -> std::sync::MutexGuard<'static, ()> {
    NEIGH.lock().unwrap_or_else(|e| e.into_inner())
}

/// [`netns::GcThresh`] holding the neighbour lock while lowered.
struct GcThresh {
    _thresh: netns::GcThresh,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl GcThresh {
    fn lower(values: [u32; 3]) -> Self {
        let lock = neigh_lock();
        GcThresh {
            _thresh: netns::GcThresh::lower(values),
            _lock: lock,
        }
    }
}

/// Runs `diag ARGS` inside `ns`, with `/etc` replaced by `etc` (a private
/// mount namespace: nothing of the host's /etc is touched), and parses its
/// JSON.
fn diag_in(ns: &Netns, etc: Option<&std::path::Path>, args: &[&str]) -> serde_json::Value {
    let mut command = ns.command(etc, env!("CARGO_BIN_EXE_diag"));
    let out = command
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run diag");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "diag {args:?} in {} did not print JSON ({err}); stderr:\n{}",
            ns.name,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Founding incident 000: the configuration lists five addresses, only two
/// are bound after a "reboot", a web server listens on all addresses.
/// `diag check` inside the host names the three missing ones with the file
/// and line each came from.
#[test]
fn half_bound_aliases_are_reported_with_their_config_lines() {
    let (host, _client, etc) = netns::half_bound_aliases();
    std::fs::write(etc.path().join("hostname"), "web1\n").expect("hostname");
    // A web server on the wildcard address, as Apache on a cPanel host.
    let _server = host.spawn(&[
        "python3",
        "-c",
        "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',8080))\ns.listen(8)\ntime.sleep(60)",
    ]);
    netns::wait_for_tcp(&host, "192.0.2.10", 8080);

    let json = diag_in(
        &host,
        Some(etc.path()),
        &["check", "--format", "json", "--capture-seconds", "0"],
    );
    let finding = item(&json, "causes", "addr.configured-not-bound")
        .or_else(|| item(&json, "findings", "addr.configured-not-bound"))
        .unwrap_or_else(|| panic!("no addr.configured-not-bound in {json:#}"));
    assert_eq!(finding["severity"], "critical", "{finding:#}");
    let evidence: Vec<(String, u64, String)> = finding["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                e["input"].as_str().unwrap_or_default().to_string(),
                e["line"].as_u64().unwrap_or(0),
                e["excerpt"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        evidence,
        vec![
            (
                "etc/ips".into(),
                3,
                "192.0.2.12:255.255.255.0:192.0.2.255".into()
            ),
            (
                "etc/ips".into(),
                4,
                "192.0.2.13:255.255.255.0:192.0.2.255".into()
            ),
            (
                "etc/ips".into(),
                5,
                "192.0.2.14:255.255.255.0:192.0.2.255".into()
            ),
        ]
    );
    let summary = finding["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("3 of 5"), "{summary}");
    assert!(summary.contains("8080"), "{summary}");

    // Negative: bind the rest, and the finding goes away.
    for missing in ["192.0.2.12", "192.0.2.13", "192.0.2.14"] {
        host.ip(&["addr", "add", &format!("{missing}/24"), "dev", "eth0"]);
    }
    let json = diag_in(
        &host,
        Some(etc.path()),
        &["check", "--format", "json", "--capture-seconds", "0"],
    );
    assert!(
        !cause_ids(&json).contains(&"addr.configured-not-bound".to_string())
            && !finding_ids(&json).contains(&"addr.configured-not-bound".to_string()),
        "{json:#}"
    );
}

/// Founding incident 002: an on-link default route, traffic to many
/// addresses a second namespace owns, gc_thresh lowered so the kernel
/// really overflows the neighbour table. The gateway typo is the top cause
/// and explains the overflow.
#[test]
fn onlink_default_route_overflows_the_neighbour_table() {
    // The neighbour table is one for all namespaces: each part runs in
    // its own scope, so its namespaces (and their entries) are gone
    // before the next part starts.
    {
        let host = Netns::new();
        let upstream = Netns::new();
        veth(&host, "eth0", &upstream, "eth0");
        host.ip(&["addr", "add", "10.200.0.1/24", "dev", "eth0"]);
        upstream.ip(&["addr", "add", "10.200.0.2/24", "dev", "eth0"]);
        // The typo: no gateway, so every destination is "on-link".
        host.ip(&["route", "add", "default", "dev", "eth0"]);
        // The other namespace answers ARP for a whole /16.
        upstream.ip(&["route", "add", "local", "10.201.0.0/16", "dev", "lo"]);

        let _thresh = GcThresh::lower([16, 32, 64]);
        // Send one datagram to each of 400 addresses: each needs a neighbour
        // entry, far more than gc_thresh3 allows.
        host.exec(&[
            "bash",
            "-c",
            "for i in $(seq 0 399); do echo x 2>/dev/null > /dev/udp/10.201.$((i / 200)).$((i % 200 + 1))/9; done; sleep 1",
        ]);

        let json = diag_in(
            &host,
            None,
            &["check", "--format", "json", "--capture-seconds", "0"],
        );
        let causes = cause_ids(&json);
        assert_eq!(
            causes.first().map(String::as_str),
            Some("route.gateway-misconfigured"),
            "{json:#}"
        );
        let cause = &json["causes"][0];
        let explains: Vec<&str> = cause["explains"]
            .as_array()
            .expect("explains")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(explains.contains(&"neigh.table-overflow"), "{cause:#}");
        assert!(explains.contains(&"neigh.offlink-entries"), "{cause:#}");
        assert!(
            cause["evidence"][0]["excerpt"]
                .as_str()
                .unwrap_or_default()
                .starts_with("default dev eth0"),
            "{cause:#}"
        );
        let offlink = item(&json, "findings", "neigh.offlink-entries").expect("offlink finding");
        assert!(
            offlink["summary"]
                .as_str()
                .unwrap_or_default()
                .contains("resolved to the same MAC"),
            "{offlink:#}"
        );
    }

    {
        // Variant: the gateway typed as the host's own address. The kernel
        // accepts it and resolves every destination on-link, as in the
        // incident.
        let own = Netns::new();
        let peer = Netns::new();
        veth(&own, "eth0", &peer, "eth0");
        own.ip(&["addr", "add", "10.200.0.1/24", "dev", "eth0"]);
        peer.ip(&["addr", "add", "10.200.0.2/24", "dev", "eth0"]);
        own.ip(&["route", "add", "default", "via", "10.200.0.1"]);
        peer.ip(&["route", "add", "local", "10.201.0.0/16", "dev", "lo"]);
        own.exec(&[
            "bash",
            "-c",
            "for i in $(seq 0 99); do echo x 2>/dev/null > /dev/udp/10.201.1.$((i + 1))/9; done; sleep 1",
        ]);
        let json = diag_in(
            &own,
            None,
            &["check", "--format", "json", "--capture-seconds", "0"],
        );
        assert_eq!(
            cause_ids(&json).first().map(String::as_str),
            Some("route.gateway-misconfigured"),
            "{json:#}"
        );
        assert!(
            json["causes"][0]["summary"]
                .as_str()
                .unwrap_or_default()
                .contains("this host's own address 10.200.0.1"),
            "{json:#}"
        );
        assert!(finding_ids(&json).contains(&"neigh.offlink-entries".to_string()));
    }

    // Negative: the same traffic through a real gateway resolves one
    // neighbour; no gateway typo, no off-link entries.
    let fixed = Netns::new();
    let gateway = Netns::new();
    veth(&fixed, "eth0", &gateway, "eth0");
    fixed.ip(&["addr", "add", "10.200.0.1/24", "dev", "eth0"]);
    gateway.ip(&["addr", "add", "10.200.0.2/24", "dev", "eth0"]);
    fixed.ip(&["route", "add", "default", "via", "10.200.0.2"]);
    gateway.ip(&["route", "add", "local", "10.201.0.0/16", "dev", "lo"]);
    fixed.exec(&[
        "bash",
        "-c",
        "for i in $(seq 0 99); do echo x 2>/dev/null > /dev/udp/10.201.0.$((i + 1))/9; done; sleep 1",
    ]);
    let json = diag_in(
        &fixed,
        None,
        &["check", "--format", "json", "--capture-seconds", "0"],
    );
    assert!(
        !cause_ids(&json).contains(&"route.gateway-misconfigured".to_string()),
        "{json:#}"
    );
    assert!(
        !finding_ids(&json).contains(&"neigh.offlink-entries".to_string()),
        "{json:#}"
    );
    // The overflow lines of the first half are still in the machine's
    // kernel log: the gateway hypothesis was checked against this host's
    // routes and rejected.
    if finding_ids(&json).contains(&"neigh.table-overflow".to_string()) {
        assert!(
            common::ids(&json["ruled_out"]).contains(&"route.gateway-misconfigured".to_string()),
            "{json:#}"
        );
    }
}

// ---- live capture ----------------------------------------------------------

/// Traffic from `tests/traffic/gen.py` running in a namespace; killed and
/// reaped on drop if still running.
fn traffic(ns: &Netns, args: &[&str]) -> netns::Killed {
    let script = common::workspace().join("tests/traffic/gen.py");
    let script = script.to_str().expect("UTF-8 path");
    let mut all = vec!["python3", script];
    all.extend_from_slice(args);
    let child = ns.spawn(&all);
    // Let it start sending before diag's capture window opens.
    std::thread::sleep(std::time::Duration::from_millis(300));
    child
}

const CAPTURE_IDS: [&str; 6] = [
    "capture.arp-offlink-targets",
    "capture.handshakes-unanswered",
    "capture.dns-unanswered",
    "capture.port-scan",
    "capture.ip-conflict",
    "net.syn-flood",
];

fn reported(json: &serde_json::Value) -> Vec<String> {
    let mut ids = cause_ids(json);
    ids.extend(finding_ids(json));
    ids
}

/// `diag check` captures by default: in a namespace pair joined by a veth,
/// normal traffic (collected, stored, analysed) reports none of the capture
/// findings; ARP for off-link targets, a spoofed SYN flood and DNS queries
/// nobody answers each report theirs.
#[test]
fn live_capture_tells_normal_traffic_typo_flood_and_dead_resolver_apart() {
    // Its off-link phase fills neighbour tables too.
    let _neigh = neigh_lock();
    let host = Netns::new();
    let peer = Netns::new();
    veth(&host, "eth0", &peer, "eth0");
    host.ip(&["addr", "add", "10.210.0.1/24", "dev", "eth0"]);
    peer.ip(&["addr", "add", "10.210.0.2/24", "dev", "eth0"]);

    // Normal: connections to a server that accepts them.
    {
        let _server = traffic(&peer, &["serve", "8080", "6"]);
        let _client = traffic(&host, &["connect", "10.210.0.2", "8080", "5"]);
        let dir = tempfile::tempdir().expect("tempdir");
        let bundle = dir.path().join("bundle");
        let bin = env!("CARGO_BIN_EXE_diag");
        let out = host.exec(&[bin, "collect", "-o", bundle.to_str().expect("utf8")]);
        assert!(out.status.success());
        let pcap = std::fs::read(bundle.join("capture/eth0.pcap")).expect("capture stored");
        let (summary, notes) = diag_core::parse::pcap::analyse("capture/eth0.pcap", &pcap);
        assert!(notes.is_empty(), "{notes:?}");
        assert!(summary.tcp.synack >= 10, "{:?}", summary.tcp);
        let stats = std::fs::read_to_string(bundle.join("capture/stats.json")).expect("stats");
        assert!(stats.contains("\"kernel_drops\": 0"), "{stats}");
        let json = diag_in(
            &host,
            None,
            &[
                "analyze",
                bundle.to_str().expect("utf8"),
                "--format",
                "json",
            ],
        );
        let ids = reported(&json);
        for id in CAPTURE_IDS {
            assert!(
                !ids.contains(&id.to_string()),
                "normal traffic: {id}\n{json:#}"
            );
        }
    }

    // The gateway typo: every destination is on-link, so the host ARPs
    // for remote addresses.
    host.ip(&["route", "add", "default", "dev", "eth0"]);
    {
        let _t = traffic(&host, &["offlink", "4"]);
        let json = diag_in(&host, None, &["check", "--format", "json"]);
        let ids = reported(&json);
        assert!(
            ids.contains(&"capture.arp-offlink-targets".to_string()),
            "{json:#}"
        );
        assert_eq!(
            cause_ids(&json).first().map(String::as_str),
            Some("route.gateway-misconfigured"),
            "{json:#}"
        );
        assert!(!ids.contains(&"net.syn-flood".to_string()), "{json:#}");
    }
    host.ip(&["route", "del", "default", "dev", "eth0"]);

    // A SYN flood from spoofed sources to a port nobody listens on.
    {
        let _t = traffic(&peer, &["synflood", "10.210.0.1", "80", "4"]);
        let json = diag_in(&host, None, &["check", "--format", "json"]);
        assert!(
            cause_ids(&json).contains(&"net.syn-flood".to_string()),
            "{json:#}"
        );
    }

    // DNS queries to an address where nothing listens on port 53.
    {
        let _t = traffic(&host, &["dns", "10.210.0.2", "5"]);
        let json = diag_in(
            &host,
            None,
            &["check", "--format", "json", "--capture-seconds", "3"],
        );
        assert!(
            reported(&json).contains(&"capture.dns-unanswered".to_string()),
            "{json:#}"
        );
    }
}

/// `net/link.json`, which diag writes from its own parse of the kernel's
/// `RTM_NEWLINK` messages, says what `ip -j -s -d link` says of the same
/// links: a veth with a changed MTU and a MAC, a VXLAN on it, a bridge
/// with a port whose peer is left down on purpose, with traffic counted.
#[test]
fn link_dump_agrees_with_ip_link() {
    let host = Netns::new();
    let peer = Netns::new();
    veth(&host, "eth0", &peer, "eth0");
    host.ip(&[
        "link",
        "set",
        "eth0",
        "mtu",
        "1400",
        "address",
        "02:00:5e:10:00:01",
    ]);
    host.ip(&["addr", "add", "10.211.0.1/24", "dev", "eth0"]);
    peer.ip(&["addr", "add", "10.211.0.2/24", "dev", "eth0"]);
    // (This kernel has no VLAN or dummy driver: a VXLAN on eth0, and a
    // veth pair inside the namespace.)
    host.ip(&[
        "link", "add", "link", "eth0", "name", "vx0", "type", "vxlan", "id", "10", "dstport",
        "4789",
    ]);
    host.ip(&["link", "add", "br0", "type", "bridge"]);
    host.ip(&["link", "add", "a0", "type", "veth", "peer", "name", "a1"]);
    host.ip(&["link", "set", "a1", "master", "br0"]);
    for up in ["vx0", "br0", "a1"] {
        host.ip(&["link", "set", up, "up"]);
    }
    // Traffic on eth0 (a TCP connection refused by the peer's kernel).
    host.exec(&[
        "python3",
        "-c",
        "import socket\nfor _ in range(3):\n    try: socket.create_connection(('10.211.0.2', 9), 2)\n    except OSError: pass",
    ]);

    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("bundle");
    let bin = env!("CARGO_BIN_EXE_diag");
    let out = host.exec(&[
        bin,
        "collect",
        "-o",
        bundle.to_str().expect("utf8"),
        "--capture-seconds",
        "0",
    ]);
    assert!(out.status.success());
    let ours: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(bundle.join("net/link.json")).expect("link.json"))
            .expect("JSON");
    let theirs: Vec<serde_json::Value> =
        serde_json::from_slice(&host.ip(&["-j", "-s", "-d", "link"]).stdout).expect("ip -j");
    assert_eq!(ours.len(), theirs.len(), "{ours:?}");
    for want in &theirs {
        let name = want["ifname"].as_str().expect("ifname");
        let got = ours
            .iter()
            .find(|l| l["ifname"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {ours:?}"));
        for key in [
            "ifindex",
            "mtu",
            "operstate",
            "address",
            "master",
            "link_type",
        ] {
            assert_eq!(got[key], want[key], "{name} {key}");
        }
        assert_eq!(
            got["linkinfo"]["info_kind"], want["linkinfo"]["info_kind"],
            "{name} kind"
        );
        // `ip` names the lower device of a link in this namespace (a
        // veth's peer is in another: an index there).
        if want["link"].is_string() {
            assert_eq!(got["link"], want["link"], "{name} link");
        }
        let flags = |v: &serde_json::Value| -> Vec<String> {
            let mut f: Vec<String> = v["flags"]
                .as_array()
                .expect("flags")
                .iter()
                .filter_map(|f| f.as_str().map(String::from))
                .collect();
            f.sort();
            f
        };
        assert_eq!(flags(got), flags(want), "{name} flags");
        for dir in ["rx", "tx"] {
            for counter in ["packets", "bytes", "errors", "dropped"] {
                let (g, w) = (
                    got["stats64"][dir][counter].as_u64().expect("ours"),
                    want["stats64"][dir][counter].as_u64().expect("ip's"),
                );
                // diag read them a moment before `ip` (stray IPv6
                // neighbour discovery may pass between): never more, at
                // most a few packets fewer.
                let slack = if counter == "bytes" { 10 * 1500 } else { 10 };
                assert!(
                    g <= w && w - g <= slack,
                    "{name} {dir} {counter}: {g} vs {w}"
                );
            }
        }
    }
    let vxlan = ours.iter().find(|l| l["ifname"] == "vx0").expect("vxlan");
    assert_eq!(vxlan["linkinfo"]["info_kind"], "vxlan");
    let port = ours.iter().find(|l| l["ifname"] == "a1").expect("port");
    assert_eq!(
        (&port["master"], &port["link"]),
        (&"br0".into(), &"a0".into())
    );
    let eth0 = ours.iter().find(|l| l["ifname"] == "eth0").expect("eth0");
    assert!(eth0["stats64"]["tx"]["packets"].as_u64().expect("tx") >= 3);
}
