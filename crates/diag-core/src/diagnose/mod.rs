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

mod container;
pub(crate) mod diagnosis;
pub mod fleet;
pub mod rules;

pub use crate::facts::targets::{BoundTarget, ExpectedTarget, ListeningPort, ProbeTargets};
pub use diagnosis::{Cause, Diagnosis, Finding, RuledOut, SourceDescription, SCHEMA};

use crate::diagnose::rules::budget::{self, Limits, Meter};
use crate::diagnose::rules::{
    render_template, BootFilter, Condition, LogPattern, Rule, RuleKind, RuleSet,
};
use crate::facts::Facts;
use crate::model::{Evidence, Note, Severity};
use crate::parse::kernel_log::{ElidedHits, LogEntry};
use crate::source::snapshot::Snapshot;
use cel::objects::{Key, Map};
use cel::{Context, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

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
    let absent = snapshot.absent();
    let mut skipped = snapshot.skipped.clone();
    skipped.extend(absent.iter().map(|kind| crate::model::Skipped {
        collector: (*kind).to_string(),
        reason: crate::source::snapshot::NOT_PRESENT.into(),
    }));
    let diagnosis = Diagnosis {
        schema: SCHEMA.into(),
        generated_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        source: SourceDescription {
            kind: snapshot.source.kind,
            path: snapshot.source.path.clone(),
            host: snapshot.host(),
            kernel: snapshot.kernel(),
            collected_at: snapshot.collected_at(),
            inputs_read: snapshot.inputs.len(),
            inputs_absent: absent.iter().map(|kind| kind.to_string()).collect(),
        },
        causes: evaluation.causes,
        findings: evaluation.findings,
        ruled_out: evaluation.ruled_out,
        skipped,
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
    /// The wall-clock times (µs since the epoch) of the earliest and the
    /// latest kernel-log line it matched, when they are known.
    logged: Option<(i64, i64)>,
}

/// Evaluates every rule over `facts`.
pub fn evaluate(facts: &Facts, rules: &RuleSet) -> Evaluation {
    evaluate_within(facts, rules, Limits::default())
}

/// [`evaluate`] within `limits` (see `rules::budget`).
pub(crate) fn evaluate_within(facts: &Facts, rules: &RuleSet, limits: Limits) -> Evaluation {
    let mut out = Evaluation::default();
    let log_hits = match_log(&facts.kernel_log.entries, rules, &limits, &mut out.notes);
    let elided = elided_by_rule(&facts.kernel_log.entries);
    // `facts` is bound once: binding converts the whole tree into the
    // interpreter's values, which for 10,000 probe results took longer than
    // evaluating every rule. Each rule gets a child scope with `findings`.
    let meter = Arc::new(Meter::new(limits));
    let mut root = Context::default();
    add_functions(&mut root);
    budget::add_functions(&mut root, &meter);
    let facts_json = serde_json::to_value(facts).unwrap_or(serde_json::Value::Null);
    root.add_variable_from_value("facts", to_cel(&facts_json));
    let mut fired_map: HashMap<Key, Value> = HashMap::new();
    let mut unchecked: HashSet<&str> = HashSet::new();
    let container = container::ContainerDevices::of(facts);

    for (index, rule) in rules.rules().iter().enumerate() {
        let mut context = root.new_inner_scope();
        if names_findings(rule) {
            context.add_variable_from_value(
                "findings",
                Value::Map(Map {
                    map: Arc::new(fired_map.clone()),
                }),
            );
        }
        meter.begin_rule();
        let context = std::cell::RefCell::new(context);
        let eval = Evaluator {
            rule,
            context: &context,
            meter: &meter,
            facts: &facts_json,
            over_noted: std::cell::Cell::new(false),
            lets: std::cell::RefCell::new(Vec::new()),
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
        let log_fired = rule.log.as_ref().and_then(|pattern| {
            fire_log(
                pattern,
                left_out_of(&elided, &rule.id),
                &facts.kernel_log.entries,
                &log_hits[index],
            )
        });
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

        let from_log = log_fired.is_some();
        let mut fired = log_fired.unwrap_or(Fired {
            count: 0,
            fields: BTreeMap::new(),
            evidence: Vec::new(),
            omitted: 0,
            logged: None,
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
        let mut summary = render_template(&rule.summary, &fired.fields);
        if let (Some((first, last)), Some(collected)) =
            (fired.logged, facts.kernel_log.collected_us)
        {
            summary.push(' ');
            summary.push_str(&logged_before(first, last, collected));
        }
        // A container's report holds the host's kernel log: a finding
        // about devices the container does not have is the host's.
        let hosts = match &container {
            Some(own) if from_log => own.not_its_own(&fired.fields),
            _ => Vec::new(),
        };
        if !hosts.is_empty() {
            severity = Severity::Info;
            summary = format!(
                "host's kernel log: {} {} not this container's ({}). {summary}",
                hosts.join(", "),
                if hosts.len() == 1 { "is" } else { "are" },
                container.as_ref().map_or("", |c| c.technology.as_str()),
            );
        } else {
            fired_map.insert(
                Key::String(Arc::new(rule.id.clone())),
                finding_value(rule, severity, &summary, &fired),
            );
        }
        let kind = if hosts.is_empty() {
            rule.kind
        } else {
            RuleKind::Finding
        };
        match kind {
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
            RuleKind::Cause => {
                // A cause with no evidence of its own (a `when` over the
                // findings only) stands on the evidence of what it explains.
                let (evidence, evidence_omitted) = if fired.evidence.is_empty() {
                    explained_evidence(&out.findings, &explained)
                } else {
                    (fired.evidence, fired.omitted)
                };
                out.causes.push(Cause {
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
                    count: fired.count,
                    explains: explained,
                    evidence,
                    evidence_omitted,
                    next_steps: rule.next_steps.clone(),
                })
            }
        }
    }
    // A rule over its budget is noted once, not once per condition.
    out.notes.retain(|n| n.message != OVER_AGAIN);
    crate::sort::sort_by(&mut out.causes, |a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(b.severity.cmp(&a.severity))
            .then(a.id.cmp(&b.id))
    });
    crate::sort::sort_by(&mut out.findings, |a, b| {
        b.severity.cmp(&a.severity).then(a.id.cmp(&b.id))
    });
    out
}

/// The evidence of a cause that has none of its own: the first
/// `EXPLAINED_EVIDENCE` items of each finding it explains, in the order of
/// its `explains`, at most `EVIDENCE_MAX`; with how many were left out.
fn explained_evidence(findings: &[Finding], explained: &[String]) -> (Vec<Evidence>, usize) {
    let mut evidence = Vec::new();
    let mut omitted = 0;
    for id in explained {
        let Some(finding) = findings.iter().find(|f| &f.id == id) else {
            continue;
        };
        let room = EXPLAINED_EVIDENCE.min(EVIDENCE_MAX.saturating_sub(evidence.len()));
        let taken = finding.evidence.len().min(room);
        evidence.extend(finding.evidence.iter().take(taken).cloned());
        omitted += finding.evidence.len() - taken + finding.evidence_omitted;
    }
    (evidence, omitted)
}

/// How many evidence items of each explained finding a cause without
/// evidence of its own shows.
const EXPLAINED_EVIDENCE: usize = 2;

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
/// The candidates of a line are the patterns whose literals it holds
/// (`RuleSet::prefilter`, `facts::prefilter`: every pattern on a line
/// with a Kelvin sign or a long s). Each candidate is confirmed with the
/// rule's own (Unicode) regex, so a rule matches exactly what its pattern
/// says.
fn match_log(
    entries: &[LogEntry],
    rules: &RuleSet,
    limits: &Limits,
    notes: &mut Vec<Note>,
) -> Vec<Vec<usize>> {
    let mut hits = vec![Vec::new(); rules.rules().len()];
    // Without a log the set is not built (built-in patterns compile on
    // first use).
    if entries.is_empty() {
        return hits;
    }
    match_user_patterns(entries, rules, limits, &mut hits, notes);
    let (_, owners) = crate::diagnose::rules::log_patterns(rules.rules());
    if owners.is_empty() {
        return hits;
    }
    // Its candidates beyond the rules' patterns (state patterns, ...)
    // have no owner here.
    let prefilter = rules.prefilter();
    // Candidates of a chunk of entries at once (the prefilter walks
    // several lines together: `Prefilter::each`).
    const CHUNK: usize = 1024;
    let mut candidates: Vec<Vec<u32>> = vec![Vec::new(); CHUNK.min(entries.len())];
    for (chunk, first) in entries.chunks(CHUNK).zip((0..).step_by(CHUNK)) {
        let messages: Vec<&[u8]> = chunk.iter().map(|e| e.message.as_bytes()).collect();
        match prefilter.as_deref() {
            Some(prefilter) => prefilter.each(&messages, &mut candidates),
            None => {
                for out in &mut candidates[..chunk.len()] {
                    out.clear();
                    out.extend((0..owners.len()).filter_map(|o| u32::try_from(o).ok()));
                }
            }
        }
        for ((entry, i), slots) in chunk.iter().zip(first..).zip(&candidates) {
            for &slot in slots {
                let Some(&owner) = owners.get(slot as usize) else {
                    continue;
                };
                let confirmed = rules.rules()[owner]
                    .log
                    .as_ref()
                    .is_some_and(|log| log.counts(&entry.message));
                if confirmed {
                    hits[owner].push(i);
                }
            }
        }
    }
    hits
}

/// Lines, and bytes, matched between two looks at the clock.
const PATTERN_CLOCK_LINES: usize = 256;
const PATTERN_CLOCK_BYTES: usize = 16 << 10;

/// Matches each user rule's log pattern alone (built-in ones share the
/// set), within a time budget per input and one for the run: when one
/// pattern has taken `pattern_input_time` over the lines of an input, it
/// stops there with a note naming the rule and the input (its later lines
/// are not matched); once the run's time is spent, the patterns left stop.
/// The clock is read every few hundred lines or few KiB, not every line.
fn match_user_patterns(
    entries: &[LogEntry],
    rules: &RuleSet,
    limits: &Limits,
    hits: &mut [Vec<usize>],
    notes: &mut Vec<Note>,
) {
    let run_start = Instant::now();
    for (index, rule) in rules.rules().iter().enumerate() {
        let Some(log) = rule.log.as_ref().filter(|_| !rule.builtin) else {
            continue;
        };
        // Time spent on each input, and the inputs given up.
        let mut spent: HashMap<&str, Duration> = HashMap::new();
        let mut stopped: HashSet<&str> = HashSet::new();
        let mut start = 0;
        while start < entries.len() {
            let input: &str = &entries[start].input;
            let end = start
                + entries[start..]
                    .iter()
                    .position(|e| *e.input != *input)
                    .unwrap_or(entries.len() - start);
            if stopped.contains(input) {
                start = end;
                continue;
            }
            let clock = Instant::now();
            let used = spent.get(input).copied().unwrap_or_default();
            let (mut lines, mut bytes) = (0, 0);
            for (i, entry) in entries.iter().enumerate().take(end).skip(start) {
                if lines >= PATTERN_CLOCK_LINES || bytes >= PATTERN_CLOCK_BYTES {
                    (lines, bytes) = (0, 0);
                    let now = used + clock.elapsed();
                    let run = run_start.elapsed();
                    if now > limits.pattern_input_time || run > limits.pattern_run_time {
                        let (what, budget) = if run > limits.pattern_run_time {
                            ("the run's log pattern time budget", limits.pattern_run_time)
                        } else {
                            ("its time budget per input", limits.pattern_input_time)
                        };
                        notes.push(Note {
                            input: format!("rule:{}", rule.id),
                            line: None,
                            message: format!(
                                "log pattern `{}` stopped on {input} at line {} after {:.1} s, \
                                 over {what} ({budget:?}): the lines after it are not matched \
                                 (a pattern whose automaton does not fit a cache, such as \
                                 (a|b)*a(a|b){{200}}c, is slow on any log)",
                                log.pattern(),
                                entry.line,
                                now.as_secs_f64(),
                            ),
                        });
                        stopped.insert(input);
                        break;
                    }
                }
                lines += 1;
                bytes += entry.message.len();
                if log.counts(&entry.message) {
                    hits[index].push(i);
                }
            }
            spent.insert(input, used + clock.elapsed());
            start = end;
        }
    }
}

/// A rule's matches that a streaming pass left out (`elided`, from
/// [`left_out_of`]), in the boots `pattern` admits: how many per boot, in
/// how many pieces of evidence, and the sums of their numeric captures.
fn elided_hits(
    pattern: &LogPattern,
    elided: &[LeftOut<'_>],
) -> (Vec<(i32, usize)>, usize, Vec<Option<u64>>) {
    let mut counts: Vec<(i32, usize)> = Vec::new();
    let mut events = 0usize;
    let mut sums = Vec::new();
    for &(_, boot, hit) in elided
        .iter()
        .filter(|(_, boot, _)| pattern.boot.admits(*boot))
    {
        *of_boot(&mut counts, boot) += usize::try_from(hit.count).unwrap_or(usize::MAX);
        events = events.saturating_add(usize::try_from(hit.events).unwrap_or(usize::MAX));
        crate::parse::kernel_log::add_sums(&mut sums, &hit.sums);
    }
    (counts, events, sums)
}

/// The value of boot `boot` among `boots`, made if missing. (Not a
/// `BTreeMap`: a log's boots are few, and each map type weighed
/// kilobytes of the binary.)
fn of_boot<V: Default>(boots: &mut Vec<(i32, V)>, boot: i32) -> &mut V {
    let i = match boots.iter().position(|(b, _)| *b == boot) {
        Some(i) => i,
        None => {
            boots.push((boot, V::default()));
            boots.len() - 1
        }
    };
    &mut boots[i].1
}

/// Whether an expression of `rule` names `findings`: only then is the map
/// of findings made so far bound for it (binding converts every finding
/// into the interpreter's values: done for each of ~100 rules, a tenth of
/// the diagnosis of a log with 40 findings). A CEL expression reaches a
/// variable only by its name; the text is searched, so a string holding
/// the word binds it too, never the other way round.
fn names_findings(rule: &Rule) -> bool {
    rule.conditions()
        .any(|c| c.text.contains("findings") || c.source.contains("findings"))
}

/// Every match a streaming pass left out ([`LogEntry::elided`]), with its
/// rule's id and the boot of the entry it was counted on, by id
/// ([`left_out_of`] finds a rule's): made once, not walked again for each
/// rule (the whole log's kept entries for each of ~100 rules was a
/// quarter of the diagnosis of a 32 MiB log at 50% matching lines).
fn elided_by_rule(entries: &[LogEntry]) -> Vec<LeftOut<'_>> {
    let mut all: Vec<LeftOut<'_>> = entries
        .iter()
        .flat_map(|e| {
            let hits = e.elided.as_deref().map_or(&[][..], |el| &el.hits[..]);
            hits.iter().map(|h| (&*h.rule, e.boot, h))
        })
        .collect();
    crate::sort::sort_by(&mut all, |a, b| a.0.cmp(b.0));
    all
}

/// A left-out match: its rule's id, the boot it was counted in, the count.
type LeftOut<'e> = (&'e str, i32, &'e ElidedHits);

/// Rule `id`'s left-out matches among `all` ([`elided_by_rule`]), in log
/// order.
fn left_out_of<'a, 'e>(all: &'a [LeftOut<'e>], id: &str) -> &'a [LeftOut<'e>] {
    let start = all.partition_point(|x| x.0 < id);
    let len = all[start..].partition_point(|x| x.0 == id);
    &all[start..start + len]
}

/// Checks a log pattern's threshold and window over its matching entries
/// and the matches a streaming pass left out. What it left out cannot
/// change the check: the pass keeps the matches of the first window
/// reached, a match of each clock, the first distinct values of each
/// capture, and counts the rest with their capture sums
/// (`facts::kernel_stream`).
fn fire_log(
    pattern: &LogPattern,
    elided: &[LeftOut<'_>],
    entries: &[LogEntry],
    hits: &[usize],
) -> Option<Fired> {
    let (elided_by_boot, elided_events, elided_sums) = elided_hits(pattern, elided);
    let elided: usize = elided_by_boot.iter().map(|(_, n)| n).sum();
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
    if hits.len() + elided < pattern.threshold {
        return None;
    }
    if let Some(window) = pattern.window {
        let micros = u64::try_from(window.as_micros()).unwrap_or(u64::MAX);
        // Kernel time restarts at every boot: each boot is windowed alone.
        let mut by_boot: Vec<(i32, Vec<&LogEntry>)> = Vec::new();
        for &i in hits {
            of_boot(&mut by_boot, entries[i].boot).push(&entries[i]);
        }
        let reached = by_boot.iter().any(|(_, boot)| {
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
                let left_out = boot
                    .first()
                    .and_then(|e| elided_by_boot.iter().find(|(b, _)| *b == e.boot))
                    .map(|(_, n)| *n)
                    .unwrap_or(0);
                return boot.len() + left_out >= pattern.threshold;
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
    for (slot, sum) in elided_sums.iter().enumerate().take(sums.len()) {
        if let Some(more) = sum {
            sums[slot] = Some(sums[slot].unwrap_or(0).saturating_add(*more));
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
    let walls = hits.iter().filter_map(|&i| entries[i].wall_us);
    let logged = walls.clone().min().zip(walls.max());
    Some(Fired {
        count: hits.len() + elided,
        fields,
        evidence,
        // Pieces of evidence, as `evidence` counts them (an event whose
        // lines matched more than once is one).
        omitted: elided_events,
        logged,
    })
}

/// When kernel-log lines were logged, said relative to the collection
/// (`collected`, µs since the epoch): "Logged 42 min before collection.",
/// "Logged from 3 h 5 min to 42 min before collection.".
fn logged_before(first: i64, last: i64, collected: i64) -> String {
    let (from, from_side) = span_from(collected, first);
    let (to, to_side) = span_from(collected, last);
    if (from.as_str(), from_side) == (to.as_str(), to_side) {
        format!("Logged {from} {from_side} collection.")
    } else if from_side == to_side {
        format!("Logged from {from} to {to} {to_side} collection.")
    } else {
        format!("Logged from {from} {from_side} to {to} {to_side} collection.")
    }
}

/// How long before (or after) `collected` the instant `at` is, both in µs
/// since the epoch, to the minute: ("42 min", "before"), ("3 h 5 min",
/// "before"), ("2 days 4 h", "before"), ("less than a minute", "after").
///
/// Within half a minute either side it is "less than a minute" *before*:
/// collection is a moment of a run that takes seconds, and a bundle's
/// manifest keeps its time to the second, so a line logged while diag
/// read the host can fall a few seconds after the stamp. Saying "after"
/// for it made a bundle's summary differ from the live run's it replays.
fn span_from(collected: i64, at: i64) -> (String, &'static str) {
    let delta = collected.saturating_sub(at);
    let minutes = delta.unsigned_abs().saturating_add(30_000_000) / 60_000_000;
    let side = if delta < 0 && minutes > 0 {
        "after"
    } else {
        "before"
    };
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let amount = match (days, hours, mins) {
        (0, 0, 0) => "less than a minute".to_string(),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (1, 0, _) => "1 day".to_string(),
        (1, h, _) => format!("1 day {h} h"),
        (d, 0, _) => format!("{d} days"),
        (d, h, _) => format!("{d} days {h} h"),
    };
    (amount, side)
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

/// The note of a rule's condition after the one that went over its budget
/// (dropped: the first note tells).
const OVER_AGAIN: &str = "over its evaluation budget (see the note before)";

struct Evaluator<'a, 'p, 'v> {
    rule: &'a Rule,
    /// The rule's scope: `facts`, `findings`, and each let of the rule
    /// once evaluated.
    context: &'a std::cell::RefCell<Context<'p, 'v>>,
    /// The budget of the run, started for this rule.
    meter: &'a Meter,
    /// The facts as JSON, for the worst-case estimate of a condition.
    facts: &'a serde_json::Value,
    /// Whether this rule's budget note has been given.
    over_noted: std::cell::Cell<bool>,
    /// The rule's lets evaluated so far, and whether each has a value in
    /// `context`. Each runs at most once per rule: a let that `when`,
    /// `evidence` and three fields name ran five times when conditions
    /// ran only expanded: under a flood of 671 OOM reports
    /// `mem.oom-one-process` took 46 ms of every `diag watch` interval.
    /// Bound once in the rule's scope, it is converted into the
    /// interpreter's values once, not at every condition.
    lets: std::cell::RefCell<Vec<(String, bool)>>,
}

impl Evaluator<'_, '_, '_> {
    /// Binds the rule's let `name` in the rule's scope, evaluated on first
    /// use; false when it cannot be evaluated.
    fn bind_let(&self, name: &str) -> bool {
        if let Some((_, bound)) = self.lets.borrow().iter().find(|(n, _)| n == name) {
            return *bound;
        }
        let bound = self.evaluate_let(name);
        self.lets.borrow_mut().push((name.to_string(), bound));
        bound
    }

    fn evaluate_let(&self, name: &str) -> bool {
        let Some(condition) = self
            .rule
            .let_conditions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
        else {
            return false;
        };
        let expr = match condition.bound() {
            Some(bound) if condition.lets.iter().all(|l| self.bind_let(l)) => bound,
            _ => condition.metered(),
        };
        // (`Value::resolve_val` would give the interpreter's own value,
        // without the conversion `resolve` makes, but it is inlined
        // wherever it is called: 69 KB of binary.)
        let value = match self.context.borrow().resolve(expr) {
            Ok(value) => value,
            Err(_) => return false,
        };
        self.context
            .borrow_mut()
            .add_variable_from_value(name.to_string(), value);
        true
    }

    /// Runs `condition` (no estimate first: the condition naming a let
    /// was estimated with its expansion): as written with its lets bound
    /// when they all have values, else expanded.
    fn run(&self, condition: &Condition) -> Result<Value, cel::ExecutionError> {
        if let Some(bound) = condition.bound() {
            if condition.lets.iter().all(|name| self.bind_let(name)) {
                return self.context.borrow().resolve(bound);
            }
        }
        self.context.borrow().resolve(condition.metered())
    }

    fn note(&self, condition: &Condition, message: String) -> Note {
        Note {
            input: format!("rule:{}", self.rule.id),
            line: None,
            message: format!("`{}`: {message}", condition.source),
        }
    }

    fn value(&self, condition: &Condition) -> Result<Value, Note> {
        let over = |over: budget::Over| {
            let message = over.describe(self.meter.limits());
            self.over_note(condition, message)
        };
        if let Some(reason) = self.meter.over() {
            return Err(over(reason));
        }
        // Refused before it runs when its worst case over these facts is
        // over what the rule may still spend.
        let estimate = budget::estimate(condition.program().expression(), self.facts);
        let (rule_left, run_left) = self.meter.remaining();
        if estimate.cost > rule_left.min(run_left) as f64 {
            self.meter.refuse();
            let budget = if estimate.cost > rule_left as f64 {
                format!(
                    "the rule's evaluation budget of {} steps",
                    self.meter.limits().rule_cost
                )
            } else {
                format!(
                    "what is left ({run_left} steps) of the run's evaluation budget of {} steps",
                    self.meter.limits().run_cost
                )
            };
            return Err(self.over_note(
                condition,
                format!(
                    "its worst case over these facts is {:.1e} steps ({}), over {budget}: \
                     not evaluated",
                    estimate.cost,
                    estimate.describe_chain(),
                ),
            ));
        }
        let result = self.run(condition);
        if let Some(reason) = self.meter.over() {
            return Err(over(reason));
        }
        result.map_err(|err| self.note(condition, format!("evaluation failed: {err}")))
    }

    /// The note of a rule over its budget: the first names the condition,
    /// the next ones (the rule's other conditions) repeat the first.
    fn over_note(&self, condition: &Condition, message: String) -> Note {
        if self.over_noted.replace(true) {
            return Note {
                input: format!("rule:{}", self.rule.id),
                line: None,
                message: OVER_AGAIN.into(),
            };
        }
        self.note(condition, message)
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
            let number = |key: &str| match get(key) {
                Some(Value::Int(n)) => u32::try_from(*n).ok().filter(|&n| n > 0),
                _ => None,
            };
            let line = number("line");
            // A record spanning lines (a memory dump) says where it ends.
            let line_end = number("line_end").filter(|&end| line.is_some_and(|l| end > l));
            evidence.push(Evidence {
                input,
                line,
                line_end,
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
/// `list.join(sep)` joins the elements as text (what a template shows);
/// `list.distinct()` keeps the first of equal elements (as text), in order
/// (671 kills of one process name it once, not 671 times).
pub(crate) fn add_functions(context: &mut Context<'_, '_>) {
    let _ = context.add_function(
        "distinct",
        |cel::extractors::This(list): cel::extractors::This<Arc<Vec<Value>>>| {
            let mut seen: HashSet<String> = HashSet::new();
            let kept: Vec<Value> = list
                .iter()
                .filter(|v| seen.insert(display(v)))
                .cloned()
                .collect();
            Value::List(Arc::new(kept))
        },
    );
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
    use crate::diagnose::rules::tests::CASES;

    fn burst_rules() -> RuleSet {
        RuleSet::from_files(&[("t.toml".into(), burst_text())]).expect("rules")
    }

    fn burst_text() -> String {
        [
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
        .concat()
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

    /// The map of findings is bound only for a rule that names it
    /// (`names_findings`): every kind of expression that may name it
    /// still sees it.
    #[test]
    fn findings_are_seen_from_every_kind_of_expression() {
        // The summary shows `field`: `count`, or the field that reads the
        // findings.
        let rule = |id: &str, body: &str| {
            let field = if id == "t.field" { "n" } else { "count" };
            format!(
                "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"info\"\nsummary = \"{id} {{{field}}}\"\n{body}\n{CASES}"
            )
        };
        let seen = "'test.burst' in findings";
        let others = [
            rule("t.when", &format!("when = \"{seen}\"")),
            rule("t.needs", &format!("needs = \"{seen}\"\nwhen = \"true\"")),
            rule("t.unless", &format!("when = \"true\"\nunless = \"{seen}\"")),
            rule("t.let", &format!("when = \"b\"\n[rule.let]\nb = \"{seen}\"")),
            rule(
                "t.field",
                "when = \"true\"\n[rule.fields]\nn = \"findings['test.burst'].count\"",
            ),
            rule(
                "t.severity",
                &format!("when = \"true\"\n[rule.severity_when]\ncritical = \"{seen}\""),
            ),
            rule(
                "t.evidence",
                &format!("when = \"true\"\nevidence = \"{seen} ? [{{'input': 'seen', 'excerpt': 'x'}}] : []\""),
            ),
        ];
        let mut files = vec![("t.toml".to_string(), burst_text())];
        files.extend(
            others
                .into_iter()
                .enumerate()
                .map(|(i, t)| (format!("u{i}.toml"), t)),
        );
        let rules = RuleSet::from_files(&files).expect("rules");
        let d = diagnose(&kmsg(&[1_000_000, 3_000_000, 6_000_000]), &rules);
        let get = |id: &str| d.findings.iter().find(|f| f.id == id);
        assert!(get("test.burst").is_some());
        for id in [
            "t.when",
            "t.needs",
            "t.let",
            "t.field",
            "t.severity",
            "t.evidence",
        ] {
            assert!(get(id).is_some(), "{id} fires: {:?}", d.notes);
        }
        assert!(get("t.unless").is_none(), "t.unless is suppressed");
        assert_eq!(
            get("t.field").map(|f| f.summary.as_str()),
            Some("t.field 3")
        );
        assert_eq!(
            get("t.severity").map(|f| f.severity),
            Some(Severity::Critical)
        );
        let evidence = get("t.evidence")
            .map(|f| f.evidence.clone())
            .unwrap_or_default();
        assert!(evidence.iter().any(|e| e.input == "seen"), "{evidence:?}");
        assert!(d.notes.is_empty(), "{:?}", d.notes);
    }

    /// The left-out matches, sorted by rule once (`elided_by_rule`), give
    /// each rule its own, in log order, with their boots: an id that
    /// begins another (`a.b`, `a.b-c`) takes none of the other's.
    #[test]
    fn each_rule_gets_its_own_left_out_matches_in_log_order() {
        let entry = |boot: i32, hits: &[(&str, u64)]| {
            let mut elided = crate::parse::kernel_log::Elided::default();
            for &(id, n) in hits {
                elided.hit(&Arc::from(id), n, 1, &[]);
            }
            elided.entries = hits.len() as u64;
            LogEntry {
                input: Arc::from("dev/kmsg"),
                line: 1,
                seq: None,
                time_us: None,
                facility: None,
                level: None,
                message: String::new(),
                raw: String::new(),
                boot,
                block: None,
                stamp: None,
                wall_us: None,
                elided: Some(Box::new(elided)),
            }
        };
        let entries = [
            entry(-1, &[("a.b-c", 1), ("a.b", 2)]),
            entry(0, &[("a.a", 3)]),
            entry(0, &[("a.b", 4), ("z", 5)]),
        ];
        let all = elided_by_rule(&entries);
        let of = |id: &str| -> Vec<(i32, u64)> {
            left_out_of(&all, id)
                .iter()
                .map(|&(rule, boot, hit)| {
                    assert_eq!(rule, id);
                    (boot, hit.count)
                })
                .collect()
        };
        assert_eq!(of("a.b"), [(-1, 2), (0, 4)]);
        assert_eq!(of("a.b-c"), [(-1, 1)]);
        assert_eq!(of("a.a"), [(0, 3)]);
        assert_eq!(of("z"), [(0, 5)]);
        assert!(of("a").is_empty() && of("zz").is_empty());
    }

    /// Issue 22: a kernel-log finding of a snapshot whose collection time
    /// is known says how long before it its lines were logged.
    #[test]
    fn a_log_finding_says_how_long_before_collection_it_was_logged() {
        let rules = burst_rules();
        // Booted at 1,000,000 s; errors 1, 3 and 6 s after boot; collected
        // 45 min (2,700 s) after boot.
        let mut snapshot = kmsg(&[1_000_000, 3_000_000, 6_000_000]);
        snapshot.inputs.insert(
            "proc/stat".into(),
            crate::source::snapshot::Input {
                bytes: bytes::Bytes::from_static(b"btime 1000000\n"),
                truncated: false,
            },
        );
        snapshot.source.kind = crate::source::SourceKind::Sosreport;
        snapshot.dated = true;
        snapshot.taken_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_002_700);
        let d = diagnose(&snapshot, &rules);
        let f = d.findings.first().expect("fires");
        assert!(
            f.summary.ends_with(" Logged 45 min before collection."),
            "{}",
            f.summary
        );
        // No collection time (a directory of copied files): nothing said,
        // as in `threshold_within_window`.
        snapshot.source.kind = crate::source::SourceKind::Bundle;
        let d = diagnose(&snapshot, &rules);
        let f = d.findings.first().expect("fires");
        assert!(!f.summary.contains("collection"), "{}", f.summary);
    }

    /// Regression (session 13's CI, `tar_zst_bundle_of_the_live_host_replays_the_same`):
    /// a line logged a second after the bundle's whole-second collection
    /// stamp read "less than a minute after collection" in the replay and
    /// "before" in the live run.
    #[test]
    fn a_line_seconds_after_the_collection_stamp_is_less_than_a_minute_before() {
        let at = 10_000_000_000_000;
        let min = 60_000_000;
        assert_eq!(
            span_from(at, at + 1_000_000),
            ("less than a minute".into(), "before")
        );
        assert_eq!(
            logged_before(at - (6 * 60 + 37) * min, at + 29_000_000, at),
            "Logged from 6 h 37 min to less than a minute before collection."
        );
        assert_eq!(span_from(at, at + 31_000_000), ("1 min".into(), "after"));
    }

    #[test]
    fn time_before_collection_is_said_to_the_minute() {
        let at = 10_000_000_000_000;
        let min = 60_000_000;
        assert_eq!(
            logged_before(at - 42 * min, at - 42 * min, at),
            "Logged 42 min before collection."
        );
        assert_eq!(
            logged_before(at - (3 * 60 + 5) * min, at - 42 * min, at),
            "Logged from 3 h 5 min to 42 min before collection."
        );
        assert_eq!(
            logged_before(at - 2 * min, at + 3 * min, at),
            "Logged from 2 min before to 3 min after collection."
        );
        assert_eq!(
            span_from(at, at - 29_000_000),
            ("less than a minute".into(), "before")
        );
        assert_eq!(span_from(at, at - 31_000_000), ("1 min".into(), "before"));
        assert_eq!(span_from(at, at - 120 * min), ("2 h".into(), "before"));
        assert_eq!(
            span_from(at, at - (24 * 60 + 61) * min),
            ("1 day 1 h".into(), "before")
        );
        assert_eq!(
            span_from(at, at - 3 * 1440 * min),
            ("3 days".into(), "before")
        );
        assert_eq!(
            span_from(at, at - (3 * 1440 + 300) * min),
            ("3 days 5 h".into(), "before")
        );
        // Extremes do not overflow.
        assert_eq!(span_from(i64::MAX, i64::MIN).1, "before");
        assert_eq!(span_from(i64::MIN, i64::MAX).1, "after");
    }

    /// A flood of OOM kills of one process (`benches/kmsg_flood.sh`): the
    /// summary names it once, not once per kill (it was 15,576
    /// characters for 671 kills).
    #[test]
    fn an_oom_flood_of_one_process_names_it_once() {
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!(
                "[{i}.0] java invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0\n\
                 [{i}.1] Mem-Info:\n[{i}.1] active_anon:900000 inactive_anon:10000 isolated_anon:0\n\
                 [{i}.1]  slab_reclaimable:2000 slab_unreclaimable:3000\n\
                 [{i}.1]  mapped:19 shmem:100 pagetables:2000 bounce:0\n[{i}.1]  free:20000 free_pcp:23 free_cma:0\n\
                 [{i}.2] 1048576 pages RAM\n\
                 [{i}.3] Out of memory: Killed process {} (java) total-vm:4000000kB, anon-rss:3600000kB, file-rss:100kB, shmem-rss:0kB, UID:1000 pgtables:8000kB oom_score_adj:0\n",
                100 + i
            ));
        }
        let snapshot = Snapshot::from_inputs([("commands/dmesg", text.as_str())]);
        let rules = RuleSet::builtin().expect("built-in rules");
        let d = diagnose(&snapshot, &rules);
        let one = d
            .causes
            .iter()
            .find(|c| c.id == "mem.oom-one-process")
            .expect("mem.oom-one-process");
        assert!(
            one.summary.starts_with(
                "The OOM killer killed java, which held 85% of RAM (3515 MiB resident)"
            ),
            "{}",
            one.summary
        );
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

    /// `kauditd_printk_skb: N callbacks suppressed` (audit records not
    /// copied to the kernel log; auditd still has them) made
    /// `kmsg.messages-suppressed` fire on every host with busy audit rules.
    #[test]
    fn kauditd_printk_skb_is_not_hidden_kernel_messages() {
        let rules = RuleSet::builtin().expect("rules");
        let run = |kmsg: &str| diagnose(&Snapshot::from_inputs([("dev/kmsg", kmsg)]), &rules);
        let audit = "4,1,1000,-;kauditd_printk_skb: 14 callbacks suppressed\n\
                     4,2,2000,-;kauditd_printk_skb: 9 callbacks suppressed\n";
        assert!(!run(audit).has("kmsg.messages-suppressed"));
        let both = format!("{audit}4,3,3000,-;net_ratelimit: 311 callbacks suppressed\n");
        let d = run(&both);
        let found = d
            .findings
            .iter()
            .find(|f| f.id == "kmsg.messages-suppressed")
            .expect("net_ratelimit still counts");
        assert_eq!(found.count, 1);
        assert!(found.summary.contains(" 311 message"), "{}", found.summary);
        assert!(!found.summary.contains("kauditd"), "{}", found.summary);
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
        // It explains eight findings (the fifth: handshakes that get no
        // answer on the wire; the sixth: packets the kernel drops as
        // NEIGH_FAILED/NEIGH_QUEUEFULL; the last two: the ARP storm and
        // broadcast share a capture shows when every destination is
        // ARPed for).
        assert_eq!(rule.explains.len(), 8);
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

/// Issue 19 items 7 and 8: rule conditions and user log patterns are
/// evaluated within budgets; a rule over one becomes a note naming it.
#[cfg(test)]
mod budgets {
    use super::*;
    use crate::diagnose::rules::tests::CASES;

    fn rules(parts: &[(&str, &str)]) -> RuleSet {
        let text: String = parts
            .iter()
            .map(|(id, body)| {
                format!(
                    "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"warning\"\nsummary = \"s\"\n{body}\n{CASES}"
                )
            })
            .collect();
        RuleSet::from_files(&[("t.toml".into(), text)]).expect("rules")
    }

    /// Facts with `count` addresses (one interface).
    fn addresses(count: usize) -> Facts {
        let info: Vec<String> = (0..count)
            .map(|i| {
                format!(
                    r#"{{"family":"inet","local":"10.0.{}.{}","prefixlen":8,"scope":"global"}}"#,
                    i / 256,
                    i % 256
                )
            })
            .collect();
        let json = format!(
            r#"[{{"ifname":"eth0","flags":["UP"],"addr_info":[{}]}}]"#,
            info.join(",")
        );
        Facts::from_snapshot(&Snapshot::from_inputs([("net/addr.json", json)])).0
    }

    fn notes_of<'a>(evaluation: &'a Evaluation, id: &str) -> Vec<&'a str> {
        evaluation
            .notes
            .iter()
            .filter(|n| n.input == format!("rule:{id}"))
            .map(|n| n.message.as_str())
            .collect()
    }

    const NESTED_EXISTS: &str = "when = \"facts.net.addresses.exists(a, facts.net.addresses.exists(b, facts.net.addresses.exists(c, a.local == b.local + c.local)))\"";
    /// The same over a list the estimate cannot size (a map literal's
    /// field): only the meter sees it.
    const NESTED_EXISTS_HIDDEN: &str = "when = \"{'l': facts.net.addresses}.l.exists(a, {'l': facts.net.addresses}.l.exists(b, {'l': facts.net.addresses}.l.exists(c, a.local == b.local + c.local)))\"";
    const HAS_ADDRESSES: &str = "when = \"size(facts.net.addresses) > 0\"";

    #[test]
    fn nested_exists_over_a_large_list_stops_at_the_budget() {
        let rules = rules(&[("u.nested", NESTED_EXISTS), ("u.cheap", HAS_ADDRESSES)]);
        let start = Instant::now();
        let d = evaluate(&addresses(1000), &rules);
        // Minutes without the budgets; seconds in a loaded debug build.
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{:?}",
            start.elapsed()
        );
        let notes = notes_of(&d, "u.nested");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("1.0e9 steps") && notes[0].contains("budget"),
            "{notes:?}"
        );
        assert!(!d.findings.iter().any(|f| f.id == "u.nested"));
        assert!(d.findings.iter().any(|f| f.id == "u.cheap"));
    }

    #[test]
    fn a_list_the_estimate_cannot_size_is_stopped_by_the_meter() {
        let rules = rules(&[
            ("u.hidden", NESTED_EXISTS_HIDDEN),
            ("u.cheap", HAS_ADDRESSES),
        ]);
        // Building the hidden list copies it: 200 addresses keep that cheap
        // enough for the steps, not the time, to run out first.
        let limits = Limits {
            rule_cost: 50_000,
            rule_time: Duration::from_secs(60),
            ..Limits::default()
        };
        let start = Instant::now();
        let d = evaluate_within(&addresses(200), &rules, limits);
        // Minutes without the budgets; seconds in a loaded debug build.
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{:?}",
            start.elapsed()
        );
        let notes = notes_of(&d, "u.hidden");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("over the rule's evaluation budget of 50000 steps"),
            "{notes:?}"
        );
        assert!(d.findings.iter().any(|f| f.id == "u.cheap"));
        // Over time rather than steps: the same, with its own note.
        let limits = Limits {
            rule_time: Duration::from_millis(20),
            ..Limits::default()
        };
        let d = evaluate_within(&addresses(1000), &rules, limits);
        let notes = notes_of(&d, "u.hidden");
        assert!(
            notes.len() == 1 && notes[0].contains("time budget"),
            "{notes:?}"
        );
    }

    #[test]
    fn nested_maps_do_not_exhaust_memory() {
        // Seen by the estimate: refused before it runs.
        let seen = "when = \"size(facts.net.addresses.map(a, facts.net.addresses.map(b, facts.net.addresses.map(c, a.excerpt + b.excerpt + c.excerpt)))) > 0\"";
        // Hidden from it: what the maps build is charged as it is built
        // (each string by its size), and building stops at the budget.
        let hidden = "when = \"size({'l': facts.net.addresses}.l.map(a, {'l': facts.net.addresses}.l.map(b, {'l': facts.net.addresses}.l.map(c, a.excerpt + b.excerpt + c.excerpt)))) > 0\"";
        let rules = rules(&[("u.seen", seen), ("u.hidden", hidden)]);
        let limits = Limits {
            rule_cost: 300_000,
            rule_time: Duration::from_secs(60),
            ..Limits::default()
        };
        let d = evaluate_within(&addresses(300), &rules, limits);
        let seen = notes_of(&d, "u.seen");
        assert!(
            seen.len() == 1 && seen[0].contains("worst case"),
            "{seen:?}"
        );
        let hidden = notes_of(&d, "u.hidden");
        assert!(
            hidden.len() == 1 && hidden[0].contains("evaluation budget"),
            "{hidden:?}"
        );
        // Each string built costs more than one step: far fewer than
        // 300,000 strings were built.
        assert!(d.findings.is_empty());
    }

    #[test]
    fn the_run_budget_is_shared_by_every_rule() {
        let quadratic =
            "when = \"facts.net.addresses.exists(a, facts.net.addresses.exists(b, a.local == b.local && a.line != b.line))\"";
        let rules = rules(&[("u.first", quadratic), ("u.second", quadratic)]);
        // 100 addresses: ~10,100 steps a rule; the run allows 15,000.
        let limits = Limits {
            run_cost: 15_000,
            ..Limits::default()
        };
        let d = evaluate_within(&addresses(100), &rules, limits);
        assert!(notes_of(&d, "u.first").is_empty(), "{:?}", d.notes);
        let second = notes_of(&d, "u.second");
        assert!(
            second.len() == 1 && second[0].contains("run's evaluation budget"),
            "{second:?}"
        );
    }

    #[test]
    fn a_pathological_pattern_is_refused_or_budgeted() {
        // `(?:a|b)*a(?:a|b){200}c`: its DFA never fits a cache; on lines of
        // `a` and `b` it runs at a fraction of a MB/s.
        let rules = rules(&[
            ("u.slow", "[rule.log]\npattern = '(?:a|b)*a(?:a|b){200}c'"),
            ("u.fast", "[rule.log]\npattern = 'table overflow'"),
        ]);
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut kmsg = String::new();
        for i in 0..2000u64 {
            kmsg.push_str(&format!("6,{i},{},-;", 1000 + i));
            for _ in 0..1000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                kmsg.push(if state & 1 == 0 { 'a' } else { 'b' });
            }
            kmsg.push('\n');
        }
        kmsg.push_str("4,2000,999999,-;neighbour: arp_cache: neighbor table overflow!\n");
        let (facts, _) = Facts::from_snapshot(&Snapshot::from_inputs([("dev/kmsg", kmsg)]));
        // Only the budget per input can stop it: on a loaded machine
        // (load 7 on 2 cores) another budget (the run's 10 s, a rule's
        // 2 s) was sometimes spent first and gave the rule another note.
        let limits = Limits {
            pattern_input_time: Duration::from_millis(50),
            pattern_run_time: Duration::from_secs(600),
            rule_time: Duration::from_secs(600),
            run_time: Duration::from_secs(600),
            ..Limits::default()
        };
        let start = Instant::now();
        let d = evaluate_within(&facts, &rules, limits);
        // Minutes without the budgets; seconds in a loaded debug build.
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{:?}",
            start.elapsed()
        );
        let notes = notes_of(&d, "u.slow");
        assert!(
            notes.len() == 1
                && notes[0].contains("stopped on dev/kmsg at line")
                && notes[0].contains("time budget per input"),
            "{notes:?}"
        );
        assert!(d.findings.iter().any(|f| f.id == "u.fast"));
    }

    #[test]
    fn budget_notes_fail_a_rule_case() {
        // `rules test` counts a rule over its budget as an error of the case.
        let text = format!(
            "[[rule]]\nid = \"u.nested\"\ntitle = \"t\"\nseverity = \"warning\"\nsummary = \"s\"\n{NESTED_EXISTS}\n[[rule.case]]\nname = \"big\"\nexpect = \"quiet\"\ninputs.\"net/addr.json\" = '{}'\n[[rule.case]]\nname = \"f\"\nexpect = \"fires\"\n",
            {
                let info: Vec<String> = (0..1000)
                    .map(|i| format!(r#"{{"family":"inet","local":"10.0.{}.{}","prefixlen":8,"scope":"global"}}"#, i / 256, i % 256))
                    .collect();
                format!(r#"[{{"ifname":"eth0","flags":["UP"],"addr_info":[{}]}}]"#, info.join(","))
            }
        );
        let rules = RuleSet::from_files(&[("t.toml".into(), text)]).expect("rules");
        let outcomes = test_rules(&rules);
        let big = outcomes.iter().find(|o| o.case == "big").expect("case");
        assert!(!big.passed(), "{big:?}");
        assert!(
            big.rule_errors.iter().any(|e| e.contains("budget")),
            "{big:?}"
        );
    }
}
