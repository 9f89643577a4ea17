//! Kernel trace events in text form: tracefs's `trace` and `trace_pipe`
//! files, `trace-cmd report` and `perf script` output, an event's
//! `format` file, a ring buffer's `per_cpu/cpuN/stats`, and the
//! `trace/kfree_skb.stats` file diag writes beside the events it records.
//!
//! One event line, in the three shapes (the task name may hold spaces;
//! `[tgid]` and the flags column are optional):
//!
//! ```text
//! tracefs:     <idle>-0     [001] ..s1. 1234.567890: kfree_skb: skbaddr=… reason: NO_SOCKET
//! trace-cmd:   <idle>-0     [001] 1234.567890: kfree_skb:   skbaddr=0x… reason: NO_SOCKET
//! perf script: swapper     0 [001] 1234.567890: skb:kfree_skb: skbaddr=0x… reason: NO_SOCKET
//! ```
//!
//! [`split_event_line`] finds the CPU, the timestamp, the event's name
//! and its payload; the payload's fields are the event's own
//! ([`kfree_skb`]). Nothing here reads a file.

pub mod counts;
pub mod kallsyms;
pub mod kfree_skb;
pub mod ring;

use crate::model::Note;

/// A line longer than this is not an event line (a real `kfree_skb` line
/// is under 250 bytes); it is refused whole, not cut.
pub const LINE_MAX: usize = 4096;

/// Notes kept per input for unusable lines; past this they are counted in
/// one last note (a flood of malformed lines must not become a flood of
/// notes).
pub const NOTES_MAX: usize = 20;

/// Why a line that names an event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceLineError {
    /// Longer than [`LINE_MAX`].
    #[error("line of {0} bytes is longer than {LINE_MAX}: not read")]
    TooLong(usize),
    /// The event's name is there, but not the `[cpu] timestamp:` before it.
    #[error("no \"[cpu] timestamp:\" before the event name")]
    NoTimestamp,
    /// A field's value is not what its name says (`protocol=abc`).
    #[error("field {field}: {value:?} is not a number")]
    BadNumber {
        /// The field.
        field: &'static str,
        /// Its value, made visible and cut to 40 characters.
        value: String,
    },
    /// The payload has none of the event's fields.
    #[error("no fields of the event after its name")]
    NoFields,
}

/// The common part of one event line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventLine<'a> {
    /// The CPU the event was recorded on.
    pub cpu: u32,
    /// Seconds, in the trace clock (`local`: since boot, roughly).
    pub timestamp: f64,
    /// The event's name as the line shows it (`kfree_skb`, `skb:kfree_skb`).
    pub event: &'a str,
    /// What follows `event: `, leading blanks removed.
    pub payload: &'a str,
}

/// Splits an event line whose event is `event` (`kfree_skb`; perf's
/// `skb:kfree_skb` is matched too). `Ok(None)`: the line is not such an
/// event (another event, a comment, a header).
pub fn split_event_line<'a>(
    line: &'a str,
    event: &str,
) -> Result<Option<EventLine<'a>>, TraceLineError> {
    if line.len() > LINE_MAX {
        return Err(TraceLineError::TooLong(line.len()));
    }
    let mut named = false;
    let mut from = 0;
    while let Some(found) = line[from..].find(event) {
        let start = from + found;
        let end = start + event.len();
        from = end;
        if !line[end..].starts_with(':') {
            continue;
        }
        // The name is a word of its own: `kfree_skb` (tracefs, trace-cmd)
        // or `skb:kfree_skb` (perf's `system:event`).
        let name_start = line[..start]
            .rfind(|c: char| c.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        let system = &line[name_start..start];
        let system_ok = system.is_empty()
            || system.strip_suffix(':').is_some_and(|s| {
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            });
        if !system_ok {
            continue;
        }
        named = true;
        let Some(head) = line[..name_start].trim_end().strip_suffix(':') else {
            continue;
        };
        let Some((cpu, timestamp)) = cpu_and_timestamp(head) else {
            continue;
        };
        return Ok(Some(EventLine {
            cpu,
            timestamp,
            event: &line[name_start..end],
            payload: line[end + 1..].trim_start(),
        }));
    }
    if named {
        Err(TraceLineError::NoTimestamp)
    } else {
        Ok(None)
    }
}

/// The CPU (`[001]`) and the timestamp (the last word) of what precedes
/// an event's name.
fn cpu_and_timestamp(head: &str) -> Option<(u32, f64)> {
    let (rest, stamp) = head.rsplit_once(|c: char| c.is_ascii_whitespace())?;
    if stamp.is_empty() || !stamp.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let timestamp: f64 = stamp.parse().ok()?;
    // The CPU is the last `[digits]` word (a `(tgid)` or flags column may
    // follow it).
    let cpu = rest.split_ascii_whitespace().rev().find_map(|word| {
        let digits = word.strip_prefix('[')?.strip_suffix(']')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    })?;
    Some((cpu, timestamp))
}

/// What tracefs's `trace` header says about the buffer:
/// `# entries-in-buffer/entries-written: 160/2000   #P:2`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TraceHeader {
    /// Events still in the buffer.
    pub in_buffer: u64,
    /// Events written since the buffer was last cleared.
    pub written: u64,
    /// CPUs (`#P:`), 0 when not shown.
    pub cpus: u32,
}

impl TraceHeader {
    /// Events written and no longer in the buffer: overwritten when it
    /// was full (or already read from `trace_pipe`).
    pub fn lost(&self) -> u64 {
        self.written.saturating_sub(self.in_buffer)
    }
}

/// Reads the `entries-in-buffer/entries-written` comment line, if `line`
/// is one.
pub fn parse_trace_header(line: &str) -> Option<TraceHeader> {
    let rest = line
        .strip_prefix('#')?
        .trim_start()
        .strip_prefix("entries-in-buffer/entries-written:")?;
    let mut words = rest.split_ascii_whitespace();
    let (in_buffer, written) = words.next()?.split_once('/')?;
    let cpus = words
        .find_map(|w| w.strip_prefix("#P:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Some(TraceHeader {
        in_buffer: in_buffer.parse().ok()?,
        written: written.parse().ok()?,
        cpus,
    })
}

/// An event's `format` file (`events/skb/kfree_skb/format`): its id, its
/// fields and, for an enum printed with `__print_symbolic`, the names of
/// its values.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EventFormat {
    /// `name:`.
    pub name: String,
    /// `ID:`, when shown.
    pub id: Option<u32>,
    /// The fields' names, the common ones (`common_pid`, …) included.
    pub fields: Vec<String>,
    /// The first `__print_symbolic` list of the print format: `(value,
    /// name)`, in the file's order.
    pub symbols: Vec<(u64, String)>,
    /// Where each field is in the event's binary data (the fields whose
    /// `offset:` and `size:` could be read).
    #[serde(skip)]
    pub layout: Vec<FieldLayout>,
}

/// One field's place in an event's binary data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldLayout {
    /// Its name.
    pub name: String,
    /// Bytes from the start of the event's data.
    pub offset: usize,
    /// Its size in bytes.
    pub size: usize,
}

impl EventFormat {
    /// Whether the event has a field of this name.
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f == name)
    }
}

/// Longest symbol name kept; longer ones are refused with a note.
const SYMBOL_MAX: usize = 64;
/// Most symbols kept (the kernel has 130 drop reasons in 6.18).
const SYMBOLS_MAX: usize = 4096;

/// Parses an event's `format` file. (Not inlined: the recorder and the
/// facts both call it, and the binary is size-bound, docs/static-binary.md.)
#[inline(never)]
pub fn parse_event_format(input: &str, text: &str) -> (EventFormat, Vec<Note>) {
    let mut format = EventFormat::default();
    let mut notes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("name:") {
            format.name = crate::sanitize::visible_line(name.trim());
        } else if let Some(id) = trimmed.strip_prefix("ID:") {
            match id.trim().parse() {
                Ok(id) => format.id = Some(id),
                Err(_) => notes.push(Note::line(input, number, "ID is not a number")),
            }
        } else if let Some(field) = trimmed.strip_prefix("field:") {
            let declaration = field.split(';').next().unwrap_or_default();
            let name = declaration
                .split_ascii_whitespace()
                .next_back()
                .unwrap_or_default()
                .split('[')
                .next()
                .unwrap_or_default()
                .trim_start_matches('*');
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                notes.push(Note::line(input, number, "field without a usable name"));
            } else {
                let number = |key: &str| {
                    field.split(';').find_map(|part| {
                        let (k, v) = part.trim().split_once(':')?;
                        (k == key).then(|| v.trim().parse::<usize>().ok())?
                    })
                };
                if let (Some(offset), Some(size)) = (number("offset"), number("size")) {
                    format.layout.push(FieldLayout {
                        name: name.to_string(),
                        offset,
                        size,
                    });
                }
                format.fields.push(name.to_string());
            }
        } else if let Some(print) = trimmed.strip_prefix("print fmt:") {
            format.symbols = print_symbolic(input, number, print, &mut notes);
        }
    }
    if format.name.is_empty() && format.fields.is_empty() {
        notes.push(Note::input(
            input,
            "not an event format file (no name: and no field: line)",
        ));
    }
    (format, notes)
}

/// The `{ value, "NAME" }` pairs of the first `__print_symbolic(` of a
/// print format.
fn print_symbolic(
    input: &str,
    line: usize,
    print: &str,
    notes: &mut Vec<Note>,
) -> Vec<(u64, String)> {
    let Some(start) = print.find("__print_symbolic(") else {
        return Vec::new();
    };
    let mut symbols = Vec::new();
    let mut bad = 0usize;
    let mut rest = &print[start..];
    while let Some(open) = rest.find('{') {
        // A `)` before the next `{` closes the list.
        if rest[..open].contains(')') {
            break;
        }
        let Some(close) = rest[open..].find('}') else {
            bad += 1;
            break;
        };
        let pair = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        let Some((value, name)) = pair.split_once(',') else {
            bad += 1;
            continue;
        };
        let name = name.trim().trim_matches('"');
        let value = value.trim();
        let value = match value.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => value.parse().ok(),
        };
        let usable = !name.is_empty()
            && name.len() <= SYMBOL_MAX
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        match value {
            Some(value) if usable && symbols.len() < SYMBOLS_MAX => {
                symbols.push((value, name.to_string()))
            }
            _ => bad += 1,
        }
    }
    if bad > 0 {
        notes.push(Note::line(
            input,
            line,
            format!("{bad} entries of the __print_symbolic list could not be read"),
        ));
    }
    symbols
}

/// One CPU's ring-buffer statistics (`per_cpu/cpuN/stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct RingStats {
    /// `entries`: events in the buffer.
    pub entries: u64,
    /// `overrun`: events overwritten because the buffer was full.
    pub overrun: u64,
    /// `commit overrun`: events lost while being written.
    pub commit_overrun: u64,
    /// `dropped events`: events refused (the buffer full, overwrite off).
    pub dropped_events: u64,
    /// `read events`: events already consumed by a reader.
    pub read_events: u64,
}

impl RingStats {
    /// Events lost, every way the ring can lose them.
    pub fn lost(&self) -> u64 {
        self.overrun
            .saturating_add(self.commit_overrun)
            .saturating_add(self.dropped_events)
    }

    /// Adds one `key: value` line of a stats file; false when the line is
    /// not one (the timestamps `oldest event ts:` and `now ts:` are
    /// accepted and not kept).
    fn add_line(&mut self, line: &str) -> bool {
        let Some((key, value)) = line.split_once(':') else {
            return false;
        };
        let slot = match key.trim() {
            "entries" => &mut self.entries,
            "overrun" => &mut self.overrun,
            "commit overrun" => &mut self.commit_overrun,
            "dropped events" => &mut self.dropped_events,
            "read events" => &mut self.read_events,
            "bytes" | "oldest event ts" | "now ts" => return true,
            _ => return false,
        };
        match value.trim().parse() {
            Ok(v) => {
                *slot = v;
                true
            }
            Err(_) => false,
        }
    }
}

/// Parses one CPU's `per_cpu/cpuN/stats`.
pub fn parse_ring_stats(input: &str, text: &str) -> (RingStats, Vec<Note>) {
    let mut stats = RingStats::default();
    let mut notes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if !line.trim().is_empty() && !stats.add_line(line) {
            notes.push(Note::line(input, index + 1, "not a ring-buffer statistic"));
        }
    }
    (stats, notes)
}

/// What diag writes beside the events it records (`trace/kfree_skb.stats`):
/// the window and the buffer, then each CPU's raw `per_cpu/cpuN/stats`
/// after a `[per_cpu/cpuN/stats]` line.
///
/// ```text
/// window_seconds: 2.004
/// buffer_size_kb: 1024
/// reason_field: yes
/// [per_cpu/cpu0/stats]
/// entries: 6
/// overrun: 0
/// …
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RecordingStats {
    /// How long the event was enabled, in seconds.
    pub window_seconds: Option<f64>,
    /// The instance's per-CPU buffer, in KiB.
    pub buffer_size_kb: Option<u64>,
    /// Each CPU's statistics, by CPU number.
    pub cpus: Vec<(u32, RingStats)>,
}

impl RecordingStats {
    /// Events lost on every CPU together.
    pub fn lost(&self) -> u64 {
        self.cpus
            .iter()
            .fold(0u64, |sum, (_, s)| sum.saturating_add(s.lost()))
    }

    /// The file's text.
    pub fn render(&self, per_cpu: &[(u32, String)]) -> String {
        let mut out = String::new();
        if let Some(window) = self.window_seconds {
            out.push_str(&format!("window_seconds: {window:.6}\n"));
        }
        if let Some(kb) = self.buffer_size_kb {
            out.push_str(&format!("buffer_size_kb: {kb}\n"));
        }
        for (cpu, text) in per_cpu {
            out.push_str(&format!("[per_cpu/cpu{cpu}/stats]\n"));
            out.push_str(text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }
}

/// Most CPUs read from a stats file.
const CPUS_MAX: usize = 8192;

/// Parses `trace/kfree_skb.stats`.
pub fn parse_recording_stats(input: &str, text: &str) -> (RecordingStats, Vec<Note>) {
    let mut stats = RecordingStats::default();
    let mut notes = Vec::new();
    let mut unusable = 0usize;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(section) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let cpu = section
                .strip_prefix("per_cpu/cpu")
                .and_then(|s| s.strip_suffix("/stats"))
                .and_then(|n| n.parse().ok());
            match cpu {
                Some(cpu) if stats.cpus.len() < CPUS_MAX => {
                    stats.cpus.push((cpu, RingStats::default()))
                }
                _ => unusable += 1,
            }
            continue;
        }
        if let Some((_, ring)) = stats.cpus.last_mut() {
            if ring.add_line(trimmed) {
                continue;
            }
        } else if let Some(value) = trimmed.strip_prefix("window_seconds:") {
            match value.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => {
                    stats.window_seconds = Some(v);
                    continue;
                }
                _ => {}
            }
        } else if let Some(value) = trimmed.strip_prefix("buffer_size_kb:") {
            if let Ok(v) = value.trim().parse() {
                stats.buffer_size_kb = Some(v);
                continue;
            }
        }
        unusable += 1;
        if unusable <= NOTES_MAX {
            notes.push(Note::line(input, number, "line not understood"));
        }
    }
    if unusable > NOTES_MAX {
        notes.push(Note::input(
            input,
            format!("{} more lines not understood", unusable - NOTES_MAX),
        ));
    }
    (stats, notes)
}

#[cfg(test)]
mod tests;
