//! Packets the kernel dropped during the capture window, and why: the
//! `skb:kfree_skb` events of `trace/kfree_skb.txt` (read with
//! [`crate::parse::trace::kfree_skb`]), counted per reason, per protocol,
//! per second and per kernel location; the event's `format`
//! (`trace/kfree_skb.format`: whether the kernel has drop reasons) and
//! what the recording lost (`trace/kfree_skb.stats`, else the trace's own
//! header). docs/drop-reasons.md says how rules read them.

use crate::model::Note;
use crate::parse::trace::kfree_skb::{self, DropEvent};
use crate::parse::trace::{self, counts, RecordingStats};
use crate::source::snapshot::Snapshot;
use serde::Serialize;
use std::collections::BTreeMap;

/// The recorded events.
pub const EVENTS: &str = "trace/kfree_skb.txt";
/// The event's `format` file.
pub const FORMAT: &str = "trace/kfree_skb.format";
/// diag's recording statistics (window, buffer, per-CPU ring stats).
pub const STATS: &str = "trace/kfree_skb.stats";
/// Every event of a recording, counted while it ran (then
/// [`EVENTS`] holds samples only).
pub const COUNTS: &str = "trace/kfree_skb.counts";

/// Distinct reasons counted; past this, events count under `OTHER`.
const REASONS_MAX: usize = 256;
/// Distinct locations counted; past this, under `other`.
const LOCATIONS_MAX: usize = 4096;
/// Locations kept in the facts, the most frequent first.
const TOP_LOCATIONS: usize = 10;
/// Longest reason or location name kept (longer ones are cut).
const NAME_MAX: usize = 96;

/// What one drop reason counted during the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DropReason {
    /// The kernel's name: `NO_SOCKET`, `NETFILTER_DROP`, … (`UNKNOWN`
    /// on a kernel without reasons: there the events are counted by
    /// location only).
    pub reason: String,
    /// Events.
    pub count: u64,
    /// Events per second over the window (0 when the window is unknown).
    pub rate: f64,
    /// Share of every event of the window, 0 to 1.
    pub share: f64,
    /// The most events in one second of the trace clock.
    pub peak_per_second: u64,
    /// The protocol most of them had (`ipv4`, `ipv6`, `arp`, `0x88cc`).
    pub protocol: String,
    /// Events per protocol, the most frequent first: `ipv4 1200, ipv6 3`.
    pub protocols: String,
    /// The kernel location most of them were dropped at.
    pub location: String,
    /// Canonical input name.
    pub input: String,
    /// Line of the first event with this reason.
    pub line: u32,
    /// A summary, as evidence: count, rate, share, protocol, location.
    pub excerpt: String,
}

/// Events per protocol, or per kernel location.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DropCount {
    /// The protocol (`ipv4`) or the location (`tcp_v4_rcv+0x99/0x1400`).
    pub name: String,
    /// Events.
    pub count: u64,
    /// Events per second over the window.
    pub rate: f64,
}

/// The drop events of a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DropFacts {
    /// Canonical names of the inputs read.
    pub inputs: Vec<String>,
    /// Whether drop events were recorded (`trace/kfree_skb.txt` present).
    pub collected: bool,
    /// Whether the events name a reason (Linux 5.17 and later); without,
    /// they are counted by location only.
    pub reasons_known: bool,
    /// How many reason names the kernel's `format` file lists (0 when it
    /// was not recorded).
    pub kernel_reasons: u64,
    /// Events read.
    pub events: u64,
    /// How long the recording ran, in seconds: the window diag recorded
    /// (its `trace/kfree_skb.stats`), else the span of the events' times.
    pub window_seconds: f64,
    /// Events per second over the window.
    pub rate: f64,
    /// Events the ring buffer lost (overwritten or refused when full): at
    /// least this many drops are not counted.
    pub lost: u64,
    /// Per reason, the most frequent first.
    pub reasons: Vec<DropReason>,
    /// Per protocol, the most frequent first.
    pub protocols: Vec<DropCount>,
    /// The kernel locations most drops happened at (at most 10).
    pub locations: Vec<DropCount>,
}

impl DropFacts {
    /// One default element in every list (the shape rules are checked
    /// against).
    pub fn schema_sample() -> Self {
        DropFacts {
            inputs: vec![String::new()],
            reasons: vec![DropReason::default()],
            protocols: vec![DropCount::default()],
            locations: vec![DropCount::default()],
            ..DropFacts::default()
        }
    }

    /// The reason of this name, if it was seen.
    pub fn reason(&self, name: &str) -> Option<&DropReason> {
        self.reasons.iter().find(|r| r.reason == name)
    }
}

/// `2048` as `ipv4`, `34525` as `ipv6`, `2054` as `arp`, `0` as `none`,
/// others in hex.
pub fn protocol_name(protocol: Option<u16>) -> String {
    match protocol {
        Some(0x0800) => "ipv4".into(),
        Some(0x86dd) => "ipv6".into(),
        Some(0x0806) => "arp".into(),
        Some(0) => "none".into(),
        Some(other) => format!("0x{other:04x}"),
        None => "unknown".into(),
    }
}

#[derive(Default)]
struct Tally {
    count: u64,
    first_line: usize,
    protocols: BTreeMap<String, u64>,
    locations: BTreeMap<String, u64>,
    /// The second of the trace clock being counted, its events so far,
    /// and the most of any second before (events come in time order:
    /// tracefs, trace-cmd and perf print them so).
    second: i64,
    in_second: u64,
    peak: u64,
}

/// Events per reason (each with its protocols and locations), per
/// protocol and per location. BTreeMaps of Strings only: the
/// instantiations the rest of diag has (docs/static-binary.md).
#[derive(Default)]
struct Counted {
    reasons: BTreeMap<String, Tally>,
    protocols: BTreeMap<String, u64>,
    locations: BTreeMap<String, u64>,
}

impl Counted {
    /// Counts `n` events of `reason` (`UNKNOWN` without, `OTHER` past
    /// [`REASONS_MAX`] names), `protocol` and `location` (`other` past
    /// [`LOCATIONS_MAX`]); `line` is the first event's, for a reason new
    /// here. Its tally, for the caller's per-second count.
    fn add(
        &mut self,
        reason: Option<&str>,
        protocol: Option<u16>,
        location: Option<&str>,
        n: u64,
        line: usize,
    ) -> &mut Tally {
        let reason = match reason {
            Some(r) if self.reasons.len() < REASONS_MAX || self.reasons.contains_key(r) => r,
            Some(_) => "OTHER",
            None => "UNKNOWN",
        };
        let location = match location {
            Some(l) if self.locations.len() < LOCATIONS_MAX || self.locations.contains_key(l) => l,
            Some(_) => "other",
            None => "unknown",
        };
        let protocol = protocol_name(protocol);
        bump(&mut self.protocols, &protocol, n);
        bump(&mut self.locations, location, n);
        let tally = self
            .reasons
            .entry(reason.to_string())
            .or_insert_with(|| Tally {
                first_line: line,
                second: i64::MIN,
                ..Tally::default()
            });
        tally.count = tally.count.saturating_add(n);
        bump(&mut tally.protocols, &protocol, n);
        if tally.locations.len() < 64 || tally.locations.contains_key(location) {
            bump(&mut tally.locations, location, n);
        }
        tally
    }
}

/// Adds `n` to `key`'s count, allocating the key only when it is new.
/// One copy of the map's code for the four counts (the binary is
/// size-bound, docs/static-binary.md).
#[inline(never)]
fn bump(counts: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match counts.get_mut(key) {
        Some(count) => *count = count.saturating_add(n),
        None => {
            counts.insert(key.to_string(), n);
        }
    }
}

fn bounded_name(name: &str) -> String {
    let name: String = name.chars().take(NAME_MAX).collect();
    crate::sanitize::visible_line(&name)
}

fn most(counts: impl IntoIterator<Item = (String, u64)>) -> Vec<(String, u64)> {
    let mut list: Vec<(String, u64)> = counts.into_iter().collect();
    crate::sort::sort_by(&mut list, |a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list
}

/// Reads the drop inputs of `snapshot`; nothing when there are none.
pub fn from_snapshot(snapshot: &Snapshot, notes: &mut Vec<Note>) -> DropFacts {
    let mut facts = DropFacts::default();
    let format = snapshot.text(FORMAT).map(|text| {
        facts.inputs.push(FORMAT.to_string());
        let (format, more) = trace::parse_event_format(FORMAT, &text);
        notes.extend(more);
        format
    });
    let stats: Option<RecordingStats> = snapshot.text(STATS).map(|text| {
        facts.inputs.push(STATS.to_string());
        let (stats, more) = trace::parse_recording_stats(STATS, &text);
        notes.extend(more);
        stats
    });
    // A counts file with no row (empty, cut, garbage) counts nothing: the
    // event lines are then counted as they are, samples or not.
    let counts = snapshot
        .text(COUNTS)
        .map(|text| {
            facts.inputs.push(COUNTS.to_string());
            let (counts, more) = counts::parse_counts(COUNTS, &text);
            notes.extend(more);
            counts
        })
        .filter(|counts| !counts.totals.is_empty());
    // Counts without their samples still say what was dropped.
    let text = match snapshot.text(EVENTS) {
        Some(text) => {
            facts.inputs.push(EVENTS.to_string());
            text
        }
        None if counts.is_some() => std::borrow::Cow::Borrowed(""),
        None => return facts,
    };
    facts.collected = true;
    if let Some(format) = &format {
        facts.kernel_reasons = format.symbols.len() as u64;
    }

    let mut all = Counted::default();
    let mut first_time = f64::INFINITY;
    let mut last_time = f64::NEG_INFINITY;
    let mut any_reason = false;
    // With counts, the event lines are samples: they give each reason's
    // first line (evidence), the counts give every number.
    let mut first_lines: BTreeMap<String, usize> = BTreeMap::new();
    let sampled = counts.is_some();
    let (summary, more) = kfree_skb::parse_trace(EVENTS, &text, |line, event: DropEvent<'_>| {
        any_reason |= event.reason.is_some();
        if sampled {
            let reason = event.reason.unwrap_or("UNKNOWN");
            if first_lines.len() < REASONS_MAX && !first_lines.contains_key(reason) {
                first_lines.insert(reason.to_string(), line);
            }
            return;
        }
        let tally = all.add(event.reason, event.protocol, event.location, 1, line);
        if event.timestamp.is_finite() {
            first_time = first_time.min(event.timestamp);
            last_time = last_time.max(event.timestamp);
            let second = event.timestamp.floor() as i64;
            if second != tally.second {
                tally.second = second;
                tally.in_second = 0;
            }
            tally.in_second += 1;
            tally.peak = tally.peak.max(tally.in_second);
        }
    });
    notes.extend(more);
    facts.events = summary.events;
    if let Some(counts) = &counts {
        facts.events = counts.events();
        for row in &counts.totals {
            any_reason |= row.reason.is_some();
            let reason = row.reason.as_deref();
            let line = first_lines
                .get(reason.unwrap_or("UNKNOWN"))
                .copied()
                .unwrap_or(0);
            all.add(
                reason,
                Some(row.protocol),
                Some(&row.location),
                row.events,
                line,
            );
        }
        for row in &counts.seconds {
            let reason = row.reason.as_deref().unwrap_or("UNKNOWN");
            let name = if all.reasons.contains_key(reason) {
                reason
            } else {
                "OTHER"
            };
            if let Some(tally) = all.reasons.get_mut(name) {
                tally.peak = tally.peak.max(row.events);
            }
            let second = row.second as f64;
            first_time = first_time.min(second);
            last_time = last_time.max(second + 1.0);
        }
    }
    let Counted {
        reasons,
        protocols,
        locations,
    } = all;
    facts.reasons_known = any_reason || format.as_ref().is_some_and(kfree_skb::has_reason);
    if !facts.reasons_known && facts.events > 0 {
        notes.push(Note::input(
            EVENTS,
            "the kernel names no drop reasons (before Linux 5.17): drops are counted by kernel location only",
        ));
    }
    facts.window_seconds =
        stats
            .as_ref()
            .and_then(|s| s.window_seconds)
            .unwrap_or(if last_time > first_time {
                last_time - first_time
            } else {
                0.0
            });
    let per_second = |count: u64| {
        if facts.window_seconds > 0.0 {
            count as f64 / facts.window_seconds
        } else {
            0.0
        }
    };
    facts.rate = per_second(facts.events);
    let from_stats = stats.as_ref().map_or(0, RecordingStats::lost);
    let from_header = summary.header.map_or(0, |h| h.lost());
    facts.lost = from_stats.max(from_header);
    if facts.lost > 0 {
        notes.push(Note::input(
            if from_stats >= from_header { STATS } else { EVENTS },
            format!(
                "at least {} drop events were lost (the trace buffer was full): every count is low by at most that many",
                facts.lost
            ),
        ));
    }

    let window = facts.window_seconds;
    for (name, _) in most(reasons.iter().map(|(k, t)| (k.clone(), t.count))) {
        let Some(tally) = reasons.get(&name) else {
            continue;
        };
        let by_protocol = most(tally.protocols.clone());
        let protocol = by_protocol.first().map(|p| p.0.clone()).unwrap_or_default();
        let location = most(tally.locations.clone())
            .first()
            .map(|l| bounded_name(&l.0))
            .unwrap_or_default();
        let share = tally.count as f64 / facts.events.max(1) as f64;
        let reason = bounded_name(&name);
        let protocols = by_protocol
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let excerpt = format!(
            "{reason}: {} drops in {window:.1} s ({:.1}/s, {:.0}% of all drops; {protocols}; mostly at {location})",
            tally.count,
            per_second(tally.count),
            share * 100.0,
        );
        facts.reasons.push(DropReason {
            count: tally.count,
            rate: per_second(tally.count),
            share,
            peak_per_second: tally.peak,
            protocols,
            protocol,
            location,
            // No sample line of it: the counts are its evidence.
            input: if tally.first_line == 0 && counts.is_some() {
                COUNTS
            } else {
                EVENTS
            }
            .to_string(),
            line: u32::try_from(tally.first_line).unwrap_or(u32::MAX),
            excerpt,
            reason,
        });
    }
    facts.protocols = most(protocols)
        .into_iter()
        .map(|(name, count)| DropCount {
            name,
            count,
            rate: per_second(count),
        })
        .collect();
    facts.locations = most(locations)
        .into_iter()
        .take(TOP_LOCATIONS)
        .map(|(name, count)| DropCount {
            name: bounded_name(&name),
            count,
            rate: per_second(count),
        })
        .collect();
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT_6_18: &str =
        include_str!("../../../diag-parse/src/trace/testdata/kfree_skb.format");
    const TRACE_MIXED: &str = include_str!("../../../diag-parse/src/trace/testdata/trace_mixed");
    const TRACE_5_10: &str = include_str!("../../../diag-parse/src/trace/testdata/trace_5.10");
    const FORMAT_5_10: &str =
        include_str!("../../../diag-parse/src/trace/testdata/kfree_skb_5.10.format");
    const OVERRUN: &str = include_str!("../../../diag-parse/src/trace/testdata/trace_overrun_head");

    fn facts(inputs: &[(&str, &str)]) -> (DropFacts, Vec<Note>) {
        let snapshot = Snapshot::from_inputs(inputs.iter().copied());
        let mut notes = Vec::new();
        (from_snapshot(&snapshot, &mut notes), notes)
    }

    #[test]
    fn counts_per_reason_protocol_and_location() {
        let stats =
            "window_seconds: 2.000000\nbuffer_size_kb: 1024\n[per_cpu/cpu0/stats]\noverrun: 3\n";
        let (drops, notes) = facts(&[(EVENTS, TRACE_MIXED), (FORMAT, FORMAT_6_18), (STATS, stats)]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0]
            .message
            .starts_with("at least 3 drop events were lost"));
        assert!(drops.collected && drops.reasons_known);
        assert_eq!(
            (drops.events, drops.kernel_reasons, drops.lost),
            (8, 129, 3)
        );
        assert_eq!((drops.window_seconds, drops.rate), (2.0, 4.0));
        let no_socket = drops.reason("NO_SOCKET").expect("NO_SOCKET");
        assert_eq!(
            (no_socket.count, no_socket.share, no_socket.rate),
            (8, 1.0, 4.0)
        );
        assert_eq!(no_socket.peak_per_second, 8);
        assert_eq!(no_socket.protocols, "ipv4 4, ipv6 4");
        assert_eq!(no_socket.line, 13);
        assert_eq!(no_socket.location, "__udp4_lib_rcv+0x4bc/0xd00");
        assert_eq!(
            no_socket.excerpt,
            "NO_SOCKET: 8 drops in 2.0 s (4.0/s, 100% of all drops; ipv4 4, ipv6 4; mostly at __udp4_lib_rcv+0x4bc/0xd00)"
        );
        assert_eq!(drops.protocols.len(), 2);
        assert_eq!(drops.locations.len(), 4);
        assert_eq!(drops.locations[0].count, 3);
    }

    /// A recording read while it ran: the counts give every number, the
    /// sample lines only where each reason's first event is.
    #[test]
    fn counts_give_the_numbers_and_samples_the_evidence() {
        let counts = "[totals]\nNO_SOCKET\t2048\t__udp4_lib_rcv+0x4bc/0xd00\t59000\nNO_SOCKET\t34525\t__udp6_lib_rcv+0xe1/0xb10\t1000\nNETFILTER_DROP\t2048\tnf_hook_slow+0xa0/0xf0\t12\n\
[seconds]\n78309\tNO_SOCKET\t45000\n78310\tNO_SOCKET\t15000\n78310\tNETFILTER_DROP\t12\n";
        let stats = "window_seconds: 2.000000\nbuffer_size_kb: 1024\n";
        let (drops, notes) = facts(&[
            (EVENTS, TRACE_MIXED),
            (FORMAT, FORMAT_6_18),
            (STATS, stats),
            (COUNTS, counts),
        ]);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!((drops.events, drops.lost), (60_012, 0));
        let no_socket = drops.reason("NO_SOCKET").expect("NO_SOCKET");
        assert_eq!(
            (no_socket.count, no_socket.peak_per_second, no_socket.line),
            (60_000, 45_000, 13)
        );
        assert_eq!(no_socket.protocols, "ipv4 59000, ipv6 1000");
        assert_eq!(no_socket.rate, 30_000.0);
        // No sample line for it: the count stands, line 0.
        let firewall = drops.reason("NETFILTER_DROP").expect("NETFILTER_DROP");
        assert_eq!((firewall.count, firewall.line), (12, 0));
        assert_eq!(firewall.input, COUNTS);
        assert_eq!(drops.locations[0].name, "__udp4_lib_rcv+0x4bc/0xd00");
        assert!(drops.inputs.contains(&COUNTS.to_string()));
    }

    /// A counts file that counts nothing is not trusted over the event
    /// lines; counts without their samples still count.
    #[test]
    fn a_counts_file_without_rows_or_without_samples() {
        for counts in [
            "",
            "# diag kfree_skb counts\n[totals]\nNO_SOC",
            "\u{1b}garbage\t\t\n",
        ] {
            let (drops, _) = facts(&[(EVENTS, TRACE_MIXED), (COUNTS, counts)]);
            assert_eq!(drops.events, 8, "{counts:?}");
        }
        let counts = "[totals]\nNO_SOCKET\t2048\t__udp4_lib_rcv+0x4bc/0xd00\t5000\n";
        let (drops, _) = facts(&[(COUNTS, counts)]);
        assert!(drops.collected);
        let no_socket = drops.reason("NO_SOCKET").expect("NO_SOCKET");
        assert_eq!((no_socket.count, no_socket.line), (5000, 0));
        assert_eq!(no_socket.input, COUNTS);
    }

    #[test]
    fn without_stats_the_window_is_the_events_span_and_the_header_gives_losses() {
        let (drops, _) = facts(&[(EVENTS, OVERRUN)]);
        assert_eq!(drops.lost, 1840);
        assert!(drops.window_seconds > 0.0 && drops.window_seconds < 0.1);
    }

    #[test]
    fn an_old_kernel_is_counted_by_location_and_says_so() {
        let (drops, notes) = facts(&[(EVENTS, TRACE_5_10), (FORMAT, FORMAT_5_10)]);
        assert!(!drops.reasons_known);
        assert_eq!(drops.reasons.len(), 1);
        assert_eq!(drops.reasons[0].reason, "UNKNOWN");
        assert_eq!(drops.locations[0].name, "000000004c1e22aa");
        assert_eq!(notes.len(), 1);
        assert!(notes[0].message.contains("location only"), "{notes:?}");
    }

    #[test]
    fn nothing_recorded_is_not_collected() {
        let (drops, notes) = facts(&[(FORMAT, FORMAT_6_18)]);
        assert!(!drops.collected && notes.is_empty());
    }

    #[test]
    fn hostile_names_are_bounded_and_made_visible() {
        let mut text = String::new();
        for i in 0..1000 {
            text.push_str(&format!(
                "x-1 [000] ..... {i}.5: kfree_skb: protocol=2048 location=\u{1b}]0;{i} reason: R{i}_{}\n",
                "\u{9b}".repeat(200)
            ));
        }
        let (drops, _) = facts(&[(EVENTS, &text)]);
        assert_eq!(drops.events, 1000);
        assert_eq!(drops.reasons.len(), REASONS_MAX + 1);
        assert_eq!(
            drops.reason("OTHER").map(|r| r.count),
            Some(1000 - REASONS_MAX as u64)
        );
        for r in &drops.reasons {
            assert!(r.reason.chars().count() <= NAME_MAX, "{}", r.reason);
            assert!(
                !r.excerpt.chars().any(crate::sanitize::is_control),
                "{}",
                r.excerpt
            );
        }
        assert!(drops.locations.iter().all(|l| !l.name.contains('\u{1b}')));
    }
}
