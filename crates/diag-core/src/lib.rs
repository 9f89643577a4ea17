//! diag-core: the library behind `diag`, an incident debugging toolkit for
//! Linux servers.
//!
//! One pipeline, in layers (`docs/architecture.md`; `tests/layers.rs`
//! fails on an import that goes up or round):
//!
//! ```text
//!  source ──Snapshot──▶ facts ──Facts──▶ diagnose ──Diagnosis──▶ report
//!    │                    │
//!    └──── parse ◀────────┘   (pure parsers, one format each)
//! ```
//!
//! - [`source`]: where inputs come from: the live host
//!   ([`source::LiveHost`]), a bundle or archive ([`source::Bundle`]); the
//!   input catalogue (`source/inputs.rs`); every read bounded in time and
//!   size; [`Snapshot::collect`] reads every input of the catalogue.
//! - [`parse`]: pure parsers, text or bytes of one format to typed
//!   records and notes; no I/O.
//! - [`facts`]: [`Facts::from_snapshot`] derives what rules read (the
//!   network view, md classification, services, baselines, captures).
//! - [`probe`]: active probes of a host (TCP, DNS, path), planned from
//!   its facts.
//! - [`diagnose`]: rules (data, in TOML, conditions in CEL) evaluated over
//!   the facts into a ranked [`Diagnosis`].
//! - [`report`]: renders a diagnosis (and the facts for its tables); its
//!   JSON form is the `diag/1` schema.
//! - [`analysis`]: the one entry point, source → snapshot → (probes,
//!   baseline) → facts → diagnosis; [`watch`] follows the kernel log.
//! - [`sanitize`]: the one sanitiser every host-controlled string passes
//!   before it reaches a terminal or a text file.
//!
//! ```no_run
//! use diag_core::analysis::{Analysis, Request};
//! use diag_core::diagnose::rules::RuleSet;
//! use diag_core::source::Bundle;
//! # fn main() -> Result<(), diag_core::Error> {
//! let bundle = Bundle::open("/tmp/bundle")?;
//! let rules = RuleSet::builtin()?;
//! let analysis = Analysis::run(&bundle, &rules, &Request::default())?;
//! if let Some(top) = analysis.diagnosis.causes.first() {
//!     println!("{}: {}", top.id, top.summary);
//! }
//! # Ok(()) }
//! ```
//!
//! # The library's surface
//!
//! Each layer is a module whose own `pub use` list is its API: what an
//! embedder calls is re-exported there (`source::Snapshot`,
//! `source::CollectOptions`, `diagnose::Finding`, `report::markdown`),
//! and the files behind it are private (`source/snapshot.rs`,
//! `diagnose/diagnosis.rs`, `report/context.rs`, ...), so they can be
//! split or renamed without breaking a caller. A module stays public
//! where it is a namespace of its own kind: [`facts`] (the model rules
//! read, every type of it), [`parse`] (the diag-parse crate),
//! `diagnose::rules`, the fleet comparison and its renderers, the JSON,
//! JSON Lines and Prometheus formats, the netlink, tracing and sosreport
//! sources. The types most callers need are also at the root (below).
//! One flat list (as trippy-core has) would have to rename what the
//! namespaces keep apart: three `markdown` renderers (a report, a fleet,
//! the facts tree), two `fleet` modules (the comparison, its rendering).
//!
//! Types a caller reads but does not build are `#[non_exhaustive]` (the
//! [`Diagnosis`] and its parts, [`Facts`], [`Analysis`], the error
//! enums): a field or variant added is not a breaking change.
//!
//! Stability: the `diag/1` JSON a [`Diagnosis`] serialises to is stable
//! (fields are added, never renamed or removed); the Rust API follows
//! semver from 1.0 and may change before it.

#![deny(missing_docs)]

pub mod analysis;
pub mod diagnose;
mod error;
pub mod facts;
pub mod probe;
pub mod report;
pub mod source;

/// The parse layer is its own crate, `diag-parse`, with no OS dependency
/// (docs/architecture.md): re-exported here under its layer's name.
pub use diag_parse as parse;
use diag_parse::sort;
pub use diag_parse::{model, sanitize};
pub mod watch;

pub use analysis::{Analysis, Request};
pub use diagnose::rules::RuleSet;
pub use diagnose::{Cause, Diagnosis, Finding};
pub use error::{Error, Result};
pub use facts::Facts;
pub use source::{Bundle, LiveHost, Snapshot, Source};

/// The version of diag, written into bundles and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
