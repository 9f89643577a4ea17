//! diag-core: the library behind `diag`, an incident debugging toolkit for
//! Linux servers.
//!
//! One pipeline, four stages:
//!
//! ```text
//!  Source ──raw inputs──▶ Parse ──facts──▶ Diagnose ──findings──▶ Present
//! ```
//!
//! - [`source`]: a [`source::Source`] hands out raw inputs by canonical name,
//!   from the live host ([`source::LiveHost`]) or a bundle
//!   ([`source::Bundle`]), every read bounded in time and size.
//!   [`Snapshot::collect`] reads every input the parsers know.
//! - [`parse`]: pure parsers turn a [`Snapshot`] into [`Facts`] and notes.
//! - [`rules`] and [`diagnose`]: rules (data, in TOML, conditions in CEL)
//!   are evaluated over the facts into a ranked [`Diagnosis`].
//! - [`report`]: the diagnosis rendered as text; its JSON form is the
//!   `diag/1` schema.
//! - [`sanitize`]: the one sanitiser every host-controlled string passes
//!   before it reaches a terminal or a text file.
//!
//! ```no_run
//! use diag_core::{analyze, rules::RuleSet, source::Bundle, snapshot::CollectOptions};
//! # fn main() -> Result<(), diag_core::Error> {
//! let bundle = Bundle::open("/tmp/bundle")?;
//! let rules = RuleSet::builtin()?;
//! let diagnosis = analyze(&bundle, &rules, &CollectOptions::default());
//! if let Some(top) = diagnosis.causes.first() {
//!     println!("{}: {}", top.id, top.summary);
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod capture;
pub mod diagnose;
pub mod diagnosis;
mod error;
pub mod model;
pub mod parse;
pub mod probe;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod snapshot;
pub mod source;
pub mod watch;

pub use diagnosis::Diagnosis;
pub use error::{Error, Result};
pub use parse::Facts;
pub use snapshot::Snapshot;

/// The version of diag, written into bundles and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Source → Parse → Diagnose in one call: the path `diag check` (live
/// source) and `diag analyze` (bundle source) both take.
pub fn analyze(
    source: &dyn source::Source,
    rules: &rules::RuleSet,
    options: &snapshot::CollectOptions,
) -> Diagnosis {
    let snapshot = Snapshot::collect(source, options);
    diagnose::diagnose(&snapshot, rules)
}
