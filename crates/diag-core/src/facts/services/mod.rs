//! Services: why a service does not run, and whether its user can reach
//! the paths it needs.
//!
//! Inputs (listed in `source::inputs::INPUTS`): systemd's own output for failed and
//! restart-looping units ([`systemd`]), the web servers' error logs
//! ([`errorlog`]) and configuration ([`webconf`]), `etc/passwd` and
//! `etc/group`, pid files (the SysV/OpenRC fallback: a pid file whose
//! process is gone is a service that died), and `services/paths.json`,
//! the stat records of every path the configuration and the logs name
//! ([`perms`]). [`fill`] joins them into [`ServiceFacts`]: each permission
//! denial a log names is checked component by component against the
//! service's user, and the component that stops it is looked up in the
//! baseline's changes (`facts.baseline`), so a rule can say "this changed
//! since the baseline, and that is why the service fails".

pub mod perms;

use super::Facts;
use crate::model::Note;
use crate::parse::services::errorlog::{self, LogEvent};
use crate::parse::services::perms::{Access, Accounts};
use crate::parse::services::webconf::WebServer;
use crate::parse::services::{systemd, webconf};
use crate::source::inputs::{ERROR_LOGS, SERVERS};
use crate::source::snapshot::Snapshot;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Events kept per log (the newest).
pub const MAX_EVENTS: usize = 200;

/// A failed or restart-looping systemd unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// Unit name (`apache2.service`).
    pub name: String,
    /// The service's short name (`apache2`).
    pub service: String,
    /// `ActiveState`.
    pub active: String,
    /// `SubState`.
    pub sub: String,
    /// `Result` (`exit-code`, `signal`, `start-limit-hit`, ...).
    pub result: String,
    /// `ExecMainStatus`: the exit status or signal number.
    pub exit_status: String,
    /// `NRestarts`.
    pub restarts: u64,
    /// `User=` of the unit, empty when it runs as root or is unknown.
    pub user: String,
    /// Whether the unit failed.
    pub failed: bool,
    /// Whether the unit is restart-looping.
    pub restart_loop: bool,
    /// The newest journal lines of the unit.
    pub last_lines: Vec<String>,
    /// Canonical input.
    pub input: String,
    /// Line.
    pub line: u32,
    /// The unit in one line.
    pub excerpt: String,
}

/// A pid file whose process is not running (SysV/OpenRC hosts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StalePidFile {
    /// The service (the pid file's name without `.pid`).
    pub service: String,
    /// The pid it names.
    pub pid: u32,
    /// Canonical input.
    pub input: String,
    /// Line.
    pub line: u32,
    /// What was found.
    pub excerpt: String,
}

/// A path a service needs that its user cannot reach.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Denial {
    /// The service.
    pub service: String,
    /// Its user and group (`www-data:www-data`).
    pub user: String,
    /// The path the log (or configuration) names.
    pub path: String,
    /// `log` (a denial the service logged) or `config` (a configured root
    /// the user cannot reach, nothing logged yet).
    pub source: String,
    /// How many log lines named a path below the blocking component.
    pub count: u64,
    /// The component that stops the user.
    pub component: String,
    /// `traverse` or `read`.
    pub need: String,
    /// The component's owner, group and mode (`root:root 0700`).
    pub component_state: String,
    /// Whether the service's unit failed (or its pid file is stale).
    pub service_failed: bool,
    /// Whether the baseline shows this component's owner or mode changed.
    pub drifted: bool,
    /// The component's state in the baseline, empty when not drifted.
    pub was: String,
    /// Canonical input of the log line (or config line).
    pub input: String,
    /// Line.
    pub line: u32,
    /// The log line, then what blocks.
    pub excerpt: String,
}

/// A service that could not bind an address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BindFailure {
    /// The service.
    pub service: String,
    /// The address, empty for the wildcard.
    pub address: String,
    /// The port.
    pub port: u32,
    /// The system's reason.
    pub reason: String,
    /// The host's configuration expects this address (`facts.net.expected`).
    pub configured: bool,
    /// An interface carries it now.
    pub bound: bool,
    /// Whether addresses were collected at all (else `bound` is unknown).
    pub addresses_known: bool,
    /// Canonical input.
    pub input: String,
    /// Line.
    pub line: u32,
    /// The log line.
    pub excerpt: String,
}

/// Everything about services, as rule conditions see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceFacts {
    /// Whether systemd's unit list was collected.
    pub systemd_collected: bool,
    /// Whether any error log or unit journal was collected.
    pub logs_collected: bool,
    /// Failed and restart-looping units.
    pub units: Vec<Unit>,
    /// Stale pid files.
    pub stale_pid_files: Vec<StalePidFile>,
    /// Web servers' configurations.
    pub servers: Vec<WebServer>,
    /// Notable log lines (permission denials, bind failures, missing
    /// files, configuration errors).
    pub events: Vec<LogEvent>,
    /// Paths services need and cannot reach.
    pub denials: Vec<Denial>,
    /// Addresses services could not bind.
    pub bind_failures: Vec<BindFailure>,
}

impl ServiceFacts {
    /// One default element in every list (`diag rules validate`).
    pub fn schema_sample() -> Self {
        ServiceFacts {
            units: vec![Unit {
                last_lines: vec![String::new()],
                ..Unit::default()
            }],
            stale_pid_files: vec![StalePidFile::default()],
            servers: vec![WebServer {
                paths: vec![crate::parse::services::webconf::ConfiguredPath::default()],
                listen: vec![webconf::ListenAddress::default()],
                inputs: vec![String::new()],
                ..WebServer::default()
            }],
            events: vec![LogEvent::default()],
            denials: vec![Denial::default()],
            bind_failures: vec![BindFailure::default()],
            ..ServiceFacts::default()
        }
    }
}

fn names_matching<'a>(snapshot: &'a Snapshot, pattern: &str) -> Vec<&'a str> {
    let (head, tail) = pattern.split_once('*').unwrap_or((pattern, ""));
    snapshot
        .inputs
        .keys()
        .filter(|n| {
            if pattern.contains('*') {
                n.starts_with(head)
                    && n.ends_with(tail)
                    && !n[head.len()..n.len() - tail.len()].contains('/')
            } else {
                n.as_str() == pattern
            }
        })
        .map(String::as_str)
        .collect()
}

fn short_name(unit: &str) -> String {
    unit.trim_end_matches(".service").to_string()
}

/// Default users of packaged servers, used when the configuration does not
/// say and the user exists in `etc/passwd`.
fn default_user(service: &str) -> &'static [&'static str] {
    match service {
        "apache2" => &["www-data"],
        "httpd" => &["apache"],
        "nginx" => &["www-data", "nginx"],
        _ => &[],
    }
}

fn parse_servers(snapshot: &Snapshot) -> Vec<WebServer> {
    let mut servers = Vec::new();
    for (service, patterns) in SERVERS {
        let mut server = WebServer {
            service: (*service).to_string(),
            ..WebServer::default()
        };
        let mut env = HashMap::new();
        for pattern in *patterns {
            for name in names_matching(snapshot, pattern) {
                let Some(text) = snapshot.text(name) else {
                    continue;
                };
                if name.ends_with("/envvars") {
                    env = webconf::parse_envvars(&text);
                    server.inputs.push(name.to_string());
                    if server.user.is_empty() {
                        if let Some(user) = env.get("APACHE_RUN_USER") {
                            server.user = user.clone();
                            server.user_origin = format!("{name} (APACHE_RUN_USER)");
                        }
                        server.group = env.get("APACHE_RUN_GROUP").cloned().unwrap_or_default();
                    }
                } else if *service == "nginx" {
                    webconf::parse_nginx(&mut server, name, &text);
                } else {
                    webconf::parse_apache(&mut server, name, &text, &env);
                }
            }
        }
        if !server.inputs.is_empty() {
            servers.push(server);
        }
    }
    servers
}

/// Parses every service input of `snapshot` into `facts.services`. Runs
/// after the network facts and the baseline comparison, which it joins.
pub fn fill(facts: &mut Facts, snapshot: &Snapshot, notes: &mut Vec<Note>) {
    let mut out = ServiceFacts::default();
    let accounts = Accounts::parse(
        &snapshot.text("etc/passwd").unwrap_or_default(),
        &snapshot.text("etc/group").unwrap_or_default(),
        notes,
    );
    out.servers = parse_servers(snapshot);

    // systemd units.
    let mut units: BTreeMap<String, Unit> = BTreeMap::new();
    if let Some(text) = snapshot.text("systemd/list-units.json") {
        out.systemd_collected = true;
        for (row, line) in systemd::parse_list_units("systemd/list-units.json", &text, notes) {
            units.insert(
                row.unit.clone(),
                Unit {
                    name: row.unit.clone(),
                    service: short_name(&row.unit),
                    active: row.active.clone(),
                    sub: row.sub.clone(),
                    input: "systemd/list-units.json".into(),
                    line,
                    excerpt: format!(
                        "{} {} {} {} {}",
                        row.unit, row.load, row.active, row.sub, row.description
                    ),
                    ..Unit::default()
                },
            );
        }
    }
    for name in names_matching(snapshot, "systemd/show/*") {
        let unit_name = name.trim_start_matches("systemd/show/").to_string();
        let Some(text) = snapshot.text(name) else {
            continue;
        };
        let props = systemd::parse_show(name, &text, notes);
        let get = |k: &str| props.get(k).cloned().unwrap_or_default();
        let unit = units.entry(unit_name.clone()).or_insert_with(|| Unit {
            name: unit_name.clone(),
            service: short_name(&unit_name),
            input: name.to_string(),
            line: 1,
            ..Unit::default()
        });
        if !get("ActiveState").is_empty() {
            unit.active = get("ActiveState");
        }
        if !get("SubState").is_empty() {
            unit.sub = get("SubState");
        }
        unit.result = get("Result");
        unit.exit_status = get("ExecMainStatus");
        unit.restarts = get("NRestarts").parse().unwrap_or(0);
        unit.user = get("User");
        unit.excerpt = format!(
            "{}: ActiveState={} SubState={} Result={} ExecMainStatus={} NRestarts={}",
            unit_name, unit.active, unit.sub, unit.result, unit.exit_status, unit.restarts
        );
        unit.input = name.to_string();
    }
    for name in names_matching(snapshot, "systemd/journal/*") {
        let unit_name = name
            .trim_start_matches("systemd/journal/")
            .trim_end_matches(".json")
            .to_string();
        let Some(text) = snapshot.text(name) else {
            continue;
        };
        out.logs_collected = true;
        let lines = systemd::parse_journal(name, &text, notes);
        let service = short_name(&unit_name);
        let mut events: Vec<LogEvent> = lines
            .iter()
            .filter_map(|l| errorlog::parse_line(&service, name, l.line, &l.message))
            .collect();
        if events.len() > MAX_EVENTS {
            events.drain(..events.len() - MAX_EVENTS);
        }
        out.events.extend(events);
        if let Some(unit) = units.get_mut(&unit_name) {
            let start = lines.len().saturating_sub(systemd::LAST_LINES);
            unit.last_lines = lines[start..]
                .iter()
                .map(|l| format!("{}: {}", l.identifier, l.message))
                .collect();
        }
    }
    for unit in units.values_mut() {
        unit.failed = unit.active == "failed";
        unit.restart_loop = unit.sub == "auto-restart" || unit.restarts >= systemd::RESTART_LOOP;
        if !unit.last_lines.is_empty() {
            unit.excerpt = format!("{} | {}", unit.excerpt, unit.last_lines.join(" | "));
        }
    }
    out.units = units
        .into_values()
        .filter(|u| u.failed || u.restart_loop)
        .collect();

    // SysV/OpenRC: pid files whose process is gone.
    let processes_known = snapshot
        .inputs
        .keys()
        .any(|n| n.starts_with("proc/") && n.ends_with("/comm"));
    if processes_known {
        for pattern in ["run/*.pid", "run/*/*.pid"] {
            for name in names_matching_nested(snapshot, pattern) {
                let Some(text) = snapshot.text(name) else {
                    continue;
                };
                let Ok(pid) = text.trim().parse::<u32>() else {
                    notes.push(Note::line(name, 1, "pid file without a process id"));
                    continue;
                };
                if !snapshot.inputs.contains_key(&format!("proc/{pid}/comm")) {
                    let service = name
                        .rsplit('/')
                        .next()
                        .unwrap_or("")
                        .trim_end_matches(".pid")
                        .to_string();
                    out.stale_pid_files.push(StalePidFile {
                        excerpt: format!("{name}: pid {pid}, no such process"),
                        service,
                        pid,
                        input: name.to_string(),
                        line: 1,
                    });
                }
            }
        }
    }

    // Error logs.
    for pattern in ERROR_LOGS {
        for name in names_matching(snapshot, pattern) {
            if name.ends_with(".gz") {
                continue;
            }
            let Some(text) = snapshot.text(name) else {
                continue;
            };
            out.logs_collected = true;
            let (mut events, more) =
                errorlog::parse_error_log(errorlog::service_of_log(name), name, &text);
            notes.extend(more);
            if events.len() > MAX_EVENTS {
                events.drain(..events.len() - MAX_EVENTS);
            }
            out.events.extend(events);
        }
    }

    check_denials(&mut out, facts, snapshot, &accounts, notes);
    check_binds(&mut out, facts);
    facts.services = out;
}

/// `run/*/*.pid` has two `*`s; [`names_matching`] takes one.
fn names_matching_nested<'a>(snapshot: &'a Snapshot, pattern: &str) -> Vec<&'a str> {
    if pattern == "run/*/*.pid" {
        snapshot
            .inputs
            .keys()
            .filter(|n| n.starts_with("run/") && n.ends_with(".pid") && n.matches('/').count() == 2)
            .map(String::as_str)
            .collect()
    } else {
        names_matching(snapshot, pattern)
    }
}

fn service_user(
    out: &ServiceFacts,
    accounts: &Accounts,
    service: &str,
) -> Option<(String, String)> {
    let unit_user = out
        .units
        .iter()
        .find(|u| u.service == service && !u.user.is_empty())
        .map(|u| (u.user.clone(), String::new()));
    let server_user = out
        .servers
        .iter()
        .find(|s| s.service == service && !s.user.is_empty())
        .map(|s| (s.user.clone(), s.group.clone()));
    unit_user.or(server_user).or_else(|| {
        default_user(service)
            .iter()
            .find(|u| accounts.account(u, "").is_some())
            .map(|u| ((*u).to_string(), String::new()))
    })
}

fn check_denials(
    out: &mut ServiceFacts,
    facts: &Facts,
    snapshot: &Snapshot,
    accounts: &Accounts,
    notes: &mut Vec<Note>,
) {
    let mut stats: HashMap<String, crate::parse::services::perms::PathRecord> = HashMap::new();
    for (record, _) in perms::snapshot_paths(snapshot, notes) {
        stats.insert(record.path.clone(), record);
    }
    let failed = |service: &str| {
        out.units.iter().any(|u| u.service == service && u.failed)
            || out.stale_pid_files.iter().any(|p| p.service == service)
    };
    let mut denials: Vec<Denial> = Vec::new();
    let mut candidates: Vec<(String, String, String, u32, String)> = out
        .events
        .iter()
        .filter(|e| e.kind == "permission-denied" && !e.path.is_empty())
        .map(|e| {
            (
                e.service.clone(),
                e.path.clone(),
                e.input.clone(),
                e.line,
                e.excerpt.clone(),
            )
        })
        .collect();
    let log_count = candidates.len();
    for server in &out.servers {
        for path in &server.paths {
            candidates.push((
                server.service.clone(),
                path.path.clone(),
                path.input.clone(),
                path.line,
                path.excerpt.clone(),
            ));
        }
    }
    for (i, (service, path, input, line, excerpt)) in candidates.into_iter().enumerate() {
        let source = if i < log_count { "log" } else { "config" };
        let Some((user, group)) = service_user(out, accounts, &service) else {
            continue;
        };
        let Some(account) = accounts.account(&user, &group) else {
            continue;
        };
        let Access::Blocked { component, need } =
            crate::parse::services::perms::check_access(&account, &path, &stats)
        else {
            continue;
        };
        if let Some(existing) = denials
            .iter_mut()
            .find(|d| d.service == service && d.component == component.path)
        {
            if source == "log" {
                existing.count += 1;
                // Keep the newest log line as the evidence.
                if existing.source == "log" {
                    existing.input = input;
                    existing.line = line;
                    existing.path = path;
                }
            }
            continue;
        }
        let state = format!(
            "{}:{} {}",
            accounts.user_name(component.uid),
            accounts.group_name(component.gid),
            component.mode
        );
        let change = facts
            .baseline
            .changes
            .iter()
            .find(|c| c.kind == "permission" && c.subject == component.path);
        let user_label = format!("{}:{}", account.name, accounts.group_name(account.gid));
        denials.push(Denial {
            service: service.clone(),
            user: user_label.clone(),
            path,
            source: source.into(),
            count: u64::from(source == "log"),
            component: component.path.clone(),
            need: need.into(),
            component_state: state.clone(),
            service_failed: failed(&service),
            drifted: change.is_some() && facts.baseline.same_host,
            was: change.map(|c| c.was.clone()).unwrap_or_default(),
            input,
            line,
            excerpt: format!(
                "{excerpt} -- {user_label} cannot {need} {} ({state})",
                component.path
            ),
        });
    }
    // Logged denials first: they are what is failing now.
    crate::sort::sort_by_key(&mut denials, |d| d.source != "log");
    out.denials = denials;
}

fn check_binds(out: &mut ServiceFacts, facts: &Facts) {
    let addresses_known = !facts.net.addresses.is_empty();
    for event in out.events.iter().filter(|e| e.kind == "bind-failed") {
        if out.bind_failures.iter().any(|b| {
            b.address == event.address && b.port == event.port && b.service == event.service
        }) {
            continue;
        }
        let bound = facts
            .net
            .addresses
            .iter()
            .any(|a| a.local.to_string() == event.address);
        let configured = facts
            .net
            .expected
            .iter()
            .any(|e| e.address == event.address);
        out.bind_failures.push(BindFailure {
            service: event.service.clone(),
            address: event.address.clone(),
            port: event.port,
            reason: event.reason.clone(),
            configured,
            bound,
            addresses_known,
            input: event.input.clone(),
            line: event.line,
            excerpt: event.excerpt.clone(),
        });
    }
}
