//! Budgets for evaluating rule conditions (CEL), so that a small rule file
//! cannot run for minutes or take the machine's memory (issue 19, item 7).
//!
//! The `cel` crate (0.15) has no cost limit, evaluation hook or
//! cancellation, and an evaluation on an abandoned thread would keep
//! burning CPU and memory. What it has: the parsed expression is public and
//! can be evaluated as given (`Context::resolve`), and a comprehension
//! (`exists`, `all`, `exists_one`, `map`, `filter`) evaluates its range once
//! each time it is entered, before its loop. So every condition is
//! evaluated in an *instrumented* copy of its expression:
//!
//! - each comprehension's range `r` becomes `@budget_range(@budget_open(),
//!   r)`: `@budget_open()` fails once the meter is over budget (before `r`
//!   is built), `@budget_range` charges the size of `r` (the iterations the
//!   loop may run) to the meter and hands `r` back, or fails when that
//!   takes the meter over;
//! - each value a `map` appends becomes `@budget_item(v)`, charged
//!   `ITEM_COST` plus its size (bytes of a string / `BYTES_PER_UNIT`,
//!   entries of a list or map): what a `map` builds is kept in memory.
//!
//! The failure propagates like any evaluation error; a comprehension that
//! defers it (`exists` and `all` go on with their next element, which may
//! absorb an error) fails again at its next inner comprehension, before
//! building that one's range: after the budget is spent, each loop level
//! runs what is left of its own iterations once, without their inner
//! loops (work linear in the lists, not their product). The result is
//! discarded anyway (the meter says it went over). The meter counts per rule and per run, and checks a wall-clock
//! deadline per rule and per run at each charge.
//!
//! Before a condition runs, [`estimate`] computes its worst case over the
//! actual facts (the size of each comprehension's range, multiplied through
//! the nesting: three `exists` over 1,000 addresses are 10^9 steps) and a
//! condition over the budget is refused without running. Ranges it cannot
//! size (a computed list) count as one element there; the meter still
//! counts them at run time.

use cel::common::ast::{operators, CallExpr, ComprehensionExpr, EntryExpr, Expr, LiteralValue};
use cel::common::types::{CelBool, CelString};
use cel::common::value::CowVal;
use cel::{Context, ExecutionError, FunctionContext, IdedExpr};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The function a comprehension's range is wrapped in.
const RANGE_FN: &str = "@budget_range";
/// Its first argument, evaluated before the range: fails once the meter
/// is over, so that a range that is costly to build is not built again.
const OPEN_FN: &str = "@budget_open";
/// The function a value appended by `map` is wrapped in.
const ITEM_FN: &str = "@budget_item";
/// Units charged for each value a `map` builds, besides its size.
const ITEM_COST: u64 = 8;
/// Bytes of a string built by a `map` per unit charged.
const BYTES_PER_UNIT: u64 = 8;
/// Comprehensions nested this deep (inside each other's loop) make
/// `rules validate` warn.
pub(crate) const NESTING_WARNING: usize = 3;

/// How much rule evaluation may cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Steps (iterations and built values, see the module documentation)
    /// the conditions of one rule may take in one diagnosis.
    pub rule_cost: u64,
    /// Steps every rule together may take in one diagnosis.
    pub run_cost: u64,
    /// Wall-clock time of one rule's conditions.
    pub rule_time: Duration,
    /// Wall-clock time of every rule's conditions.
    pub run_time: Duration,
    /// Time one user log pattern may take over the lines of one input.
    pub pattern_input_time: Duration,
    /// Time every user log pattern together may take.
    pub pattern_run_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // The largest built-in nesting (sysctl entries × addresses,
            // routes × routes) is ~10^5-10^6 steps on a host with
            // thousands of addresses; a step is ~0.1-1 µs.
            rule_cost: 10_000_000,
            run_cost: 100_000_000,
            rule_time: Duration::from_secs(2),
            run_time: Duration::from_secs(20),
            // The built-in set does 32 MB of log in ~0.25 s.
            pattern_input_time: Duration::from_secs(1),
            pattern_run_time: Duration::from_secs(10),
        }
    }
}

/// Why a rule's evaluation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    RuleCost = 1,
    RuleTime = 2,
    RunCost = 3,
    RunTime = 4,
}

impl Over {
    fn from_code(code: u8) -> Option<Over> {
        match code {
            1 => Some(Over::RuleCost),
            2 => Some(Over::RuleTime),
            3 => Some(Over::RunCost),
            4 => Some(Over::RunTime),
            _ => None,
        }
    }

    /// What went over, for a note.
    pub(crate) fn describe(self, limits: &Limits) -> String {
        match self {
            Over::RuleCost => format!(
                "over the rule's evaluation budget of {} steps: not evaluated",
                limits.rule_cost
            ),
            Over::RuleTime => format!(
                "over the rule's evaluation time budget of {:?}: not evaluated",
                limits.rule_time
            ),
            Over::RunCost => format!(
                "the evaluation budget of the run ({} steps) is spent: not evaluated",
                limits.run_cost
            ),
            Over::RunTime => format!(
                "the evaluation time budget of the run ({:?}) is spent: not evaluated",
                limits.run_time
            ),
        }
    }
}

/// Counts what the conditions of a diagnosis cost, per rule and per run.
#[derive(Debug)]
pub(crate) struct Meter {
    limits: Limits,
    start: Instant,
    rule_spent: AtomicU64,
    run_spent: AtomicU64,
    /// Nanoseconds after `start` when the current rule's time is up.
    rule_deadline: AtomicU64,
    /// The [`Over`] code of the current rule, 0 while within budget.
    over: AtomicU8,
}

impl Meter {
    pub(crate) fn new(limits: Limits) -> Self {
        Meter {
            limits,
            start: Instant::now(),
            rule_spent: AtomicU64::new(0),
            run_spent: AtomicU64::new(0),
            rule_deadline: AtomicU64::new(u64::MAX),
            over: AtomicU8::new(0),
        }
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn nanos(duration: Duration) -> u64 {
        u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Starts metering the next rule; a run that is over stays over.
    pub(crate) fn begin_rule(&self) {
        self.rule_spent.store(0, Ordering::Relaxed);
        let deadline = self
            .now()
            .saturating_add(Self::nanos(self.limits.rule_time));
        self.rule_deadline.store(deadline, Ordering::Relaxed);
        if matches!(self.over(), Some(Over::RuleCost | Over::RuleTime)) {
            self.over.store(0, Ordering::Relaxed);
        }
    }

    /// Why the current rule stopped, if it did.
    pub(crate) fn over(&self) -> Option<Over> {
        Over::from_code(self.over.load(Ordering::Relaxed))
    }

    fn stop(&self, why: Over) -> Over {
        let _ = self
            .over
            .compare_exchange(0, why as u8, Ordering::Relaxed, Ordering::Relaxed);
        self.over().unwrap_or(why)
    }

    /// What the current rule, and the run, may still spend.
    pub(crate) fn remaining(&self) -> (u64, u64) {
        let rule = self
            .limits
            .rule_cost
            .saturating_sub(self.rule_spent.load(Ordering::Relaxed));
        let run = self
            .limits
            .run_cost
            .saturating_sub(self.run_spent.load(Ordering::Relaxed));
        (rule, run)
    }

    /// Stops the current rule (its worst case is over what it may spend).
    pub(crate) fn refuse(&self) {
        self.stop(Over::RuleCost);
    }

    /// Charges `units`; fails when the rule or the run is over budget.
    pub(crate) fn charge(&self, units: u64) -> Result<(), Over> {
        if let Some(over) = self.over() {
            return Err(over);
        }
        let rule = self
            .rule_spent
            .fetch_add(units, Ordering::Relaxed)
            .saturating_add(units);
        let run = self
            .run_spent
            .fetch_add(units, Ordering::Relaxed)
            .saturating_add(units);
        if run > self.limits.run_cost {
            return Err(self.stop(Over::RunCost));
        }
        if rule > self.limits.rule_cost {
            return Err(self.stop(Over::RuleCost));
        }
        let now = self.now();
        if now > Self::nanos(self.limits.run_time) {
            return Err(self.stop(Over::RunTime));
        }
        if now > self.rule_deadline.load(Ordering::Relaxed) {
            return Err(self.stop(Over::RuleTime));
        }
        Ok(())
    }
}

type Function = Box<
    dyn for<'context, 'call> Fn(
            &mut FunctionContext<'context, 'call>,
        ) -> Result<CowVal<'context, 'call>, ExecutionError>
        + Send
        + Sync,
>;

fn over_error(over: Over) -> ExecutionError {
    ExecutionError::function_error("budget", format!("{over:?}"))
}

/// Adds the metering functions of instrumented expressions to `context`.
pub(crate) fn add_functions(context: &mut Context<'_, '_>, meter: &Arc<Meter>) {
    let m = Arc::clone(meter);
    let open: Function = Box::new(move |_| match m.over() {
        Some(over) => Err(over_error(over)),
        None => Ok(CowVal::Borrowed(&CelBool::TRUE)),
    });
    let m = Arc::clone(meter);
    let range: Function = Box::new(move |ftx| {
        let value = ftx
            .args
            .pop()
            .ok_or_else(ExecutionError::missing_argument_or_target)?;
        let size = value
            .as_sizer()
            .map_or(1, |s| u64::try_from(*s.size().inner()).unwrap_or(0));
        m.charge(size.max(1)).map_err(over_error)?;
        Ok(value)
    });
    let m = Arc::clone(meter);
    let item: Function = Box::new(move |ftx| {
        let value = ftx
            .args
            .pop()
            .ok_or_else(ExecutionError::missing_argument_or_target)?;
        let size = match value.downcast_ref::<CelString>() {
            Some(s) => u64::try_from(s.inner().len()).unwrap_or(u64::MAX) / BYTES_PER_UNIT,
            None => value
                .as_sizer()
                .map_or(0, |s| u64::try_from(*s.size().inner()).unwrap_or(0)),
        };
        m.charge(ITEM_COST.saturating_add(size))
            .map_err(over_error)?;
        Ok(value)
    });
    // Neither name can be written in CEL source, so neither conflicts.
    let _ = context.add_function(OPEN_FN, open);
    let _ = context.add_function(RANGE_FN, range);
    let _ = context.add_function(ITEM_FN, item);
}

/// A copy of `expr` with every comprehension's range, and every value a
/// `map` appends, wrapped in the metering functions.
pub(crate) fn instrument(expr: &IdedExpr) -> IdedExpr {
    let mut copy = expr.clone();
    instrument_node(&mut copy);
    copy
}

fn wrap(node: &mut IdedExpr, function: &str) {
    let inner = std::mem::take(node);
    *node = IdedExpr {
        id: inner.id,
        expr: Expr::Call(CallExpr {
            func_name: function.to_string(),
            target: None,
            args: vec![inner],
        }),
    };
}

fn instrument_node(node: &mut IdedExpr) {
    match &mut node.expr {
        Expr::Comprehension(c) => {
            for child in [
                &mut c.iter_range,
                &mut c.accu_init,
                &mut c.loop_cond,
                &mut c.loop_step,
                &mut c.result,
            ] {
                instrument_node(child);
            }
            if let Some(element) = appended_element(c) {
                // A `filter` appends its own element: nothing new is built.
                if !matches!(element.expr, Expr::Ident(_)) {
                    wrap(element, ITEM_FN);
                }
            }
            let range = std::mem::take(&mut c.iter_range);
            c.iter_range = IdedExpr {
                id: range.id,
                expr: Expr::Call(CallExpr {
                    func_name: RANGE_FN.to_string(),
                    target: None,
                    args: vec![
                        IdedExpr {
                            id: range.id,
                            expr: Expr::Call(CallExpr {
                                func_name: OPEN_FN.to_string(),
                                target: None,
                                args: Vec::new(),
                            }),
                        },
                        range,
                    ],
                }),
            };
        }
        Expr::Call(call) => {
            if let Some(target) = &mut call.target {
                instrument_node(target);
            }
            for arg in &mut call.args {
                instrument_node(arg);
            }
        }
        Expr::Select(select) => instrument_node(&mut select.operand),
        Expr::List(list) => {
            for element in &mut list.elements {
                instrument_node(element);
            }
        }
        Expr::Map(map) => {
            for entry in &mut map.entries {
                if let EntryExpr::MapEntry(e) = &mut entry.expr {
                    instrument_node(&mut e.key);
                    instrument_node(&mut e.value);
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &mut s.entries {
                if let EntryExpr::StructField(f) = &mut entry.expr {
                    instrument_node(&mut f.value);
                }
            }
        }
        _ => {}
    }
}

/// The element a `map`/`filter` step appends (`@result + [e]`, or
/// `cond ? @result + [e] : @result`), the shape the interpreter builds in
/// place; wrapping `e` keeps that shape.
fn appended_element(c: &mut ComprehensionExpr) -> Option<&mut IdedExpr> {
    let accu = c.accu_var.clone();
    let is_accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(name) if *name == accu);
    if !is_accu(&c.result) {
        return None;
    }
    let guarded = match &c.loop_step.expr {
        Expr::Call(call) if call.func_name == operators::CONDITIONAL && call.args.len() == 3 => {
            if !is_accu(&call.args[2]) {
                return None;
            }
            true
        }
        _ => false,
    };
    let append = if guarded {
        match &mut c.loop_step.expr {
            Expr::Call(call) => &mut call.args[1],
            _ => return None,
        }
    } else {
        &mut c.loop_step
    };
    match &mut append.expr {
        Expr::Call(call)
            if call.func_name == operators::ADD
                && call.target.is_none()
                && call.args.len() == 2
                && is_accu(&call.args[0]) =>
        {
            match &mut call.args[1].expr {
                Expr::List(list) if list.elements.len() == 1 => list.elements.first_mut(),
                _ => None,
            }
        }
        _ => None,
    }
}

// ---- the static estimate ---------------------------------------------------

/// The worst case of a condition over a set of facts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Estimate {
    /// Steps, as the meter counts iterations.
    pub cost: f64,
    /// The ranges of the costliest nesting, outermost first, with their
    /// sizes.
    pub chain: Vec<(String, u64)>,
}

impl Estimate {
    fn add(mut self, other: Estimate) -> Estimate {
        if other.cost > self.cost {
            self.chain = other.chain;
        }
        self.cost += other.cost;
        self
    }

    /// `a: 1000 × b: 1000`, for a note.
    pub(crate) fn describe_chain(&self) -> String {
        self.chain
            .iter()
            .map(|(range, size)| format!("{range}: {size}"))
            .collect::<Vec<_>>()
            .join(" × ")
    }
}

/// One step of a path into the facts.
#[derive(Debug, Clone)]
enum Step {
    Field(String),
    /// Any element of a list (any value of a map).
    Each,
}

/// What the estimate knows of a value.
#[derive(Debug, Clone)]
enum Abstract {
    /// Any of the facts nodes this path (from `facts`) reaches.
    Facts(Vec<Step>),
    /// A list of at most this many elements (unknown: `None`), each of
    /// them described by the second field.
    List(Option<u64>, Box<Abstract>),
    Unknown,
}

impl Abstract {
    fn elements(&self) -> Abstract {
        match self {
            Abstract::Facts(path) => {
                let mut path = path.clone();
                path.push(Step::Each);
                Abstract::Facts(path)
            }
            Abstract::List(_, element) => (**element).clone(),
            Abstract::Unknown => Abstract::Unknown,
        }
    }

    fn field(&self, name: &str) -> Abstract {
        match self {
            Abstract::Facts(path) => {
                let mut path = path.clone();
                path.push(Step::Field(name.to_string()));
                Abstract::Facts(path)
            }
            _ => Abstract::Unknown,
        }
    }
}

/// The largest list (or map) any node `path` reaches from `node` holds.
fn max_len(node: &Json, path: &[Step]) -> u64 {
    match path.split_first() {
        None => match node {
            Json::Array(items) => items.len() as u64,
            Json::Object(map) => map.len() as u64,
            _ => 0,
        },
        Some((Step::Field(name), rest)) => node.get(name).map_or(0, |n| max_len(n, rest)),
        Some((Step::Each, rest)) => match node {
            Json::Array(items) => items.iter().map(|n| max_len(n, rest)).max().unwrap_or(0),
            Json::Object(map) => map.values().map(|n| max_len(n, rest)).max().unwrap_or(0),
            _ => 0,
        },
    }
}

/// The worst case of `expr` over `facts` (see the module documentation).
pub(crate) fn estimate(expr: &IdedExpr, facts: &Json) -> Estimate {
    Estimator { facts }.walk(expr, &HashMap::new()).0
}

struct Estimator<'j> {
    facts: &'j Json,
}

impl Estimator<'_> {
    fn len(&self, value: &Abstract) -> Option<u64> {
        match value {
            Abstract::Facts(path) => Some(max_len(self.facts, path)),
            Abstract::List(len, _) => *len,
            Abstract::Unknown => None,
        }
    }

    fn walk(&self, node: &IdedExpr, scope: &HashMap<String, Abstract>) -> (Estimate, Abstract) {
        match &node.expr {
            Expr::Ident(name) => {
                let value = match scope.get(name) {
                    Some(value) => value.clone(),
                    None if name == "facts" => Abstract::Facts(Vec::new()),
                    None => Abstract::Unknown,
                };
                (Estimate::default(), value)
            }
            Expr::Select(select) => {
                let (cost, operand) = self.walk(&select.operand, scope);
                let value = if select.test {
                    Abstract::Unknown
                } else {
                    operand.field(&select.field)
                };
                (cost, value)
            }
            Expr::Call(call) => self.call(call, scope),
            Expr::List(list) => {
                let mut cost = Estimate::default();
                let mut element = Abstract::Unknown;
                for (i, e) in list.elements.iter().enumerate() {
                    let (c, v) = self.walk(e, scope);
                    cost = cost.add(c);
                    if i == 0 {
                        element = v;
                    } else {
                        element = Abstract::Unknown;
                    }
                }
                let len = Some(list.elements.len() as u64);
                (cost, Abstract::List(len, Box::new(element)))
            }
            Expr::Map(map) => {
                let mut cost = Estimate::default();
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(e) = &entry.expr {
                        cost = cost.add(self.walk(&e.key, scope).0);
                        cost = cost.add(self.walk(&e.value, scope).0);
                    }
                }
                (cost, Abstract::Unknown)
            }
            Expr::Struct(s) => {
                let mut cost = Estimate::default();
                for entry in &s.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        cost = cost.add(self.walk(&f.value, scope).0);
                    }
                }
                (cost, Abstract::Unknown)
            }
            Expr::Comprehension(c) => self.comprehension(c, scope),
            _ => (Estimate::default(), Abstract::Unknown),
        }
    }

    fn call(&self, call: &CallExpr, scope: &HashMap<String, Abstract>) -> (Estimate, Abstract) {
        let mut cost = Estimate::default();
        if let Some(target) = &call.target {
            cost = cost.add(self.walk(target, scope).0);
        }
        let mut args = Vec::with_capacity(call.args.len());
        let mut costs = Vec::with_capacity(call.args.len());
        for arg in &call.args {
            let (c, v) = self.walk(arg, scope);
            costs.push(c);
            args.push(v);
        }
        let value = match (call.func_name.as_str(), args.as_slice()) {
            (operators::INDEX, [operand, _]) => match (&call.args[1].expr, operand) {
                (Expr::Literal(LiteralValue::String(key)), Abstract::Facts(_)) => {
                    operand.field(key.inner())
                }
                _ => operand.elements(),
            },
            (operators::ADD, [a, b]) => {
                let len = match (self.len(a), self.len(b)) {
                    (Some(x), Some(y)) => Some(x.saturating_add(y)),
                    _ => None,
                };
                // `@result + [e]`: the accumulator is unknown, the
                // elements are those of the list appended.
                let element = match (a, b) {
                    (Abstract::Unknown, _) => b.elements(),
                    (_, Abstract::Unknown) => a.elements(),
                    _ => Abstract::Unknown,
                };
                Abstract::List(len, Box::new(element))
            }
            (operators::CONDITIONAL, [_, then, otherwise]) => {
                // One branch runs: the costlier counts.
                let mut costs = costs.into_iter();
                let condition = costs.next().unwrap_or_default();
                let a = costs.next().unwrap_or_default();
                let b = costs.next().unwrap_or_default();
                let branch = if a.cost >= b.cost { a } else { b };
                let value = match then {
                    Abstract::Unknown => otherwise.clone(),
                    _ => then.clone(),
                };
                return (cost.add(condition).add(branch), value);
            }
            _ => Abstract::Unknown,
        };
        for c in costs {
            cost = cost.add(c);
        }
        (cost, value)
    }

    fn comprehension(
        &self,
        c: &ComprehensionExpr,
        scope: &HashMap<String, Abstract>,
    ) -> (Estimate, Abstract) {
        let (range_cost, range) = self.walk(&c.iter_range, scope);
        let size = self.len(&range);
        let element = range.elements();
        let mut inner = scope.clone();
        match &c.iter_var2 {
            Some(second) => {
                inner.insert(c.iter_var.clone(), Abstract::Unknown);
                inner.insert(second.clone(), element);
            }
            None => {
                inner.insert(c.iter_var.clone(), element);
            }
        }
        inner.insert(c.accu_var.clone(), Abstract::Unknown);
        let (init_cost, _) = self.walk(&c.accu_init, scope);
        let (cond_cost, _) = self.walk(&c.loop_cond, &inner);
        let (step_cost, step) = self.walk(&c.loop_step, &inner);
        let mut after = scope.clone();
        after.insert(c.accu_var.clone(), Abstract::Unknown);
        let (result_cost, _) = self.walk(&c.result, &after);

        let body = cond_cost.add(step_cost);
        // An unsized range counts as one element here (the meter counts
        // it when it runs).
        let n = size.unwrap_or(1);
        let mut chain = vec![(range_text(&c.iter_range), n)];
        chain.extend(body.chain);
        let loop_cost = Estimate {
            cost: n as f64 * (1.0 + body.cost),
            chain,
        };
        let cost = range_cost.add(init_cost).add(loop_cost).add(result_cost);
        // `map` and `filter` give a list of at most `n` elements.
        let value = match (&c.result.expr, step) {
            (Expr::Ident(name), Abstract::List(_, element)) if *name == c.accu_var => {
                Abstract::List(size, element)
            }
            _ => Abstract::Unknown,
        };
        (cost, value)
    }
}

/// A range as written, as far as it is a path (`facts.net.addresses`).
pub(crate) fn range_text(node: &IdedExpr) -> String {
    match &node.expr {
        Expr::Ident(name) => name.clone(),
        Expr::Select(select) => format!("{}.{}", range_text(&select.operand), select.field),
        Expr::Call(call) if call.func_name == operators::INDEX && call.args.len() == 2 => {
            format!("{}[…]", range_text(&call.args[0]))
        }
        Expr::Comprehension(c) => format!("{}.…(…)", range_text(&c.iter_range)),
        _ => "…".to_string(),
    }
}

/// The first comprehension nested [`NESTING_WARNING`] deep in `expr` (each
/// inside the loop of the one before), with the ranges of the nesting.
pub(crate) fn deep_nesting(expr: &IdedExpr) -> Option<(&IdedExpr, Vec<String>)> {
    fn find<'e>(node: &'e IdedExpr, ranges: &mut Vec<String>) -> Option<&'e IdedExpr> {
        match &node.expr {
            Expr::Comprehension(c) => {
                if let Some(found) = find(&c.iter_range, ranges) {
                    return Some(found);
                }
                ranges.push(range_text(&c.iter_range));
                if ranges.len() >= NESTING_WARNING {
                    return Some(node);
                }
                for child in [&c.loop_cond, &c.loop_step] {
                    if let Some(found) = find(child, ranges) {
                        return Some(found);
                    }
                }
                ranges.pop();
                [&c.accu_init, &c.result]
                    .into_iter()
                    .find_map(|child| find(child, ranges))
            }
            Expr::Call(call) => call
                .target
                .iter()
                .map(|t| &**t)
                .chain(call.args.iter())
                .find_map(|child| find(child, ranges)),
            Expr::Select(select) => find(&select.operand, ranges),
            Expr::List(list) => list.elements.iter().find_map(|e| find(e, ranges)),
            Expr::Map(map) => map.entries.iter().find_map(|entry| match &entry.expr {
                EntryExpr::MapEntry(e) => find(&e.key, ranges).or_else(|| find(&e.value, ranges)),
                EntryExpr::StructField(f) => find(&f.value, ranges),
            }),
            Expr::Struct(s) => s.entries.iter().find_map(|entry| match &entry.expr {
                EntryExpr::StructField(f) => find(&f.value, ranges),
                EntryExpr::MapEntry(e) => find(&e.value, ranges),
            }),
            _ => None,
        }
    }
    let mut ranges = Vec::new();
    find(expr, &mut ranges).map(|node| (node, ranges))
}

/// The warning [`deep_nesting`] gives, for `rules validate`.
pub(crate) fn nesting_warning(ranges: &[String], limits: &Limits) -> String {
    format!(
        "comprehensions (exists/all/map/filter) nested {} deep over {}: the cost is the \
         product of these lists' sizes (three over 1,000 elements are 10^9 steps); a rule \
         over its evaluation budget of {} steps is not evaluated and becomes a note",
        ranges.len(),
        ranges.join(" × "),
        limits.rule_cost
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cel::Value;

    fn run(source: &str, metered: bool) -> Result<Value, String> {
        let program = cel::Program::compile(source).expect("compiles");
        let meter = Arc::new(Meter::new(Limits::default()));
        let mut context = Context::default();
        add_functions(&mut context, &meter);
        let result = if metered {
            context.resolve(&instrument(program.expression()))
        } else {
            program.execute(&context)
        };
        result.map_err(|e| e.to_string())
    }

    /// The metered expression gives what the expression gives, errors
    /// (and errors that `exists`/`all` absorb) included.
    #[test]
    fn metering_does_not_change_results() {
        for source in [
            "[1, 2, 3].map(x, x * 2)",
            "[1, 2, 3].filter(x, x > 1)",
            "[1, 2, 3].map(x, x > 1, x * 10)",
            "[1, 2, 3].exists(x, x == 2)",
            "[1, 2, 3].all(x, x > 0)",
            "[1, 2, 3].exists_one(x, x == 2)",
            "{'a': 1, 'b': 2}.exists(k, k == 'b')",
            "[[1, 2], [3]].map(l, l.map(x, x + 1))",
            "[1, 2].exists(x, [3, 4].exists(y, x + y == 6))",
            "['a', 'b'].map(s, s + s).filter(s, s != 'aa')",
            "[1, 0].exists(x, 1 / x == 1)",
            "[0].all(x, 1 / x == 1)",
            "[0, 1].map(x, 1 / x)",
            "size([1, 2, 3].filter(x, [x].exists(y, y == 2))) == 1",
        ] {
            assert_eq!(run(source, true), run(source, false), "{source}");
        }
    }

    #[test]
    fn the_meter_counts_ranges_and_built_values() {
        let meter = Arc::new(Meter::new(Limits {
            rule_cost: 1000,
            ..Limits::default()
        }));
        let mut context = Context::default();
        add_functions(&mut context, &meter);
        let program = cel::Program::compile("[1, 2, 3].map(x, [1, 2].map(y, y))").expect("ok");
        meter.begin_rule();
        assert!(context.resolve(&instrument(program.expression())).is_ok());
        // Ranges: 3 + 3 × 2; built: 3 lists of 2 (8 + 2 each); the inner
        // `map` appends its own element, which builds nothing new.
        assert_eq!(meter.remaining().0, 1000 - 9 - 3 * 10);
        let program = cel::Program::compile("[1, 2, 3].map(x, [1, 2].map(y, 'x'))").expect("ok");
        let many = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]";
        let nested = format!("{many}.exists(a, {many}.exists(b, {many}.exists(c, false)))");
        let nested = cel::Program::compile(&nested).expect("ok");
        meter.begin_rule();
        let result = context.resolve(&instrument(nested.expression()));
        assert!(result.is_err(), "{result:?}");
        assert_eq!(meter.over(), Some(Over::RuleCost));
        // The next rule starts afresh.
        meter.begin_rule();
        assert!(context.resolve(&instrument(program.expression())).is_ok());
    }

    #[test]
    fn the_estimate_multiplies_nested_ranges_over_the_facts() {
        let facts: Json = serde_json::json!({
            "a": (0..1000).collect::<Vec<u32>>(),
            "b": [{"c": [1, 2, 3]}, {"c": [1, 2, 3, 4, 5]}],
        });
        let estimate_of = |source: &str| {
            let program = cel::Program::compile(source).expect("compiles");
            estimate(program.expression(), &facts)
        };
        let e = estimate_of("facts.a.exists(x, facts.a.exists(y, facts.a.exists(z, x + y == z)))");
        assert_eq!(e.cost, 1_001_001_000.0);
        assert_eq!(
            e.describe_chain(),
            "facts.a: 1000 × facts.a: 1000 × facts.a: 1000"
        );
        // A path through each element: the largest list it reaches.
        let e = estimate_of("facts.b.exists(x, x.c.exists(y, y == 9))");
        assert_eq!(e.cost, 2.0 * (1.0 + 5.0));
        // `map` gives a list as long as its range, of what it builds.
        let e = estimate_of("facts.a.map(x, facts.b).exists(l, l.exists(m, true))");
        assert_eq!(e.cost, 1000.0 + 1000.0 * (1.0 + 2.0));
        // A conditional runs one branch.
        let e = estimate_of("true ? facts.a.exists(x, true) : facts.b.exists(x, true)");
        assert_eq!(e.cost, 1000.0);
        // What it cannot size counts one element (the meter counts it).
        let e = estimate_of("{'l': facts.a}.l.exists(x, true)");
        assert_eq!(e.cost, 1.0);
    }

    #[test]
    fn deep_nesting_is_found_inside_loops_only() {
        let nesting = |source: &str| {
            let program = cel::Program::compile(source).expect("compiles");
            deep_nesting(program.expression()).map(|(_, ranges)| ranges)
        };
        assert_eq!(
            nesting("facts.a.exists(x, facts.b.exists(y, x.c.exists(z, true)))"),
            Some(vec!["facts.a".into(), "facts.b".into(), "x.c".into()])
        );
        // Side by side, or one after another: not nested.
        assert_eq!(
            nesting("facts.a.exists(x, facts.b.exists(y, true)) && facts.c.exists(z, true)"),
            None
        );
        assert_eq!(
            nesting("facts.a.map(x, x).filter(x, x > 1).exists(x, facts.b.exists(y, true))"),
            None
        );
    }
}
