//! Rules are data: TOML files, built in from `rules/` at build time and
//! added by users with `--rules DIR`.
//!
//! A rule yields a *finding* (a symptom) or, when it names `explains`, a
//! *cause* (a hypothesis that explains findings). Its triggers:
//!
//! - `[rule.log]`: a regex over kernel log messages; named captures become
//!   fields of the message template; optional `threshold` matches within a
//!   `window` (a duration such as `"60s"`).
//! - `when`: a condition in CEL over `facts` (the parsed snapshot) and
//!   `findings` (a map from the id of every finding already made to
//!   `{severity, count, summary, fields}`).
//!
//! A finding fires when any of its triggers does. The file format and the
//! confidence model are documented in `docs/rules.md`.
//!
//! Besides: named expressions a rule's conditions share (`[rule.let]`,
//! expanded into them: `lets`); case inputs read from files below the rule
//! directory's `cases/` (`cases`); state-change patterns (`[[state]]`,
//! `state`), which mark kernel lines for a report's timeline and make no
//! finding; and the facts tree conditions read (`facts_tree`, `diag rules
//! facts`).
//!
//! ```toml
//! [[rule]]
//! id = "neigh.table-overflow"
//! title = "Neighbour table overflow"
//! severity = "critical"
//! summary = "The kernel reported {count} neighbour table overflows"
//! [rule.log]
//! pattern = 'neighbou?r table overflow'
//!
//! [[rule.case]]
//! name = "new spelling"
//! expect = "fires"
//! inputs."dev/kmsg" = "6,1,100,-;neighbour: arp_cache: neighbor table overflow!"
//! ```

pub(crate) mod budget;
mod cases;
mod check;
pub mod facts_tree;
mod lets;
mod state;

pub use crate::error::RuleProblem;
use crate::error::{Error, Result};
use crate::model::Severity;
use cases::CaseFiles;
use regex::Regex;
use serde::Deserialize;
pub use state::StatePattern;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

    /// The text of every file of [`FILES`]: with its case tables blanked
    /// ([`BLANKED`] unpacked), or whole, fixture cases included
    /// ([`WHOLE`]), cut at the files' lengths; and with the whole texts,
    /// the [`CASE_FILES`] by name.
    pub(super) fn texts(whole: bool) -> std::io::Result<(Vec<String>, super::cases::Embedded)> {
        let (packed, len) = if whole {
            (WHOLE, WHOLE_LEN)
        } else {
            (BLANKED, BLANKED_LEN)
        };
        let invalid = |message: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, message);
        let bytes = zstd::bulk::decompress(packed, len)?;
        let texts_len: usize = FILES
            .iter()
            .map(|(_, blanked, whole_len)| if whole { *whole_len } else { *blanked })
            .sum();
        let (texts, mut rest) = bytes
            .split_at_checked(texts_len)
            .ok_or_else(|| invalid("truncated rule files"))?;
        let text = std::str::from_utf8(texts).map_err(|_| invalid("rule files not UTF-8"))?;
        let mut text_rest = text;
        let mut files = Vec::with_capacity(FILES.len());
        for (_, blanked_len, whole_len) in FILES {
            let len = if whole { *whole_len } else { *blanked_len };
            let (file, after) = text_rest
                .split_at_checked(len)
                .ok_or_else(|| invalid("truncated rule files"))?;
            files.push(file.to_string());
            text_rest = after;
        }
        let mut cases = std::collections::BTreeMap::new();
        if whole {
            for (name, len) in CASE_FILES {
                let (file, after) = rest
                    .split_at_checked(*len)
                    .ok_or_else(|| invalid("truncated case files"))?;
                cases.insert((*name).to_string(), file.to_vec());
                rest = after;
            }
        }
        Ok((files, std::sync::Arc::new(cases)))
    }
}

/// Cache of the lazy DFA that runs every log pattern at once.
const LOG_SET_DFA_CACHE: usize = 32 << 20;
/// Compiled size allowed for the set of every log pattern.
const LOG_SET_SIZE_LIMIT: usize = 64 << 20;
/// Compiled size allowed for one log pattern (the largest built-in one,
/// `.{0,160}` in Unicode, is ~170 KB; `\w{50}` is ~2.5 MB).
const PATTERN_SIZE_LIMIT: usize = 2 << 20;
/// Cache of the lazy DFA of one log pattern.
const PATTERN_DFA_CACHE: usize = 2 << 20;

/// Compiles a log pattern with the per-pattern limits.
fn compile_pattern(pattern: &str) -> std::result::Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_DFA_CACHE)
        .build()
}

/// Whether a rule proposes a symptom or an explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// A symptom: something observed.
    Finding,
    /// A hypothesis that explains findings (`explains = [...]`).
    Cause,
}

/// A kernel-log pattern.
#[derive(Debug, Clone)]
pub struct LogPattern {
    /// The pattern as written.
    pattern: String,
    /// The pattern compiled: at load for user rules (so a bad one is
    /// reported there), on first use for the built-in ones, which tests
    /// compile (`rules::tests`).
    regex: std::sync::OnceLock<Regex>,
    /// How many matches are needed (within `window`, when set).
    pub threshold: usize,
    /// The time window of the threshold (kernel time, within one boot).
    pub window: Option<Duration>,
    /// Which boots the pattern looks at.
    pub boot: BootFilter,
    /// Lines the pattern matches that do not count (`exclude = '...'`), as
    /// written and compiled like `regex`.
    exclude: Option<(String, std::sync::OnceLock<Regex>)>,
}

impl LogPattern {
    /// The pattern as written in the rule file.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The regex, matched against each message (without its prefix).
    pub fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            // Only built-in patterns are compiled here, and the tests
            // compile every one of them (`RuleSet::builtin_with_cases`).
            compile_pattern(&self.pattern).expect("built-in log patterns compile")
        })
    }

    /// The `exclude` pattern as written, if the rule has one.
    pub fn exclude_pattern(&self) -> Option<&str> {
        self.exclude.as_ref().map(|(text, _)| text.as_str())
    }

    /// The `exclude` regex: a line it matches does not count.
    pub fn exclude(&self) -> Option<&Regex> {
        self.exclude.as_ref().map(|(text, regex)| {
            regex.get_or_init(|| compile_pattern(text).expect("built-in log patterns compile"))
        })
    }

    /// Whether `message` counts as a match: the pattern matches it and
    /// `exclude` does not.
    pub fn counts(&self, message: &str) -> bool {
        self.regex().is_match(message) && !self.exclude().is_some_and(|x| x.is_match(message))
    }
}

/// Which boots a log pattern looks at (`boot = "..."` in `[rule.log]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootFilter {
    /// Every boot the log has (the default).
    Any,
    /// Only the running (newest) boot.
    Current,
    /// Only earlier boots (rotated syslog, pstore, vmcore-dmesg).
    Previous,
}

impl BootFilter {
    /// Whether an entry of `boot` (0 running, negative earlier) is looked at.
    pub fn admits(self, boot: i32) -> bool {
        match self {
            BootFilter::Any => true,
            BootFilter::Current => boot == 0,
            BootFilter::Previous => boot < 0,
        }
    }
}

/// A CEL expression with its source text.
#[derive(Clone)]
pub struct Condition {
    /// The expression as written (naming the rule's lets).
    pub source: String,
    /// The expression compiled: `source` with every let it names
    /// replaced by the let's text (see `lets`).
    pub(crate) text: String,
    /// The expression compiled: at load for a user rule's, on first use
    /// for a built-in one (see `check::deferred`; `RuleSet::while_warming`
    /// compiles those every rule evaluates beside the reading).
    program: std::sync::OnceLock<std::sync::Arc<cel::Program>>,
    /// The expression as evaluated: metered (see `budget`), built on first
    /// use.
    metered: std::sync::OnceLock<std::sync::Arc<cel::IdedExpr>>,
    /// Finding ids the expression refers to (`findings['id']`, `'id' in findings`).
    pub refers_to: Vec<String>,
    /// Warnings of `rules validate` about the expression (deep nesting).
    pub(crate) warnings: Vec<RuleProblem>,
    /// The lets `source` names directly.
    pub(crate) lets: Vec<String>,
    /// `source` itself compiled and metered, its lets left as variables:
    /// what runs once the lets' values are bound (see `diagnose`'s
    /// `Evaluator::value`); `None` when it does not compile alone.
    bound: std::sync::OnceLock<Option<std::sync::Arc<cel::IdedExpr>>>,
}

impl Condition {
    /// The expression as written, its lets as variables, metered; `None`
    /// when it names no let or does not compile alone.
    pub(crate) fn bound(&self) -> Option<&cel::IdedExpr> {
        if self.lets.is_empty() {
            return None;
        }
        self.bound
            .get_or_init(|| {
                cel::Program::compile(&self.source)
                    .ok()
                    .map(|p| std::sync::Arc::new(budget::instrument(p.expression())))
            })
            .as_deref()
    }

    /// The compiled expression.
    pub(crate) fn program(&self) -> &cel::Program {
        self.program.get_or_init(|| {
            // Only built-in conditions are compiled here, and the tests
            // compile every one (`RuleSet::builtin_with_cases`).
            std::sync::Arc::new(
                cel::Program::compile(&self.text).expect("built-in conditions compile"),
            )
        })
    }

    /// Compiles what evaluating the condition needs (see
    /// `RuleSet::while_warming`).
    pub(crate) fn warm(&self) {
        let _ = self.metered();
        let _ = self.bound();
    }

    /// The expression as evaluated: every comprehension's range and every
    /// value a `map` builds go through the budget's meter.
    pub(crate) fn metered(&self) -> &cel::IdedExpr {
        self.metered
            .get_or_init(|| std::sync::Arc::new(budget::instrument(self.program().expression())))
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("source", &self.source)
            .finish()
    }
}

/// A fixture case that a rule ships: inputs, and whether the rule must fire.
#[derive(Debug, Clone)]
pub struct RuleCase {
    /// What the case shows.
    pub name: String,
    /// Whether the rule must fire on these inputs.
    pub fires: bool,
    /// Raw inputs by canonical name: text written in the case, or the
    /// bytes of a file it names (`{ file = "..." }`, see `cases`).
    pub inputs: BTreeMap<String, Vec<u8>>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable id, `area.what-is-wrong`.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Severity when it fires.
    pub severity: Severity,
    /// Message template; `{name}` is replaced by a field.
    pub summary: String,
    /// What an operator should do next.
    pub next_steps: Vec<String>,
    /// Finding or cause.
    pub kind: RuleKind,
    /// Kernel-log trigger.
    pub log: Option<LogPattern>,
    /// Named expressions (`[rule.let]`: name, expression as written), in
    /// the order written; the conditions below name them.
    pub lets: Vec<(String, String)>,
    /// The same lets as conditions (their text expanded), evaluated at
    /// most once per rule evaluation.
    pub(crate) let_conditions: Vec<(String, Condition)>,
    /// Condition trigger (for a cause: the hypothesis' own condition).
    pub when: Option<Condition>,
    /// Data precondition: when false, the rule cannot be checked and is
    /// neither fired nor ruled out.
    pub needs: Option<Condition>,
    /// Suppression: when true, the rule does not fire (a more specific
    /// finding already tells the story).
    pub unless: Option<Condition>,
    /// Expression yielding the fact records (with `input`, `line`,
    /// `excerpt`) that are the evidence.
    pub evidence: Option<Condition>,
    /// Template fields computed by expressions.
    pub fields: Vec<(String, Condition)>,
    /// Severity overrides (`[rule.severity_when]`), highest first: the
    /// first whose condition holds when the rule fires sets its severity.
    pub severity_when: Vec<(Severity, Condition)>,
    /// For a cause: the findings it explains.
    pub explains: Vec<String>,
    /// For a cause: confidence when every explained finding is present.
    pub confidence: f64,
    /// For a cause: why it is ruled out when `when` is false.
    pub ruled_out: Option<String>,
    /// Fixture cases.
    pub cases: Vec<RuleCase>,
    /// The file the rule was read from.
    pub file: String,
    /// The line of its `id`.
    pub line: usize,
    /// Built into the binary: its log pattern joins the one-pass
    /// prefilter of every built-in pattern (`facts::prefilter`); a user
    /// rule's pattern is matched alone, under a time budget per input
    /// (see `docs/rules.md`, "Budgets").
    pub builtin: bool,
}

impl Rule {
    /// Every expression of the rule: its lets, `when`, `needs`, `unless`,
    /// `evidence`, fields and severity overrides.
    pub(crate) fn conditions(&self) -> impl Iterator<Item = &Condition> {
        // Every field named: a new kind of expression must be added here.
        let Rule {
            let_conditions,
            when,
            needs,
            unless,
            evidence,
            fields,
            severity_when,
            id: _,
            title: _,
            severity: _,
            summary: _,
            next_steps: _,
            kind: _,
            log: _,
            lets: _,
            explains: _,
            confidence: _,
            ruled_out: _,
            cases: _,
            file: _,
            line: _,
            builtin: _,
        } = self;
        let_conditions
            .iter()
            .map(|(_, c)| c)
            .chain(when)
            .chain(needs)
            .chain(unless)
            .chain(evidence)
            .chain(fields.iter().map(|(_, c)| c))
            .chain(severity_when.iter().map(|(_, c)| c))
    }
}

/// A validated set of rules, ids unique.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Every built-in log pattern in one set, and the index of the rule
    /// owning each; built on first use (`RuleSet::log_set`: the benches;
    /// the analysis matches through `prefilter`).
    log_set: std::sync::OnceLock<Option<LogSet>>,
    /// The literals of the built-in log patterns (`log_patterns`), then
    /// the state patterns', then the first lines' of multi-line events
    /// (`facts::prefilter`): which of them a line may match. Built on
    /// first use, once for the diagnosis and the kernel-log stream.
    prefilter: std::sync::OnceLock<Option<std::sync::Arc<crate::facts::prefilter::Prefilter>>>,
    /// State-change patterns (`[[state]]`): what a report's timeline
    /// shows of the kernel log besides the lines rules cite.
    states: Vec<StatePattern>,
    /// Every state pattern in one set; built as `log_set` is.
    state_set: std::sync::OnceLock<Option<regex::RegexSet>>,
}

/// Every log pattern in one set, and the index of the rule owning each.
type LogSet = (regex::bytes::RegexSet, Vec<usize>);

/// How much of a rule file is compiled and checked at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// Everything: patterns compiled, summary fields checked, fixture
    /// cases read and required. User rules, `diag rules test`/`validate`.
    Checked,
    /// The built-in files without their cases (see build.rs): patterns
    /// compile on first use, and the checks the tests already run on these
    /// very files (`Checked`) are skipped. Every other command.
    Builtin,
}

// ---- the file format -------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<RawRule>,
    #[serde(default)]
    state: Vec<state::RawState>,
}

/// One rule file to load: its name, its text, and where the files its
/// cases name are.
struct RuleFile {
    name: String,
    text: String,
    cases: CaseFiles,
}

/// What [`parse_files`] read.
#[derive(Default)]
struct Parsed {
    rules: Vec<Rule>,
    states: Vec<StatePattern>,
    problems: Vec<RuleProblem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    title: String,
    severity: Spanned<String>,
    summary: Spanned<String>,
    #[serde(default)]
    next_steps: Vec<String>,
    #[serde(default)]
    log: Option<RawLog>,
    #[serde(default, rename = "let")]
    lets: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    when: Option<Spanned<String>>,
    #[serde(default)]
    needs: Option<Spanned<String>>,
    #[serde(default)]
    unless: Option<Spanned<String>>,
    #[serde(default)]
    evidence: Option<Spanned<String>>,
    #[serde(default)]
    fields: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    severity_when: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    explains: Vec<Spanned<String>>,
    #[serde(default)]
    confidence: Option<Spanned<f64>>,
    #[serde(default)]
    ruled_out: Option<String>,
    #[serde(default, rename = "case")]
    cases: Vec<RawCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    pattern: Spanned<String>,
    #[serde(default)]
    threshold: Option<Spanned<i64>>,
    #[serde(default)]
    window: Option<Spanned<String>>,
    #[serde(default)]
    boot: Option<Spanned<String>>,
    #[serde(default)]
    exclude: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    expect: Spanned<String>,
    #[serde(default)]
    inputs: BTreeMap<String, Spanned<RawInput>>,
}

/// A case input: its text, or a file below the rule directory's `cases/`
/// (`{ file = "..." }`).
#[derive(Debug)]
enum RawInput {
    Text(String),
    File(String),
}

// By hand rather than `#[serde(untagged)]`, whose buffering of every value
// costs code in the binary and gives no useful message.
impl<'de> Deserialize<'de> for RawInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawInput;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the input's text, or { file = \"NAME\" } (a file below cases/)")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawInput, E> {
                Ok(RawInput::Text(text.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<RawInput, E> {
                Ok(RawInput::Text(text))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawInput, A::Error> {
                let mut file = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "file" || file.is_some() {
                        return Err(serde::de::Error::custom(format!(
                            "a case input is text or {{ file = \"NAME\" }}, not a table with `{key}`"
                        )));
                    }
                    file = Some(map.next_value::<String>()?);
                }
                file.map(RawInput::File)
                    .ok_or_else(|| serde::de::Error::missing_field("file"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Turns byte offsets of one file into `file:line:col` problems.
pub(crate) struct Locator<'a> {
    pub(crate) file: &'a str,
    pub(crate) text: &'a str,
    /// The offset where each line after the first starts.
    line_starts: Vec<usize>,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        let line_starts = text.match_indices('\n').map(|(i, _)| i + 1).collect();
        Locator {
            file,
            text,
            line_starts,
        }
    }

    /// The 1-based line of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset) + 1
    }

    pub(crate) fn at(&self, offset: usize, message: impl Into<String>) -> RuleProblem {
        let offset = offset.min(self.text.len());
        let line = self.line(offset);
        let start = if line == 1 {
            0
        } else {
            self.line_starts[line - 2]
        };
        let col = self
            .text
            .get(start..offset)
            .map_or(0, |l| l.chars().count())
            + 1;
        RuleProblem {
            file: self.file.to_string(),
            line,
            col,
            message: message.into(),
            warning: false,
        }
    }

    /// The offset of the first character of a string value's content: the
    /// span starts at its opening quote(s).
    pub(crate) fn content_start(&self, span: std::ops::Range<usize>) -> usize {
        let raw = self.text.get(span.clone()).unwrap_or("");
        let quotes = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
            3
        } else if raw.starts_with('\'') || raw.starts_with('"') {
            1
        } else {
            0
        };
        let mut start = span.start + quotes;
        // A newline right after a triple quote is not part of the value.
        if quotes == 3 && self.text[start..].starts_with('\n') {
            start += 1;
        }
        start
    }
}

impl RuleSet {
    /// The rules embedded from `rules/` at build time, without their
    /// fixture cases (see [`RuleSet::builtin_with_cases`]).
    pub fn builtin() -> Result<Self> {
        Self::builtin_at(Depth::Builtin)
    }

    /// The built-in rules with their fixture cases, every one compiled and
    /// checked as a user rule is: for `diag rules test` and `validate`.
    pub fn builtin_with_cases() -> Result<Self> {
        Self::builtin_at(Depth::Checked)
    }

    fn builtin_at(depth: Depth) -> Result<Self> {
        let (texts, embedded) =
            builtin::texts(depth == Depth::Checked).map_err(|e| Error::io("builtin:rules", e))?;
        let files: Vec<RuleFile> = builtin::FILES
            .iter()
            .zip(texts)
            .map(|((name, _, _), text)| RuleFile {
                name: format!("builtin:rules/{name}"),
                text,
                cases: CaseFiles::Builtin(embedded.clone()),
            })
            .collect();
        let mut parsed = parse_files(&files, depth);
        for rule in &mut parsed.rules {
            rule.builtin = true;
        }
        for state in &mut parsed.states {
            state.builtin = true;
        }
        let trusted = if depth == Depth::Builtin {
            parsed.rules.len()
        } else {
            0
        };
        finish(parsed, &BTreeSet::new(), trusted)
    }

    /// Rules from in-memory files `(name, TOML text)`, without the built-in
    /// ones: for embedding tools that ship their own rules, and for tests.
    /// Their cases cannot name files (there is no `cases/` folder).
    pub fn from_files(files: &[(String, String)]) -> Result<Self> {
        let files: Vec<RuleFile> = files
            .iter()
            .map(|(name, text)| RuleFile {
                name: name.clone(),
                text: text.clone(),
                cases: CaseFiles::None,
            })
            .collect();
        finish(parse_files(&files, Depth::Checked), &BTreeSet::new(), 0)
    }

    /// The built-in rules (without their fixture cases), with every
    /// `*.toml` of each directory in `dirs` added; a user rule with a
    /// built-in rule's id replaces it (a `[[state]]` too).
    pub fn load(dirs: &[impl AsRef<Path>]) -> Result<Self> {
        Self::load_from(Self::builtin()?, Depth::Builtin, dirs)
    }

    /// [`RuleSet::load`] with the built-in rules' fixture cases, every
    /// rule checked in full: for `diag rules test` and `validate`.
    pub fn load_with_cases(dirs: &[impl AsRef<Path>]) -> Result<Self> {
        Self::load_from(Self::builtin_with_cases()?, Depth::Checked, dirs)
    }

    /// `builtin` (loaded at `depth`) with the rules of `dirs` added.
    fn load_from(builtin: Self, depth: Depth, dirs: &[impl AsRef<Path>]) -> Result<Self> {
        let mut files = Vec::new();
        for dir in dirs {
            files.extend(read_rule_dir(dir.as_ref())?);
        }
        if files.is_empty() {
            return Ok(builtin);
        }
        let user = parse_files(&files, Depth::Checked);
        let user_ids: BTreeSet<String> = user.rules.iter().map(|r| r.id.clone()).collect();
        let user_states: BTreeSet<String> = user.states.iter().map(|s| s.id.clone()).collect();
        let mut rules: Vec<Rule> = builtin
            .rules
            .into_iter()
            .filter(|r| !user_ids.contains(&r.id))
            .collect();
        let mut states: Vec<StatePattern> = builtin
            .states
            .into_iter()
            .filter(|s| !user_states.contains(&s.id))
            .collect();
        let builtin_ids: BTreeSet<String> = rules.iter().map(|r| r.id.clone()).collect();
        let trusted = if depth == Depth::Builtin {
            rules.len()
        } else {
            0
        };
        rules.extend(user.rules);
        states.extend(user.states);
        let parsed = Parsed {
            rules,
            states,
            problems: user.problems,
        };
        finish(parsed, &builtin_ids, trusted)
    }

    /// Every rule, in evaluation order (a rule after the findings its
    /// conditions refer to).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every built-in log pattern as one `RegexSet`, with the index (in
    /// [`rules`]) of the rule each pattern belongs to. User patterns are
    /// not in it: each is matched alone, under a time budget.
    ///
    /// [`rules`]: RuleSet::rules
    pub fn log_set(&self) -> Option<(&regex::bytes::RegexSet, &[usize])> {
        self.log_set
            .get_or_init(|| {
                // Only built-in patterns are in it, and the tests build
                // their set (`RuleSet::builtin_with_cases`).
                log_set(&self.rules).expect("the built-in log patterns combine")
            })
            .as_ref()
            .map(|(set, owners)| (set, owners.as_slice()))
    }

    /// The literals of every pattern a kernel-log line is checked against
    /// (`LineFilter::patterns`: the built-in log patterns in rule order,
    /// the state patterns, the first lines of multi-line events): the
    /// patterns a line may match. `None` only when its automaton cannot
    /// be built.
    pub fn prefilter(&self) -> Option<std::sync::Arc<crate::facts::prefilter::Prefilter>> {
        self.prefilter
            .get_or_init(|| {
                let (rules, _) = log_patterns(&self.rules);
                let states = self.state_set().map_or(&[][..], |set| set.patterns());
                let patterns = rules
                    .into_iter()
                    .chain(states.iter().map(String::as_str))
                    .chain(crate::parse::events::START_PATTERNS);
                crate::facts::prefilter::Prefilter::new(patterns).map(std::sync::Arc::new)
            })
            .clone()
    }

    /// Which kernel-log lines these rules need (every log pattern, the
    /// state patterns): a large log is kept only as far as they say
    /// (`facts::kernel_stream`).
    pub fn line_filter(&self) -> crate::facts::kernel_stream::LineFilter {
        use crate::facts::kernel_stream::SlotRule;
        let slot = |r: &Rule, log: &LogPattern| {
            let mut slot = SlotRule::new(&r.id, log.regex().clone(), log.threshold, log.window);
            slot.exclude = log.exclude().cloned();
            slot
        };
        let (_, owners) = log_patterns(&self.rules);
        let set = owners
            .iter()
            .filter_map(|&i| {
                let r = &self.rules[i];
                r.log.as_ref().map(|log| slot(r, log))
            })
            .collect();
        let user = self
            .rules
            .iter()
            .filter(|r| !r.builtin)
            .filter_map(|r| r.log.as_ref().map(|log| slot(r, log)))
            .collect();
        crate::facts::kernel_stream::LineFilter::new(
            set,
            user,
            self.state_set().cloned(),
            budget::Limits::default().pattern_input_time,
        )
        .with_prefilter(self.prefilter())
    }

    /// Runs `f` while another thread compiles the conditions every rule
    /// evaluates (`needs`, `when`) that compile on first use (the
    /// built-in ones): what `f` does (read a bundle, stream its log)
    /// runs beside it on a second core, and a condition `f` needs first
    /// is compiled by whichever thread gets to it first (each once). When
    /// `f` returns, the other thread stops after the condition it is
    /// compiling.
    pub fn while_warming<T>(&self, f: impl FnOnce() -> T) -> T {
        let (mut f, mut out) = (Some(f), None);
        self.warm_beside(&mut || out = f.take().map(|f| f()));
        out.expect("`f` ran")
    }

    /// [`RuleSet::while_warming`], not generic (one thread scope in the
    /// binary, not one per caller).
    fn warm_beside(&self, f: &mut dyn FnMut()) {
        /// Stops the other thread when `f` returns or panics.
        struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            // Without a thread (a host out of them: an incident diag is
            // run in), `f` runs alone.
            let warm = std::thread::Builder::new()
                .spawn_scoped(scope, || self.warm_until(&stop))
                .ok();
            {
                let _stop = Stop(&stop);
                f();
            }
            // A condition that does not compile panics there as it would
            // in `f` (the tests compile every built-in one).
            if let Some(warm) = warm {
                let _ = warm.join();
            }
        });
    }

    /// Compiles the conditions every rule evaluates (`needs`, `when`),
    /// for a caller that loads the rules on a thread of its own while it
    /// reads (`diag check`); see [`RuleSet::while_warming`].
    pub fn warm(&self) {
        self.warm_until(&std::sync::atomic::AtomicBool::new(false));
    }

    /// Compiles, in evaluation order, the conditions every rule
    /// evaluates, until `stop`. (The others, only a rule that fires
    /// evaluates: compiling them all took longer than analysing a small
    /// bundle.)
    fn warm_until(&self, stop: &std::sync::atomic::AtomicBool) {
        for rule in &self.rules {
            for condition in [&rule.needs, &rule.when].into_iter().flatten() {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                condition.warm();
            }
        }
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Every state-change pattern (`[[state]]`), built-in ones first.
    pub fn states(&self) -> &[StatePattern] {
        &self.states
    }

    /// Every state-change pattern in one set (the regex crate's default,
    /// Unicode syntax); `None` when there are none.
    pub fn state_set(&self) -> Option<&regex::RegexSet> {
        self.state_set
            .get_or_init(|| {
                // Only a set of built-in patterns gets here unbuilt, and
                // the tests build it (`RuleSet::builtin_with_cases`).
                state::set(&self.states).expect("the built-in state patterns combine")
            })
            .as_ref()
    }

    /// Whether a kernel message records a change of state (matches a
    /// `[[state]]` pattern): a report puts such a line on its timeline.
    pub fn is_state_change(&self, message: &str) -> bool {
        self.state_set().is_some_and(|set| set.is_match(message))
    }

    /// A stable hash of the rule set, for reports: it changes when a rule
    /// is added or removed, or when anything that decides whether or how it
    /// fires changes (patterns, conditions, severities, confidence, texts).
    pub fn fingerprint(&self) -> String {
        // FNV-1a over every rule's parts: cheap and stable across builds.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for rule in &self.rules {
            let condition = |c: &Option<Condition>| c.as_ref().map(|c| c.source.clone());
            let log = rule.log.as_ref().map(|l| {
                let mut text = format!("{} {} {:?} {:?}", l.pattern, l.threshold, l.window, l.boot);
                if let Some(exclude) = l.exclude_pattern() {
                    text.push_str(" exclude ");
                    text.push_str(exclude);
                }
                text
            });
            let mut parts = vec![
                rule.id.clone(),
                rule.file.clone(),
                rule.title.clone(),
                rule.summary.clone(),
                rule.severity.to_string(),
                format!("{:?} {}", rule.kind, rule.confidence),
                log.unwrap_or_default(),
                condition(&rule.when).unwrap_or_default(),
                condition(&rule.needs).unwrap_or_default(),
                condition(&rule.unless).unwrap_or_default(),
                condition(&rule.evidence).unwrap_or_default(),
                rule.ruled_out.clone().unwrap_or_default(),
            ];
            parts.extend(rule.next_steps.iter().cloned());
            parts.extend(rule.explains.iter().cloned());
            for (name, source) in &rule.lets {
                parts.push(format!("let {name}={source}"));
            }
            for (name, c) in &rule.fields {
                parts.push(format!("{name}={}", c.source));
            }
            for (severity, c) in &rule.severity_when {
                parts.push(format!("{severity}={}", c.source));
            }
            for part in &parts {
                for byte in part.bytes().chain([0]) {
                    hash ^= u64::from(byte);
                    hash = hash.wrapping_mul(0x0100_0000_01b3);
                }
            }
        }
        for state in &self.states {
            for part in [&state.id, &state.file, &state.pattern().to_string()] {
                for byte in part.bytes().chain([0]) {
                    hash ^= u64::from(byte);
                    hash = hash.wrapping_mul(0x0100_0000_01b3);
                }
            }
        }
        format!("{hash:016x}")
    }
}

/// Validates the rule files of one directory on their own (no built-ins):
/// `diag rules validate DIR`. Every problem is reported.
pub fn validate_dir(dir: &Path) -> Result<Vec<RuleProblem>> {
    let files = read_rule_dir(dir)?;
    let mut parsed = parse_files(&files, Depth::Checked);
    let mut warnings: Vec<RuleProblem> = Vec::new();
    for rule in &parsed.rules {
        // (A let's expression has no warnings of its own: those of the
        // expressions that name it are its.)
        for condition in rule.conditions() {
            warnings.extend(condition.warnings.iter().cloned());
        }
    }
    let builtin_ids: BTreeSet<String> = RuleSet::builtin()
        .map(|set| set.rules.into_iter().map(|r| r.id).collect())
        .unwrap_or_default();
    let mut problems = std::mem::take(&mut parsed.problems);
    if let Err(Error::Rules(more)) = finish(parsed, &builtin_ids, 0) {
        problems.extend(more);
    }
    problems.extend(warnings);
    Ok(problems)
}

/// Every `*.toml` below `dir`, recursively, sorted by path, except below
/// `dir/cases/` (the files cases name, see `cases`).
fn read_rule_dir(dir: &Path) -> Result<Vec<RuleFile>> {
    let cases = dir.join("cases");
    let mut paths = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| Error::io(&current, e))?;
        for entry in entries {
            let path = entry.map_err(|e| Error::io(&current, e))?.path();
            if path.is_dir() {
                if path != cases {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|x| x == "toml") {
                paths.push(path);
            }
        }
    }
    crate::sort::sort(&mut paths);
    let mut files = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        files.push(RuleFile {
            name: path.display().to_string(),
            text,
            cases: CaseFiles::Dir(cases.clone()),
        });
    }
    Ok(files)
}

fn parse_files(files: &[RuleFile], depth: Depth) -> Parsed {
    let mut parsed = Parsed::default();
    let mut seen: HashMap<String, (String, usize)> = HashMap::new();
    let mut seen_states: HashMap<String, (String, usize)> = HashMap::new();
    for file in files {
        let at = Locator::new(&file.name, &file.text);
        let Some(raw) = parse_raw_file(&file.text, &at, &mut parsed.problems) else {
            continue;
        };
        for raw_rule in raw.rule {
            let id_span = raw_rule.id.span();
            match compile_rule(raw_rule, &at, depth, &file.cases) {
                Ok(rule) => {
                    if let Some((other, line)) = seen.get(&rule.id) {
                        parsed.problems.push(at.at(
                            id_span.start,
                            format!(
                                "duplicate rule id {:?} (also defined at {other}:{line})",
                                rule.id
                            ),
                        ));
                        continue;
                    }
                    seen.insert(rule.id.clone(), (rule.file.clone(), rule.line));
                    parsed.rules.push(rule);
                }
                Err(more) => parsed.problems.extend(more),
            }
        }
        for raw_state in raw.state {
            let id_start = raw_state.id_start();
            match state::compile(raw_state, &at, depth) {
                Ok(state) => {
                    if let Some((other, line)) = seen_states.get(&state.id) {
                        parsed.problems.push(at.at(
                            id_start,
                            format!(
                                "duplicate state id {:?} (also defined at {other}:{line})",
                                state.id
                            ),
                        ));
                        continue;
                    }
                    seen_states.insert(state.id.clone(), (state.file.clone(), state.line));
                    parsed.states.push(state);
                }
                Err(more) => parsed.problems.extend(more),
            }
        }
    }
    parsed
}

/// The file's tables, every problem of TOML syntax or shape reported, not
/// only the first (issue 25): each time the file does not read, the
/// problem is noted and the `[[rule]]` or `[[state]]` table it lies in is
/// blanked (its lines kept, so every later line number stays right), and
/// the rest is read again. `None` when a problem lies outside every such
/// table (nothing else can be read then).
fn parse_raw_file(
    text: &str,
    at: &Locator<'_>,
    problems: &mut Vec<RuleProblem>,
) -> Option<RawFile> {
    let mut text = std::borrow::Cow::Borrowed(text);
    // Each round blanks one table: at most one round per table.
    let tables = table_starts(&text).len();
    for _ in 0..=tables {
        let err = match toml::from_str::<RawFile>(&text) {
            Ok(raw) => return Some(raw),
            Err(err) => err,
        };
        let offset = err.span().map_or(0, |s| s.start);
        problems.push(at.at(offset, err.message().trim().to_string()));
        let starts = table_starts(&text);
        let index = starts.iter().rposition(|&start| start <= offset)?;
        let end = starts.get(index + 1).copied().unwrap_or(text.len());
        // Byte for byte, so that later offsets still point into `at`.
        let blanked: String = text[starts[index]..end]
            .bytes()
            .map(|b| if b == b'\n' { '\n' } else { ' ' })
            .collect();
        text.to_mut().replace_range(starts[index]..end, &blanked);
    }
    None
}

/// Byte offsets of the lines that open a `[[rule]]` or `[[state]]` table.
fn table_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let header = line.trim();
        if header == "[[rule]]" || header == "[[state]]" {
            starts.push(offset);
        }
        offset += line.len();
    }
    starts
}

fn compile_rule(
    raw: RawRule,
    at: &Locator<'_>,
    depth: Depth,
    case_files: &CaseFiles,
) -> Result<Rule, Vec<RuleProblem>> {
    let mut problems = Vec::new();
    let id_span = raw.id.span();
    let id = raw.id.into_inner();
    if !valid_id(&id) {
        problems.push(at.at(
            at.content_start(id_span.clone()),
            format!("rule id {id:?} must be lower-case `area.what-is-wrong` (letters, digits, '-', one or more '.')"),
        ));
    }
    let severity_span = raw.severity.span();
    let severity = Severity::parse(raw.severity.get_ref()).unwrap_or_else(|| {
        problems.push(at.at(
            at.content_start(severity_span),
            format!(
                "severity {:?} is not one of info, warning, critical",
                raw.severity.get_ref()
            ),
        ));
        Severity::Info
    });

    let log = raw.log.and_then(|log| {
        let start = at.content_start(log.pattern.span());
        let pattern = log.pattern.into_inner();
        let regex = compile_log_pattern(&pattern, start, depth, at, &mut problems);
        let exclude = log.exclude.and_then(|x| {
            let start = at.content_start(x.span());
            let text = x.into_inner();
            compile_log_pattern(&text, start, depth, at, &mut problems).map(|r| (text, r))
        });
        let threshold = match log.threshold {
            Some(t) if *t.get_ref() < 1 => {
                problems.push(at.at(t.span().start, "threshold must be at least 1"));
                1
            }
            Some(t) => usize::try_from(*t.get_ref()).unwrap_or(usize::MAX),
            None => 1,
        };
        let window = log
            .window
            .and_then(|w| match humantime::parse_duration(w.get_ref()) {
                Ok(d) => Some(d),
                Err(err) => {
                    problems.push(at.at(
                        at.content_start(w.span()),
                        format!("window {:?}: {err}", w.get_ref()),
                    ));
                    None
                }
            });
        let boot = match log.boot {
            None => BootFilter::Any,
            Some(b) => match b.get_ref().as_str() {
                "any" => BootFilter::Any,
                "current" => BootFilter::Current,
                "previous" => BootFilter::Previous,
                other => {
                    problems.push(at.at(
                        at.content_start(b.span()),
                        format!("boot = {other:?}: use \"any\", \"current\" or \"previous\""),
                    ));
                    BootFilter::Any
                }
            },
        };
        regex.map(|regex| LogPattern {
            pattern,
            regex,
            threshold,
            window,
            boot,
            exclude,
        })
    });

    // The lets, in the order written (a let may name the ones before it),
    // each expanded; at `Checked` depth each is compiled alone too, so a
    // problem in it is reported once, at the let.
    let mut lets: Vec<(String, lets::Expanded)> = Vec::new();
    let mut let_sources: Vec<(String, String, usize)> = Vec::new();
    let mut broken: BTreeSet<String> = BTreeSet::new();
    let mut raw_lets: Vec<(String, Spanned<String>)> = raw.lets.into_iter().collect();
    crate::sort::sort_by_key(&mut raw_lets, |(_, expr)| expr.span().start);
    let names: Vec<String> = raw_lets.iter().map(|(name, _)| name.clone()).collect();
    for (index, (name, expr)) in raw_lets.into_iter().enumerate() {
        let start = at.content_start(expr.span());
        let source = expr.into_inner();
        if let Some(message) = lets::bad_name(&name) {
            problems.push(at.at(start, message));
            broken.insert(name);
            continue;
        }
        match lets::expand(&source, start, &lets, &names[index..]) {
            Ok(expanded) => {
                if expanded.uses.iter().any(|used| broken.contains(used)) {
                    broken.insert(name.clone());
                } else if depth == Depth::Checked {
                    if let Err(more) = check::compile(source.clone(), expanded.clone(), at) {
                        problems.extend(more);
                        broken.insert(name.clone());
                    }
                }
                let_sources.push((name.clone(), source, start));
                lets.push((name, expanded));
            }
            Err(more) => {
                problems.extend(more.into_iter().map(|(offset, m)| at.at(start + offset, m)));
                broken.insert(name);
            }
        }
    }
    let mut used: BTreeSet<String> = lets.iter().flat_map(|(_, e)| e.uses.clone()).collect();

    // A built-in rule's conditions compile on first use, or on a second
    // core while the host is read (`RuleSet::while_warming`): compiling
    // them all took ~130 M instructions, a third of a small bundle's
    // analysis. The tests compile every one (`Depth::Checked`).
    let mut compile = |expr: Option<Spanned<String>>| -> Option<Condition> {
        let expr = expr?;
        let start = at.content_start(expr.span());
        let source = expr.into_inner();
        let expanded = match lets::expand(&source, start, &lets, &[]) {
            Ok(expanded) => expanded,
            Err(more) => {
                problems.extend(more.into_iter().map(|(offset, m)| at.at(start + offset, m)));
                return None;
            }
        };
        used.extend(expanded.uses.iter().cloned());
        if expanded.uses.iter().any(|name| broken.contains(name)) {
            // The let's own problem is reported.
            return None;
        }
        if depth == Depth::Builtin {
            return Some(check::deferred(source, expanded));
        }
        match check::compile(source, expanded, at) {
            Ok(condition) => Some(condition),
            Err(more) => {
                problems.extend(more);
                None
            }
        }
    };
    let when = compile(raw.when);
    let needs = compile(raw.needs);
    let unless = compile(raw.unless);
    let evidence = compile(raw.evidence);
    let mut fields = Vec::new();
    for (name, expr) in raw.fields {
        if let Some(c) = compile(Some(expr)) {
            fields.push((name, c));
        }
    }
    let mut severity_when = Vec::new();
    let mut bad_levels = Vec::new();
    for (name, expr) in raw.severity_when {
        let span = expr.span();
        let level = Severity::parse(&name);
        if let Some(c) = compile(Some(expr)) {
            match level {
                Some(level) => severity_when.push((level, c)),
                None => bad_levels.push(at.at(
                    span.start,
                    format!(
                        "[rule.severity_when] key {name:?} is not one of info, warning, critical"
                    ),
                )),
            }
        }
    }
    problems.extend(bad_levels);
    crate::sort::sort_by_key(&mut severity_when, |(level, _)| std::cmp::Reverse(*level));
    if depth == Depth::Checked {
        for (name, _, start) in &let_sources {
            if !used.contains(name) {
                problems.push(at.at(
                    *start,
                    format!("let `{name}` is not used by any condition of this rule"),
                ));
            }
        }
    }

    let kind = if raw.explains.is_empty() {
        RuleKind::Finding
    } else {
        RuleKind::Cause
    };
    if kind == RuleKind::Finding && log.is_none() && when.is_none() && problems.is_empty() {
        problems.push(at.at(
            id_span.start,
            format!("rule {id:?} has no trigger: give it [rule.log] or `when`"),
        ));
    }
    let confidence = match raw.confidence {
        Some(c) if !(0.0..=1.0).contains(c.get_ref()) => {
            problems.push(at.at(c.span().start, "confidence must be between 0.0 and 1.0"));
            0.5
        }
        Some(c) => *c.get_ref(),
        None => 0.5,
    };

    let summary_span = raw.summary.span();
    let summary = raw.summary.into_inner();
    let mut known: BTreeSet<String> = ["count", "first", "last", "boots"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(regex) = log.as_ref().and_then(|l| l.regex.get()) {
        for name in regex.capture_names().flatten() {
            known.insert(name.to_string());
            known.insert(format!("sum_{name}"));
        }
    }
    known.extend(fields.iter().map(|(n, _)| n.clone()));
    for name in template_names(&summary) {
        // Built-in: the capture names are unknown until the pattern
        // compiles; the tests check these summaries (`Depth::Checked`).
        if !known.contains(&name) && depth == Depth::Checked {
            problems.push(at.at(
                at.content_start(summary_span.clone()),
                format!(
                    "summary uses {{{name}}}, which is not a field of this rule (known: {})",
                    known.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }

    let mut cases = Vec::new();
    for case in raw.cases {
        let fires = match case.expect.get_ref().as_str() {
            "fires" => true,
            "quiet" => false,
            other => {
                problems.push(at.at(
                    at.content_start(case.expect.span()),
                    format!("expect = {other:?}: use \"fires\" or \"quiet\""),
                ));
                continue;
            }
        };
        let mut inputs = BTreeMap::new();
        for (name, input) in case.inputs {
            let start = input.span().start;
            match input.into_inner() {
                RawInput::Text(text) => {
                    inputs.insert(name, text.into_bytes());
                }
                RawInput::File(file) => match case_files.read(&file) {
                    Ok(bytes) => {
                        inputs.insert(name, bytes);
                    }
                    Err(message) => problems.push(at.at(start, message)),
                },
            }
        }
        cases.push(RuleCase {
            name: case.name,
            fires,
            inputs,
        });
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    let explains = raw.explains.into_iter().map(Spanned::into_inner).collect();
    Ok(Rule {
        line: at.line(id_span.start),
        file: at.file.to_string(),
        id,
        title: raw.title,
        severity,
        summary,
        next_steps: raw.next_steps,
        kind,
        log,
        let_conditions: let_sources
            .iter()
            .zip(&lets)
            .map(|((name, source, _), (_, expanded))| {
                (
                    name.clone(),
                    check::deferred(source.clone(), expanded.clone()),
                )
            })
            .collect(),
        lets: let_sources
            .into_iter()
            .map(|(name, source, _)| (name, source))
            .collect(),
        when,
        needs,
        unless,
        evidence,
        fields,
        severity_when,
        explains,
        confidence,
        ruled_out: raw.ruled_out,
        cases,
        builtin: false,
    })
}

/// Cross-rule checks (unknown `explains` targets and finding references,
/// cycles, missing cases), then orders the rules so that every rule comes
/// after the findings it refers to.
///
/// The first `trusted` of `rules` are built-in rules loaded without their
/// cases (`Depth::Builtin`): they need no cases here.
fn finish(parsed: Parsed, external: &BTreeSet<String>, trusted: usize) -> Result<RuleSet> {
    let Parsed {
        rules,
        states,
        mut problems,
    } = parsed;
    let ids: BTreeSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let known = |id: &str| ids.contains(id) || external.contains(id);
    let at = |rule: &Rule, message: String| RuleProblem {
        file: rule.file.clone(),
        line: rule.line,
        col: 1,
        message,
        warning: false,
    };
    for (index, rule) in rules.iter().enumerate() {
        for target in &rule.explains {
            if !known(target) {
                problems.push(at(
                    rule,
                    format!("rule {:?} explains unknown finding {target:?}", rule.id),
                ));
            }
        }
        for referred in dependencies(rule) {
            if !known(&referred) {
                problems.push(at(
                    rule,
                    format!("rule {:?} refers to unknown finding {referred:?}", rule.id),
                ));
            }
        }
        if index >= trusted
            && (!rule.cases.iter().any(|c| c.fires) || !rule.cases.iter().any(|c| !c.fires))
        {
            problems.push(at(
                rule,
                format!(
                    "rule {:?} needs at least one case that fires and one that stays quiet",
                    rule.id
                ),
            ));
        }
    }
    for state in &states {
        if ids.contains(state.id.as_str()) {
            problems.push(RuleProblem {
                file: state.file.clone(),
                line: state.line,
                col: 1,
                message: format!(
                    "state id {:?} is also a rule's id: give the state its own",
                    state.id
                ),
                warning: false,
            });
        }
    }
    // Topological order over references between rules.
    let mut ordered: Vec<Rule> = Vec::with_capacity(rules.len());
    let mut pending = rules;
    while !pending.is_empty() {
        let placed: BTreeSet<String> = ordered.iter().map(|r| r.id.clone()).collect();
        let pending_ids: BTreeSet<String> = pending.iter().map(|r| r.id.clone()).collect();
        let (ready, rest): (Vec<Rule>, Vec<Rule>) = pending.into_iter().partition(|rule| {
            dependencies(rule)
                .iter()
                .all(|d| placed.contains(d) || !pending_ids.contains(d) || d == &rule.id)
        });
        if ready.is_empty() {
            for rule in &rest {
                problems.push(at(
                    rule,
                    format!("rule {:?} is part of a reference cycle", rule.id),
                ));
            }
            break;
        }
        ordered.extend(ready);
        pending = rest;
    }
    if !problems.is_empty() {
        return Err(Error::Rules(problems));
    }
    let set = RuleSet {
        rules: ordered,
        log_set: std::sync::OnceLock::new(),
        prefilter: std::sync::OnceLock::new(),
        states,
        state_set: std::sync::OnceLock::new(),
    };
    if set.states.iter().any(|s| !s.builtin) {
        let built = state::set(&set.states).map_err(|err| {
            Error::Rules(vec![RuleProblem {
                file: "<rule set>".into(),
                line: 1,
                col: 1,
                message: format!("state patterns do not combine: {err}"),
                warning: false,
            }])
        })?;
        let _ = set.state_set.set(built);
    }
    Ok(set)
}

/// Every built-in log pattern of `rules` in one byte-level set, with the
/// index of the rule owning each; `None` when no built-in rule has a
/// pattern. A user pattern is matched alone, under a time budget: one
/// pattern whose DFA does not fit its cache (`(?:a|b)*a(?:a|b){200}c`)
/// would slow the whole set down, every built-in pattern with it.
fn log_set(rules: &[Rule]) -> Result<Option<LogSet>> {
    let (patterns, owners) = log_patterns(rules);
    if patterns.is_empty() {
        return Ok(None);
    }
    // The lazy DFA behind a set of ~100 patterns needs more cache than
    // the default 2 MiB on varied logs; without it the set thrashes its
    // cache and falls back to a matcher ~100x slower.
    let set = regex::bytes::RegexSetBuilder::new(&patterns)
        .unicode(false)
        .dfa_size_limit(LOG_SET_DFA_CACHE)
        .size_limit(LOG_SET_SIZE_LIMIT)
        .build()
        .map_err(|err| {
            Error::Rules(vec![RuleProblem {
                file: "<rule set>".into(),
                line: 1,
                col: 1,
                message: format!("log patterns do not combine: {err}"),
                warning: false,
            }])
        })?;
    Ok(Some((set, owners)))
}

/// Every built-in log pattern of `rules`, with the index of the rule
/// owning each: the prefilter's first patterns, in its order.
pub(crate) fn log_patterns(rules: &[Rule]) -> (Vec<&str>, Vec<usize>) {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.builtin)
        .filter_map(|(i, r)| r.log.as_ref().map(|l| (l.pattern.as_str(), i)))
        .unzip()
}

/// The finding ids a rule must be evaluated after.
fn dependencies(rule: &Rule) -> Vec<String> {
    let mut deps: Vec<String> = rule.explains.clone();
    for c in [&rule.when, &rule.needs, &rule.unless, &rule.evidence]
        .into_iter()
        .flatten()
    {
        deps.extend(c.refers_to.iter().cloned());
    }
    let conditions = rule.fields.iter().map(|(_, c)| c);
    for c in conditions.chain(rule.severity_when.iter().map(|(_, c)| c)) {
        deps.extend(c.refers_to.iter().cloned());
    }
    crate::sort::sort(&mut deps);
    deps.dedup();
    deps
}

fn valid_id(id: &str) -> bool {
    id.contains('.')
        && !id.starts_with('.')
        && !id.ends_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

/// A rule's log pattern (or its `exclude`) at `start` in its file:
/// compiled now at `Checked` depth (a problem is reported at its column),
/// on first use for the built-in rules.
fn compile_log_pattern(
    pattern: &str,
    start: usize,
    depth: Depth,
    at: &Locator<'_>,
    problems: &mut Vec<RuleProblem>,
) -> Option<std::sync::OnceLock<Regex>> {
    let compiled = match depth {
        Depth::Checked => compile_pattern(pattern).map(Some),
        Depth::Builtin => Ok(None),
    };
    match compiled {
        Ok(None) => Some(std::sync::OnceLock::new()),
        Ok(Some(regex)) => Some(std::sync::OnceLock::from(regex)),
        Err(err) => {
            let offset = regex_error_offset(pattern).unwrap_or(0);
            let first = err
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string();
            let message = match err {
                regex::Error::CompiledTooBig(limit) => format!(
                    "pattern over the size limit: compiled, it exceeds {} KiB (prefer \
                     ASCII classes such as [A-Za-z0-9_] or (?-u:\\w) to Unicode \\w, \
                     and smaller counted repetitions)",
                    limit >> 10
                ),
                _ => format!("regex does not compile: {first}"),
            };
            problems.push(at.at(start + offset, message));
            None
        }
    }
}

fn regex_error_offset(pattern: &str) -> Option<usize> {
    match regex_syntax::ast::parse::Parser::new().parse(pattern) {
        Err(err) => Some(err.span().start.offset),
        Ok(_) => None,
    }
}

/// The `{name}` placeholders of a template (`{{` is a literal brace).
pub(crate) fn template_names(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if rest[open..].starts_with("{{") {
            rest = &rest[open + 2..];
            continue;
        }
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let inner = &rest[open + 1..open + close];
        let name = inner.split_once('|').map_or(inner, |(name, _)| name);
        names.push(name.trim().to_string());
        rest = &rest[open + close + 1..];
    }
    names
}

/// Fills a template's `{name}` placeholders from `fields`; `{name|text}`
/// gives `text` when the field is empty or absent; an unknown name without
/// a fallback is left as written.
pub(crate) fn render_template(template: &str, fields: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            out.push('}');
            rest = after;
            continue;
        }
        match tail.find('}') {
            Some(close) => {
                // `{name}`, or `{name|text}`: `text` when the field is
                // empty (a capture that took no part in the match).
                let inner = &tail[1..close];
                let (name, fallback) = match inner.split_once('|') {
                    Some((name, fallback)) => (name.trim(), Some(fallback)),
                    None => (inner.trim(), None),
                };
                match (fields.get(name), fallback) {
                    (Some(value), Some(fallback)) if value.is_empty() => out.push_str(fallback),
                    (Some(value), _) => out.push_str(value),
                    (None, Some(fallback)) => out.push_str(fallback),
                    (None, None) => out.push_str(&tail[..=close]),
                }
                rest = &tail[close + 1..];
            }
            None => {
                out.push_str(tail);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod fingerprint_tests {
    use super::RuleSet;

    fn set(host: &str) -> RuleSet {
        let text = format!(
            r#"[[rule]]
id = "x.y"
title = "t"
severity = "warning"
summary = "s"
when = "facts.host.hostname == '{host}'"
[[rule.case]]
name = "fires"
expect = "fires"
inputs = {{ "proc/sys/kernel/hostname" = "{host}" }}
[[rule.case]]
name = "quiet"
expect = "quiet"
inputs = {{ "proc/sys/kernel/hostname" = "other" }}
"#
        );
        RuleSet::from_files(&[("x.toml".into(), text)]).expect("valid rule")
    }

    #[test]
    fn fingerprint_changes_with_a_condition() {
        assert_eq!(set("a").fingerprint(), set("a").fingerprint());
        assert_ne!(set("a").fingerprint(), set("b").fingerprint());
    }
}
