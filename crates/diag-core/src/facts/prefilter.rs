//! Literals every match of a pattern contains: the first test of a
//! kernel-log line, in the stream and in the diagnosis (issue 23).
//!
//! A large log's lines nearly all match none of the ~100 patterns of
//! [`super::kernel_stream::LineFilter`]. One lazy DFA of them all (the
//! test until session 15) costs a search per line, and, unanchored over
//! ~100 patterns, kept building states as new text arrived (24% of a
//! 32 MiB log's analysis at 0.1% matching lines). So each pattern is
//! reduced to a set of literals one of which every match of it contains
//! (`EXT[234]-fs error \(device` → `ext2-fs error (device `, …), and one
//! Aho-Corasick DFA of all of them, ASCII case ignored, names the patterns
//! a line may match ([`Prefilter::candidates`]): only those are
//! confirmed, each with its own regex. A pattern with no such literal of
//! at least [`MIN_LEN`] bytes (`^\S+: \d+`, a user's state pattern) is a
//! candidate of every line ([`Prefilter::unfiltered`]): only it pays for
//! having none. A line the literals do not cover ([`Prefilter::covers`]:
//! a Kelvin sign, a long s) is a candidate of every pattern: no pattern
//! set is kept beside the prefilter (the byte `RegexSet` of ~100 patterns
//! took ~48 M instructions to build, 10% of a small bundle's analysis).
//!
//! The literals are found on the pattern's syntax tree as regex-syntax
//! parses it for the regex crate (Unicode classes; the two characters
//! `(?i)` folds onto ASCII letters left out, see [`Prefilter::covers`]): a
//! literal, or a small class (`[Nn]`, `[234]`) is a set of exact strings;
//! a concatenation multiplies the exact sets of its pieces into runs
//! (`neighbou?r` → `neighbor`, `neighbour`) and keeps the best run or
//! the best required set of a piece; an alternation needs one of its
//! branches' sets; a repetition of at least one needs its body's. "Best"
//! is the set whose shortest literal is longest.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{dfa::DFA, Anchored, StartKind};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Shortest literal worth searching for: a pattern whose best set has a
/// shorter one is not prefiltered (a two-byte literal is in most lines).
pub const MIN_LEN: usize = 3;

/// Most strings an exact set may hold (a cross product stops there).
const MAX_SET: usize = 64;

/// Most distinct bytes (ASCII case folded) a class may have to count as a
/// set of exact one-byte strings.
const MAX_CLASS: usize = 4;

/// How many lines [`Prefilter::each`] walks at once.
const LANES: usize = 4;

/// The lines [`Prefilter::each`] is walking, one per lane: what is left
/// of each, the automaton's state in it, its index.
struct Lanes<'l> {
    rest: [&'l [u8]; LANES],
    states: [StateID; LANES],
    lines: [usize; LANES],
}

/// One automaton of the literals of every pattern: the patterns a line
/// may match are those whose literals it holds.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// The automaton itself, not `AhoCorasick` (which puts every kind of
    /// automaton behind a `dyn`).
    ac: DFA,
    /// For each literal, the patterns (indices) it is a literal of.
    owners: Vec<Vec<u32>>,
    /// The patterns without a literal, increasing.
    always: Vec<u32>,
    /// How many patterns.
    patterns: u32,
    /// The largest match state: state `s` is one when `s - 1 < max_match`
    /// (wrapping: the dead state 0 is not), one comparison a byte in the
    /// walk ([`Prefilter::steps`]) instead of the crate's `is_special` and
    /// `is_match` (three, their bounds kept on the stack).
    max_match: u32,
}

impl Prefilter {
    /// The prefilter of `patterns` (regex syntax, parsed with Unicode
    /// classes); a pattern without a required literal of [`MIN_LEN`]
    /// bytes, or that does not parse so, is a candidate of every line.
    /// `None` only when the automaton cannot be built.
    pub fn new<'p>(patterns: impl IntoIterator<Item = &'p str>) -> Option<Self> {
        let mut literals: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut always = Vec::new();
        let mut count = 0;
        for (i, pattern) in patterns.into_iter().enumerate() {
            count += 1;
            let i = u32::try_from(i).ok()?;
            let required = parse(pattern).and_then(|hir| required(&hir));
            match required {
                Some(set) => literals.extend(set.into_iter().map(|l| (l, i))),
                None => always.push(i),
            }
        }
        crate::sort::sort(&mut literals);
        let mut unique: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<u32>> = Vec::new();
        for (literal, i) in literals {
            if unique.last() != Some(&literal) {
                unique.push(literal);
                owners.push(Vec::new());
            }
            if let Some(o) = owners.last_mut() {
                o.push(i);
            }
        }
        // A DFA: a search costs a table lookup a byte. (A contiguous NFA,
        // `AhoCorasick`'s choice for this many literals, follows failure
        // links: 1.6x the instructions; a `RegexSet` of one alternation of
        // literals per pattern, 1.2x.)
        let ac = aho_corasick::dfa::Builder::new()
            .ascii_case_insensitive(true)
            // Searches are unanchored only: no anchored start to build
            // (half the DFA's construction).
            .start_kind(StartKind::Unanchored)
            // Walked by [`Prefilter::each`], which has no use for one.
            .prefilter(false)
            .build(&unique)
            .ok()?;
        Some(Prefilter {
            owners,
            always,
            patterns: count,
            max_match: max_match(&ac),
            ac,
        })
    }

    /// The patterns without a literal: candidates of every line.
    pub fn unfiltered(&self) -> &[u32] {
        &self.always
    }

    /// Whether [`Prefilter::candidates`] of `line` holds every pattern
    /// the line matches: ASCII text, or UTF-8 text without the two
    /// characters that a Unicode pattern's `(?i)` folds onto an ASCII
    /// letter (KELVIN SIGN `\u{212a}` is a `k`, LONG S `\u{17f}` an `s`:
    /// `(?i)kernel panic` matches `\u{212a}ernel panic`, which holds no
    /// `kernel panic`). Other non-ASCII characters are not a literal's
    /// bytes, nor one of its ASCII letters in another case, so a match
    /// still holds one of its pattern's literals (a test checks lines of
    /// every kind of the corpus).
    pub fn covers(line: &[u8]) -> bool {
        line.is_ascii()
            || (memchr::memmem::find(line, "\u{212a}".as_bytes()).is_none()
                && memchr::memmem::find(line, "\u{17f}".as_bytes()).is_none())
    }

    /// The patterns `line` may match (those whose literals it holds, and
    /// those without a literal), in increasing order, into `out` (cleared
    /// first); every pattern when the literals do not cover the line
    /// ([`Prefilter::covers`]).
    pub fn candidates(&self, line: &[u8], out: &mut Vec<u32>) {
        self.each(&[line], std::slice::from_mut(out));
    }

    /// [`Prefilter::candidates`] of every line of `lines`: line `i`'s
    /// into `outs[i]`. Panics if `outs` is shorter than `lines`.
    ///
    /// The automaton is walked a byte of `LANES` (4) lines in turn, each
    /// lane taking the next line when its own ends: a walk waits on each
    /// step's table lookup to know the next, and independent walks fill
    /// each other's wait. (The walk was 40% of the reading thread's time
    /// at 50% matching lines one line at a time; two lines together took
    /// a quarter off, session 20; but the longer of the two walked its
    /// end alone, as with four lanes that each walked one line: that
    /// alone was a third of the walk on the 1 GiB log at 0.1%.)
    pub fn each(&self, lines: &[&[u8]], outs: &mut [Vec<u32>]) {
        let outs = &mut outs[..lines.len()];
        let Ok(start) = self.ac.start_state(Anchored::No) else {
            // (Not with this DFA: unanchored.) Every pattern may match.
            for out in outs {
                out.clear();
                out.extend(0..self.patterns);
            }
            return;
        };
        let mut lanes = Lanes {
            rest: [b""; LANES],
            states: [start; LANES],
            lines: [usize::MAX; LANES],
        };
        let mut next = 0;
        loop {
            // Each lane whose line has ended takes the next line left to
            // walk (those with nothing to walk are done at once).
            let mut walking = [0; LANES];
            let mut n = 0;
            for k in 0..LANES {
                if lanes.rest[k].is_empty() {
                    if let Some(out) = outs.get_mut(lanes.lines[k]) {
                        done(out);
                    }
                    lanes.lines[k] = usize::MAX;
                    while let Some(&line) = lines.get(next) {
                        let out = &mut outs[next];
                        next += 1;
                        let rest = self.prepare(line, out);
                        if rest.is_empty() {
                            done(out);
                            continue;
                        }
                        lanes.rest[k] = rest;
                        lanes.states[k] = start;
                        lanes.lines[k] = next - 1;
                        break;
                    }
                }
                if !lanes.rest[k].is_empty() {
                    walking[n] = k;
                    n += 1;
                }
            }
            match n {
                0 => return,
                1 => self.steps([walking[0]], &mut lanes, outs),
                2 => self.steps([walking[0], walking[1]], &mut lanes, outs),
                3 => self.steps([walking[0], walking[1], walking[2]], &mut lanes, outs),
                _ => self.steps(walking, &mut lanes, outs),
            }
        }
    }

    /// Starts `out`, the candidates of `line`: the patterns without a
    /// literal, or every pattern when the literals do not cover the line;
    /// what is left to walk of it (nothing in the second case).
    fn prepare<'l>(&self, line: &'l [u8], out: &mut Vec<u32>) -> &'l [u8] {
        out.clear();
        if Self::covers(line) {
            out.extend_from_slice(&self.always);
            line
        } else {
            out.extend(0..self.patterns);
            b""
        }
    }

    /// Walks lanes `which` together over the shortest line's rest (`K`
    /// independent walks in one loop), adding the patterns of the
    /// literals found onto the lines' `outs`.
    #[inline(always)]
    fn steps<const K: usize>(
        &self,
        which: [usize; K],
        lanes: &mut Lanes<'_>,
        outs: &mut [Vec<u32>],
    ) {
        let ac = &self.ac;
        let n = which
            .iter()
            .map(|&k| lanes.rest[k].len())
            .min()
            .unwrap_or(0);
        let bytes: [&[u8]; K] = which.map(|k| &lanes.rest[k][..n]);
        let mut states: [StateID; K] = which.map(|k| lanes.states[k]);
        // One index steps `K` lines at once.
        #[allow(clippy::needless_range_loop)]
        for at in 0..n {
            for j in 0..K {
                let next = ac.next_state(Anchored::No, states[j], bytes[j][at]);
                if next.as_u32().wrapping_sub(1) < self.max_match {
                    if let Some(out) = outs.get_mut(lanes.lines[which[j]]) {
                        self.matched(next, out);
                    }
                }
                states[j] = next;
            }
        }
        for (j, &k) in which.iter().enumerate() {
            lanes.states[k] = states[j];
            lanes.rest[k] = &lanes.rest[k][n..];
        }
    }

    /// The patterns of the literals that end at match state `sid`, onto
    /// `out`.
    #[inline(never)]
    fn matched(&self, sid: StateID, out: &mut Vec<u32>) {
        for k in 0..self.ac.match_len(sid) {
            let literal = self.ac.match_pattern(sid, k).as_usize();
            if let Some(owners) = self.owners.get(literal) {
                out.extend_from_slice(owners);
            }
        }
    }
}

/// The largest state id `ac`'s `is_match` accepts. aho-corasick 1.1's
/// DFA multiplies its state ids by its stride and numbers the dead state
/// 0, the fail state next (which no transition of a DFA leads to) and
/// its match states after it; `is_match(s)` is `s != 0 && s <=
/// max_match_id`, plain arithmetic on any id. So the largest id it
/// accepts is found by bisection, and a state is a match when `s - 1 <
/// max_match` (wrapping: the dead state is not). That numbering is the
/// crate's own, not its API: `match_states_are_one_range` checks the
/// test on every state the built-in rules' automaton reaches (Cargo.lock
/// pins the version).
fn max_match(ac: &DFA) -> u32 {
    let is_match = |id: u32| StateID::new(id as usize).is_ok_and(|s| ac.is_match(s));
    if !is_match(1) {
        return 0;
    }
    // is_match(lo) holds, is_match(hi) does not.
    let (mut lo, mut hi) = (1u32, StateID::MAX.as_u32().saturating_add(1));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if is_match(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// A line's candidates complete: each pattern once, in increasing order.
fn done(out: &mut Vec<u32>) {
    if out.len() > 1 {
        out.sort_unstable();
        out.dedup();
    }
}

/// `pattern` as the regex crate reads it (Unicode classes, `(?i)` with
/// Unicode case folding): the literals are those of the pattern a line
/// is confirmed with. (Parsed as bytes without Unicode, `[^\S\r\n]` is
/// four ASCII bytes, a set of literals, while the Unicode pattern also
/// matches a no-break space: a line holding `link\u{a0}down` lost
/// `link[^\S\r\n]down`. The review of session 16 found it.)
fn parse(pattern: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()
}

/// A set of literals one of which (ASCII case ignored) every match of
/// `hir` contains, each at least [`MIN_LEN`] long.
pub fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    best(hir)
        .filter(|set| shortest(set) >= MIN_LEN)
        .map(minimal)
}

/// `set` without the strings that contain another of its strings (where
/// the longer one is, the shorter one is too).
fn minimal(mut set: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    crate::sort::sort_by_key(&mut set, Vec::len);
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for s in set {
        if !kept.iter().any(|k| memchr::memmem::find(&s, k).is_some()) {
            kept.push(s);
        }
    }
    crate::sort::sort(&mut kept);
    kept
}

/// The length of the shortest string of `set`.
fn shortest(set: &[Vec<u8>]) -> usize {
    set.iter().map(Vec::len).min().unwrap_or(0)
}

/// The better of two required sets: the one whose shortest literal is
/// longer, then the smaller.
fn better(a: Option<Vec<Vec<u8>>>, b: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let key = |s: &Vec<Vec<u8>>| (shortest(s), std::cmp::Reverse(s.len()));
            Some(if key(&b) > key(&a) { b } else { a })
        }
        (a, b) => a.or(b),
    }
}

/// The best required set of `hir` (literals may be short or empty: the
/// caller judges).
fn best(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    if let Some(set) = exact(hir) {
        return (shortest(&set) > 0).then_some(set);
    }
    match hir.kind() {
        HirKind::Capture(capture) => best(&capture.sub),
        HirKind::Repetition(rep) if rep.min >= 1 => best(&rep.sub),
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for branch in branches {
                all.extend(best(branch).filter(|s| shortest(s) > 0)?);
            }
            crate::sort::sort(&mut all);
            all.dedup();
            Some(all)
        }
        HirKind::Concat(parts) => {
            let nonempty = |s: Vec<Vec<u8>>| (shortest(&s) > 0).then_some(s);
            let mut found = None;
            let mut run: Option<Vec<Vec<u8>>> = None;
            for part in parts {
                match exact(part) {
                    Some(piece) => {
                        let so_far = run.take().unwrap_or_else(|| vec![Vec::new()]);
                        run = match product(&so_far, &piece) {
                            Some(longer) => Some(longer),
                            None => {
                                // Too many strings: the run so far is a
                                // candidate, a new one starts here.
                                found = better(found, nonempty(so_far));
                                Some(piece)
                            }
                        };
                    }
                    None => {
                        found = better(found, run.take().and_then(nonempty));
                        found = better(found, best(part));
                    }
                }
            }
            better(found, run.and_then(nonempty))
        }
        // A literal with a character outside ASCII holds its longest
        // ASCII run (not an exact set, but required).
        HirKind::Literal(lit) => lit
            .0
            .split(|b| !b.is_ascii())
            .max_by_key(|run| run.len())
            .map(|run| vec![run.to_ascii_lowercase()]),
        _ => None,
    }
}

/// Every string `hir` matches, ASCII letters in lower case, when they are
/// few ([`MAX_SET`]).
fn exact(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        // Only ASCII literals: a Unicode pattern's `(?i)K` (the Kelvin
        // sign) matches an ASCII `k`, which no literal of its bytes finds.
        // A class may hold the two characters `(?i)` folds onto ASCII
        // letters (`(?i)k` is `[Kk\u{212a}]`): a line holding one is not
        // prefiltered (`Prefilter::covers`), so they are left out of it.
        HirKind::Literal(lit) if lit.0.is_ascii() => Some(vec![lit.0.to_ascii_lowercase()]),
        HirKind::Literal(_) => None,
        HirKind::Class(class) => {
            let mut bytes: Vec<u8> = Vec::new();
            let mut add = |lo: u32, hi: u32| {
                for c in lo..=hi {
                    if c == 0x212a || c == 0x17f {
                        continue;
                    }
                    let b = u8::try_from(c).ok().filter(u8::is_ascii)?;
                    let b = b.to_ascii_lowercase();
                    if !bytes.contains(&b) {
                        bytes.push(b);
                    }
                    if bytes.len() > MAX_CLASS {
                        return None;
                    }
                }
                Some(())
            };
            match class {
                Class::Bytes(c) => {
                    for r in c.iter() {
                        add(u32::from(r.start()), u32::from(r.end()))?;
                    }
                }
                Class::Unicode(c) => {
                    for r in c.iter() {
                        add(u32::from(r.start()), u32::from(r.end()))?;
                    }
                }
            }
            Some(bytes.into_iter().map(|b| vec![b]).collect())
        }
        HirKind::Capture(capture) => exact(&capture.sub),
        HirKind::Repetition(rep) if rep.max == Some(1) && rep.min <= 1 => {
            let mut set = exact(&rep.sub)?;
            if rep.min == 0 {
                set.push(Vec::new());
            }
            Some(set)
        }
        HirKind::Concat(parts) => parts.iter().try_fold(vec![Vec::new()], |so_far, part| {
            product(&so_far, &exact(part)?)
        }),
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for branch in branches {
                all.extend(exact(branch)?);
                if all.len() > MAX_SET {
                    return None;
                }
            }
            crate::sort::sort(&mut all);
            all.dedup();
            Some(all)
        }
        HirKind::Repetition(_) => None,
    }
}

/// Every string of `a` followed by every string of `b`, when there are at
/// most [`MAX_SET`].
fn product(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len().saturating_mul(b.len()) > MAX_SET {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.push(s);
        }
    }
    crate::sort::sort(&mut out);
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The literals of `pattern`; none when it has no required set.
    fn lits(pattern: &str) -> Vec<String> {
        let hir = parse(pattern).expect("a pattern");
        required(&hir)
            .unwrap_or_default()
            .into_iter()
            .map(|s| String::from_utf8(s).expect("ASCII"))
            .collect()
    }

    #[test]
    fn literals_every_match_contains() {
        assert_eq!(
            lits(r"EXT[234]-fs error \(device ([^)\s]+)\)"),
            [
                "ext2-fs error (device ",
                "ext3-fs error (device ",
                "ext4-fs error (device "
            ]
        );
        assert_eq!(
            lits(r"(?:(arp_cache|ndisc_cache): )?[Nn]eighbou?r table overflow"),
            ["neighbor table overflow", "neighbour table overflow"]
        );
        assert_eq!(
            lits(r"\b(\d+) (?:callbacks|messages) suppressed"),
            [" callbacks suppressed", " messages suppressed"]
        );
        assert_eq!(lits(r"(?i)\bI/O error\b"), ["i/o error"]);
        assert_eq!(
            lits(r"\[Hardware Error\]:|Machine check events logged"),
            ["[hardware error]:", "machine check events logged"]
        );
        // A piece repeated at least once is needed; one that may be
        // absent is not.
        assert_eq!(lits(r"(?:abcd)+x"), ["abcd"]);
        assert!(lits(r"(?:abcd)*xy\d").is_empty());
        // A character outside ASCII is no literal; under `(?i)` the
        // Kelvin sign is `[Kk\u{212a}]`, whose ASCII part is a literal (a
        // line with the sign itself is not prefiltered).
        assert_eq!(lits("\u{212a}ernel panic"), ["ernel panic"]);
        let kelvin = "(?i)\u{212a}ernel panic";
        assert!(regex::Regex::new(kelvin)
            .expect("a pattern")
            .is_match("kernel panic"));
        assert_eq!(lits(kelvin), ["kernel panic"]);
        // A class is read as the Unicode pattern has it: `[^\S\r\n]` is
        // every space but two, the no-break space among them, no literal
        // (as bytes it was four).
        assert_eq!(lits(r"link[^\S\r\n]down"), ["link"]);
        assert!(lits(r"[^\D4-9]{5}").is_empty());
        // No literal of three bytes: not prefiltered.
        assert!(lits(r"^\S+: \d+").is_empty());
        assert!(lits(r"a|bcdef").is_empty());
    }

    /// Only the two characters a `(?i)` pattern folds onto an ASCII
    /// letter keep a line from the prefilter: with one, a match may hold
    /// none of the literals.
    #[test]
    fn covers_lines_without_a_letter_folding_to_ascii() {
        assert!(Prefilter::covers(b"Out of memory: Killed process"));
        assert!(Prefilter::covers("caf\u{e9} \u{4e2d} kernel".as_bytes()));
        let patterns = ["(?i)kernel panic", "(?i)sense key", r"^\S+: \d+"];
        let prefilter = Prefilter::new(patterns).expect("literals");
        assert_eq!(prefilter.unfiltered(), [2], "no literal: every line");
        let mut out = Vec::new();
        prefilter.candidates(b"caf\xc3\xa9: 42 kernel panic", &mut out);
        assert_eq!(out, [0, 2]);
        prefilter.candidates(b"nothing", &mut out);
        assert_eq!(out, [2]);
        for (line, i) in [("\u{212a}ernel panic", 0), ("\u{17f}ense key", 1)] {
            assert!(regex::Regex::new(patterns[i])
                .expect("compiles")
                .is_match(line));
            assert!(!Prefilter::covers(line.as_bytes()), "{line}");
            // It holds no literal: every pattern is a candidate.
            prefilter.candidates(line.as_bytes(), &mut out);
            assert_eq!(out, [0, 1, 2], "{line}");
        }
    }

    /// The review of session 16: parsed as bytes, `[^\S\r\n]` was four
    /// ASCII bytes (a set of literals), so a line with a no-break space
    /// there, prefiltered since non-ASCII lines are, was never a
    /// candidate of the pattern that matches it.
    #[test]
    fn a_unicode_space_in_a_class_does_not_hide_a_match() {
        let patterns = [r"link[^\S\r\n]down", r"(?i)port [^\D4-9]+ up"];
        let prefilter = Prefilter::new(patterns).expect("literals");
        let mut out = Vec::new();
        for (i, line) in ["eth0: link\u{a0}down", "PORT \u{661}\u{662} UP"]
            .into_iter()
            .enumerate()
        {
            assert!(regex::Regex::new(patterns[i])
                .expect("compiles")
                .is_match(line));
            assert!(Prefilter::covers(line.as_bytes()));
            prefilter.candidates(line.as_bytes(), &mut out);
            assert!(out.contains(&(i as u32)), "{line}: {out:?}");
        }
    }

    /// Every line a pattern matches holds one of its literals: checked
    /// with every pattern of the built-in rules' line filter on the
    /// lines of the repository's kernel-log corpus (each line as it is,
    /// from after its first `;` and `] `, where a message starts, and
    /// with non-ASCII text around and inside it), as bytes and as the
    /// Unicode patterns the stream confirms with.
    #[test]
    fn a_line_a_pattern_matches_holds_one_of_its_literals() {
        let rules = crate::diagnose::rules::RuleSet::builtin().expect("built-in rules");
        let filter = rules.line_filter();
        let patterns = filter.patterns();
        assert!(patterns.len() > 80, "{} patterns", patterns.len());
        assert_eq!(
            Prefilter::new(patterns.iter().copied())
                .expect("built")
                .unfiltered(),
            [0u32; 0],
            "every built-in pattern has a literal"
        );
        let lines = corpus_lines();
        assert!(lines.len() > 2000, "{} lines", lines.len());
        let combined = Prefilter::new(patterns.iter().copied()).expect("literals");
        let regexes: Vec<regex::bytes::Regex> = patterns
            .iter()
            .map(|p| {
                regex::bytes::RegexBuilder::new(p)
                    .unicode(false)
                    .build()
                    .expect("the set's syntax")
            })
            .collect();
        // As the stream and the diagnosis confirm them.
        let unicode: Vec<regex::Regex> = patterns
            .iter()
            .map(|p| regex::Regex::new(p).expect("compiles"))
            .collect();
        let (mut checked, mut candidates, mut wide) = (0, 0, 0);
        let mut cands = Vec::new();
        for line in &lines {
            combined.candidates(line, &mut cands);
            assert!(cands.windows(2).all(|w| w[0] < w[1]), "sorted, once each");
            candidates += cands.len();
            let text = std::str::from_utf8(line)
                .ok()
                .filter(|_| Prefilter::covers(line));
            for (i, regex) in regexes.iter().enumerate() {
                let unicode_match = text.is_some_and(|t| unicode[i].is_match(t));
                wide += usize::from(unicode_match && !line.is_ascii());
                if regex.is_match(line) || unicode_match {
                    assert!(
                        cands.contains(&(i as u32)),
                        "{} matches {:?}: none of its literals is in it",
                        patterns[i],
                        String::from_utf8_lossy(line)
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "{checked} matches checked");
        assert!(wide > 300, "{wide} matches of non-ASCII lines checked");
        // And it is worth having: a line is a candidate of few patterns.
        assert!(
            candidates * 20 < lines.len() * patterns.len(),
            "{candidates}"
        );
    }

    /// The lines of the repository's kernel-log corpus: each as it is,
    /// from after its first `;` and `] `, where a message starts, and with
    /// non-ASCII text around and inside it.
    fn corpus_lines() -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/kmsg");
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for file in std::fs::read_dir(dir).expect("the corpus") {
            let text = std::fs::read(file.expect("a file").path()).expect("readable");
            for line in text.split(|&b| b == b'\n') {
                lines.push(line.to_vec());
                // Non-ASCII text around and inside it (the Unicode
                // patterns' `\w`, `\s`, `.` take it; no literal holds it).
                let mut wide = "\u{e9}t\u{e9} ".as_bytes().to_vec();
                wide.extend_from_slice(line);
                wide.extend_from_slice(" \u{4e2d}\u{1f600}".as_bytes());
                lines.push(wide);
                if let Some(at) = line.iter().position(|&b| b == b' ') {
                    let mut inside = line[..at].to_vec();
                    inside.extend_from_slice(" \u{e9}".as_bytes());
                    inside.extend_from_slice(&line[at..]);
                    lines.push(inside);
                }
                for sep in [&b";"[..], b"] "] {
                    if let Some(at) = line.windows(sep.len()).position(|w| w == sep) {
                        lines.push(line[at + sep.len()..].to_vec());
                    }
                }
            }
        }
        lines
    }

    /// Lines walked together ([`Prefilter::each`]) get the candidates
    /// each gets alone: the lines of the corpus in runs of every length
    /// from 1 to 9 (lanes that end in every order and take new lines, and
    /// runs shorter than the lanes), forwards and backwards, with an empty
    /// line and ones the literals do not cover among them.
    #[test]
    fn lines_walked_together_get_each_its_own_candidates() {
        let rules = crate::diagnose::rules::RuleSet::builtin().expect("built-in rules");
        let prefilter = Prefilter::new(rules.line_filter().patterns()).expect("literals");
        let mut lines = corpus_lines();
        lines.insert(lines.len() / 2, Vec::new());
        lines.insert(
            lines.len() / 3,
            "\u{212a}ernel panic - not syncing".as_bytes().to_vec(),
        );
        lines.push(b"Out of memory: Killed process 1 (init)".to_vec());
        let alone: Vec<Vec<u32>> = lines
            .iter()
            .map(|line| {
                let mut out = Vec::new();
                prefilter.candidates(line, &mut out);
                out
            })
            .collect();
        let found = alone.iter().filter(|c| !c.is_empty()).count();
        let mut outs = vec![vec![7]; 9];
        for backwards in [false, true] {
            let order: Vec<usize> = match backwards {
                false => (0..lines.len()).collect(),
                true => (0..lines.len()).rev().collect(),
            };
            for run in 1..=9 {
                for chunk in order.chunks(run) {
                    let these: Vec<&[u8]> = chunk.iter().map(|&i| &lines[i][..]).collect();
                    prefilter.each(&these, &mut outs);
                    for (&i, out) in chunk.iter().zip(&outs) {
                        assert_eq!(
                            *out,
                            alone[i],
                            "{:?} in a run of {run}",
                            String::from_utf8_lossy(&lines[i])
                        );
                    }
                }
            }
        }
        assert!(found > 500, "{found} lines with candidates");
    }

    /// The walk's one comparison (`s - 1 < max_match`) says of every
    /// state the built-in rules' automaton reaches what the crate's
    /// `is_match` says (a later aho-corasick that numbers its states
    /// otherwise fails here): every state reached from the start by any
    /// byte, breadth first.
    #[test]
    fn match_states_are_one_range() {
        let rules = crate::diagnose::rules::RuleSet::builtin().expect("built-in rules");
        let prefilter = Prefilter::new(rules.line_filter().patterns()).expect("literals");
        let ac = &prefilter.ac;
        let start = ac.start_state(Anchored::No).expect("unanchored");
        let mut seen = std::collections::HashSet::from([start]);
        let mut queue = vec![start];
        let mut matches = 0;
        while let Some(state) = queue.pop() {
            for byte in 0..=255u8 {
                let next = ac.next_state(Anchored::No, state, byte);
                if seen.insert(next) {
                    queue.push(next);
                    let ours = next.as_u32().wrapping_sub(1) < prefilter.max_match;
                    assert_eq!(ours, ac.is_match(next), "state {}", next.as_u32());
                    matches += usize::from(ours);
                }
            }
        }
        assert!(
            matches > 100 && seen.len() > 1000,
            "{matches} of {}",
            seen.len()
        );
    }

    /// A lane that takes a new line walks it from the start: a literal cut
    /// in two across the end of one line and the start of the next is
    /// in neither. Each line with candidates of the corpus is cut at
    /// every byte; its head, the shortest of the first four lines, ends
    /// first, and its lane takes its tail.
    #[test]
    fn a_lane_starts_each_line_afresh() {
        let rules = crate::diagnose::rules::RuleSet::builtin().expect("built-in rules");
        let prefilter = Prefilter::new(rules.line_filter().patterns()).expect("literals");
        let long = vec![b'z'; 400];
        let (mut alone, mut outs) = (Vec::new(), vec![Vec::new(); 5]);
        let mut cut = 0;
        for line in corpus_lines().iter().filter(|l| l.len() < 300).take(200) {
            prefilter.candidates(line, &mut alone);
            if alone.len() <= prefilter.unfiltered().len() {
                continue;
            }
            for at in 1..line.len() {
                let (head, tail) = line.split_at(at);
                prefilter.each(&[head, &long, &long, &long, tail], &mut outs);
                prefilter.candidates(tail, &mut alone);
                assert_eq!(
                    outs[4],
                    alone,
                    "{:?} after {:?}",
                    String::from_utf8_lossy(tail),
                    String::from_utf8_lossy(head)
                );
                cut += 1;
            }
        }
        assert!(cut > 1000, "{cut} lines cut");
    }
}
