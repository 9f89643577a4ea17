//! The diagnosis: what every presenter renders. Serialised, it is the
//! `diag/1` JSON of DESIGN.md (extended, never broken: fields are only
//! added).

use crate::facts::targets::ProbeTargets;
use crate::model::{Evidence, Note, Severity, Skipped};
use crate::source::SourceKind;
use serde::{Deserialize, Serialize};

/// The schema name of the JSON form.
pub const SCHEMA: &str = "diag/1";

/// Where the diagnosed state came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct SourceDescription {
    /// Live host or bundle.
    pub kind: SourceKind,
    /// Root directory or bundle path.
    pub path: String,
    /// Host name, when known.
    #[serde(default)]
    pub host: Option<String>,
    /// Kernel release, when known.
    #[serde(default)]
    pub kernel: Option<String>,
    /// RFC 3339 time the state was collected: the bundle manifest's, the
    /// live snapshot's, or a sosreport's own date; absent for a directory
    /// of copied files and a sosreport without its date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    /// How many inputs were read.
    #[serde(default)]
    pub inputs_read: usize,
    /// The kinds of input every Linux host has that this source lacks
    /// (`kernel log`, `routes`, `neighbours`, `interfaces`, `mounts`,
    /// `host name`): a thin bundle shows as thin. Each is also listed under
    /// `skipped` as "not present".
    #[serde(default)]
    pub inputs_absent: Vec<String>,
}

/// A hypothesis that explains findings, with its confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Cause {
    /// Stable rule id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// How bad it is.
    pub severity: Severity,
    /// 0.0 to 1.0; see `docs/rules.md` for the model.
    pub confidence: f64,
    /// The rule's message with its fields filled in.
    pub summary: String,
    /// How many records the rule's own evidence matched (the configured
    /// addresses not bound); 1 for a cause that rests on the findings it
    /// explains; 0 when read from JSON written before the field existed.
    #[serde(default)]
    pub count: usize,
    /// The findings of this diagnosis that the cause explains.
    pub explains: Vec<String>,
    /// The raw lines and records that support it.
    pub evidence: Vec<Evidence>,
    /// Evidence items left out to keep the list short.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub evidence_omitted: usize,
    /// What to do next.
    pub next_steps: Vec<String>,
}

/// A symptom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Finding {
    /// Stable rule id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// How bad it is.
    pub severity: Severity,
    /// The rule's message with its fields filled in.
    pub summary: String,
    /// How many matching lines or records there were.
    pub count: usize,
    /// The raw lines and records that support it.
    pub evidence: Vec<Evidence>,
    /// Evidence items left out to keep the list short.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub evidence_omitted: usize,
    /// What to do next.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_steps: Vec<String>,
}

impl Finding {
    /// A finding with no evidence and a count of 0 (a struct literal is
    /// not possible outside diag-core: the type is `#[non_exhaustive]`).
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        severity: Severity,
        summary: impl Into<String>,
    ) -> Self {
        Finding {
            id: id.into(),
            title: title.into(),
            severity,
            summary: summary.into(),
            count: 0,
            evidence: Vec::new(),
            evidence_omitted: 0,
            next_steps: Vec::new(),
        }
    }
}

/// A hypothesis whose precondition was checked and failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct RuledOut {
    /// Stable rule id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Why it does not hold.
    pub reason: String,
}

/// The result of diagnosing one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Diagnosis {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// RFC 3339 time the diagnosis was made.
    pub generated_at: String,
    /// Where the state came from.
    pub source: SourceDescription,
    /// Causes, most likely first.
    pub causes: Vec<Cause>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Hypotheses checked and rejected.
    pub ruled_out: Vec<RuledOut>,
    /// Inputs and collectors that could not be read.
    pub skipped: Vec<Skipped>,
    /// Lines that could not be used, and rules that could not run.
    pub notes: Vec<Note>,
    /// What another host probes to check this one (`diag probe
    /// --targets-from` this JSON); absent when the state holds no
    /// addresses and no listening sockets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<ProbeTargets>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Diagnosis {
    /// The most severe level among causes and findings, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.causes
            .iter()
            .map(|c| c.severity)
            .chain(self.findings.iter().map(|f| f.severity))
            .max()
    }

    /// The monitoring-plugin exit code: 0 nothing above info, 1 warning,
    /// 2 critical. (3, diag could not run, is the binary's to return.)
    pub fn exit_code(&self) -> i32 {
        match self.worst() {
            Some(Severity::Critical) => 2,
            Some(Severity::Warning) => 1,
            _ => 0,
        }
    }

    /// Whether a cause or finding with this id is present.
    pub fn has(&self, id: &str) -> bool {
        self.causes.iter().any(|c| c.id == id) || self.findings.iter().any(|f| f.id == id)
    }

    /// The warning and critical findings no cause explains, most severe
    /// first (issue 24, class 11): each is a hypothesis of its own, ranked
    /// below the causes, so a critical host never reads "0 causes" with
    /// nothing to start from. Info findings are context, not hypotheses.
    pub fn unexplained(&self) -> Vec<&Finding> {
        // `findings` is most severe first already.
        self.findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .filter(|f| !self.causes.iter().any(|c| c.explains.contains(&f.id)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::targets::ListeningPort;

    #[test]
    fn listening_ports_that_cover_an_address() {
        let listen = |address: &str, port| ListeningPort {
            address: address.parse().expect("ip"),
            port,
        };
        let targets = ProbeTargets {
            listening: vec![
                listen("0.0.0.0", 80),
                listen("::", 443),
                listen("192.0.2.10", 8080),
                listen("127.0.0.1", 25),
            ],
            ..ProbeTargets::default()
        };
        let ports = |ip: &str| targets.ports_of(ip.parse().expect("ip"));
        assert_eq!(ports("192.0.2.10"), [80, 443, 8080]);
        assert_eq!(ports("192.0.2.11"), [80, 443]);
        assert_eq!(ports("2001:db8::1"), [443], "0.0.0.0 does not cover IPv6");
    }
}
