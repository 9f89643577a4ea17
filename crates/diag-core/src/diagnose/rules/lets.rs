//! Named expressions of a rule (`[rule.let]`), expanded into the
//! conditions that use them.
//!
//! ```toml
//! [rule.let]
//! unresolved = "facts.net.default_routes.filter(r, r.gateway_neigh_state == 'FAILED')"
//! when = "size(unresolved) > 0"
//! evidence = "unresolved"
//! ```
//!
//! A let is a closed expression over `facts`, `findings` and the lets
//! written before it. Where a condition (or a later let) names it, the
//! name is replaced by the let's text in parentheses before the condition
//! compiles, so every check and budget sees the condition as if it were
//! written out: the fields it names are checked against the facts, the
//! findings it refers to order the rules, its worst case is estimated and
//! metered. CEL has no side effects, so the result is what a variable
//! bound to the let's value would give (docs/rules.md, "Named
//! expressions", says why a binding was not used).
//!
//! The replacement is lexical (a CEL tokenizer: strings, comments, numbers
//! and identifiers), which needs no parse: the built-in conditions that
//! compile on first use are expanded at load without compiling them. An
//! identifier is a reference to a let when it is not a field or method
//! (after `.`) and not a function call (before `(`); a comprehension's
//! loop variable may not take a let's name (`rules validate` reports it),
//! so a loop variable is never mistaken for a let.

use std::collections::BTreeSet;

/// A text made by expanding lets, with where each of its pieces was
/// written in the rule file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expanded {
    /// The expression to compile.
    pub text: String,
    /// Pieces of `text` copied verbatim from the file: (offset in `text`,
    /// length, offset in the file), in order.
    segments: Vec<(usize, usize, usize)>,
    /// The lets the text names directly.
    pub uses: BTreeSet<String>,
}

impl Expanded {
    /// The offset in the rule file of the character at `offset` of
    /// [`Expanded::text`] (a parenthesis the expansion added: the end of
    /// the piece before it).
    pub fn origin(&self, offset: usize) -> usize {
        let index = self.segments.partition_point(|&(at, _, _)| at <= offset);
        match index.checked_sub(1).map(|i| self.segments[i]) {
            Some((at, len, file)) => file + (offset - at).min(len),
            None => self.segments.first().map_or(0, |&(_, _, file)| file),
        }
    }

    fn copy(&mut self, piece: &str, file: usize) {
        if piece.is_empty() {
            return;
        }
        let at = self.text.len();
        match self.segments.last_mut() {
            Some((start, len, origin)) if *start + *len == at && *origin + *len == file => {
                *len += piece.len();
            }
            _ => self.segments.push((at, piece.len(), file)),
        }
        self.text.push_str(piece);
    }

    fn insert(&mut self, other: &Expanded) {
        let at = self.text.len();
        self.text.push('(');
        for &(start, len, file) in &other.segments {
            self.segments.push((at + 1 + start, len, file));
        }
        self.text.push_str(&other.text);
        self.text.push(')');
    }
}

/// A let's name that cannot be used, or `None` when it can.
pub(crate) fn bad_name(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let well_formed = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Some(format!(
            "let name {name:?}: use lower-case letters, digits and '_', starting with a letter"
        ));
    }
    const TAKEN: [&str; 23] = [
        "facts",
        "findings",
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    ];
    TAKEN
        .contains(&name)
        .then(|| format!("let name {name:?} is taken (a variable or a CEL keyword)"))
}

/// What stops an expansion: the byte offset in the source, and why.
pub(crate) type Problem = (usize, String);

/// `source` (written at offset `file` of the rule file) with every
/// reference to one of `lets` (name, expansion) replaced by the let's
/// expansion in parentheses. `later` are the names of the lets written
/// after the one being expanded: naming one is a problem.
pub(crate) fn expand(
    source: &str,
    file: usize,
    lets: &[(String, Expanded)],
    later: &[String],
) -> Result<Expanded, Vec<Problem>> {
    let mut out = Expanded::default();
    // Most conditions name no let: no need to read them token by token.
    let named = |name: &String| source.contains(name.as_str());
    if !lets.iter().any(|(name, _)| named(name)) && !later.iter().any(named) {
        out.copy(source, file);
        return Ok(out);
    }
    let mut problems = Vec::new();
    let bytes = source.as_bytes();
    let mut i = 0;
    // The last character outside strings and comments that was not white
    // space; whether the last word was a comprehension macro after `.`
    // (`x.exists`), and whether its `(` was the last character (the next
    // word is then its loop variable).
    let mut last = 0u8;
    let mut macro_name = false;
    let mut macro_open = false;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        if b.is_ascii_whitespace() {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            out.copy(&source[start..i], file + start);
            continue;
        }
        if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            out.copy(&source[start..i], file + start);
            continue;
        }
        if b == b'"' || b == b'\'' {
            i = string_end(bytes, i, false);
            out.copy(&source[start..i], file + start);
            last = b'"';
            (macro_name, macro_open) = (false, false);
            continue;
        }
        if b == b'`' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'`' && bytes[i] != b'\n' {
                i += 1;
            }
            i = (i + 1).min(bytes.len());
            out.copy(&source[start..i], file + start);
            last = b'`';
            (macro_name, macro_open) = (false, false);
            continue;
        }
        if b.is_ascii_digit() {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric()
                    || bytes[i] == b'_'
                    || (bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
                    || ((bytes[i] == b'+' || bytes[i] == b'-')
                        && matches!(bytes[i - 1], b'e' | b'E')
                        && !source[start..i].starts_with("0x")))
            {
                i += 1;
            }
            out.copy(&source[start..i], file + start);
            last = b'0';
            (macro_name, macro_open) = (false, false);
            continue;
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &source[start..i];
            // A string or bytes prefix: r'...', b"...", br'...'.
            if matches!(bytes.get(i), Some(b'"' | b'\''))
                && matches!(
                    word,
                    "r" | "R" | "b" | "B" | "br" | "bR" | "Br" | "BR" | "rb" | "rB" | "Rb" | "RB"
                )
            {
                i = string_end(bytes, i, word.contains(['r', 'R']));
                out.copy(&source[start..i], file + start);
                last = b'"';
                (macro_name, macro_open) = (false, false);
                continue;
            }
            let next = source[i..].trim_start().bytes().next();
            let member = last == b'.';
            let call = next == Some(b'(');
            let loop_variable = macro_open && next == Some(b',');
            let known = lets.iter().find(|(name, _)| name == word);
            if member || (call && known.is_none()) {
                out.copy(word, file + start);
            } else if loop_variable && (known.is_some() || later.iter().any(|n| n == word)) {
                problems.push((
                    start,
                    format!("loop variable `{word}` has the name of a let: rename one of them"),
                ));
                out.copy(word, file + start);
            } else if let Some((name, expansion)) = known {
                if call {
                    problems.push((start, format!("`{name}` is a let, not a function")));
                }
                out.uses.insert(name.clone());
                out.insert(expansion);
            } else if later.iter().any(|n| n == word) {
                problems.push((
                    start,
                    format!(
                        "`{word}` is a let written after this one: a let may use only the \
                         lets before it"
                    ),
                ));
                out.copy(word, file + start);
            } else {
                out.copy(word, file + start);
            }
            macro_name = member
                && matches!(
                    word,
                    "all" | "exists" | "exists_one" | "existsOne" | "map" | "filter"
                );
            macro_open = false;
            last = b'a';
            continue;
        }
        // Any other character (operators, brackets, a non-ASCII one).
        let len = source[i..].chars().next().map_or(1, char::len_utf8);
        i += len;
        out.copy(&source[start..i], file + start);
        macro_open = b == b'(' && macro_name;
        macro_name = false;
        last = b;
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The offset just after the string literal whose opening quote is at
/// `open` (the end of the text when it is not closed).
fn string_end(bytes: &[u8], open: usize, raw: bool) -> usize {
    let quote = bytes[open];
    let triple = bytes.get(open..open + 3) == Some(&[quote; 3][..]);
    let mut i = open + if triple { 3 } else { 1 };
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' && !raw {
            i += 2;
            continue;
        }
        if triple {
            if bytes.get(i..i + 3) == Some(&[quote; 3][..]) {
                return i + 3;
            }
        } else if b == quote || b == b'\n' {
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lets(defs: &[(&str, &str)]) -> Vec<(String, Expanded)> {
        let mut out: Vec<(String, Expanded)> = Vec::new();
        for (name, text) in defs {
            let e = expand(text, 1000, &out, &[]).expect("expands");
            out.push((name.to_string(), e));
        }
        out
    }

    #[test]
    fn references_are_replaced_and_everything_else_kept() {
        let l = lets(&[("bad", "facts.a.filter(r, r.x)"), ("n", "size(bad)")]);
        assert_eq!(l[1].1.text, "size((facts.a.filter(r, r.x)))");
        let e = expand(
            "n > 0 && bad.exists(r, r.bad == 'bad') && r.n(1) && \"n\" != r'bad' && x.bad \
             // bad\n && n",
            0,
            &l,
            &[],
        )
        .expect("expands");
        assert_eq!(
            e.text,
            "(size((facts.a.filter(r, r.x)))) > 0 && (facts.a.filter(r, r.x)).exists(r, \
             r.bad == 'bad') && r.n(1) && \"n\" != r'bad' && x.bad // bad\n && \
             (size((facts.a.filter(r, r.x))))"
        );
        assert_eq!(e.uses.iter().cloned().collect::<Vec<_>>(), ["bad", "n"]);
        // Numbers, escaped quotes, triple-quoted strings, bytes.
        let e = expand(
            "1e-5 + 0x1F + n + 'it\\'s n' + '''n ' n''' + b'n' + `n-x`",
            0,
            &l,
            &[],
        )
        .expect("expands");
        assert_eq!(
            e.text,
            "1e-5 + 0x1F + (size((facts.a.filter(r, r.x)))) + 'it\\'s n' + '''n ' n''' + \
             b'n' + `n-x`"
        );
    }

    #[test]
    fn offsets_map_back_to_the_file() {
        let l = lets(&[("bad", "facts.a")]);
        // The let's text is at 1000 in the file, the condition at 10.
        let e = expand("size(bad) > x", 10, &l, &[]).expect("expands");
        assert_eq!(e.text, "size((facts.a)) > x");
        assert_eq!(e.origin(0), 10); // s
        assert_eq!(e.origin(6), 1000); // f of facts
        assert_eq!(e.origin(12), 1006); // a
        assert_eq!(e.origin(18), 10 + 12); // x
    }

    #[test]
    fn misuse_is_reported() {
        let l = lets(&[("bad", "facts.a")]);
        let problems = |s: &str, later: &[&str]| {
            let later: Vec<String> = later.iter().map(|s| s.to_string()).collect();
            expand(s, 0, &l, &later).err().unwrap_or_default()
        };
        assert!(problems("facts.b.exists(bad, bad)", &[])[0]
            .1
            .contains("loop variable `bad`"));
        assert!(problems("facts.b.map(x, bad, x)", &[]).is_empty());
        assert!(problems("bad(1)", &[])[0].1.contains("not a function"));
        assert!(problems("later + 1", &["later"])[0]
            .1
            .contains("written after"));
        assert_eq!(bad_name("facts").map(|_| ()), Some(()));
        assert_eq!(bad_name("Bad").map(|_| ()), Some(()));
        assert_eq!(bad_name("ok_2"), None);
    }
}
