//! What a postmortem report shows beyond the [`Diagnosis`] itself: the time
//! window, a timeline, the facts tables and how the report was made.
//!
//! Why a separate [`ReportContext`] and not more fields on `Diagnosis`: the
//! diagnosis is what `diag check --format json` prints on every run and
//! what the TUI reads; the timeline and tables are derived from the
//! [`Facts`] only when a report is written. [`Report`] pairs the two, and
//! its JSON form is the `diag/1` diagnosis with one more member, `report`
//! (an addition, so every `diag/1` reader still reads it).
//!
//! Everything here is computed from facts once; the renderers
//! ([`markdown`](super::markdown()), [`html`](super::html()),
//! [`json`](super::json())) only lay it out.

use crate::diagnose::diagnosis::Diagnosis;
use crate::diagnose::rules::RuleSet;
use crate::facts::Facts;
use crate::model::Severity;
use crate::parse::kernel_log::LogEntry;
use crate::source::snapshot::Snapshot;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Timeline events kept in a report: the first and last half of this many.
pub const TIMELINE_MAX: usize = 200;

/// A diagnosis with everything its report shows. Serialised, the
/// diagnosis' own members come first (it *is* a `diag/1` document) and the
/// rest is under `report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The diagnosis.
    #[serde(flatten)]
    pub diagnosis: Diagnosis,
    /// Timeline, facts tables, provenance. Optional in the schema: a
    /// plain diagnosis (`diag check --format json`) has none.
    #[serde(rename = "report", default)]
    pub context: ReportContext,
}

/// Timeline, facts tables and provenance of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportContext {
    /// When the state was read (RFC 3339): the bundle's `collected_at`,
    /// or the time of the live read; absent for a bundle without manifest.
    pub collected_at: Option<String>,
    /// First and last wall-clock time the report covers.
    pub window: Option<TimeWindow>,
    /// Events in wall-clock order; events without a wall-clock time
    /// (a boot whose start is unknown) follow, by boot and uptime.
    pub timeline: Vec<TimelineEvent>,
    /// Events left out to keep the timeline short (the middle ones).
    pub timeline_omitted: usize,
    /// The state tables.
    pub tables: FactTables,
    /// How the report was made.
    pub made: Provenance,
}

/// A span of wall-clock time (RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TimeWindow {
    /// The earliest time.
    pub start: String,
    /// The latest time.
    pub end: String,
}

/// What kind of thing happened.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A boot began (its first kernel log line).
    Boot,
    /// A kernel log line that is evidence or of critical level.
    Kernel,
    /// A state change the kernel logged (link down, disk failed, remount
    /// read-only), or a state found when the snapshot was read.
    State,
    /// A packet capture: from its first packet, for its duration.
    Capture,
    /// The snapshot was read.
    Collection,
}

impl EventKind {
    /// The lower-case word used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Boot => "boot",
            EventKind::Kernel => "kernel",
            EventKind::State => "state",
            EventKind::Capture => "capture",
            EventKind::Collection => "collection",
        }
    }
}

/// One event of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimelineEvent {
    /// Wall-clock time (RFC 3339, UTC), when known.
    pub time: Option<String>,
    /// The same, microseconds since the Unix epoch.
    pub wall_us: Option<i64>,
    /// The boot it happened in (0 the running one, -1 the one before...).
    pub boot: i32,
    /// Seconds since that boot, when known.
    pub uptime: Option<f64>,
    /// What kind of event.
    pub kind: EventKind,
    /// How bad it is.
    pub severity: Severity,
    /// What happened (a kernel message, a state, a capture summary).
    pub text: String,
    /// Canonical input name it was read from.
    pub input: String,
    /// 1-based line in that input.
    pub line: Option<u32>,
    /// How long it lasted, in seconds (captures).
    pub duration: Option<f64>,
    /// Causes and findings that cite it as evidence.
    pub rules: Vec<String>,
    /// How many times it happened in a row (the same message from the
    /// same input, nothing between): one row for a burst.
    #[serde(default = "one")]
    pub count: u32,
    /// The line of the last of them, when `count` is over 1.
    #[serde(default)]
    pub last_line: Option<u32>,
}

fn one() -> u32 {
    1
}

/// The state tables of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FactTables {
    /// Addresses the configuration expects, checked against the host.
    pub expected_addresses: Vec<ExpectedAddressRow>,
    /// Addresses bound to interfaces.
    pub bound_addresses: Vec<BoundAddressRow>,
    /// Routes in all tables and families.
    pub route_count: u64,
    /// Default routes of every table.
    pub default_routes: Vec<DefaultRouteRow>,
    /// Software RAID arrays.
    pub arrays: Vec<ArrayRow>,
    /// Mounted filesystems (pseudo filesystems left out).
    pub mounts: Vec<MountRow>,
    /// Packet captures.
    pub captures: Vec<CaptureRow>,
    /// What the kernel dropped during the capture window, per reason
    /// (issue 26), when it was recorded.
    #[serde(default)]
    pub drops: Option<DropTable>,
}

/// The kernel's packet drops of the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropTable {
    /// Events read.
    pub events: u64,
    /// Seconds recorded.
    pub window_seconds: f64,
    /// Events the buffer lost: at least this many more drops.
    pub lost: u64,
    /// Whether the kernel names reasons (5.17+); else one row, `UNKNOWN`.
    pub reasons_known: bool,
    /// Per reason, the most frequent first.
    pub reasons: Vec<DropRow>,
}

/// One drop reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropRow {
    /// The kernel's name (`NO_SOCKET`, `NEIGH_CREATEFAIL`, ...).
    pub reason: String,
    /// Events.
    pub count: u64,
    /// Per second over the window.
    pub rate: f64,
    /// Share of all events, 0 to 1.
    pub share: f64,
    /// Events per protocol (`ipv4 1200, ipv6 3`).
    pub protocols: String,
    /// The kernel location most of them were dropped at.
    pub location: String,
}

/// An address the configuration expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExpectedAddressRow {
    /// Address, with `/prefix` when configured.
    pub address: String,
    /// Interface or alias label as configured.
    pub interface: String,
    /// Configuration format (`ifupdown`, `cpanel-ips`, ...).
    pub origin: String,
    /// Whether an interface carries it.
    pub bound: bool,
    /// The interface that carries it, empty when none.
    pub bound_on: String,
    /// Listening ports that cover it, empty when none.
    pub ports: String,
    /// Configuration file and line (`etc/ips:3`).
    pub source: String,
}

/// An address bound to an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BoundAddressRow {
    /// Interface.
    pub interface: String,
    /// `address/prefix`.
    pub address: String,
    /// Scope (`global`, `link`, `host`).
    pub scope: String,
    /// Whether the configuration expects it (false also when no
    /// configuration was read).
    pub expected: bool,
}

/// A default route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DefaultRouteRow {
    /// `inet` or `inet6`.
    pub family: String,
    /// Routing table.
    pub table: String,
    /// Gateway, empty for an on-link route.
    pub gateway: String,
    /// Outgoing interface.
    pub dev: String,
    /// Metric.
    pub metric: u64,
    /// What diag found wrong with it, empty when nothing.
    pub problem: String,
}

/// A software RAID array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ArrayRow {
    /// `md0`.
    pub name: String,
    /// `raid1`, ...
    pub level: String,
    /// `clean`, `active`, `inactive`, ...
    pub state: String,
    /// Working and wanted members, `1/2`.
    pub disks: String,
    /// Member status, `[U_]`.
    pub status: String,
    /// Failed (`(F)`) members, space-separated.
    pub faulty: String,
    /// Degraded.
    pub degraded: bool,
    /// Running sync action and progress, empty when idle.
    pub sync: String,
}

/// A mounted filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MountRow {
    /// Device.
    pub device: String,
    /// Mount point.
    pub mountpoint: String,
    /// Filesystem type.
    pub fstype: String,
    /// Mounted read-only.
    pub read_only: bool,
    /// Space used in percent, when statvfs was read.
    pub used_pct: Option<u64>,
    /// Why it is read-only, or what went wrong reading its usage.
    pub note: String,
}

/// A packet capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaptureRow {
    /// Canonical input name.
    pub input: String,
    /// Packets read.
    pub packets: u64,
    /// Seconds from the first packet to the last.
    pub duration: f64,
    /// ARP requests.
    pub arp_requests: u64,
    /// TCP SYNs.
    pub syn: u64,
    /// DNS queries.
    pub dns_queries: u64,
    /// DNS queries without an answer.
    pub dns_unanswered: u64,
}

/// How a report was made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Provenance {
    /// diag's version.
    pub diag_version: String,
    /// [`RuleSet::fingerprint`] of the rules in effect.
    pub rules_hash: String,
    /// How many rules were in effect.
    pub rule_count: usize,
    /// The command line (empty for a library call).
    pub command_line: Vec<String>,
}

impl Provenance {
    /// The provenance of a report made with `rules` by `command_line`.
    pub fn new(rules: &RuleSet, command_line: Vec<String>) -> Self {
        Provenance {
            diag_version: crate::VERSION.into(),
            rules_hash: rules.fingerprint(),
            rule_count: rules.rules().len(),
            command_line,
        }
    }
}

impl Report {
    /// The report of `diagnosis`, with its context derived from the
    /// `facts` and `snapshot` it was made from, by `rules` (whose
    /// `[[state]]` patterns choose the kernel lines on the timeline that no
    /// rule cites) on `command_line` (see [`Provenance::new`]).
    pub fn new(
        diagnosis: Diagnosis,
        facts: &Facts,
        snapshot: &Snapshot,
        rules: &RuleSet,
        command_line: Vec<String>,
    ) -> Report {
        let made = Provenance::new(rules, command_line);
        let collected_at = snapshot.collected_at();
        let (timeline, timeline_omitted) =
            timeline(&diagnosis, facts, rules, collected_at.as_deref());
        let window = window(&timeline);
        let context = ReportContext {
            collected_at,
            window,
            timeline,
            timeline_omitted,
            tables: tables(facts),
            made,
        };
        Report { diagnosis, context }
    }
}

/// `wall_us` as RFC 3339 in UTC, to the millisecond.
pub fn rfc3339(wall_us: i64) -> Option<String> {
    let ts = jiff::Timestamp::from_microsecond(wall_us).ok()?;
    Some(ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

fn parse_rfc3339(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_microsecond())
}

fn timeline(
    diagnosis: &Diagnosis,
    facts: &Facts,
    rule_set: &RuleSet,
    collected_at: Option<&str>,
) -> (Vec<TimelineEvent>, usize) {
    // (input, line) of every evidence item -> the rules citing it.
    let mut cited: BTreeMap<(&str, u32), BTreeSet<&str>> = BTreeMap::new();
    let cause_evidence = diagnosis
        .causes
        .iter()
        .flat_map(|c| c.evidence.iter().map(move |e| (c.id.as_str(), e)));
    let finding_evidence = diagnosis
        .findings
        .iter()
        .flat_map(|f| f.evidence.iter().map(move |e| (f.id.as_str(), e)));
    for (id, evidence) in cause_evidence.chain(finding_evidence) {
        if let Some(line) = evidence.line {
            cited
                .entry((evidence.input.as_str(), line))
                .or_default()
                .insert(id);
        }
    }

    let severity_of: BTreeMap<&str, Severity> = diagnosis
        .causes
        .iter()
        .map(|c| (c.id.as_str(), c.severity))
        .chain(
            diagnosis
                .findings
                .iter()
                .map(|f| (f.id.as_str(), f.severity)),
        )
        .collect();
    let mut events = Vec::new();
    let mut boots_seen = BTreeSet::new();
    for entry in &facts.kernel_log.entries {
        if boots_seen.insert(entry.boot) {
            let kernel = facts
                .kernel_log
                .boots
                .iter()
                .find(|b| b.boot == entry.boot)
                .map(|b| b.kernel.as_str())
                .filter(|k| !k.is_empty());
            let text = match kernel {
                Some(kernel) => format!("boot {} (kernel {kernel}): first log line", entry.boot),
                None => format!("boot {}: first log line", entry.boot),
            };
            events.push(kernel_event(
                entry,
                EventKind::Boot,
                Severity::Info,
                text,
                Vec::new(),
            ));
        }
        let rules: Vec<String> = cited
            .get(&(&*entry.input, entry.line))
            .map(|ids| ids.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        let state = rule_set.is_state_change(&entry.message);
        let critical = entry.level.is_some_and(|l| l <= 2) && entry.facility.unwrap_or(0) == 0;
        if rules.is_empty() && !state && !critical {
            continue;
        }
        let kind = if state {
            EventKind::State
        } else {
            EventKind::Kernel
        };
        // The line's own level, raised to that of the rules citing it (a
        // dmesg text file has no levels).
        let level = match entry.level {
            Some(0..=2) => Severity::Critical,
            Some(3..=4) => Severity::Warning,
            _ => Severity::Info,
        };
        let severity = rules
            .iter()
            .filter_map(|id| severity_of.get(id.as_str()).copied())
            .fold(level, Severity::max);
        events.push(kernel_event(
            entry,
            kind,
            severity,
            entry.message.clone(),
            rules,
        ));
    }

    let collected_us = collected_at.and_then(parse_rfc3339);
    for capture in &facts.capture.captures {
        let mut parts = vec![format!("{} packets", capture.packets)];
        if capture.arp.requests > 0 {
            parts.push(format!("{} ARP requests", capture.arp.requests));
        }
        if capture.tcp.syn > 0 {
            parts.push(format!("{} SYNs", capture.tcp.syn));
        }
        if capture.dns.queries > 0 {
            parts.push(format!(
                "{} DNS queries ({} unanswered)",
                capture.dns.queries, capture.dns.unanswered
            ));
        }
        let wall_us = (capture.start_us != 0).then_some(capture.start_us);
        events.push(TimelineEvent {
            time: wall_us.and_then(rfc3339),
            wall_us,
            boot: 0,
            uptime: None,
            kind: EventKind::Capture,
            severity: Severity::Info,
            text: format!("capture: {}", parts.join(", ")),
            input: capture.input.clone(),
            line: None,
            duration: Some(capture.duration),
            count: 1,
            last_line: None,
            rules: Vec::new(),
        });
    }
    if let Some(wall_us) = collected_us {
        // States found when the snapshot was read: what the findings that
        // do not rest on the kernel log saw.
        let log_inputs: BTreeSet<&str> =
            facts.kernel_log.inputs.iter().map(String::as_str).collect();
        for finding in &diagnosis.findings {
            let from_log = finding
                .evidence
                .iter()
                .any(|e| log_inputs.contains(e.input.as_str()));
            if from_log || finding.evidence.is_empty() {
                continue;
            }
            let first = &finding.evidence[0];
            events.push(TimelineEvent {
                time: rfc3339(wall_us),
                wall_us: Some(wall_us),
                boot: 0,
                uptime: None,
                kind: EventKind::State,
                severity: finding.severity,
                text: finding.summary.clone(),
                input: first.input.clone(),
                line: first.line,
                duration: None,
                count: 1,
                last_line: None,
                rules: vec![finding.id.clone()],
            });
        }
        events.push(TimelineEvent {
            time: rfc3339(wall_us),
            wall_us: Some(wall_us),
            boot: 0,
            uptime: None,
            kind: EventKind::Collection,
            severity: Severity::Info,
            text: format!("state read ({})", diagnosis.source.kind),
            input: "manifest.json".into(),
            line: None,
            duration: None,
            count: 1,
            last_line: None,
            rules: Vec::new(),
        });
    }

    // Wall-clock order; the events without one after, by boot and uptime.
    // The sort is stable, so events of one instant keep the log's order.
    crate::sort::sort_by(&mut events, |a, b| {
        let key = |e: &TimelineEvent| (e.wall_us.is_none(), e.wall_us.unwrap_or(0));
        key(a).cmp(&key(b)).then_with(|| {
            if a.wall_us.is_none() {
                a.boot
                    .cmp(&b.boot)
                    .then(a.uptime.unwrap_or(0.0).total_cmp(&b.uptime.unwrap_or(0.0)))
            } else {
                std::cmp::Ordering::Equal
            }
        })
    });
    // A burst of the same kernel message or state change (the same text,
    // input and citing rules, one after the other) is one row with a
    // count (issue 24, class 11: a report had ~90 rows of one overflow
    // line). Only neighbours in time order merge: the order stays.
    let mut merged: Vec<TimelineEvent> = Vec::with_capacity(events.len());
    for event in events {
        if let Some(prev) = merged.last_mut() {
            if matches!(event.kind, EventKind::Kernel | EventKind::State)
                && prev.kind == event.kind
                && prev.text == event.text
                && prev.input == event.input
                && prev.rules == event.rules
            {
                prev.count = prev.count.saturating_add(1);
                prev.last_line = event.line;
                continue;
            }
        }
        merged.push(event);
    }
    let mut events = merged;
    let mut omitted = 0;
    if events.len() > TIMELINE_MAX {
        omitted = events.len() - TIMELINE_MAX;
        events.drain(TIMELINE_MAX / 2..TIMELINE_MAX / 2 + omitted);
    }
    (events, omitted)
}

fn kernel_event(
    entry: &LogEntry,
    kind: EventKind,
    severity: Severity,
    text: String,
    rules: Vec<String>,
) -> TimelineEvent {
    TimelineEvent {
        time: entry.wall_us.and_then(rfc3339),
        wall_us: entry.wall_us,
        boot: entry.boot,
        uptime: entry.time_us.map(|us| us as f64 / 1e6),
        kind,
        severity,
        text,
        input: entry.input.to_string(),
        line: Some(entry.line),
        duration: None,
        count: 1,
        last_line: None,
        rules,
    }
}

fn window(timeline: &[TimelineEvent]) -> Option<TimeWindow> {
    let mut times = timeline.iter().filter_map(|e| {
        let end = e.wall_us? + e.duration.map_or(0, |d| (d * 1e6) as i64);
        Some((e.wall_us?, end))
    });
    let first = times.next()?;
    let (start, end) = times.fold(first, |(s, e), (s2, e2)| (s.min(s2), e.max(e2)));
    Some(TimeWindow {
        start: rfc3339(start)?,
        end: rfc3339(end)?,
    })
}

fn tables(facts: &Facts) -> FactTables {
    let net = &facts.net;
    let expected_addresses = net
        .expected
        .iter()
        .map(|e| ExpectedAddressRow {
            address: if e.prefixlen > 0 {
                format!("{}/{}", e.address, e.prefixlen)
            } else {
                e.address.clone()
            },
            interface: e.interface.clone(),
            origin: e.origin.clone(),
            bound: e.bound,
            bound_on: e.bound_on.clone(),
            ports: e.ports.clone(),
            source: format!("{}:{}", e.input, e.line),
        })
        .collect();
    let expected: BTreeSet<&str> = net.expected.iter().map(|e| e.address.as_str()).collect();
    let bound_addresses = net
        .addresses
        .iter()
        .map(|a| {
            let local = a.local.to_string();
            BoundAddressRow {
                interface: a.ifname.clone(),
                address: format!("{local}/{}", a.prefixlen),
                scope: a.scope.clone(),
                expected: expected.contains(local.as_str()),
            }
        })
        .collect();
    let default_routes = net
        .default_routes
        .iter()
        .map(|r| {
            let problem = match r.problem.as_str() {
                "own-address" => "gateway is one of this host's own addresses",
                "on-link" => "on-link: every destination is ARPed for",
                "unreachable-gateway" => "gateway outside every connected subnet",
                _ => "",
            }
            .to_string();
            DefaultRouteRow {
                family: r.family.clone(),
                table: r.table.clone(),
                gateway: r.gateway.clone(),
                dev: r.dev.clone(),
                metric: r.metric,
                problem,
            }
        })
        .collect();
    let arrays = facts
        .md
        .arrays
        .iter()
        .map(|a| ArrayRow {
            name: a.name.clone(),
            level: a.level.clone(),
            state: a.state.clone(),
            disks: format!("{}/{}", a.working_disks, a.raid_disks),
            status: a.status.clone(),
            faulty: a.faulty_members.clone(),
            degraded: a.degraded,
            sync: if a.sync.action.is_empty() || a.sync.action == "idle" {
                String::new()
            } else {
                format!("{} {:.1}%", a.sync.action, a.sync.percent)
            },
        })
        .collect();
    let mounts = facts
        .fs
        .mounts
        .iter()
        .filter(|m| !m.pseudo)
        .map(|m| {
            let usage = facts
                .fs
                .usage
                .iter()
                .find(|u| u.mount == m.mountpoint && u.meaningful);
            let mut note = m.read_only_reason.clone();
            if let Some(u) = usage.filter(|u| !u.error.is_empty()) {
                note = u.error.clone();
            }
            MountRow {
                device: m.device.clone(),
                mountpoint: m.mountpoint.clone(),
                fstype: m.fstype.clone(),
                read_only: m.read_only,
                used_pct: usage.filter(|u| u.error.is_empty()).map(|u| u.used_pct),
                note,
            }
        })
        .collect();
    let captures = facts
        .capture
        .captures
        .iter()
        .map(|c| CaptureRow {
            input: c.input.clone(),
            packets: c.packets,
            duration: c.duration,
            arp_requests: c.arp.requests,
            syn: c.tcp.syn,
            dns_queries: c.dns.queries,
            dns_unanswered: c.dns.unanswered,
        })
        .collect();
    let d = &facts.drops;
    let drops = d.collected.then(|| DropTable {
        events: d.events,
        window_seconds: d.window_seconds,
        lost: d.lost,
        reasons_known: d.reasons_known,
        reasons: d
            .reasons
            .iter()
            .map(|r| DropRow {
                reason: r.reason.clone(),
                count: r.count,
                rate: r.rate,
                share: r.share,
                protocols: r.protocols.clone(),
                location: r.location.clone(),
            })
            .collect(),
    });
    FactTables {
        expected_addresses,
        bound_addresses,
        route_count: net.route_count,
        default_routes,
        arrays,
        mounts,
        captures,
        drops,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::snapshot::Snapshot;
    use crate::source::SourceKind;
    use std::time::{Duration, UNIX_EPOCH};

    const BTIME: u64 = 1_790_000_000;

    /// A pcap with two ARP requests, at `BTIME + 3` and `BTIME + 5` s.
    fn arp_pcap() -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for (offset, target) in [(3u32, [10, 0, 0, 2]), (5, [10, 0, 0, 3])] {
            let mut frame = vec![0xff; 6];
            frame.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
            frame.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
            frame.extend_from_slice(&[2, 0, 0, 0, 0, 1, 10, 0, 0, 1]);
            frame.extend_from_slice(&[0; 6]);
            frame.extend_from_slice(&target);
            let secs = u32::try_from(BTIME).expect("fits") + offset;
            out.extend_from_slice(&secs.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            let len = u32::try_from(frame.len()).expect("fits");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&frame);
        }
        out
    }

    fn report(kmsg: &str, pcap: Option<Vec<u8>>) -> Report {
        let mut inputs = vec![
            (
                "proc/stat",
                format!("cpu  1 2 3\nbtime {BTIME}\n").into_bytes(),
            ),
            ("dev/kmsg", kmsg.as_bytes().to_vec()),
        ];
        if let Some(pcap) = pcap {
            inputs.push(("capture/eth0.pcap", pcap));
        }
        let mut snapshot = Snapshot::from_inputs(inputs);
        snapshot.source.kind = SourceKind::Live;
        snapshot.taken_at = UNIX_EPOCH + Duration::from_secs(BTIME + 60);
        let rules = RuleSet::builtin().expect("rules");
        crate::analysis::Analysis::of_snapshot(snapshot, &rules).report(&rules, Vec::new())
    }

    #[test]
    fn timeline_merges_kernel_state_capture_and_collection_by_wall_clock() {
        let kmsg = "6,0,1000000,-;Linux version 6.1.0 (x) #1\n\
                    6,1,2000000,-;e1000e: eth0 NIC Link is Down\n\
                    6,2,2500000,-;nothing anyone cares about\n\
                    2,3,4000000,-;something critical happened\n";
        let r = report(kmsg, Some(arp_pcap()));
        let got: Vec<(EventKind, Option<u64>)> = r
            .context
            .timeline
            .iter()
            .map(|e| (e.kind, e.wall_us.map(|w| (w / 1_000_000) as u64 - BTIME)))
            .collect();
        assert_eq!(
            got,
            vec![
                (EventKind::Boot, Some(1)),
                (EventKind::State, Some(2)),
                (EventKind::Capture, Some(3)),
                (EventKind::Kernel, Some(4)),
                (EventKind::Collection, Some(60)),
            ]
        );
        let capture = &r.context.timeline[2];
        assert_eq!(capture.duration, Some(2.0));
        assert!(capture.text.contains("2 ARP requests"), "{}", capture.text);
        assert_eq!(r.context.timeline[3].severity, Severity::Critical);
        let window = r.context.window.expect("window");
        assert_eq!(
            window.start,
            rfc3339((BTIME as i64 + 1) * 1_000_000).expect("time")
        );
        assert_eq!(
            window.end,
            rfc3339((BTIME as i64 + 60) * 1_000_000).expect("time")
        );
        assert_eq!(r.context.tables.captures.len(), 1);
        assert_eq!(r.context.tables.captures[0].arp_requests, 2);
    }

    #[test]
    fn evidence_lines_are_on_the_timeline_with_their_rules() {
        let kmsg = "6,0,1000000,-;Linux version 6.1.0 (x) #1\n\
                    4,1,2000000,-;neighbour: arp_cache: neighbor table overflow!\n";
        let r = report(kmsg, None);
        let event = r
            .context
            .timeline
            .iter()
            .find(|e| e.line == Some(2))
            .expect("the overflow line");
        assert!(
            event.rules.contains(&"neigh.table-overflow".to_string()),
            "{event:?}"
        );
        assert_eq!(event.severity, Severity::Critical, "raised to the rule's");
    }

    /// Issue 24, class 11: ~90 rows of one overflow line in a report's
    /// timeline. A burst is one row with its count and last line; a
    /// message between two bursts keeps them apart.
    #[test]
    fn a_burst_of_one_message_is_one_timeline_row() {
        let mut kmsg = String::from("6,0,1000000,-;Linux version 6.1.0 (x) #1\n");
        for i in 1..=5u64 {
            kmsg.push_str(&format!(
                "4,{i},{},-;neighbour: arp_cache: neighbor table overflow!\n",
                2_000_000 + i
            ));
        }
        kmsg.push_str("4,6,3000000,-;net_ratelimit: 12 callbacks suppressed\n");
        kmsg.push_str("4,7,3000001,-;neighbour: arp_cache: neighbor table overflow!\n");
        let r = report(&kmsg, None);
        let rows: Vec<(u32, Option<u32>, Option<u32>)> = r
            .context
            .timeline
            .iter()
            .filter(|e| e.text.contains("table overflow"))
            .map(|e| (e.count, e.line, e.last_line))
            .collect();
        assert_eq!(rows, [(5, Some(2), Some(6)), (1, Some(8), None)]);
        let md = crate::report::markdown(&r);
        assert!(md.contains("(x5, the last at line 6)"), "{md}");
    }

    /// Issue 26: the reports show the kernel's drops per reason, when
    /// they were recorded, and nothing when they were not.
    #[test]
    fn recorded_drops_are_a_table_of_the_report() {
        let trace = include_str!("../../../diag-parse/src/trace/testdata/trace_mixed");
        let mut snapshot = Snapshot::from_inputs([
            ("dev/kmsg", "6,0,1000000,-;Linux version 6.1.0 (x) #1\n"),
            ("trace/kfree_skb.txt", trace),
        ]);
        snapshot.source.kind = SourceKind::Live;
        let rules = RuleSet::builtin().expect("rules");
        let r = crate::analysis::Analysis::of_snapshot(snapshot, &rules).report(&rules, Vec::new());
        let drops = r.context.tables.drops.as_ref().expect("drops recorded");
        assert!(drops.events > 0);
        let first = &drops.reasons[0];
        let md = crate::report::markdown(&r);
        assert!(md.contains("### Packets the kernel dropped"), "{md}");
        assert!(md.contains(&format!("`{}`", first.reason)), "{md}");
        let html = crate::report::html(&r);
        assert!(html.contains("Packets the kernel dropped"));
        assert!(report("6,0,1000000,-;x\n", None)
            .context
            .tables
            .drops
            .is_none());
    }

    #[test]
    fn a_long_timeline_keeps_its_first_and_last_events() {
        let mut kmsg = String::new();
        for i in 0..500u64 {
            let updown = if i % 2 == 0 { "Down" } else { "Up" };
            kmsg.push_str(&format!(
                "6,{i},{},-;eth0: Link is {updown}\n",
                (i + 1) * 1000
            ));
        }
        let r = report(&kmsg, None);
        let timeline = &r.context.timeline;
        assert_eq!(timeline.len(), TIMELINE_MAX);
        // 500 lines, the boot's first line and the collection.
        assert_eq!(r.context.timeline_omitted, 502 - TIMELINE_MAX);
        assert_eq!(timeline[0].kind, EventKind::Boot);
        assert_eq!(timeline[TIMELINE_MAX - 1].kind, EventKind::Collection);
        assert_eq!(timeline[TIMELINE_MAX - 2].line, Some(500));
    }

    #[test]
    fn without_boot_time_events_follow_by_uptime() {
        let mut snapshot = Snapshot::from_inputs([(
            "commands/dmesg",
            "[    2.000000] eth0: Link is Down\n[    1.000000] eth0: Link is Up\n",
        )]);
        snapshot.taken_at = UNIX_EPOCH + Duration::from_secs(BTIME);
        let rules = RuleSet::builtin().expect("rules");
        let r = crate::analysis::Analysis::of_snapshot(snapshot, &rules).report(&rules, Vec::new());
        let uptimes: Vec<Option<f64>> = r.context.timeline.iter().map(|e| e.uptime).collect();
        assert!(r.context.timeline.iter().all(|e| e.wall_us.is_none()));
        assert_eq!(uptimes, vec![Some(1.0), Some(2.0), Some(2.0)]);
        assert!(r.context.window.is_none());
    }
}
