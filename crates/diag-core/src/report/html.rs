//! The report as one self-contained HTML file: no external asset, no
//! script, readable offline and printable.
//!
//! - Escaping: the page is a [`maud`] template, which HTML-escapes every
//!   spliced value; nothing from the host is ever spliced unescaped (the
//!   only `PreEscaped` is the style sheet, a constant). A
//!   `Content-Security-Policy` meta tag forbids scripts and remote loads,
//!   so even a mistake here could not run code or call home.
//! - Timeline: an inline SVG chart, one lane per kind of event, over the
//!   report's time window; the full list follows as a table.
//! - Evidence: in `<details>` blocks, open for causes and closed for
//!   findings. A "Show all evidence" box opens them all on screen (CSS
//!   only: `:checked` and `::details-content`), and printing opens them
//!   all (a printed report kept only the open ones: the evidence of every
//!   finding was lost on paper); the print style sheet drops colours and
//!   keeps tables and evidence blocks from splitting.

use super::context::{EventKind, Report, TimelineEvent};
use super::markdown::{event_time, time_heading};
use super::{display_time, visible};
use crate::model::{Evidence, Severity};
use maud::{html, Markup, PreEscaped, DOCTYPE};

const STYLE: &str = r#"
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:64em;padding:0 1em;color:#1a1a1a}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
.meta{color:#555;margin:0;padding:0;list-style:none}.meta li{display:inline;margin-right:1.2em}
.verdict{font-weight:700;padding:.1em .5em;border-radius:3px}
.sev-critical{background:#c62828;color:#fff}.sev-warning{background:#f9a825;color:#000}.sev-info{background:#1565c0;color:#fff}
.ok{background:#2e7d32;color:#fff}
.cause,.finding{border:1px solid #ddd;border-radius:4px;padding:.4em 1em;margin:.8em 0;break-inside:avoid}
pre{background:#f5f5f5;padding:.5em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;margin:.3em 0}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.92em}
table{border-collapse:collapse;margin:.5em 0;width:100%}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}tr{break-inside:avoid}.no{color:#c62828;font-weight:700}
svg{max-width:100%;height:auto;border:1px solid #ddd}
summary{cursor:pointer;color:#333}
@media print{body{margin:0;max-width:none;font-size:11pt}.verdict,.sev-critical,.sev-warning,.sev-info,.ok{background:none;color:#000;border:1px solid #000}
a{color:#000}h2{break-after:avoid}details{break-inside:avoid}summary{list-style:none}
.expand-all{display:none}details::details-content{content-visibility:visible;display:block}}
.expand-all{font-size:.9em;color:#333}
#expand-all:checked~* details::details-content{content-visibility:visible;display:block}
"#;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// A page's `<head>`: its title, the content security policy and the
/// style sheet (the report's and the fleet view's).
pub(crate) fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta http-equiv="Content-Security-Policy" content=(CSP);
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            style { (PreEscaped(STYLE)) }
        }
    }
}

/// The report as one HTML document.
pub fn html(report: &Report) -> String {
    let d = &report.diagnosis;
    let c = &report.context;
    let host = visible(d.source.host.as_deref().unwrap_or("unknown host"));
    let (verdict, verdict_class) = match d.worst() {
        Some(s) => (s.as_str().to_uppercase(), sev_class(s)),
        None => ("OK".to_string(), "ok"),
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("diag report: {host}")))
            body {
                // Evidence of findings is folded on screen; this box (no
                // script: the page forbids them) unfolds every one, and
                // printing does too (`@media print`).
                input #expand-all .expand-all type="checkbox";
                label .expand-all for="expand-all" { " Show all evidence" }
                h1 { "diag report: " (host) }
                ul.meta {
                    @if let Some(w) = &c.window {
                        li { "Time window: " (display_time(&w.start)) " to " (display_time(&w.end)) " UTC" }
                    }
                    @if let Some(at) = &c.collected_at { li { "State read: " (visible(at)) } }
                    li { "Source: " (d.source.kind.to_string()) " " code { (visible(&d.source.path)) } }
                    @if let Some(k) = &d.source.kernel { li { "Kernel: " (visible(k)) } }
                }
                h2 #summary { "Summary" }
                p #verdict {
                    span class={ "verdict " (verdict_class) } { (verdict) }
                    " "
                    @if let Some(top) = d.causes.first() {
                        "Most likely cause: " strong { (visible(&top.title)) }
                        " (" code { (top.id) } ", " (top.severity.as_str()) ", confidence "
                        (format!("{:.2}", top.confidence)) "). " (rule_text(&top.summary))
                    } @else if let Some(first) = d.findings.first() {
                        "No cause could be proposed; the most severe finding is "
                        strong { (visible(&first.title)) } " (" code { (first.id) } "): " (rule_text(&first.summary))
                    } @else {
                        "No rule found anything wrong."
                    }
                }
                p {
                    (d.causes.len()) " cause(s), " (d.findings.len()) " finding(s), "
                    (d.ruled_out.len()) " hypothesis(es) ruled out, " (d.skipped.len())
                    " input(s) skipped, " (d.notes.len()) " note(s)."
                }
                @if !d.causes.is_empty() {
                    h2 #causes { "Likely causes, most likely first" }
                    @for (rank, cause) in d.causes.iter().enumerate() {
                        section.cause {
                            h3 { (rank + 1) ". " (visible(&cause.title)) }
                            p {
                                span class={ "verdict " (sev_class(cause.severity)) } { (cause.severity.as_str()) }
                                " confidence " strong { (format!("{:.2}", cause.confidence)) }
                                " · " code { (cause.id) }
                                @if !cause.explains.is_empty() {
                                    " · explains: "
                                    @for (i, id) in cause.explains.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        code { (id) }
                                    }
                                }
                            }
                            p { (rule_text(&cause.summary)) }
                            (evidence(&cause.evidence, cause.evidence_omitted, true))
                            (next_steps(&cause.next_steps))
                        }
                    }
                }
                @let unexplained = d.unexplained();
                @if !unexplained.is_empty() {
                    h2 #unexplained { "Unexplained findings" }
                    p {
                        (super::unexplained_lead(d))
                        "; each is a hypothesis of its own, most severe first (details under "
                        a href="#findings" { "Findings" } "):"
                    }
                    ol start=(d.causes.len() + 1) {
                        @for finding in &unexplained {
                            li {
                                strong { (visible(&finding.title)) } " "
                                span class={ "verdict " (sev_class(finding.severity)) } { (finding.severity.as_str()) }
                                " " code { (finding.id) }
                            }
                        }
                    }
                }
                @if !d.findings.is_empty() {
                    h2 #findings { "Findings" }
                    @for finding in &d.findings {
                        section.finding {
                            h3 { (visible(&finding.title)) " " code { (finding.id) } }
                            p {
                                span class={ "verdict " (sev_class(finding.severity)) } { (finding.severity.as_str()) }
                                " " (finding.count) " occurrence(s). " (rule_text(&finding.summary))
                            }
                            (evidence(&finding.evidence, finding.evidence_omitted, false))
                            (next_steps(&finding.next_steps))
                        }
                    }
                }
                @if !d.ruled_out.is_empty() {
                    h2 #ruled-out { "Ruled out" }
                    table {
                        tr { th { "Hypothesis" } th { "Id" } th { "Why not" } }
                        @for item in &d.ruled_out {
                            tr { td { (visible(&item.title)) } td { code { (item.id) } } td { (rule_text(&item.reason)) } }
                        }
                    }
                }
                h2 #timeline { "Timeline" }
                (timeline(report))
                h2 #facts { "Facts" }
                (tables(report))
                @if !d.skipped.is_empty() {
                    h2 #skipped { "Skipped inputs" }
                    table {
                        tr { th { "Input" } th { "Why" } }
                        @for item in &d.skipped {
                            tr { td { code { (visible(&item.collector)) } } td { (visible(&item.reason)) } }
                        }
                    }
                }
                @if !d.notes.is_empty() {
                    h2 #notes { "Notes" }
                    details {
                        summary { (d.notes.len()) " line(s) and record(s) diag could not use" }
                        table {
                            tr { th { "Input" } th { "Line" } th { "Note" } }
                            @for note in &d.notes {
                                tr {
                                    td { code { (visible(&note.input)) } }
                                    td { @if let Some(l) = note.line { (l) } }
                                    td { (visible(&note.message)) }
                                }
                            }
                        }
                    }
                }
                h2 #made { "How this report was made" }
                ul {
                    li { "diag version " (visible(&c.made.diag_version)) }
                    li { "Rule set: " (c.made.rule_count) " rules, hash " code { (visible(&c.made.rules_hash)) } }
                    li { "Generated at " (visible(&d.generated_at)) }
                    li {
                        "Command line: "
                        @if c.made.command_line.is_empty() { "none (library call)" }
                        @else { code { (visible(&c.made.command_line.join(" "))) } }
                    }
                }
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
    out
}

pub(crate) fn sev_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "sev-critical",
        Severity::Warning => "sev-warning",
        Severity::Info => "sev-info",
    }
}

fn evidence(items: &[Evidence], omitted: usize, open: bool) -> Markup {
    html! {
        @if !items.is_empty() {
            details open[open] {
                summary { "Evidence (" (items.len() + omitted) ")" }
                @for (item, times, last) in super::collapse_evidence(items) {
                    p.source {
                        code { (visible(&item.input)) }
                        @match (item.line, item.line_end) {
                            (Some(l), Some(e)) => { ", lines " (l) "-" (e) },
                            (Some(l), None) => { ", line " (l) },
                            _ => {},
                        }
                        @match (times, last) {
                            (1, _) => {},
                            (n, Some(last)) => { " (x" (n) ", the last at line " (last) ")" },
                            (n, None) => { " (x" (n) ")" },
                        }
                    }
                    pre { code { (visible(&item.excerpt)) } }
                }
                @if omitted > 0 { p { "... and " (omitted) " more." } }
            }
        }
    }
}

/// A rule's text: its commands between backticks in `<code>` (see
/// [`super::code_spans`]), all of it through the sanitiser.
fn rule_text(text: &str) -> Markup {
    html! {
        @for (piece, code) in super::code_spans(text) {
            @if code { code { (visible(piece)) } } @else { (visible(piece)) }
        }
    }
}

/// [`rule_text`] as a string, for the renderers' tests.
#[cfg(test)]
pub(super) fn rule_text_for_tests(text: &str) -> String {
    rule_text(text).into_string()
}

fn next_steps(steps: &[String]) -> Markup {
    html! {
        @if !steps.is_empty() {
            p { strong { "Next steps" } }
            ol { @for step in steps { li { (rule_text(step)) } } }
        }
    }
}

/// Lanes of the timeline chart, top to bottom.
const LANES: [EventKind; 5] = [
    EventKind::Boot,
    EventKind::Kernel,
    EventKind::State,
    EventKind::Capture,
    EventKind::Collection,
];

fn timeline(report: &Report) -> Markup {
    let c = &report.context;
    html! {
        @if c.timeline.is_empty() {
            p { "No event with a time: no kernel log, capture or collection time." }
        } @else {
            (chart(&c.timeline))
            details open {
                summary { (c.timeline.len()) " event(s)"
                    @if c.timeline_omitted > 0 { ", " (c.timeline_omitted) " more left out" } }
                table {
                    tr { th { (time_heading(&c.timeline)) } th { "Kind" } th { "Event" } th { "Source" } th { "Cited by" } }
                    @for event in &c.timeline {
                        tr {
                            td { (event_time(event)) }
                            td { (event.kind.as_str()) }
                            td class=(sev_text(event.severity)) {
                                (visible(&event.text))
                                @if let (EventKind::Capture, Some(d)) = (event.kind, event.duration) {
                                    " (for " (format!("{d:.1}")) " s)"
                                }
                                @match (event.count, event.last_line) {
                                    (1, _) => {},
                                    (n, Some(last)) => { " (x" (n) ", the last at line " (last) ")" },
                                    (n, None) => { " (x" (n) ")" },
                                }
                            }
                            td { code { (visible(&event.input)) @if let Some(l) = event.line { ":" (l) } } }
                            td { @for (i, r) in event.rules.iter().enumerate() { @if i > 0 { ", " } code { (r) } } }
                        }
                    }
                }
            }
        }
    }
}

fn sev_text(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "no",
        _ => "",
    }
}

/// The events as an SVG chart: one lane per kind, a dot per event (a bar
/// for a capture's duration), the window's ends labelled below. The axis
/// is wall-clock time; when no event has one (a dmesg without the boot
/// time), it is the uptime of the newest boot in the log.
fn chart(events: &[TimelineEvent]) -> Markup {
    const WIDTH: f64 = 900.0;
    const LEFT: f64 = 90.0;
    const RIGHT: f64 = 20.0;
    const LANE: f64 = 26.0;
    let mut points: Vec<(&TimelineEvent, i64)> = events
        .iter()
        .filter_map(|e| e.wall_us.map(|w| (e, w)))
        .collect();
    let wall = !points.is_empty();
    let boot = events.iter().map(|e| e.boot).max().unwrap_or(0);
    if !wall {
        points = events
            .iter()
            .filter(|e| e.boot == boot)
            .filter_map(|e| e.uptime.map(|u| (e, (u * 1e6) as i64)))
            .collect();
    }
    if points.is_empty() {
        return html! { p { "No event has a time, so there is no chart." } };
    }
    let start = points.iter().map(|(_, w)| *w).min().unwrap_or(0);
    let end = points
        .iter()
        .map(|(e, w)| w + e.duration.map_or(0, |d| (d * 1e6) as i64))
        .max()
        .unwrap_or(start);
    let label = |us: i64| {
        if wall {
            super::context::rfc3339(us).map(|t| format!("{} UTC", display_time(&t)))
        } else {
            Some(format!("boot {boot}, +{:.3} s", us as f64 / 1e6))
        }
    };
    let span = (end - start).max(1) as f64;
    let x = |w: i64| LEFT + (w - start) as f64 / span * (WIDTH - LEFT - RIGHT);
    let height = LANE * LANES.len() as f64 + 40.0;
    let lane_y = |kind: EventKind| {
        let index = LANES.iter().position(|k| *k == kind).unwrap_or(0);
        20.0 + LANE * index as f64
    };
    let colour = |s: Severity| match s {
        Severity::Critical => "#c62828",
        Severity::Warning => "#f9a825",
        Severity::Info => "#1565c0",
    };
    html! {
        svg xmlns="http://www.w3.org/2000/svg" role="img" width=(WIDTH) height=(height)
            viewBox=(format!("0 0 {WIDTH} {height}")) font-family="sans-serif" font-size="11" {
            title { "Timeline of " (points.len()) " event(s)" }
            @for kind in LANES {
                text x="8" y=(lane_y(kind) + 4.0) fill="#333" { (kind.as_str()) }
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(lane_y(kind)) y2=(lane_y(kind)) stroke="#ddd" {}
            }
            @for (event, at) in &points {
                @let y = lane_y(event.kind);
                @if let Some(d) = event.duration.filter(|d| *d > 0.0) {
                    rect x=(format!("{:.1}", x(*at))) y=(y - 5.0)
                        width=(format!("{:.1}", (d * 1e6 / span * (WIDTH - LEFT - RIGHT)).max(2.0)))
                        height="10" fill=(colour(event.severity)) fill-opacity="0.6" {
                        title { (event_time(event)) ": " (visible(&event.text)) }
                    }
                } @else {
                    circle cx=(format!("{:.1}", x(*at))) cy=(y) r="4" fill=(colour(event.severity)) fill-opacity="0.8" {
                        title { (event_time(event)) ": " (visible(&event.text)) }
                    }
                }
            }
            @if let (Some(s), Some(e)) = (label(start), label(end)) {
                text x=(LEFT) y=(height - 8.0) fill="#333" { (s) }
                text x=(WIDTH - RIGHT) y=(height - 8.0) fill="#333" text-anchor="end" { (e) }
            }
        }
    }
}

fn tables(report: &Report) -> Markup {
    let t = &report.context.tables;
    let yes = |b: bool| if b { "yes" } else { "no" };
    html! {
        @if !t.expected_addresses.is_empty() {
            h3 { "Addresses: expected vs bound" }
            table {
                tr { th { "Address" } th { "Interface" } th { "Configured in" } th { "Bound" } th { "Bound on" } th { "Ports" } }
                @for r in &t.expected_addresses {
                    tr {
                        td { (visible(&r.address)) } td { (visible(&r.interface)) }
                        td { code { (visible(&r.source)) } " (" (visible(&r.origin)) ")" }
                        td class=(if r.bound { "" } else { "no" }) { (yes(r.bound)) }
                        td { (visible(&r.bound_on)) } td { (visible(&r.ports)) }
                    }
                }
            }
        }
        @if !t.bound_addresses.is_empty() {
            h3 { "Addresses bound" }
            table {
                tr { th { "Interface" } th { "Address" } th { "Scope" } th { "Expected" } }
                @for r in &t.bound_addresses {
                    tr { td { (visible(&r.interface)) } td { (visible(&r.address)) } td { (visible(&r.scope)) } td { @if r.expected { "yes" } } }
                }
            }
        }
        @if t.route_count > 0 || !t.default_routes.is_empty() {
            h3 { "Routes" }
            p { (t.route_count) " route(s) in all tables." }
            @if !t.default_routes.is_empty() {
                table {
                    tr { th { "Family" } th { "Table" } th { "Gateway" } th { "Device" } th { "Metric" } th { "Problem" } }
                    @for r in &t.default_routes {
                        tr {
                            td { (visible(&r.family)) } td { (visible(&r.table)) }
                            td { @if r.gateway.is_empty() { "(on-link)" } @else { (visible(&r.gateway)) } }
                            td { (visible(&r.dev)) } td { (r.metric) } td.no { (visible(&r.problem)) }
                        }
                    }
                }
            }
        }
        @if !t.arrays.is_empty() {
            h3 { "RAID arrays" }
            table {
                tr { th { "Array" } th { "Level" } th { "State" } th { "Disks" } th { "Status" } th { "Failed" } th { "Degraded" } th { "Sync" } }
                @for r in &t.arrays {
                    tr {
                        td { (visible(&r.name)) } td { (visible(&r.level)) } td { (visible(&r.state)) }
                        td { (visible(&r.disks)) } td { code { (visible(&r.status)) } } td { (visible(&r.faulty)) }
                        td class=(if r.degraded { "no" } else { "" }) { (yes(r.degraded)) } td { (visible(&r.sync)) }
                    }
                }
            }
        }
        @if !t.mounts.is_empty() {
            h3 { "Mounts" }
            table {
                tr { th { "Device" } th { "Mount point" } th { "Type" } th { "Mode" } th { "Used" } th { "Note" } }
                @for r in &t.mounts {
                    tr {
                        td { (visible(&r.device)) } td { (visible(&r.mountpoint)) } td { (visible(&r.fstype)) }
                        td { (if r.read_only { "ro" } else { "rw" }) }
                        td { @if let Some(p) = r.used_pct { (p) "%" } } td { (visible(&r.note)) }
                    }
                }
            }
        }
        @if !t.captures.is_empty() {
            h3 { "Packet captures" }
            table {
                tr { th { "Capture" } th { "Packets" } th { "Seconds" } th { "ARP requests" } th { "SYNs" } th { "DNS queries" } th { "unanswered" } }
                @for r in &t.captures {
                    tr {
                        td { code { (visible(&r.input)) } } td { (r.packets) } td { (format!("{:.1}", r.duration)) }
                        td { (r.arp_requests) } td { (r.syn) } td { (r.dns_queries) } td { (r.dns_unanswered) }
                    }
                }
            }
        }
        @if let Some(d) = &t.drops {
            h3 { "Packets the kernel dropped" }
            p {
                @if d.events == 0 { "No packet dropped" } @else { (d.events) " dropped" }
                " in " (format!("{:.1}", d.window_seconds)) " s"
                @if d.lost > 0 { ", at least " (d.lost) " more lost by the trace buffer" }
                @if !d.reasons_known { " (this kernel names no reasons: counted by location)" }
                "."
            }
            @if !d.reasons.is_empty() {
                table {
                    tr { th { "Reason" } th { "Drops" } th { "Per second" } th { "Share" } th { "Protocols" } th { "Mostly at" } }
                    @for r in &d.reasons {
                        tr {
                            td { code { (visible(&r.reason)) } } td { (r.count) } td { (format!("{:.1}", r.rate)) }
                            td { (format!("{:.0}%", r.share * 100.0)) } td { (visible(&r.protocols)) } td { code { (visible(&r.location)) } }
                        }
                    }
                }
            }
        }
        @if t.expected_addresses.is_empty() && t.bound_addresses.is_empty() && t.route_count == 0
            && t.arrays.is_empty() && t.mounts.is_empty() && t.captures.is_empty() {
            p { "No address, route, array, mount or capture was read." }
        }
    }
}
