//! Assembling the kernel log from every source a snapshot has, boot by
//! boot.
//!
//! - The running boot: `dev/kmsg`, else `commands/dmesg`.
//! - Earlier boots: one syslog family (`var/log/kern.log*`, else
//!   `syslog*`, else `messages*`), rotated files included (`.1`, `.2.gz`,
//!   `-20140210`), oldest first. Its boots are split at `Linux version`
//!   banners and clock resets. The segment that is the running boot (it
//!   shares a `(time, message)` pair with `dev/kmsg`) is dropped, since
//!   `dev/kmsg` already has it, but for what it logged before the first
//!   line `dev/kmsg` still holds (a ring buffer that wrapped); without a
//!   running-boot source, the newest segment is taken as the running boot.
//! - Crash logs of the previous boot: `sys/fs/pstore/dmesg-*` and
//!   `var/crash/*/vmcore-dmesg.txt`; lines already seen are not repeated.

use crate::facts::kernel_stream::{
    each_line, key_hash, log_size, BootCounter, Compactor, EarlyKeys, LineFilter, Text,
    COMPACT_ABOVE,
};
use crate::model::Note;
use crate::parse::kernel_log::{self, KmsgLines, LineView, LogEntry, Stamp, TextLines};
use crate::source::inputs::{rotation_key, RotationKey};
use crate::source::snapshot::Snapshot;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;

/// Syslog families, in order of preference (Debian's kern.log has only the
/// kernel's lines; syslog and messages have everything).
const FAMILIES: [&str; 3] = ["var/log/kern.log", "var/log/syslog", "var/log/messages"];

/// Timed lines at the start of a syslog boot compared with `/dev/kmsg` to
/// tell which boot is the running one.
const EARLY_TIMED: usize = 50;

/// One boot seen in the kernel log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BootSummary {
    /// 0 the running boot, -1 the previous one, ...
    pub boot: i32,
    /// Entries of this boot.
    pub entries: usize,
    /// Kernel release from the boot's `Linux version` banner, if seen.
    pub kernel: String,
    /// Inputs the boot's entries came from.
    pub inputs: Vec<String>,
}

/// The kernel log entries of every boot, oldest first; the inputs used; a
/// summary per boot. Every entry is kept.
pub fn assemble(
    snapshot: &Snapshot,
    notes: &mut Vec<Note>,
) -> (Vec<LogEntry>, Vec<String>, Vec<BootSummary>) {
    assemble_with(snapshot, None, notes)
}

/// The running boot's journal as `journalctl --no-pager --boot` prints it
/// (short format: `Feb 09 22:38:11 compute4 kernel: ...`; a sosreport's
/// `sos_commands/logs/journalctl_--no-pager_--catalog_--boot`): its kernel
/// lines stand for what no other source has of the running boot.
pub const JOURNAL: &str = "commands/journalctl_--boot";

/// Whether an input is one of the kernel logs this module reads.
fn is_kernel_log(name: &str) -> bool {
    name == "dev/kmsg"
        || name == "commands/dmesg"
        || name == JOURNAL
        || FAMILIES
            .iter()
            .any(|base| rotation_key(base, name).is_some())
        || name.starts_with("sys/fs/pstore/dmesg-")
        || (name.starts_with("var/crash/") && name.ends_with("/vmcore-dmesg.txt"))
}

/// [`assemble`], each input read in one streaming pass; when the kernel
/// logs are larger than [`COMPACT_ABOVE`] and a `filter` is given, only
/// the entries it needs are kept, the others counted
/// (`facts::kernel_stream`).
pub fn assemble_with(
    snapshot: &Snapshot,
    filter: Option<&LineFilter>,
    notes: &mut Vec<Note>,
) -> (Vec<LogEntry>, Vec<String>, Vec<BootSummary>) {
    let size = log_size(
        snapshot
            .inputs
            .iter()
            .filter(|(name, _)| is_kernel_log(name))
            .map(|(name, input)| (name.ends_with(".gz"), input.bytes.len())),
    );
    let filter = filter.filter(|_| size > COMPACT_ABOVE);
    // The syslog family is read first: the first lines of its boots are
    // what the running boot's records are compared with.
    let mut early = EarlyKeys::new();
    let mut syslog_notes = Vec::new();
    let mut syslog_inputs = Vec::new();
    let mut stream: Vec<LogEntry> = Vec::new();
    let mut boots = 0;
    if let Some(files) = syslog_family(snapshot) {
        let mut counter = BootCounter::default();
        let mut compactor = filter.map(Compactor::new);
        for name in &files {
            let Some(input) = snapshot.inputs.get(name) else {
                continue;
            };
            let parser = TextLines::new(name, true);
            let compacting = compactor.is_some();
            let mut used = false;
            let mut first = true;
            let mut line_notes = Vec::new();
            let mut read_notes = Vec::new();
            read_lines(
                name,
                &input.bytes,
                compactor.as_mut(),
                &mut stream,
                &mut read_notes,
                |index, text| {
                    let view = text.view(|text| parser.line(index, text, &mut line_notes))?;
                    used = true;
                    let (boot, starts) = counter.next(view.time_us, &view.message);
                    let early_timed = compacting
                        && match view.time_us {
                            Some(t) if counter.early_timed(EARLY_TIMED) => {
                                early.insert(key_hash(t, &view.message));
                                true
                            }
                            _ => false,
                        };
                    let pin = std::mem::take(&mut first) || starts || early_timed;
                    Some((view, boot, pin))
                },
            );
            syslog_notes.extend(read_notes);
            syslog_notes.extend(line_notes);
            if used {
                syslog_inputs.push(name.clone());
            }
        }
        match compactor {
            None => boots = kernel_log::number_boots(&mut stream),
            Some(c) => {
                let (kept, more) = c.finish();
                syslog_notes.extend(more);
                stream = kept;
                boots = stream.iter().map(|e| e.boot + 1).max().unwrap_or(0);
            }
        }
    }

    let mut inputs = Vec::new();
    let current = running_boot(snapshot, filter, &early, notes, &mut inputs);
    notes.extend(syslog_notes);
    inputs.extend(syslog_inputs);
    let mut earlier: Vec<LogEntry> = Vec::new();
    if boots > 0 || !stream.is_empty() {
        let seen: HashSet<(u64, &str)> = current
            .iter()
            .filter_map(|e| e.time_us.map(|t| (t, e.message.as_str())))
            .collect();
        // Which segment is the running boot? Any line it shares with
        // dev/kmsg or dmesg says so, not only its first ones: a dmesg
        // whose ring buffer wrapped (the hotsos report's starts 4,301 s
        // after boot) shares none of them, and the segment was then
        // counted a second time as the previous boot.
        let running = (0..boots).rev().find(|&b| {
            stream
                .iter()
                .filter(|e| e.boot == b)
                .filter_map(|e| e.time_us.map(|t| (t, e.message.as_str())))
                .any(|key| seen.contains(&key))
        });
        let anchor = match (running, current.is_empty()) {
            (Some(b), _) => b,
            (None, true) => boots - 1,
            (None, false) => boots,
        };
        // What the running boot logged before the first line dev/kmsg or
        // dmesg still holds is read from the syslog family.
        let current_start = current.iter().filter_map(|e| e.time_us).min();
        for mut entry in stream {
            if !current.is_empty() && entry.boot >= anchor {
                let lost = running == Some(entry.boot)
                    && entry
                        .time_us
                        .zip(current_start)
                        .is_some_and(|(t, start)| t < start);
                if lost {
                    entry.boot = 0;
                    earlier.push(entry);
                }
                continue; // the running boot, already read from dev/kmsg
            }
            entry.boot -= anchor;
            earlier.push(entry);
        }
    }

    // Crash logs of the previous boot.
    let mut crash_names: Vec<&String> = snapshot
        .inputs
        .keys()
        .filter(|n| {
            n.starts_with("sys/fs/pstore/dmesg-")
                || (n.starts_with("var/crash/") && n.ends_with("/vmcore-dmesg.txt"))
        })
        .collect();
    crate::sort::sort(&mut crash_names);
    let known: HashSet<(i32, u64, String)> = earlier
        .iter()
        .filter_map(|e| e.time_us.map(|t| (e.boot, t, e.message.clone())))
        .collect();
    for name in crash_names {
        let Some(input) = snapshot.inputs.get(name) else {
            continue;
        };
        let (entries, more) = read_text(name, &input.bytes, filter, &EarlyKeys::new());
        notes.extend(more);
        let mut used = false;
        for mut entry in entries {
            entry.boot = -1;
            if let Some(t) = entry.time_us {
                if known.contains(&(-1, t, entry.message.clone())) {
                    continue;
                }
            }
            used = true;
            earlier.push(entry);
        }
        if used {
            inputs.push(name.clone());
        }
    }

    crate::sort::sort_by_key(&mut earlier, |e| e.boot);
    let mut entries = earlier;
    let journal = match snapshot.inputs.get(JOURNAL) {
        Some(input) => {
            let (mut lines, more, _, _) = read_stream(
                JOURNAL,
                &input.bytes,
                (false, true),
                filter,
                &EarlyKeys::new(),
            );
            notes.extend(more);
            lines.iter_mut().for_each(|e| e.boot = 0);
            lines
        }
        None => Vec::new(),
    };
    let journal_lines = journal.len();
    // Before the running boot's other lines: it can only add what they
    // lack, which is earlier.
    let at = entries.partition_point(|e| e.boot < 0);
    entries.splice(at..at, journal);
    entries.extend(current);
    resolve_wall_clock(&mut entries, snapshot, notes);
    if journal_lines > 0 && keep_what_only_the_journal_has(&mut entries, notes) {
        inputs.push(JOURNAL.into());
    }
    let boots = summarise(&entries);
    (entries, inputs, boots)
}

/// The entries of a `/dev/kmsg` input (`kmsg`), of `dmesg` text, or of
/// syslog text (`syslog`: only its kernel lines), read in one pass; with a
/// filter only the entries it needs (the first line, and records sharing
/// a key of `early`), the others counted.
fn read_stream(
    name: &str,
    bytes: &[u8],
    (kmsg, syslog): (bool, bool),
    filter: Option<&LineFilter>,
    early: &EarlyKeys,
) -> (Vec<LogEntry>, Vec<Note>, u64, bool) {
    let mut kmsg_parser = KmsgLines::new(name);
    let text_parser = TextLines::new(name, syslog);
    let mut compactor = filter.map(Compactor::new);
    let mut entries = Vec::new();
    let mut line_notes = Vec::new();
    let mut read_notes = Vec::new();
    let mut first = true;
    let any = read_lines(
        name,
        bytes,
        compactor.as_mut(),
        &mut entries,
        &mut read_notes,
        |index, text| {
            let view = text.view(|text| {
                if kmsg {
                    kmsg_parser.line(index, text, &mut line_notes)
                } else {
                    text_parser.line(index, text, &mut line_notes)
                }
            })?;
            let shared = !early.is_empty()
                && view
                    .time_us
                    .is_some_and(|t| early.contains(&key_hash(t, &view.message)));
            let pin = std::mem::take(&mut first) || shared;
            Some((view, 0, pin))
        },
    );
    read_notes.extend(line_notes);
    if let Some(c) = compactor {
        let (kept, more) = c.finish();
        entries = kept;
        read_notes.extend(more);
    }
    (entries, read_notes, kmsg_parser.records(), any)
}

/// The lines of input `name`, made views (with their boot and whether they
/// must be kept) by `line`: kept as `compactor` says (matched and placed
/// on two threads, [`Compactor::input`]), or, without one, each made an
/// entry in `entries`. Whether any line was not blank.
fn read_lines<'a>(
    name: &str,
    bytes: &'a [u8],
    compactor: Option<&mut Compactor<'_>>,
    entries: &mut Vec<LogEntry>,
    notes: &mut Vec<Note>,
    mut line: impl FnMut(usize, Text<'a, '_>) -> Option<(LineView<'a>, u32, bool)>,
) -> bool {
    let arc: Arc<str> = Arc::from(name);
    match compactor {
        Some(c) => c.input(&arc, |lines| {
            each_line(name, bytes, notes, |index, text| {
                if let Some((view, segment, pin)) = line(index, text) {
                    lines.push(index, view, segment, pin);
                }
            })
        }),
        None => each_line(name, bytes, notes, |index, text| {
            if let Some((view, _, _)) = line(index, text) {
                entries.push(view.entry(&arc, index));
            }
        }),
    }
}

/// [`read_stream`] of `dmesg` text.
fn read_text(
    name: &str,
    bytes: &[u8],
    filter: Option<&LineFilter>,
    early: &EarlyKeys,
) -> (Vec<LogEntry>, Vec<Note>) {
    let (entries, notes, _, _) = read_stream(name, bytes, (false, false), filter, early);
    (entries, notes)
}

/// The running boot's entries, boot 0.
fn running_boot(
    snapshot: &Snapshot,
    filter: Option<&LineFilter>,
    early: &EarlyKeys,
    notes: &mut Vec<Note>,
    inputs: &mut Vec<String>,
) -> Vec<LogEntry> {
    if let Some(input) = snapshot.inputs.get("dev/kmsg") {
        inputs.push("dev/kmsg".into());
        let (entries, more, records, any) =
            read_stream("dev/kmsg", &input.bytes, (true, false), filter, early);
        if records == 0 && any {
            // Someone saved `dmesg` output under dev/kmsg: read it as text.
            let (entries, more) = read_text("dev/kmsg", &input.bytes, filter, early);
            notes.push(Note::input(
                "dev/kmsg",
                "not in /dev/kmsg record format (prio,seq,usec,flags;message); read as dmesg text",
            ));
            notes.extend(more);
            return entries;
        }
        notes.extend(more);
        return entries;
    }
    if let Some(input) = snapshot.inputs.get("commands/dmesg") {
        inputs.push("commands/dmesg".into());
        let (entries, more) = read_text("commands/dmesg", &input.bytes, filter, early);
        notes.extend(more);
        return entries;
    }
    Vec::new()
}

/// The files of the first syslog family present, oldest first.
fn syslog_family(snapshot: &Snapshot) -> Option<Vec<String>> {
    for base in FAMILIES {
        let mut files: Vec<(RotationKey, String)> = snapshot
            .inputs
            .keys()
            .filter_map(|name| rotation_key(base, name).map(|key| (key, name.clone())))
            .collect();
        if files.is_empty() {
            continue;
        }
        crate::sort::sort(&mut files);
        return Some(files.into_iter().map(|(_, name)| name).collect());
    }
    None
}

/// Gives entries a wall-clock time: the instant their line carries, local
/// times read in the host's zone (`etc/localtime`; the year, when the
/// format lacks it, is the snapshot's, or the one before for times after
/// it), and from the boot time for the rest: `btime` of `proc/stat` for
/// the running boot, and for any boot the median offset between the wall
/// and kernel times of its lines that carry both; for a running boot with
/// neither, the known collection time less `proc/uptime`.
fn resolve_wall_clock(entries: &mut [LogEntry], snapshot: &Snapshot, notes: &mut Vec<Note>) {
    use jiff::{civil::DateTime, tz::TimeZone, Timestamp};
    let zone = host_zone(snapshot);
    let zone_known = zone.is_some();
    let zone = zone.unwrap_or(TimeZone::UTC);
    let reference = snapshot
        .manifest
        .as_ref()
        .and_then(|m| m.collected_at.parse::<Timestamp>().ok())
        .or_else(|| Timestamp::try_from(snapshot.taken_at).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let reference_year = reference.to_zoned(zone.clone()).year();
    let slack = jiff::SignedDuration::from_hours(48);
    let mut local_seen = false;
    for entry in entries.iter_mut() {
        match entry.stamp {
            Some(Stamp::Exact(micros)) => entry.wall_us = Some(micros),
            Some(Stamp::Local {
                year,
                month,
                day,
                seconds,
                micros,
            }) => {
                local_seen = true;
                let at = |year: i16| -> Option<Timestamp> {
                    let hour = i8::try_from(seconds / 3600).ok()?;
                    let minute = i8::try_from(seconds / 60 % 60).ok()?;
                    let second = i8::try_from(seconds % 60).ok()?;
                    DateTime::new(
                        year,
                        month,
                        day,
                        hour,
                        minute,
                        second,
                        micros.saturating_mul(1000),
                    )
                    .ok()?
                    .to_zoned(zone.clone())
                    .ok()
                    .map(|z| z.timestamp())
                };
                let mut wall = at(year.unwrap_or(reference_year));
                if year.is_none()
                    && wall
                        .is_some_and(|w| w > reference.saturating_add(slack).unwrap_or(reference))
                {
                    wall = at(reference_year - 1);
                }
                entry.wall_us = wall.map(|w| w.as_microsecond());
            }
            None => {}
        }
    }
    if local_seen && !zone_known {
        notes.push(Note::input(
            "etc/localtime",
            "not in the snapshot: local times of syslog and dmesg -T lines are read as UTC",
        ));
    }
    let mut offsets: std::collections::BTreeMap<i32, Vec<i64>> = std::collections::BTreeMap::new();
    for entry in entries.iter() {
        if let (Some(wall), Some(time)) = (entry.wall_us, entry.time_us) {
            offsets
                .entry(entry.boot)
                .or_default()
                .push(wall.saturating_sub(i64::try_from(time).unwrap_or(i64::MAX)));
        }
    }
    let mut boot_start: std::collections::BTreeMap<i32, i64> = offsets
        .into_iter()
        .map(|(boot, mut values)| {
            values.sort_unstable();
            (boot, values[values.len() / 2])
        })
        .collect();
    let btime = snapshot.text("proc/stat").and_then(|text| {
        text.lines().find_map(|l| {
            l.strip_prefix("btime ")
                .and_then(|v| v.trim().parse::<i64>().ok())
        })
    });
    if let Some(btime) = btime {
        boot_start.insert(0, btime.saturating_mul(1_000_000));
    }
    // Without a boot time or a line giving one, the running boot started
    // `proc/uptime` before the collection, when the collection time is
    // the source's own (never the analysing machine's clock).
    if let (false, Some(up), Some(at)) = (
        boot_start.contains_key(&0),
        snapshot.uptime(),
        snapshot
            .collected_at()
            .and_then(|at| at.parse::<Timestamp>().ok()),
    ) {
        let up = i64::try_from(up.as_micros()).unwrap_or(i64::MAX);
        boot_start.insert(0, at.as_microsecond().saturating_sub(up));
    }
    for entry in entries.iter_mut() {
        if entry.wall_us.is_none() {
            if let (Some(start), Some(time)) = (boot_start.get(&entry.boot), entry.time_us) {
                entry.wall_us = Some(start.saturating_add(i64::try_from(time).unwrap_or(0)));
            }
        }
    }
}

/// Slack at the junction of the journal and the running boot's other
/// lines: their wall-clock times may disagree by as much (a boot time
/// from `uptime`, to the minute).
const JUNCTION_US: i64 = 60_000_000;

/// Keeps of the journal's lines (boot 0, input [`JOURNAL`]) only those
/// logged before the running boot's first line from any other source, and
/// of those near it only the ones no other source has (same message within
/// a minute): each kernel line counted once. When the other lines cannot
/// be placed in time, the journal's are left out and a note says so.
/// Whether any journal line is kept.
fn keep_what_only_the_journal_has(entries: &mut Vec<LogEntry>, notes: &mut Vec<Note>) -> bool {
    let others: Vec<(Option<i64>, &str)> = entries
        .iter()
        .filter(|e| e.boot == 0 && &*e.input != JOURNAL)
        .map(|e| (e.wall_us, e.message.as_str()))
        .collect();
    let first_wall = others.iter().filter_map(|(w, _)| *w).min();
    let placed = others.iter().all(|(w, _)| w.is_some());
    if !others.is_empty() && (!placed || first_wall.is_none()) {
        notes.push(Note::input(
            JOURNAL,
            "not used: the running boot's other kernel lines have no wall-clock time (no boot time), so which of the journal's lines they lack cannot be told",
        ));
        entries.retain(|e| &*e.input != JOURNAL);
        return false;
    }
    let near: Vec<(i64, String)> = others
        .iter()
        .filter_map(|(w, m)| w.map(|w| (w, m.to_string())))
        .filter(|(w, _)| first_wall.is_some_and(|f| *w <= f.saturating_add(2 * JUNCTION_US)))
        .collect();
    let mut kept = false;
    entries.retain(|e| {
        if &*e.input != JOURNAL {
            return true;
        }
        let Some(first) = first_wall else {
            kept = true;
            return true; // the journal is the running boot's only source
        };
        let Some(wall) = e.wall_us else {
            return false;
        };
        let keep = wall < first
            && (wall < first.saturating_sub(JUNCTION_US)
                || !near.iter().any(|(w, m)| {
                    w.abs_diff(wall) <= JUNCTION_US.unsigned_abs() && *m == e.message
                }));
        kept |= keep;
        keep
    });
    kept
}

/// The host's time zone, from `etc/localtime` (a TZif file), if the
/// snapshot has it.
fn host_zone(snapshot: &Snapshot) -> Option<jiff::tz::TimeZone> {
    snapshot
        .inputs
        .get("etc/localtime")
        .and_then(|input| jiff::tz::TimeZone::tzif("localtime", &input.bytes).ok())
}

/// Slack around sos's collection window: a running boot placed by
/// `uptime` may be a minute off.
const WINDOW_SLACK_US: i64 = 60_000_000;

/// sos's collection window (µs since the epoch): `start_time` and
/// `end_time` of `sos_reports/manifest.json` (sos 4.x: `2026-12-06
/// 13:47:51.577867`), else, without a usable manifest (sos 3.x writes
/// none), the first and last record of `sos_logs/sos.log`
/// ([`crate::parse::sos_log`]); both the host's local time, read in
/// `etc/localtime`'s zone or UTC.
fn sos_window(snapshot: &Snapshot) -> Option<(i64, i64)> {
    let zone = host_zone(snapshot).unwrap_or(jiff::tz::TimeZone::UTC);
    let us = |civil: jiff::civil::DateTime| -> Option<i64> {
        Some(
            civil
                .to_zoned(zone.clone())
                .ok()?
                .timestamp()
                .as_microsecond(),
        )
    };
    let from_manifest = || -> Option<(i64, i64)> {
        let manifest: serde_json::Value =
            serde_json::from_str(&snapshot.text("sos_reports/manifest.json")?).ok()?;
        let at = |key: &str| us(manifest[key].as_str()?.trim().parse().ok()?);
        let (start, end) = (at("start_time")?, at("end_time")?);
        (start <= end).then_some((start, end))
    };
    let from_log = || -> Option<(i64, i64)> {
        let (first, last) = crate::parse::sos_log::window(&snapshot.text(SOS_LOG)?)?;
        let (start, end) = (us(first)?, us(last)?);
        (start <= end).then_some((start, end))
    };
    from_manifest().or_else(from_log)
}

/// sos's own log of the run (its window when the manifest is missing).
pub const SOS_LOG: &str = "sos_logs/sos.log";

/// The block device an I/O error line names (`blk_update_request: I/O
/// error, dev loop1, sector 0 ...`, `Buffer I/O error on dev loop1,
/// logical block 0, async page read`).
fn io_error_device(message: &str) -> Option<&str> {
    let (_, rest) = message
        .split_once("I/O error, dev ")
        .or_else(|| message.split_once("I/O error on dev "))?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Kernel lines sos's own collection caused (its `parted`, `fdisk` and
/// `blkid` probe every block device, and an unbound loop device answers
/// with I/O errors): an I/O error logged during the collection window
/// (`sos_reports/manifest.json`, else `sos_logs/sos.log`; a minute of
/// slack either side) on a loop
/// device `losetup -a` does not list, or on a device `lsblk` did not list
/// then, is a collection artefact, not a disk failure. Such lines are left
/// out of the log the rules read, and a note names them.
pub fn leave_out_collection_artefacts(
    entries: &mut Vec<LogEntry>,
    snapshot: &Snapshot,
    notes: &mut Vec<Note>,
) {
    let Some((start, end)) = sos_window(snapshot) else {
        return;
    };
    let bound: Option<HashSet<&str>> = snapshot.inputs.get("commands/losetup_-a").map(|input| {
        std::str::from_utf8(&input.bytes)
            .unwrap_or("")
            .lines()
            .filter_map(|l| l.strip_prefix("/dev/")?.split_once(':').map(|(dev, _)| dev))
            .collect()
    });
    let present: Option<HashSet<String>> = snapshot.text("commands/lsblk").map(|text| {
        text.lines()
            .skip(1)
            .filter_map(|l| {
                let name = l.split_whitespace().next()?;
                Some(
                    name.trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
                        .to_string(),
                )
            })
            .collect()
    });
    if bound.is_none() && present.is_none() {
        return;
    }
    let artefact = |entry: &LogEntry| -> Option<String> {
        let wall = entry.wall_us?;
        if wall < start.saturating_sub(WINDOW_SLACK_US)
            || wall > end.saturating_add(WINDOW_SLACK_US)
        {
            return None;
        }
        let dev = io_error_device(&entry.message)?;
        let loop_dev = dev
            .strip_prefix("loop")
            .map(|n| format!("loop{}", n.split('p').next().unwrap_or(n)));
        let unbound = loop_dev
            .as_deref()
            .is_some_and(|l| bound.as_ref().is_some_and(|b| !b.contains(l)));
        let gone = present.as_ref().is_some_and(|p| !p.contains(dev));
        (unbound || gone).then(|| dev.to_string())
    };
    let mut devices: Vec<String> = Vec::new();
    let mut first: Option<(String, u32)> = None;
    let before = entries.len();
    entries.retain(|entry| match artefact(entry) {
        Some(dev) => {
            if !devices.contains(&dev) {
                devices.push(dev);
            }
            first.get_or_insert_with(|| (entry.input.to_string(), entry.line));
            false
        }
        None => true,
    });
    let Some((input, line)) = first else {
        return;
    };
    let at = |us: i64| {
        jiff::Timestamp::from_microsecond(us)
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    };
    notes.push(Note::line(
        &input,
        line as usize,
        format!(
            "{} kernel line(s) logged while sos collected the report ({} to {}) are I/O errors on loop devices with no backing file or on devices not present then ({}): sos's own probing (parted, fdisk, blkid) caused them; collection artefacts, not disk failures, left out of the diagnosis",
            before - entries.len(),
            at(start),
            at(end),
            devices.join(", ")
        ),
    ));
}

/// Leaves out the entries from before `since` (`--since`), and says in a
/// note how many. An entry whose wall-clock time is unknown (no boot time,
/// no stamp on the line) is kept and counted in the note: leaving it out
/// could hide the very line the operator looks for.
///
/// The running boot's times come from `btime`, whole seconds rounded
/// down, so a line logged up to a second after `since` may be read as
/// before it: give `since` a second of slack when that matters.
pub fn keep_since(
    entries: &mut Vec<LogEntry>,
    since: std::time::SystemTime,
    notes: &mut Vec<Note>,
) {
    let since_us = match since.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    };
    // An entry stands for itself and the entries left out after it
    // (`LogEntry::elided`), which are taken to be of its time.
    let weight = |e: &LogEntry| 1 + e.elided.as_ref().map_or(0, |e| e.entries as usize);
    let before: usize = entries.iter().map(weight).sum();
    let mut unknown = 0usize;
    entries.retain(|e| match e.wall_us {
        Some(wall) => wall >= since_us,
        None => {
            unknown += weight(e);
            true
        }
    });
    let left_out = before - entries.iter().map(weight).sum::<usize>();
    let at = humantime::format_rfc3339_seconds(since);
    let mut text = format!("--since {at}: {left_out} earlier kernel log entries left out");
    if unknown > 0 {
        text.push_str(&format!(
            "; {unknown} entries of unknown time kept (no boot time or stamp to place them)"
        ));
    }
    notes.push(Note::input("kernel log", text));
}

fn summarise(entries: &[LogEntry]) -> Vec<BootSummary> {
    let mut boots: Vec<BootSummary> = Vec::new();
    for entry in entries {
        if boots.last().is_none_or(|b| b.boot != entry.boot) {
            boots.push(BootSummary {
                boot: entry.boot,
                ..BootSummary::default()
            });
        }
        let Some(boot) = boots.last_mut() else {
            continue;
        };
        boot.entries += 1 + entry.elided.as_ref().map_or(0, |e| e.entries as usize);
        if boot.kernel.is_empty() {
            if let Some(rest) = entry.message.strip_prefix("Linux version ") {
                boot.kernel = rest.split_whitespace().next().unwrap_or("").to_string();
            }
        }
        if !boot.inputs.iter().any(|i| i.as_str() == &*entry.input) {
            boot.inputs.push(entry.input.to_string());
        }
    }
    boots
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(text: &str) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text.as_bytes()).expect("gzip");
        encoder.finish().expect("gzip")
    }

    #[test]
    fn rotation_order() {
        let mut names = vec![
            "kern.log",
            "kern.log.1",
            "kern.log.2.gz",
            "kern.log.10.gz",
            "kern.log.old",
        ];
        names.retain(|n| rotation_key("kern.log", n).is_some());
        crate::sort::sort_by_key(&mut names, |n| rotation_key("kern.log", n));
        assert_eq!(
            names,
            vec!["kern.log.10.gz", "kern.log.2.gz", "kern.log.1", "kern.log"]
        );
        let mut dated = vec!["messages", "messages-20140217", "messages-20140210.gz"];
        crate::sort::sort_by_key(&mut dated, |n| rotation_key("messages", n));
        assert_eq!(
            dated,
            vec!["messages-20140210.gz", "messages-20140217", "messages"]
        );
    }

    const PREVIOUS: &str = "Feb  9 18:02:11 http6 kernel: [    0.000000] Linux version 3.10.23 (root@http6)\n\
Feb  9 18:02:12 http6 sshd[1]: not a kernel line\n\
Feb 10 09:45:00 http6 kernel: [56000.000000] Kernel panic - not syncing: Fatal exception in interrupt\n";
    const RUNNING: &str =
        "Feb 10 10:05:00 http6 kernel: [    0.000000] Linux version 3.4.82 (root@http6)\n\
Feb 10 10:05:01 http6 kernel: [    1.250000] e1000e: eth0 NIC Link is Up\n";

    #[test]
    fn rotated_syslog_boots_and_running_boot_from_kmsg() {
        let kmsg = "5,0,0,-;Linux version 3.4.82 (root@http6)\n6,1,1250000,-;e1000e: eth0 NIC Link is Up\n6,2,2000000,-;only in kmsg\n";
        let snapshot = Snapshot::from_inputs([
            ("dev/kmsg", kmsg.as_bytes().to_vec()),
            ("var/log/kern.log.1.gz", gz(PREVIOUS)),
            ("var/log/kern.log", RUNNING.as_bytes().to_vec()),
        ]);
        let mut notes = Vec::new();
        let (entries, inputs, boots) = assemble(&snapshot, &mut notes);
        // Only: "no etc/localtime, local times read as UTC".
        assert!(
            notes.iter().all(|n| n.input == "etc/localtime"),
            "{notes:?}"
        );
        let got: Vec<(i32, &str)> = entries
            .iter()
            .map(|e| (e.boot, e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (-1, "Linux version 3.10.23 (root@http6)"),
                (
                    -1,
                    "Kernel panic - not syncing: Fatal exception in interrupt"
                ),
                (0, "Linux version 3.4.82 (root@http6)"),
                (0, "e1000e: eth0 NIC Link is Up"),
                (0, "only in kmsg"),
            ]
        );
        assert_eq!(
            inputs,
            vec!["dev/kmsg", "var/log/kern.log.1.gz", "var/log/kern.log"]
        );
        assert_eq!(boots.len(), 2);
        assert_eq!((boots[0].boot, boots[0].kernel.as_str()), (-1, "3.10.23"));
        assert_eq!(
            (boots[1].boot, boots[1].entries, boots[1].kernel.as_str()),
            (0, 3, "3.4.82")
        );
    }

    /// Regression: a dmesg whose ring buffer wrapped shares none of the
    /// first lines of kern.log's running boot, which was then taken for the
    /// previous boot: every line of the boot counted twice (the hotsos
    /// report's 794 AppArmor denials of dmesg read as 1,697). The segment
    /// is the running boot; what dmesg lost is read from kern.log, once.
    #[test]
    fn a_wrapped_dmesg_does_not_count_the_running_boot_of_kern_log_twice() {
        // More lines than the 50 first ones compared before dmesg's first.
        let lost: String = (1..=60)
            .map(|i| {
                format!(
                    "Feb 10 10:05:{:02} http6 kernel: [   {i:2}.000000] lost {i}\n",
                    i % 60
                )
            })
            .collect();
        let kern_log = format!(
            "{PREVIOUS}Feb 10 10:05:00 http6 kernel: [    0.000000] Linux version 3.4.82 (root@http6)\n\
{lost}Feb 10 10:06:40 http6 kernel: [  100.000000] still in dmesg\n\
Feb 10 10:07:30 http6 kernel: [  150.000000] also in dmesg\n"
        );
        let snapshot = Snapshot::from_inputs([
            ("var/log/kern.log", kern_log),
            (
                "commands/dmesg",
                "[  100.000000] still in dmesg\n[  150.000000] also in dmesg\n[  200.000000] only in dmesg\n"
                    .to_string(),
            ),
        ]);
        let (entries, _, boots) = assemble(&snapshot, &mut Vec::new());
        let count = |boot: i32, input: &str| {
            entries
                .iter()
                .filter(|e| e.boot == boot && &*e.input == input)
                .count()
        };
        // The previous boot: its two lines, nothing of the running one.
        assert_eq!(count(-1, "var/log/kern.log"), 2);
        // The running boot: its banner and the 60 lines dmesg lost from
        // kern.log, then dmesg's three, each once.
        assert_eq!(count(0, "var/log/kern.log"), 61);
        assert_eq!(count(0, "commands/dmesg"), 3);
        assert_eq!(entries.len(), 66);
        let running: Vec<&str> = entries
            .iter()
            .filter(|e| e.boot == 0)
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(running[0], "Linux version 3.4.82 (root@http6)");
        assert_eq!(
            running[61..],
            ["still in dmesg", "also in dmesg", "only in dmesg"]
        );
        assert_eq!(
            boots.iter().map(|b| b.boot).collect::<Vec<_>>(),
            vec![-1, 0]
        );
        assert_eq!(boots[1].kernel, "3.4.82");
    }

    #[test]
    fn the_journal_adds_only_what_the_running_boots_other_lines_lack() {
        let journal = "-- Logs begin at Fri 2022-02-04 09:34:04 UTC, end at Thu 2022-02-10 16:19:19 UTC. --\n\
Feb 10 10:00:00 h kernel: Linux version 5.4.0 (b@h)\n\
Feb 10 10:00:01 h systemd[1]: not a kernel line\n\
Feb 10 10:01:00 h kernel: lost from dmesg\n\
Feb 10 10:01:39 h kernel: at the junction, also in dmesg\n\
Feb 10 10:01:45 h kernel: after dmesg's first line\n";
        // Booted 10:00:00 (btime 1644487200), dmesg wrapped: from 100 s.
        let dmesg = "[  100.000000] at the junction, also in dmesg\n[  110.000000] later\n";
        let with = |inputs: Vec<(&str, &str)>| {
            let mut snapshot = Snapshot::from_inputs(inputs);
            // The year of the journal's stamps: 2022-02-10T16:19:17Z.
            snapshot.taken_at =
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_644_509_957);
            let mut notes = Vec::new();
            let (entries, inputs, _) = assemble(&snapshot, &mut notes);
            let got: Vec<(String, String)> = entries
                .iter()
                .map(|e| (e.input.to_string(), e.message.clone()))
                .collect();
            (got, inputs, notes)
        };
        let (got, inputs, _) = with(vec![
            (JOURNAL, journal),
            ("commands/dmesg", dmesg),
            ("proc/stat", "btime 1644487200\n"),
        ]);
        let j = |m: &str| (JOURNAL.to_string(), m.to_string());
        let d = |m: &str| ("commands/dmesg".to_string(), m.to_string());
        assert_eq!(
            got,
            vec![
                j("Linux version 5.4.0 (b@h)"),
                j("lost from dmesg"),
                d("at the junction, also in dmesg"),
                d("later"),
            ]
        );
        assert!(inputs.contains(&JOURNAL.to_string()));
        // The journal alone: every kernel line of it.
        let (got, _, _) = with(vec![(JOURNAL, journal)]);
        assert_eq!(got.len(), 4);
        // dmesg without a boot time: the journal cannot be joined to it.
        let (got, inputs, notes) = with(vec![(JOURNAL, journal), ("commands/dmesg", dmesg)]);
        assert_eq!(got.len(), 2);
        assert!(!inputs.contains(&JOURNAL.to_string()));
        assert!(notes
            .iter()
            .any(|n| n.input == JOURNAL && n.message.starts_with("not used")));
    }

    #[test]
    fn without_kmsg_the_newest_syslog_boot_is_the_running_one() {
        let text = format!("{PREVIOUS}{RUNNING}");
        let snapshot = Snapshot::from_inputs([("var/log/syslog", text.clone())]);
        let (entries, _, boots) = assemble(&snapshot, &mut Vec::new());
        assert_eq!(entries.len(), 4);
        assert_eq!(
            boots.iter().map(|b| b.boot).collect::<Vec<_>>(),
            vec![-1, 0]
        );
        // kern.log wins over syslog when both exist: no double counting.
        let snapshot =
            Snapshot::from_inputs([("var/log/syslog", text.clone()), ("var/log/kern.log", text)]);
        let (entries, inputs, _) = assemble(&snapshot, &mut Vec::new());
        assert_eq!(entries.len(), 4);
        assert_eq!(inputs, vec!["var/log/kern.log"]);
    }

    #[test]
    fn truncated_gzip_keeps_what_decoded() {
        let big: String = (0..2000)
            .map(|i| format!("Feb 10 10:05:00 h kernel: [ {i}.000000] line {i}\n"))
            .collect();
        let bytes = gz(&big);
        let cut = bytes[..bytes.len() / 2].to_vec();
        let snapshot = Snapshot::from_inputs([("var/log/kern.log.2.gz", cut)]);
        let mut notes = Vec::new();
        let (entries, _, _) = assemble(&snapshot, &mut notes);
        assert!(
            !entries.is_empty() && entries.len() < 2000,
            "{}",
            entries.len()
        );
        assert!(
            notes
                .iter()
                .any(|n| n.message.contains("gzip stream broken")),
            "{notes:?}"
        );
        let garbage =
            Snapshot::from_inputs([("var/log/kern.log.3.gz", b"\x00\xffnot gzip".to_vec())]);
        let mut notes = Vec::new();
        let (entries, _, _) = assemble(&garbage, &mut notes);
        assert!(entries.is_empty());
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn since_leaves_out_earlier_entries_and_says_so() {
        let kmsg = "3,0,1000000,-;md/raid1:md0: Disk failure on sdb1\n\
                    3,1,5000000,-;Out of memory: Killed process 1 (a)\n\
                    3,2,9000000,-;Out of memory: Killed process 2 (b)\n";
        let mut snapshot = Snapshot::from_inputs([
            ("dev/kmsg", kmsg.as_bytes().to_vec()),
            ("proc/stat", b"btime 1000\n".to_vec()),
        ]);
        // Boot at 1000 s: the lines are at 1001, 1005 and 1009 s.
        snapshot.since = Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1005));
        let (facts, notes) = crate::facts::Facts::from_snapshot(&snapshot);
        let messages: Vec<&str> = facts
            .kernel_log
            .entries
            .iter()
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "Out of memory: Killed process 1 (a)",
                "Out of memory: Killed process 2 (b)"
            ]
        );
        assert!(
            notes
                .iter()
                .any(|n| n.message.contains("1 earlier kernel log entries left out")),
            "{notes:?}"
        );

        // Without a boot time the entries cannot be placed: all kept, said.
        let mut unplaced = Snapshot::from_inputs([("dev/kmsg", kmsg.as_bytes().to_vec())]);
        unplaced.since = snapshot.since;
        let (facts, notes) = crate::facts::Facts::from_snapshot(&unplaced);
        assert_eq!(facts.kernel_log.entries.len(), 3);
        assert!(notes
            .iter()
            .any(|n| n.message.contains("3 entries of unknown time kept")));
    }

    #[test]
    fn wall_clock_from_syslog_zone_and_boot_time() {
        // Europe/Paris as a TZif file, when the machine has one.
        let paris = std::fs::read("/usr/share/zoneinfo/Europe/Paris").ok();
        let mut inputs: Vec<(&str, Vec<u8>)> = vec![
            ("var/log/kern.log.1", PREVIOUS.as_bytes().to_vec()),
            (
                "dev/kmsg",
                b"6,0,2000000,-;two seconds after boot\n".to_vec(),
            ),
            ("proc/stat", b"cpu  1 2 3\nbtime 1392023100\n".to_vec()),
        ];
        if let Some(tzif) = &paris {
            inputs.push(("etc/localtime", tzif.clone()));
        }
        let mut snapshot = Snapshot::from_inputs(inputs);
        snapshot.taken_at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_392_030_000);
        let mut notes = Vec::new();
        let (entries, _, _) = assemble(&snapshot, &mut notes);
        let wall = |i: usize| entries[i].wall_us.map(|w| w / 1_000_000);
        // "Feb 10 09:45:00" local: 08:45:00 UTC in Paris (CET), else 09:45 UTC.
        let offset = if paris.is_some() { 3600 } else { 0 };
        assert_eq!(wall(1), Some(1_392_025_500 - offset));
        // The running boot: btime + 2 s.
        assert_eq!(wall(2), Some(1_392_023_102));
        assert_eq!(notes.is_empty(), paris.is_some(), "{notes:?}");
    }

    /// A sosreport has no `proc/stat` (hotsos' tree) but `uptime`, made
    /// `proc/uptime`: the running boot started that long before the
    /// report's date. Without a known collection time nothing is guessed.
    #[test]
    fn without_btime_the_running_boot_starts_uptime_before_collection() {
        let mut snapshot = Snapshot::from_inputs([
            ("commands/dmesg", "[ 100.000000] late line\n".to_string()),
            ("proc/uptime", "63660.00\n".to_string()),
        ]);
        snapshot.source.kind = crate::source::SourceKind::Sosreport;
        snapshot.dated = true;
        // 2022-02-10T16:19:17Z, the hotsos report's date.
        snapshot.taken_at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_644_509_957);
        let (entries, _, _) = assemble(&snapshot, &mut Vec::new());
        assert_eq!(
            entries[0].wall_us,
            Some((1_644_509_957 - 63_660 + 100) * 1_000_000)
        );
        // btime wins over uptime.
        snapshot.inputs.insert(
            "proc/stat".into(),
            crate::source::snapshot::Input {
                bytes: bytes::Bytes::from_static(b"btime 1644446288\n"),
                truncated: false,
            },
        );
        let (entries, _, _) = assemble(&snapshot, &mut Vec::new());
        assert_eq!(entries[0].wall_us, Some((1_644_446_288 + 100) * 1_000_000));
        // A directory of copied files: its collection time is unknown.
        snapshot.inputs.remove("proc/stat");
        snapshot.source.kind = crate::source::SourceKind::Bundle;
        let (entries, _, _) = assemble(&snapshot, &mut Vec::new());
        assert_eq!(entries[0].wall_us, None);
    }

    #[test]
    fn the_device_of_an_io_error_line() {
        for (line, dev) in [
            ("blk_update_request: I/O error, dev loop1, sector 0 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 0", Some("loop1")),
            ("I/O error, dev loop2, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0", Some("loop2")),
            ("Buffer I/O error on dev loop8p1, logical block 2288, async page read", Some("loop8p1")),
            ("print_req_error: I/O error, dev sdb, sector 83885952", Some("sdb")),
            ("blk_update_request: I/O error, dev ", None),
            ("I/O error, dev ,", None),
            ("EXT4-fs (vda2): resizing filesystem", None),
        ] {
            assert_eq!(io_error_device(line), dev, "{line}");
        }
    }

    #[test]
    fn sos_collection_window_from_its_manifest() {
        let with = |manifest: &str| {
            let snapshot =
                Snapshot::from_inputs([("sos_reports/manifest.json", manifest.to_string())]);
            sos_window(&snapshot)
        };
        // sos 4.0 on this project's VM, byte for byte but the cmdline.
        assert_eq!(
            with(
                r#"{"version": "4.0", "cmdline": "report --batch", "start_time": "2026-12-06 13:47:51.577867", "end_time": "2026-12-06 13:47:51.970240", "run_time": "0:00:00.392373", "compression": "auto", "policy": "Debian", "components": {}}"#
            ),
            Some((1_796_564_871_577_867, 1_796_564_871_970_240))
        );
        for bad in [
            "",
            "{",
            "[]",
            r#"{"start_time": "2026-12-06 13:47:51"}"#,
            r#"{"start_time": 5, "end_time": 6}"#,
            r#"{"start_time": "yesterday", "end_time": "2026-12-06 13:47:51"}"#,
            r#"{"start_time": "2026-12-06 13:47:52", "end_time": "2026-12-06 13:47:51"}"#,
        ] {
            assert_eq!(with(bad), None, "{bad}");
        }
    }

    #[test]
    fn sos_collection_window_from_its_log_without_a_manifest() {
        // sos 4.0's sos.log on this project's VM (first and last record,
        // byte for byte); parse::sos_log has the whole sample.
        let log = "2026-12-06 16:13:29,348 INFO: [archive:TarFileArchive] initialised empty FileCacheArchive at '/tmp/sosnet/sos.jslxqxh3/sosreport-vm-2026-12-06-ikkkwjc'\n2026-12-06 16:13:31,856 INFO: [plugin:networking] collecting output of 'ufw app list'\n";
        let window = Some((1_796_573_609_348_000, 1_796_573_611_856_000));
        let snapshot = Snapshot::from_inputs([(SOS_LOG, log.to_string())]);
        assert_eq!(sos_window(&snapshot), window);
        // A manifest that cannot be read does not hide the log's window.
        let snapshot = Snapshot::from_inputs([
            ("sos_reports/manifest.json", "{".to_string()),
            (SOS_LOG, log.to_string()),
        ]);
        assert_eq!(sos_window(&snapshot), window);
        // The manifest, when usable, is the window.
        let snapshot = Snapshot::from_inputs([
            (
                "sos_reports/manifest.json",
                r#"{"start_time": "2026-12-06 16:13:28.987062", "end_time": "2026-12-06 16:13:31.878893"}"#.to_string(),
            ),
            (SOS_LOG, log.to_string()),
        ]);
        assert_eq!(
            sos_window(&snapshot),
            Some((1_796_573_608_987_062, 1_796_573_611_878_893))
        );
        let snapshot = Snapshot::from_inputs([(SOS_LOG, "garbage\n".to_string())]);
        assert_eq!(sos_window(&snapshot), None);
    }

    #[test]
    fn a_year_less_stamp_after_the_snapshot_is_last_year() {
        let snapshot = {
            let mut s =
                Snapshot::from_inputs([("var/log/syslog", "Dec 31 23:00:00 h kernel: [ 5.0] x\n")]);
            // Taken on 2014-01-01T12:00:00Z.
            s.taken_at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_388_577_600);
            s
        };
        let (entries, _, _) = assemble(&snapshot, &mut Vec::new());
        // 2013-12-31T23:00:00Z
        assert_eq!(entries[0].wall_us, Some(1_388_530_800_000_000));
    }

    #[test]
    fn pstore_crash_log_is_the_previous_boot() {
        let snapshot = Snapshot::from_inputs([
            ("dev/kmsg", "6,0,100,-;hello\n".to_string()),
            (
                "sys/fs/pstore/dmesg-ramoops-0",
                "Panic#1 Part1\n<0>[  99.000000] Kernel panic - not syncing: Out of memory\n"
                    .to_string(),
            ),
        ]);
        let (entries, inputs, _) = assemble(&snapshot, &mut Vec::new());
        assert_eq!(entries[0].boot, -1);
        assert_eq!(entries[0].input.as_ref(), "sys/fs/pstore/dmesg-ramoops-0");
        assert_eq!(entries[1].boot, 0);
        assert!(inputs.contains(&"sys/fs/pstore/dmesg-ramoops-0".to_string()));
    }
}
