//! `/proc/mdstat`: every md array, its members and what it is doing.
//!
//! The format is whatever `md_seq_show()` printed in the running kernel
//! (2.4 to 6.x), often pasted by hand. One stanza per array:
//!
//! ```text
//! Personalities : [raid1] [raid6] [raid5] [raid4]
//! md6 : active raid1 sdb2[2](F) sdc[1](S) sda2[0]
//!       195310144 blocks [2/1] [U_]
//!       [=>...................]  recovery =  8.5% (16775552/195310144) finish=17.0min speed=259783K/sec
//!       bitmap: 0/30 pages [0KB], 65536KB chunk
//!
//! unused devices: <none>
//! ```
//!
//! Lines are recognised by their content, not their indentation (pastes
//! change it) or blank lines (2.4 kernels print none, pastes add some):
//! the array line (`NAME : active|inactive ...`), the block line (`N
//! blocks ...`), a progress line (`resync|recovery|reshape|check = P%`,
//! possibly hard-wrapped onto the next line), `resync=DELAYED|PENDING|REMOTE`
//! (own line, indented with spaces or a TAB), `bitmap:`, and the 2.4-era
//! `read_ahead` and `Event:` lines. Anything else is a note with its line;
//! the other arrays are still read.
//!
//! The arrays come out as the file shows them; `diag_core::facts::md`
//! classifies them.

use super::{clip, MdArray, MdMember};
use crate::model::Note;

/// What `/proc/mdstat` holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mdstat {
    /// The `Personalities :` line.
    pub personalities: Vec<String>,
    /// Every array, in file order, not yet classified.
    pub arrays: Vec<MdArray>,
}

/// Parses `/proc/mdstat` text. Never fails: what cannot be read becomes a
/// note naming `input` and the line, and every other array is kept.
pub fn parse_mdstat(input: &str, text: &str) -> (Mdstat, Vec<Note>) {
    let mut out = Mdstat::default();
    let mut notes = Vec::new();
    // Index into out.arrays of the stanza being read.
    let mut current: Option<usize> = None;
    // The last line was a progress line without its finish/speed part.
    let mut wrapped_progress = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        let was_wrapped = std::mem::take(&mut wrapped_progress);
        if let Some(rest) = t.strip_prefix("Personalities") {
            let rest = rest.trim_start().strip_prefix(':').unwrap_or(rest);
            for word in rest.split_whitespace() {
                let name = word.trim_start_matches('[').trim_end_matches(']');
                if !name.is_empty() {
                    out.personalities.push(name.to_string());
                }
            }
            current = None;
            continue;
        }
        if t.starts_with("read_ahead") || t.starts_with("Event:") {
            continue; // 2.4 kernels
        }
        if t.starts_with("unused devices") {
            current = None;
            continue;
        }
        match parse_array_line(input, line, t, &mut notes) {
            ArrayLine::Array(array) => {
                out.arrays.push(*array);
                current = Some(out.arrays.len() - 1);
                continue;
            }
            ArrayLine::Broken => {
                current = None;
                continue;
            }
            ArrayLine::NotAnArray => {}
        }
        let Some(i) = current else {
            notes.push(Note::line(
                input,
                line,
                format!("not inside an array stanza: {:?}", clip(t)),
            ));
            continue;
        };
        let array = &mut out.arrays[i];
        let used = if is_block_line(t) {
            parse_block_line(array, input, line, t, &mut notes);
            true
        } else if let Some(kind) = waiting_sync(t) {
            match kind {
                "DELAYED" => array.sync.delayed = true,
                "PENDING" => array.sync.pending = true,
                _ => {} // REMOTE: another node of an md cluster resyncs
            }
            true
        } else if let Some(complete) = parse_progress(array, t) {
            wrapped_progress = !complete;
            true
        } else if t.starts_with("bitmap:") {
            array.bitmap = t.to_string();
            true
        } else if was_wrapped && (t.contains("finish=") || t.contains("speed=")) {
            parse_progress_tail(array, t);
            true
        } else {
            notes.push(Note::line(
                input,
                line,
                format!("unrecognised line in {}: {:?}", array.name, clip(t)),
            ));
            false
        };
        if used {
            array.excerpt.push('\n');
            array.excerpt.push_str(raw.trim_end());
        }
    }
    (out, notes)
}

/// Personalities the kernel has had; anything else gets a note.
const PERSONALITIES: &[&str] = &[
    "linear",
    "raid0",
    "raid1",
    "raid4",
    "raid5",
    "raid6",
    "raid10",
    "multipath",
    "faulty",
];

enum ArrayLine {
    Array(Box<MdArray>),
    /// It names an array but cannot be used (a note was made).
    Broken,
    NotAnArray,
}

/// `md0 : active (auto-read-only) raid1 sdb1[1] sda1[0](F)`
fn parse_array_line(input: &str, line: usize, t: &str, notes: &mut Vec<Note>) -> ArrayLine {
    let Some((name, rest)) = t.split_once(':') else {
        return ArrayLine::NotAnArray;
    };
    let name = name.trim();
    let plausible_name = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.' | b'!'));
    // Only `mdX :` names (and anything followed by active/inactive).
    let mut words = rest.split_whitespace().peekable();
    let first = words.peek().copied().unwrap_or("");
    if !plausible_name || (!name.starts_with("md") && first != "active" && first != "inactive") {
        return ArrayLine::NotAnArray;
    }
    let active = match first {
        "active" => true,
        "inactive" => false,
        other => {
            notes.push(Note::line(
                input,
                line,
                format!(
                    "array {name}: expected 'active' or 'inactive', got {:?}; array skipped",
                    clip(other)
                ),
            ));
            return ArrayLine::Broken;
        }
    };
    words.next();
    let mut array = MdArray {
        name: name.to_string(),
        active,
        mode: if active { "read-write" } else { "inactive" }.into(),
        input: input.to_string(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        excerpt: t.to_string(),
        sources: vec![input.to_string()],
        ..MdArray::default()
    };
    for word in words {
        match word {
            "(read-only)" => array.mode = "read-only".into(),
            "(auto-read-only)" => array.mode = "auto-read-only".into(),
            w if w.contains('[') => {
                if let Some(member) = parse_member(input, line, &array.name, w, notes) {
                    array.members.push(member);
                }
            }
            w if array.level.is_empty() && array.members.is_empty() => {
                if !PERSONALITIES.contains(&w) {
                    notes.push(Note::line(
                        input,
                        line,
                        format!("array {name}: unknown personality {:?}", clip(w)),
                    ));
                }
                array.level = w.to_string();
            }
            w => notes.push(Note::line(
                input,
                line,
                format!("array {name}: unexpected word {:?}", clip(w)),
            )),
        }
    }
    ArrayLine::Array(Box::new(array))
}

/// `sda1[0]`, `sdb1[1](F)`, `sdk1[6](R)`, `cciss/c0d0p1[6]`, `sdc[2](W)(F)`.
fn parse_member(
    input: &str,
    line: usize,
    array: &str,
    word: &str,
    notes: &mut Vec<Note>,
) -> Option<MdMember> {
    let (name, rest) = word.split_once('[')?;
    if name.is_empty() {
        notes.push(Note::line(
            input,
            line,
            format!("array {array}: member without a name: {:?}", clip(word)),
        ));
        return None;
    }
    let mut member = MdMember::new(name);
    let Some((number, mut flags)) = rest.split_once(']') else {
        notes.push(Note::line(
            input,
            line,
            format!("array {array}: member {name}: missing ']'"),
        ));
        return Some(member);
    };
    match number.parse::<i64>() {
        Ok(n) => member.number = n,
        Err(_) => notes.push(Note::line(
            input,
            line,
            format!(
                "array {array}: member {name}: device number {:?} is not a number",
                clip(number)
            ),
        )),
    }
    while let Some(inner) = flags.strip_prefix('(') {
        let Some((flag, after)) = inner.split_once(')') else {
            break;
        };
        match flag {
            "F" => member.faulty = true,
            "S" => member.spare = true,
            "W" => member.write_mostly = true,
            "R" => member.replacement = true,
            "J" => member.journal = true,
            other => notes.push(Note::line(
                input,
                line,
                format!(
                    "array {array}: member {name}: unknown flag ({})",
                    clip(other)
                ),
            )),
        }
        flags = after;
    }
    if !flags.is_empty() {
        notes.push(Note::line(
            input,
            line,
            format!(
                "array {array}: member {name}: unexpected {:?} after the flags",
                clip(flags)
            ),
        ));
    }
    Some(member)
}

/// `312319552 blocks ...`
fn is_block_line(t: &str) -> bool {
    let mut words = t.split_whitespace();
    words
        .next()
        .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()))
        && words.next().is_some_and(|w| w.starts_with("blocks"))
}

/// `5853468288 blocks super 1.2 level 6, 64k chunk, algorithm 2 [8/8] [UUUUUUUU]`,
/// `314159265 blocks 64k chunks`, `2095104 blocks super 1.2 0k rounding`,
/// `976510976 blocks super 1.2 512K chunks 2 near-copies [4/4] [UUUU]`,
/// `1855870976 blocks super external:/md127/0 128k chunks`.
fn parse_block_line(array: &mut MdArray, input: &str, line: usize, t: &str, notes: &mut Vec<Note>) {
    let words: Vec<&str> = t.split_whitespace().collect();
    array.blocks = words.first().and_then(|w| w.parse().ok()).unwrap_or(0);
    let mut i = 2;
    let mut layout: Vec<String> = Vec::new();
    while i < words.len() {
        let w = words[i];
        let next = words.get(i + 1).copied().unwrap_or("");
        if w == "super" {
            array.metadata = next.to_string();
            if !next
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'/' | b'-' | b'_'))
            {
                notes.push(Note::line(
                    input,
                    line,
                    format!(
                        "array {}: unexpected characters in metadata {:?}",
                        array.name,
                        clip(next)
                    ),
                ));
            }
            i += 2;
        } else if w == "level" {
            if array.level.is_empty() {
                array.level = format!("raid{}", next.trim_end_matches(','));
            }
            i += 2;
        } else if next.starts_with("chunk") && w.ends_with(['k', 'K']) {
            array.chunk = w.to_string();
            i += 2;
        } else if next.starts_with("rounding") {
            i += 2;
        } else if w == "algorithm" {
            layout.push(format!("algorithm {}", next.trim_end_matches(',')));
            i += 2;
        } else if next.ends_with("-copies") || next.ends_with("-copies,") {
            layout.push(format!("{w} {}", next.trim_end_matches(',')));
            i += 2;
        } else if let Some(counts) = w.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
            if let Some((n, m)) = counts.split_once('/') {
                match (n.parse::<u64>(), m.parse::<u64>()) {
                    (Ok(n), Ok(m)) => {
                        array.raid_disks = n;
                        array.working_disks = m;
                        if m > n {
                            notes.push(Note::line(
                                input,
                                line,
                                format!(
                                    "array {}: [{n}/{m}] has more working members than slots",
                                    array.name
                                ),
                            ));
                        }
                    }
                    _ => notes.push(Note::line(
                        input,
                        line,
                        format!("array {}: bad member counts [{}]", array.name, clip(counts)),
                    )),
                }
            } else if !counts.is_empty() && counts.bytes().all(|b| b == b'U' || b == b'_') {
                array.status = counts.to_string();
            } else {
                notes.push(Note::line(
                    input,
                    line,
                    format!("array {}: unexpected [{}]", array.name, clip(counts)),
                ));
            }
            i += 1;
        } else if w.starts_with('[') {
            notes.push(Note::line(
                input,
                line,
                format!("array {}: unterminated {:?}", array.name, clip(w)),
            ));
            i += 1;
        } else {
            // Unknown words are kept as layout text (personalities add
            // their own: "near-copies", "far-copies", ...).
            layout.push(w.trim_end_matches(',').to_string());
            i += 1;
        }
    }
    array.layout = layout.join(" ");
    if array.raid_disks > 0
        && !array.status.is_empty()
        && array.status.len() as u64 != array.raid_disks
    {
        notes.push(Note::line(
            input,
            line,
            format!(
                "array {}: [{}/{}] but the slot map [{}] has {} slots",
                array.name,
                array.raid_disks,
                array.working_disks,
                array.status,
                array.status.len()
            ),
        ));
    }
    let empty = array.status.bytes().filter(|b| *b == b'_').count() as u64;
    if array.raid_disks > 0
        && !array.status.is_empty()
        && array.raid_disks.saturating_sub(array.working_disks) != empty
    {
        notes.push(Note::line(
            input,
            line,
            format!(
                "array {}: [{}/{}] and the slot map [{}] disagree on missing members; the worse is used",
                array.name, array.raid_disks, array.working_disks, array.status
            ),
        ));
    }
}

/// `resync=DELAYED`, `resync=PENDING`, `resync=REMOTE` (after spaces or a
/// TAB), and the rarer `recovery=DELAYED`.
fn waiting_sync(t: &str) -> Option<&'static str> {
    let (action, state) = t.split_once('=')?;
    if !matches!(action.trim(), "resync" | "recovery" | "reshape" | "check") {
        return None;
    }
    match state.trim() {
        "DELAYED" => Some("DELAYED"),
        "PENDING" => Some("PENDING"),
        "REMOTE" => Some("REMOTE"),
        _ => None,
    }
}

/// `[=>....]  recovery =  8.5% (16775552/195310144) finish=17.0min speed=259783K/sec`.
/// Returns whether the line had its finish/speed part (`Some(false)`: it
/// was hard-wrapped), `None` when it is not a progress line.
fn parse_progress(array: &mut MdArray, t: &str) -> Option<bool> {
    let body = match t.strip_prefix('[') {
        Some(bar) => bar.split_once(']').map_or(bar, |(_, rest)| rest),
        None => t,
    };
    let (action, rest) = body.split_once('=')?;
    let action = action.trim();
    let action = match action {
        "resync" | "recovery" | "reshape" | "check" | "repair" => action,
        _ => return None,
    };
    let rest = rest.trim_start();
    let (percent, tail) = rest.split_once('%')?;
    let percent = percent.trim().parse::<f64>().ok()?;
    array.sync.action = action.to_string();
    array.sync.percent = if percent.is_finite() { percent } else { 0.0 };
    Some(parse_progress_tail(array, tail))
}

/// `(16775552/195310144) finish=17.0min speed=259783K/sec`; returns
/// whether finish or speed was there.
fn parse_progress_tail(array: &mut MdArray, tail: &str) -> bool {
    let mut complete = false;
    for word in tail.split_whitespace() {
        if let Some(pair) = word.strip_prefix('(').and_then(|w| w.strip_suffix(')')) {
            if let Some((done, total)) = pair.split_once('/') {
                array.sync.done = done.parse().unwrap_or(0);
                array.sync.total = total.parse().unwrap_or(0);
            }
        } else if let Some(minutes) = word
            .strip_prefix("finish=")
            .and_then(|w| w.strip_suffix("min"))
        {
            array.sync.eta_minutes = minutes
                .parse::<f64>()
                .ok()
                .filter(|m| m.is_finite())
                .unwrap_or(0.0);
            complete = true;
        } else if let Some(speed) = word.strip_prefix("speed=") {
            let digits: String = speed.chars().take_while(char::is_ascii_digit).collect();
            array.sync.speed_kib = digits.parse().unwrap_or(0);
            complete = true;
        }
    }
    complete
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Mdstat, Vec<Note>) {
        parse_mdstat("proc/mdstat", text)
    }

    #[test]
    fn empty_and_binary_input() {
        let (md, notes) = parse("");
        assert!(md.arrays.is_empty() && notes.is_empty());
        let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text);
        let _ = parse(
            "md0 : active raid10 a[0]\n 1 blocks 99999999999999999999 near-copies [3/0] [___]\n",
        );
    }
}

/// The real-world mdstats of `tests/corpus/mdstat` that are not what
/// they should be: what cannot be read is a note with its line.
#[cfg(test)]
mod corpus {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/mdstat");

    fn read(name: &str) -> (Mdstat, Vec<Note>) {
        let path = std::path::Path::new(DIR).join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        parse_mdstat("proc/mdstat", &String::from_utf8_lossy(&bytes))
    }

    #[test]
    fn negative_samples_are_notes_with_their_line() {
        for (file, line) in [
            ("procfs__mdstat_test_invalid-1", 2),
            ("procfs__mdstat_test_invalid-3", 1),
            ("procfs__mdstat_test_invalid-4", 1),
        ] {
            let (_, notes) = read(file);
            assert!(
                notes
                    .iter()
                    .any(|n| n.line == Some(line) && n.input == "proc/mdstat"),
                "{file}: {notes:?}"
            );
        }
        for file in [
            "procfs__fixtures_proc_mdstat",
            "hdo-site__issue404_mdadm_DegradedArray_mail",
        ] {
            let (_, notes) = read(file);
            assert!(notes.is_empty(), "{file}: {notes:?}");
        }
    }
}
