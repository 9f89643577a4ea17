//! Present: renderers of a [`Diagnosis`]. They compute nothing; they only
//! lay out what the diagnosis says.

use crate::diagnosis::Diagnosis;
use crate::model::Evidence;
use std::fmt::Write;

/// How many notes the text report lists before summarising the rest.
const TEXT_NOTES: usize = 10;

/// The diagnosis as plain text for a terminal, a serial console or a mail:
/// ASCII only in its own layout, no colour, 80 columns where possible.
pub fn text(diagnosis: &Diagnosis) -> String {
    let mut out = String::new();
    let source = &diagnosis.source;
    let _ = writeln!(
        out,
        "diag {}: {} {} (host {}, kernel {}), {}",
        crate::VERSION,
        source.kind,
        source.path,
        source.host.as_deref().unwrap_or("unknown"),
        source.kernel.as_deref().unwrap_or("unknown"),
        diagnosis.generated_at
    );
    let verdict = match diagnosis.worst() {
        Some(severity) => format!("{}", severity).to_uppercase(),
        None => "OK".into(),
    };
    let _ = writeln!(
        out,
        "{verdict}: {} cause(s), {} finding(s), {} ruled out, {} skipped, {} note(s)",
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
                cause.title,
                cause.id,
                cause.confidence
            );
            let _ = writeln!(out, "   {}", cause.summary);
            if !cause.explains.is_empty() {
                let _ = writeln!(out, "   explains: {}", cause.explains.join(", "));
            }
            evidence(&mut out, &cause.evidence, cause.evidence_omitted);
            for step in &cause.next_steps {
                let _ = writeln!(out, "   next: {step}");
            }
        }
    }
    if !diagnosis.findings.is_empty() {
        let _ = writeln!(out, "\nFindings:");
        for finding in &diagnosis.findings {
            let _ = writeln!(
                out,
                "\n- [{}] {} ({})",
                finding.severity, finding.title, finding.id
            );
            let _ = writeln!(out, "   {}", finding.summary);
            evidence(&mut out, &finding.evidence, finding.evidence_omitted);
            for step in &finding.next_steps {
                let _ = writeln!(out, "   next: {step}");
            }
        }
    }
    if !diagnosis.ruled_out.is_empty() {
        let _ = writeln!(out, "\nRuled out:");
        for item in &diagnosis.ruled_out {
            let _ = writeln!(out, "- {} ({}): {}", item.title, item.id, item.reason);
        }
    }
    if !diagnosis.skipped.is_empty() {
        let _ = writeln!(out, "\nSkipped:");
        for item in &diagnosis.skipped {
            let _ = writeln!(out, "- {}: {}", item.collector, item.reason);
        }
    }
    if !diagnosis.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for note in diagnosis.notes.iter().take(TEXT_NOTES) {
            match note.line {
                Some(line) => {
                    let _ = writeln!(out, "- {}:{}: {}", note.input, line, note.message);
                }
                None => {
                    let _ = writeln!(out, "- {}: {}", note.input, note.message);
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

fn evidence(out: &mut String, items: &[Evidence], omitted: usize) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "   evidence:");
    for item in items {
        if let (Some(line), Some(end)) = (item.line, item.line_end) {
            let _ = writeln!(out, "     {}:{}-{}:", item.input, line, end);
            for text in item.excerpt.lines() {
                let text: String = text.chars().take(200).collect();
                let _ = writeln!(out, "       | {text}");
            }
            continue;
        }
        let excerpt: String = item.excerpt.chars().take(200).collect();
        match item.line {
            Some(line) => {
                let _ = writeln!(out, "     {}:{}: {}", item.input, line, excerpt);
            }
            None => {
                let _ = writeln!(out, "     {}: {}", item.input, excerpt);
            }
        }
    }
    if omitted > 0 {
        let _ = writeln!(out, "     ... and {omitted} more");
    }
}
