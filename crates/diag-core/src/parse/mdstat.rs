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

use super::md::{MdArray, MdMember, PERSONALITIES};
use crate::model::Note;

/// What `/proc/mdstat` holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mdstat {
    /// The `Personalities :` line.
    pub personalities: Vec<String>,
    /// Every array, classified, in file order.
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
    for array in &mut out.arrays {
        array.classify();
    }
    (out, notes)
}

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

fn clip(text: &str) -> String {
    let mut end = text.len().min(80);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::super::md::state;
    use super::*;

    fn parse(text: &str) -> (Mdstat, Vec<Note>) {
        parse_mdstat("proc/mdstat", text)
    }

    #[test]
    fn degraded_raid1_with_faulty_member_and_no_spare() {
        let (md, notes) = parse(
            "Personalities : [raid1]
md0 : active raid1 sdb1[1] sda1[0](F)
      12581816 blocks super 1.2 [2/1] [_U]

unused devices: <none>
",
        );
        assert!(notes.is_empty(), "{notes:?}");
        let a = &md.arrays[0];
        assert_eq!(a.state, state::DEGRADED);
        assert!(a.degraded && !a.failed && !a.rebuilding);
        assert_eq!(a.faulty_members, "sda1");
        assert_eq!(a.missing_slots, vec![0]);
        assert_eq!(a.spares, 0);
        assert_eq!(
            a.summary,
            "degraded raid1 [2/1] [_U]; faulty: sda1; empty slot(s) 0; no spare"
        );
    }

    #[test]
    fn hot_replace_on_a_full_array_is_recovery_not_degradation() {
        let (md, _) = parse(
            "md0 : active raid5 sdk1[6](R) sdf1[5](S) sdg1[4] sdc1[2] sde1[1] sdb1[0]
      14650718208 blocks super 1.2 level 5, 512k chunk, algorithm 2 [4/4] [UUUU]
      [>....................]  recovery =  1.4% (72694748/4883572736) finish=1601.3min speed=50071K/sec
      bitmap: 0/37 pages [0KB], 65536KB chunk
",
        );
        let a = &md.arrays[0];
        assert_eq!(a.state, state::RECOVERING);
        assert!(!a.degraded);
        assert_eq!(a.rebuilding_members, "sdk1");
        assert_eq!(a.spares, 1);
        assert_eq!(a.sync.eta, "1 d 2 h");
        assert_eq!(a.sync.speed_kib, 50071);
        assert!(a.bitmap.starts_with("bitmap: 0/37"));
    }

    #[test]
    fn wrapped_recovery_line_of_a_2_4_kernel() {
        let (md, notes) = parse(
            "Personalities : [raid1]
read_ahead 1024 sectors
Event: 8
md0 : active raid1 sdb1[2] sda1[1]
      2097024 blocks [2/1] [_U]
      [>....................]  recovery =  0.4%
(10168/2097024) finish=23.8min speed=1452K/sec
unused devices: <none>
",
        );
        assert!(notes.is_empty(), "{notes:?}");
        let a = &md.arrays[0];
        assert_eq!(a.state, state::RECOVERING);
        assert_eq!(
            (a.sync.done, a.sync.total, a.sync.speed_kib),
            (10168, 2097024, 1452)
        );
        assert_eq!(a.rebuilding_members, "sdb1");
        assert_eq!(a.sync.eta, "24 min");
    }

    #[test]
    fn garbage_and_truncation_are_notes_and_other_arrays_survive() {
        let (md, notes) = parse(
            "Personalities : [raid1] [raid7]
md0 : active raid7 sda1[0] sdb1[1]
      1000 blocks [2/2] [UU]
md1 : frobnicated
\u{1}\u{2} garbage \u{ff}
md2 : active raid1 sdc1[0] sdd1[X](Z) sde1[2
      2000 blocks super 1.2 [2/1] [U_
md3 : active raid1 sdf1[0] sdg1[1]
      3000 blocks [2/2] [UU]
      [===>..] resync = 1",
        );
        assert_eq!(md.arrays.len(), 3);
        assert_eq!(md.arrays[0].level, "raid7");
        assert_eq!(md.arrays[2].name, "md3");
        assert_eq!(md.arrays[2].state, state::CLEAN);
        let lines: Vec<Option<u32>> = notes.iter().map(|n| n.line).collect();
        for line in [2, 4, 5, 6, 7, 10] {
            assert!(
                lines.contains(&Some(line)),
                "no note for line {line}: {notes:?}"
            );
        }
        assert!(notes.iter().all(|n| n.input == "proc/mdstat"));
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
/// Every real-world mdstat of `tests/corpus/mdstat` (see its
/// PROVENANCE.tsv): no panic, and each array classified as the file shows
/// it. The expectations were written from reading each file.
#[cfg(test)]
mod corpus {
    use super::super::md::MdArray;
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/mdstat");

    /// File → "array=state ..." in file order; `!` after the state marks a
    /// degraded array (an empty slot), `+` a member being rebuilt.
    const EXPECTED: &[(&str, &str)] = &[
        ("centreon-plugins__issue18_resync_DELAYED_check", "md1=resync-delayed md2=checking md0=resync-delayed"),
        ("check_raid__issue43_raid6_recovery", "md0=recovering!+"),
        ("check_raid__issue43_raid6_reshape", "md0=reshaping!"),
        ("growlight__issue84_inactive_nvme", "md127=inactive"),
        ("hdo-site__issue404_mdadm_DegradedArray_mail", "md0=degraded! md3=degraded! md1=degraded! md2=degraded!"),
        ("insights-core__test_mdstat.MDSTAT_TEST_1", "md_d0=clean"),
        ("insights-core__test_mdstat.MDSTAT_TEST_2", "md1=clean md2=degraded! md0=degraded!"),
        ("insights-core__test_mdstat.MDSTAT_TEST_3", ""),
        ("insights-core__test_mdstat.MDSTAT_TEST_4", "md0=container"),
        ("insights-core__test_mdstat.MD_DOC", "md1=clean md2=clean md3=clean"),
        ("insights-core__test_mdstat.NO_MD_DEVICES", ""),
        ("librenms-agent__pr415_raid6_check_bitmap", "md127=checking"),
        ("monitoring-plugins__issue995_centos3_recovery_wrapped", "md0=recovering!+"),
        ("monitoring-plugins__pr55_resync", "md1=clean md2=resyncing"),
        ("munin-contrib__pr613_resync_DELAYED_tab", "md1=degraded!+ md0=resyncing"),
        ("netdata__issue1478_raid5_10disk_3missing", "md3=failed!"),
        ("probert__issue125_raid1_inactive_single_S", "md127=inactive"),
        ("probert__issue125_raid1_resync", "md127=resyncing"),
        (
            "procfs__fixtures_proc_mdstat",
            "md3=clean md127=clean md0=clean md4=inactive md6=recovering!+ md8=resyncing \
             md201=checking md7=degraded! md9=resync-delayed md10=clean md11=resync-pending \
             md12=clean md126=clean md219=container md00=clean md120=clean md101=clean md42=reshaping!",
        ),
        ("procfs__fixtures_proc_mdstat.split-md0", "md0=clean"),
        ("procfs__fixtures_proc_mdstat.split-md00", "md00=clean"),
        ("procfs__fixtures_proc_mdstat.split-md10", "md10=clean"),
        ("procfs__fixtures_proc_mdstat.split-md101", "md101=clean"),
        ("procfs__fixtures_proc_mdstat.split-md11", "md11=resync-pending"),
        ("procfs__fixtures_proc_mdstat.split-md12", "md12=clean"),
        ("procfs__fixtures_proc_mdstat.split-md120", "md120=clean"),
        ("procfs__fixtures_proc_mdstat.split-md126", "md126=clean"),
        ("procfs__fixtures_proc_mdstat.split-md127", "md127=clean"),
        ("procfs__fixtures_proc_mdstat.split-md201", "md201=checking"),
        ("procfs__fixtures_proc_mdstat.split-md219", "md219=container"),
        ("procfs__fixtures_proc_mdstat.split-md3", "md3=clean"),
        ("procfs__fixtures_proc_mdstat.split-md4", "md4=inactive"),
        ("procfs__fixtures_proc_mdstat.split-md42", "md42=reshaping!"),
        ("procfs__fixtures_proc_mdstat.split-md6", "md6=recovering!+"),
        ("procfs__fixtures_proc_mdstat.split-md7", "md7=degraded!"),
        ("procfs__fixtures_proc_mdstat.split-md8", "md8=resyncing"),
        ("procfs__fixtures_proc_mdstat.split-md9", "md9=resync-delayed"),
        // NEGATIVE samples: procfs rejects them whole; diag keeps what it
        // can and notes the rest (checked below).
        ("procfs__mdstat_test_invalid-1", ""),
        ("procfs__mdstat_test_invalid-2", "md12=clean"),
        ("procfs__mdstat_test_invalid-3", "md127=clean"),
        ("procfs__mdstat_test_invalid-4", "md127=clean"),
        ("procfs__pr676_raid5_replacement_R", "md0=recovering+"),
    ];

    fn shown(a: &MdArray) -> String {
        format!(
            "{}={}{}{}",
            a.name,
            a.state,
            if a.degraded { "!" } else { "" },
            if a.rebuilding { "+" } else { "" }
        )
    }

    fn read(name: &str) -> (Mdstat, Vec<Note>) {
        let path = std::path::Path::new(DIR).join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        parse_mdstat("proc/mdstat", &String::from_utf8_lossy(&bytes))
    }

    #[test]
    fn every_corpus_file_is_classified_as_it_shows() {
        let mut files: Vec<String> = std::fs::read_dir(DIR)
            .unwrap_or_else(|e| panic!("{DIR}: {e}"))
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let listed: Vec<&str> = EXPECTED.iter().map(|(f, _)| *f).collect();
        assert_eq!(files, listed, "corpus files and expectations differ");
        let mut failures = Vec::new();
        for (file, want) in EXPECTED {
            let (md, _) = read(file);
            let got: Vec<String> = md.arrays.iter().map(shown).collect();
            let want: Vec<&str> = want.split_whitespace().collect();
            if got != want {
                failures.push(format!("{file}:\n  want {want:?}\n  got  {got:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn corpus_details_that_other_tools_get_wrong() {
        // [2/1] [_U]: the member in slot 0 (sda1) failed, sdb1 carries on.
        let (md, _) = read("hdo-site__issue404_mdadm_DegradedArray_mail");
        for a in &md.arrays {
            assert_eq!((a.missing, a.spares, a.faulty), (1, 0, 1), "{}", a.name);
            assert!(a.faulty_members.starts_with("sda"));
        }
        // A spare being rebuilt, the failed member, and the ETA.
        let (md, _) = read("procfs__fixtures_proc_mdstat.split-md6");
        let a = &md.arrays[0];
        assert_eq!(
            (a.faulty_members.as_str(), a.rebuilding_members.as_str()),
            ("sdb2", "sdc")
        );
        assert_eq!((a.sync.percent, a.sync.eta.as_str()), (8.5, "17 min"));
        // Two new disks recovering into a raid6 that lost two.
        let (md, _) = read("check_raid__issue43_raid6_recovery");
        assert_eq!(md.arrays[0].rebuilding_members, "sde1, sdf1");
        assert!(!md.arrays[0].failed);
        // Ten slots, three empty: raid5 cannot survive that.
        let (md, _) = read("netdata__issue1478_raid5_10disk_3missing");
        assert!(md.arrays[0].failed && !md.arrays[0].rebuilding);
        // A '/' in a member name.
        let (md, _) = read("insights-core__test_mdstat.MDSTAT_TEST_1");
        let m = md.arrays[0]
            .members
            .iter()
            .find(|m| m.name == "cciss/c0d0p1");
        assert_eq!(m.map(|m| m.disk.as_str()), Some("cciss/c0d0"));
        // The IMSM container and its member array.
        let (md, _) = read("procfs__fixtures_proc_mdstat");
        let find = |n: &str| {
            md.arrays
                .iter()
                .find(|a| a.name == n)
                .cloned()
                .unwrap_or_default()
        };
        assert!(find("md219").is_container);
        assert_eq!(find("md126").container, "md127");
        assert_eq!(find("md11").mode, "auto-read-only");
        assert_eq!(find("md101").mode, "read-only");
        assert_eq!(find("md9").faulty_members, "sde, sdf");
        assert_eq!(find("md3").spares, 2);
        // resync=DELAYED after spaces and a TAB.
        let (md, _) = read("munin-contrib__pr613_resync_DELAYED_tab");
        assert!(md.arrays[0].sync.delayed);
        assert_eq!(md.arrays[0].rebuilding_members, "sdc2");
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
