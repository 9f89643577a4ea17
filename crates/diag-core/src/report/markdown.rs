//! The report as GitHub-flavoured Markdown.
//!
//! Every string that comes from the host (host name, log lines, file
//! names, interface names) can hold Markdown syntax, HTML, control
//! characters or backticks. Three rules keep it text:
//!
//! - inline text and table cells: [`inline`] backslash-escapes the ASCII
//!   punctuation Markdown and GFM act on (including `|`, `<`, `&`), and
//!   folds line breaks into spaces, so a cell stays one cell;
//! - evidence excerpts go in a fenced block whose fence is longer than the
//!   longest backtick run inside ([`fenced`]), so nothing closes it early;
//! - control characters (ANSI escapes) are shown as their Unicode control
//!   pictures (`␛`), see [`super::visible`].

use super::context::{EventKind, Report, TimelineEvent};
use super::{display_time, visible};
use crate::model::Evidence;
use std::fmt::Write;

/// Notes listed before the rest are counted.
const NOTES_SHOWN: usize = 20;

/// The report as Markdown.
pub fn markdown(report: &Report) -> String {
    let d = &report.diagnosis;
    let c = &report.context;
    let mut out = String::new();
    let host = d.source.host.as_deref().unwrap_or("unknown host");
    let _ = writeln!(out, "# diag report: {}\n", inline(host));
    let mut facts = Vec::new();
    if let Some(window) = &c.window {
        facts.push(format!(
            "**Time window:** {} to {} UTC",
            display_time(&window.start),
            display_time(&window.end)
        ));
    }
    if let Some(at) = &c.collected_at {
        facts.push(format!("**State read:** {}", inline(at)));
    }
    facts.push(format!(
        "**Source:** {} {}",
        d.source.kind,
        code_span(&d.source.path, false)
    ));
    if let Some(kernel) = &d.source.kernel {
        facts.push(format!("**Kernel:** {}", inline(kernel)));
    }
    for line in facts {
        let _ = writeln!(out, "- {line}");
    }

    out.push_str("\n## Summary\n\n");
    let verdict = d
        .worst()
        .map_or("OK".to_string(), |s| s.as_str().to_uppercase());
    match d.causes.first() {
        Some(top) => {
            let _ = writeln!(
                out,
                "**{verdict}.** Most likely cause: **{}** ({}, {}, confidence {:.2}). {}\n",
                inline(&top.title),
                code_span(&top.id, false),
                top.severity,
                top.confidence,
                rule_text(&top.summary, false)
            );
        }
        None => match d.findings.first() {
            Some(first) => {
                let _ = writeln!(
                    out,
                    "**{verdict}.** No cause could be proposed; the most severe finding is **{}** ({}): {}\n",
                    inline(&first.title),
                    code_span(&first.id, false),
                    rule_text(&first.summary, false)
                );
            }
            None => {
                let _ = writeln!(out, "**{verdict}.** No rule found anything wrong.\n");
            }
        },
    }
    let _ = writeln!(
        out,
        "{} cause(s), {} finding(s), {} hypothesis(es) ruled out, {} input(s) skipped, {} note(s).",
        d.causes.len(),
        d.findings.len(),
        d.ruled_out.len(),
        d.skipped.len(),
        d.notes.len()
    );

    if !d.causes.is_empty() {
        out.push_str("\n## Likely causes, most likely first\n");
        for (rank, cause) in d.causes.iter().enumerate() {
            let _ = writeln!(out, "\n### {}. {}\n", rank + 1, inline(&cause.title));
            let _ = writeln!(
                out,
                "- **Id:** {}\n- **Severity:** {}\n- **Confidence:** {:.2}",
                code_span(&cause.id, false),
                cause.severity,
                cause.confidence
            );
            if !cause.explains.is_empty() {
                let ids: Vec<String> = cause
                    .explains
                    .iter()
                    .map(|id| code_span(id, false))
                    .collect();
                let _ = writeln!(out, "- **Explains:** {}", ids.join(", "));
            }
            let _ = writeln!(out, "\n{}", rule_text(&cause.summary, false));
            evidence(&mut out, &cause.evidence, cause.evidence_omitted);
            next_steps(&mut out, &cause.next_steps);
        }
    }
    let unexplained = d.unexplained();
    if !unexplained.is_empty() {
        let _ = writeln!(
            out,
            "\n## Unexplained findings\n\n{}; each is a hypothesis of its own, most severe first \
             (details under [Findings](#findings)):\n",
            super::unexplained_lead(d)
        );
        for (i, finding) in unexplained.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. **{}** ({}, {})",
                d.causes.len() + i + 1,
                inline(&finding.title),
                code_span(&finding.id, false),
                finding.severity
            );
        }
    }
    if !d.findings.is_empty() {
        out.push_str("\n## Findings\n");
        for finding in &d.findings {
            let _ = writeln!(
                out,
                "\n### {} ({})\n",
                inline(&finding.title),
                code_span(&finding.id, false)
            );
            let _ = writeln!(
                out,
                "**{}**, {} occurrence(s). {}",
                finding.severity,
                finding.count,
                rule_text(&finding.summary, false)
            );
            evidence(&mut out, &finding.evidence, finding.evidence_omitted);
            next_steps(&mut out, &finding.next_steps);
        }
    }
    if !d.ruled_out.is_empty() {
        out.push_str("\n## Ruled out\n\n| Hypothesis | Id | Why not |\n| --- | --- | --- |\n");
        for item in &d.ruled_out {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                inline(&item.title),
                code_span(&item.id, true),
                rule_text(&item.reason, true)
            );
        }
    }
    timeline(&mut out, report);
    tables(&mut out, report);
    if !d.skipped.is_empty() {
        out.push_str("\n## Skipped inputs\n\n| Input | Why |\n| --- | --- |\n");
        for item in &d.skipped {
            let _ = writeln!(
                out,
                "| {} | {} |",
                code_span(&item.collector, true),
                inline(&item.reason)
            );
        }
    }
    if !d.notes.is_empty() {
        out.push_str("\n## Notes\n\nLines and records diag could not use:\n\n");
        out.push_str("| Input | Line | Note |\n| --- | --- | --- |\n");
        for note in d.notes.iter().take(NOTES_SHOWN) {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                code_span(&note.input, true),
                note.line.map(|l| l.to_string()).unwrap_or_default(),
                inline(&note.message)
            );
        }
        if d.notes.len() > NOTES_SHOWN {
            let _ = writeln!(
                out,
                "\n{} more in the JSON report.",
                d.notes.len() - NOTES_SHOWN
            );
        }
    }
    let made = &c.made;
    out.push_str("\n## How this report was made\n\n");
    let _ = writeln!(out, "- **diag version:** {}", inline(&made.diag_version));
    let _ = writeln!(
        out,
        "- **Rule set:** {} rules, hash {}",
        made.rule_count,
        code_span(&made.rules_hash, false)
    );
    let _ = writeln!(out, "- **Generated at:** {}", inline(&d.generated_at));
    if made.command_line.is_empty() {
        out.push_str("- **Command line:** none (library call)\n");
    } else {
        let _ = writeln!(
            out,
            "- **Command line:** {}",
            code_span(&made.command_line.join(" "), false)
        );
    }
    out
}

fn evidence(out: &mut String, items: &[Evidence], omitted: usize) {
    if items.is_empty() {
        return;
    }
    out.push_str("\n**Evidence**\n");
    for (item, times, last) in super::collapse_evidence(items) {
        let place = match (item.line, item.line_end, last) {
            (Some(line), Some(end), _) => format!(", lines {line}-{end}"),
            (Some(line), None, Some(last)) => {
                format!(", line {line} (x{times}, the last at line {last})")
            }
            (Some(line), None, None) => format!(", line {line}"),
            _ if times > 1 => format!(" (x{times})"),
            _ => String::new(),
        };
        let _ = writeln!(out, "\n{}{place}:\n", code_span(&item.input, false));
        out.push_str(&fenced(&item.excerpt));
    }
    if omitted > 0 {
        let _ = writeln!(out, "\n... and {omitted} more.");
    }
}

fn next_steps(out: &mut String, steps: &[String]) {
    if steps.is_empty() {
        return;
    }
    out.push_str("\n**Next steps**\n\n");
    for (i, step) in steps.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", i + 1, rule_text(step, false));
    }
}

fn timeline(out: &mut String, report: &Report) {
    let c = &report.context;
    out.push_str("\n## Timeline\n\n");
    if c.timeline.is_empty() {
        out.push_str("No event with a time: no kernel log, capture or collection time.\n");
        return;
    }
    let _ = writeln!(
        out,
        "| {} | Kind | Event | Source | Cited by |",
        time_heading(&c.timeline)
    );
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for (i, event) in c.timeline.iter().enumerate() {
        if c.timeline_omitted > 0 && i == c.timeline.len() / 2 {
            let _ = writeln!(
                out,
                "| ... | | {} more events left out | | |",
                c.timeline_omitted
            );
        }
        let source = match event.line {
            Some(line) => format!("{}:{line}", event.input),
            None => event.input.clone(),
        };
        let cited: Vec<String> = event.rules.iter().map(|r| code_span(r, true)).collect();
        let text = match (event.kind, event.duration) {
            (EventKind::Capture, Some(d)) => format!("{} (for {d:.1} s)", event.text),
            _ => event.text.clone(),
        };
        let text = match (event.count, event.last_line) {
            (1, _) => text,
            (n, Some(last)) => format!("{text} (x{n}, the last at line {last})"),
            (n, None) => format!("{text} (x{n})"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            event_time(event),
            event.kind.as_str(),
            inline(&text),
            code_span(&source, true),
            cited.join(", ")
        );
    }
}

/// The time column of an event: wall clock, else boot and uptime.
/// The heading of the timeline's time column, saying what it holds:
/// "Time (UTC)" only when every event has its wall-clock time (issue 25:
/// the column said UTC over times since boot).
pub(super) fn time_heading(events: &[TimelineEvent]) -> &'static str {
    let with_wall = events.iter().filter(|e| e.time.is_some()).count();
    if with_wall == events.len() {
        "Time (UTC)"
    } else if with_wall == 0 {
        "Time since boot"
    } else {
        "Time (UTC, else since boot)"
    }
}

pub(super) fn event_time(event: &TimelineEvent) -> String {
    match (&event.time, event.uptime) {
        (Some(time), _) => display_time(time),
        (None, Some(uptime)) => format!("boot {}, +{uptime:.3} s", event.boot),
        (None, None) => format!("boot {}", event.boot),
    }
}

fn tables(out: &mut String, report: &Report) {
    let t = &report.context.tables;
    out.push_str("\n## Facts\n");
    let yes = |b: bool| if b { "yes" } else { "**no**" };
    if !t.expected_addresses.is_empty() {
        out.push_str("\n### Addresses: expected vs bound\n\n");
        out.push_str("| Address | Interface | Configured in | Bound | Bound on | Ports |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for row in &t.expected_addresses {
            let _ = writeln!(
                out,
                "| {} | {} | {} ({}) | {} | {} | {} |",
                inline(&row.address),
                inline(&row.interface),
                code_span(&row.source, true),
                inline(&row.origin),
                yes(row.bound),
                inline(&row.bound_on),
                inline(&row.ports)
            );
        }
    }
    if !t.bound_addresses.is_empty() {
        out.push_str("\n### Addresses bound\n\n| Interface | Address | Scope | Expected |\n");
        out.push_str("| --- | --- | --- | --- |\n");
        for row in &t.bound_addresses {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                inline(&row.interface),
                inline(&row.address),
                inline(&row.scope),
                if row.expected { "yes" } else { "" }
            );
        }
    }
    if t.route_count > 0 || !t.default_routes.is_empty() {
        let _ = writeln!(
            out,
            "\n### Routes\n\n{} route(s) in all tables. Default routes:\n",
            t.route_count
        );
        if t.default_routes.is_empty() {
            out.push_str("none.\n");
        } else {
            out.push_str("| Family | Table | Gateway | Device | Metric | Problem |\n");
            out.push_str("| --- | --- | --- | --- | --- | --- |\n");
            for row in &t.default_routes {
                let gateway = if row.gateway.is_empty() {
                    "(on-link)".to_string()
                } else {
                    inline(&row.gateway)
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {gateway} | {} | {} | {} |",
                    inline(&row.family),
                    inline(&row.table),
                    inline(&row.dev),
                    row.metric,
                    inline(&row.problem)
                );
            }
        }
    }
    if !t.arrays.is_empty() {
        out.push_str("\n### RAID arrays\n\n");
        out.push_str("| Array | Level | State | Disks | Status | Failed | Degraded | Sync |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for row in &t.arrays {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                inline(&row.name),
                inline(&row.level),
                inline(&row.state),
                inline(&row.disks),
                code_span(&row.status, true),
                inline(&row.faulty),
                if row.degraded { "**yes**" } else { "no" },
                inline(&row.sync)
            );
        }
    }
    if !t.mounts.is_empty() {
        out.push_str("\n### Mounts\n\n| Device | Mount point | Type | Mode | Used | Note |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for row in &t.mounts {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                inline(&row.device),
                inline(&row.mountpoint),
                inline(&row.fstype),
                if row.read_only { "ro" } else { "rw" },
                row.used_pct.map(|p| format!("{p}%")).unwrap_or_default(),
                inline(&row.note)
            );
        }
    }
    if !t.captures.is_empty() {
        out.push_str("\n### Packet captures\n\n");
        out.push_str(
            "| Capture | Packets | Seconds | ARP requests | SYNs | DNS queries | unanswered |\n",
        );
        out.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
        for row in &t.captures {
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} | {} | {} | {} | {} |",
                code_span(&row.input, true),
                row.packets,
                row.duration,
                row.arp_requests,
                row.syn,
                row.dns_queries,
                row.dns_unanswered
            );
        }
    }
    if let Some(d) = &t.drops {
        let _ = writeln!(
            out,
            "\n### Packets the kernel dropped\n\n{} in {:.1} s{}{}.\n",
            match d.events {
                0 => "No packet dropped".to_string(),
                n => format!("{n} dropped"),
            },
            d.window_seconds,
            if d.lost > 0 {
                format!(", at least {} more lost by the trace buffer", d.lost)
            } else {
                String::new()
            },
            if d.reasons_known {
                ""
            } else {
                " (this kernel names no reasons: counted by location)"
            }
        );
        if !d.reasons.is_empty() {
            out.push_str("| Reason | Drops | Per second | Share | Protocols | Mostly at |\n");
            out.push_str("| --- | --- | --- | --- | --- | --- |\n");
            for r in &d.reasons {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.1} | {:.0}% | {} | {} |",
                    code_span(&r.reason, true),
                    r.count,
                    r.rate,
                    r.share * 100.0,
                    inline(&r.protocols),
                    code_span(&r.location, true)
                );
            }
        }
    }
    if t.expected_addresses.is_empty()
        && t.bound_addresses.is_empty()
        && t.route_count == 0
        && t.arrays.is_empty()
        && t.mounts.is_empty()
        && t.captures.is_empty()
    {
        out.push_str("\nNo address, route, array, mount or capture was read.\n");
    }
}

/// Text safe to put inline (a paragraph, a heading, a list item, a table
/// cell): line breaks become spaces, control characters become visible,
/// and Markdown's active ASCII punctuation is backslash-escaped.
pub fn inline(text: &str) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    for (i, &ch) in chars.iter().enumerate() {
        match ch {
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#' | '!' | '{'
            | '}' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            // A leading list or block marker.
            '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(ch);
            }
            // `1. ` would start an ordered list.
            '.' | ')'
                if !out.is_empty()
                    && out.chars().all(|c| c.is_ascii_digit())
                    && chars.get(i + 1).is_none_or(|c| c.is_whitespace()) =>
            {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// A rule's text (summary, next step, reason): its commands between
/// backticks as code spans, the rest [`inline`] (see
/// [`super::code_spans`]); `in_table` for a table cell.
pub fn rule_text(text: &str, in_table: bool) -> String {
    super::code_spans(text)
        .into_iter()
        .map(|(piece, code)| {
            if code {
                code_span(piece, in_table)
            } else {
                inline(piece)
            }
        })
        .collect()
}

/// A code span holding `text` verbatim: delimited by one backtick more
/// than its longest backtick run, padded when it starts or ends with one.
/// In a table cell (`in_table`), pipes are escaped (GFM reads `\|` inside
/// a code span in a table as a literal pipe).
pub fn code_span(text: &str, in_table: bool) -> String {
    let mut text = visible(text).replace(['\n', '\r'], " ");
    if in_table {
        text = text.replace('|', "\\|");
    }
    if text.is_empty() {
        return String::new();
    }
    let ticks = "`".repeat(longest_run(&text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.starts_with(' ') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// A fenced code block holding `text` verbatim, with a fence longer than
/// any backtick run inside (at least three).
pub fn fenced(text: &str) -> String {
    let text = visible(text);
    let fence = "`".repeat((longest_run(&text, '`') + 1).max(3));
    let mut out = format!("{fence}text\n{text}");
    if !text.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

fn longest_run(text: &str, ch: char) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == ch {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25: "Time (UTC)" headed a column of times since boot.
    #[test]
    fn the_time_column_is_headed_for_what_it_holds() {
        let event = |time: Option<&str>| {
            let mut e: TimelineEvent = serde_json::from_value(serde_json::json!({
                "time": null, "wall_us": null, "boot": 0, "uptime": 1.5,
                "kind": "kernel", "severity": "info", "text": "x", "input": "dev/kmsg",
                "line": 1, "duration": null, "rules": []
            }))
            .expect("an event");
            e.time = time.map(String::from);
            e
        };
        let wall = event(Some("2026-12-06T05:00:00Z"));
        let boot = event(None);
        assert_eq!(time_heading(std::slice::from_ref(&wall)), "Time (UTC)");
        assert_eq!(time_heading(std::slice::from_ref(&boot)), "Time since boot");
        assert_eq!(time_heading(&[wall, boot]), "Time (UTC, else since boot)");
    }

    #[test]
    fn fence_outlasts_backtick_runs() {
        let block = fenced("a ``` b ````` c");
        assert!(block.starts_with("``````text\n"));
        assert!(block.ends_with("\n``````\n"));
    }

    #[test]
    fn inline_escapes_markdown_and_html() {
        assert_eq!(inline("a|b <i>"), "a\\|b \\<i\\>");
        assert_eq!(inline("1. x"), "1\\. x");
        assert_eq!(inline("3.4.82"), "3.4.82");
        assert_eq!(inline("- x\ny"), "\\- x y");
        assert_eq!(inline("\u{1b}[31m"), "\u{241b}\\[31m");
    }

    #[test]
    fn code_span_outlasts_backticks() {
        assert_eq!(code_span("a`b", false), "``a`b``");
        assert_eq!(code_span("`x", false), "`` `x ``");
        assert_eq!(code_span("a|b", true), "`a\\|b`");
    }
}
