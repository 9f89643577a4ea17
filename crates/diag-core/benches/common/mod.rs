//! Shared by the kernel-log benchmarks: realistic kernel log text made of
//! real messages, and the rules' patterns translated for `grep`.

#![allow(dead_code)] // each bench uses part of it

use diag_core::diagnose::rules::RuleSet;
use diag_core::parse::kernel_log;
use regex_syntax::hir::{Class, Hir, HirKind, Look};
use std::fmt::Write;

/// Every message of `tests/corpus/kmsg` (63 logs from other machines:
/// crashes, OOMs, link flaps, RAID failures...) and this project's
/// healthy-VM fixture. Varied text matters: a uniform synthetic log hides
/// how a large pattern set behaves when its DFA cache fills.
pub fn corpus_messages() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("tests/corpus/kmsg");
    let mut sources: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    sources.sort_unstable();
    sources.push(root.join("fixtures/healthy-vm/dev/kmsg"));
    let mut messages = Vec::new();
    for path in &sources {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (records, _) = kernel_log::parse_kmsg("x", &text);
        let entries = if records.is_empty() {
            kernel_log::parse_dmesg("x", &text).0
        } else {
            records
        };
        messages.extend(entries.into_iter().map(|e| e.message));
    }
    assert!(
        messages.len() > 1000,
        "only {} messages in tests/corpus/kmsg",
        messages.len()
    );
    messages
}

/// `/dev/kmsg` records cycling through `messages`, with a neighbour-table
/// overflow every 100 records and a rate-limit line every 1000, until the
/// text holds `entries` records or reaches `max_bytes`.
pub fn kmsg_text(messages: &[String], entries: usize, max_bytes: usize) -> String {
    let mut text = String::with_capacity(max_bytes.min(entries.saturating_mul(120)));
    for seq in 0..entries {
        let usec = 1_000_000 + seq as u64 * 10_000;
        let message = if seq % 1000 == 999 {
            "net_ratelimit: 2127 callbacks suppressed"
        } else if seq % 100 == 99 {
            "neighbour: arp_cache: neighbor table overflow!"
        } else {
            messages[seq % messages.len()].as_str()
        };
        let _ = writeln!(text, "6,{seq},{usec},-;{message}");
        if text.len() >= max_bytes {
            break;
        }
    }
    text
}

/// Every log pattern of the rule set as a POSIX extended regular
/// expression, one per line (`grep -E -f`), for `LC_ALL=C`.
///
/// The rules are written in Rust regex syntax (`\d`, `(?:...)`, `(?i)`,
/// named groups), which ERE does not have, so each pattern is parsed with
/// regex-syntax and its HIR printed back as ERE: case folding arrives
/// already expanded into classes, classes become bracket expressions,
/// word boundaries GNU's `\b`/`\B`. Non-ASCII ranges become "any byte
/// >= 0x80", exact for the ASCII text the benchmark uses.
pub fn ere_patterns(rules: &RuleSet) -> String {
    let mut out = String::new();
    for rule in rules.rules() {
        let Some(log) = rule.log.as_ref() else {
            continue;
        };
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(log.pattern())
            .expect("a rule's regex parses");
        let mut ere = Vec::new();
        print_ere(&hir, &mut ere);
        out.push_str(&String::from_utf8_lossy(&ere));
        out.push('\n');
    }
    out
}

fn print_ere(hir: &Hir, out: &mut Vec<u8>) {
    match hir.kind() {
        HirKind::Empty => out.extend_from_slice(b"()"),
        HirKind::Literal(lit) => {
            for &b in lit.0.iter() {
                if b"\\.[]()*+?{}|^$".contains(&b) {
                    out.push(b'\\');
                }
                out.push(b);
            }
        }
        HirKind::Class(class) => {
            let mut ranges: Vec<(u32, u32)> = match class {
                Class::Unicode(c) => c
                    .iter()
                    .map(|r| (u32::from(r.start()), u32::from(r.end())))
                    .collect(),
                Class::Bytes(c) => c
                    .iter()
                    .map(|r| (u32::from(r.start()), u32::from(r.end())))
                    .collect(),
            };
            // Bytes mode: anything past ASCII is "a byte >= 0x80"; no
            // newline (grep's lines have none).
            for r in &mut ranges {
                r.1 = r.1.min(0xFF);
                if r.1 >= 0x80 {
                    r.1 = 0xFF;
                }
            }
            let mut bytes: Vec<bool> = vec![false; 256];
            for (lo, hi) in ranges {
                for b in lo..=hi.min(0xFF) {
                    bytes[b as usize] = true;
                }
            }
            bytes[b'\n' as usize] = false;
            print_bracket(&bytes, out);
        }
        HirKind::Look(look) => out.extend_from_slice(match look {
            Look::Start | Look::StartLF | Look::StartCRLF => b"^",
            Look::End | Look::EndLF | Look::EndCRLF => b"$",
            Look::WordAscii | Look::WordUnicode => b"\\b",
            Look::WordAsciiNegate | Look::WordUnicodeNegate => b"\\B",
            Look::WordStartAscii | Look::WordStartUnicode => b"\\<",
            Look::WordEndAscii | Look::WordEndUnicode => b"\\>",
            _ => b"\\b",
        }),
        HirKind::Repetition(rep) => {
            out.push(b'(');
            print_ere(&rep.sub, out);
            out.push(b')');
            let suffix = match (rep.min, rep.max) {
                (0, None) => "*".to_string(),
                (1, None) => "+".to_string(),
                (0, Some(1)) => "?".to_string(),
                (min, None) => format!("{{{min},}}"),
                (min, Some(max)) if min == max => format!("{{{min}}}"),
                (min, Some(max)) => format!("{{{min},{max}}}"),
            };
            out.extend_from_slice(suffix.as_bytes());
        }
        HirKind::Capture(cap) => {
            out.push(b'(');
            print_ere(&cap.sub, out);
            out.push(b')');
        }
        HirKind::Concat(subs) => {
            for sub in subs {
                print_ere(sub, out);
            }
        }
        HirKind::Alternation(subs) => {
            out.push(b'(');
            for (i, sub) in subs.iter().enumerate() {
                if i > 0 {
                    out.push(b'|');
                }
                print_ere(sub, out);
            }
            out.push(b')');
        }
    }
}

/// A POSIX bracket expression for a set of bytes (`]` first, `^` not
/// first, `-` last; backslash is literal inside brackets). Newline is never
/// written: it separates `grep -f` patterns, and lines hold none.
fn print_bracket(bytes: &[bool], out: &mut Vec<u8>) {
    let (nl, close, dash, caret) = (10usize, 93usize, 45usize, 94usize);
    let count = (0..256).filter(|&b| b != nl && bytes[b]).count();
    if count == 0 {
        out.extend_from_slice(b"(a^)"); // matches nothing
        return;
    }
    let negate = count > 128;
    let list: Vec<bool> = (0..256).map(|b| b != nl && bytes[b] != negate).collect();
    if negate && !list.iter().any(|&b| b) {
        out.push(b'.'); // any byte
        return;
    }
    let others = (0..256).any(|b| list[b] && b != dash && b != caret);
    if !negate && !others {
        // Only "^" and/or "-".
        out.extend_from_slice(match (list[caret], list[dash]) {
            (true, true) => b"[-^]".as_slice(),
            (true, false) => b"\\^",
            _ => b"-",
        });
        return;
    }
    out.push(b'[');
    if negate {
        out.push(b'^');
    }
    if list[close] {
        out.push(b']');
    }
    let plain = |b: usize| list[b] && b != close && b != dash && b != caret;
    let mut b = 0usize;
    while b < 256 {
        if !plain(b) {
            b += 1;
            continue;
        }
        let start = b;
        while b + 1 < 256 && plain(b + 1) {
            b += 1;
        }
        out.push(start as u8);
        if b > start + 1 {
            out.push(b'-');
        }
        if b > start {
            out.push(b as u8);
        }
        b += 1;
    }
    if list[caret] {
        out.push(b'^'); // not first: something was written before it
    }
    if list[dash] {
        out.push(b'-');
    }
    out.push(b']');
}
