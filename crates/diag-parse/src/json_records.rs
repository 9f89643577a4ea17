//! Splits a JSON array into its top-level elements, each with the line it
//! starts on, without parsing the elements.
//!
//! `ip -j` prints a whole table as one JSON array. Parsing it element by
//! element lets one malformed record become a note (with its line) while
//! the others are still used, lets a truncated file keep every complete
//! record, and keeps memory flat: each element is deserialised straight into
//! its compact fact type, with no intermediate `serde_json::Value` tree.

use crate::model::Note;

/// One top-level element of a JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// The element's JSON text.
    pub text: &'a str,
    /// 1-based line the element starts on.
    pub line: u32,
}

/// What [`split`] found besides the elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The text is empty or only whitespace (a dump that wrote nothing).
    Empty,
    /// The text is not a JSON array at all.
    NotAnArray,
    /// The text ends inside an element (a cut file): the element starting
    /// at this line is incomplete.
    Truncated(u32),
    /// Something other than `,` or `]` between elements, at this line.
    Junk(u32),
}

/// Splits the JSON array in `text` into its elements. Elements are found by
/// bracket depth outside strings; they are not validated (the caller's
/// deserialiser does that, element by element).
pub fn split(text: &str) -> (Vec<Element<'_>>, Option<Problem>) {
    let bytes = text.as_bytes();
    let mut elements = Vec::new();
    let mut line: u32 = 1;
    let mut i = 0;
    // Skip leading whitespace, then expect '['.
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        if bytes[i] == b'\n' {
            line += 1;
        }
        i += 1;
    }
    if i == bytes.len() {
        return (elements, Some(Problem::Empty));
    }
    if bytes[i] != b'[' {
        return (elements, Some(Problem::NotAnArray));
    }
    i += 1;
    loop {
        // Between elements: whitespace and one comma.
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
            if bytes[i] == b'\n' {
                line += 1;
            }
            i += 1;
        }
        if i == bytes.len() {
            return (elements, Some(Problem::Truncated(line)));
        }
        if bytes[i] == b']' {
            return (elements, None);
        }
        let start = i;
        let start_line = line;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'\n' {
                line += 1;
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
            } else {
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        if depth == 0 {
                            // The closing bracket of the array itself: a bare
                            // scalar element ended just before it.
                            break;
                        }
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    b',' if depth == 0 => break,
                    _ => {}
                }
            }
            i += 1;
        }
        if depth > 0 || in_string || i > bytes.len() {
            return (elements, Some(Problem::Truncated(start_line)));
        }
        let element = text[start..i].trim_end();
        if element.is_empty() {
            return (elements, Some(Problem::Junk(start_line)));
        }
        elements.push(Element {
            text: element,
            line: start_line,
        });
        // After an element: whitespace then ',' or ']'.
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            if bytes[i] == b'\n' {
                line += 1;
            }
            i += 1;
        }
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return (elements, None),
            None => return (elements, Some(Problem::Truncated(line))),
            Some(_) => return (elements, Some(Problem::Junk(line))),
        }
    }
}

/// The note, if any, for what [`split`] found besides the elements.
pub(crate) fn problem_note(input: &str, problem: Option<Problem>, notes: &mut Vec<Note>) {
    match problem {
        None => {}
        Some(Problem::Empty) => notes.push(Note::input(
            input,
            "empty file: no records (the dump wrote nothing)",
        )),
        Some(Problem::NotAnArray) => notes.push(Note::line(
            input,
            1,
            "expected a JSON array of records (as `ip -j` prints)",
        )),
        Some(Problem::Truncated(line)) => notes.push(Note::line(
            input,
            line as usize,
            "file ends inside a record (cut short); the complete records before it are used",
        )),
        Some(Problem::Junk(line)) => notes.push(Note::line(
            input,
            line as usize,
            "unexpected text between records; the records before it are used",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_and_one_record_per_line() {
        let (els, problem) = split(r#"[{"a":"x,]}"},{"b":[1,2]}]"#);
        assert_eq!(problem, None);
        assert_eq!(els.len(), 2);
        assert_eq!(els[0].text, r#"{"a":"x,]}"}"#);
        assert_eq!(els[1].text, r#"{"b":[1,2]}"#);
        let (els, problem) = split("[\n{\"a\":1},\n{\"a\":\"\\\"\"}\n]\n");
        assert_eq!(problem, None);
        assert_eq!(els.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn truncated_junk_and_not_an_array() {
        let (els, problem) = split("[\n{\"a\":1},\n{\"a\":");
        assert_eq!(els.len(), 1);
        assert_eq!(problem, Some(Problem::Truncated(3)));
        let (els, problem) = split("[{\"a\":1} x {\"b\":2}]");
        assert_eq!(els.len(), 1);
        assert_eq!(problem, Some(Problem::Junk(1)));
        assert_eq!(split("{\"a\":1}").1, Some(Problem::NotAnArray));
        assert_eq!(split("  "), (Vec::new(), Some(Problem::Empty)));
        assert_eq!(split(""), (Vec::new(), Some(Problem::Empty)));
        assert_eq!(split("[]").0.len(), 0);
        assert_eq!(split("[1, 2]").0.len(), 2);
        assert_eq!(split("[").1, Some(Problem::Truncated(1)));
    }
}
