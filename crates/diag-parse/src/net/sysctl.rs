//! `/proc/sys/net/...`: network sysctls, one integer per file (`1\n`).
//! Which files count and what their values mean together is
//! `diag_core::facts::sysctl`'s.

use crate::model::Note;
use serde::Serialize;

/// One integer setting and where it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// The value.
    pub value: i64,
    /// Canonical input name (`proc/sys/net/ipv4/ip_forward`).
    pub input: String,
    /// Always 1: the file is one line.
    pub line: u32,
    /// The file's text without its newline.
    pub excerpt: String,
}

/// Parses a sysctl file that holds one integer (`1\n`). Anything else is a
/// note naming the input.
pub fn parse_sysctl_integer(input: &str, text: &str) -> Result<Setting, Note> {
    let excerpt = text.trim_end_matches(['\n', '\r']);
    let mut words = excerpt.split_whitespace();
    let value = match (words.next(), words.next()) {
        (Some(word), None) => word.parse::<i64>().ok(),
        _ => None,
    };
    match value {
        Some(value) => Ok(Setting {
            value,
            input: input.to_string(),
            line: 1,
            excerpt: excerpt.to_string(),
        }),
        None => Err(Note::line(
            input,
            1,
            format!("expected one integer, got {:?}", shorten(excerpt)),
        )),
    }
}

/// At most 40 characters of `text`, for a note.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}
