//! The diagnosis as JSON lines, for a log pipeline (journald, Loki,
//! Elasticsearch): one JSON object a line, one line per cause and per
//! finding, then one `summary` line, each with the host and the time, so
//! that every line stands alone once it is in an index. What `diag check
//! --format jsonl` prints and `--syslog` sends (`docs/fleet.md`).
//!
//! ```text
//! {"time":"2026-12-06T07:30:00Z","host":"web1","kind":"cause","id":"addr.configured-not-bound","severity":"critical","confidence":0.45,"count":4,...}
//! {"time":"2026-12-06T07:30:00Z","host":"web1","kind":"summary","verdict":"critical","causes":1,"findings":0,...}
//! ```
//!
//! Every line is `serde_json` output passed through
//! [`crate::sanitize::json`]: no raw control character, no line break
//! inside a line. Evidence is cut to [`EVIDENCE`] items of at most
//! [`EXCERPT`] characters each (the diagnosis has them all).

use crate::diagnose::diagnosis::Diagnosis;
use crate::model::Severity;
use serde_json::Value;

/// Evidence items a line carries at most.
pub const EVIDENCE: usize = 3;

/// Characters of an evidence excerpt a line carries at most (an ellipsis
/// marks the cut).
pub const EXCERPT: usize = 512;

/// One line of the JSON-lines form, with its severity (a syslog line's
/// priority).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The severity of the cause or finding; the verdict for the summary
    /// (`None`: nothing above info).
    pub severity: Option<Severity>,
    /// The JSON object, on one line, without a line feed.
    pub text: String,
}

/// The diagnosis' lines: causes, findings, then the summary.
///
/// A cause or finding line is its `diag/1` object (serde's form, through
/// [`super::json::value`]: no second serialiser of the types) without its
/// next steps, the evidence cut, and `time`, `host`, `source` and `kind`
/// added.
pub fn lines(diagnosis: &Diagnosis) -> Vec<Line> {
    let source = &diagnosis.source;
    let host = source.host.as_deref().unwrap_or("");
    let mut out = Vec::with_capacity(diagnosis.causes.len() + diagnosis.findings.len() + 1);
    let mut push = |severity: Option<Severity>, kind: &str, value: Value| {
        let Value::Object(mut map) = value else {
            return;
        };
        map.remove("next_steps");
        if let Some(Value::Array(items)) = map.get_mut("evidence") {
            items.truncate(EVIDENCE);
            for item in items.iter_mut() {
                if let Some(Value::String(excerpt)) = item.get_mut("excerpt") {
                    cut(excerpt);
                }
            }
        }
        map.insert("time".into(), diagnosis.generated_at.clone().into());
        map.insert("host".into(), host.into());
        map.insert("source".into(), source.kind.to_string().into());
        map.insert("kind".into(), kind.into());
        let text = Value::Object(map).to_string();
        let text = crate::sanitize::json(&text).into_owned();
        out.push(Line { severity, text });
    };
    for c in &diagnosis.causes {
        push(Some(c.severity), "cause", super::json::value(c));
    }
    for f in &diagnosis.findings {
        push(Some(f.severity), "finding", super::json::value(f));
    }
    let worst = diagnosis.worst();
    let verdict = match worst {
        Some(Severity::Info) | None => "ok",
        Some(s) => s.as_str(),
    };
    let counts = [
        ("causes", diagnosis.causes.len()),
        ("findings", diagnosis.findings.len()),
        ("inputs_read", source.inputs_read),
        ("skipped", diagnosis.skipped.len()),
        ("notes", diagnosis.notes.len()),
    ];
    let mut summary = serde_json::Map::new();
    summary.insert("verdict".into(), verdict.into());
    summary.insert("version".into(), crate::VERSION.into());
    for (name, count) in counts {
        summary.insert(name.into(), count.into());
    }
    push(
        worst.filter(|s| *s > Severity::Info),
        "summary",
        Value::Object(summary),
    );
    out
}

/// Cuts `excerpt` to [`EXCERPT`] characters, an ellipsis marking the cut.
fn cut(excerpt: &mut String) {
    if let Some((at, _)) = excerpt.char_indices().nth(EXCERPT) {
        excerpt.truncate(at);
        excerpt.push('…');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diagnosis() -> Diagnosis {
        serde_json::from_value(json!({
            "schema": "diag/1",
            "generated_at": "2026-12-06T07:00:00Z",
            "source": {"kind": "live", "path": "/", "host": "web1", "inputs_read": 9},
            "causes": [{
                "id": "addr.configured-not-bound", "title": "t", "severity": "critical",
                "confidence": 0.45, "summary": "4 of 14", "explains": [], "count": 4,
                "evidence": [
                    {"input": "etc/ips", "line": 1, "excerpt": "a\u{1b}[2J\nb"},
                    {"input": "etc/ips", "line": 2, "excerpt": "x".repeat(2000)},
                    {"input": "etc/ips", "line": 3, "excerpt": "c"},
                    {"input": "etc/ips", "line": 4, "excerpt": "d"}
                ],
                "next_steps": []
            }],
            "findings": [{
                "id": "kmsg.messages-suppressed", "title": "t", "severity": "warning",
                "summary": "s\u{202e}", "count": 2, "evidence": []
            }],
            "ruled_out": [], "skipped": [], "notes": []
        }))
        .expect("diagnosis")
    }

    #[test]
    fn one_line_per_cause_and_finding_then_the_summary() {
        let lines = lines(&diagnosis());
        assert_eq!(lines.len(), 3);
        let parsed: Vec<Value> = lines
            .iter()
            .map(|l| {
                assert!(!l.text.contains('\n'));
                serde_json::from_str(&l.text).expect("json")
            })
            .collect();
        for p in &parsed {
            assert_eq!(p["host"], "web1");
            assert_eq!(p["time"], "2026-12-06T07:00:00Z");
        }
        assert_eq!(parsed[0]["kind"], "cause");
        assert_eq!(parsed[0]["count"], 4);
        assert_eq!(
            parsed[0]["evidence"].as_array().map(Vec::len),
            Some(EVIDENCE)
        );
        assert_eq!(parsed[0]["evidence"][0]["excerpt"], "a\u{1b}[2J\nb");
        let cut = parsed[0]["evidence"][1]["excerpt"].as_str().expect("str");
        assert_eq!(cut.chars().count(), EXCERPT + 1);
        assert_eq!(parsed[1]["kind"], "finding");
        assert_eq!(lines[1].severity, Some(Severity::Warning));
        assert_eq!(parsed[2]["kind"], "summary");
        assert_eq!(parsed[2]["verdict"], "critical");
        assert_eq!(lines[2].severity, Some(Severity::Critical));
        // The bidi override is escaped, not written raw.
        assert!(lines[1].text.contains("\\u202e"), "{}", lines[1].text);
    }

    #[test]
    fn a_healthy_host_has_one_summary_line() {
        let mut d = diagnosis();
        d.causes.clear();
        d.findings.clear();
        let lines = lines(&d);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].severity, None);
        assert!(lines[0].text.contains("\"verdict\":\"ok\""));
    }
}
