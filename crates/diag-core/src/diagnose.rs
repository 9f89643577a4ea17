//! Diagnose: evaluate rules over facts into a ranked [`Diagnosis`].
//!
//! 1. Log rules: one pass over the kernel log with a `RegexSet` of every
//!    rule's pattern; the per-rule regex runs only on the lines that
//!    matched, to take captures.
//! 2. Condition rules, in dependency order: a rule sees the findings of
//!    every rule it refers to. A finding fires when its log pattern reached
//!    its threshold or its `when` holds.
//! 3. Causes: a cause fires when its `when` holds; when it does not but a
//!    finding it explains is present, it is *ruled out* with its reason.
//!    Causes are ranked by confidence (see `docs/rules.md`).

use crate::diagnosis::{
    Cause, Diagnosis, Finding, ProbeTargets, RuledOut, SourceDescription, SCHEMA,
};
use crate::model::{Evidence, Note, Severity};
use crate::parse::kernel_log::LogEntry;
use crate::parse::Facts;
use crate::rules::{render_template, BootFilter, Condition, LogPattern, Rule, RuleKind, RuleSet};
use crate::snapshot::Snapshot;
use cel::objects::{Key, Map};
use cel::{Context, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

/// Evidence items kept per finding: the first and last half of this many.
const EVIDENCE_MAX: usize = 20;
/// Notes kept in a diagnosis; the rest are counted in a final note.
const NOTES_MAX: usize = 200;

/// Parses and diagnoses a snapshot.
pub fn diagnose(snapshot: &Snapshot, rules: &RuleSet) -> Diagnosis {
    diagnose_with_facts(snapshot, rules).0
}

/// Parses and diagnoses a snapshot, and hands back the facts too, for a
/// presenter that shows them (the reports' timeline and tables).
pub fn diagnose_with_facts(snapshot: &Snapshot, rules: &RuleSet) -> (Diagnosis, Facts) {
    let (facts, notes) = Facts::from_snapshot(snapshot);
    diagnose_parsed(snapshot, facts, notes, rules)
}

/// Diagnoses facts already parsed from `snapshot` by
/// [`Facts::from_snapshot`] (with its notes): for a caller that parses on
/// one thread while the rules are still being compiled on another.
pub fn diagnose_parsed(
    snapshot: &Snapshot,
    facts: Facts,
    mut notes: Vec<Note>,
    rules: &RuleSet,
) -> (Diagnosis, Facts) {
    let evaluation = evaluate(&facts, rules);
    notes.extend(evaluation.notes);
    if notes.len() > NOTES_MAX {
        let extra = notes.len() - NOTES_MAX;
        notes.truncate(NOTES_MAX);
        notes.push(Note {
            input: "diag".into(),
            line: None,
            message: format!("{extra} more notes not shown"),
        });
    }
    let diagnosis = Diagnosis {
        schema: SCHEMA.into(),
        generated_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        source: SourceDescription {
            kind: snapshot.source.kind,
            path: snapshot.source.path.clone(),
            host: snapshot.host(),
            kernel: snapshot.kernel(),
        },
        causes: evaluation.causes,
        findings: evaluation.findings,
        ruled_out: evaluation.ruled_out,
        skipped: snapshot.skipped.clone(),
        notes,
        targets: ProbeTargets::from_facts(&facts),
    };
    (diagnosis, facts)
}

/// What the rules made of a set of facts.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Causes, ranked.
    pub causes: Vec<Cause>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Causes ruled out.
    pub ruled_out: Vec<RuledOut>,
    /// Rules that could not be evaluated, and why.
    pub notes: Vec<Note>,
}

/// A fired rule before it becomes a [`Finding`] or [`Cause`].
struct Fired {
    count: usize,
    fields: BTreeMap<String, String>,
    evidence: Vec<Evidence>,
    omitted: usize,
}

/// Evaluates every rule over `facts`.
pub fn evaluate(facts: &Facts, rules: &RuleSet) -> Evaluation {
    let mut out = Evaluation::default();
    let log_hits = match_log(&facts.kernel_log.entries, rules);
    // `facts` is bound once: binding converts the whole tree into the
    // interpreter's values, which for 10,000 probe results took longer than
    // evaluating every rule. Each rule gets a child scope with `findings`.
    let mut root = Context::default();
    add_functions(&mut root);
    root.add_variable_from_value(
        "facts",
        to_cel(&serde_json::to_value(facts).unwrap_or(serde_json::Value::Null)),
    );
    let mut fired_map: HashMap<Key, Value> = HashMap::new();
    let mut unchecked: HashSet<&str> = HashSet::new();

    for (index, rule) in rules.rules().iter().enumerate() {
        let mut context = root.new_inner_scope();
        context.add_variable_from_value(
            "findings",
            Value::Map(Map {
                map: Arc::new(fired_map.clone()),
            }),
        );
        let eval = Evaluator {
            rule,
            context: &context,
        };
        if let Some(needs) = &rule.needs {
            match eval.truth(needs) {
                Ok(true) => {}
                Ok(false) => {
                    unchecked.insert(rule.id.as_str());
                    continue;
                }
                Err(note) => {
                    out.notes.push(note);
                    continue;
                }
            }
        }
        let log_fired = rule
            .log
            .as_ref()
            .and_then(|pattern| fire_log(pattern, &facts.kernel_log.entries, &log_hits[index]));
        let explained: Vec<String> = rule
            .explains
            .iter()
            .filter(|id| fired_map.contains_key(&Key::String(Arc::new((*id).clone()))))
            .cloned()
            .collect();
        let when = match &rule.when {
            Some(condition) => match eval.truth(condition) {
                Ok(value) => Some(value),
                Err(note) => {
                    out.notes.push(note);
                    continue;
                }
            },
            None => None,
        };
        let condition_holds = match (rule.kind, when) {
            (_, Some(value)) => value,
            // A cause with neither `when` nor a log pattern holds when a
            // finding it explains is present; with a log pattern, the
            // pattern is its trigger.
            (RuleKind::Cause, None) => rule.log.is_none() && !explained.is_empty(),
            (RuleKind::Finding, None) => false,
        };
        let suppressed = match &rule.unless {
            Some(condition) if log_fired.is_some() || condition_holds => {
                match eval.truth(condition) {
                    Ok(value) => value,
                    Err(note) => {
                        out.notes.push(note);
                        false
                    }
                }
            }
            _ => false,
        };
        if suppressed {
            continue;
        }
        if log_fired.is_none() && !condition_holds {
            if rule.kind == RuleKind::Cause && !explained.is_empty() {
                // The rule's own fields (measured values) are there too, so
                // the reason can say what was measured; one that cannot be
                // evaluated is left out.
                let mut fields: BTreeMap<String, String> = rule
                    .fields
                    .iter()
                    .filter_map(|(name, expr)| {
                        eval.value(expr).ok().map(|v| (name.clone(), display(&v)))
                    })
                    .collect();
                fields.insert("explains".to_string(), explained.join(", "));
                let reason = match &rule.ruled_out {
                    Some(template) => render_template(template, &fields),
                    None => format!(
                        "{} present, but the condition `{}` does not hold",
                        explained.join(", "),
                        rule.when.as_ref().map_or("", |c| c.source.as_str())
                    ),
                };
                out.ruled_out.push(RuledOut {
                    id: rule.id.clone(),
                    title: rule.title.clone(),
                    reason,
                });
            }
            continue;
        }

        let mut fired = log_fired.unwrap_or(Fired {
            count: 0,
            fields: BTreeMap::new(),
            evidence: Vec::new(),
            omitted: 0,
        });
        if condition_holds {
            if let Some(expr) = &rule.evidence {
                match eval.evidence(expr) {
                    Ok(items) => {
                        fired.count += items.len();
                        fired.evidence.extend(items);
                    }
                    Err(note) => out.notes.push(note),
                }
            }
            fired.count = fired.count.max(1);
        }
        fired.fields.insert("count".into(), fired.count.to_string());
        for (name, expr) in &rule.fields {
            match eval.value(expr) {
                Ok(value) => {
                    fired.fields.insert(name.clone(), display(&value));
                }
                Err(note) => out.notes.push(note),
            }
        }
        if fired.evidence.len() > EVIDENCE_MAX {
            let half = EVIDENCE_MAX / 2;
            let extra = fired.evidence.len() - EVIDENCE_MAX;
            fired.evidence.drain(half..half + extra);
            fired.omitted += extra;
        }
        let mut severity = rule.severity;
        for (level, condition) in &rule.severity_when {
            match eval.truth(condition) {
                Ok(true) => {
                    severity = *level;
                    break;
                }
                Ok(false) => {}
                Err(note) => out.notes.push(note),
            }
        }
        let summary = render_template(&rule.summary, &fired.fields);
        fired_map.insert(
            Key::String(Arc::new(rule.id.clone())),
            finding_value(rule, severity, &summary, &fired),
        );
        match rule.kind {
            RuleKind::Finding => out.findings.push(Finding {
                id: rule.id.clone(),
                title: rule.title.clone(),
                severity,
                summary,
                count: fired.count,
                evidence: fired.evidence,
                evidence_omitted: fired.omitted,
                next_steps: rule.next_steps.clone(),
            }),
            RuleKind::Cause => out.causes.push(Cause {
                id: rule.id.clone(),
                title: rule.title.clone(),
                severity,
                confidence: confidence(
                    rule,
                    explained.len(),
                    rule.explains
                        .iter()
                        .filter(|id| !unchecked.contains(id.as_str()))
                        .count(),
                ),
                summary,
                explains: explained,
                evidence: fired.evidence,
                evidence_omitted: fired.omitted,
                next_steps: rule.next_steps.clone(),
            }),
        }
    }
    out.causes.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(b.severity.cmp(&a.severity))
            .then(a.id.cmp(&b.id))
    });
    out.findings
        .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
    out
}

/// The confidence model (docs/rules.md): a cause whose condition holds
/// starts at half its rule's confidence; each explained finding present
/// adds an equal share of the other half.
///
/// `checkable` is how many of the explained findings could be checked on
/// this input (their rule's `needs` held): a finding about a table the
/// snapshot does not have is unknown, not absent, and does not count
/// against the cause.
pub fn confidence(rule: &Rule, explained_present: usize, checkable: usize) -> f64 {
    let total = checkable.min(rule.explains.len()).max(1);
    let support = explained_present.min(total) as f64 / total as f64;
    let value = rule.confidence * (0.5 + 0.5 * support);
    (value * 1000.0).round() / 1000.0
}

/// For each rule (by index), the indices of log entries its pattern matches.
///
/// One pass of the ASCII byte-level `RegexSet` of every pattern finds the
/// candidate lines (see `RuleSet::log_set`); each candidate is confirmed
/// with the rule's own (Unicode) regex, so a rule matches exactly what its
/// pattern says.
fn match_log(entries: &[LogEntry], rules: &RuleSet) -> Vec<Vec<usize>> {
    let mut hits = vec![Vec::new(); rules.rules().len()];
    // Without a log the set is not built (built-in patterns compile on
    // first use).
    if entries.is_empty() {
        return hits;
    }
    let Some((set, owners)) = rules.log_set() else {
        return hits;
    };
    for (i, entry) in entries.iter().enumerate() {
        let bytes = entry.message.as_bytes();
        // Most lines match nothing: the cheap test first.
        if !set.is_match(bytes) {
            continue;
        }
        for slot in set.matches(bytes).iter() {
            let owner = owners[slot];
            let confirmed = rules.rules()[owner]
                .log
                .as_ref()
                .is_some_and(|log| log.regex().is_match(&entry.message));
            if confirmed {
                hits[owner].push(i);
            }
        }
    }
    hits
}

/// Checks a log pattern's threshold and window over its matching entries.
fn fire_log(pattern: &LogPattern, entries: &[LogEntry], hits: &[usize]) -> Option<Fired> {
    let kept: Vec<usize>;
    let hits = if pattern.boot == BootFilter::Any {
        hits
    } else {
        kept = hits
            .iter()
            .copied()
            .filter(|&i| pattern.boot.admits(entries[i].boot))
            .collect();
        &kept
    };
    if hits.len() < pattern.threshold {
        return None;
    }
    if let Some(window) = pattern.window {
        let micros = u64::try_from(window.as_micros()).unwrap_or(u64::MAX);
        // Kernel time restarts at every boot: each boot is windowed alone.
        let mut by_boot: BTreeMap<i32, Vec<&LogEntry>> = BTreeMap::new();
        for &i in hits {
            by_boot
                .entry(entries[i].boot)
                .or_default()
                .push(&entries[i]);
        }
        let reached = by_boot.values().any(|boot| {
            // Kernel time where every line has it, else wall-clock time
            // (dmesg -T, syslog) where every line has that.
            let kernel: Option<Vec<u64>> = boot.iter().map(|e| e.time_us).collect();
            let wall = || -> Option<Vec<u64>> {
                boot.iter()
                    .map(|e| e.wall_us.and_then(|w| u64::try_from(w).ok()))
                    .collect()
            };
            let Some(mut times) = kernel.or_else(wall) else {
                // Lines without timestamps: the window cannot be checked,
                // the count in this boot decides.
                return boot.len() >= pattern.threshold;
            };
            times.sort_unstable();
            let mut start = 0;
            (0..times.len()).any(|end| {
                while times[end] - times[start] > micros {
                    start += 1;
                }
                end - start + 1 >= pattern.threshold
            })
        });
        if !reached {
            return None;
        }
    }
    let mut fields = BTreeMap::new();
    let names: Vec<&str> = pattern.regex().capture_names().flatten().collect();
    let mut distinct: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    let mut sums: Vec<Option<u64>> = vec![None; names.len()];
    for &i in hits {
        let Some(caps) = pattern.regex().captures(&entries[i].message) else {
            continue;
        };
        for (slot, name) in names.iter().enumerate() {
            if let Some(m) = caps.name(name) {
                let value = m.as_str();
                if let Ok(n) = value.parse::<u64>() {
                    sums[slot] = Some(sums[slot].unwrap_or(0).saturating_add(n));
                }
                if distinct[slot].len() < 6 && !distinct[slot].iter().any(|v| v == value) {
                    distinct[slot].push(value.to_string());
                }
            }
        }
    }
    for (slot, name) in names.iter().enumerate() {
        let mut values = distinct[slot].clone();
        if values.len() > 5 {
            values.truncate(5);
            values.push("…".into());
        }
        fields.insert(name.to_string(), values.join(", "));
        if let Some(sum) = sums[slot] {
            fields.insert(format!("sum_{name}"), sum.to_string());
        }
    }
    let position = |entry: &LogEntry| {
        let wall = entry
            .wall_us
            .and_then(|w| jiff::Timestamp::from_microsecond(w).ok())
            .map(|w| format!("{}", w.strftime("%Y-%m-%d %H:%M:%S UTC")));
        match (wall, entry.time_us) {
            (Some(wall), Some(t)) => format!(
                "{wall} ({}.{:06}s after boot)",
                t / 1_000_000,
                t % 1_000_000
            ),
            (Some(wall), None) => wall,
            (None, Some(t)) => format!("{}.{:06}s after boot", t / 1_000_000, t % 1_000_000),
            (None, None) => format!("{} line {}", entry.input, entry.line),
        }
    };
    let mut boots: Vec<i32> = hits.iter().map(|&i| entries[i].boot).collect();
    boots.sort_unstable_by(|a, b| b.cmp(a));
    boots.dedup();
    let words: Vec<String> = boots
        .iter()
        .map(|&b| match b {
            0 => "in this boot".to_string(),
            -1 => "in the previous boot".to_string(),
            b => format!("{} boots ago", -b),
        })
        .collect();
    fields.insert("boots".into(), words.join(", "));
    if let (Some(&first), Some(&last)) = (hits.first(), hits.last()) {
        fields.insert("first".into(), position(&entries[first]));
        fields.insert("last".into(), position(&entries[last]));
    }
    let mut evidence = Vec::with_capacity(hits.len());
    let mut last_block = None;
    for &i in hits {
        let entry = &entries[i];
        match entry.block {
            // Several matches inside one event are one piece of evidence.
            Some(block) if last_block == Some(block) => {}
            Some((start, end)) => {
                last_block = entry.block;
                evidence.push(block_evidence(entries, start as usize, end as usize));
            }
            None => evidence.push(Evidence {
                input: entry.input.to_string(),
                line: Some(entry.line),
                line_end: None,
                excerpt: clip(&entry.raw),
            }),
        }
    }
    Some(Fired {
        count: hits.len(),
        fields,
        evidence,
        omitted: 0,
    })
}

/// Longest raw line kept in evidence, in bytes.
const EXCERPT_MAX: usize = 2048;

/// A raw line for evidence: cut (on a character boundary) when very long.
fn clip(raw: &str) -> String {
    if raw.len() <= EXCERPT_MAX {
        return raw.to_string();
    }
    let mut end = EXCERPT_MAX;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} more bytes)", &raw[..end], raw.len() - end)
}

/// Lines of a multi-line event kept in one evidence excerpt.
const BLOCK_EXCERPT_LINES: usize = 60;

fn block_evidence(entries: &[LogEntry], start: usize, end: usize) -> Evidence {
    let end = end.min(entries.len().saturating_sub(1));
    let lines: Vec<&str> = entries[start..=end]
        .iter()
        .map(|e| e.raw.as_str())
        .collect();
    let mut excerpt = lines
        .iter()
        .take(BLOCK_EXCERPT_LINES)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    if lines.len() > BLOCK_EXCERPT_LINES {
        excerpt.push_str(&format!(
            "\n... {} more lines",
            lines.len() - BLOCK_EXCERPT_LINES
        ));
    }
    Evidence {
        input: entries[start].input.to_string(),
        line: Some(entries[start].line),
        line_end: Some(entries[end].line),
        excerpt,
    }
}

struct Evaluator<'a> {
    rule: &'a Rule,
    context: &'a Context<'a, 'a>,
}

impl Evaluator<'_> {
    fn note(&self, condition: &Condition, message: String) -> Note {
        Note {
            input: format!("rule:{}", self.rule.id),
            line: None,
            message: format!("`{}`: {message}", condition.source),
        }
    }

    fn value(&self, condition: &Condition) -> Result<Value, Note> {
        condition
            .program()
            .execute(self.context)
            .map_err(|err| self.note(condition, format!("evaluation failed: {err}")))
    }

    fn truth(&self, condition: &Condition) -> Result<bool, Note> {
        match self.value(condition)? {
            Value::Bool(b) => Ok(b),
            other => Err(self.note(
                condition,
                format!("gave {}, not true or false", display(&other)),
            )),
        }
    }

    fn evidence(&self, condition: &Condition) -> Result<Vec<Evidence>, Note> {
        let items = match self.value(condition)? {
            Value::List(items) => items.iter().cloned().collect(),
            Value::Map(map) => vec![Value::Map(map)],
            other => {
                return Err(self.note(
                    condition,
                    format!("gave {}, not a list of records", display(&other)),
                ))
            }
        };
        let mut evidence = Vec::new();
        for item in items {
            let Value::Map(map) = item else {
                return Err(self.note(condition, "evidence items must be fact records".into()));
            };
            let get = |key: &str| map.map.get(&Key::String(Arc::new(key.to_string())));
            let input = get("input").map(display);
            let excerpt = get("excerpt").map(display);
            let (Some(input), Some(excerpt)) = (input, excerpt) else {
                return Err(self.note(
                    condition,
                    "evidence records need `input` and `excerpt`".into(),
                ));
            };
            let line = match get("line") {
                Some(Value::Int(n)) => u32::try_from(*n).ok().filter(|&n| n > 0),
                _ => None,
            };
            evidence.push(Evidence {
                input,
                line,
                line_end: None,
                excerpt,
            });
        }
        Ok(evidence)
    }
}

fn finding_value(rule: &Rule, severity: Severity, summary: &str, fired: &Fired) -> Value {
    let mut map: HashMap<Key, Value> = HashMap::new();
    let key = |k: &str| Key::String(Arc::new(k.to_string()));
    map.insert(
        key("severity"),
        Value::String(Arc::new(severity.as_str().into())),
    );
    map.insert(key("title"), Value::String(Arc::new(rule.title.clone())));
    map.insert(key("summary"), Value::String(Arc::new(summary.into())));
    map.insert(
        key("count"),
        Value::Int(i64::try_from(fired.count).unwrap_or(i64::MAX)),
    );
    let fields: HashMap<Key, Value> = fired
        .fields
        .iter()
        .map(|(k, v)| (key(k), Value::String(Arc::new(v.clone()))))
        .collect();
    map.insert(
        key("fields"),
        Value::Map(Map {
            map: Arc::new(fields),
        }),
    );
    Value::Map(Map { map: Arc::new(map) })
}

/// Converts JSON to a CEL value. Whole numbers become `int` (not `uint`), so
/// rule authors can write `facts.neigh.gc_thresh3 - 1` without suffixes.
pub(crate) fn to_cel(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Int(i),
            (None, Some(u), _) => Value::UInt(u),
            (_, _, Some(f)) => Value::Float(f),
            _ => Value::Null,
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(to_cel).collect()))
        }
        serde_json::Value::Object(map) => Value::Map(Map {
            map: Arc::new(
                map.iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                    .collect(),
            ),
        }),
    }
}

/// Functions rule conditions may use besides CEL's standard ones:
/// `list.join(sep)` joins the elements as text (what a template shows).
pub(crate) fn add_functions(context: &mut Context<'_, '_>) {
    // The name is not one of CEL's own, so this cannot conflict.
    let _ = context.add_function(
        "join",
        |cel::extractors::This(list): cel::extractors::This<Arc<Vec<Value>>>, sep: Arc<String>| {
            list.iter()
                .map(display)
                .collect::<Vec<_>>()
                .join(sep.as_str())
        },
    );
}

/// A CEL value as text for a message template.
fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => format!("{f}"),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::List(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        other => format!("{other:?}"),
    }
}

/// The outcome of one rule fixture case.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The rule.
    pub rule: String,
    /// The case's name.
    pub case: String,
    /// Whether the rule had to fire.
    pub expected_fire: bool,
    /// Whether it fired.
    pub fired: bool,
    /// Conditions of any rule that failed to evaluate on the case's input
    /// (a type error, a missing key): a case with one does not pass.
    pub rule_errors: Vec<String>,
    /// Rule file and line, for the report.
    pub location: String,
}

impl CaseOutcome {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.expected_fire == self.fired && self.rule_errors.is_empty()
    }
}

/// Runs every fixture case of every rule through the whole pipeline
/// (snapshot from the case's inputs → parse → all rules).
pub fn test_rules(rules: &RuleSet) -> Vec<CaseOutcome> {
    let mut outcomes = Vec::new();
    for rule in rules.rules() {
        for case in &rule.cases {
            let snapshot = Snapshot::from_inputs(case.inputs.clone());
            let diagnosis = diagnose(&snapshot, rules);
            outcomes.push(CaseOutcome {
                rule: rule.id.clone(),
                case: case.name.clone(),
                expected_fire: case.fires,
                fired: diagnosis.has(&rule.id),
                rule_errors: diagnosis
                    .notes
                    .iter()
                    .filter(|n| n.input.starts_with("rule:"))
                    .map(|n| format!("{}: {}", n.input, n.message))
                    .collect(),
                location: format!("{}:{}", rule.file, rule.line),
            });
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::tests::CASES;

    fn burst_rules() -> RuleSet {
        let text = [
            r#"
[[rule]]
id = "test.burst"
title = "burst"
severity = "warning"
summary = "{count} errors on {dev}, {first} to {last}"
[rule.log]
pattern = 'I/O error, dev (?P<dev>\w+)'
threshold = 3
window = "10s"
"#,
            CASES,
        ]
        .concat();
        RuleSet::from_files(&[("t.toml".into(), text)]).expect("rules")
    }

    fn kmsg(times: &[u64]) -> Snapshot {
        let text: String = times
            .iter()
            .enumerate()
            .map(|(i, t)| {
                format!("3,{i},{t},-;blk_update_request: I/O error, dev sda, sector {i}\n")
            })
            .collect();
        Snapshot::from_inputs([("dev/kmsg", text)])
    }

    #[test]
    fn threshold_within_window() {
        let rules = burst_rules();
        // Three errors within 5 s: fires.
        let d = diagnose(&kmsg(&[1_000_000, 3_000_000, 6_000_000]), &rules);
        let f = d.findings.first().expect("fires");
        assert_eq!(
            f.summary,
            "3 errors on sda, 1.000000s after boot to 6.000000s after boot"
        );
        assert_eq!(f.evidence.len(), 3);
        assert_eq!(d.exit_code(), 1);
        // Three errors spread over a minute: no window holds three.
        let d = diagnose(&kmsg(&[1_000_000, 30_000_000, 60_000_000]), &rules);
        assert!(d.findings.is_empty());
        // Two errors: below the threshold whatever the time.
        let d = diagnose(&kmsg(&[1_000_000, 1_000_001]), &rules);
        assert!(d.findings.is_empty());
    }

    #[test]
    fn evidence_is_capped_and_counted() {
        let rules = burst_rules();
        let times: Vec<u64> = (0..50).map(|i| 1_000_000 + i).collect();
        let d = diagnose(&kmsg(&times), &rules);
        let f = d.findings.first().expect("fires");
        assert_eq!(f.count, 50);
        assert_eq!(f.evidence.len(), EVIDENCE_MAX);
        assert_eq!(f.evidence_omitted, 30);
        // The first and the last lines are both kept.
        assert_eq!(f.evidence.first().and_then(|e| e.line), Some(1));
        assert_eq!(f.evidence.last().and_then(|e| e.line), Some(50));
    }

    #[test]
    fn unless_suppresses_and_a_cause_with_a_pattern_needs_its_pattern() {
        let text = [
            r#"
[[rule]]
id = "t.specific"
title = "specific"
severity = "critical"
summary = "s"
[rule.log]
pattern = 'Killed process'
"#,
            CASES,
            r#"
[[rule]]
id = "t.generic"
title = "generic"
severity = "warning"
summary = "g"
unless = "'t.specific' in findings"
[rule.log]
pattern = 'Mem-Info'
"#,
            CASES,
            r#"
[[rule]]
id = "t.cgroup"
title = "cgroup"
severity = "critical"
summary = "c"
explains = ["t.specific"]
ruled_out = "host-wide"
[rule.log]
pattern = 'Memory cgroup out of memory'
"#,
            CASES,
        ]
        .concat();
        let rules = RuleSet::from_files(&[("t.toml".into(), text)]).expect("rules");
        let run = |lines: &[&str]| {
            let kmsg: String = lines
                .iter()
                .enumerate()
                .map(|(i, l)| format!("3,{i},{i}000,-;{l}\n"))
                .collect();
            diagnose(&Snapshot::from_inputs([("dev/kmsg", kmsg)]), &rules)
        };
        let d = run(&["Mem-Info:"]);
        assert!(d.has("t.generic") && !d.has("t.specific"));
        let d = run(&["Mem-Info:", "Out of memory: Killed process 1 (x)"]);
        assert!(d.has("t.specific") && !d.has("t.generic"));
        // Host-wide OOM: the cgroup hypothesis is ruled out, not proposed.
        assert!(!d.has("t.cgroup"));
        assert_eq!(
            d.ruled_out.first().map(|r| r.reason.as_str()),
            Some("host-wide")
        );
        let d = run(&["Memory cgroup out of memory: Killed process 1 (x)"]);
        assert_eq!(d.causes.first().map(|c| c.id.as_str()), Some("t.cgroup"));
    }

    #[test]
    fn severity_when_raises_the_severity_and_join_joins() {
        let text = [
            r#"
[[rule]]
id = "test.addr"
title = "addresses"
severity = "info"
summary = "{names}"
when = "size(facts.net.addresses) > 0"
[rule.fields]
names = "facts.net.addresses.map(a, a.local).join(' + ')"
[rule.severity_when]
warning = "size(facts.net.addresses) > 0"
critical = "facts.net.addresses.exists(a, a.ifname == 'eth1')"
"#,
            CASES,
        ]
        .concat();
        let rules = RuleSet::from_files(&[("t.toml".into(), text)]).expect("rules");
        let addr = |ifname: &str| {
            format!(
                r#"[{{"ifname":"{ifname}","flags":["UP"],"addr_info":[{{"family":"inet","local":"192.0.2.2","prefixlen":24,"scope":"global"}},{{"family":"inet","local":"192.0.2.3","prefixlen":24,"scope":"global"}}]}}]"#
            )
        };
        let d = diagnose(
            &Snapshot::from_inputs([("net/addr.json", addr("eth0"))]),
            &rules,
        );
        assert_eq!(d.findings[0].severity, Severity::Warning);
        assert_eq!(d.findings[0].summary, "192.0.2.2 + 192.0.2.3");
        let d = diagnose(
            &Snapshot::from_inputs([("net/addr.json", addr("eth1"))]),
            &rules,
        );
        assert_eq!(d.findings[0].severity, Severity::Critical);
        let bad = [
            "[[rule]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"s\"\nwhen = \"true\"\n[rule.severity_when]\nurgent = \"true\"\n",
            CASES,
        ]
        .concat();
        let err = RuleSet::from_files(&[("t.toml".into(), bad)]).expect_err("bad level");
        assert!(err.to_string().contains("urgent"), "{err}");
    }

    #[test]
    fn confidence_model() {
        let rules = RuleSet::builtin().expect("rules");
        let rule = rules.get("route.gateway-misconfigured").expect("rule");
        // It explains five findings (the fifth: handshakes that get no
        // answer on the wire).
        assert_eq!(rule.explains.len(), 5);
        assert!((confidence(rule, 0, 4) - 0.45).abs() < 1e-9);
        assert!((confidence(rule, 1, 4) - 0.5625).abs() < 1e-3);
        assert!((confidence(rule, 4, 4) - 0.9).abs() < 1e-9);
        // Explained findings that could not be checked (no capture, no
        // neighbour table) do not count: 2 of 2 is full support.
        assert!((confidence(rule, 2, 2) - 0.9).abs() < 1e-9);
    }
}

/// Hostile input through the whole pipeline: nothing may panic, the usable
/// lines are still used, the rest becomes notes.
#[cfg(test)]
mod robustness {
    use super::*;

    #[test]
    fn garbage_huge_lines_and_backwards_time() {
        let rules = RuleSet::builtin().expect("rules");
        let mut garbage: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        garbage.extend_from_slice(b"\n6,1,100,-;neighbour: arp_cache: neighbor table overflow!\n");
        let mut huge = "4,2,200,-;".to_string();
        huge.push_str(&"x".repeat(1 << 20));
        huge.push_str(" net_ratelimit: 5 callbacks suppressed\n");
        garbage.extend_from_slice(huge.as_bytes());
        // Time going backwards, then invalid UTF-8 inside a record.
        garbage.extend_from_slice(b"6,3,50,-;neighbour: arp_cache: neighbor table overflow!\n6,4,60,-;bad \xff\xfe utf8\n");
        let inputs: Vec<(&str, Vec<u8>)> = vec![
            ("dev/kmsg", garbage.clone()),
            ("commands/dmesg", garbage.clone()),
            ("var/log/kern.log", garbage.clone()),
            ("var/log/kern.log.1.gz", garbage.clone()),
            ("sys/fs/pstore/dmesg-ramoops-0", garbage.clone()),
            ("proc/net/route", garbage.clone()),
            ("proc/net/stat/arp_cache", garbage.clone()),
            ("sys/class/net/eth0/flags", garbage),
        ];
        let snapshot = Snapshot::from_inputs(inputs);
        let diagnosis = diagnose(&snapshot, &rules);
        assert!(diagnosis.has("neigh.table-overflow"));
        assert!(diagnosis.has("kmsg.messages-suppressed"));
        assert!(!diagnosis.notes.is_empty());
        // The huge line is evidence, but the text report stays readable.
        let text = crate::report::text(&diagnosis);
        assert!(text.lines().all(|l| l.chars().count() < 400));
        let json = serde_json::to_string(&diagnosis).expect("json");
        assert!(json.len() < 200_000, "{} bytes of JSON", json.len());
    }
}
