//! The fleet view (`diag fleet`) as text and JSON. It only lays out what
//! [`crate::diagnose::fleet::summarise`] computed; every string from a
//! host or a file passes the sanitiser.

use crate::diagnose::fleet::Fleet;
use crate::sanitize::{json as safe_json, visible_line as v};
use std::fmt::Write;

/// Hosts named per line of the text form before the rest are counted.
pub const HOSTS_SHOWN: usize = 8;

/// The fleet view as plain text.
pub fn text(fleet: &Fleet) -> String {
    let mut out = String::new();
    let affected = fleet.hosts.len() - fleet.healthy;
    let verdict = match fleet.worst.map(|s| s.as_str()) {
        // Nothing read is no verdict (`diag fleet` exits 3).
        _ if fleet.hosts.is_empty() => "UNKNOWN",
        Some("critical") => "CRITICAL",
        Some("warning") => "WARNING",
        _ => "OK",
    };
    let _ = writeln!(
        out,
        "{verdict}: {} host(s), {affected} with a warning or worse, {} cause/finding id(s), {} outlier(s)",
        fleet.hosts.len(),
        fleet.spread.len(),
        fleet.outliers.len()
    );
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
        let names: Vec<String> = s.hosts.iter().take(HOSTS_SHOWN).map(|h| v(h)).collect();
        let more = s.hosts.len().saturating_sub(HOSTS_SHOWN);
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
    }
    if fleet.superseded > 0 {
        let _ = writeln!(
            out,
            "\n{} older diagnosis(es) of a host read twice: not counted",
            fleet.superseded
        );
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
}
