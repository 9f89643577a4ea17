//! The facts tree rule conditions read (`diag rules facts`, and
//! `docs/facts.md`, generated from the same function): every field's path
//! (`facts.net.default_routes[].gateway`), its type as CEL sees it, one
//! example and its description.
//!
//! One source, the [`Facts`] type:
//!
//! - **paths and types**: [`Facts`] serialised, as conditions see it:
//!   [`Facts::schema_sample`] (one element in every list) merged with the
//!   facts of every built-in rule case, so a field that is a list of maps
//!   shows its maps' fields;
//! - **examples**: the first value a rule case gives that is not empty
//!   (not `""`, `0`, `false`), in the order of the rule files; a field no
//!   case fills shows its default;
//! - **descriptions**: the doc comment of each field of the Rust structs,
//!   read from the sources at build time (build.rs, `facts_docs`), which
//!   also tells which objects are maps with keys of the data's choosing
//!   (`[key]` in a path) rather than structs.

use super::RuleSet;
use crate::facts::Facts;
use crate::source::snapshot::Snapshot;
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

mod docs {
    include!(concat!(env!("OUT_DIR"), "/fact_docs.rs"));
}

/// The struct the tree starts from (see build.rs).
const ROOT: &str = "crate::facts::Facts";
/// Examples longer than this many characters are cut.
const EXAMPLE_MAX: usize = 48;
/// The time the rule cases' snapshots are taken at, so that what a case
/// gives does not depend on the day (a syslog line's year).
const TAKEN_AT_SECS: u64 = 1_767_225_600;

/// One field of the facts tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FactField {
    /// Its path in a condition: `facts.net.default_routes[].gateway`
    /// (`[]`: any element of a list; `[key]`: any value of a map).
    pub path: String,
    /// Its type as CEL sees it: `bool`, `int`, `float`, `string`, `map`,
    /// `list of ...`, `map of string to ...` (`or null` when it may be
    /// absent).
    #[serde(rename = "type")]
    pub kind: String,
    /// An example value (JSON), when it is a scalar or a list of scalars.
    pub example: Option<String>,
    /// What it is: the doc comment of the Rust field.
    pub description: String,
}

/// One field of a struct instance, from the sources (build.rs).
#[derive(Debug)]
struct Row {
    /// Its serialised name.
    name: String,
    /// Its doc comment.
    doc: String,
    /// The struct instance its value (or its elements, or values) is.
    child: String,
    /// How many maps with keys of the data's choosing the value is in.
    maps: u8,
    /// The CEL type of a scalar, from the Rust type ("" when unknown).
    scalar: String,
}

/// Every struct instance's fields, unpacked from the build's table.
static ROWS: LazyLock<BTreeMap<String, Vec<Row>>> = LazyLock::new(|| {
    let mut table: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let text = zstd::bulk::decompress(docs::FACT_DOCS, docs::FACT_DOCS_LEN).unwrap_or_default();
    for line in String::from_utf8_lossy(&text).lines() {
        let mut parts = line.splitn(6, '\t');
        let mut next = || parts.next().unwrap_or("").to_string();
        let (instance, name, child, maps, scalar, doc) =
            (next(), next(), next(), next(), next(), next());
        table.entry(instance).or_default().push(Row {
            name,
            doc,
            child,
            maps: maps.parse().unwrap_or(0),
            scalar,
        });
    }
    table
});

fn rows(instance: &str) -> &'static [Row] {
    ROWS.get(instance).map_or(&[], Vec::as_slice)
}

/// What the merged facts show of one node.
#[derive(Debug, Default)]
struct Node {
    /// The scalar types seen (`bool`, `int`, `float`, `string`, `null`).
    scalars: BTreeSet<&'static str>,
    /// The example: the first value that is not empty, else the first.
    example: Option<Json>,
    interesting: bool,
    /// Seen as a list: its elements.
    items: Option<Box<Node>>,
    /// Seen as an object: a struct's fields ...
    fields: BTreeMap<String, Node>,
    /// ... or a map's values,
    values: Option<Box<Node>>,
    /// and the first of its entries whose value is a scalar that is not
    /// empty (the map's example).
    entry: Option<(String, Json)>,
    object: bool,
}

impl Node {
    /// Adds what `json` shows; `instance` is the struct it is (or its
    /// elements, or its values are), `maps` how many maps it is in.
    fn merge(&mut self, json: &Json, instance: &str, maps: u8) {
        match json {
            Json::Array(items) => {
                let node = self.items.get_or_insert_with(Default::default);
                for item in items {
                    node.merge(item, instance, maps);
                }
            }
            Json::Object(object) => {
                self.object = true;
                if maps > 0 {
                    let node = self.values.get_or_insert_with(Default::default);
                    for (key, value) in object {
                        node.merge(value, instance, maps - 1);
                        if self.entry.is_none() && interesting(value) {
                            self.entry = Some((key.clone(), value.clone()));
                        }
                    }
                } else {
                    let rows = rows(instance);
                    for (key, value) in object {
                        let row = rows.iter().find(|r| r.name == *key);
                        let (child, maps) = row.map_or(("", 0), |r| (r.child.as_str(), r.maps));
                        self.fields
                            .entry(key.clone())
                            .or_default()
                            .merge(value, child, maps);
                    }
                }
            }
            scalar => {
                let kind = match scalar {
                    Json::Bool(_) => "bool",
                    Json::Number(n) if n.is_f64() => "float",
                    Json::Number(_) => "int",
                    Json::String(_) => "string",
                    _ => "null",
                };
                let interesting = interesting(scalar);
                self.scalars.insert(kind);
                if kind != "null" && (self.example.is_none() || (interesting && !self.interesting))
                {
                    self.example = Some(scalar.clone());
                    self.interesting = interesting;
                }
            }
        }
    }

    /// The node's type; `maps` as for [`Node::merge`], `hint` the scalar
    /// type the Rust field has.
    fn kind(&self, maps: u8, hint: &str) -> String {
        let null = if self.scalars.contains("null") {
            " or null"
        } else {
            ""
        };
        if let Some(items) = &self.items {
            return format!("list of {}{null}", items.kind(maps, hint));
        }
        if self.object {
            return match (&self.values, maps) {
                (_, 0) => format!("map{null}"),
                (Some(values), _) => {
                    format!("map of string to {}{null}", values.kind(maps - 1, hint))
                }
                (None, _) => {
                    let mut kind = or_unknown(hint).to_string();
                    for _ in 0..maps {
                        kind = format!("map of string to {kind}");
                    }
                    format!("{kind}{null}")
                }
            };
        }
        let known: Vec<&str> = self
            .scalars
            .iter()
            .copied()
            .filter(|k| *k != "null")
            .collect();
        let base = if known.is_empty() {
            or_unknown(hint).to_string()
        } else {
            known.join(" or ")
        };
        if self.scalars.contains("null") {
            format!("{base} or null")
        } else {
            base
        }
    }

    /// An example for a scalar, a list of scalars (`["dev/kmsg"]`) or a
    /// map of scalars (`{"REACHABLE": 3}`).
    fn example(&self) -> Option<String> {
        if let Some(items) = &self.items {
            return items
                .example
                .as_ref()
                .filter(|_| items.items.is_none() && !items.object)
                .map(|e| format!("[{}]", shown(e)));
        }
        if self.object {
            return self.entry.as_ref().map(|(key, value)| {
                format!(
                    "{{{}: {}}}",
                    shown(&Json::String(key.clone())),
                    shown(value)
                )
            });
        }
        self.example.as_ref().map(shown)
    }
}

/// A scalar that is not empty: not `null`, `""`, `0` or `false`.
fn interesting(value: &Json) -> bool {
    match value {
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64() != Some(0.0),
        Json::String(s) => !s.is_empty(),
        _ => false,
    }
}

fn or_unknown(hint: &str) -> &str {
    if hint.is_empty() {
        "any"
    } else {
        hint
    }
}

/// A scalar as JSON, cut at [`EXAMPLE_MAX`] characters, safe to print
/// (`sanitize::visible_line`).
fn shown(value: &Json) -> String {
    crate::sanitize::visible_line(&json_text(value))
}

fn json_text(value: &Json) -> String {
    match value {
        Json::String(s) if s.chars().count() > EXAMPLE_MAX => {
            let cut: String = s.chars().take(EXAMPLE_MAX).collect();
            let quoted = serde_json::to_string(&cut).unwrap_or_default();
            format!("{}…\"", quoted.trim_end_matches('"'))
        }
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Every field of the facts tree, parents before children, each struct's
/// fields in the order the Rust struct declares them.
pub fn tree() -> Vec<FactField> {
    let mut root = Node::default();
    let sample = serde_json::to_value(Facts::schema_sample()).unwrap_or(Json::Null);
    root.merge(&sample, ROOT, 0);
    if let Ok(rules) = RuleSet::builtin_with_cases() {
        let mut ordered: Vec<_> = rules.rules().iter().collect();
        crate::sort::sort_by(&mut ordered, |a, b| {
            (&a.file, a.line).cmp(&(&b.file, b.line))
        });
        for case in ordered.iter().flat_map(|r| &r.cases) {
            let mut snapshot = Snapshot::from_inputs(case.inputs.clone());
            snapshot.taken_at =
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(TAKEN_AT_SECS);
            let (facts, _) = Facts::from_snapshot(&snapshot);
            if let Ok(json) = serde_json::to_value(&facts) {
                root.merge(&json, ROOT, 0);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root, "facts", ROOT, &mut out);
    out
}

fn walk(node: &Node, path: &str, instance: &str, out: &mut Vec<FactField>) {
    // Through lists to the objects their elements are.
    let (mut node, mut path) = (node, path.to_string());
    while let Some(items) = &node.items {
        node = items;
        path.push_str("[]");
    }
    if !node.object {
        return;
    }
    let rows = rows(instance);
    let mut keys: Vec<&String> = node.fields.keys().collect();
    crate::sort::sort_by_key(&mut keys, |k| {
        (
            rows.iter()
                .position(|r| r.name == k.as_str())
                .unwrap_or(usize::MAX),
            (*k).clone(),
        )
    });
    for key in keys {
        let child = &node.fields[key];
        let (doc, child_instance, maps, hint) = rows
            .iter()
            .find(|r| r.name == key.as_str())
            .map_or(("", "", 0, ""), |r| {
                (r.doc.as_str(), r.child.as_str(), r.maps, r.scalar.as_str())
            });
        let child_path = format!("{path}.{key}");
        out.push(FactField {
            path: child_path.clone(),
            kind: child.kind(maps, hint),
            example: child.example(),
            description: crate::sanitize::visible_line(doc),
        });
        // Through lists and maps to the structs they hold.
        let (mut inner, mut inner_path) = (child, child_path);
        for _ in 0..maps {
            while let Some(items) = &inner.items {
                inner = items;
                inner_path.push_str("[]");
            }
            match &inner.values {
                Some(values) => {
                    inner = values;
                    inner_path.push_str("[key]");
                }
                None => break,
            }
        }
        walk(inner, &inner_path, child_instance, out);
    }
}

/// The tree as text: each field's path, type and example on one line, its
/// description indented below.
pub fn text(fields: &[FactField]) -> String {
    let width = fields
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(0);
    let kind_width = fields
        .iter()
        .map(|f| f.kind.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for f in fields {
        let line = format!(
            "{:<width$}  {:<kind_width$}  {}",
            f.path,
            f.kind,
            f.example.as_deref().unwrap_or("")
        );
        out.push_str(line.trim_end());
        out.push('\n');
        if !f.description.is_empty() {
            out.push_str("    ");
            out.push_str(&f.description);
            out.push('\n');
        }
    }
    out
}

/// The tree as the Markdown of `docs/facts.md`.
pub fn markdown(fields: &[FactField]) -> String {
    let mut out = String::from(
        "# The facts rule conditions read\n\n\
         <!-- Generated by `diag rules facts --format markdown` (crates/diag-core/src/diagnose/\n\
         rules/facts_tree.rs): do not edit; a test fails when this file differs from what\n\
         the code gives. -->\n\n\
         Every field of `facts` in a rule condition (docs/rules.md), from the `Facts`\n\
         type: its path (`[]` is any element of a list, `[key]` any value of a map),\n\
         its type as CEL sees it (whole numbers are `int`; `or null` when it may be\n\
         absent), an example (from the built-in rule cases; a field no case fills shows\n\
         its default) and the doc comment of the Rust field. `diag rules facts` prints\n\
         the same in a terminal.\n",
    );
    let mut section = String::new();
    for f in fields {
        let top = f
            .path
            .split('.')
            .nth(1)
            .unwrap_or("")
            .split('[')
            .next()
            .unwrap_or("")
            .to_string();
        if top != section {
            section = top;
            out.push_str(&format!(
                "\n## `facts.{section}`\n\n| path | type | example | description |\n| --- | --- | --- | --- |\n"
            ));
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            code(&f.path),
            cell(&f.kind),
            f.example.as_deref().map(code).unwrap_or_default(),
            cell(&f.description)
        ));
    }
    out
}

/// Text for a table cell: `|` escaped, on one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A code span that holds `text` whatever backticks it has.
fn code(text: &str) -> String {
    let text = cell(text);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 || text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/facts.md` is what the code gives now.
    #[test]
    fn docs_facts_md_is_generated() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/facts.md");
        let generated = markdown(&tree());
        let written = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            written == generated,
            "docs/facts.md differs from what the code generates: regenerate it with \
             `cargo run -p diag -- rules facts --format markdown > docs/facts.md`"
        );
    }

    #[test]
    fn every_path_is_described_and_typed() {
        let fields = tree();
        assert!(fields.len() > 100, "{}", fields.len());
        let paths: BTreeSet<&str> = fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths.len(), fields.len(), "a path is listed twice");
        for path in [
            "facts.net.default_routes[].gateway",
            "facts.host.hostname",
            "facts.neigh.gc_thresh3",
            "facts.md.arrays[].members[].role",
        ] {
            assert!(paths.contains(path), "{path} missing");
        }
        let gateway = fields
            .iter()
            .find(|f| f.path == "facts.net.default_routes[].gateway")
            .expect("gateway");
        assert_eq!(gateway.kind, "string");
        assert!(!gateway.description.is_empty());
        assert!(gateway.example.as_deref().is_some_and(|e| e != "\"\""));
        let undescribed: Vec<&str> = fields
            .iter()
            .filter(|f| f.description.is_empty())
            .map(|f| f.path.as_str())
            .collect();
        assert!(undescribed.is_empty(), "no doc comment: {undescribed:?}");
        for f in &fields {
            assert!(!f.kind.contains("any"), "{}: {}", f.path, f.kind);
        }
    }
}
