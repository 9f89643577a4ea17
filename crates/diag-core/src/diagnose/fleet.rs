//! Many hosts' diagnoses at once (`diag fleet`): which causes and findings
//! affect which hosts, most widespread first, and which hosts differ from
//! the peers of their subnet. A pure function over what it reads of saved
//! diagnoses ([`Saved`]); reading the files is the binary's, rendering is
//! `report::fleet`'s (`docs/fleet.md`).
//!
//! A `diag/1` document carries no route table, so the subnet of a host is
//! the /24 (IPv4) or /64 (IPv6) of the lowest global address bound on it
//! (`targets.bound`, which has no prefix length either); a host without
//! one is compared with the other such hosts. A host is an outlier when,
//! with at least [`MIN_PEERS`] peers in its group, it has a cause or
//! finding that none of them has, or lacks one that every one of them has.
//! The gateway typo of the http6 incident shows as the one host of its
//! subnet with `route.gateway-misconfigured`.
//!
//! Configuration is compared too, not only diagnoses: the main table's
//! IPv4 default gateway of each host (read from a report's
//! `report.tables.default_routes`, as `diag report --format json` and the
//! collect playbook write it, or from the facts of a bundle analysed in
//! place). A host whose gateway differs from the one a strict majority of
//! its group's other hosts use, with at least [`MIN_PEERS`] of them
//! agreeing, is an outlier even when no rule fired on it: a typo that
//! still happens to route (another router of the subnet answers) is
//! still a typo.

use crate::model::Severity;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Peers a host needs in its group before it can be called an outlier.
pub const MIN_PEERS: usize = 2;

/// A saved diagnosis and where it was read.
#[derive(Debug, Clone)]
pub struct HostDiagnosis {
    /// The file it was read from (shown when the host name is unknown).
    pub origin: String,
    /// What the fleet view reads of the diagnosis.
    pub diagnosis: Saved,
}

/// What the fleet view reads of a saved `diag/1` document: its schema,
/// time, host, the ids, severities and titles of its causes and findings,
/// and its bound addresses; every other field is skipped unread. Parsing
/// the whole [`crate::diagnose::diagnosis::Diagnosis`] instead cost ~0.1 MB of binary
/// (its every type's deserialiser) for fields the view never uses.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Saved {
    /// `diag/1`.
    pub schema: String,
    /// When the diagnosis was made (RFC 3339).
    #[serde(default)]
    pub generated_at: String,
    /// Where it was read.
    #[serde(default)]
    pub source: SavedSource,
    /// Causes.
    #[serde(default)]
    pub causes: Vec<SavedItem>,
    /// Findings.
    #[serde(default)]
    pub findings: Vec<SavedItem>,
    /// Addresses bound and expected (`targets` of `diag/1`).
    #[serde(default)]
    pub targets: Option<SavedTargets>,
    /// The report's tables, when the document is a report
    /// (`diag report --format json`) or the host was analysed in place.
    #[serde(default)]
    pub report: Option<SavedReport>,
}

/// What the fleet view reads of a report's context: its tables.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SavedReport {
    /// The facts tables.
    #[serde(default)]
    pub tables: SavedTables,
}

/// What the fleet view reads of a report's tables.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SavedTables {
    /// Default routes of every table.
    #[serde(default)]
    pub default_routes: Vec<SavedRoute>,
}

/// A default route of a saved report.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SavedRoute {
    /// `inet` or `inet6`.
    #[serde(default)]
    pub family: String,
    /// Routing table.
    #[serde(default)]
    pub table: String,
    /// Gateway, empty for an on-link route.
    #[serde(default)]
    pub gateway: String,
    /// Metric.
    #[serde(default)]
    pub metric: u64,
}

/// The source of a saved diagnosis.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SavedSource {
    /// Host name, when known.
    #[serde(default)]
    pub host: Option<String>,
}

/// A cause or finding of a saved diagnosis.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedItem {
    /// Rule id.
    pub id: String,
    /// Its level.
    pub severity: Severity,
    /// Its title.
    #[serde(default)]
    pub title: String,
}

/// The bound addresses of a saved diagnosis.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SavedTargets {
    /// Global addresses bound to interfaces.
    #[serde(default)]
    pub bound: Vec<SavedBound>,
}

/// One bound address.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedBound {
    /// The address.
    pub address: IpAddr,
}

impl From<&crate::diagnose::diagnosis::Diagnosis> for Saved {
    /// What the fleet view uses of a diagnosis made now (a bundle or a
    /// sosreport analysed by `diag fleet`).
    fn from(d: &crate::diagnose::diagnosis::Diagnosis) -> Saved {
        let item = |id: &str, severity: Severity, title: &str| SavedItem {
            id: id.to_string(),
            severity,
            title: title.to_string(),
        };
        Saved {
            schema: d.schema.clone(),
            generated_at: d.generated_at.clone(),
            source: SavedSource {
                host: d.source.host.clone(),
            },
            causes: d
                .causes
                .iter()
                .map(|c| item(&c.id, c.severity, &c.title))
                .collect(),
            findings: d
                .findings
                .iter()
                .map(|f| item(&f.id, f.severity, &f.title))
                .collect(),
            targets: d.targets.as_ref().map(|t| SavedTargets {
                bound: t
                    .bound
                    .iter()
                    .map(|b| SavedBound { address: b.address })
                    .collect(),
            }),
            report: None,
        }
    }
}

impl Saved {
    /// A diagnosis made now, with the default routes of the facts it was
    /// made from (a bundle or sosreport analysed in place).
    pub fn of_analysis(
        diagnosis: &crate::diagnose::diagnosis::Diagnosis,
        routes: &[crate::facts::netview::DefaultRoute],
    ) -> Saved {
        let mut saved = Saved::from(diagnosis);
        saved.report = Some(SavedReport {
            tables: SavedTables {
                default_routes: routes
                    .iter()
                    .map(|r| SavedRoute {
                        family: r.family.clone(),
                        table: r.table.clone(),
                        gateway: r.gateway.clone(),
                        metric: r.metric,
                    })
                    .collect(),
            },
        });
        saved
    }

    /// The gateway of the main table's IPv4 default route with the lowest
    /// metric, `on-link` for a route with none (every destination is
    /// ARPed for: the http6 typo), when the document has the routes.
    pub fn default_gateway(&self) -> Option<&str> {
        self.report
            .as_ref()?
            .tables
            .default_routes
            .iter()
            .filter(|r| r.family == "inet" && r.table == "main")
            .min_by_key(|r| r.metric)
            .map(|r| {
                if r.gateway.is_empty() {
                    "on-link"
                } else {
                    r.gateway.as_str()
                }
            })
    }

    /// The most severe level among causes and findings, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.causes
            .iter()
            .chain(&self.findings)
            .map(|i| i.severity)
            .max()
    }
}

/// An input that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetSkip {
    /// The file.
    pub path: String,
    /// Why it was skipped.
    pub reason: String,
}

/// One cause or finding, and the hosts that have it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    /// Rule id.
    pub id: String,
    /// `cause` or `finding`.
    pub kind: &'static str,
    /// The most severe level seen on any host.
    pub severity: Severity,
    /// Title (the first host's).
    pub title: String,
    /// Host names, sorted.
    pub hosts: Vec<String>,
}

/// A host that differs from the peers of its subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outlier {
    /// Host name.
    pub host: String,
    /// Its group: a subnet (`192.0.2.0/24`) or `no global address`.
    pub group: String,
    /// How many other hosts are in the group.
    pub peers: usize,
    /// Ids this host has and none of its peers has.
    pub only_here: Vec<String>,
    /// Ids every peer has and this host lacks.
    pub missing_here: Vec<String>,
    /// Its default gateway, when it differs from its peers'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayDifference>,
}

/// A default gateway that differs from the one the group's other hosts
/// use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayDifference {
    /// This host's (main table, IPv4, lowest metric; `on-link` when the
    /// route has none).
    pub here: String,
    /// The one most of its peers use.
    pub peers: String,
    /// Peers using it.
    pub peers_agreeing: usize,
    /// Peers whose gateway is known.
    pub peers_known: usize,
}

/// The fleet view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fleet {
    /// Hosts read (after keeping the newest diagnosis of each host).
    pub hosts: Vec<String>,
    /// Hosts with nothing above info.
    pub healthy: usize,
    /// Causes and findings, most hosts first.
    pub spread: Vec<Spread>,
    /// Hosts that differ from their subnet's peers.
    pub outliers: Vec<Outlier>,
    /// Diagnoses read twice for one host: the older ones, not counted.
    pub superseded: usize,
    /// Inputs skipped.
    pub skipped: Vec<FleetSkip>,
    /// The most severe level on any host.
    pub worst: Option<Severity>,
}

impl Fleet {
    /// 2 when a host has a critical cause or finding, 1 for a warning,
    /// else 0 (`diag check`'s codes).
    pub fn exit_code(&self) -> i32 {
        match self.worst {
            Some(Severity::Critical) => 2,
            Some(Severity::Warning) => 1,
            _ => 0,
        }
    }
}

/// The name a diagnosis is shown under: its host name, else its file.
fn name_of(h: &HostDiagnosis) -> String {
    match h.diagnosis.source.host.as_deref() {
        Some(host) if !host.is_empty() => host.to_string(),
        _ => h.origin.clone(),
    }
}

/// The group of a host: the /24 or /64 of its lowest bound address.
fn group_of(d: &Saved) -> String {
    let lowest = d
        .targets
        .as_ref()
        .and_then(|t| t.bound.iter().map(|b| b.address).min());
    match lowest {
        Some(IpAddr::V4(a)) => {
            let o = a.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        Some(IpAddr::V6(a)) => {
            let s = a.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
        None => "no global address".to_string(),
    }
}

/// Cause and finding ids above info of a diagnosis.
fn ids_of(d: &Saved) -> BTreeSet<String> {
    d.causes
        .iter()
        .filter(|c| c.severity > Severity::Info)
        .map(|c| c.id.clone())
        .chain(
            d.findings
                .iter()
                .filter(|f| f.severity > Severity::Info)
                .map(|f| f.id.clone()),
        )
        .collect()
}

/// Summarises `inputs` (any order) into the fleet view; `skipped` is
/// carried through.
pub fn summarise(inputs: Vec<HostDiagnosis>, skipped: Vec<FleetSkip>) -> Fleet {
    // The newest diagnosis of each host (RFC 3339 times sort as text).
    let mut by_host: BTreeMap<String, HostDiagnosis> = BTreeMap::new();
    let mut superseded = 0;
    for h in inputs {
        let name = name_of(&h);
        match by_host.get(&name) {
            Some(old) if old.diagnosis.generated_at >= h.diagnosis.generated_at => {
                superseded += 1;
            }
            Some(_) => {
                superseded += 1;
                by_host.insert(name, h);
            }
            None => {
                by_host.insert(name, h);
            }
        }
    }

    let mut spread: BTreeMap<(&'static str, String), Spread> = BTreeMap::new();
    let mut worst: Option<Severity> = None;
    let mut healthy = 0;
    let mut ids: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut gateways: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, h) in &by_host {
        let d = &h.diagnosis;
        let host_worst = d.worst().filter(|s| *s > Severity::Info);
        if host_worst.is_none() {
            healthy += 1;
        }
        worst = worst.max(host_worst);
        let items = d
            .causes
            .iter()
            .map(|c| ("cause", &c.id, c.severity, &c.title))
            .chain(
                d.findings
                    .iter()
                    .map(|f| ("finding", &f.id, f.severity, &f.title)),
            );
        for (kind, id, severity, title) in items {
            let entry = spread.entry((kind, id.clone())).or_insert_with(|| Spread {
                id: id.clone(),
                kind,
                severity,
                title: title.clone(),
                hosts: Vec::new(),
            });
            entry.severity = entry.severity.max(severity);
            if entry.hosts.last() != Some(name) {
                entry.hosts.push(name.clone());
            }
        }
        ids.insert(name, ids_of(d));
        groups.entry(group_of(d)).or_default().push(name);
        if let Some(gateway) = d.default_gateway() {
            gateways.insert(name, gateway);
        }
    }

    let mut spread: Vec<Spread> = spread.into_values().collect();
    // Most hosts first, then the most severe, causes before findings, id.
    crate::sort::sort_by(&mut spread, |a, b| {
        b.hosts
            .len()
            .cmp(&a.hosts.len())
            .then(b.severity.cmp(&a.severity))
            .then(a.kind.cmp(b.kind))
            .then(a.id.cmp(&b.id))
    });

    let empty = BTreeSet::new();
    let mut outliers = Vec::new();
    for (group, members) in &groups {
        let peers = members.len().saturating_sub(1);
        if peers < MIN_PEERS {
            continue;
        }
        for host in members {
            let own = ids.get(host).unwrap_or(&empty);
            let others: Vec<&BTreeSet<String>> = members
                .iter()
                .filter(|m| *m != host)
                .map(|m| ids.get(m).unwrap_or(&empty))
                .collect();
            let only_here: Vec<String> = own
                .iter()
                .filter(|id| others.iter().all(|o| !o.contains(*id)))
                .cloned()
                .collect();
            let missing_here: Vec<String> = others
                .first()
                .map(|first| {
                    first
                        .iter()
                        .filter(|id| !own.contains(*id) && others.iter().all(|o| o.contains(*id)))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let gateway = gateway_difference(host, members, &gateways);
            if !only_here.is_empty() || !missing_here.is_empty() || gateway.is_some() {
                outliers.push(Outlier {
                    host: (*host).to_string(),
                    group: group.clone(),
                    peers,
                    only_here,
                    missing_here,
                    gateway,
                });
            }
        }
    }

    Fleet {
        hosts: by_host.into_keys().collect(),
        healthy,
        spread,
        outliers,
        superseded,
        skipped,
        worst,
    }
}

/// `host`'s default gateway when it differs from the one a strict
/// majority of the other `members` with a known gateway use (at least
/// [`MIN_PEERS`] of them) and fewer than [`MIN_PEERS`] hosts of the group
/// use it (two routers shared half and half make no outlier).
fn gateway_difference(
    host: &str,
    members: &[&str],
    gateways: &BTreeMap<&str, &str>,
) -> Option<GatewayDifference> {
    let here = *gateways.get(host)?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in members {
        if let Some(g) = gateways.get(m) {
            *counts.entry(g).or_default() += 1;
        }
    }
    let same = counts.remove(here).unwrap_or(0);
    let known = counts.values().sum::<usize>() + same - 1;
    let (common, agreeing) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    (same < MIN_PEERS && agreeing >= MIN_PEERS && agreeing * 2 > known).then(|| GatewayDifference {
        here: here.to_string(),
        peers: common.to_string(),
        peers_agreeing: agreeing,
        peers_known: known,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn host(name: &str, address: &str, ids: &[&str], at: &str) -> HostDiagnosis {
        let causes: Vec<_> = ids
            .iter()
            .map(|id| {
                json!({"id": id, "title": format!("title of {id}"), "severity": "critical",
                       "confidence": 0.5, "summary": "s", "explains": [], "evidence": [], "next_steps": []})
            })
            .collect();
        let diagnosis = serde_json::from_value(json!({
            "schema": "diag/1", "generated_at": at,
            "source": {"kind": "bundle", "path": "/x", "host": name},
            "causes": causes, "findings": [], "ruled_out": [], "skipped": [], "notes": [],
            "targets": {"expected": [], "listening": [],
                        "bound": [{"address": address, "interface": "eth0", "input": "ip/addr", "line": 1}]}
        }))
        .expect("diagnosis");
        HostDiagnosis {
            origin: format!("{name}.json"),
            diagnosis,
        }
    }

    #[test]
    fn most_widespread_first_and_the_gateway_typo_is_the_outlier() {
        let t = "2026-12-06T07:00:00Z";
        let fleet = summarise(
            vec![
                host("web1", "192.0.2.11", &["kmsg.oom"], t),
                host("web2", "192.0.2.12", &["kmsg.oom"], t),
                host("web3", "192.0.2.13", &[], t),
                host(
                    "http6",
                    "192.0.2.16",
                    &["kmsg.oom", "route.gateway-misconfigured"],
                    t,
                ),
                host("db1", "198.51.100.5", &["kmsg.oom"], t),
                // An older diagnosis of web3: superseded.
                host("web3", "192.0.2.13", &["disk.full"], "2026-12-05T07:00:00Z"),
            ],
            vec![],
        );
        assert_eq!(fleet.hosts.len(), 5);
        assert_eq!(fleet.superseded, 1);
        assert_eq!(fleet.healthy, 1);
        assert_eq!(fleet.spread[0].id, "kmsg.oom");
        assert_eq!(fleet.spread[0].hosts.len(), 4);
        assert_eq!(fleet.spread[1].id, "route.gateway-misconfigured");
        assert_eq!(fleet.spread[1].hosts, ["http6"]);
        assert!(fleet.spread.iter().all(|s| s.id != "disk.full"));
        let http6 = fleet
            .outliers
            .iter()
            .find(|o| o.host == "http6")
            .expect("http6 is an outlier");
        assert_eq!(http6.group, "192.0.2.0/24");
        assert_eq!(http6.peers, 3);
        assert_eq!(http6.only_here, ["route.gateway-misconfigured"]);
        // db1 is alone in its subnet: never an outlier.
        assert!(fleet.outliers.iter().all(|o| o.host != "db1"));
        assert_eq!(fleet.exit_code(), 2);
    }

    fn with_gateway(mut h: HostDiagnosis, gateway: &str) -> HostDiagnosis {
        h.diagnosis.report = serde_json::from_value(json!({"tables": {"default_routes": [
            {"family": "inet6", "table": "main", "gateway": "fe80::1", "dev": "eth0", "metric": 1},
            {"family": "inet", "table": "mgmt", "gateway": "10.9.9.9", "dev": "eth1", "metric": 0},
            {"family": "inet", "table": "main", "gateway": gateway, "dev": "eth0", "metric": 100},
            {"family": "inet", "table": "main", "gateway": "192.0.2.99", "dev": "ppp0", "metric": 200}
        ]}}))
        .expect("report");
        h
    }

    #[test]
    fn a_gateway_unlike_the_peers_is_an_outlier_with_no_finding_at_all() {
        let t = "2026-12-06T07:00:00Z";
        let fleet = summarise(
            vec![
                with_gateway(host("web1", "192.0.2.11", &[], t), "192.0.2.1"),
                with_gateway(host("web2", "192.0.2.12", &[], t), "192.0.2.1"),
                with_gateway(host("web3", "192.0.2.13", &[], t), "192.0.2.1"),
                // No table: compared with nobody, and not counted.
                host("web4", "192.0.2.14", &[], t),
                with_gateway(host("http6", "192.0.2.16", &[], t), "192.0.2.254"),
            ],
            vec![],
        );
        assert_eq!(fleet.healthy, 5);
        assert_eq!(fleet.outliers.len(), 1, "{:?}", fleet.outliers);
        let o = &fleet.outliers[0];
        assert_eq!(o.host, "http6");
        assert!(o.only_here.is_empty() && o.missing_here.is_empty());
        assert_eq!(
            o.gateway,
            Some(GatewayDifference {
                here: "192.0.2.254".into(),
                peers: "192.0.2.1".into(),
                peers_agreeing: 3,
                peers_known: 3,
            })
        );
    }

    #[test]
    fn no_gateway_outlier_without_a_majority_of_peers_agreeing() {
        let t = "2026-12-06T07:00:00Z";
        // Two routers used half and half: nobody is the odd one out.
        let fleet = summarise(
            vec![
                with_gateway(host("a", "192.0.2.11", &[], t), "192.0.2.1"),
                with_gateway(host("b", "192.0.2.12", &[], t), "192.0.2.1"),
                with_gateway(host("c", "192.0.2.13", &[], t), "192.0.2.2"),
                with_gateway(host("d", "192.0.2.14", &[], t), "192.0.2.2"),
            ],
            vec![],
        );
        assert!(fleet.outliers.is_empty(), "{:?}", fleet.outliers);
        // One peer agreeing is not enough (MIN_PEERS).
        let fleet = summarise(
            vec![
                with_gateway(host("a", "192.0.2.11", &[], t), "192.0.2.1"),
                with_gateway(host("b", "192.0.2.12", &[], t), "192.0.2.9"),
                host("c", "192.0.2.13", &[], t),
            ],
            vec![],
        );
        assert!(fleet.outliers.is_empty(), "{:?}", fleet.outliers);
    }
}
