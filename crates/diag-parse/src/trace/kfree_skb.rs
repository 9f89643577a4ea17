//! `skb:kfree_skb`: a packet the kernel dropped, where, and (5.17 and
//! later) why.
//!
//! The payload's shapes, by kernel (tracefs prints `%p` as a hashed
//! pointer without `0x`; `trace-cmd` and `perf` print `0x…`, and `(nil)`):
//!
//! ```text
//! ≤ 5.16   skbaddr=%p protocol=%u location=%p
//! 5.17     skbaddr=%p protocol=%u location=%p reason: %s
//! ≥ 5.18   skbaddr=%p protocol=%u location=%pS reason: %s        (tcp_v4_rcv+0x99/0x1400)
//! ≥ 6.9    skbaddr=%p rx_sk=%p protocol=%u location=%pS reason: %s
//! ```
//!
//! `location` is a symbol with its offset (and `[module]` for a module's
//! code) where the kernel can name it, a bare address otherwise. The
//! reason is a name of the `skb_drop_reason` enum (the event's `format`
//! file lists them, [`super::parse_event_format`]), or the number in hex
//! when the kernel has no name for it.

use super::{split_event_line, TraceHeader, TraceLineError, NOTES_MAX};
use crate::model::Note;

/// The event's name.
pub const EVENT: &str = "kfree_skb";

/// One dropped packet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DropEvent<'a> {
    /// The CPU it was dropped on.
    pub cpu: u32,
    /// When, in seconds of the trace clock.
    pub timestamp: f64,
    /// The packet's EtherType (`2048` IPv4, `34525` IPv6, `2054` ARP).
    pub protocol: Option<u16>,
    /// Where in the kernel: `tcp_v4_rcv+0x99/0x1400`,
    /// `vxlan_rcv+0x1c4 [vxlan]`, or an address.
    pub location: Option<&'a str>,
    /// Why: `NO_SOCKET`, `NETFILTER_DROP`, …; `None` on kernels before
    /// 5.17 (no `reason` field).
    pub reason: Option<&'a str>,
}

/// Reads one line: `Ok(None)` when it is not a `kfree_skb` event.
pub fn parse_line(line: &str) -> Result<Option<DropEvent<'_>>, TraceLineError> {
    let Some(event) = split_event_line(line, EVENT)? else {
        return Ok(None);
    };
    let (fields, reason) = match event.payload.rsplit_once(" reason: ") {
        Some((fields, reason)) => (fields, Some(reason.trim())),
        None => match event.payload.strip_prefix("reason: ") {
            Some(reason) => ("", Some(reason.trim())),
            None => (event.payload, None),
        },
    };
    let reason = reason.filter(|r| !r.is_empty());
    let mut protocol = None;
    let mut known = reason.is_some();
    let mut words = fields.split_ascii_whitespace().peekable();
    let mut location_span: Option<(usize, usize)> = None;
    while let Some(word) = words.next() {
        let Some((key, value)) = word.split_once('=') else {
            continue;
        };
        match key {
            "protocol" => {
                known = true;
                protocol = Some(
                    value
                        .parse::<u16>()
                        .map_err(|_| TraceLineError::BadNumber {
                            field: "protocol",
                            value: shown(value),
                        })?,
                );
            }
            "location" => {
                known = true;
                // A module's symbol is followed by ` [module]`.
                let start = offset_in(fields, value);
                let mut end = start + value.len();
                if let Some(module) = words
                    .peek()
                    .filter(|w| w.starts_with('[') && w.ends_with(']'))
                {
                    end = offset_in(fields, module) + module.len();
                    words.next();
                }
                location_span = Some((start, end));
            }
            "skbaddr" | "rx_sk" => known = true,
            _ => {}
        }
    }
    let location = location_span
        .and_then(|(start, end)| fields.get(start..end))
        .filter(|l| !l.is_empty());
    if !known {
        return Err(TraceLineError::NoFields);
    }
    Ok(Some(DropEvent {
        cpu: event.cpu,
        timestamp: event.timestamp,
        protocol,
        location,
        reason,
    }))
}

/// Byte offset of `part` (a subslice) in `whole`.
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

/// A value for an error message: control characters made visible, at
/// most 40 characters.
fn shown(value: &str) -> String {
    crate::sanitize::visible_line(&value.chars().take(40).collect::<String>())
}

/// What a whole trace text held besides its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceSummary {
    /// Lines read as `kfree_skb` events.
    pub events: u64,
    /// Lines of other events, and of headers that are not tracefs's
    /// comments (trace-cmd's `cpus=2`, `CPU 0 is empty`).
    pub other_lines: u64,
    /// Lines naming the event that could not be read.
    pub unusable: u64,
    /// tracefs's `entries-in-buffer/entries-written` header, when there
    /// is one.
    pub header: Option<TraceHeader>,
}

/// Reads a trace text (tracefs `trace`/`trace_pipe`, `trace-cmd report`,
/// `perf script`), calling `each` with the 1-based line number of every
/// `kfree_skb` event. Unusable lines become notes (at most
/// [`NOTES_MAX`], then one that counts the rest).
pub fn parse_trace<'a>(
    input: &str,
    text: &'a str,
    mut each: impl FnMut(usize, DropEvent<'a>),
) -> (TraceSummary, Vec<Note>) {
    let mut summary = TraceSummary::default();
    let mut notes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.starts_with('#') {
            if let Some(header) = super::parse_trace_header(line) {
                summary.header = Some(header);
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(Some(event)) => {
                summary.events += 1;
                each(number, event);
            }
            Ok(None) => summary.other_lines += 1,
            Err(err) => {
                summary.unusable += 1;
                if summary.unusable <= NOTES_MAX as u64 {
                    notes.push(Note::line(input, number, err.to_string()));
                }
            }
        }
    }
    if summary.other_lines > 0 {
        notes.push(Note::input(
            input,
            format!(
                "{} lines are neither kfree_skb events nor tracefs comments (other events, a tool's headers): not used",
                summary.other_lines
            ),
        ));
    }
    if summary.unusable > NOTES_MAX as u64 {
        notes.push(Note::input(
            input,
            format!(
                "{} more kfree_skb lines could not be read",
                summary.unusable - NOTES_MAX as u64
            ),
        ));
    }
    (summary, notes)
}

/// What the print format says about the payload: whether the event has
/// a reason (5.17+).
pub fn has_reason(format: &super::EventFormat) -> bool {
    format.has_field("reason")
}
