//! Typed errors of the library. Every variant names the input (a path or a
//! canonical input name) and, for parse errors, the line.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// The library's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bundle path that does not exist.
    #[error("{}: no such bundle (the path does not exist)", .0.display())]
    BundleMissing(PathBuf),
    /// A bundle directory without any file in it.
    #[error("{}: not a bundle: the directory is empty", .0.display())]
    BundleEmpty(PathBuf),
    /// A bundle archive that cannot be unpacked (truncated, not zstd, not tar).
    #[error("{}: cannot read bundle archive: {reason}", path.display())]
    BundleArchive {
        /// The archive.
        path: PathBuf,
        /// What went wrong, in the words of the decoder.
        reason: String,
    },
    /// A path that is neither a directory, a `.tar.zst` archive nor a capture.
    #[error("{}: not a bundle: expected a directory, a .tar.zst, .tar.xz or .tar.gz archive or a pcap/pcapng capture", .0.display())]
    NotABundle(PathBuf),
    /// A path whose filesystem did not answer in time (a hung NFS or FUSE
    /// mount): diag gave up instead of hanging.
    #[error("{}: not answering after {} (a hung filesystem?); gave up", path.display(), humantime::format_duration(*after))]
    Hung {
        /// The path.
        path: PathBuf,
        /// How long diag waited.
        after: std::time::Duration,
    },
    /// A `--root` that is not an existing directory.
    #[error("{}: --root must be an existing directory", .0.display())]
    NotARoot(PathBuf),
    /// A source of which nothing could be read.
    #[error("{}: nothing to diagnose: {reason}", path.display())]
    NothingRead {
        /// The root, bundle or archive.
        path: PathBuf,
        /// Why: every input absent, or how many failed and the first reason.
        reason: String,
    },
    /// An I/O error on a named path.
    // The underlying error is part of the message and deliberately not a
    // `#[source]`: a chain printer (anyhow's `{:#}`) would say it twice.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        error: io::Error,
    },
    /// A baseline file that cannot be read.
    #[error("cannot read baseline {}: {error}", path.display())]
    Baseline {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: io::Error,
    },
    /// Active probes that could not run (a bad target list, too many
    /// targets, no socket); the message is the prober's.
    #[error("{0}")]
    Probe(String),
    /// An output path that already exists.
    #[error("{}: already exists; choose another path or remove it first", .0.display())]
    OutputExists(PathBuf),
    /// Problems found in rule files; each is `file:line:col: message`.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rules(Vec<RuleProblem>),
    /// A time (`--since`) that cannot be read.
    #[error("{text:?}: not a time: {reason}")]
    Time {
        /// The text given.
        text: String,
        /// Why it was refused.
        reason: String,
    },
    /// JSON (de)serialisation of a named document.
    #[error("{what}: {error}")]
    Json {
        /// Which document.
        what: String,
        /// The underlying error.
        error: serde_json::Error,
    },
}

impl Error {
    /// Wraps an [`io::Error`] with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, error: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem in a rule file, located to the character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    /// The rule file (a path, or `builtin:<name>` for an embedded one).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// A warning (`rules validate` only): the rule loads, but something
    /// may make it costly (see `docs/rules.md`, "Budgets").
    pub warning: bool,
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.warning { "warning: " } else { "" };
        write!(
            f,
            "{}:{}:{}: {kind}{}",
            self.file, self.line, self.col, self.message
        )
    }
}
