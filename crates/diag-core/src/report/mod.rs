//! Present: renderers of a [`Diagnosis`]. They compute nothing; they only
//! lay out what the diagnosis says.
//!
//! - [`text`]: the terminal form of `diag check` and `diag analyze`.
//! - The postmortem reports of `diag report`: [`markdown()`], [`html()`]
//!   and [`json()`] render a [`Report`]: the diagnosis with a
//!   [`ReportContext`] (timeline, facts tables, provenance) derived from
//!   the facts by [`Report::new`]. [`crate::analysis::Analysis::report`]
//!   makes one from an analysis; [`write_atomic`] writes a rendered report without ever
//!   leaving half a file under its name. `docs/reports.md` describes the
//!   formats.
//! - [`prometheus()`]: the diagnosis as metrics in the Prometheus text
//!   format, for node_exporter's textfile collector (`docs/fleet.md`);
//!   [`jsonl::lines`]: as JSON lines, for a log pipeline.
//! - [`fleet::text`] and [`fleet::json`]: many hosts' diagnoses
//!   summarised by [`crate::diagnose::fleet::summarise`] (`diag fleet`).
//!
//! Every string from the host passes the one sanitiser
//! ([`crate::sanitize`], re-exported as [`visible`] and [`visible_line`])
//! in every format; the JSON forms escape what `serde_json` leaves raw.

pub(crate) mod context;
pub mod fleet;
pub(crate) mod html;
pub mod json;
pub mod jsonl;
pub(crate) mod markdown;
pub mod prometheus;

pub use context::{Provenance, Report, ReportContext};
pub use html::html;
pub use json::schema;
pub use markdown::markdown;
pub use prometheus::prometheus;

use crate::diagnose::diagnosis::Diagnosis;
use crate::model::Evidence;
use crate::{Error, Result};
use std::fmt::Write;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` atomically: into a temporary file in the
/// same directory, flushed to disk, then renamed over `path`. A crash or a
/// full disk leaves the old file (or none), never half a report.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomic_mode(path, contents, None)
}

/// [`write_atomic`], the file getting permission bits `mode` (not
/// narrowed by the umask) instead of owner-only 0600: metrics for
/// node_exporter's textfile collector are 0644, so the exporter's user
/// reads them.
pub fn write_atomic_mode(path: &Path, contents: &[u8], mode: Option<u32>) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(path, e))?;
    }
    file.write_all(contents)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| Error::io(path, e))?;
    file.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// The one sanitiser's functions ([`crate::sanitize`]), used by every
/// report on every string from the host.
pub use crate::sanitize::{visible, visible_line};

/// What heads the list of [`Diagnosis::unexplained`] findings.
pub(crate) fn unexplained_lead(diagnosis: &Diagnosis) -> &'static str {
    if diagnosis.causes.is_empty() {
        "No cause explains these findings"
    } else {
        "No cause above explains these findings"
    }
}

/// A rule text (summary, next step, reason) cut at its code spans: rules
/// write commands between backticks (`` `ip -s neigh` ``), so Markdown
/// and HTML set them as code and the terminal forms show them bare
/// ([`plain`]). A backtick without a pair is text. Pieces are `(text,
/// is_code)`, in order, none empty. The text is not sanitised here.
pub fn code_spans(text: &str) -> Vec<(&str, bool)> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        let code = &rest[open + 1..open + 1 + len];
        if code.is_empty() {
            // "``": no span; keep both backticks as text.
            pieces.push((&rest[..open + 2], false));
            rest = &rest[open + 2..];
            continue;
        }
        if open > 0 {
            pieces.push((&rest[..open], false));
        }
        pieces.push((code, true));
        rest = &rest[open + 2 + len..];
    }
    if !rest.is_empty() {
        pieces.push((rest, false));
    }
    pieces
}

/// A rule text with its code spans' backticks dropped, for the terminal.
pub fn plain(text: &str) -> std::borrow::Cow<'_, str> {
    let pieces = code_spans(text);
    if pieces.iter().all(|(_, code)| !code) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(pieces.into_iter().map(|(t, _)| t).collect())
}

/// The report as pretty-printed JSON ([`json::json`]), with a final
/// newline and every DEL, C1 or bidi control in a string written as a
/// `\uXXXX` escape ([`crate::sanitize::json`]): safe to print on a
/// terminal, the same document once parsed.
pub fn json(report: &Report) -> String {
    let out = json::json(report);
    match crate::sanitize::json(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(safe) => safe,
    }
}

/// An RFC 3339 time as reports show it: `2026-11-21 07:15:49.123`.
pub fn display_time(rfc3339: &str) -> String {
    visible(rfc3339.trim_end_matches('Z')).replacen('T', " ", 1)
}

/// How many notes the text report lists before summarising the rest.
const TEXT_NOTES: usize = 10;

/// The diagnosis as plain text for a terminal, a serial console or a mail:
/// ASCII only in its own layout, no colour, 80 columns where possible.
/// Every string in it (from the host, a bundle or a rule file) passes
/// [`visible_line`]: no control character reaches the terminal, and no
/// field spills onto another line.
pub fn text(diagnosis: &Diagnosis) -> String {
    let v = visible_line;
    let mut out = String::new();
    let source = &diagnosis.source;
    let _ = writeln!(
        out,
        "diag {}: {} {} (host {}, kernel {}), {}",
        crate::VERSION,
        source.kind,
        v(&source.path),
        v(source.host.as_deref().unwrap_or("unknown")),
        v(source.kernel.as_deref().unwrap_or("unknown")),
        v(&diagnosis.generated_at)
    );
    let absent = if source.inputs_absent.is_empty() {
        String::new()
    } else {
        format!("; absent: {}", v(&source.inputs_absent.join(", ")))
    };
    let collected = match &source.collected_at {
        Some(at) if source.kind != crate::source::SourceKind::Live => {
            format!("; collected {}", v(at))
        }
        Some(_) => String::new(),
        None => "; collection time unknown".into(),
    };
    let _ = writeln!(
        out,
        "read {} input(s){absent}{collected}",
        source.inputs_read
    );
    let verdict = match diagnosis.worst() {
        Some(severity) => format!("{}", severity).to_uppercase(),
        None => "OK".into(),
    };
    let unexplained = diagnosis.unexplained();
    let hypotheses = if unexplained.is_empty() {
        String::new()
    } else {
        format!(" + {} unexplained finding(s)", unexplained.len())
    };
    let _ = writeln!(
        out,
        "{verdict}: {} cause(s){hypotheses}, {} finding(s), {} ruled out, {} skipped, {} note(s)",
        diagnosis.causes.len(),
        diagnosis.findings.len(),
        diagnosis.ruled_out.len(),
        diagnosis.skipped.len(),
        diagnosis.notes.len()
    );

    if !diagnosis.causes.is_empty() {
        let _ = writeln!(out, "\nLikely causes, most likely first:");
        for (rank, cause) in diagnosis.causes.iter().enumerate() {
            let _ = writeln!(
                out,
                "\n{}. [{}] {} ({}, confidence {:.2})",
                rank + 1,
                cause.severity,
                v(&cause.title),
                v(&cause.id),
                cause.confidence
            );
            let _ = writeln!(out, "   {}", v(&plain(&cause.summary)));
            if !cause.explains.is_empty() {
                let _ = writeln!(out, "   explains: {}", v(&cause.explains.join(", ")));
            }
            evidence(&mut out, &cause.evidence, cause.evidence_omitted);
            for step in &cause.next_steps {
                let _ = writeln!(out, "   next: {}", v(&plain(step)));
            }
        }
    }
    if !unexplained.is_empty() {
        let _ = writeln!(
            out,
            "\n{}, each a hypothesis of its own (details under Findings):\n",
            unexplained_lead(diagnosis)
        );
        for (i, finding) in unexplained.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. [{}] {} ({})",
                diagnosis.causes.len() + i + 1,
                finding.severity,
                v(&finding.title),
                v(&finding.id)
            );
        }
    }
    if !diagnosis.findings.is_empty() {
        let _ = writeln!(out, "\nFindings:");
        for finding in &diagnosis.findings {
            let _ = writeln!(
                out,
                "\n- [{}] {} ({})",
                finding.severity,
                v(&finding.title),
                v(&finding.id)
            );
            let _ = writeln!(out, "   {}", v(&plain(&finding.summary)));
            evidence(&mut out, &finding.evidence, finding.evidence_omitted);
            for step in &finding.next_steps {
                let _ = writeln!(out, "   next: {}", v(&plain(step)));
            }
        }
    }
    if !diagnosis.ruled_out.is_empty() {
        let _ = writeln!(out, "\nRuled out:");
        for item in &diagnosis.ruled_out {
            let _ = writeln!(
                out,
                "- {} ({}): {}",
                v(&item.title),
                v(&item.id),
                v(&plain(&item.reason))
            );
        }
    }
    if !diagnosis.skipped.is_empty() {
        let _ = writeln!(out, "\nSkipped:");
        for item in &diagnosis.skipped {
            let _ = writeln!(out, "- {}: {}", v(&item.collector), v(&item.reason));
        }
    }
    if !diagnosis.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for note in diagnosis.notes.iter().take(TEXT_NOTES) {
            match note.line {
                Some(line) => {
                    let _ = writeln!(out, "- {}:{}: {}", v(&note.input), line, v(&note.message));
                }
                None => {
                    let _ = writeln!(out, "- {}: {}", v(&note.input), v(&note.message));
                }
            }
        }
        if diagnosis.notes.len() > TEXT_NOTES {
            let _ = writeln!(
                out,
                "- ... {} more (see --format json)",
                diagnosis.notes.len() - TEXT_NOTES
            );
        }
    }
    if diagnosis.causes.is_empty() && diagnosis.findings.is_empty() {
        let _ = writeln!(out, "\nNo rule found anything wrong.");
    }
    out
}

/// [`collapsed_evidence`] with the items themselves.
pub(crate) fn collapse_evidence(items: &[Evidence]) -> Vec<(&Evidence, usize, Option<u32>)> {
    collapsed_evidence(items)
        .into_iter()
        .map(|(i, times, last)| (&items[i], times, last))
        .collect()
}

/// The evidence with identical lines collapsed (issue 24, class 11): each
/// item once, in the order of its first occurrence, with how many items of
/// the same input say the same thing and the line of the last one. Lines
/// are the same when they differ only in their time stamp (`[  12.3]`, a
/// syslog date, a `/dev/kmsg` prefix); a block of lines is never merged.
///
/// By index into `items`: `(index of the first, how many, line of the
/// last)`, so a view can keep a cursor on the evidence (the terminal UI).
pub fn collapsed_evidence(items: &[Evidence]) -> Vec<(usize, usize, Option<u32>)> {
    let mut out: Vec<(usize, usize, Option<u32>)> = Vec::new();
    let mut seen: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if item.line_end.is_some() {
            out.push((i, 1, None));
            continue;
        }
        let key = (item.input.as_str(), message_of(&item.excerpt));
        match seen.get(&key) {
            Some(&at) => {
                out[at].1 += 1;
                out[at].2 = item.line;
            }
            None => {
                seen.insert(key, out.len());
                out.push((i, 1, None));
            }
        }
    }
    out
}

/// A log line without its time stamp: what is left after a syslog
/// `... kernel: ` prefix, a `/dev/kmsg` `prio,seq,usec,flags;` prefix, a
/// `<N>` level and a leading `[...]` stamp.
fn message_of(line: &str) -> &str {
    let mut rest = line.trim();
    if let Some((_, after)) = rest.split_once(" kernel: ") {
        rest = after.trim_start();
    }
    if let Some((head, after)) = rest.split_once(';') {
        if head.split(',').count() >= 3 && head.split(',').take(3).all(|f| f.parse::<u64>().is_ok())
        {
            rest = after;
        }
    }
    if let Some(after) = rest.strip_prefix('<') {
        if let Some((level, after)) = after.split_once('>') {
            if level.parse::<u32>().is_ok() {
                rest = after;
            }
        }
    }
    if let Some(after) = rest.strip_prefix('[') {
        if let Some((_, after)) = after.split_once(']') {
            rest = after;
        }
    }
    rest.trim()
}

fn evidence(out: &mut String, items: &[Evidence], omitted: usize) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "   evidence:");
    for (item, times, last) in collapse_evidence(items) {
        let repeated = match (times, last) {
            (1, _) => String::new(),
            (n, Some(last)) => format!(" (x{n}, the last at line {last})"),
            (n, None) => format!(" (x{n})"),
        };
        let input = visible_line(&item.input);
        if let (Some(line), Some(end)) = (item.line, item.line_end) {
            let _ = writeln!(out, "     {input}:{line}-{end}:");
            for text in item.excerpt.lines() {
                let text: String = text.chars().take(200).collect();
                let _ = writeln!(out, "       | {}", visible_line(&text));
            }
            continue;
        }
        // A record of several lines (an mdstat array and its status
        // line) keeps its line breaks; each line is sanitised on its own.
        let excerpt: String = item.excerpt.chars().take(200).collect();
        let excerpt: Vec<String> = excerpt.split('\n').map(visible_line).collect();
        let excerpt = excerpt.join("\n");
        match item.line {
            Some(line) => {
                let _ = writeln!(out, "     {input}:{line}: {excerpt}{repeated}");
            }
            None => {
                let _ = writeln!(out, "     {input}: {excerpt}{repeated}");
            }
        }
    }
    if omitted > 0 {
        let _ = writeln!(out, "     ... and {omitted} more");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(line: u32, excerpt: &str) -> Evidence {
        Evidence {
            input: "dev/kmsg".into(),
            line: Some(line),
            line_end: None,
            excerpt: excerpt.into(),
        }
    }

    /// Issue 24, class 11: the same message at other times is one line
    /// with a count; another message, or another input, is not merged.
    #[test]
    fn identical_evidence_lines_are_collapsed_with_a_count() {
        let items = [
            line(1, "Jul 14 10:26:09 immortal kernel: [699626.134930] EXT4-fs error (device sdf): ext4_find_entry:1455: inode #2: comm minio: reading directory lblock 0"),
            line(2, "Jul 14 10:26:09 immortal kernel: [699626.137970] EXT4-fs error (device sdf): ext4_find_entry:1455: inode #2: comm minio: reading directory lblock 0"),
            line(3, "[699626.2] EXT4-fs error (device sdb): other"),
            line(4, "6,3,699626225996,-;EXT4-fs error (device sdf): ext4_find_entry:1455: inode #2: comm minio: reading directory lblock 0"),
        ];
        let collapsed = collapse_evidence(&items);
        let shape: Vec<_> = collapsed
            .iter()
            .map(|(e, n, last)| (e.line, *n, *last))
            .collect();
        assert_eq!(shape, [(Some(1), 3, Some(4)), (Some(3), 1, None)]);
        let mut out = String::new();
        evidence(&mut out, &items, 0);
        assert!(out.contains("(x3, the last at line 4)"), "{out}");
        assert_eq!(out.lines().count(), 3, "{out}");
    }

    /// Issue 25: commands in rule texts are code spans in Markdown and
    /// HTML (no literal backticks, no `\|` in a command), bare on the
    /// terminal; a lone backtick, or data with backticks, stays text.
    #[test]
    fn commands_between_backticks_are_code_spans() {
        let step = "when: `journalctl -k | grep -i 'table overflow'` (or `dmesg`)";
        assert_eq!(
            code_spans(step),
            [
                ("when: ", false),
                ("journalctl -k | grep -i 'table overflow'", true),
                (" (or ", false),
                ("dmesg", true),
                (")", false)
            ]
        );
        assert_eq!(
            plain(step),
            "when: journalctl -k | grep -i 'table overflow' (or dmesg)"
        );
        assert_eq!(code_spans("a ` b"), [("a ` b", false)]);
        assert_eq!(
            code_spans("a `` b `c`"),
            [("a ``", false), (" b ", false), ("c", true)]
        );
        assert_eq!(plain("no code"), "no code");
        let md = markdown::rule_text(step, false);
        assert_eq!(md, step);
        assert_eq!(
            markdown::rule_text("see `a|b` [x]", true),
            "see `a\\|b` \\[x\\]"
        );
        let html = html::rule_text_for_tests(step);
        assert!(
            html.contains("<code>journalctl -k | grep -i &#39;table overflow&#39;</code>")
                || html.contains("<code>journalctl -k | grep -i 'table overflow'</code>"),
            "{html}"
        );
        assert!(!html.contains('`'), "{html}");
        // A control character inside a span is still made visible.
        assert!(!markdown::rule_text("`a\u{1b}[2Jb`", false).contains('\u{1b}'));
    }
}
