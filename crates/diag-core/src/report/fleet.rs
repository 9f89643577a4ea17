//! The fleet view (`diag fleet`) as text, JSON, Markdown and HTML. It only
//! lays out what [`crate::diagnose::fleet::summarise`] computed; every
//! string from a host or a file passes the sanitiser (and Markdown's or
//! HTML's escaping).

use crate::diagnose::fleet::{Fleet, Outlier};
use crate::sanitize::{json as safe_json, visible_line as v};
use std::fmt::Write;

/// The verdict over every host: `UNKNOWN` when nothing was read (`diag
/// fleet` exits 3), else the worst level seen.
fn verdict(fleet: &Fleet) -> &'static str {
    match fleet.worst.map(|s| s.as_str()) {
        _ if fleet.hosts.is_empty() => "UNKNOWN",
        Some("critical") => "CRITICAL",
        Some("warning") => "WARNING",
        _ => "OK",
    }
}

/// The one-line summary every format opens with (after the verdict).
fn headline(fleet: &Fleet) -> String {
    format!(
        "{} host(s), {} with a warning or worse, {} cause/finding id(s), {} outlier(s)",
        fleet.hosts.len(),
        fleet.hosts.len() - fleet.healthy,
        fleet.spread.len(),
        fleet.outliers.len()
    )
}

/// How an outlier's default gateway differs, in words.
fn gateway_words(o: &Outlier) -> Option<String> {
    o.gateway.as_ref().map(|g| {
        format!(
            "default gateway {}, where {} of {} peer(s) use {}",
            v(&g.here),
            g.peers_agreeing,
            g.peers_known,
            v(&g.peers)
        )
    })
}

/// Older diagnoses of a host that were not counted, when there are.
fn superseded_words(fleet: &Fleet) -> Option<String> {
    (fleet.superseded > 0).then(|| {
        format!(
            "{} older diagnosis(es) of a host read twice: not counted",
            fleet.superseded
        )
    })
}

/// Up to [`HOSTS_SHOWN`] host names, then how many more.
fn some_hosts(hosts: &[String]) -> (Vec<String>, usize) {
    (
        hosts.iter().take(HOSTS_SHOWN).map(|h| v(h)).collect(),
        hosts.len().saturating_sub(HOSTS_SHOWN),
    )
}

/// Hosts named per line of the text form before the rest are counted.
pub const HOSTS_SHOWN: usize = 8;

/// The fleet view as plain text.
pub fn text(fleet: &Fleet) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", verdict(fleet), headline(fleet));
    if !fleet.spread.is_empty() {
        let _ = writeln!(out, "\nBy hosts affected:");
    }
    for s in &fleet.spread {
        let _ = writeln!(
            out,
            "  {:>4}  {:<8} {:<7} {}: {}",
            s.hosts.len(),
            s.severity.as_str(),
            s.kind,
            v(&s.id),
            v(&s.title)
        );
        let (names, more) = some_hosts(&s.hosts);
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let _ = writeln!(out, "        {}{tail}", names.join(", "));
    }
    if !fleet.outliers.is_empty() {
        let _ = writeln!(out, "\nHosts that differ from their subnet's peers:");
    }
    for o in &fleet.outliers {
        let _ = writeln!(
            out,
            "  {} ({}, {} peer(s))",
            v(&o.host),
            v(&o.group),
            o.peers
        );
        if !o.only_here.is_empty() {
            let ids: Vec<String> = o.only_here.iter().map(|i| v(i)).collect();
            let _ = writeln!(out, "    only here: {}", ids.join(", "));
        }
        if !o.missing_here.is_empty() {
            let ids: Vec<String> = o.missing_here.iter().map(|i| v(i)).collect();
            let _ = writeln!(out, "    every peer has, not here: {}", ids.join(", "));
        }
        if let Some(words) = gateway_words(o) {
            let _ = writeln!(out, "    {words}");
        }
    }
    if let Some(words) = superseded_words(fleet) {
        let _ = writeln!(out, "\n{words}");
    }
    if !fleet.skipped.is_empty() {
        let _ = writeln!(out, "\nSkipped {} input(s):", fleet.skipped.len());
    }
    for s in &fleet.skipped {
        let _ = writeln!(out, "  {}: {}", v(&s.path), v(&s.reason));
    }
    out
}

/// The fleet view as pretty-printed JSON with a final newline, every DEL,
/// C1 or bidi control escaped ([`crate::sanitize::json`]).
pub fn json(fleet: &Fleet) -> String {
    let mut out = serde_json::to_string_pretty(fleet).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    safe_json(&out).into_owned()
}

/// The fleet view as a GitHub-flavoured Markdown document.
pub fn markdown(fleet: &Fleet) -> String {
    use super::markdown::{code_span, inline};
    let mut out = String::new();
    let _ = writeln!(out, "# diag fleet: {} host(s)\n", fleet.hosts.len());
    let _ = writeln!(out, "**{}**: {}.\n", verdict(fleet), headline(fleet));
    if !fleet.spread.is_empty() {
        out.push_str("## By hosts affected\n\n");
        out.push_str("| hosts | severity | kind | id | title | affected |\n");
        out.push_str("| ---: | --- | --- | --- | --- | --- |\n");
    }
    for s in &fleet.spread {
        let (names, more) = some_hosts(&s.hosts);
        let mut who = names
            .iter()
            .map(|n| inline(n))
            .collect::<Vec<_>>()
            .join(", ");
        if more > 0 {
            let _ = write!(who, " and {more} more");
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {who} |",
            s.hosts.len(),
            s.severity.as_str(),
            s.kind,
            code_span(&s.id, true),
            inline(&s.title)
        );
    }
    if !fleet.outliers.is_empty() {
        out.push_str("\n## Hosts that differ from their subnet's peers\n\n");
        out.push_str(
            "| host | group | peers | only here | every peer has, not here | default gateway |\n",
        );
        out.push_str("| --- | --- | ---: | --- | --- | --- |\n");
    }
    for o in &fleet.outliers {
        let ids = |ids: &[String]| {
            ids.iter()
                .map(|i| code_span(i, true))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            inline(&o.host),
            inline(&o.group),
            o.peers,
            ids(&o.only_here),
            ids(&o.missing_here),
            gateway_words(o).map(|w| inline(&w)).unwrap_or_default()
        );
    }
    if let Some(words) = superseded_words(fleet) {
        let _ = writeln!(out, "\n{words}.");
    }
    if !fleet.skipped.is_empty() {
        let _ = writeln!(out, "\n## Skipped {} input(s)\n", fleet.skipped.len());
    }
    for s in &fleet.skipped {
        let _ = writeln!(
            out,
            "- {}: {}",
            code_span(&s.path, false),
            inline(&s.reason)
        );
    }
    out
}

/// The fleet view as one self-contained HTML page (the report's style
/// sheet and content security policy: no script, no remote load).
pub fn html(fleet: &Fleet) -> String {
    use super::html::{head, sev_class};
    use maud::{html, DOCTYPE};
    let verdict = verdict(fleet);
    let verdict_class = match fleet.worst {
        Some(s) if !fleet.hosts.is_empty() && verdict != "OK" => sev_class(s),
        _ => "ok",
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("diag fleet: {} host(s)", fleet.hosts.len())))
            body {
                h1 { "diag fleet: " (fleet.hosts.len()) " host(s)" }
                p #verdict {
                    span class={ "verdict " (verdict_class) } { (verdict) } " " (headline(fleet)) "."
                }
                @if !fleet.spread.is_empty() {
                    h2 #spread { "By hosts affected" }
                    table {
                        tr { th { "hosts" } th { "severity" } th { "kind" } th { "id" } th { "title" } th { "affected" } }
                        @for s in &fleet.spread {
                            @let (names, more) = some_hosts(&s.hosts);
                            tr {
                                td { (s.hosts.len()) }
                                td { span class={ "verdict " (sev_class(s.severity)) } { (s.severity.as_str()) } }
                                td { (s.kind) }
                                td { code { (v(&s.id)) } }
                                td { (v(&s.title)) }
                                td { (names.join(", ")) @if more > 0 { " and " (more) " more" } }
                            }
                        }
                    }
                }
                @if !fleet.outliers.is_empty() {
                    h2 #outliers { "Hosts that differ from their subnet's peers" }
                    table {
                        tr { th { "host" } th { "group" } th { "peers" } th { "only here" } th { "every peer has, not here" } th { "default gateway" } }
                        @for o in &fleet.outliers {
                            tr {
                                td { (v(&o.host)) }
                                td { (v(&o.group)) }
                                td { (o.peers) }
                                td { @for (i, id) in o.only_here.iter().enumerate() { @if i > 0 { ", " } code { (v(id)) } } }
                                td { @for (i, id) in o.missing_here.iter().enumerate() { @if i > 0 { ", " } code { (v(id)) } } }
                                td { (gateway_words(o).unwrap_or_default()) }
                            }
                        }
                    }
                }
                @if let Some(words) = superseded_words(fleet) {
                    p { (words) "." }
                }
                @if !fleet.skipped.is_empty() {
                    h2 #skipped { "Skipped " (fleet.skipped.len()) " input(s)" }
                    ul {
                        @for s in &fleet.skipped {
                            li { code { (v(&s.path)) } ": " (v(&s.reason)) }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::fleet::{summarise, FleetSkip};

    #[test]
    fn skipped_inputs_are_shown_on_one_line_each() {
        let fleet = summarise(
            vec![],
            vec![FleetSkip {
                path: "evil\n\u{1b}[2J.json".into(),
                reason: "not JSON".into(),
            }],
        );
        let t = text(&fleet);
        // Nothing read is no verdict: not "OK" (diag fleet exits 3).
        assert!(t.starts_with("UNKNOWN: 0 host(s)"), "{t}");
        assert!(!t.contains('\u{1b}'));
        assert!(t.contains("evil␊"), "{t}");
        let j: serde_json::Value = serde_json::from_str(&json(&fleet)).expect("json");
        assert_eq!(j["skipped"][0]["reason"], "not JSON");
    }

    /// A host whose name is markup and whose gateway differs: every format
    /// names the gateways, and neither Markdown nor HTML lets the name act.
    #[test]
    fn markdown_and_html_escape_what_hosts_say_and_name_the_gateway() {
        use crate::diagnose::fleet::{GatewayDifference, Outlier, Spread};
        use crate::model::Severity;
        let evil = "<script>alert(1)</script>|*x*\n# h";
        let fleet = Fleet {
            hosts: vec![evil.into(), "web1".into(), "web2".into()],
            healthy: 2,
            spread: vec![Spread {
                id: "route.gateway-misconfigured".into(),
                kind: "cause",
                severity: Severity::Critical,
                title: "Default gateway <b>wrong</b>".into(),
                hosts: vec![evil.into()],
            }],
            outliers: vec![Outlier {
                host: evil.into(),
                group: "192.0.2.0/24".into(),
                peers: 2,
                only_here: vec!["route.gateway-misconfigured".into()],
                missing_here: vec![],
                gateway: Some(GatewayDifference {
                    here: "192.0.2.254".into(),
                    peers: "192.0.2.1".into(),
                    peers_agreeing: 2,
                    peers_known: 2,
                }),
            }],
            superseded: 0,
            skipped: vec![FleetSkip {
                path: "x`y.json".into(),
                reason: "not JSON".into(),
            }],
            worst: Some(Severity::Critical),
        };
        let words = "default gateway 192.0.2.254, where 2 of 2 peer(s) use 192.0.2.1";
        assert!(text(&fleet).contains(words), "{}", text(&fleet));
        let md = markdown(&fleet);
        assert!(md.contains("**CRITICAL**: 3 host(s)"), "{md}");
        assert!(md.contains(words), "{md}");
        assert!(!md.contains("<script>"), "{md}");
        // Every table row keeps its six cells: no pipe of a host breaks one.
        for row in md.lines().filter(|l| l.starts_with("| ")) {
            let cells = row.replace("\\|", "").matches('|').count();
            assert_eq!(cells, 7, "{row}");
        }
        assert!(!md.lines().any(|l| l.starts_with("# h")), "{md}");
        let page = html(&fleet);
        assert!(page.contains(words), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("Content-Security-Policy"));
        assert!(page.contains("sev-critical"));
    }
}
