//! The one sanitiser: every byte diag writes to a terminal or a text file
//! that came from the host (a host name, an interface, a mount point, a
//! kernel-log line, a path, a rule file) passes through here first.
//!
//! Host-controlled strings can carry terminal escape sequences: `ESC ] 0 ;
//! … BEL` retitles the operator's terminal, `ESC [ 2 J` clears it, the C1
//! control CSI (U+009B) starts a sequence on its own on terminals that
//! honour 8-bit controls, and bidirectional overrides make a line read
//! differently from what it holds. An unprivileged user can put any of
//! them into a mount point, and a kernel-log line, an md member or an
//! interface name can hold them too.
//!
//! [`is_control`] is the single decision of what is unsafe; everything
//! else builds on it:
//!
//! - [`visible`]: multi-line text (a report, an error message): every
//!   unsafe character made visible, line breaks and tabs kept.
//! - [`visible_line`]: a field on one line (a host name, an evidence line):
//!   line breaks and carriage returns made visible too, so that a field
//!   cannot forge another line of output.
//! - [`json`]: serialised JSON, losslessly: what `serde_json` leaves raw
//!   (DEL, C1 controls, bidi controls) becomes a `\uXXXX` escape.
//!
//! The terminal UI's `Theme::clean` drops what [`is_control`] names instead
//! of showing it; `parse::kernel_log` keeps the kernel's `\xNN` escapes of
//! such characters as they are.

use std::borrow::Cow;

/// Whether `c` must never reach a terminal as it is: a C0 control (tab and
/// line feed included: the callers decide whether to keep them), DEL, a C1
/// control (U+0080–U+009F, CSI U+009B among them), or a bidirectional
/// embedding, override or isolate (U+202A–U+202E, U+2066–U+2069).
pub fn is_control(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// What an unsafe character is shown as: a C0 control as its Unicode
/// control picture (ESC as `␛`, BEL as `␇`, line feed as `␊`), DEL as
/// `␡`, a C1 or bidi control as U+FFFD.
fn picture(c: char) -> char {
    match c {
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        _ => '\u{fffd}',
    }
}

fn replace(text: &str, keep: impl Fn(char) -> bool) -> String {
    if !text.chars().any(|c| is_control(c) && !keep(c)) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if is_control(c) && !keep(c) {
                picture(c)
            } else {
                c
            }
        })
        .collect()
}

/// `text` with every character [`is_control`] names made visible: C0
/// controls (an ANSI escape's ESC) as their Unicode control pictures
/// (`␛`), DEL as `␡`, C1 controls and bidirectional overrides as U+FFFD.
/// Line feeds and tabs are kept (a carriage return is not). Every report,
/// the text output of `check`/`analyze` and every message diag prints
/// applies it to every string from the host.
pub fn visible(text: &str) -> String {
    replace(text, |c| c == '\n' || c == '\t')
}

/// [`visible`] for a field that must stay on one line: line feeds and
/// carriage returns become `␊` and `␍` too. Tabs are kept.
pub fn visible_line(text: &str) -> String {
    replace(text, |c| c == '\t')
}

/// Serialised JSON (`serde_json`'s output) with the characters
/// [`is_control`] names that `serde_json` writes raw (DEL, C1 and bidi
/// controls; it escapes C0 itself) written as `\uXXXX` escapes: the same
/// document once parsed, but safe to print. Outside strings JSON holds
/// only ASCII punctuation and whitespace, so the escapes land inside
/// strings.
pub fn json(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_control(c) && c >= '\u{7f}') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_control(c) && c >= '\u{7f}' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible() {
        assert_eq!(
            visible("a\x1b]0;owned\x07\x1b[2Jb"),
            "a\u{241b}]0;owned\u{2407}\u{241b}[2Jb"
        );
        // CSI as a C1 control, DEL, NUL, carriage return.
        assert_eq!(visible("x\u{9b}31my"), "x\u{fffd}31my");
        assert_eq!(visible("\u{80}\u{9f}\u{a0}"), "\u{fffd}\u{fffd}\u{a0}");
        assert_eq!(
            visible("del\x7f nul\0 cr\r"),
            "del\u{2421} nul\u{2400} cr\u{240d}"
        );
    }

    #[test]
    fn bidi_overrides_and_isolates_become_visible() {
        for c in ['\u{202a}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2069}'] {
            assert_eq!(visible(&format!("a{c}b")), "a\u{fffd}b", "{:x}", c as u32);
        }
        // Ordinary text, non-Latin scripts, and the control pictures
        // themselves pass unchanged.
        for text in ["café ☃ Ελληνικά עברית 日本", "␛[2J", "tab\there"] {
            assert_eq!(visible(text), text);
        }
    }

    #[test]
    fn newlines_are_kept_in_text_and_shown_in_a_line() {
        assert_eq!(visible("one\ntwo\tthree\r\n"), "one\ntwo\tthree\u{240d}\n");
        assert_eq!(
            visible_line("one\ntwo\tthree\r\n"),
            "one\u{240a}two\tthree\u{240d}\u{240a}"
        );
        assert_eq!(visible_line("host\x1b[2J"), "host\u{241b}[2J");
    }

    #[test]
    fn nothing_unsafe_survives() {
        let every: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        for out in [visible(&every), visible_line(&every)] {
            assert!(!out.chars().any(|c| is_control(c) && c != '\n' && c != '\t'));
            assert!(!out.contains('\u{9b}') && !out.contains('\x1b') && !out.contains('\x07'));
        }
    }

    #[test]
    fn json_escapes_what_serde_leaves_raw_and_parses_the_same() {
        let value = serde_json::json!({ "host": "a\x1b[2J\u{9b}1m\x7f\u{202e}b é" });
        let raw = serde_json::to_string_pretty(&value).expect("json");
        assert!(raw.contains('\u{9b}'), "serde_json writes C1 raw: {raw}");
        let safe = json(&raw);
        assert!(!safe.chars().any(|c| is_control(c) && c != '\n'), "{safe}");
        assert!(safe.contains("\\u009b") && safe.contains("\\u007f") && safe.contains("\\u202e"));
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back, value);
        assert!(matches!(json("{\"a\": \"é\"}"), Cow::Borrowed(_)));
    }
}
