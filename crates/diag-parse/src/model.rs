//! Small shared value types: severity, evidence, parse notes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a finding or cause is. Ordered: `Info < Warning < Critical`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, nothing is wrong by itself.
    Info,
    /// Something is wrong or about to be.
    Warning,
    /// Service is or will shortly be affected.
    Critical,
}

impl Severity {
    /// The lower-case word used in rule files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Parses the lower-case word used in rule files.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pointer to the raw input that supports a finding: the canonical input
/// name, the 1-based line (or record) where there is one, and the raw text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    /// Canonical input name, e.g. `dev/kmsg` or `proc/net/route`.
    pub input: String,
    /// 1-based line number in the input, when the evidence is a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Last line, when the evidence is a block of lines (a kernel Oops with
    /// its call trace); `excerpt` then holds every line of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_end: Option<u32>,
    /// The raw text (or a faithful summary of a record) that is the evidence.
    pub excerpt: String,
}

/// Something a parser or the engine could not use, kept so nothing is lost
/// silently: a malformed line, an unknown field, a rule that failed to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Note {
    /// Canonical input name (or `rule:<id>` for an evaluation problem).
    pub input: String,
    /// 1-based line, when the note concerns one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What was wrong.
    pub message: String,
}

impl Note {
    /// A note about one line of an input.
    pub fn line(input: &str, line: usize, message: impl Into<String>) -> Self {
        Note {
            input: input.to_string(),
            line: Some(u32::try_from(line).unwrap_or(u32::MAX)),
            message: message.into(),
        }
    }

    /// A note about a whole input.
    pub fn input(input: &str, message: impl Into<String>) -> Self {
        Note {
            input: input.to_string(),
            line: None,
            message: message.into(),
        }
    }
}

/// An input or collector that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Skipped {
    /// The collector or canonical input name.
    pub collector: String,
    /// Why it was skipped: permission, timeout, size, error text.
    pub reason: String,
}

/// Evidence record for a table entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Canonical input name.
    pub input: String,
    /// 1-based line.
    pub line: u32,
    /// The entry as text.
    pub excerpt: String,
}
