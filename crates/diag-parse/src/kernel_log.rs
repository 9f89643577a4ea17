//! Kernel log parsers: `/dev/kmsg` records and `dmesg`-style text.
//!
//! `/dev/kmsg` records look like `6,1234,5678901,-;message`, optionally
//! followed by dictionary lines that start with a space (` SUBSYSTEM=pci`).
//! Text logs come in many shapes (see `tests/corpus/README.md`): plain
//! `[ 1234.567890] msg`, `<6>[...]` raw priorities, caller ids
//! (`[  T259]`, `[    C0]`), `dmesg -T` wall-clock stamps, syslog prefixes
//! (`... kernel: ...`) and no timestamp at all. Both parsers are pure and
//! total: a line they cannot use becomes a [`Note`], never a panic.

use crate::model::Note;
use regex::Regex;
use serde::Serialize;
use std::sync::{Arc, LazyLock};

/// One kernel log message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// Canonical input name the entry was read from.
    pub input: Arc<str>,
    /// 1-based line of the entry in that input.
    pub line: u32,
    /// `/dev/kmsg` sequence number, when known.
    pub seq: Option<u64>,
    /// Microseconds since boot (monotonic clock), when known.
    pub time_us: Option<u64>,
    /// Syslog facility (0 is the kernel; 1, user space writing to /dev/kmsg).
    pub facility: Option<u8>,
    /// Syslog level, 0 (emerg) to 7 (debug).
    pub level: Option<u8>,
    /// The message text without prefixes, escapes decoded.
    pub message: String,
    /// The raw line as it appeared in the input.
    pub raw: String,
    /// Which boot the entry belongs to: 0 is the running (or, in a bundle,
    /// the newest) boot, -1 the one before it, and so on.
    pub boot: i32,
    /// For a line of a multi-line event (Oops, WARNING block, hung task...):
    /// the indices of the event's first and last entry in the kernel log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<(u32, u32)>,
    /// The wall-clock time the line itself carries (syslog prefix,
    /// `dmesg -T`), before it is resolved against a time zone.
    #[serde(skip)]
    pub stamp: Option<Stamp>,
    /// Wall-clock time in microseconds since the Unix epoch (UTC), where
    /// the line carries it or the boot time is known.
    pub wall_us: Option<i64>,
    /// Entries of the same input after this one that a streaming pass did
    /// not keep (they matched no rule), and the rule matches among them;
    /// `None` when every entry is kept (see `facts::kernel_sources`).
    #[serde(skip)]
    pub elided: Option<Box<Elided>>,
}

/// What a streaming pass left out after a kept entry: how many entries,
/// and, per rule, how many of them its pattern matched and the sums of
/// their numeric captures (their count still counts, their `sum_` fields
/// still add up; their text is gone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Elided {
    /// Entries left out.
    pub entries: u64,
    /// The left-out matches of each rule.
    pub hits: Vec<ElidedHits>,
}

/// Left-out matches of one rule's pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElidedHits {
    /// The rule.
    pub rule: Arc<str>,
    /// How many left-out entries its pattern matched.
    pub count: u64,
    /// How many pieces of evidence those are: a multi-line event (an OOM
    /// report, an Oops) whose lines the pattern matched more than once
    /// is one, as in a diagnosis of every entry.
    pub events: u64,
    /// Per named capture of the pattern, in `capture_names` order, up to
    /// the last that had a number: the sum of the values that are numbers
    /// (`None`: none was).
    pub sums: Vec<Option<u64>>,
}

/// Adds capture sums `more` to `into` (saturating; `None` is no number).
pub fn add_sums(into: &mut Vec<Option<u64>>, more: &[Option<u64>]) {
    if into.len() < more.len() {
        into.resize(more.len(), None);
    }
    for (a, b) in into.iter_mut().zip(more) {
        if let Some(b) = b {
            *a = Some(a.unwrap_or(0).saturating_add(*b));
        }
    }
}

impl Elided {
    /// Adds `other` to these counts, its rules' counts moved, not copied.
    pub fn absorb(&mut self, other: Elided) {
        self.entries += other.entries;
        if self.hits.is_empty() {
            self.hits = other.hits;
            return;
        }
        for h in other.hits {
            match self.hits.iter_mut().find(|x| x.rule == h.rule) {
                Some(x) => {
                    x.count += h.count;
                    x.events += h.events;
                    add_sums(&mut x.sums, &h.sums);
                }
                None => self.hits.push(h),
            }
        }
    }

    /// Counts `n` more left-out matches of rule `id`, in `events` pieces
    /// of evidence, with their capture sums.
    pub fn hit(&mut self, id: &Arc<str>, n: u64, events: u64, sums: &[Option<u64>]) {
        // (The ids of one compactor are the same `Arc`s: compared by
        // address first.)
        match self
            .hits
            .iter_mut()
            .find(|h| Arc::ptr_eq(&h.rule, id) || h.rule == *id)
        {
            Some(h) => {
                h.count += n;
                h.events += events;
                add_sums(&mut h.sums, sums);
            }
            None => self.hits.push(ElidedHits {
                rule: id.clone(),
                count: n,
                events,
                sums: sums.to_vec(),
            }),
        }
    }
}

/// One line parsed without copying it: what a [`LogEntry`] holds, borrowed
/// from the line; [`LineView::entry`] makes the entry when it is kept.
#[derive(Debug, Clone)]
pub struct LineView<'a> {
    /// The raw line (owned only when made [`LineView::into_owned`]).
    pub raw: std::borrow::Cow<'a, str>,
    /// The message, escapes decoded.
    pub message: std::borrow::Cow<'a, str>,
    /// See [`LogEntry::seq`].
    pub seq: Option<u64>,
    /// See [`LogEntry::time_us`].
    pub time_us: Option<u64>,
    /// See [`LogEntry::facility`].
    pub facility: Option<u8>,
    /// See [`LogEntry::level`].
    pub level: Option<u8>,
    /// Whether the line may carry a wall-clock stamp (a text log's line):
    /// parsed only when the entry is made.
    stamped: bool,
}

impl LineView<'_> {
    /// The wall-clock stamp the line carries, if it may carry one.
    pub fn stamp(&self) -> Option<Stamp> {
        if self.stamped {
            parse_stamp(self.raw.trim_end_matches('\r'))
        } else {
            None
        }
    }

    /// The entry of this line, line `line` (1-based) of `input`.
    pub fn entry(&self, input: &Arc<str>, line: usize) -> LogEntry {
        // One way to make an entry (the binary's size budget): held in a
        // store of its own, the raw line copied once more than building
        // it here would.
        let mut store = Vec::new();
        self.hold(&mut store, line).entry(&store, input.clone())
    }

    /// The view with its text owned: it outlives the line it was read
    /// from (a decompressed line, or one decoded lossily, handed to
    /// another thread).
    pub fn into_owned(self) -> LineView<'static> {
        LineView {
            raw: std::borrow::Cow::Owned(self.raw.into_owned()),
            message: std::borrow::Cow::Owned(self.message.into_owned()),
            seq: self.seq,
            time_us: self.time_us,
            facility: self.facility,
            level: self.level,
            stamped: self.stamped,
        }
    }

    /// The view of the same line in `to`, a copy of `from` (the text the
    /// view was read from) that lives longer: what borrowed `from` borrows
    /// `to` (a part outside `from`, which a parser never gives, is
    /// copied).
    pub fn rebase<'b>(self, from: &str, to: &'b str) -> LineView<'b> {
        let moved = |part: std::borrow::Cow<'_, str>| -> std::borrow::Cow<'b, str> {
            let at = (part.as_ptr() as usize).wrapping_sub(from.as_ptr() as usize);
            match part {
                std::borrow::Cow::Borrowed(text) => at
                    .checked_add(text.len())
                    .and_then(|end| to.get(at..end))
                    .filter(|_| from.len() == to.len())
                    .map_or_else(
                        || std::borrow::Cow::Owned(text.to_string()),
                        std::borrow::Cow::Borrowed,
                    ),
                std::borrow::Cow::Owned(text) => std::borrow::Cow::Owned(text),
            }
        };
        LineView {
            raw: moved(self.raw),
            message: moved(self.message),
            seq: self.seq,
            time_us: self.time_us,
            facility: self.facility,
            level: self.level,
            stamped: self.stamped,
        }
    }

    /// The line held for later, line `line` (1-based) of its input: what
    /// [`LineView::entry`] needs, its text appended to `store` (the raw
    /// line, then the message when it is not a part of it: a `/dev/kmsg`
    /// message with escapes decoded). A streaming pass holds the lines it
    /// may keep and drops most of them again: in one store, not an
    /// allocation or three per line (a fifth of the placing thread's time
    /// at 50% matching lines went to malloc and free, session 20); the
    /// entry, its stamp read, is made only for those it keeps
    /// ([`HeldLine::entry`]).
    pub fn hold(&self, store: &mut Vec<u8>, line: usize) -> HeldLine {
        let at = store.len();
        let raw = self.raw.as_bytes().as_ptr_range();
        let text = self.message.as_bytes().as_ptr_range();
        let inside = matches!(self.message, std::borrow::Cow::Borrowed(_))
            && raw.start <= text.start
            && text.end <= raw.end;
        store.extend_from_slice(self.raw.as_bytes());
        let span = if inside {
            let start = text.start as usize - raw.start as usize;
            (start, start + self.message.len())
        } else {
            store.extend_from_slice(self.message.as_bytes());
            (self.raw.len(), self.raw.len() + self.message.len())
        };
        HeldLine {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            seq: self.seq,
            time_us: self.time_us,
            facility: self.facility,
            level: self.level,
            at,
            raw: self.raw.len(),
            span,
            stamped: self.stamped,
        }
    }
}

/// A line a streaming pass holds ([`LineView::hold`]) until it knows
/// whether it keeps it: its text is in the pass's store, from
/// [`HeldLine::at`] to [`HeldLine::end`].
#[derive(Debug, Clone, Copy)]
pub struct HeldLine {
    line: u32,
    seq: Option<u64>,
    time_us: Option<u64>,
    facility: Option<u8>,
    level: Option<u8>,
    at: usize,
    /// The raw line's length.
    raw: usize,
    /// The message, from `at`.
    span: (usize, usize),
    stamped: bool,
}

impl HeldLine {
    /// Where the line's text starts in its store.
    pub fn at(&self) -> usize {
        self.at
    }

    /// Where the line's text ends in its store.
    pub fn end(&self) -> usize {
        self.at + self.raw.max(self.span.1)
    }

    /// The line's text moved in its store to `at`.
    pub fn move_to(&mut self, at: usize) {
        self.at = at;
    }

    /// The entry [`LineView::entry`] makes of the line, its text in
    /// `store`, of input `input`.
    pub fn entry(&self, store: &[u8], input: Arc<str>) -> LogEntry {
        // (Text a view held: UTF-8, whole characters; lossily all the
        // same, not trusted.)
        let text = |from: usize, to: usize| {
            let bytes = store.get(self.at + from..self.at + to).unwrap_or_default();
            String::from_utf8_lossy(bytes).into_owned()
        };
        let raw = text(0, self.raw);
        let stamp = if self.stamped {
            parse_stamp(raw.trim_end_matches('\r'))
        } else {
            None
        };
        LogEntry {
            input,
            line: self.line,
            seq: self.seq,
            time_us: self.time_us,
            facility: self.facility,
            level: self.level,
            message: text(self.span.0, self.span.1),
            raw,
            boot: 0,
            block: None,
            stamp,
            wall_us: None,
            elided: None,
        }
    }
}

/// A wall-clock time as a log line writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// An instant: RFC 3339 / ISO 8601 with an offset. Microseconds since
    /// the epoch.
    Exact(i64),
    /// A local civil time (BSD syslog, `dmesg -T`): the year may be missing
    /// and the zone is the host's.
    Local {
        /// Year, when the format has one.
        year: Option<i16>,
        /// 1 to 12.
        month: i8,
        /// 1 to 31.
        day: i8,
        /// Seconds since midnight.
        seconds: i32,
        /// Fraction of the second, microseconds.
        micros: i32,
    },
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Microseconds since the epoch of an RFC 3339 stamp as the ISO pattern
/// captures it (`2026-12-06T10:05:00.123456+01:00`, a space for the `T`,
/// `+0100`, `Z`, 0 to 9 digits of fraction), or `None` for a date or time
/// that does not exist. By hand, not with jiff: on every matched line of a
/// log rsyslog wrote (jiff is built for size, docs/static-binary.md). It
/// gives what jiff's `Timestamp` parser gives (a test compares them): a
/// leap second (`:60`) read as `:59`, offsets to ±25:59, the fraction cut
/// to microseconds.
fn iso_micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?.min(59));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut at = 19;
    let mut micros = 0i64;
    if b.get(at) == Some(&b'.') {
        let digits = b[at + 1..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .count();
        let kept = digits.min(6);
        micros = num(at + 1, kept)? * 10i64.pow(6 - kept as u32);
        at += 1 + digits;
    }
    let offset = match b.get(at)? {
        b'Z' => 0,
        &sign @ (b'+' | b'-') => {
            let colon = usize::from(b.get(at + 3) == Some(&b':'));
            let (oh, om) = (num(at + 1, 2)?, num(at + 3 + colon, 2)?);
            if oh > 25 || om > 59 {
                return None;
            }
            let minutes = oh * 60 + om;
            if sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset * 60;
    Some(seconds * 1_000_000 + micros)
}

/// The wall-clock stamp at the start of a log line, if it has one, in
/// the shapes these patterns (the test's oracle, `stamp_by_regex`)
/// describe, read by bytes: ISO
/// `^(?:<\d{1,3}>1 )?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d))\s`
/// and BSD
/// `^\[?(?:[A-Z][a-z]{2} )?([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?: (\d{4}))?\]?\s`
/// ("Feb 10 10:05:00" (syslog), "Wed Feb 24 00:35:21 2021" (logread),
/// "[Sat Feb 10 10:05:00 2014]" (dmesg -T)), with ASCII `\d` and `\s`.
///
/// Until session 17 these were regexes with Unicode `\d` and `\s`,
/// whose captures cost ~4,800 instructions a line (16% of a log's
/// analysis at 50% matching lines). A stamp is ASCII: the by-bytes
/// reader reads none in a line whose stamp has an Arabic-Indic digit
/// or ends in a no-break space, which the Unicode regexes read (and
/// three Arabic-Indic digits in a fraction, nine bytes, overflowed
/// `6 - len`: a panic in a debug build).
///
/// Each step takes the branch the regexes' leftmost-first search takes
/// first and falls back as they backtrack: `\[?` and the day of the week
/// are optional, a fraction must be followed by the year or the end,
/// the year only counts when `\]?\s` follows it.
pub fn parse_stamp(line: &str) -> Option<Stamp> {
    stamp_of(&Ascii(line.as_bytes()))
}

/// A line's bytes as the stamp reader reads them: past its end a byte
/// that matches nothing, as the end of the line matches nothing.
struct Ascii<'a>(&'a [u8]);

impl Ascii<'_> {
    // Not inlined: ~60 inlined reads made `parse_stamp` 6.5 KB (the
    // binary's size budget); a stamp is read only for a kept line or a
    // windowed rule's match.
    #[inline(never)]
    fn at(&self, i: usize) -> u8 {
        self.0.get(i).copied().unwrap_or(0)
    }
    fn is(&self, i: usize, want: u8) -> bool {
        self.at(i) == want
    }
    fn digit(&self, i: usize) -> bool {
        self.at(i).is_ascii_digit()
    }
    fn digits(&self, from: usize, n: usize) -> bool {
        (from..from + n).all(|i| self.digit(i))
    }
    /// `\s` on ASCII: tab, line feed, vertical tab, form feed, carriage
    /// return, space (Unicode White_Space; `u8::is_ascii_whitespace`
    /// leaves out the vertical tab).
    fn space(&self, i: usize) -> bool {
        matches!(self.at(i), b'\t'..=b'\r' | b' ')
    }
    /// `[A-Z][a-z]{2}`.
    fn word(&self, i: usize) -> bool {
        self.at(i).is_ascii_uppercase()
            && self.at(i + 1).is_ascii_lowercase()
            && self.at(i + 2).is_ascii_lowercase()
    }
    /// `\]?\s`.
    fn end(&self, q: usize) -> bool {
        (self.is(q, b']') && self.space(q + 1)) || self.space(q)
    }
    fn value(&self, from: usize, n: usize) -> i32 {
        (from..from + n).fold(0, |v, i| v * 10 + i32::from(self.at(i).wrapping_sub(b'0')))
    }
}

fn stamp_of(a: &Ascii<'_>) -> Option<Stamp> {
    // ISO: `(?:<\d{1,3}>1 )?` then 19 bytes of date and time.
    let mut i = 0;
    if a.is(0, b'<') {
        let n = (1..5).take_while(|&k| a.digit(k)).count();
        if (1..=3).contains(&n) && a.is(1 + n, b'>') && a.is(2 + n, b'1') && a.is(3 + n, b' ') {
            i = 4 + n;
        }
    }
    let date = a.digits(i, 4)
        && a.is(i + 4, b'-')
        && a.digits(i + 5, 2)
        && a.is(i + 7, b'-')
        && a.digits(i + 8, 2)
        && matches!(a.at(i + 10), b'T' | b' ')
        && a.digits(i + 11, 2)
        && a.is(i + 13, b':')
        && a.digits(i + 14, 2)
        && a.is(i + 16, b':')
        && a.digits(i + 17, 2);
    if date {
        let mut p = i + 19;
        if a.is(p, b'.') {
            let n = (p + 1..p + 11).take_while(|&k| a.digit(k)).count();
            if (1..=9).contains(&n) {
                p += 1 + n;
            }
        }
        let end = match a.at(p) {
            b'Z' => Some(p + 1),
            b'+' | b'-' if a.digits(p + 1, 2) => {
                let colon = usize::from(a.is(p + 3, b':'));
                a.digits(p + 3 + colon, 2).then_some(p + 5 + colon)
            }
            _ => None,
        };
        if let Some(end) = end.filter(|&end| a.space(end)) {
            // ASCII up to `end`.
            let text = std::str::from_utf8(a.0.get(i..end)?).ok()?;
            return iso_micros(text).map(Stamp::Exact);
        }
    }
    // BSD.
    let start = usize::from(a.is(0, b'['));
    for weekday in [true, false] {
        let mut p = start;
        if weekday {
            if !(a.word(p) && a.is(p + 3, b' ')) {
                continue;
            }
            p += 4;
        }
        let month = p;
        if !(a.word(p) && a.is(p + 3, b' ')) {
            continue;
        }
        p += 3;
        while a.is(p, b' ') {
            p += 1;
        }
        let day_len = if a.digits(p, 2) && a.is(p + 2, b' ') {
            2
        } else if a.digit(p) && a.is(p + 1, b' ') {
            1
        } else {
            continue;
        };
        let day = a.value(p, day_len);
        p += day_len + 1;
        if !(a.digits(p, 2)
            && a.is(p + 2, b':')
            && a.digits(p + 3, 2)
            && a.is(p + 5, b':')
            && a.digits(p + 6, 2))
        {
            continue;
        }
        let seconds = a.value(p, 2) * 3600 + a.value(p + 3, 2) * 60 + a.value(p + 6, 2);
        p += 8;
        let mut micros = 0;
        if a.is(p, b'.') {
            let n = (p + 1..p + 8).take_while(|&k| a.digit(k)).count();
            if !(1..=6).contains(&n) {
                continue;
            }
            micros = a.value(p + 1, n) * 10i32.pow(6 - n as u32);
            p += 1 + n;
        }
        let year = if a.is(p, b' ') && a.digits(p + 1, 4) && a.end(p + 5) {
            Some(a.value(p + 1, 4))
        } else if a.end(p) {
            None
        } else {
            continue;
        };
        let name = a.0.get(month..month + 3)?;
        let month = MONTHS.iter().position(|m| m.as_bytes() == name)?;
        return Some(Stamp::Local {
            year: year.and_then(|y| i16::try_from(y).ok()),
            month: i8::try_from(month + 1).ok()?,
            day: i8::try_from(day).ok()?,
            seconds,
            micros,
        });
    }
    None
}

/// Parses `/dev/kmsg` records. Lost records (a jump in the sequence numbers:
/// the ring buffer overwrote them before they were read) become notes.
pub fn parse_kmsg(input: &str, text: &str) -> (Vec<LogEntry>, Vec<Note>) {
    let name: Arc<str> = Arc::from(input);
    let mut parser = KmsgLines::new(input);
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        if let Some(view) = parser.line(index + 1, raw, &mut notes) {
            entries.push(view.entry(&name, index + 1));
        }
    }
    (entries, notes)
}

/// `/dev/kmsg` records one line at a time ([`parse_kmsg`] of a stream).
#[derive(Debug)]
pub struct KmsgLines {
    input: Arc<str>,
    last_seq: Option<u64>,
    records: u64,
}

impl KmsgLines {
    /// A parser for input `input`.
    pub fn new(input: &str) -> Self {
        KmsgLines {
            input: Arc::from(input),
            last_seq: None,
            records: 0,
        }
    }

    /// Records parsed so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Parses line `line` (1-based); a line that is not a record (a
    /// dictionary line, a malformed one) gives `None`, with a note when it
    /// is malformed.
    pub fn line<'a>(
        &mut self,
        line: usize,
        raw: &'a str,
        notes: &mut Vec<Note>,
    ) -> Option<LineView<'a>> {
        let input = &*self.input;
        if raw.is_empty() {
            return None;
        }
        if raw.starts_with(' ') {
            // Dictionary line (` KEY=value`) of the preceding record.
            if self.records == 0 {
                notes.push(Note::line(input, line, "dictionary line without a record"));
            }
            return None;
        }
        // By bytes: this runs on every record of a log (`str::split_once`
        // and `split(',')` went through the general char searcher).
        let Some(semi) = memchr::memchr(b';', raw.as_bytes()) else {
            notes.push(Note::line(input, line, "not a /dev/kmsg record (no ';')"));
            return None;
        };
        let (prefix, message) = (&raw.as_bytes()[..semi], &raw[semi + 1..]);
        let mut fields = prefix.split(|&b| b == b',');
        let prio = fields
            .next()
            .and_then(field_number)
            .and_then(|p| u32::try_from(p).ok());
        let seq = fields.next().and_then(field_number);
        let time_us = fields.next().and_then(field_number);
        let (Some(prio), Some(seq), Some(time_us)) = (prio, seq, time_us) else {
            notes.push(Note::line(
                input,
                line,
                "not a /dev/kmsg record (expected prio,seq,usec,flags;message)",
            ));
            return None;
        };
        if let Some(prev) = self.last_seq {
            if seq > prev + 1 {
                notes.push(Note::line(
                    input,
                    line,
                    format!(
                        "{} kernel log records lost: sequence jumps from {prev} to {seq} (the ring buffer overwrote them)",
                        seq - prev - 1
                    ),
                ));
            }
        }
        self.last_seq = Some(seq);
        self.records += 1;
        let message = if has_escape(message) {
            std::borrow::Cow::Owned(unescape_kmsg(message))
        } else {
            std::borrow::Cow::Borrowed(message)
        };
        Some(LineView {
            raw: std::borrow::Cow::Borrowed(raw),
            message,
            seq: Some(seq),
            time_us: Some(time_us),
            facility: u8::try_from(prio >> 3).ok(),
            level: u8::try_from(prio & 7).ok(),
            stamped: false,
        })
    }
}

/// Decodes the `\xNN` escapes /dev/kmsg uses for non-printable bytes
/// (every byte below 0x20 or from 0x7f, and the backslash): UTF-8 text
/// arrives escaped byte by byte and decodes back to its characters. A
/// decoded character the one sanitiser would alter
/// ([`crate::sanitize::is_control`]: ESC, BEL, a line feed, DEL, a C1
/// control, a bidi override), the tab aside, stays as its escape text in
/// the message: an escape sequence in a kernel message never becomes raw
/// in a field, and the record stays one line. Bytes that are not UTF-8
/// become U+FFFD.
fn unescape_kmsg(message: &str) -> String {
    if !message.contains("\\x") {
        return message.to_string();
    }
    let bytes = message.as_bytes();
    // The decoded bytes, and for each the input range it came from (four
    // bytes for an escape, one for a byte as it is).
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut from: Vec<(usize, usize)> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && bytes[i + 1] == b'x' {
            let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).ok();
            if let Some(value) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                decoded.push(value);
                from.push((i, i + 4));
                i += 4;
                continue;
            }
        }
        decoded.push(bytes[i]);
        from.push((i, i + 1));
        i += 1;
    }
    let mut out = String::with_capacity(message.len());
    let mut at = 0;
    for chunk in decoded.utf8_chunks() {
        for c in chunk.valid().chars() {
            let len = c.len_utf8();
            let escaped = from[at..at + len].iter().any(|(a, b)| b - a > 1);
            if escaped && c != '\t' && crate::sanitize::is_control(c) {
                // The escape text as the kernel wrote it (the range
                // always falls on character boundaries).
                let text = message.get(from[at].0..from[at + len - 1].1);
                out.push_str(text.unwrap_or("\u{fffd}"));
            } else {
                out.push(c);
            }
            at += len;
        }
        if !chunk.invalid().is_empty() {
            out.push('\u{fffd}');
            at += chunk.invalid().len();
        }
    }
    out
}

static SYSLOG_KERNEL: LazyLock<Regex> = LazyLock::new(|| {
    // Everything up to and including "kernel:" in a syslog/logread line.
    Regex::new(r"^.{0,120}?\bkernel:\s?").expect("static regex")
});
static PRIORITY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^<(\d{1,4})>").expect("static regex"));
static MONOTONIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[\s*(\d{1,10})\.(\d{1,9})\]\s?").expect("static regex"));
static WALL_CLOCK: LazyLock<Regex> = LazyLock::new(|| {
    // dmesg -T: [Sat Feb 10 10:05:00 2014]
    Regex::new(r"^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\]\s?")
        .expect("static regex")
});
static CALLER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[\s*[TC]\d+\]\s?").expect("static regex"));
static DMESG_X: LazyLock<Regex> = LazyLock::new(|| {
    // dmesg -x: "kern  :info  : "
    Regex::new(r"^([a-z]+)\s*:([a-z]+)\s*:\s").expect("static regex")
});

const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
];

/// Parses kernel messages in text form: `dmesg` output (every line is a
/// kernel message). Lines with no recognisable prefix are kept as messages
/// without a timestamp (dmesg prints continuation lines that way).
pub fn parse_dmesg(input: &str, text: &str) -> (Vec<LogEntry>, Vec<Note>) {
    parse_text(input, text, false)
}

/// Parses a syslog file (`kern.log`, `syslog`, `messages`, OpenWrt
/// `logread`): only the kernel's lines are kept (`... kernel: msg`, or the
/// RFC 5424 `<4>1 TIME HOST kernel - - - msg`); the others belong to other
/// programs and are skipped without a note.
pub fn parse_syslog(input: &str, text: &str) -> (Vec<LogEntry>, Vec<Note>) {
    parse_text(input, text, true)
}

static RFC5424_KERNEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^<(\d{1,3})>1 \S+ \S+ kernel \S+ \S+ (?:-|\[[^\]]*\])+ ?").expect("static regex")
});

/// pstore splits a crash log into parts headed `Panic#1 Part1`.
static PSTORE_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:Oops|Panic|Emergency|Restart|Halt|Poweroff|Unknown)#\d+ Part\d+$")
        .expect("static regex")
});

fn parse_text(input: &str, text: &str, syslog: bool) -> (Vec<LogEntry>, Vec<Note>) {
    let name: Arc<str> = Arc::from(input);
    let parser = TextLines::new(input, syslog);
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        if let Some(view) = parser.line(index + 1, raw, &mut notes) {
            entries.push(view.entry(&name, index + 1));
        }
    }
    (entries, notes)
}

/// Text kernel logs one line at a time ([`parse_dmesg`] and
/// [`parse_syslog`] of a stream).
#[derive(Debug)]
pub struct TextLines {
    input: Arc<str>,
    syslog: bool,
}

impl TextLines {
    /// A parser for input `input`: a syslog file (only its kernel lines
    /// are entries) or `dmesg` text.
    pub fn new(input: &str, syslog: bool) -> Self {
        TextLines {
            input: Arc::from(input),
            syslog,
        }
    }

    /// Parses line `line` (1-based); `None` for a line that is no kernel
    /// message (blank, a pstore header, another program's syslog line).
    pub fn line<'a>(
        &self,
        line: usize,
        raw: &'a str,
        notes: &mut Vec<Note>,
    ) -> Option<LineView<'a>> {
        let mut rest = raw.trim_end_matches('\r');
        // A pstore header has its `#` after a word of at most 9 letters.
        let header = rest.as_bytes().iter().take(10).any(|&b| b == b'#');
        if rest.trim().is_empty() || (header && PSTORE_HEADER.is_match(rest)) {
            return None;
        }
        let mut level = None;
        let mut facility = None;
        let rfc5424 = if rest.starts_with('<') {
            RFC5424_KERNEL.captures(rest)
        } else {
            None
        };
        if let Some(c) = rfc5424 {
            if let Ok(prio) = c[1].parse::<u32>() {
                level = u8::try_from(prio & 7).ok();
                facility = u8::try_from(prio >> 3).ok();
            }
            rest = &rest[c[0].len()..];
        } else if let Some(end) = syslog_kernel_end(rest) {
            rest = &rest[end..];
        } else if self.syslog {
            return None;
        }
        if rest.starts_with('<') {
            if let Some(c) = PRIORITY.captures(rest) {
                if let Ok(prio) = c[1].parse::<u32>() {
                    level = u8::try_from(prio & 7).ok();
                    facility = u8::try_from(prio >> 3).ok();
                }
                rest = &rest[c[0].len()..];
            }
        }
        if rest.starts_with(|c: char| c.is_ascii_lowercase()) {
            if let Some(c) = DMESG_X.captures(rest) {
                if let Some(pos) = LEVELS.iter().position(|l| *l == &c[2]) {
                    level = u8::try_from(pos).ok();
                }
                rest = &rest[c[0].len()..];
            }
        }
        let mut time_us = None;
        if rest.starts_with('[') {
            let stamp = monotonic(rest).or_else(|| {
                MONOTONIC.captures(rest).map(|c| {
                    (
                        c[1].parse().unwrap_or(0),
                        c.get(2).map_or("", |m| m.as_str()),
                        c[0].len(),
                    )
                })
            });
            if let Some((secs, frac, len)) = stamp {
                let mut micros: u64 = if frac.len() <= 9 && frac.bytes().all(|b| b.is_ascii_digit())
                {
                    decimal(frac.as_bytes())
                } else {
                    frac.parse().unwrap_or(0)
                };
                // Normalise the fraction to microseconds whatever its width.
                match frac.len() {
                    n if n < 6 => micros *= 10u64.pow(6 - n as u32),
                    n if n > 6 => micros /= 10u64.pow(n as u32 - 6),
                    _ => {}
                }
                time_us = Some(secs.saturating_mul(1_000_000).saturating_add(micros));
                rest = &rest[len..];
            } else if let Some(m) = WALL_CLOCK.find(rest) {
                rest = &rest[m.end()..];
            } else if !rest.starts_with("[ ") {
                // A bracket that is not a known stamp: keep the line, say so.
                if rest.len() > 1 && rest.as_bytes()[1].is_ascii_digit() {
                    notes.push(Note::line(
                        &self.input,
                        line,
                        "unrecognised timestamp; message kept without time",
                    ));
                }
            }
            // A caller id (`[T123]`) may follow the stamp; the anchored
            // regex runs only where one can start.
            if rest.starts_with('[') {
                if let Some(m) = CALLER.find(rest) {
                    rest = &rest[m.end()..];
                }
            }
        }
        Some(LineView {
            raw: std::borrow::Cow::Borrowed(raw),
            message: std::borrow::Cow::Borrowed(rest),
            seq: None,
            time_us,
            facility,
            level,
            stamped: true,
        })
    }
}

/// What `MONOTONIC` captures of an ASCII `[ 1234.567890] ` stamp (the
/// seconds, the fraction's digits, the stamp's length), without the
/// regex: it is on every line of a `dmesg` or syslog log. `None` when the
/// line is not that plainly (a Unicode space or digit, too many digits,
/// no stamp): the regex decides.
fn monotonic(line: &str) -> Option<(u64, &str, usize)> {
    let bytes = line.as_bytes();
    let ascii_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let mut i = 1 + bytes
        .get(1..)?
        .iter()
        .take_while(|&&b| ascii_space(b))
        .count();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(i);
    if !(1..=10).contains(&whole) || bytes.get(i + whole) != Some(&b'.') {
        return None;
    }
    let secs = decimal(&bytes[i..i + whole]);
    i += whole + 1;
    let frac = digits(i);
    if !(1..=9).contains(&frac) || bytes.get(i + frac) != Some(&b']') {
        return None;
    }
    let fraction = &line[i..i + frac];
    i += frac + 1;
    match bytes.get(i) {
        Some(&b) if ascii_space(b) => i += 1,
        Some(b) if !b.is_ascii() => return None,
        _ => {}
    }
    Some((secs, fraction, i))
}

/// A number of a `/dev/kmsg` record's prefix, as `str::parse::<u64>`
/// reads it: at most 19 digits in one pass over the bytes (this runs
/// three times a record: a closure checking the digits, then summing
/// them, took 6.5% of the instructions of a 0.1%-density log's
/// analysis), anything else (a `+`, 20 digits, a non-digit) by
/// `str::parse`.
#[inline]
fn field_number(field: &[u8]) -> Option<u64> {
    if !field.is_empty() && field.len() <= 19 {
        let mut n: u64 = 0;
        let mut digits = true;
        for &b in field {
            let d = b.wrapping_sub(b'0');
            digits &= d <= 9;
            n = n.wrapping_mul(10).wrapping_add(u64::from(d));
        }
        if digits {
            return Some(n);
        }
    }
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// Whether a `/dev/kmsg` message holds a `\\x` escape (by the bytes: a
/// substring search is set up anew on every call, and this runs on every
/// record).
fn has_escape(message: &str) -> bool {
    let bytes = message.as_bytes();
    memchr::memchr_iter(b'\\', bytes).any(|at| bytes.get(at + 1) == Some(&b'x'))
}

/// The searcher of `kernel:` in a syslog line, made once.
static KERNEL_COLON: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"kernel:"));

/// The value of at most 19 ASCII digits (the callers count them).
fn decimal(digits: &[u8]) -> u64 {
    digits
        .iter()
        .fold(0, |n, d| n * 10 + u64::from(d.wrapping_sub(b'0')))
}

/// Where the message starts after `... kernel:` in a syslog line: what
/// `^.{0,120}?\bkernel:\s?` finds, without the regex for the common
/// ASCII lines (that Unicode word boundary keeps the regex off its
/// fastest engine; it decides the rest).
fn syslog_kernel_end(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    // 120 characters then `kernel:`: at most 4 bytes a character.
    let window = &bytes[..bytes.len().min(120 * 4 + 7)];
    let mut from = 0;
    while let Some(pos) = KERNEL_COLON.find(&window[from..]) {
        let at = from + pos;
        let before = &bytes[..at];
        if !before.is_ascii() || at > 120 {
            return SYSLOG_KERNEL.find(line).map(|m| m.end());
        }
        let boundary = before
            .last()
            .is_none_or(|&b| !(b.is_ascii_alphanumeric() || b == b'_'));
        if boundary {
            let end = at + 7;
            return match bytes.get(end) {
                Some(b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') => Some(end + 1),
                Some(b) if !b.is_ascii() => SYSLOG_KERNEL.find(line).map(|m| m.end()),
                _ => Some(end),
            };
        }
        from = at + 1;
    }
    if window.is_ascii() {
        // The window reaches past 120 characters: no match further on.
        return None;
    }
    SYSLOG_KERNEL.find(line).map(|m| m.end())
}

/// Numbers the boots of one chronological stream of entries (oldest
/// first), from 0 upwards: a new boot starts at a `Linux version` banner,
/// or where the monotonic clock falls back to its first seconds after
/// having run for a while (a boot whose banner was lost). Returns how many
/// boots there are.
pub fn number_boots(entries: &mut [LogEntry]) -> i32 {
    let mut boot = 0;
    let mut last_time: Option<u64> = None;
    let mut seen_any = false;
    for entry in entries.iter_mut() {
        let banner = entry.message.starts_with("Linux version ");
        let clock_reset = match (last_time, entry.time_us) {
            (Some(prev), Some(now)) => prev > 60_000_000 && now < 10_000_000,
            _ => false,
        };
        if seen_any && (banner || clock_reset) {
            boot += 1;
            last_time = None;
        }
        entry.boot = boot;
        seen_any = true;
        if entry.time_us.is_some() {
            last_time = entry.time_us;
        }
    }
    if seen_any {
        boot + 1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record's prefix read by bytes gives what `str::parse` of each
    /// field gave: a `+`, too many digits, a non-digit.
    /// A view moved onto a longer-lived copy of its line
    /// ([`LineView::rebase`]) or made owned ([`LineView::into_owned`]) is
    /// the same view, and makes the same entry; what was borrowed now
    /// borrows the copy, what was owned (a decoded `/dev/kmsg` message)
    /// stays owned; a part that is not in `from` is copied, not sliced
    /// from `to` at a wrong place.
    #[test]
    fn a_view_moved_to_a_copy_of_its_line_is_the_same_view() {
        let input: Arc<str> = Arc::from("x");
        let kmsg = "6,1,2,-;a\\x1b[31m b";
        let syslog = "Dec  6 10:05:00 h kernel: [ 1.000000] e1000e: eth0 NIC Link is Down";
        for (line, kmsg_format) in [(kmsg, true), (syslog, false)] {
            let parse = |line| {
                if kmsg_format {
                    KmsgLines::new("x").line(1, line, &mut Vec::new())
                } else {
                    TextLines::new("x", true).line(1, line, &mut Vec::new())
                }
            };
            let from = line.to_string();
            let view = parse(&from).expect("a line");
            let to = line.to_string();
            let moved = view.clone().rebase(&from, &to);
            assert_eq!(moved.entry(&input, 1), view.entry(&input, 1), "{line}");
            assert!(to.as_bytes().as_ptr_range().contains(&moved.raw.as_ptr()));
            assert_eq!(
                matches!(moved.message, std::borrow::Cow::Owned(_)),
                matches!(view.message, std::borrow::Cow::Owned(_)),
                "{line}"
            );
            let owned = view.clone().into_owned();
            assert_eq!(owned.entry(&input, 1), view.entry(&input, 1), "{line}");
            // `to` shorter than `from`: nothing is sliced out of it.
            let moved = view.clone().rebase(&from, &to[..5]);
            assert_eq!(moved.entry(&input, 1), view.entry(&input, 1), "{line}");
            assert!(matches!(moved.raw, std::borrow::Cow::Owned(_)));
        }
    }

    #[test]
    fn kmsg_prefix_by_bytes_reads_as_str_parse_did() {
        for (line, expected) in [
            ("6,12,345,-;msg", Some((6, 12, 345))),
            ("+6,+12,+345,-;msg", Some((6, 12, 345))),
            ("6,18446744073709551615,1,-;msg", Some((6, u64::MAX, 1))),
            (
                "6,9999999999999999999,1,-;msg",
                Some((6, 9_999_999_999_999_999_999, 1)),
            ),
            ("6,999999999999999999/,1,-;msg", None),
            ("6,-1,1,-;msg", None),
            ("6,18446744073709551616,1,-;msg", None),
            ("4294967296,1,1,-;msg", None),
            ("6,1x,1,-;msg", None),
            ("6,,1,-;msg", None),
            ("6,1;msg", None),
            ("\u{e9},1,1,-;msg", None),
        ] {
            let mut parser = KmsgLines::new("dev/kmsg");
            let view = parser.line(1, line, &mut Vec::new());
            let got = view.map(|v| {
                (
                    u32::from(v.facility.unwrap_or(0)) << 3 | u32::from(v.level.unwrap_or(0)),
                    v.seq.unwrap_or(0),
                    v.time_us.unwrap_or(0),
                )
            });
            assert_eq!(got, expected, "{line}");
        }
    }

    /// The stamp parsed by hand is what the regex captures, or the regex
    /// decides: a line the fast path takes differently would move a time.
    #[test]
    fn monotonic_stamp_by_hand_agrees_with_its_regex() {
        for line in [
            "[    1.234567] eth0: link up",
            "[1.2] x",
            "[ 4294967295.999999999]x",
            "[\t12.5]\tmsg",
            "[12345678901.5] eleven digits",
            "[1.1234567890] ten fraction digits",
            "[ 12.]",
            "[ .5] no seconds",
            "[ 12.5",
            "[\u{a0}12.5] no-break space",
            "[ 12.5]\u{2003}em space",
            "[ \u{663}.5] arabic-indic digit",
            "[ 12.5]]",
            "[",
            "[T123] caller",
        ] {
            let by_regex = MONOTONIC.captures(line).map(|c| {
                (
                    c[1].parse::<u64>().unwrap_or(0),
                    c[2].to_string(),
                    c[0].len(),
                )
            });
            if let Some((secs, frac, len)) = monotonic(line) {
                assert_eq!(by_regex, Some((secs, frac.to_string(), len)), "{line:?}");
            }
        }
        assert_eq!(monotonic("[    1.234567] eth0"), Some((1, "234567", 15)));
        assert_eq!(monotonic("[\u{a0}12.5] x"), None);
    }

    #[test]
    fn kmsg_records_with_dictionary_and_escapes() {
        let text = "6,361,518496,-;ahci 0000:00:05.0: AHCI 0001.0300\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:05.0\n12,362,600000,-;tab\\x09here\n";
        let (entries, notes) = parse_kmsg("dev/kmsg", text);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].seq, Some(361));
        assert_eq!(entries[0].time_us, Some(518_496));
        assert_eq!((entries[0].facility, entries[0].level), (Some(0), Some(6)));
        assert_eq!(entries[1].message, "tab\there");
        assert_eq!((entries[1].facility, entries[1].level), (Some(1), Some(4)));
        assert_eq!(entries[1].line, 4);
    }

    #[test]
    fn kmsg_malformed_and_truncated_lines_become_notes() {
        let text =
            "6,1,100,-;first\ngarbage line\n6,x,100,-;bad seq\n6,5,200,-;after a gap\n6,6,30";
        let (entries, notes) = parse_kmsg("dev/kmsg", text);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].message, "after a gap");
        let messages: Vec<_> = notes.iter().map(|n| (n.line, n.message.as_str())).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[2].1.starts_with("3 kernel log records lost"));
        assert_eq!(messages[3].0, Some(5));
    }

    #[test]
    fn kmsg_trailing_escape_is_kept() {
        assert_eq!(unescape_kmsg("end\\x4"), "end\\x4");
        assert_eq!(unescape_kmsg("bad\\xZZ"), "bad\\xZZ");
        assert_eq!(unescape_kmsg("\\x41"), "A");
    }

    #[test]
    fn kmsg_escapes_stay_escaped_in_fields() {
        // ESC ] 0 ; ... BEL ESC [ 2 J: retitles and clears a terminal.
        let text = "6,1,1000,-;usb 1-1: Product: \\x1b]0;owned\\x07\\x1b[2J\\x0a fake line\n\
                    6,2,1001,-;CSI \\xc2\\x9b31m, bare \\x9b, DEL \\x7f, RLO \\xe2\\x80\\xae, NUL \\x00\n\
                    6,3,1002,-;caf\\xc3\\xa9 \\xe2\\x98\\x83 tab\\x09here back\\x5cslash \\X1B \\xff\\xfe\n";
        let (entries, notes) = parse_kmsg("dev/kmsg", text);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            entries[0].message,
            "usb 1-1: Product: \\x1b]0;owned\\x07\\x1b[2J\\x0a fake line"
        );
        assert_eq!(
            entries[1].message,
            "CSI \\xc2\\x9b31m, bare \u{fffd}, DEL \\x7f, RLO \\xe2\\x80\\xae, NUL \\x00"
        );
        // UTF-8 text, the tab and the backslash still decode; bytes that
        // are not UTF-8 stay lossy.
        assert_eq!(
            entries[2].message,
            "caf\u{e9} \u{2603} tab\there back\\slash \\X1B \u{fffd}\u{fffd}"
        );
        for entry in &entries {
            assert!(
                !entry
                    .message
                    .chars()
                    .any(|c| c != '\t' && crate::sanitize::is_control(c)),
                "{:?}",
                entry.message
            );
        }
        // Raw text around the escapes is untouched.
        assert_eq!(unescape_kmsg("a\\x1bb"), "a\\x1bb");
        assert_eq!(unescape_kmsg("\\x1B[1m"), "\\x1B[1m");
    }

    #[test]
    fn dmesg_shapes() {
        let text = "[    2.939498] [TTM] Initializing pool allocator\n\
<6>[   85.501187] WARNING: foo\n\
[  1.5][  T259] caller id\n\
[Sun Dec 25 20:12:49 2016] e1000e: eth1 NIC Link is Down\n\
Jun 11 11:04:35 k8snode228 kernel: neighbour: arp_cache: neighbor table overflow!\n\
kernel: [1694413.644132] nf_conntrack: table full, dropping packet\n\
kern  :warn  : [  10.000001] net_ratelimit: 5 callbacks suppressed\n\
no timestamp at all\n";
        let (entries, _notes) = parse_dmesg("commands/dmesg", text);
        let got: Vec<_> = entries
            .iter()
            .map(|e| (e.time_us, e.level, e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(2_939_498), None, "[TTM] Initializing pool allocator"),
                (Some(85_501_187), Some(6), "WARNING: foo"),
                (Some(1_500_000), None, "caller id"),
                (None, None, "e1000e: eth1 NIC Link is Down"),
                (None, None, "neighbour: arp_cache: neighbor table overflow!"),
                (
                    Some(1_694_413_644_132),
                    None,
                    "nf_conntrack: table full, dropping packet"
                ),
                (
                    Some(10_000_001),
                    Some(4),
                    "net_ratelimit: 5 callbacks suppressed"
                ),
                (None, None, "no timestamp at all"),
            ]
        );
    }

    #[test]
    fn syslog_keeps_only_kernel_lines() {
        let text = "Feb 10 10:05:00 http6 kernel: [  611.209870] IPv4: Neighbour table overflow.\n\
Feb 10 10:05:01 http6 sshd[4242]: Accepted publickey for root\n\
2014-02-10T10:05:02.123456+01:00 http6 kernel: [  616.212350] net_ratelimit: 2127 callbacks suppressed\n\
<4>1 2014-02-10T10:05:03.000+01:00 http6 kernel - - - [  617.000001] e1000e: eth0 NIC Link is Down\n\
<30>1 2014-02-10T10:05:04.000+01:00 http6 systemd 1 - - Started foo.\n\
Wed Feb 24 00:35:21 2021 kern.info kernel: [16300.998425] neighbour: arp_cache: neighbor table overflow!\n";
        let (entries, notes) = parse_syslog("var/log/kern.log", text);
        assert!(notes.is_empty(), "{notes:?}");
        let got: Vec<_> = entries
            .iter()
            .map(|e| (e.line, e.time_us, e.level, e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    1,
                    Some(611_209_870),
                    None,
                    "IPv4: Neighbour table overflow."
                ),
                (
                    3,
                    Some(616_212_350),
                    None,
                    "net_ratelimit: 2127 callbacks suppressed"
                ),
                (
                    4,
                    Some(617_000_001),
                    Some(4),
                    "e1000e: eth0 NIC Link is Down"
                ),
                (
                    6,
                    Some(16_300_998_425),
                    None,
                    "neighbour: arp_cache: neighbor table overflow!"
                ),
            ]
        );
    }

    #[test]
    fn boots_are_numbered_at_banners_and_clock_resets() {
        let text = "[    0.000000] Linux version 3.10.23\n[  100.0] a\n[  900.0] b\n[    0.000000] Linux version 3.4.82\n[    5.0] c\n[  200.0] d\n[    1.5] e (banner lost)\n";
        let (mut entries, _) = parse_dmesg("commands/dmesg", text);
        assert_eq!(number_boots(&mut entries), 3);
        let boots: Vec<i32> = entries.iter().map(|e| e.boot).collect();
        assert_eq!(boots, vec![0, 0, 0, 1, 1, 1, 2]);
        // Lines slightly out of order across CPUs are not a new boot.
        let (mut entries, _) = parse_dmesg("x", "[ 100.5] a\n[ 100.4] b\n[ 100.6] c\n");
        assert_eq!(number_boots(&mut entries), 1);
        assert_eq!(number_boots(&mut []), 0);
    }

    /// The hand-written RFC 3339 reader gives what jiff's parser gives,
    /// on the stamps rsyslog and journald write and on the edges: leap
    /// days, dates that do not exist, leap seconds, offsets, fractions of
    /// every width, before 1970.
    #[test]
    fn iso_stamps_read_as_jiff_reads_them() {
        let jiff = |text: &str| -> Option<i64> {
            let text = text.replacen(' ', "T", 1);
            let n = text.len();
            let text = if n > 5 && !text.ends_with('Z') && text.as_bytes()[n - 3] != b':' {
                format!("{}:{}", &text[..n - 2], &text[n - 2..])
            } else {
                text
            };
            text.parse::<jiff::Timestamp>()
                .ok()
                .map(|t| t.as_microsecond())
        };
        let mut stamps = vec![
            "2014-02-10T10:05:02.123456+01:00".to_string(),
            "2014-02-10 10:05:02+0100".into(),
            "2024-02-29T23:59:59Z".into(),
            "2023-02-29T00:00:00Z".into(),
            "2100-02-29T00:00:00Z".into(),
            "2000-02-29T00:00:00Z".into(),
            "2016-12-31T23:59:60Z".into(),
            "2026-12-06T10:05:00.1Z".into(),
            "2026-12-06T10:05:00.123456789-09:30".into(),
            "2026-12-06T24:00:00Z".into(),
            "2026-13-01T00:00:00Z".into(),
            "2026-00-10T00:00:00Z".into(),
            "2026-04-31T00:00:00Z".into(),
            "2026-12-06T10:60:00Z".into(),
            "2026-12-06T10:05:00+24:00".into(),
            "2026-12-06T10:05:00+26:00".into(),
            "2026-12-06T10:05:00+25:59".into(),
            "2026-12-06T10:05:00+14:00".into(),
            "2026-12-06T10:05:00-2359".into(),
            "1969-12-31T23:59:59.5Z".into(),
            "0001-01-01T00:00:00Z".into(),
            "1970-01-01T00:00:00Z".into(),
        ];
        for month in 1..=12 {
            for day in [1, 28, 29, 30, 31] {
                stamps.push(format!("2025-{month:02}-{day:02}T12:34:56.000789+05:45"));
            }
        }
        for stamp in &stamps {
            assert_eq!(iso_micros(stamp), jiff(stamp), "{stamp}");
        }
    }

    #[test]
    fn wall_clock_stamps() {
        assert_eq!(
            parse_stamp("2014-02-10T10:05:02.123456+01:00 http6 kernel: x"),
            Some(Stamp::Exact(1_392_023_102_123_456))
        );
        assert_eq!(
            parse_stamp("<4>1 2014-02-10T09:05:02Z http6 kernel - - - x"),
            Some(Stamp::Exact(1_392_023_102_000_000))
        );
        assert_eq!(
            parse_stamp("2014-02-10T10:05:02+0100 h kernel: x"),
            Some(Stamp::Exact(1_392_023_102_000_000))
        );
        let local = |year, month, day, seconds| Stamp::Local {
            year,
            month,
            day,
            seconds,
            micros: 0,
        };
        assert_eq!(
            parse_stamp("Feb 10 10:05:00 http6 kernel: x"),
            Some(local(None, 2, 10, 36300))
        );
        assert_eq!(
            parse_stamp("Feb  9 18:02:11 http6 kernel: x"),
            Some(local(None, 2, 9, 64931))
        );
        assert_eq!(
            parse_stamp("Wed Feb 24 00:35:21 2021 kern.info kernel: x"),
            Some(local(Some(2021), 2, 24, 2121))
        );
        assert_eq!(
            parse_stamp("[Sun Dec 25 20:12:49 2016] e1000e: x"),
            Some(local(Some(2016), 12, 25, 72769))
        );
        assert_eq!(parse_stamp("[   12.5] no wall clock"), None);
        assert_eq!(parse_stamp("Foo 10 10:05:00 x"), None);
        assert_eq!(parse_stamp("2014-13-45T99:99:99Z x"), None);
    }

    /// The stamp as the two patterns `parse_stamp` reads capture it,
    /// with ASCII `\d` and `\s` (`unicode(false)`): the oracle of the
    /// reader by bytes. (Until session 17 `parse_stamp` was this, with
    /// Unicode classes.)
    fn stamp_by_regex(line: &str) -> Option<Stamp> {
        fn build(p: &str) -> Regex {
            regex::RegexBuilder::new(p)
                .unicode(false)
                .build()
                .expect("pattern")
        }
        static ISO: LazyLock<Regex> = LazyLock::new(|| {
            build(
                r"^(?:<\d{1,3}>1 )?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d))\s",
            )
        });
        static BSD: LazyLock<Regex> = LazyLock::new(|| {
            build(
                r"^\[?(?:[A-Z][a-z]{2} )?([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?: (\d{4}))?\]?\s",
            )
        });
        if let Some(c) = ISO.captures(line) {
            return iso_micros(&c[1]).map(Stamp::Exact);
        }
        let c = BSD.captures(line)?;
        let month = MONTHS.iter().position(|m| *m == &c[1])?;
        let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<i32>().ok());
        let micros = c.get(6).map_or(0, |m| {
            let digits = m.as_str();
            digits.parse::<i32>().unwrap_or(0) * 10i32.pow(6 - digits.len() as u32)
        });
        Some(Stamp::Local {
            year: num(7).and_then(|y| i16::try_from(y).ok()),
            month: i8::try_from(month + 1).ok()?,
            day: i8::try_from(num(2)?).ok()?,
            seconds: num(3)? * 3600 + num(4)? * 60 + num(5)?,
            micros,
        })
    }

    /// `Feb 10 10:05:00.٣٣٣`: the Unicode `\d{1,6}` of the stamp regex
    /// took three Arabic-Indic digits, nine bytes, and `6 - len`
    /// overflowed (a panic in a debug build, garbage in a release one).
    /// Found in session 17; a stamp is now ASCII, and this line has none.
    #[test]
    fn a_stamp_with_unicode_digits_in_its_fraction_does_not_panic() {
        let line = "Feb 10 10:05:00.\u{663}\u{663}\u{663} h kernel: x";
        assert_eq!(parse_stamp(line), None);
        assert_eq!(stamp_by_regex(line), None);
        // Nor a stamp that ends in a no-break space.
        assert_eq!(parse_stamp("Feb 10 10:05:00\u{a0}h kernel: x"), None);
    }

    /// The stamp read by bytes is the stamp the patterns read: on the
    /// shapes diag reads, each with every byte replaced by one of the
    /// bytes the two patterns turn on (digits, separators, Unicode digits
    /// and spaces) and cut at every length.
    #[test]
    fn stamps_by_bytes_read_as_the_patterns_do() {
        let shapes = [
            "2014-02-10T10:05:02.123456+01:00 http6 kernel: x",
            "<4>1 2014-02-10T09:05:02Z http6 kernel - - - x",
            "<134>1 2014-02-10 09:05:02.1234567890-0130\th",
            "2014-02-10T10:05:02+0100 h kernel: x",
            "2024-02-29T23:59:60.5-00:00\x0bk",
            "Feb 10 10:05:00 http6 kernel: x",
            "Feb  9 18:02:11 http6 kernel: x",
            "Wed Feb 24 00:35:21 2021 kern.info kernel: x",
            "[Sun Dec 25 20:12:49 2016] e1000e: x",
            "[Sun Dec 25 20:12:49.123 2016]\tx",
            "Dec 31 23:59:59.1234567 x",
            "Mon Jan  1 00:00:00.000001 x",
            "Jan 1 00:00:00 2021]x",
            "Feb Mar 10 10:05:00 x",
            "Foo 10 10:05:00 x",
        ];
        let bytes = [
            "0", "9", " ", "\t", "\x0b", ".", ":", "-", "+", "Z", "T", "[", "]", "<", ">", "1",
            "a", "F", "\u{a0}", "\u{663}", "\u{2003}",
        ];
        let mut checked = 0;
        let mut check = |line: &str| {
            assert_eq!(parse_stamp(line), stamp_by_regex(line), "{line:?}");
            checked += 1;
        };
        for shape in shapes {
            for cut in 0..=shape.len() {
                check(&shape[..cut]);
            }
            for (at, _) in shape.char_indices() {
                let rest = &shape[at + 1..];
                for b in bytes {
                    check(&format!("{}{b}{rest}", &shape[..at]));
                    check(&format!("{}{b}{}", &shape[..at], &shape[at..]));
                }
            }
        }
        assert!(checked > 20_000, "{checked}");
    }

    #[test]
    fn pstore_part_headers_are_not_messages() {
        let text = "Panic#1 Part1\n<6>[  12.000000] ok\n<0>[  13.000000] Kernel panic - not syncing: Fatal exception\n";
        let (entries, _) = parse_dmesg("sys/fs/pstore/dmesg-ramoops-0", text);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].level, Some(0));
    }

    #[test]
    fn every_corpus_kernel_log_parses_without_panic() {
        let dir = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/corpus/kmsg"
        ));
        let Ok(files) = std::fs::read_dir(dir) else {
            panic!("corpus missing at {}", dir.display());
        };
        let mut seen = 0;
        for file in files {
            let path = file.expect("entry").path();
            let bytes = std::fs::read(&path).expect("read corpus file");
            let text = String::from_utf8_lossy(&bytes);
            let (kmsg, _) = parse_kmsg("dev/kmsg", &text);
            let (dmesg, _) = parse_dmesg("commands/dmesg", &text);
            assert!(
                !(kmsg.is_empty() && dmesg.is_empty()) || text.trim().is_empty(),
                "{} gave no entries",
                path.display()
            );
            seen += 1;
        }
        assert!(seen > 40, "only {seen} corpus files");
    }
}
