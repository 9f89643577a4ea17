//! The diagnosis as Prometheus metrics, in the text exposition format
//! (version 0.0.4: `# HELP`, `# TYPE`, one sample a line): what `diag
//! check --format prometheus -o FILE` writes into node_exporter's textfile
//! collector directory, and what `analyze` and `probe` print with the same
//! flag. `docs/fleet.md` lists the series and the alerts built on them.
//!
//! ```text
//! # HELP diag_finding A finding of the diagnosis: 1 while it holds.
//! # TYPE diag_finding gauge
//! diag_finding{id="neigh.table-overflow",severity="critical",subject="dev/kmsg"} 1
//! # HELP diag_cause_confidence A likely cause of the diagnosis, with its confidence (0 to 1).
//! # TYPE diag_cause_confidence gauge
//! diag_cause_confidence{id="addr.configured-not-bound",severity="warning"} 0.9
//! ...
//! diag_last_run_timestamp_seconds 1765000000.123
//! ```
//!
//! Cardinality is bounded: labels hold rule ids, severities, the canonical
//! name of the input a finding cites first (`subject`), the source kind and
//! host name, never evidence text; at most [`MAX_SERIES`] causes and as
//! many findings get a series (the diagnosis' order: most likely, most
//! severe first), the rest are counted in `diag_series_omitted`. Every
//! label value passes the one sanitiser ([`crate::sanitize`]), is cut to
//! [`MAX_LABEL`] characters and escaped as the format asks (backslash,
//! double quote, line feed).
//!
//! Like every renderer it computes nothing: the numbers are the
//! diagnosis' (a rule's `count`, the inputs read and skipped) and the
//! caller's ([`Run`]: how long the run took, when it ended, the probes'
//! tallies).

use crate::diagnose::diagnosis::Diagnosis;
use crate::sanitize::visible_line;
use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// At most this many causes, and this many findings, get series (163
/// rules are built in; a diagnosis with more than 64 of either is a host
/// on fire, and the omitted ones are counted).
pub const MAX_SERIES: usize = 64;

/// Label values are cut to this many characters (an ellipsis marks the
/// cut).
pub const MAX_LABEL: usize = 128;

/// What the exposition says about the run beside its diagnosis.
#[derive(Debug, Clone)]
pub struct Run {
    /// From the command's start to the diagnosis.
    pub duration: Duration,
    /// When the run ended (`diag_last_run_timestamp_seconds`).
    pub finished: SystemTime,
    /// `diag probe`'s tallies, one per kind of probe; empty otherwise.
    pub probes: Vec<ProbeTally>,
    /// Labels every sample carries, first: the command (`command="check"`)
    /// and the operator's (`--metrics-label target=web1`), so that files
    /// of several runs in one textfile directory never collide. The names
    /// must be valid label names, none of those the series use.
    pub labels: Vec<(String, String)>,
}

/// How many probes of one kind ran and how many got an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTally {
    /// `tcp`, `dns` or `path`.
    pub kind: &'static str,
    /// Probes run.
    pub total: usize,
    /// Probes answered (a TCP reset counts for a gateway, not for a
    /// service address).
    pub answered: usize,
}

/// The diagnosis and `run` in the Prometheus text exposition format, with
/// a final newline. No sample carries a timestamp (node_exporter's textfile
/// collector refuses them); the time of the run is a series of its own.
pub fn prometheus(diagnosis: &Diagnosis, run: &Run) -> String {
    let mut out = Exposition::default();
    let base: Vec<(&str, &str)> = run
        .labels
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let labels = |pairs: &[(&str, &str)]| labels(&[&base[..], pairs].concat());
    out.family(
        "diag_info",
        "diag's version and what it diagnosed: 1.",
        &[(
            labels(&[
                ("version", crate::VERSION),
                ("source", &diagnosis.source.kind.to_string()),
                ("host", diagnosis.source.host.as_deref().unwrap_or("")),
            ]),
            1.0,
        )],
    );
    let findings = &diagnosis.findings[..diagnosis.findings.len().min(MAX_SERIES)];
    let causes = &diagnosis.causes[..diagnosis.causes.len().min(MAX_SERIES)];
    out.family(
        "diag_finding",
        "A finding of the diagnosis: 1 while it holds.",
        &findings
            .iter()
            .map(|f| {
                let subject = f.evidence.first().map_or("", |e| e.input.as_str());
                let l = [
                    ("id", f.id.as_str()),
                    ("severity", f.severity.as_str()),
                    ("subject", subject),
                ];
                (labels(&l), 1.0)
            })
            .collect::<Vec<_>>(),
    );
    out.family(
        "diag_finding_matches",
        "How many lines or records the finding's rule matched (errors logged, neighbours failed, ...).",
        &findings
            .iter()
            .map(|f| (labels(&[("id", &f.id)]), f.count as f64))
            .collect::<Vec<_>>(),
    );
    out.family(
        "diag_cause_confidence",
        "A likely cause of the diagnosis, with its confidence (0 to 1).",
        &causes
            .iter()
            .map(|c| {
                let l = [("id", c.id.as_str()), ("severity", c.severity.as_str())];
                (labels(&l), c.confidence)
            })
            .collect::<Vec<_>>(),
    );
    out.family(
        "diag_cause_matches",
        "How many records the cause's rule matched (the configured addresses not bound, ...); 1 for a cause resting on the findings it explains.",
        &causes
            .iter()
            .map(|c| (labels(&[("id", &c.id)]), c.count as f64))
            .collect::<Vec<_>>(),
    );
    let omitted = diagnosis.findings.len() - findings.len() + diagnosis.causes.len() - causes.len();
    let plain = |value: f64| [(labels(&[]), value)];
    let worst = f64::from(diagnosis.exit_code());
    let families: [(&str, &str, f64); 8] = [
        (
            "diag_causes",
            "Causes in the diagnosis (all of them, series or not).",
            diagnosis.causes.len() as f64,
        ),
        (
            "diag_findings",
            "Findings in the diagnosis (all of them, series or not).",
            diagnosis.findings.len() as f64,
        ),
        (
            "diag_series_omitted",
            "Causes and findings left without a series by the cap of 64 each.",
            omitted as f64,
        ),
        (
            "diag_worst_severity",
            "The worst severity: 0 nothing above info, 1 warning, 2 critical (diag check's exit code).",
            worst,
        ),
        (
            "diag_inputs_read",
            "Inputs read (files, tables, logs).",
            diagnosis.source.inputs_read as f64,
        ),
        (
            "diag_inputs_skipped",
            "Inputs and collectors that could not be read (or are absent).",
            diagnosis.skipped.len() as f64,
        ),
        (
            "diag_notes",
            "Lines diag could not use and rules that could not run.",
            diagnosis.notes.len() as f64,
        ),
        (
            "diag_run_duration_seconds",
            "How long the run took, from start to diagnosis.",
            run.duration.as_secs_f64(),
        ),
    ];
    for (name, help, value) in families {
        out.family(name, help, &plain(value));
    }
    let at = run
        .finished
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    out.family(
        "diag_last_run_timestamp_seconds",
        "When the run ended (Unix time): alert when it is old.",
        &plain((at * 1000.0).round() / 1000.0),
    );
    if !run.probes.is_empty() {
        let tally = |pick: fn(&ProbeTally) -> usize| -> Vec<(String, f64)> {
            run.probes
                .iter()
                .map(|p| (labels(&[("kind", p.kind)]), pick(p) as f64))
                .collect::<Vec<_>>()
        };
        out.family(
            "diag_probes",
            "Probes run, by kind (tcp, dns, path).",
            &tally(|p| p.total),
        );
        out.family(
            "diag_probes_answered",
            "Probes that got an answer, by kind.",
            &tally(|p| p.answered),
        );
    }
    out.text
}

/// The exposition being written.
#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    /// One gauge family: its HELP and TYPE lines, then a sample per
    /// `(labels, value)` (`labels` already rendered, `{...}` or empty).
    fn family(&mut self, name: &str, help: &str, samples: &[(String, f64)]) {
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(self.text, "{name}{labels} {}", number(*value));
        }
    }
}

/// A sample value as the format writes it (`NaN`, `+Inf`, `-Inf` for the
/// non-finite ones).
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

/// `{name="value",...}`: every value sanitised, cut and escaped; nothing
/// without a label.
fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut out = String::from("{");
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{name}=\"{}\"", label_value(value));
    }
    out.push('}');
    out
}

/// A label value: through [`visible_line`] (no control character, no line
/// break), at most [`MAX_LABEL`] characters, then escaped as the text
/// format asks: `\` as `\\`, `"` as `\"`, a line feed as `\n`.
pub fn label_value(value: &str) -> String {
    let visible = visible_line(value);
    let mut out = String::with_capacity(visible.len());
    for (i, c) in visible.chars().enumerate() {
        if i == MAX_LABEL {
            out.push('…');
            break;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::diagnosis::{Cause, Finding};
    use crate::model::{Evidence, Severity};

    fn diagnosis(json: serde_json::Value) -> Diagnosis {
        serde_json::from_value(json).expect("diagnosis")
    }

    fn empty() -> Diagnosis {
        diagnosis(serde_json::json!({
            "schema": "diag/1",
            "generated_at": "2026-12-06T07:00:00Z",
            "source": {"kind": "bundle", "path": "/b", "host": "web1", "inputs_read": 12},
            "causes": [], "findings": [], "ruled_out": [],
            "skipped": [{"collector": "dev/kmsg", "reason": "not present"}],
            "notes": []
        }))
    }

    fn run() -> Run {
        Run {
            duration: Duration::from_millis(125),
            finished: UNIX_EPOCH + Duration::from_millis(1_765_000_000_250),
            probes: Vec::new(),
            labels: Vec::new(),
        }
    }

    fn finding(id: &str, severity: Severity, input: &str, count: usize) -> Finding {
        Finding {
            id: id.into(),
            title: "t".into(),
            severity,
            summary: "s".into(),
            count,
            evidence: vec![Evidence {
                input: input.into(),
                line: Some(3),
                line_end: None,
                excerpt: "secret evidence text".into(),
            }],
            evidence_omitted: 0,
            next_steps: Vec::new(),
        }
    }

    #[test]
    fn a_healthy_run_has_every_family_and_no_finding() {
        let text = prometheus(&empty(), &run());
        assert!(text.contains("diag_info{version=\""), "{text}");
        assert!(text.contains(",source=\"bundle\",host=\"web1\"} 1\n"));
        assert!(text.contains("\ndiag_inputs_read 12\n"));
        assert!(text.contains("\ndiag_inputs_skipped 1\n"));
        assert!(text.contains("\ndiag_worst_severity 0\n"));
        assert!(text.contains("\ndiag_run_duration_seconds 0.125\n"));
        assert!(text.contains("\ndiag_last_run_timestamp_seconds 1765000000.25\n"));
        assert!(!text.contains("diag_finding{"));
        assert!(!text.contains("diag_probes"), "probes only from diag probe");
        // Every family has its HELP and TYPE before its samples, once.
        let mut seen = std::collections::BTreeSet::new();
        let mut current = String::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().expect("name").to_string();
                assert!(seen.insert(name.clone()), "{name} twice");
                current = name;
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().expect("name");
                assert_eq!(name, current, "{line}");
            }
        }
    }

    #[test]
    fn findings_and_causes_become_series_without_evidence_text() {
        let mut d = empty();
        d.findings = vec![
            finding("neigh.table-overflow", Severity::Critical, "dev/kmsg", 412),
            finding("neigh.failed", Severity::Warning, "net/neigh.json", 7),
        ];
        let mut cause: Cause = serde_json::from_value(serde_json::json!({
            "id": "addr.configured-not-bound", "title": "t", "severity": "warning",
            "confidence": 0.9, "summary": "s", "explains": [], "evidence": [],
            "next_steps": [], "count": 3
        }))
        .expect("cause");
        cause.severity = Severity::Critical;
        d.causes = vec![cause];
        let text = prometheus(&d, &run());
        assert!(text.contains(
            "diag_finding{id=\"neigh.table-overflow\",severity=\"critical\",subject=\"dev/kmsg\"} 1\n"
        ));
        assert!(text.contains("diag_finding_matches{id=\"neigh.failed\"} 7\n"));
        assert!(text.contains(
            "diag_cause_confidence{id=\"addr.configured-not-bound\",severity=\"critical\"} 0.9\n"
        ));
        assert!(text.contains("diag_cause_matches{id=\"addr.configured-not-bound\"} 3\n"));
        assert!(text.contains("\ndiag_worst_severity 2\n"));
        assert!(text.contains("\ndiag_findings 2\n"));
        assert!(!text.contains("secret evidence text"));
    }

    #[test]
    fn label_values_are_sanitised_escaped_and_cut() {
        assert_eq!(label_value(r#"a\b"c"#), r#"a\\b\"c"#);
        // A line break never reaches the file (the sanitiser shows it),
        // nor does an escape sequence.
        assert_eq!(label_value("a\nb\x1b[2J"), "a\u{240a}b\u{241b}[2J");
        let long = "x".repeat(500);
        assert_eq!(label_value(&long).chars().count(), MAX_LABEL + 1);
        let mut d = empty();
        d.source.host = Some("evil\"} 1\ndiag_worst_severity 0\n#".into());
        let text = prometheus(&d, &run());
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("diag_worst_severity"))
                .count(),
            1,
            "{text}"
        );
    }

    #[test]
    fn series_are_capped() {
        let mut d = empty();
        d.findings = (0..MAX_SERIES + 10)
            .map(|i| finding(&format!("r{i}"), Severity::Info, "x", 1))
            .collect();
        let text = prometheus(&d, &run());
        assert_eq!(text.matches("\ndiag_finding{").count(), MAX_SERIES);
        assert!(text.contains("\ndiag_series_omitted 10\n"));
        assert!(text.contains(&format!("\ndiag_findings {}\n", MAX_SERIES + 10)));
    }

    #[test]
    fn probe_tallies() {
        let mut r = run();
        r.probes = vec![ProbeTally {
            kind: "tcp",
            total: 4,
            answered: 3,
        }];
        let text = prometheus(&empty(), &r);
        assert!(text.contains("diag_probes{kind=\"tcp\"} 4\n"));
        assert!(text.contains("diag_probes_answered{kind=\"tcp\"} 3\n"));
    }

    #[test]
    fn every_sample_carries_the_run_labels() {
        let mut r = run();
        r.labels = vec![
            ("command".into(), "probe".into()),
            ("target".into(), "web\"1".into()),
        ];
        let text = prometheus(&empty(), &r);
        assert!(text.contains("\ndiag_inputs_read{command=\"probe\",target=\"web\\\"1\"} 12\n"));
        assert!(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .all(|l| l.contains("{command=\"probe\",target=")));
    }

    #[test]
    fn numbers() {
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(0.25), "0.25");
    }
}
