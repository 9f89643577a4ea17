//! Compiling rule conditions (CEL) and checking the fields they name
//! against the shape of the facts, so a typo is reported by `diag rules
//! validate` as `file:line:col` instead of failing silently at run time.

use super::lets::Expanded;
use super::{budget, Condition, Locator, RuleProblem};
use crate::facts::Facts;
use cel::common::ast::{Expr, LiteralValue};
use cel::IdedExpr;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

/// The keys of a value of the `findings` map.
const FINDING_KEYS: [&str; 5] = ["severity", "count", "summary", "fields", "title"];

static FACTS_SHAPE: LazyLock<Json> =
    LazyLock::new(|| serde_json::to_value(Facts::schema_sample()).unwrap_or(Json::Null));

#[derive(Clone, Copy)]
enum Shape<'a> {
    /// A node of the facts schema.
    Facts(&'a Json),
    /// The `findings` map.
    Findings,
    /// One value of the `findings` map.
    Finding,
    /// Unknown: not checked.
    Any,
}

struct Walker<'a> {
    program: &'a cel::Program,
    expanded: &'a Expanded,
    at: &'a Locator<'a>,
    problems: Vec<RuleProblem>,
    refers_to: Vec<String>,
}

/// Compiles a condition (`source` as written, `expanded` with its lets
/// replaced, see `lets`) and checks the fields it names; problems are
/// located in the rule file through `expanded`.
pub(crate) fn compile(
    source: String,
    expanded: Expanded,
    at: &Locator<'_>,
) -> Result<Condition, Vec<RuleProblem>> {
    let text = expanded.text.as_str();
    let program = match cel::Program::compile(text) {
        Ok(program) => program,
        Err(errors) => {
            return Err(errors
                .errors
                .iter()
                .map(|e| {
                    let offset = offset_of_position(text, e.pos.0, e.pos.1);
                    at.at(
                        expanded.origin(offset),
                        format!("condition does not parse: {}", e.msg),
                    )
                })
                .collect())
        }
    };
    let mut walker = Walker {
        program: &program,
        expanded: &expanded,
        at,
        problems: Vec::new(),
        refers_to: Vec::new(),
    };
    walker.walk(program.expression(), &HashMap::new());
    let Walker {
        problems,
        mut refers_to,
        ..
    } = walker;
    if !problems.is_empty() {
        return Err(problems);
    }
    crate::sort::sort(&mut refers_to);
    refers_to.dedup();
    let warnings = budget::deep_nesting(program.expression())
        .map(|(node, ranges)| {
            let offset = offset_of_node(&program, text, node);
            let mut warning = at.at(
                expanded.origin(offset),
                budget::nesting_warning(&ranges, &budget::Limits::default()),
            );
            warning.warning = true;
            warning
        })
        .into_iter()
        .collect();
    Ok(Condition {
        source,
        text: expanded.text,
        program: Arc::new(program).into(),
        metered: std::sync::OnceLock::new(),
        refers_to,
        warnings,
        lets: expanded.uses.into_iter().collect(),
        bound: std::sync::OnceLock::new(),
    })
}

/// `findings['id']` and `'id' in findings` (either quote) in a source.
static FINDING_REFERENCE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r#"findings\s*\[\s*(?:'([^'\\]+)'|"([^"\\]+)")\s*\]|(?:'([^'\\]+)'|"([^"\\]+)")\s+in\s+findings\b"#,
    )
    .expect("the reference pattern compiles")
});

/// A built-in condition that compiles on first use, its references to
/// findings read from its text (a test checks that this gives what
/// [`compile`] finds in the expression, for every built-in condition).
pub(crate) fn deferred(source: String, expanded: Expanded) -> Condition {
    let mut refers_to = references(&expanded.text);
    crate::sort::sort(&mut refers_to);
    refers_to.dedup();
    Condition {
        source,
        text: expanded.text,
        program: std::sync::OnceLock::new(),
        metered: std::sync::OnceLock::new(),
        refers_to,
        warnings: Vec::new(),
        lets: expanded.uses.into_iter().collect(),
        bound: std::sync::OnceLock::new(),
    }
}

/// The finding ids a condition's text names as `findings['id']` or
/// `'id' in findings`.
pub(crate) fn references(source: &str) -> Vec<String> {
    FINDING_REFERENCE
        .captures_iter(source)
        .filter_map(|c| {
            (1..=4)
                .find_map(|i| c.get(i))
                .map(|m| m.as_str().to_string())
        })
        .collect()
}

/// Byte offset in `source` where `node` was written (0 when unknown).
fn offset_of_node(program: &cel::Program, source: &str, node: &IdedExpr) -> usize {
    program
        .source_info()
        .offset_for(node.id)
        .and_then(|(start, _)| usize::try_from(start).ok())
        .map_or(0, |chars| {
            source
                .char_indices()
                .nth(chars)
                .map_or(source.len(), |(i, _)| i)
        })
}

/// Byte offset in `source` of a parser position (1-based line, 1-based
/// column counted in characters).
fn offset_of_position(source: &str, line: isize, col: isize) -> usize {
    let line = usize::try_from(line.max(1)).unwrap_or(1);
    let col = usize::try_from(col.max(1)).unwrap_or(1);
    let mut offset = 0;
    for (index, text) in source.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            return offset
                + text
                    .char_indices()
                    .nth(col - 1)
                    .map_or(text.len(), |(i, _)| i);
        }
        offset += text.len();
    }
    source.len()
}

impl<'a> Walker<'a> {
    fn problem(&mut self, node: &IdedExpr, message: String) {
        let offset = offset_of_node(self.program, &self.expanded.text, node);
        self.problems
            .push(self.at.at(self.expanded.origin(offset), message));
    }

    fn walk(&mut self, node: &IdedExpr, scope: &HashMap<String, Shape<'static>>) -> Shape<'static> {
        match &node.expr {
            Expr::Ident(name) => match name.as_str() {
                "facts" => Shape::Facts(&FACTS_SHAPE),
                "findings" => Shape::Findings,
                _ => match scope.get(name) {
                    Some(shape) => *shape,
                    None if name.starts_with('@') => Shape::Any,
                    None => {
                        self.problem(node, format!("unknown variable `{name}`: conditions see `facts`, `findings` and the lets of their rule ([rule.let])"));
                        Shape::Any
                    }
                },
            },
            Expr::Select(select) => {
                let operand = self.walk(&select.operand, scope);
                self.field(node, operand, &select.field)
            }
            Expr::Call(call) => {
                if let Some(target) = &call.target {
                    self.walk(target, scope);
                }
                let args: Vec<Shape<'static>> =
                    call.args.iter().map(|a| self.walk(a, scope)).collect();
                match call.func_name.as_str() {
                    "_[_]" if args.len() == 2 => {
                        let key = string_literal(&call.args[1]);
                        match (args[0], key) {
                            (Shape::Findings, Some(id)) => {
                                self.refers_to.push(id);
                                Shape::Finding
                            }
                            (Shape::Facts(Json::Array(items)), _) => {
                                items.first().map_or(Shape::Any, Shape::Facts)
                            }
                            (shape @ Shape::Facts(Json::Object(_)), Some(key)) => {
                                self.field(node, shape, &key)
                            }
                            _ => Shape::Any,
                        }
                    }
                    "@in" if args.len() == 2 => {
                        if let (Shape::Findings, Some(id)) =
                            (args[1], string_literal(&call.args[0]))
                        {
                            self.refers_to.push(id);
                        }
                        Shape::Any
                    }
                    _ => Shape::Any,
                }
            }
            Expr::Comprehension(c) => {
                let range = self.walk(&c.iter_range, scope);
                let element = match range {
                    Shape::Facts(Json::Array(items)) => {
                        items.first().map_or(Shape::Any, Shape::Facts)
                    }
                    _ => Shape::Any,
                };
                let mut inner = scope.clone();
                inner.insert(c.iter_var.clone(), element);
                if let Some(second) = &c.iter_var2 {
                    inner.insert(second.clone(), Shape::Any);
                }
                inner.insert(c.accu_var.clone(), Shape::Any);
                self.walk(&c.accu_init, scope);
                self.walk(&c.loop_cond, &inner);
                self.walk(&c.loop_step, &inner);
                let mut result_scope = scope.clone();
                result_scope.insert(c.accu_var.clone(), Shape::Any);
                self.walk(&c.result, &result_scope);
                Shape::Any
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.walk(element, scope);
                }
                Shape::Any
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let cel::common::ast::EntryExpr::MapEntry(e) = &entry.expr {
                        self.walk(&e.key, scope);
                        self.walk(&e.value, scope);
                    }
                }
                Shape::Any
            }
            _ => Shape::Any,
        }
    }

    fn field(&mut self, node: &IdedExpr, operand: Shape<'static>, field: &str) -> Shape<'static> {
        match operand {
            Shape::Facts(Json::Object(map)) => match map.get(field) {
                Some(child) => Shape::Facts(child),
                None => {
                    let known: Vec<&str> = map.keys().map(String::as_str).collect();
                    self.problem(
                        node,
                        format!("unknown field `{field}` (known here: {})", known.join(", ")),
                    );
                    Shape::Any
                }
            },
            Shape::Facts(Json::Array(_)) => {
                self.problem(
                    node,
                    format!("`.{field}` on a list: use exists(), all(), filter() or [index]"),
                );
                Shape::Any
            }
            Shape::Facts(_) => {
                self.problem(node, format!("`.{field}` on a value that has no fields"));
                Shape::Any
            }
            Shape::Finding => {
                if !FINDING_KEYS.contains(&field) {
                    self.problem(
                        node,
                        format!(
                            "unknown field `{field}` of a finding (known: {})",
                            FINDING_KEYS.join(", ")
                        ),
                    );
                }
                Shape::Any
            }
            Shape::Findings => {
                self.problem(
                    node,
                    format!("select a finding with findings['{field}'] (ids contain dots)"),
                );
                Shape::Any
            }
            Shape::Any => Shape::Any,
        }
    }
}

fn string_literal(node: &IdedExpr) -> Option<String> {
    match &node.expr {
        Expr::Literal(LiteralValue::String(s)) => Some(s.inner().to_string()),
        _ => None,
    }
}
