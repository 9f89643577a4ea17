//! A snapshot: every raw input read from one source, plus what could not be
//! read and why. Rules never read a source; they read facts parsed from a
//! snapshot. A bundle on disk is a snapshot written out, so analysing a
//! bundle replays exactly what `diag check` saw.

use crate::error::{Error, Result};
use crate::model::{Note, Skipped};
use crate::source::inputs::INPUTS;
use crate::source::{Keep, Limits, ReadError, Source, SourceKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// The schema name written into every bundle manifest.
pub const BUNDLE_SCHEMA: &str = "diag-bundle/1";

/// Reads the TIME of `--since TIME`: an RFC 3339 instant
/// (`2026-11-21T13:40:00Z`, `...+01:00`), a local date and time
/// (`2026-11-21 13:40` or with seconds, read in the machine's zone),
/// `@SECONDS` since the Unix epoch (fractions allowed), or a duration
/// before `now` (`10m`, `2h 30m`, `90s`). A time more than a minute after
/// `now` is refused: it would leave the whole kernel log out (a local time
/// read in the wrong zone does that).
pub fn parse_since(text: &str, now: SystemTime) -> Result<SystemTime> {
    let at = parse_instant(text, now)?;
    if at > now + Duration::from_secs(60) {
        return Err(Error::Time {
            text: text.to_string(),
            reason: format!(
                "in the future (now is {}): it would leave out every kernel log entry",
                humantime::format_rfc3339_seconds(now)
            ),
        });
    }
    Ok(at)
}

fn parse_instant(text: &str, now: SystemTime) -> Result<SystemTime> {
    let trimmed = text.trim();
    let bad = |reason: String| Error::Time {
        text: text.to_string(),
        reason,
    };
    if let Some(seconds) = trimmed.strip_prefix('@') {
        let seconds: f64 = seconds
            .parse()
            .map_err(|_| bad("@ must be followed by seconds since 1970".into()))?;
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(bad("@ must be followed by seconds since 1970".into()));
        }
        return Ok(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(seconds));
    }
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) && !trimmed.contains('-') {
        let ago = humantime::parse_duration(trimmed).map_err(|e| bad(e.to_string()))?;
        return now
            .checked_sub(ago)
            .ok_or_else(|| bad("before the Unix epoch".into()));
    }
    if let Ok(at) = trimmed.parse::<jiff::Timestamp>() {
        return Ok(SystemTime::from(at));
    }
    match trimmed.parse::<jiff::civil::DateTime>() {
        Ok(civil) => civil
            .to_zoned(jiff::tz::TimeZone::system())
            .map(|z| SystemTime::from(z.timestamp()))
            .map_err(|e| bad(e.to_string())),
        Err(_) => Err(bad(
            "expected an RFC 3339 time, a local 'YYYY-MM-DD HH:MM[:SS]', @SECONDS or a duration such as 10m"
                .into(),
        )),
    }
}

/// The bytes of one input in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The content: owned, or a read-only mapping of a bundle's capture
    /// file (cheap to clone either way).
    pub bytes: bytes::Bytes,
    /// Whether the content was cut at the size limit.
    pub truncated: bool,
}

impl Input {
    /// The content as text; invalid UTF-8 is replaced, never an error.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }
}

/// `manifest.json` of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`BUNDLE_SCHEMA`].
    pub schema: String,
    /// The diag version that wrote the bundle.
    pub diag_version: String,
    /// Host name at collection time.
    #[serde(default)]
    pub host: Option<String>,
    /// Kernel release at collection time.
    #[serde(default)]
    pub kernel: Option<String>,
    /// RFC 3339 time of collection.
    pub collected_at: String,
    /// Where the inputs were read (`live` and the root).
    pub source: ManifestSource,
    /// Every input in the bundle, with its size.
    #[serde(default)]
    pub inputs: Vec<ManifestInput>,
    /// Inputs and collectors that were skipped, and why.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// Packet capture settings, when a capture ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<serde_json::Value>,
    /// RFC 3339 start of the window the bundle was collected for
    /// (`diag collect --since`): its analysis looks only at kernel log
    /// entries from then on, as the collecting command did. The kernel log
    /// itself is stored whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// The source a bundle was collected from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestSource {
    /// The kind of source.
    pub kind: SourceKind,
    /// Its root or path.
    pub path: String,
}

/// One input listed in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestInput {
    /// Canonical name.
    pub name: String,
    /// Size in bytes as stored.
    pub bytes: usize,
    /// Whether it was cut at the size limit.
    #[serde(default)]
    pub truncated: bool,
}

/// Every raw input read from one source.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Where the inputs came from.
    pub source: ManifestSource,
    /// The bundle's manifest, when the source is a bundle that has one.
    pub manifest: Option<Manifest>,
    /// Inputs by canonical name.
    pub inputs: BTreeMap<String, Input>,
    /// Inputs that exist but could not be read, and why.
    pub skipped: Vec<Skipped>,
    /// When the snapshot was taken (for a bundle: when it was read).
    pub taken_at: SystemTime,
    /// Look only at kernel log entries from this instant on (`--since`):
    /// the machine's kernel log is shared by every namespace, container and
    /// earlier incident, and an operator (or a test) often wants only what
    /// happened since a point. The inputs keep everything; the parse stage
    /// leaves the earlier entries out and says how many in a note.
    pub since: Option<SystemTime>,
    /// What the source said about inputs it handed out (a sosreport's
    /// file sos cut to its tail), for the inputs read: notes of the
    /// diagnosis.
    pub notes: Vec<Note>,
    /// Whether the source said itself when it was collected (a
    /// sosreport's `date`): `taken_at` is then that time.
    pub dated: bool,
}

/// Bounds on a whole collection.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Limits on each read.
    pub limits: Limits,
    /// After this, inputs not yet read are skipped; a box with many hung
    /// mounts still gets a diagnosis in bounded time.
    pub deadline: Duration,
    /// Live packet capture (live host at `/` only), in parallel with the
    /// other collectors; see `crate::source::capture`.
    pub capture: crate::source::capture::CaptureOptions,
    /// Recording of the kernel's packet drops during the capture window
    /// (live host at `/` only); see [`crate::source::tracing`].
    pub drops: crate::source::tracing::DropOptions,
    /// [`Snapshot::since`] of the result; `None` keeps a bundle's own
    /// window (its manifest's `since`), if it has one.
    pub since: Option<SystemTime>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            limits: Limits::default(),
            deadline: Duration::from_secs(30),
            capture: crate::source::capture::CaptureOptions::default(),
            drops: crate::source::tracing::DropOptions::default(),
            since: None,
        }
    }
}

impl Snapshot {
    /// A snapshot made from inputs in memory (rule test cases, library users
    /// that already hold the files).
    pub fn from_inputs<I, N, B>(inputs: I) -> Self
    where
        I: IntoIterator<Item = (N, B)>,
        N: Into<String>,
        B: Into<Vec<u8>>,
    {
        Snapshot {
            source: ManifestSource {
                kind: SourceKind::Bundle,
                path: "<memory>".into(),
            },
            manifest: None,
            inputs: inputs
                .into_iter()
                .map(|(name, bytes)| {
                    (
                        name.into(),
                        Input {
                            bytes: bytes::Bytes::from(bytes.into()),
                            truncated: false,
                        },
                    )
                })
                .collect(),
            skipped: Vec::new(),
            taken_at: SystemTime::now(),
            since: None,
            notes: Vec::new(),
            dated: false,
        }
    }

    /// The kinds of input every Linux host has, which a bundle or root
    /// that lacks them is *thin* without: absent ones are listed under
    /// `skipped` as "not present" and counted in the diagnosis' `source`.
    /// Each is present when an input whose name starts with one of its
    /// names is (`var/log/kern.log` covers `kern.log.2.gz`).
    pub const EXPECTED: &'static [(&'static str, &'static [&'static str])] = &[
        (
            "kernel log",
            &[
                "dev/kmsg",
                "commands/dmesg",
                "var/log/kern.log",
                "var/log/syslog",
                "var/log/messages",
            ],
        ),
        (
            "routes",
            &["proc/net/route", "net/route.json", "commands/ip_r"],
        ),
        (
            "neighbours",
            &["proc/net/arp", "net/neigh.json", "commands/ip_n"],
        ),
        (
            "interfaces",
            &[
                "sys/class/net/",
                "net/link.json",
                "net/addr.json",
                "proc/net/dev",
                "commands/ip_",
            ],
        ),
        ("mounts", &["proc/mounts"]),
        ("host name", &["proc/sys/kernel/hostname"]),
    ];

    /// The [`Snapshot::EXPECTED`] kinds of input this snapshot lacks.
    pub fn absent(&self) -> Vec<&'static str> {
        Self::EXPECTED
            .iter()
            .filter(|(_, names)| {
                !names.iter().any(|name| {
                    self.inputs
                        .range::<str, _>((
                            std::ops::Bound::Included(*name),
                            std::ops::Bound::Unbounded,
                        ))
                        .next()
                        .is_some_and(|(k, _)| k.starts_with(name))
                })
            })
            .filter(|(kind, _)| {
                // A bundle's manifest names its host.
                *kind != "host name" || self.manifest.as_ref().is_none_or(|m| m.host.is_none())
            })
            .map(|(kind, _)| *kind)
            .collect()
    }

    /// When the state was collected: the manifest's time for a bundle that
    /// has one, the snapshot's for a live host, the report's own date for
    /// a sosreport; `None` for a directory of copied files and for a
    /// sosreport without its date (never the analysing machine's clock).
    pub fn collected_at(&self) -> Option<String> {
        let at = || Some(humantime::format_rfc3339_seconds(self.taken_at).to_string());
        match (&self.manifest, self.source.kind) {
            (Some(manifest), _) => Some(manifest.collected_at.clone()),
            (None, SourceKind::Live) => at(),
            (None, SourceKind::Sosreport) if self.dated => at(),
            (None, SourceKind::Sosreport | SourceKind::Bundle) => None,
        }
    }

    /// An error when nothing at all was read: every input diag knows was
    /// absent, or every one it found failed (timed out, refused, denied).
    /// A diagnosis of nothing would say "OK" and exit 0, a green light in
    /// cron or Nagios on the wrong path or a dead mount.
    pub fn require_inputs(&self) -> Result<()> {
        // `services/paths.json` is made by diag itself (a stat of watched
        // paths) below any root: it says nothing about whether the root
        // holds a host.
        if self
            .inputs
            .keys()
            .any(|name| name != crate::parse::services::perms::PATHS_INPUT)
        {
            return Ok(());
        }
        let path = PathBuf::from(&self.source.path);
        let failed: Vec<&Skipped> = self
            .skipped
            .iter()
            .filter(|s| s.collector != "manifest.json" || self.manifest.is_none())
            .filter(|s| s.reason != NOT_PRESENT)
            .collect();
        Err(match failed.first() {
            Some(first) => Error::NothingRead {
                path,
                reason: format!(
                    "{} input(s) could not be read, e.g. {}: {}",
                    failed.len(),
                    first.collector,
                    first.reason
                ),
            },
            None => Error::NothingRead {
                path,
                reason: "none of the inputs diag knows is here (it looked for a diag bundle, a copied root filesystem or a pcap capture: proc/, sys/, dev/kmsg, var/log/, net/, commands/, capture/)".into(),
            },
        })
    }

    /// Reads every input the parsers know from `source`. Never fails: what
    /// cannot be read is recorded in `skipped`.
    pub fn collect(source: &dyn Source, options: &CollectOptions) -> Self {
        let started = Instant::now();
        let mut snapshot = Snapshot {
            source: ManifestSource {
                kind: source.kind(),
                path: source.location(),
            },
            manifest: None,
            inputs: BTreeMap::new(),
            skipped: Vec::new(),
            taken_at: SystemTime::now(),
            since: None,
            notes: Vec::new(),
            dated: false,
        };
        if source.kind() != SourceKind::Live {
            snapshot.read_manifest(source, &options.limits);
        }
        snapshot.skipped.extend(source.notes());
        if let Some(at) = source.collected_at() {
            snapshot.taken_at = at;
            snapshot.dated = true;
        }
        if options.since.is_some() {
            snapshot.since = options.since;
        }
        let drops = crate::source::tracing::start(source, &options.drops, options.capture.duration);
        let capture = crate::source::capture::start(source, &options.capture);
        for spec in INPUTS {
            let limits = Limits {
                keep: spec.keep,
                ..options.limits
            };
            let mut names = expand(source, spec.pattern, &limits);
            if let Some(n) = spec.newest {
                spec.newest_first(&mut names);
                names.truncate(n);
            }
            if names.len() > MATCHES_MAX {
                // A bundle with 200,000 `sys/class/net/ifN/` directories
                // (a 610 KB archive) once took 2.2 GB.
                snapshot.skipped.push(Skipped {
                    collector: spec.pattern.to_string(),
                    reason: format!(
                        "more than {MATCHES_MAX} inputs match; only the first {MATCHES_MAX} were read (a safety limit)"
                    ),
                });
                names.truncate(MATCHES_MAX);
            }
            for name in names {
                // The end of a compressed file is not text: keep its head.
                let limits = if name.ends_with(".gz") && limits.keep == Keep::Tail {
                    Limits {
                        keep: Keep::Head,
                        ..limits
                    }
                } else {
                    limits
                };
                if started.elapsed() > options.deadline {
                    snapshot.skipped.push(Skipped {
                        collector: name,
                        reason: format!(
                            "collection deadline of {} reached",
                            humantime::format_duration(options.deadline)
                        ),
                    });
                    continue;
                }
                match source.read(&name, &limits) {
                    Ok(raw) => {
                        let bytes = match spec.redact {
                            Some(redact) => redact(&raw.bytes).into(),
                            None => raw.bytes,
                        };
                        snapshot.inputs.insert(
                            name,
                            Input {
                                bytes,
                                truncated: raw.truncated,
                            },
                        );
                    }
                    Err(ReadError::NotFound) => {}
                    Err(err) => snapshot.skipped.push(Skipped {
                        collector: name,
                        reason: err.to_string(),
                    }),
                }
            }
        }
        snapshot.notes = source
            .input_notes()
            .into_iter()
            .filter(|note| snapshot.inputs.contains_key(&note.input))
            .collect();
        let (files, failed) = crate::source::capture::finish(capture);
        snapshot.add_generated(files, failed);
        if let Some(drops) = drops {
            let (files, failed) = crate::source::tracing::finish(drops);
            snapshot.add_generated(files, failed);
        }
        // Second samples of counters whose growth matters (a neighbour
        // table overflowing *now*), taken at the end of collection and
        // stored beside the first as `NAME.end`.
        // A bundle holds the second sample under its own name.
        for name in crate::source::inputs::RESAMPLED {
            if !snapshot.inputs.contains_key(*name) {
                continue;
            }
            let read = if source.kind() == SourceKind::Live {
                source.read(name, &options.limits)
            } else {
                source.read(&format!("{name}.end"), &options.limits)
            };
            if let Ok(raw) = read {
                snapshot.inputs.insert(
                    format!("{name}.end"),
                    Input {
                        bytes: raw.bytes,
                        truncated: raw.truncated,
                    },
                );
            }
        }
        snapshot
    }

    /// Inputs made during collection (a capture, a drop recording), and
    /// what could not be made.
    fn add_generated(&mut self, files: Vec<(String, Vec<u8>)>, failed: Vec<Skipped>) {
        for (name, bytes) in files {
            self.inputs.insert(
                name,
                Input {
                    bytes: bytes.into(),
                    truncated: false,
                },
            );
        }
        self.skipped.extend(failed);
    }

    fn read_manifest(&mut self, source: &dyn Source, limits: &Limits) {
        match source.read("manifest.json", limits) {
            Ok(raw) => match serde_json::from_slice::<Manifest>(&raw.bytes) {
                Ok(manifest) => {
                    self.skipped.extend(manifest.skipped.iter().cloned());
                    if let Some(since) = &manifest.since {
                        match humantime::parse_rfc3339_weak(since) {
                            Ok(at) => self.since = Some(at),
                            Err(err) => self.skipped.push(Skipped {
                                collector: "manifest.json".into(),
                                reason: format!("unreadable since {since:?}: {err}"),
                            }),
                        }
                    }
                    self.manifest = Some(manifest);
                }
                Err(err) => self.skipped.push(Skipped {
                    collector: "manifest.json".into(),
                    reason: format!("unreadable manifest: {err}"),
                }),
            },
            Err(ReadError::NotFound) => {}
            Err(err) => self.skipped.push(Skipped {
                collector: "manifest.json".into(),
                reason: err.to_string(),
            }),
        }
    }

    /// One input's text, when present.
    pub fn text(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.inputs.get(name).map(Input::text)
    }

    /// The host name: from the manifest, else from `proc/sys/kernel/hostname`.
    pub fn host(&self) -> Option<String> {
        self.manifest
            .as_ref()
            .and_then(|m| m.host.clone())
            .or_else(|| {
                self.text("proc/sys/kernel/hostname")
                    .map(|t| t.trim().to_string())
            })
            .filter(|h| !h.is_empty())
    }

    /// The kernel release: from the manifest, else `proc/sys/kernel/osrelease`.
    pub fn kernel(&self) -> Option<String> {
        self.manifest
            .as_ref()
            .and_then(|m| m.kernel.clone())
            .or_else(|| {
                self.text("proc/sys/kernel/osrelease")
                    .map(|t| t.trim().to_string())
            })
            .filter(|k| !k.is_empty())
    }

    /// How long the host had been up when the snapshot was taken, from
    /// `proc/uptime` (its first number, seconds).
    pub fn uptime(&self) -> Option<Duration> {
        let text = self.text("proc/uptime")?;
        let seconds: f64 = text.split_whitespace().next()?.parse().ok()?;
        (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
    }

    /// The manifest this snapshot would be written with.
    pub fn to_manifest(&self) -> Manifest {
        Manifest {
            schema: BUNDLE_SCHEMA.into(),
            diag_version: crate::VERSION.into(),
            host: self.host(),
            kernel: self.kernel(),
            collected_at: humantime::format_rfc3339_seconds(self.taken_at).to_string(),
            source: self.source.clone(),
            inputs: self
                .inputs
                .iter()
                .map(|(name, input)| ManifestInput {
                    name: name.clone(),
                    bytes: input.bytes.len(),
                    truncated: input.truncated,
                })
                .collect(),
            skipped: self.skipped.clone(),
            capture: None,
            since: self
                .since
                .map(|at| humantime::format_rfc3339_micros(at).to_string()),
        }
    }

    /// Writes the snapshot as a bundle: a directory, or a `.tar.zst` archive
    /// when `path` ends in `.tar.zst`. Atomic: everything is written under a
    /// temporary name in the same directory and renamed at the end, so a
    /// crash never leaves a half bundle under the final name. Refuses to
    /// replace an existing path. Owner-only, as reports and baselines are
    /// (a bundle holds the host's kernel log, addresses and configuration):
    /// an archive is created 0600, a directory 0700.
    pub fn write_bundle(&self, path: &Path) -> Result<()> {
        if path.exists() {
            return Err(Error::OutputExists(path.to_path_buf()));
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bundle".into());
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{file_name}."))
            .suffix(".partial")
            .tempdir_in(&parent)
            .map_err(|e| Error::io(&parent, e))?;
        let root = staging.path().join("bundle");
        self.write_tree(&root)?;
        if file_name.ends_with(".tar.zst") || file_name.ends_with(".tzst") {
            let archive = staging.path().join("bundle.tar.zst");
            pack(&root, &archive)?;
            std::fs::rename(&archive, path).map_err(|e| Error::io(path, e))?;
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::io(&root, e))?;
            std::fs::rename(&root, path).map_err(|e| Error::io(path, e))?;
        }
        // `staging` (now holding only leftovers) is removed on drop.
        Ok(())
    }

    fn write_tree(&self, root: &Path) -> Result<()> {
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        for (name, input) in &self.inputs {
            let file = root.join(name);
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            std::fs::write(&file, &input.bytes).map_err(|e| Error::io(&file, e))?;
        }
        let manifest =
            serde_json::to_vec_pretty(&self.to_manifest()).map_err(|error| Error::Json {
                what: "manifest.json".into(),
                error,
            })?;
        let file = root.join("manifest.json");
        std::fs::write(&file, manifest).map_err(|e| Error::io(&file, e))?;
        Ok(())
    }
}

fn pack(root: &Path, archive: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(archive)
        .map_err(|e| Error::io(archive, e))?;
    let encoder = zstd::Encoder::new(file, 3).map_err(|e| Error::io(archive, e))?;
    let mut builder = tar::Builder::new(encoder);
    builder.mode(tar::HeaderMode::Deterministic);
    builder
        .append_dir_all(".", root)
        .map_err(|e| Error::io(archive, e))?;
    let encoder = builder.into_inner().map_err(|e| Error::io(archive, e))?;
    let file = encoder.finish().map_err(|e| Error::io(archive, e))?;
    file.sync_all().map_err(|e| Error::io(archive, e))?;
    Ok(())
}

/// Expands a pattern whose path segments may contain one `*` each
/// (`sys/class/net/*/flags`, `var/log/kern.log*`) into the names that exist
/// in `source`. A pattern without `*` is returned as is.
/// The reason of a `skipped` entry for an expected kind of input that is
/// absent ([`Snapshot::EXPECTED`]).
pub const NOT_PRESENT: &str = "not present";

/// Inputs read at most for one pattern of the input catalogue
/// (`sys/class/net/*/flags`): far more interfaces, devices or logs than
/// any host has, and a bound on what a crafted bundle can make diag hold.
pub const MATCHES_MAX: usize = 4096;

fn expand(source: &dyn Source, pattern: &str, limits: &Limits) -> Vec<String> {
    let mut prefixes = vec![String::new()];
    for segment in pattern.split('/') {
        let mut next = Vec::new();
        for prefix in &prefixes {
            if let Some((head, tail)) = segment.split_once('*') {
                let dir = prefix.trim_end_matches('/');
                let Ok(names) = source.list(dir, limits) else {
                    continue;
                };
                for name in names {
                    if name.len() >= head.len() + tail.len()
                        && name.starts_with(head)
                        && name.ends_with(tail)
                    {
                        next.push(format!("{prefix}{name}/"));
                    }
                }
            } else {
                next.push(format!("{prefix}{segment}/"));
            }
            if next.len() > MATCHES_MAX {
                // One more than the limit tells the caller it was reached.
                next.truncate(MATCHES_MAX + 1);
                break;
            }
        }
        prefixes = next;
    }
    prefixes
        .into_iter()
        .map(|p| p.trim_end_matches('/').to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 20: a thin bundle shows as thin. The kinds of input every
    /// host has are counted present by any of their names (a rotation,
    /// an interface directory), absent otherwise.
    #[test]
    fn absent_kinds_of_input_are_named() {
        let thin = Snapshot::from_inputs([("proc/mdstat", "Personalities :\n")]);
        assert_eq!(
            thin.absent(),
            [
                "kernel log",
                "routes",
                "neighbours",
                "interfaces",
                "mounts",
                "host name"
            ]
        );
        let full = Snapshot::from_inputs([
            ("var/log/kern.log.2.gz", ""),
            ("net/route.json", "[]"),
            ("proc/net/arp", ""),
            ("sys/class/net/eth0/flags", "0x1003"),
            ("proc/mounts", ""),
            ("proc/sys/kernel/hostname", "h"),
        ]);
        assert!(full.absent().is_empty(), "{:?}", full.absent());
    }

    /// Issue 19, defect 9: 200,000 `sys/class/net/ifN/flags` entries (a
    /// 610 KB archive) took 2.2 GB. A pattern reads at most
    /// [`MATCHES_MAX`] inputs and says so.
    #[test]
    fn entries_per_input_family_are_capped_with_a_note() {
        let dir = tempfile::tempdir().expect("tempdir");
        for i in 0..MATCHES_MAX + 50 {
            let iface = dir.path().join(format!("sys/class/net/if{i}"));
            std::fs::create_dir_all(&iface).expect("mkdir");
            std::fs::write(iface.join("flags"), "0x1003\n").expect("write");
        }
        let bundle = crate::source::Bundle::open(dir.path()).expect("bundle");
        let snapshot = Snapshot::collect(&bundle, &CollectOptions::default());
        let flags = snapshot
            .inputs
            .keys()
            .filter(|name| name.starts_with("sys/class/net/") && name.ends_with("/flags"))
            .count();
        assert_eq!(flags, MATCHES_MAX);
        assert!(
            snapshot
                .skipped
                .iter()
                .any(|s| s.collector.starts_with("sys/class/net/")
                    && s.reason.contains("safety limit")),
            "{:?}",
            snapshot.skipped
        );
    }

    #[test]
    fn since_reads_instants_local_times_epochs_and_durations() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |text: &str| {
            parse_since(text, now)
                .unwrap_or_else(|e| panic!("{text}: {e}"))
                .duration_since(SystemTime::UNIX_EPOCH)
                .expect("after the epoch")
                .as_secs_f64()
        };
        assert_eq!(at("2026-11-21T13:40:00Z"), 1_795_268_400.0);
        assert_eq!(at("2026-11-21T14:40:00+01:00"), 1_795_268_400.0);
        assert_eq!(at("@1795268400.5"), 1_795_268_400.5);
        assert_eq!(at("10m"), 1_800_000_000.0 - 600.0);
        assert_eq!(at(" 2h 30m "), 1_800_000_000.0 - 9000.0);
        // A minute of slack for clocks a little apart.
        assert_eq!(at("@1800000030"), 1_800_000_030.0);
        // A local time is read in the machine's zone: compare with jiff.
        let local = jiff::civil::date(2026, 11, 21)
            .at(13, 40, 0, 0)
            .to_zoned(jiff::tz::TimeZone::system())
            .expect("local time")
            .timestamp()
            .as_second() as f64;
        assert_eq!(at("2026-11-21 13:40"), local);
        assert_eq!(at("2026-11-21 13:40:00"), local);
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "@-5",
            "@x",
            "10 parsecs",
            "@inf",
        ] {
            let err = parse_since(bad, now).expect_err(bad);
            assert!(err.to_string().contains("not a time"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_bundle_keeps_the_window_it_was_collected_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bundle");
        let mut snapshot = Snapshot::from_inputs([("dev/kmsg", b"6,0,1,-;x\n".to_vec())]);
        let since = SystemTime::UNIX_EPOCH + Duration::from_micros(1_795_268_400_250_000);
        snapshot.since = Some(since);
        snapshot.write_bundle(&path).expect("write");
        let bundle = crate::source::Bundle::open(&path).expect("open");
        let read = Snapshot::collect(&bundle, &CollectOptions::default());
        assert_eq!(read.since, Some(since));
        // An explicit window replaces the bundle's.
        let other = SystemTime::UNIX_EPOCH + Duration::from_secs(1);
        let options = CollectOptions {
            since: Some(other),
            ..CollectOptions::default()
        };
        assert_eq!(Snapshot::collect(&bundle, &options).since, Some(other));
    }

    /// Issue 25: reports and baselines were written 0600, bundles with the
    /// umask's 0644 though they hold more of the host: every output that
    /// holds host data is owner-only.
    #[test]
    fn bundles_are_written_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let snapshot = Snapshot::from_inputs([("dev/kmsg", b"6,0,1,-;x\n".to_vec())]);
        let tree = dir.path().join("bundle");
        snapshot.write_bundle(&tree).expect("write");
        let archive = dir.path().join("bundle.tar.zst");
        snapshot.write_bundle(&archive).expect("write");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&tree), 0o700);
        assert_eq!(mode(&archive), 0o600);
    }
}
