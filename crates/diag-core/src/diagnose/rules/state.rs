//! State-change patterns (`[[state]]`): kernel messages that record a
//! change of state (a link down, a disk failed, a remount read-only) and
//! earn a place on a report's timeline even when no rule cites them. They
//! make no finding and never appear in a diagnosis.
//!
//! ```toml
//! [[state]]
//! id = "link.up-down"
//! title = "A network link went up or down"
//! pattern = '(?i)\blink (?:is )?(?:up|down)\b'
//! examples = ["e1000e 0000:00:19.0: eth0: NIC Link is Up 1000 Mbps Full Duplex"]
//! counterexamples = ["eth0: renamed from veth1a2b"]
//! ```
//!
//! A pattern is matched against the kernel message without its prefix, as
//! a rule's log pattern is, with the regex crate's default (Unicode)
//! syntax; every pattern of the set runs at once ([`super::RuleSet::state_set`]).

use super::{compile_pattern, regex_error_offset, valid_id, Depth, Locator, RuleProblem};
use serde::Deserialize;
use toml::Spanned;

/// Compiled size allowed for the set of every state pattern (and for one
/// alone, where the kernel-log stream confirms a candidate line).
const STATE_SET_SIZE_LIMIT: usize = crate::facts::kernel_stream::STATE_SIZE_LIMIT;

/// A kernel-log pattern that marks a line as a change of state.
#[derive(Debug, Clone)]
pub struct StatePattern {
    /// Stable id, `area.what-changed`.
    pub id: String,
    /// What the lines it matches record.
    pub title: String,
    /// The pattern as written.
    pattern: String,
    /// The file it was read from.
    pub file: String,
    /// The line of its `id`.
    pub line: usize,
    /// Built into the binary (its pattern is compiled on first use).
    pub(super) builtin: bool,
}

impl StatePattern {
    /// The pattern as written in the rule file.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawState {
    id: Spanned<String>,
    title: String,
    pattern: Spanned<String>,
    #[serde(default)]
    examples: Vec<Spanned<String>>,
    #[serde(default)]
    counterexamples: Vec<Spanned<String>>,
}

impl RawState {
    pub(super) fn id_start(&self) -> usize {
        self.id.span().start
    }
}

/// Checks one `[[state]]` table: at `Checked` depth the pattern compiles
/// (within the size limit of a log pattern), every example matches and
/// no counterexample does, and there is at least one of each.
pub(super) fn compile(
    raw: RawState,
    at: &Locator<'_>,
    depth: Depth,
) -> Result<StatePattern, Vec<RuleProblem>> {
    let mut problems = Vec::new();
    let id_span = raw.id.span();
    let id = raw.id.into_inner();
    if !valid_id(&id) {
        problems.push(at.at(
            at.content_start(id_span.clone()),
            format!(
                "state id {id:?} must be lower-case `area.what-changed` (letters, digits, '-', \
                 one or more '.')"
            ),
        ));
    }
    let start = at.content_start(raw.pattern.span());
    let pattern = raw.pattern.into_inner();
    if depth == Depth::Checked {
        match compile_pattern(&pattern) {
            Ok(regex) => {
                for example in &raw.examples {
                    if !regex.is_match(example.get_ref()) {
                        problems.push(at.at(
                            at.content_start(example.span()),
                            format!("example {:?} does not match the pattern", example.get_ref()),
                        ));
                    }
                }
                for example in &raw.counterexamples {
                    if regex.is_match(example.get_ref()) {
                        problems.push(at.at(
                            at.content_start(example.span()),
                            format!("counterexample {:?} matches the pattern", example.get_ref()),
                        ));
                    }
                }
            }
            Err(err) => {
                let offset = regex_error_offset(&pattern).unwrap_or(0);
                let message = match err {
                    regex::Error::CompiledTooBig(limit) => format!(
                        "pattern over the size limit: compiled, it exceeds {} KiB",
                        limit >> 10
                    ),
                    other => format!(
                        "regex does not compile: {}",
                        other.to_string().lines().last().unwrap_or("").trim()
                    ),
                };
                problems.push(at.at(start + offset, message));
            }
        }
        if raw.examples.is_empty() || raw.counterexamples.is_empty() {
            problems.push(at.at(
                id_span.start,
                format!(
                    "state {id:?} needs at least one example (a message it matches) and one \
                     counterexample (one it does not)"
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(StatePattern {
        line: at.line(id_span.start),
        file: at.file.to_string(),
        id,
        title: raw.title,
        pattern,
        builtin: false,
    })
}

/// The set of every state pattern (`None` when there are none).
pub(super) fn set(states: &[StatePattern]) -> Result<Option<regex::RegexSet>, regex::Error> {
    if states.is_empty() {
        return Ok(None);
    }
    regex::RegexSetBuilder::new(states.iter().map(|s| s.pattern.as_str()))
        .size_limit(STATE_SET_SIZE_LIMIT)
        .build()
        .map(Some)
}
