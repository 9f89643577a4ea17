//! The area browsers' rows, laid out from the facts (one function per
//! area). Nothing here diagnoses: rows show what diag-core parsed, and
//! marks come from the diagnosis or name a fact diag-core derived. A
//! severity (`CRIT`, `WARN`, `INFO`) on an address, an md array or a mount
//! is the highest severity of the causes and findings whose evidence cites
//! that record ([`Judged`]), and there is none when no rule cites it; the
//! other rows cited as evidence are marked as such; words (`OFF`, `RO`,
//! `OFFL`, `FLTY`, ...) repeat a fact. Interface rates are the one
//! computation: counter differences between two refreshes, divided by the
//! time between them.

use super::browser::{Browser, Column, Mark, Row, LEVELS};
use super::model::Model;
use super::theme::Theme;
use diag_core::model::Severity;
use std::collections::{HashMap, HashSet};

/// An area browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// The kernel log.
    Kernel,
    /// Expected vs bound addresses.
    Addresses,
    /// Routes of every table.
    Routes,
    /// Neighbour entries.
    Neighbours,
    /// md RAID arrays.
    Raid,
    /// Mounts and filesystem usage.
    Mounts,
    /// Interfaces with counter rates.
    Interfaces,
    /// Packet capture summaries.
    Packets,
}

impl Area {
    /// Every area, in tab order (digits 2 to 9).
    pub const ALL: [Area; 8] = [
        Area::Kernel,
        Area::Addresses,
        Area::Routes,
        Area::Neighbours,
        Area::Raid,
        Area::Mounts,
        Area::Interfaces,
        Area::Packets,
    ];

    /// The tab name.
    pub fn name(self) -> &'static str {
        match self {
            Area::Kernel => "Kernel log",
            Area::Addresses => "Addresses",
            Area::Routes => "Routes",
            Area::Neighbours => "Neighbours",
            Area::Raid => "RAID",
            Area::Mounts => "Mounts",
            Area::Interfaces => "Interfaces",
            Area::Packets => "Packets",
        }
    }

    /// The browser of this area over `model` (`previous`: the model before
    /// it, for rates).
    pub fn browser(self, model: &Model, previous: Option<&Model>, theme: &Theme) -> Browser {
        let mut browser = match self {
            Area::Kernel => kernel_log(model),
            Area::Addresses => addresses(model),
            Area::Routes => routes(model),
            Area::Neighbours => neighbours(model),
            Area::Raid => raid(model, theme),
            Area::Mounts => mounts(model),
            Area::Interfaces => interfaces(model, previous),
            Area::Packets => packets(model, theme),
        };
        // A row that is evidence of a cause or finding is marked as such.
        let evidence = evidence_lines(model);
        for row in &mut browser.rows {
            if row.mark == Mark::None
                && row
                    .source
                    .as_ref()
                    .is_some_and(|s| evidence.contains(&(s.input.as_str(), s.line)))
            {
                row.mark = Mark::Evidence;
            }
        }
        browser
    }
}

/// Every (input, line) that is evidence of a cause or finding.
fn evidence_lines(model: &Model) -> HashSet<(&str, u32)> {
    let d = &model.diagnosis;
    d.causes
        .iter()
        .flat_map(|c| &c.evidence)
        .chain(d.findings.iter().flat_map(|f| &f.evidence))
        .filter_map(|e| Some((e.input.as_str(), e.line?)))
        .collect()
}

/// The diagnosis' judgement of fact records: for each record that the
/// evidence of a cause or finding cites, the highest severity among them.
///
/// A rule's evidence is the fact records it selected, each turned into an
/// evidence item with the record's `input`, `line` (when it has one) and
/// `excerpt` (diag-core's `Evaluator::evidence`): a record is cited when an
/// item names its input and line, or, for a record without a line, its
/// input and excerpt. Kernel-log findings cite log lines, not these
/// records. Evidence a rule left out to keep its list short
/// (`evidence_omitted`) cites nothing.
#[derive(Debug, Default)]
struct Judged<'a> {
    by_line: HashMap<(&'a str, u32), Severity>,
    by_excerpt: HashMap<(&'a str, &'a str), Severity>,
}

impl<'a> Judged<'a> {
    fn new(model: &'a Model) -> Judged<'a> {
        let d = &model.diagnosis;
        let cited = d
            .causes
            .iter()
            .flat_map(|c| c.evidence.iter().map(move |e| (c.severity, e)))
            .chain(
                d.findings
                    .iter()
                    .flat_map(|f| f.evidence.iter().map(move |e| (f.severity, e))),
            );
        let mut judged = Judged::default();
        for (severity, e) in cited {
            let worst = match e.line {
                Some(line) => judged.by_line.entry((&e.input, line)).or_insert(severity),
                None => judged
                    .by_excerpt
                    .entry((&e.input, &e.excerpt))
                    .or_insert(severity),
            };
            *worst = (*worst).max(severity);
        }
        judged
    }

    /// The highest severity of the causes and findings citing the record
    /// at `input`, `line` (0: none) with `excerpt`.
    fn severity(&self, input: &str, line: u32, excerpt: &str) -> Option<Severity> {
        if line > 0 {
            self.by_line.get(&(input, line)).copied()
        } else {
            self.by_excerpt.get(&(input, excerpt)).copied()
        }
    }
}

fn kernel_log(model: &Model) -> Browser {
    let rows = model
        .facts
        .kernel_log
        .entries
        .iter()
        .map(|e| {
            // Wall-clock time (UTC) where the line or the boot time gives
            // it, else seconds since boot (issue 25), 14 columns either way.
            let wall = e
                .wall_us
                .and_then(|us| jiff::Timestamp::from_microsecond(us).ok())
                .map(|t| t.strftime("%m-%d %H:%M:%S").to_string());
            let time = match (wall, e.time_us) {
                (Some(wall), _) => wall,
                (None, Some(us)) => format!("{:>7}.{:06}", us / 1_000_000, us % 1_000_000),
                (None, None) => " ".repeat(14),
            };
            let level = e
                .level
                .map(|l| LEVELS[usize::from(l.min(7))])
                .unwrap_or("    ");
            let boot = if e.boot == 0 {
                String::new()
            } else {
                format!("boot{} ", e.boot)
            };
            Row {
                level: e.level,
                ..Row::new(format!("{time} {level} {boot}{}", e.message)).source(&e.input, e.line)
            }
        })
        .collect();
    Browser::new(
        "time (UTC, else s since boot) level message",
        rows,
        "no kernel log in this snapshot",
    )
}

fn addresses(model: &Model) -> Browser {
    let net = &model.facts.net;
    let judged = Judged::new(model);
    let mut rows: Vec<Row> = net
        .expected
        .iter()
        .map(|e| {
            let expected = if e.prefixlen > 0 {
                format!("{}/{}", e.address, e.prefixlen)
            } else {
                e.address.clone()
            };
            let bound = if e.bound {
                format!("bound on {}", or_dash(&e.bound_on))
            } else {
                "NOT BOUND".to_string()
            };
            let served = if e.served {
                format!("tcp {}", e.ports)
            } else {
                "-".into()
            };
            // `addr.configured-not-bound` (a cause) cites the addresses
            // brought up at boot that no interface carries; one the
            // configuration leaves down is only named.
            let mark = match judged.severity(&e.input, e.line, &e.excerpt) {
                Some(severity) => Mark::Severity(severity),
                None if !e.bound && !e.on_boot => Mark::Word("OFF"),
                None => Mark::None,
            };
            Row::cells(vec![
                expected,
                or_dash(&e.interface).to_string(),
                bound,
                served,
                format!("{}:{} ({})", e.input, e.line, e.origin),
            ])
            .mark(mark)
            .source(&e.input, e.line)
        })
        .collect();
    let expected: HashSet<&str> = net.expected.iter().map(|e| e.address.as_str()).collect();
    for a in &net.addresses {
        if expected.contains(a.local.to_string().as_str()) {
            continue;
        }
        let mut note = format!("bound, not in any configuration read; {}", a.scope);
        if !a.flags.is_empty() {
            note = format!("{note} {}", a.flags.join(","));
        }
        rows.push(
            Row::cells(vec![
                "-".into(),
                a.ifname.to_string(),
                format!("{}/{}", a.local, a.prefixlen),
                "-".into(),
                note,
            ])
            .mark(severity_mark(judged.severity(&a.input, a.line, &a.excerpt)))
            .source(&a.input, a.line),
        );
    }
    Browser::table(
        vec![
            Column::new("expected", 15),
            Column::new("iface", 5),
            Column::new("bound", 12),
            Column::new("served", 6),
            Column::new("config file:line (format)", 16),
        ],
        rows,
        "no configured or bound address in this snapshot",
    )
}

fn routes(model: &Model) -> Browser {
    let tables = &model.facts.net.tables;
    let rows = tables
        .routes
        .iter()
        .map(|r| Row::new(r.render()).source(&tables.routes_input, r.line))
        .collect();
    Browser::new(
        "route (as `ip route` prints it; every table)",
        rows,
        "no route table in this snapshot",
    )
}

fn neighbours(model: &Model) -> Browser {
    let net = &model.facts.net;
    let offlink = net.neighbour_offlink();
    let rows = net
        .tables
        .neighbours
        .iter()
        .zip(offlink)
        .map(|(n, off)| {
            let mark = if off {
                Mark::Word("OFFL")
            } else if n.unresolved() {
                Mark::Word("FAIL")
            } else {
                Mark::None
            };
            let mut state = n.state.replace(',', " ");
            if n.router {
                state.push_str(" router");
            }
            Row::cells(vec![
                n.dst.to_string(),
                n.dev.to_string(),
                or_dash(&n.lladdr).to_string(),
                state,
            ])
            .mark(mark)
            .source(&net.tables.neighbours_input, n.line)
        })
        .collect();
    let s = &net.neigh;
    let mut browser = Browser::table(
        vec![
            Column::new("neighbour", 15),
            Column::new("dev", 4),
            Column::new("lladdr", 8),
            Column::new("state", 6),
        ],
        rows,
        "no neighbour table in this snapshot",
    );
    // OFFL: outside every connected subnet (docs/tui.md).
    browser.note = format!("{} unresolved, {} off-link", s.unresolved, s.offlink);
    browser
}

fn raid(model: &Model, theme: &Theme) -> Browser {
    let judged = Judged::new(model);
    let mut rows = Vec::new();
    for a in &model.facts.md.arrays {
        // The `md.*` rules (rules/storage/md.toml) and `disk.failing` cite
        // arrays: failed, degraded, inactive, faulty members, resync,
        // mismatches, no spare.
        let mark = severity_mark(judged.severity(&a.input, a.line, &a.excerpt));
        rows.push(
            // mdstat's own `[n/m]` (in the summary) is disks/working;
            // ours in words, so the two never read as a contradiction.
            Row::new(format!(
                "{} {} {} {} of {} working {}",
                a.name,
                or_dash(&a.level),
                or_dash(&a.state),
                a.working_disks,
                a.raid_disks,
                a.summary
            ))
            .mark(mark)
            .source(&a.input, a.line),
        );
        if !a.sync.action.is_empty() {
            rows.push(Row::new(format!(
                "  {} {} {:.1}%{}",
                a.sync.action,
                theme.bar(a.sync.percent, 20),
                a.sync.percent,
                if a.sync.eta_minutes > 0.0 {
                    format!(" finish in {:.1} min", a.sync.eta_minutes)
                } else {
                    String::new()
                }
            )));
        }
        for m in &a.members {
            let mark = if m.faulty {
                Mark::Word("FLTY")
            } else if m.rebuilding {
                Mark::Word("REBL")
            } else {
                Mark::None
            };
            rows.push(
                Row::new(format!(
                    "  {:<12} slot {:>3} {:<12} {}",
                    m.name, m.slot, m.role, m.sysfs_state
                ))
                .mark(mark),
            );
        }
        for slot in &a.missing_slots {
            rows.push(Row::new(format!("  (missing)    slot {slot:>3}")).mark(Mark::Word("MISS")));
        }
    }
    Browser::new(
        "array level state, disks working; members, slot, role, sysfs state",
        rows,
        "no md array in this snapshot",
    )
}

fn mounts(model: &Model) -> Browser {
    let fs = &model.facts.fs;
    let judged = Judged::new(model);
    let rows = fs
        .mounts
        .iter()
        .filter(|m| !m.pseudo)
        .map(|m| {
            let usage = fs.usage.iter().find(|u| u.mount == m.mountpoint);
            let (used, inodes) = match usage {
                Some(u) if u.timed_out => ("TIMED OUT".to_string(), String::new()),
                Some(u) if !u.error.is_empty() => (format!("error: {}", u.error), String::new()),
                Some(u) if u.meaningful => (
                    format!("{:>3}% of {:>9}", u.used_pct, bytes(u.size_bytes)),
                    format!("{}%", u.inodes_pct),
                ),
                _ => ("-".into(), String::new()),
            };
            // The `fs.*` rules (rules/storage/fs.toml) cite the mount
            // (read-only when it should not be) or its usage (hung, space
            // or inodes low or full).
            let severity = judged
                .severity(&m.input, m.line, &m.excerpt)
                .into_iter()
                .chain(usage.and_then(|u| judged.severity(&u.input, u.line, &u.excerpt)))
                .max();
            let mark = match severity {
                Some(severity) => Mark::Severity(severity),
                None if m.read_only => Mark::Word("RO"),
                None => Mark::None,
            };
            Row::cells(vec![
                m.mountpoint.to_string(),
                m.fstype.to_string(),
                used,
                inodes,
                m.device.to_string(),
            ])
            .mark(mark)
            .source(&m.input, m.line)
        })
        .collect();
    Browser::table(
        vec![
            Column::new("mount point", 12),
            Column::new("type", 4),
            Column::new("used", 16),
            Column::new("inodes", 6).right(),
            Column::new("device", 8),
        ],
        rows,
        "no mount table in this snapshot",
    )
}

fn interfaces(model: &Model, previous: Option<&Model>) -> Browser {
    let net = &model.facts.net;
    let seconds = previous.and_then(|p| {
        model
            .snapshot
            .taken_at
            .duration_since(p.snapshot.taken_at)
            .ok()
            .map(|d| d.as_secs_f64())
            .filter(|s| *s > 0.0)
    });
    let rows = net
        .counters
        .interfaces
        .iter()
        .map(|c| {
            let link = net.links.iter().find(|l| l.name == c.iface);
            let state = link.map(|l| l.operstate.as_str()).unwrap_or("-");
            let before = previous.and_then(|p| {
                p.facts
                    .net
                    .counters
                    .interfaces
                    .iter()
                    .find(|b| b.iface == c.iface)
            });
            let [rx, rx_packets, tx, tx_packets] = match (before, seconds) {
                (Some(b), Some(s)) => [
                    format!("{}/s", bytes(rate(c.rx_bytes, b.rx_bytes, s))),
                    rate(c.rx_packets, b.rx_packets, s).to_string(),
                    format!("{}/s", bytes(rate(c.tx_bytes, b.tx_bytes, s))),
                    rate(c.tx_packets, b.tx_packets, s).to_string(),
                ],
                _ => [
                    bytes(c.rx_bytes),
                    c.rx_packets.to_string(),
                    bytes(c.tx_bytes),
                    c.tx_packets.to_string(),
                ],
            };
            let errors = c.rx_errs + c.rx_drop + c.tx_errs;
            let mark = if link.is_some_and(|l| !l.up) || state == "down" {
                Mark::Word("DOWN")
            } else if errors > 0 {
                Mark::Word("ERRS")
            } else {
                Mark::None
            };
            Row::cells(vec![
                c.iface.to_string(),
                state.to_string(),
                rx,
                rx_packets,
                tx,
                tx_packets,
                (c.rx_errs + c.tx_errs).to_string(),
                c.rx_drop.to_string(),
            ])
            .mark(mark)
        })
        .collect();
    // A bundle is one reading: it has counters, never rates (issue 25:
    // it promised rates "after the next refresh" that never comes).
    let live = model.snapshot.source.kind == diag_core::source::SourceKind::Live;
    let (note, packets) = if seconds.is_some() {
        ("rates between the last two refreshes", "pk/s")
    } else if live {
        (
            "counters since boot; rates appear after the next refresh",
            "packets",
        )
    } else {
        ("counters since boot (one reading: no rates)", "packets")
    };
    let mut browser = Browser::table(
        vec![
            Column::new("iface", 6),
            Column::new("state", 4),
            Column::new("rx", 6).right(),
            Column::new(format!("rx {packets}"), 6).right(),
            Column::new("tx", 6).right(),
            Column::new(format!("tx {packets}"), 6).right(),
            Column::new("errors", 6).right(),
            Column::new("drops", 5).right(),
        ],
        rows,
        "no /proc/net/dev in this snapshot",
    );
    browser.note = note.to_string();
    browser
}

fn packets(model: &Model, theme: &Theme) -> Browser {
    let capture = &model.facts.capture;
    let mut rows = Vec::new();
    for c in &capture.captures {
        let duration = if c.duration > 0.0 { c.duration } else { 1.0 };
        rows.push(
            Row::new(format!(
                "{}: {} packets, {} in {:.1} s{}",
                c.input,
                c.packets,
                bytes(c.bytes),
                c.duration,
                if c.truncated { " (truncated)" } else { "" }
            ))
            .mark(Mark::Word("CAP")),
        );
        let top = c.protocols.values().copied().max().unwrap_or(1).max(1);
        for (proto, count) in &c.protocols {
            rows.push(Row::new(format!(
                "  {:<10} {:>9.1} pk/s {}",
                proto,
                *count as f64 / duration,
                theme.bar(*count as f64 * 100.0 / top as f64, 20)
            )));
        }
        for t in &c.top_talkers {
            rows.push(Row::new(format!(
                "  talker {:<22} {:>8} pk {:>10}",
                t.address,
                t.packets,
                bytes(t.bytes)
            )));
        }
        for t in &c.arp.top_unanswered {
            rows.push(Row::new(format!(
                "  ARP target {:<16} {:>8} requests, unanswered",
                t.address, t.requests
            )));
        }
    }
    for s in &capture.arp_offlink_samples {
        rows.push(
            Row::new(format!("  ARP for off-link target: {}", s.excerpt))
                .mark(Mark::Word("OFFL"))
                .source(&s.input, s.line),
        );
    }
    // What the kernel dropped during the window, and why (issue 26).
    let drops = &model.facts.drops;
    if drops.collected {
        let lost = if drops.lost > 0 {
            format!(", at least {} more lost", drops.lost)
        } else {
            String::new()
        };
        rows.push(
            Row::new(format!(
                "kernel drops: {} in {:.1} s ({:.1}/s){lost}{}",
                drops.events,
                drops.window_seconds,
                drops.rate,
                if drops.reasons_known {
                    ""
                } else {
                    " (this kernel names no reasons: by location)"
                }
            ))
            .mark(Mark::Word("DROP")),
        );
        for r in &drops.reasons {
            rows.push(
                Row::new(format!(
                    "  {:<24} {:>8} {:>9.1}/s {:>4.0}%  {}  at {}",
                    r.reason,
                    r.count,
                    r.rate,
                    r.share * 100.0,
                    r.protocols,
                    r.location
                ))
                .source(&r.input, r.line),
            );
        }
    }
    Browser::new(
        "per-protocol rates, top talkers, ARP targets, kernel drops by reason",
        rows,
        "no packet capture in this snapshot (capture: `c` once live capture is available)",
    )
}

/// A severity mark, or none.
fn severity_mark(severity: Option<Severity>) -> Mark {
    severity.map_or(Mark::None, Mark::Severity)
}

fn rate(now: u64, before: u64, seconds: f64) -> u64 {
    (now.saturating_sub(before) as f64 / seconds).round() as u64
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// Bytes in binary units (`1.5 GiB`).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
