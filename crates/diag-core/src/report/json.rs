//! The report as JSON: the `diag/1` diagnosis with the report's context
//! under `report` ([`Report`]'s serde form), and the JSON Schema of it.
//!
//! The schema is derived from the Rust types with `schemars`, so it cannot
//! drift from what is written; `docs/diag-1.schema.json` is a copy a test
//! keeps equal to [`schema`].

use super::context::Report;

/// The report as pretty-printed JSON, with a final newline.
pub fn json(report: &Report) -> String {
    // Serialising plain data (strings, numbers, maps with string keys)
    // cannot fail; a NaN confidence would become `null`.
    let mut out = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

/// The JSON Schema (draft 2020-12) of [`json`]'s output, pretty-printed
/// with a final newline: what `docs/diag-1.schema.json` holds.
pub fn schema() -> String {
    let mut schema = schemars::schema_for!(Report);
    schema.insert(
        "$id".into(),
        "https://example.invalid/diag/diag-1.schema.json".into(),
    );
    schema.insert(
        "title".into(),
        "diag/1 diagnosis, as written by `diag report --format json`".into(),
    );
    let mut out = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

/// `value` as a JSON tree, through the pretty-printed text the binary
/// already writes for `--format json`.
///
/// `serde_json::to_value` would compile a second serialiser of each type
/// (into `serde_json::value::Serializer`) into the static binary
/// (`docs/static-binary.md`); this goes through the one
/// `to_string_pretty` instantiates for `--format json` and the `Value`
/// parser the binary has anyway.
pub fn value<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_string_pretty(value)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}
