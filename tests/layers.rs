//! The module graph of each crate has no cycle, and the top-level modules of
//! diag-parse and diag-core import only downwards (issue 21).
//!
//! The model. The sources of a crate are parsed with `syn`, starting at
//! `lib.rs` or `main.rs` and following `mod x;` (and `#[path]`) to files.
//! Every file module and inline `mod x { }` is a node. Each reference from
//! module A to something of module B is an edge A -> B, with the first
//! place it is seen (`file:line`): `use` trees (groups, renames, globs),
//! and every path of two or more segments in items, types, expressions,
//! patterns and macro bodies (`crate::x::f()`, `super::y::T`, `parse::md::X`
//! after `use crate::parse;`). A path names the deepest known module that
//! is a prefix of it once `use`s are followed, so a re-export
//! (`pub use parse::Facts;` in lib.rs) points at the module that defines
//! the item, and cannot hide a dependency. Anything under `#[cfg(test)]` (or
//! `cfg(any(test, ..))`, `cfg(all(test, ..))`) is left out: the layering
//! is about production code. Single-segment paths are left out too: a name
//! brought in by `use` is already an edge through that `use`, and a local
//! variable named like a module must not become one.
//!
//! The check runs at every level of the module tree: for a module M with
//! children C1..Cn, each child's subtree is one node, and Ci -> Cj when
//! anything in Ci's subtree refers to anything in Cj's subtree. A strongly
//! connected component of two or more children is a cycle. A reference to
//! M itself (a child's `use super::Note`), or from M's own items to a child
//! (`pub use md::MdArray;`), is no edge at this level: M's own items are the
//! facade its children share and its users go through; what matters is
//! that the children under it form a DAG. Whatever such a facade item
//! really names was already resolved to its defining module above.
//!
//! `LAYERS` adds an order to the top level of each crate: bottom to top,
//! groups of top-level modules. A lower group may not import a higher one;
//! modules of one group may import each other (acyclically, as above).
//!
//! `DIAG_LAYERS_PRINT=1 cargo test --test layers -- --nocapture` prints each
//! crate's top-level graph (edges, reference counts, one example each).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proc_macro2::{TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Expr, ExprLit, Item, Lit, Meta, Token, UseTree};

/// Bottom to top, per crate: groups of top-level module names. diag-core's
/// is the target layout (issue 21), its parse layer the crate diag-parse
/// (whose parsers are one group: they may use each other, acyclically);
/// diag-tui's is one group: its modules are only checked for cycles.
/// Names listed here that do not exist (yet) are allowed.
const LAYERS: &[(&str, &[&[&str]])] = &[
    (
        "diag-parse",
        &[
            &["sanitize", "sort"],
            &["model"],
            &[
                "events",
                "fs",
                "hostnamectl",
                "json_records",
                "kernel_log",
                "md",
                "net",
                "netconfig",
                "pcap",
                "services",
                "sos_log",
                "trace",
            ],
        ],
    ),
    (
        "diag-core",
        &[
            &["error"],
            &["source"],
            &["facts"],
            &["probe"],
            &["diagnose"],
            &["report"],
            &["analysis", "watch"],
        ],
    ),
    (
        "diag-tui",
        &[&[
            "baseline_cmd",
            "cli",
            "probe_cmd",
            "report_cmd",
            "tui",
            "watch_cmd",
        ]],
    ),
];

/// A module's path below the crate root (`[]` is the root).
type ModPath = Vec<String>;

/// A `use` leaf: `name` is what it brings into scope (`None`: a glob),
/// `path` the path as written (`crate::a::b`, `super::x`, `regex::Regex`).
#[derive(Debug, Clone)]
struct Use {
    name: Option<String>,
    path: Vec<String>,
    line: usize,
}

#[derive(Debug, Default)]
struct Module {
    /// The file it is in, relative to the base (the workspace root).
    file: String,
    children: BTreeSet<String>,
    /// Module-level `use`s: what makes `M::name` mean something elsewhere.
    uses: Vec<Use>,
    /// Names of the items defined here (they shadow glob imports).
    locals: BTreeSet<String>,
}

/// Module `from` refers to something of module `to` at `file:line`.
#[derive(Debug)]
struct Ref {
    from: ModPath,
    to: ModPath,
    file: String,
    line: usize,
    text: String,
}

/// One crate's modules and every reference between them.
#[derive(Debug)]
struct Crate {
    name: String,
    modules: BTreeMap<ModPath, Module>,
    refs: Vec<Ref>,
}

/// An edge of one level's graph: how many references, and the first one.
type Graph<'a> = BTreeMap<(String, String), (usize, &'a Ref)>;

/// Loads the crate whose sources are in `base/src` (`lib.rs` or `main.rs`).
fn load(name: &str, base: &Path, src: &str) -> Crate {
    let dir = base.join(src);
    let root = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{}: no lib.rs or main.rs", dir.display()));
    let mut loader = Loader {
        base,
        modules: BTreeMap::new(),
        items: Vec::new(),
    };
    loader.file(&root, Vec::new(), true);
    let mut krate = Crate {
        name: name.to_string(),
        modules: loader.modules,
        refs: Vec::new(),
    };
    for (path, items) in &loader.items {
        let mut raw = Vec::new();
        for u in &krate.modules[path].uses {
            raw.push((u.path.clone(), u.line, use_text(u)));
        }
        let mut collector = Collector { raw: &mut raw };
        for item in items {
            if !matches!(item, Item::Mod(_) | Item::Use(_)) {
                collector.visit_item(item);
            }
        }
        raw.sort_by_key(|r| r.1);
        let file = krate.modules[path].file.clone();
        for (segs, line, text) in raw {
            let Some(target) = krate.resolve(path, &segs, 0) else {
                continue;
            };
            let to = target[..krate.deepest(&target)].to_vec();
            if &to != path {
                krate.refs.push(Ref {
                    from: path.clone(),
                    to,
                    file: file.clone(),
                    line,
                    text,
                });
            }
        }
    }
    krate
}

struct Loader<'a> {
    base: &'a Path,
    modules: BTreeMap<ModPath, Module>,
    /// Each module's production items (inline child modules included).
    items: Vec<(ModPath, Vec<Item>)>,
}

impl Loader<'_> {
    fn file(&mut self, file: &Path, path: ModPath, mod_rs: bool) {
        let display = file
            .strip_prefix(self.base)
            .unwrap_or(file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("{display} (module crate::{}): {e}", path.join("::")));
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{display}:{}: {e}", e.span().start().line));
        let parent = file.parent().expect("a file has a parent").to_path_buf();
        let child_dir = match (mod_rs, file.file_stem()) {
            (false, Some(stem)) => parent.join(stem),
            _ => parent.clone(),
        };
        self.module(&display, path, ast.items, child_dir, parent);
    }

    /// `child_dir`: where `mod x;` looks for `x.rs`; `path_dir`: what
    /// `#[path = "..."]` is relative to.
    fn module(
        &mut self,
        file: &str,
        path: ModPath,
        items: Vec<Item>,
        child_dir: PathBuf,
        path_dir: PathBuf,
    ) {
        let items: Vec<Item> = items
            .into_iter()
            .filter(|i| !test_only(item_attrs(i)))
            .collect();
        let mut module = Module {
            file: file.to_string(),
            ..Module::default()
        };
        for item in &items {
            match item {
                Item::Use(u) if u.leading_colon.is_none() => {
                    flatten_use(&u.tree, &[], &mut module.uses)
                }
                Item::Mod(m) => {
                    let name = m.ident.to_string();
                    module.children.insert(name.clone());
                    let sub = [path.clone(), vec![name.clone()]].concat();
                    match (&m.content, path_attr(&m.attrs)) {
                        (Some((_, inner)), _) => {
                            let dir = child_dir.join(&name);
                            self.module(file, sub, inner.clone(), dir.clone(), dir);
                        }
                        (None, Some(p)) => self.file(&path_dir.join(p), sub, true),
                        (None, None) => {
                            let flat = child_dir.join(format!("{name}.rs"));
                            if flat.exists() {
                                self.file(&flat, sub, false);
                            } else {
                                self.file(&child_dir.join(&name).join("mod.rs"), sub, true);
                            }
                        }
                    }
                }
                other => module.locals.extend(item_name(other)),
            }
        }
        self.modules.insert(path.clone(), module);
        self.items.push((path, items));
    }
}

/// Collects the raw paths (segments, line, text) of one module's items.
struct Collector<'a> {
    raw: &'a mut Vec<(Vec<String>, usize, String)>,
}

/// `fn visit_x(&mut self, node)` overrides that skip a test-only node.
macro_rules! production_only {
    ($($visit:ident: $node:ty),* $(,)?) => {$(
        fn $visit(&mut self, node: &'ast $node) {
            if !test_only(&node.attrs) {
                visit::$visit(self, node);
            }
        }
    )*};
}

impl<'ast> Visit<'ast> for Collector<'_> {
    production_only!(
        visit_impl_item_const: syn::ImplItemConst,
        visit_impl_item_fn: syn::ImplItemFn,
        visit_impl_item_type: syn::ImplItemType,
        visit_impl_item_macro: syn::ImplItemMacro,
        visit_trait_item_const: syn::TraitItemConst,
        visit_trait_item_fn: syn::TraitItemFn,
        visit_trait_item_type: syn::TraitItemType,
        visit_trait_item_macro: syn::TraitItemMacro,
        visit_field: syn::Field,
        visit_variant: syn::Variant,
        visit_arm: syn::Arm,
        visit_local: syn::Local,
        visit_stmt_macro: syn::StmtMacro,
    );
    fn visit_item(&mut self, i: &'ast Item) {
        if !test_only(item_attrs(i)) {
            visit::visit_item(self, i);
        }
    }
    /// Attributes (doc comments, derives, cfgs) name no module.
    fn visit_attribute(&mut self, _: &'ast Attribute) {}
    /// A `use` inside a function body.
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if u.leading_colon.is_none() && !test_only(&u.attrs) {
            let mut uses = Vec::new();
            flatten_use(&u.tree, &[], &mut uses);
            self.raw
                .extend(uses.iter().map(|u| (u.path.clone(), u.line, use_text(u))));
        }
    }
    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() >= 2 {
            let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = p.segments[0].ident.span().start().line;
            self.raw.push((segs.clone(), line, segs.join("::")));
        }
        visit::visit_path(self, p);
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        visit::visit_macro(self, m);
        scan_tokens(m.tokens.clone(), self.raw);
    }
}

/// Paths (`a::b::c`, also `$crate::x`) in a macro's unparsed tokens.
fn scan_tokens(tokens: TokenStream, raw: &mut Vec<(Vec<String>, usize, String)>) {
    let toks: Vec<TokenTree> = tokens.into_iter().collect();
    let colon = |i: usize| matches!(toks.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ':');
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            TokenTree::Group(g) => scan_tokens(g.stream(), raw),
            TokenTree::Ident(id) if !(i >= 2 && colon(i - 1) && colon(i - 2)) => {
                let mut segs = vec![id.to_string()];
                while colon(i + 1) && colon(i + 2) {
                    let Some(TokenTree::Ident(next)) = toks.get(i + 3) else {
                        break;
                    };
                    segs.push(next.to_string());
                    i += 3;
                }
                if segs.len() >= 2 {
                    raw.push((segs.clone(), id.span().start().line, segs.join("::")));
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The leaves of a `use` tree, with their whole paths.
fn flatten_use(tree: &UseTree, prefix: &[String], out: &mut Vec<Use>) {
    let with = |ident: &syn::Ident| {
        let mut path = prefix.to_vec();
        if ident != "self" {
            path.push(ident.to_string());
        }
        path
    };
    match tree {
        UseTree::Path(p) => flatten_use(&p.tree, &with(&p.ident), out),
        UseTree::Name(n) => out.push(Use {
            name: Some(if n.ident == "self" {
                prefix.last().cloned().unwrap_or_default()
            } else {
                n.ident.to_string()
            }),
            path: with(&n.ident),
            line: n.ident.span().start().line,
        }),
        UseTree::Rename(r) => out.push(Use {
            name: Some(r.rename.to_string()),
            path: with(&r.ident),
            line: r.ident.span().start().line,
        }),
        UseTree::Glob(g) => out.push(Use {
            name: None,
            path: prefix.to_vec(),
            line: g.star_token.span.start().line,
        }),
        UseTree::Group(g) => g.items.iter().for_each(|t| flatten_use(t, prefix, out)),
    }
}

fn use_text(u: &Use) -> String {
    match u.name {
        Some(_) => u.path.join("::"),
        None => format!("{}::*", u.path.join("::")),
    }
}

/// Whether `#[cfg(..)]` makes these attributes' item test-only.
fn test_only(attrs: &[Attribute]) -> bool {
    fn mentions_test(meta: &Meta) -> bool {
        match meta {
            Meta::Path(p) => p.is_ident("test"),
            Meta::List(l) if l.path.is_ident("any") || l.path.is_ident("all") => l
                .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .is_ok_and(|metas| metas.iter().any(mentions_test)),
            _ => false, // not(test) is production code
        }
    }
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && a.parse_args::<Meta>().is_ok_and(|m| mentions_test(&m))
    })
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn item_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(i) => &i.ident,
        Item::Enum(i) => &i.ident,
        Item::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |(_, r)| r),
        Item::Fn(i) => &i.sig.ident,
        Item::Macro(i) => i.ident.as_ref()?,
        Item::Static(i) => &i.ident,
        Item::Struct(i) => &i.ident,
        Item::Trait(i) => &i.ident,
        Item::TraitAlias(i) => &i.ident,
        Item::Type(i) => &i.ident,
        Item::Union(i) => &i.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// How deep `resolve` may follow `use`s (re-exports of re-exports).
const MAX_DEPTH: usize = 24;

impl Crate {
    /// The length of the longest prefix of `path` that is a module.
    fn deepest(&self, path: &[String]) -> usize {
        (0..=path.len())
            .rev()
            .find(|&k| self.modules.contains_key(&path[..k]))
            .unwrap_or(0)
    }

    /// `segs`, written in module `m`, as a path from the crate root with
    /// every `use` on the way followed (`None`: above the root).
    fn resolve(&self, m: &[String], segs: &[String], depth: usize) -> Option<ModPath> {
        let first = segs.first()?;
        let abs = match first.as_str() {
            "crate" => segs[1..].to_vec(),
            "self" => [m, &segs[1..]].concat(),
            "super" => {
                let supers = segs.iter().take_while(|s| *s == "super").count();
                let base = m.get(..m.len().checked_sub(supers)?)?;
                [base, &segs[supers..]].concat()
            }
            _ => [m, segs].concat(),
        };
        Some(self.canon(abs, depth))
    }

    /// Follows the `use` (alias or glob) that the first segment below the
    /// deepest known module prefix of `abs` goes through, to a fixpoint.
    fn canon(&self, abs: ModPath, depth: usize) -> ModPath {
        let k = self.deepest(&abs);
        if k == abs.len() || depth > MAX_DEPTH {
            return abs;
        }
        let (m, name, rest) = (&abs[..k], &abs[k], &abs[k + 1..]);
        let module = &self.modules[m];
        if let Some(u) = module.uses.iter().find(|u| u.name.as_ref() == Some(name)) {
            if u.path.len() == 1 && &u.path[0] == name {
                return abs; // `use regex;`: another crate
            }
            return self
                .resolve(m, &[&u.path[..], rest].concat(), depth + 1)
                .unwrap_or(abs);
        }
        if module.locals.contains(name) {
            return abs;
        }
        for glob in module.uses.iter().filter(|u| u.name.is_none()) {
            let Some(base) = self.resolve(m, &glob.path, depth + 1) else {
                continue;
            };
            let Some(b) = self.modules.get(&base) else {
                continue;
            };
            let has = |u: &Use| u.name.as_ref() == Some(name);
            if b.children.contains(name) || b.locals.contains(name) || b.uses.iter().any(has) {
                return self.canon([&base[..], &abs[k..]].concat(), depth + 1);
            }
        }
        abs
    }

    /// The graph among the children of `m`: child subtrees collapsed, and
    /// references to or from `m` itself left out (its items are the facade).
    fn graph(&self, m: &[String]) -> Graph<'_> {
        let mut graph = Graph::new();
        let k = m.len();
        for r in &self.refs {
            let below = |p: &ModPath| p.len() > k && p.starts_with(m);
            if below(&r.from) && below(&r.to) && r.from[k] != r.to[k] {
                graph
                    .entry((r.from[k].clone(), r.to[k].clone()))
                    .or_insert((0, r))
                    .0 += 1;
            }
        }
        graph
    }

    /// One line per edge of every cycle, at every level.
    fn cycles(&self) -> Vec<String> {
        let mut out = Vec::new();
        for m in self.modules.keys() {
            let graph = self.graph(m);
            for scc in strongly_connected(&graph) {
                let names: Vec<String> = scc.iter().map(|c| child(m, c)).collect();
                out.push(format!(
                    "{} modules in a cycle at {}: {}",
                    scc.len(),
                    crate_path(m),
                    names.join(", ")
                ));
                for ((a, b), (n, r)) in graph
                    .iter()
                    .filter(|((a, b), _)| scc.contains(a) && scc.contains(b))
                {
                    let (a, b) = (child(m, a), child(m, b));
                    out.push(format!(
                        "cycle at {}: {a} -> {b} ({})",
                        crate_path(m),
                        example(r, *n)
                    ));
                }
            }
        }
        out
    }

    /// Top-level modules missing from `layers`, and edges going up.
    fn layer_violations(&self, layers: &[&[&str]]) -> Vec<String> {
        let layer = |m: &str| layers.iter().position(|group| group.contains(&m));
        let mut out = Vec::new();
        for child in &self.modules[&Vec::new()].children {
            if layer(child).is_none() {
                let file = &self.modules[&vec![child.clone()]].file;
                out.push(format!(
                    "{}: module {child} ({file}) is not in LAYERS: add it to LAYERS",
                    self.name
                ));
            }
        }
        for ((a, b), (n, r)) in self.graph(&[]) {
            if let (Some(la), Some(lb)) = (layer(&a), layer(&b)) {
                if la < lb {
                    out.push(format!(
                        "{a} may not import {b}: {}:{} uses {}{}",
                        r.file,
                        r.line,
                        r.text,
                        more(n)
                    ));
                }
            }
        }
        out
    }

    /// The top-level graph: every edge with its reference count.
    fn describe(&self) -> String {
        let mut out = format!(
            "{}: top-level module graph (from -> to: references, first one)\n",
            self.name
        );
        for ((a, b), (n, r)) in self.graph(&[]) {
            out += &format!("  {a} -> {b}: {n} ({}:{} {})\n", r.file, r.line, r.text);
        }
        out
    }
}

/// The strongly connected components with two or more nodes.
fn strongly_connected(graph: &Graph) -> Vec<BTreeSet<String>> {
    let reach = |from: &String| {
        let (mut seen, mut todo) = (BTreeSet::new(), vec![from.clone()]);
        while let Some(n) = todo.pop() {
            for (_, b) in graph.keys().filter(|(a, _)| *a == n) {
                if seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
        seen
    };
    let nodes: BTreeSet<String> = graph
        .keys()
        .flat_map(|(a, b)| [a.clone(), b.clone()])
        .collect();
    let reached: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (n, reach(n))).collect();
    let mut out: Vec<BTreeSet<String>> = Vec::new();
    for n in &nodes {
        let scc: BTreeSet<String> = reached[n]
            .iter()
            .filter(|m| reached[*m].contains(n))
            .cloned()
            .collect();
        if scc.len() > 1 && !out.contains(&scc) {
            out.push(scc);
        }
    }
    out
}

/// `parse::md` for child `md` of `parse`.
fn child(m: &[String], c: &str) -> String {
    m.iter()
        .map(String::as_str)
        .chain([c])
        .collect::<Vec<_>>()
        .join("::")
}

/// `crate::parse` for `parse`, `crate` for the root.
fn crate_path(m: &[String]) -> String {
    ["crate"]
        .into_iter()
        .chain(m.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("::")
}

fn example(r: &Ref, n: usize) -> String {
    format!("{}:{} {}{}", r.file, r.line, r.text, more(n))
}

fn more(n: usize) -> String {
    match n {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    }
}

fn check(problems: Vec<String>, what: &str) {
    assert!(problems.is_empty(), "{what}:\n{}\n", problems.join("\n"));
}

/// A crate of this workspace, loaded once; `DIAG_LAYERS_PRINT=1` prints
/// its top-level graph.
fn workspace_crate(name: &str, src: &str) -> Crate {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let krate = load(name, &base.canonicalize().expect("the workspace root"), src);
    if std::env::var_os("DIAG_LAYERS_PRINT").is_some_and(|v| v == "1") {
        println!("{}", krate.describe());
    }
    krate
}

fn diag_core() -> &'static Crate {
    static CRATE: OnceLock<Crate> = OnceLock::new();
    CRATE.get_or_init(|| workspace_crate("diag-core", "crates/diag-core/src"))
}

fn diag_parse() -> &'static Crate {
    static CRATE: OnceLock<Crate> = OnceLock::new();
    CRATE.get_or_init(|| workspace_crate("diag-parse", "crates/diag-parse/src"))
}

fn diag_tui() -> &'static Crate {
    static CRATE: OnceLock<Crate> = OnceLock::new();
    CRATE.get_or_init(|| workspace_crate("diag-tui", "crates/diag-tui/src"))
}

fn layers(krate: &str) -> &'static [&'static [&'static str]] {
    LAYERS
        .iter()
        .find(|(k, _)| *k == krate)
        .map(|(_, l)| *l)
        .expect("the crate is in LAYERS")
}

#[test]
fn diag_core_has_no_module_cycles() {
    check(diag_core().cycles(), "module cycles in diag-core");
}

#[test]
fn diag_parse_has_no_module_cycles() {
    check(diag_parse().cycles(), "module cycles in diag-parse");
}

#[test]
fn diag_parse_follows_its_layers() {
    check(
        diag_parse().layer_violations(layers("diag-parse")),
        "diag-parse against LAYERS (bottom to top)",
    );
}

#[test]
fn diag_tui_has_no_module_cycles() {
    check(diag_tui().cycles(), "module cycles in diag-tui");
}

#[test]
fn diag_core_follows_its_layers() {
    check(
        diag_core().layer_violations(layers("diag-core")),
        "diag-core against LAYERS (bottom to top)",
    );
}

#[test]
fn diag_tui_follows_its_layers() {
    check(
        diag_tui().layer_violations(layers("diag-tui")),
        "diag-tui against LAYERS (bottom to top)",
    );
}

// The checker itself, on trees written to a temporary directory.

fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Crate) {
    let dir = tempfile::TempDir::new().expect("a temporary directory");
    for (path, text) in files {
        let file = dir.path().join("src").join(path);
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&file, text).expect("write");
    }
    let krate = load("t", dir.path(), "src");
    (dir, krate)
}

#[test]
fn an_acyclic_tree_passes() {
    let (_dir, krate) = tree(&[
        (
            "lib.rs",
            "mod a;\nmod b;\n#[path = \"elsewhere/c.rs\"]\nmod c;\npub use a::X;\n",
        ),
        (
            "a.rs",
            "\
pub struct X;
pub mod inner {
    pub fn f() -> crate::c::Z { crate::c::Z }
}
",
        ),
        (
            "b.rs",
            "\
use crate::a::X;
pub fn g(_: X) -> crate::a::inner::Y {
    println!(\"{:?}\", crate::c::Z);
    todo!()
}
",
        ),
        ("elsewhere/c.rs", "pub struct Z;\n"),
    ]);
    check(krate.cycles(), "cycles");
    assert_eq!(edges(&krate), ["a->c:2", "b->a:2", "b->c:1"]);
}

/// The top-level graph as `from->to:references`.
fn edges(krate: &Crate) -> Vec<String> {
    let graph = krate.graph(&[]).into_iter();
    graph
        .map(|((a, b), (n, _))| format!("{a}->{b}:{n}"))
        .collect()
}

#[test]
fn a_sibling_cycle_fails_naming_both_edges() {
    let (_dir, krate) = tree(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "pub struct Y;\nuse crate::b::X;\n"),
        (
            "b.rs",
            "\
pub struct X;

pub fn f() {
    let _ = crate::a::Y;
}
",
        ),
    ]);
    assert_eq!(
        krate.cycles(),
        [
            "2 modules in a cycle at crate: a, b",
            "cycle at crate: a -> b (src/a.rs:2 crate::b::X)",
            "cycle at crate: b -> a (src/b.rs:4 crate::a::Y)",
        ]
    );
}

#[test]
fn a_cycle_through_root_re_exports_fails() {
    // crate::X is c's re-export of b::X: a depends on b, not on c.
    let (_dir, krate) = tree(&[
        (
            "lib.rs",
            "mod a;\nmod b;\nmod c;\npub use a::Y;\npub use c::X;\n",
        ),
        ("a.rs", "pub struct Y;\npub fn f(_: crate::X) {}\n"),
        ("b.rs", "pub struct X;\nuse crate::Y;\n"),
        ("c.rs", "pub use crate::b::X;\n"),
    ]);
    assert_eq!(
        krate.cycles(),
        [
            "2 modules in a cycle at crate: a, b",
            "cycle at crate: a -> b (src/a.rs:2 crate::X)",
            "cycle at crate: b -> a (src/b.rs:2 crate::Y)",
        ]
    );
}

#[test]
fn a_cycle_inside_a_nested_module_fails() {
    // x names y through `use crate::p;`, y names x through p's re-export.
    let (_dir, krate) = tree(&[
        ("lib.rs", "mod p;\nmod q;\n"),
        ("p/mod.rs", "mod x;\nmod y;\npub use x::U;\n"),
        (
            "p/x.rs",
            "use crate::p;\npub struct U;\npub fn f(_: p::y::T) {}\n",
        ),
        (
            "p/y.rs",
            "pub struct T(pub super::U);\npub fn g() -> Vec<crate::q::V> { vec![] }\n",
        ),
        ("q.rs", "pub struct V;\n"),
    ]);
    assert_eq!(
        krate.cycles(),
        [
            "2 modules in a cycle at crate::p: p::x, p::y",
            "cycle at crate::p: p::x -> p::y (src/p/x.rs:3 p::y::T)",
            "cycle at crate::p: p::y -> p::x (src/p/y.rs:1 super::U)",
        ]
    );
    assert_eq!(edges(&krate), ["p->q:1"]);
}

#[test]
fn test_only_references_do_not_count() {
    // lib.rs's `mod tests;` has no file: it must not be looked for.
    let (_dir, krate) = tree(&[
        ("lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod tests;\n"),
        ("a.rs", "pub struct Y;\nuse crate::b::X;\n"),
        (
            "b.rs",
            "\
pub struct X;
#[cfg(test)]
use crate::a::Y;
#[cfg(any(test, feature = \"fuzz\"))]
pub fn h() -> crate::a::Y { crate::a::Y }
impl X {
    #[cfg(test)]
    fn t() { assert!(matches!(crate::a::Y, crate::a::Y)); }
}
#[cfg(test)]
mod tests {
    use super::super::a::*;
}
",
        ),
    ]);
    check(krate.cycles(), "cycles");
    assert_eq!(edges(&krate), ["a->b:1"]);
}

#[test]
fn a_layer_violation_fails() {
    let (_dir, krate) = tree(&[
        ("lib.rs", "mod low;\nmod high;\nmod stray;\n"),
        ("low.rs", "pub fn f() -> crate::high::X { todo!() }\n"),
        ("high.rs", "pub struct X;\n"),
        ("stray.rs", "pub fn g() { crate::low::f(); }\n"),
    ]);
    assert_eq!(
        krate.layer_violations(&[&["low"], &["high"]]),
        [
            "t: module stray (src/stray.rs) is not in LAYERS: add it to LAYERS",
            "low may not import high: src/low.rs:1 uses crate::high::X",
        ]
    );
    let upside_down: &[&[&str]] = &[&["high"], &["low", "stray"]];
    assert!(krate.layer_violations(upside_down).is_empty());
}
