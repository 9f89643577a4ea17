//! The doc comments of the types the facts are made of, for `diag rules
//! facts` (`diagnose::rules::facts_tree`): every struct reachable from
//! `crate::facts::Facts` through its fields, read from the crate's own
//! sources with `syn`, with each field's serialised name (serde's
//! `rename`, `rename_all`, `skip`, `flatten` applied) and the struct its
//! type leads to (through `Vec`, `Option`, maps, ...; a generic
//! parameter bound to the argument it was given).
//!
//! The output is a table the facts tree walks beside the serialised
//! facts: the serialised facts give the paths, types and examples, this
//! table gives the descriptions and which objects are maps.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The struct every path starts from.
const ROOT: &str = "crate::facts::Facts";

/// A struct as written.
struct Struct {
    /// The module it is in (`crate::facts::netview`).
    module: String,
    generics: Vec<String>,
    fields: Vec<Field>,
    rename_all: Option<String>,
}

struct Field {
    name: String,
    rename: Option<String>,
    skip: bool,
    flatten: bool,
    doc: String,
    ty: syn::Type,
}

/// A file's `use` declarations: the name they bring in -> its full path.
type Uses = HashMap<String, String>;

#[derive(Default)]
struct Crate {
    structs: HashMap<String, Struct>,
    /// Per module: its `use`s.
    uses: HashMap<String, Uses>,
}

/// One field of a struct instance, as the generated table has it.
struct Row {
    name: String,
    doc: String,
    /// The struct instance its value (or its elements) is, or "".
    child: String,
    /// How many maps with keys of the data's choosing its value is
    /// nested in (`BTreeMap<String, BTreeMap<String, u64>>`: 2).
    maps: u8,
    /// What CEL sees of a scalar, from the Rust type ("" when unknown).
    scalar: &'static str,
}

/// The table (one line a field of a struct instance: instance, serialised
/// name, instance of its value or "", how many maps the value is in, CEL
/// type of a scalar from the Rust type or "", doc; tab-separated) and the
/// files that hold its structs (for `rerun-if-changed`).
///
/// `roots` are the source folders read, diag-core's and diag-parse's: the
/// two crates' top-level module names differ, so diag-parse's are read as
/// if they were the crate's own (`crate::md`), and diag-core's
/// `crate::parse::` paths (its re-export of diag-parse) are read as them.
pub fn generate(roots: &[&Path]) -> (String, Vec<PathBuf>) {
    let mut files = Vec::new();
    for src in roots {
        let mut these = Vec::new();
        rust_files(src, &mut these);
        files.extend(these.into_iter().map(|f| (src.to_path_buf(), f)));
    }
    files.sort_unstable();
    let mut krate = Crate::default();
    for (src, path) in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        // A file that does not parse fails to compile anyway.
        let Ok(file) = syn::parse_file(&text) else {
            continue;
        };
        let module = module_of(src, path);
        read_items(&mut krate, &module, &file.items);
    }
    let mut table: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    instantiate(&krate, ROOT, &mut table);
    // One line a field: instance, name, child instance, maps, scalar,
    // doc, separated by tabs (a doc's own tabs become spaces).
    let mut table_text = String::new();
    for (key, rows) in &table {
        for row in rows {
            let _ = writeln!(
                table_text,
                "{key}\t{}\t{}\t{}\t{}\t{}",
                row.name,
                row.child,
                row.maps,
                row.scalar,
                row.doc.replace(['\t', '\n'], " ")
            );
        }
    }
    // The files that hold the structs read, for `rerun-if-changed`.
    let modules: std::collections::BTreeSet<&str> = table
        .keys()
        .filter_map(|k| krate.structs.get(&split_instance(k).0))
        .map(|s| s.module.as_str())
        .collect();
    let read = files
        .into_iter()
        .filter(|(src, path)| modules.contains(module_of(src, path).as_str()))
        .map(|(_, path)| path)
        .collect();
    (table_text, read)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `src/facts/netview.rs` -> `crate::facts::netview`; `mod.rs` and
/// `lib.rs` are their directory's module.
fn module_of(src: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(src).unwrap_or(path);
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" && stem != "lib" {
            parts.push(stem.to_string());
        }
    }
    std::iter::once("crate".to_string())
        .chain(parts)
        .collect::<Vec<_>>()
        .join("::")
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or_else(|| module.to_string(), |(p, _)| p.to_string())
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().contains("test"))
    })
}

fn read_items(krate: &mut Crate, module: &str, items: &[syn::Item]) {
    for item in items {
        match item {
            syn::Item::Use(u) if !is_test(&u.attrs) => {
                let uses = krate.uses.entry(module.to_string()).or_default();
                read_use(module, &u.tree, String::new(), uses);
            }
            syn::Item::Struct(s) if !is_test(&s.attrs) => {
                let syn::Fields::Named(named) = &s.fields else {
                    continue;
                };
                let fields = named
                    .named
                    .iter()
                    .filter_map(|f| {
                        let (rename, skip, flatten) = serde_field(&f.attrs);
                        Some(Field {
                            name: f.ident.as_ref()?.to_string(),
                            rename,
                            skip,
                            flatten,
                            doc: doc(&f.attrs),
                            ty: f.ty.clone(),
                        })
                    })
                    .collect();
                let generics = s
                    .generics
                    .type_params()
                    .map(|p| p.ident.to_string())
                    .collect();
                krate.structs.insert(
                    format!("{module}::{}", s.ident),
                    Struct {
                        module: module.to_string(),
                        generics,
                        fields,
                        rename_all: serde_rename_all(&s.attrs),
                    },
                );
            }
            syn::Item::Mod(m) if !is_test(&m.attrs) => {
                if let Some((_, inner)) = &m.content {
                    read_items(krate, &format!("{module}::{}", m.ident), inner);
                }
            }
            _ => {}
        }
    }
}

/// Records what a `use` tree brings into `module`, as full paths.
fn read_use(module: &str, tree: &syn::UseTree, prefix: String, uses: &mut Uses) {
    let join = |prefix: &str, name: &str| -> String {
        if prefix.is_empty() {
            match name {
                "self" => module.to_string(),
                "super" => parent(module),
                _ => name.to_string(),
            }
        } else if name == "super" {
            parent(prefix)
        } else {
            format!("{prefix}::{name}")
        }
    };
    match tree {
        syn::UseTree::Path(p) => {
            let next = join(&prefix, &p.ident.to_string());
            read_use(module, &p.tree, next, uses);
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            let full = if name == "self" {
                prefix.clone()
            } else {
                join(&prefix, &name)
            };
            let alias = if name == "self" {
                prefix.rsplit("::").next().unwrap_or("").to_string()
            } else {
                name
            };
            uses.insert(alias, full);
        }
        syn::UseTree::Rename(r) => {
            let full = join(&prefix, &r.ident.to_string());
            uses.insert(r.rename.to_string(), full);
        }
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                read_use(module, tree, prefix.clone(), uses);
            }
        }
        syn::UseTree::Glob(_) => {}
    }
}

/// A field's `///` lines as one paragraph, intra-doc links as code.
fn doc(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if nv.path.is_ident("doc") {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
                {
                    lines.push(s.value().trim().to_string());
                }
            }
        }
    }
    let text = lines.join(" ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // [`Name`] and [`text`](path) as `Name`, `text`.
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find("[`") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find("`]") {
            Some(close) => {
                out.push_str(&after[..close + 1]);
                let mut tail = &after[close + 2..];
                if tail.starts_with('(') {
                    if let Some(end) = tail.find(')') {
                        tail = &tail[end + 1..];
                    }
                }
                rest = tail;
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The words of a `#[serde(...)]` attribute (`rename = "x"` as
/// `rename`, `"x"`).
fn serde_words(attrs: &[syn::Attribute]) -> Vec<(String, Option<String>)> {
    let mut words = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            let value = match meta.value() {
                Ok(v) => v.parse::<syn::LitStr>().ok().map(|s| s.value()),
                Err(_) => None,
            };
            words.push((key, value));
            Ok(())
        });
    }
    words
}

fn serde_field(attrs: &[syn::Attribute]) -> (Option<String>, bool, bool) {
    let words = serde_words(attrs);
    let rename = words
        .iter()
        .find(|(k, _)| k == "rename")
        .and_then(|(_, v)| v.clone());
    let skip = words
        .iter()
        .any(|(k, _)| k == "skip" || k == "skip_serializing");
    let flatten = words.iter().any(|(k, _)| k == "flatten");
    (rename, skip, flatten)
}

fn serde_rename_all(attrs: &[syn::Attribute]) -> Option<String> {
    serde_words(attrs)
        .into_iter()
        .find(|(k, _)| k == "rename_all")
        .and_then(|(_, v)| v)
}

fn renamed(name: &str, rule: Option<&str>) -> String {
    match rule {
        Some("lowercase") => name.to_lowercase(),
        Some("UPPERCASE") | Some("SCREAMING_SNAKE_CASE") => name.to_uppercase(),
        Some("kebab-case") => name.replace('_', "-"),
        Some("camelCase") => {
            let mut out = String::new();
            let mut upper = false;
            for c in name.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    out.extend(c.to_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => name.to_string(),
    }
}

/// What a type is, seen through its containers.
enum Shape {
    /// A struct instance (key) or a scalar (its CEL type, or "").
    Leaf(Option<String>, &'static str),
    /// A list, a set or an option of it.
    Wrapped(Box<Shape>),
    /// A map with keys of the data's choosing, of it.
    Map(Box<Shape>),
}

/// A generic parameter of the instance being read -> the instance (or
/// scalar) of its argument.
type Bindings = HashMap<String, (Option<String>, &'static str)>;

fn shape(krate: &Crate, module: &str, ty: &syn::Type, bindings: &Bindings) -> Shape {
    let ty = match ty {
        syn::Type::Reference(r) => &*r.elem,
        syn::Type::Paren(p) => &*p.elem,
        syn::Type::Group(g) => &*g.elem,
        other => other,
    };
    let syn::Type::Path(path) = ty else {
        return Shape::Leaf(None, "");
    };
    let Some(last) = path.path.segments.last() else {
        return Shape::Leaf(None, "");
    };
    let name = last.ident.to_string();
    let args: Vec<&syn::Type> = match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    match name.as_str() {
        "Vec" | "VecDeque" | "Option" | "BTreeSet" | "HashSet" | "Box" | "Arc" | "Rc"
            if !args.is_empty() =>
        {
            let inner = shape(krate, module, args[0], bindings);
            if matches!(name.as_str(), "Box" | "Arc" | "Rc") {
                inner
            } else {
                Shape::Wrapped(Box::new(inner))
            }
        }
        "BTreeMap" | "HashMap" | "IndexMap" if args.len() == 2 => {
            Shape::Map(Box::new(shape(krate, module, args[1], bindings)))
        }
        _ => {
            if path.path.segments.len() == 1 {
                if let Some((key, scalar)) = bindings.get(&name) {
                    return Shape::Leaf(key.clone(), scalar);
                }
            }
            match resolve(krate, module, &path.path) {
                Some(key) => {
                    let bound: Vec<(Option<String>, &'static str)> = args
                        .iter()
                        .map(|a| match shape(krate, module, a, bindings) {
                            Shape::Leaf(key, scalar) => (key, scalar),
                            _ => (None, ""),
                        })
                        .collect();
                    let suffix = bound
                        .iter()
                        .map(|(k, _)| k.clone().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(",");
                    let instance = if suffix.is_empty() {
                        key
                    } else {
                        format!("{key}<{suffix}>")
                    };
                    Shape::Leaf(Some(instance), "")
                }
                None => Shape::Leaf(None, scalar(&name)),
            }
        }
    }
}

/// CEL's type of a scalar Rust type (as `Facts` serialises it).
fn scalar(name: &str) -> &'static str {
    match name {
        "bool" => "bool",
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" => "int",
        "f32" | "f64" => "float",
        "String" | "str" | "Cow" | "IpAddr" | "Ipv4Addr" | "Ipv6Addr" | "IpNet" | "PathBuf" => {
            "string"
        }
        _ => "",
    }
}

/// The struct a path names from `module`, through its `use`s.
fn resolve(krate: &Crate, module: &str, path: &syn::Path) -> Option<String> {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let (first, rest) = segments.split_first()?;
    let rest = rest.join("::");
    let with = |base: String| {
        if rest.is_empty() {
            base
        } else {
            format!("{base}::{rest}")
        }
    };
    let uses = krate.uses.get(module);
    let mut candidates = vec![match first.as_str() {
        "crate" | "diag_parse" => with("crate".into()),
        "super" => with(parent(module)),
        "self" => with(module.to_string()),
        _ => match uses.and_then(|u| u.get(first)) {
            Some(full) => with(full.clone()),
            None => with(format!("{module}::{first}")),
        },
    }];
    // diag-parse's modules are read as the crate's own (`generate`):
    // diag-core's `crate::parse::md` is diag-parse's `crate::md`.
    for candidate in &mut candidates {
        if let Some(rest) = candidate.strip_prefix("crate::parse::") {
            *candidate = format!("crate::{rest}");
        }
    }
    // A re-export (`pub use x::Y`) or a name in scope by another way: the
    // one struct of that name.
    let name = segments.last()?;
    let same: Vec<&String> = krate
        .structs
        .keys()
        .filter(|k| k.rsplit("::").next() == Some(name))
        .collect();
    if same.len() == 1 {
        candidates.push(same[0].clone());
    }
    candidates
        .into_iter()
        .find(|c| krate.structs.contains_key(c))
}

/// Adds the rows of struct instance `instance` (and of every instance its
/// fields lead to) to `table`.
fn instantiate(krate: &Crate, instance: &str, table: &mut BTreeMap<String, Vec<Row>>) {
    if table.contains_key(instance) {
        return;
    }
    let (key, args) = split_instance(instance);
    let Some(s) = krate.structs.get(&key) else {
        return;
    };
    let bindings: Bindings = s
        .generics
        .iter()
        .cloned()
        .zip(
            args.into_iter()
                .map(|a| (Some(a).filter(|a| !a.is_empty()), "")),
        )
        .collect();
    table.insert(instance.to_string(), Vec::new());
    let mut rows = Vec::new();
    let mut children = Vec::new();
    read_fields(krate, s, &bindings, &mut rows, &mut children);
    table.insert(instance.to_string(), rows);
    for child in children {
        instantiate(krate, &child, table);
    }
}

fn read_fields(
    krate: &Crate,
    s: &Struct,
    bindings: &Bindings,
    rows: &mut Vec<Row>,
    children: &mut Vec<String>,
) {
    for field in s.fields.iter().filter(|f| !f.skip) {
        let shape = shape(krate, &s.module, &field.ty, bindings);
        if field.flatten {
            // The fields of the flattened struct are this struct's.
            if let Shape::Leaf(Some(inner), _) = shape {
                let (key, args) = split_instance(&inner);
                if let Some(inner_struct) = krate.structs.get(&key) {
                    let inner_bindings: Bindings = inner_struct
                        .generics
                        .iter()
                        .cloned()
                        .zip(
                            args.into_iter()
                                .map(|a| (Some(a).filter(|a| !a.is_empty()), "")),
                        )
                        .collect();
                    read_fields(krate, inner_struct, &inner_bindings, rows, children);
                }
            }
            continue;
        }
        let (mut maps, mut inner) = (0u8, &shape);
        loop {
            match inner {
                Shape::Wrapped(next) => inner = next,
                Shape::Map(next) => {
                    maps = maps.saturating_add(1);
                    inner = next;
                }
                Shape::Leaf(..) => break,
            }
        }
        let Shape::Leaf(child, scalar) = inner else {
            continue;
        };
        if let Some(child) = child {
            children.push(child.clone());
        }
        rows.push(Row {
            name: field
                .rename
                .clone()
                .unwrap_or_else(|| renamed(&field.name, s.rename_all.as_deref())),
            doc: field.doc.clone(),
            child: child.clone().unwrap_or_default(),
            maps,
            scalar,
        });
    }
}

/// `a::B<c::D>` -> (`a::B`, [`c::D`]).
fn split_instance(instance: &str) -> (String, Vec<String>) {
    match instance.split_once('<') {
        Some((key, args)) => {
            let args = args.strip_suffix('>').unwrap_or(args);
            (
                key.to_string(),
                args.split(',').map(|a| a.trim().to_string()).collect(),
            )
        }
        None => (instance.to_string(), Vec::new()),
    }
}
