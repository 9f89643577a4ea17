//! Baselines: what a host looked like on a healthy day, and what changed
//! since.
//!
//! A [`Baseline`] is extracted from a snapshot and its facts by
//! [`Baseline::from_snapshot`]; `diag baseline save` writes one as JSON,
//! and `diag check --baseline FILE` puts the file into the snapshot as the
//! input [`BASELINE_INPUT`]. [`compare`] extracts the same record from the
//! current snapshot and turns every difference into a [`Change`] (the
//! `facts.baseline.changes` of rule conditions), each with the current
//! input and line as evidence.
//!
//! Recorded: the kernel release and command line, bound addresses, routes
//! (every table but `local`, at most [`MAX_ROUTES`]), every collected
//! `proc/sys` value, md RAID members, mounted filesystems (no pseudo
//! filesystems), and the owner, group, mode (and SHA-256 of small files)
//! of every path in `services/paths.json` (the watch list, the web
//! servers' configured roots and what their logs name; see
//! `source::services`).

use super::services::perms::snapshot_paths;
use super::Facts;
use crate::model::Note;
use crate::parse::services::perms::{Accounts, PathRecord, PATHS_INPUT};
use crate::source::snapshot::Snapshot;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Schema name written into every baseline.
pub const BASELINE_SCHEMA: &str = "diag-baseline/1";

/// The canonical name a baseline has in a snapshot or bundle.
pub const BASELINE_INPUT: &str = "baseline/baseline.json";

/// Routes recorded at most (a full Internet table is not a baseline
/// subject).
pub const MAX_ROUTES: usize = 10_000;

/// What a host looked like when the baseline was saved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Baseline {
    /// Always [`BASELINE_SCHEMA`].
    pub schema: String,
    /// The diag version that saved it.
    pub diag_version: String,
    /// Host name.
    pub host: String,
    /// RFC 3339 time it was saved.
    pub taken_at: String,
    /// Kernel release.
    pub kernel: String,
    /// Kernel command line.
    pub cmdline: String,
    /// Bound addresses, `eth0 192.0.2.10/24`.
    pub addresses: BTreeSet<String>,
    /// Routes as `ip route` prints them, with their table.
    pub routes: BTreeSet<String>,
    /// `proc/sys` values by canonical name.
    pub sysctls: BTreeMap<String, String>,
    /// md members, `md0 sda1 active`.
    pub md_members: BTreeSet<String>,
    /// Mounted filesystems, `/dev/sda1 on / type ext4`.
    pub mounts: BTreeSet<String>,
    /// Stat records of watched paths.
    pub paths: Vec<PathRecord>,
}

/// A problem with a baseline file.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// Not JSON, or not a baseline.
    #[error("not a diag baseline ({0})")]
    Corrupt(String),
    /// Written by a newer diag in a schema this one does not know.
    #[error("baseline schema {found:?} is not {BASELINE_SCHEMA:?} (written by diag {version}); save a new baseline with this diag")]
    Schema {
        /// The schema the file names.
        found: String,
        /// The diag version that wrote it.
        version: String,
    },
}

impl Baseline {
    /// Parses and checks a baseline file's content.
    pub fn from_json(bytes: &[u8]) -> Result<Baseline, BaselineError> {
        let baseline: Baseline =
            serde_json::from_slice(bytes).map_err(|e| BaselineError::Corrupt(e.to_string()))?;
        if baseline.schema != BASELINE_SCHEMA {
            return Err(BaselineError::Schema {
                found: baseline.schema,
                version: baseline.diag_version,
            });
        }
        Ok(baseline)
    }

    /// The baseline as pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// What `snapshot` (with its parsed `facts`) would record.
    pub fn from_snapshot(snapshot: &Snapshot, facts: &Facts) -> Baseline {
        let mut notes = Vec::new();
        let paths = snapshot_paths(snapshot, &mut notes)
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        let tables = &facts.net.tables;
        Baseline {
            schema: BASELINE_SCHEMA.into(),
            diag_version: crate::VERSION.into(),
            host: facts.host.hostname.clone(),
            taken_at: humantime::format_rfc3339_seconds(snapshot.taken_at).to_string(),
            kernel: facts.host.kernel.clone(),
            cmdline: snapshot
                .text("proc/cmdline")
                .map(|t| t.trim().to_string())
                .unwrap_or_default(),
            addresses: tables
                .addresses
                .iter()
                .map(|a| format!("{} {}/{}", a.ifname, a.local, a.prefixlen))
                .collect(),
            routes: tables
                .routes
                .iter()
                .filter(|r| r.table != 255)
                .take(MAX_ROUTES)
                .map(|r| format!("{} table {}", r.render(), r.table))
                .collect(),
            sysctls: snapshot
                .inputs
                .iter()
                .filter(|(name, _)| name.starts_with("proc/sys/") && !name.ends_with(".end"))
                .filter(|(name, _)| *name != "proc/sys/kernel/hostname")
                .map(|(name, input)| (name.clone(), input.text().trim().to_string()))
                .collect(),
            md_members: facts
                .md
                .arrays
                .iter()
                .flat_map(|a| {
                    a.members.iter().map(move |m| {
                        let state = if m.faulty {
                            "faulty"
                        } else if m.spare {
                            "spare"
                        } else {
                            "active"
                        };
                        format!("{} {} {state}", a.name, m.name)
                    })
                })
                .collect(),
            mounts: facts
                .fs
                .mounts
                .iter()
                .filter(|m| !m.pseudo)
                .map(|m| format!("{} on {} type {}", m.device, m.mountpoint, m.fstype))
                .collect(),
            paths,
        }
    }
}

/// One difference between the baseline and now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `kernel`, `cmdline`, `address`, `route`, `sysctl`, `md-member`,
    /// `mount`, `permission`, `content` or `path`.
    pub kind: String,
    /// `added`, `removed` or `changed`.
    pub change: String,
    /// What changed: a path, an address, a route, a sysctl name.
    pub subject: String,
    /// The value in the baseline, empty when added.
    pub was: String,
    /// The value now, empty when removed.
    pub now: String,
    /// Canonical input of the current value (or the baseline's, for
    /// something removed).
    pub input: String,
    /// Line in it, 0 when unknown.
    pub line: u32,
    /// The change in words.
    pub excerpt: String,
}

/// The baseline as rule conditions see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BaselineFacts {
    /// Whether a baseline was given.
    pub present: bool,
    /// When it was saved.
    pub taken_at: String,
    /// The host it was saved on.
    pub host: String,
    /// Whether that is this host (by name).
    pub same_host: bool,
    /// Every difference.
    pub changes: Vec<Change>,
}

fn owner(accounts: &Accounts, r: &PathRecord) -> String {
    if !r.error.is_empty() {
        return format!("missing ({})", r.error);
    }
    format!(
        "{}:{} {}",
        accounts.user_name(r.uid),
        accounts.group_name(r.gid),
        r.mode
    )
}

fn set_changes(
    kind: &str,
    was: &BTreeSet<String>,
    now: &BTreeSet<String>,
    input: &str,
    date: &str,
    out: &mut Vec<Change>,
) {
    for gone in was.difference(now) {
        out.push(Change {
            kind: kind.into(),
            change: "removed".into(),
            subject: gone.clone(),
            was: gone.clone(),
            input: input.into(),
            excerpt: format!("{kind} {gone}: in the baseline of {date}, gone now"),
            ..Change::default()
        });
    }
    for new in now.difference(was) {
        out.push(Change {
            kind: kind.into(),
            change: "added".into(),
            subject: new.clone(),
            now: new.clone(),
            input: input.into(),
            excerpt: format!("{kind} {new}: new since the baseline of {date}"),
            ..Change::default()
        });
    }
}

fn changed(kind: &str, subject: &str, was: &str, now: &str, input: &str, date: &str) -> Change {
    Change {
        kind: kind.into(),
        change: "changed".into(),
        subject: subject.into(),
        was: was.into(),
        now: now.into(),
        input: input.into(),
        line: 1,
        excerpt: format!("{subject}: {now}, was {was} in the baseline of {date}"),
    }
}

/// Compares the baseline held by `snapshot` (if any) with the snapshot's
/// own state. A corrupt baseline, one from a newer diag or from another
/// host is a note; the rest of the diagnosis is unaffected.
pub fn compare(snapshot: &Snapshot, facts: &Facts, notes: &mut Vec<Note>) -> BaselineFacts {
    let Some(input) = snapshot.inputs.get(BASELINE_INPUT) else {
        return BaselineFacts::default();
    };
    let saved = match Baseline::from_json(&input.bytes) {
        Ok(b) => b,
        Err(err) => {
            notes.push(Note::input(
                BASELINE_INPUT,
                format!("{err}; no changes compared"),
            ));
            return BaselineFacts::default();
        }
    };
    let now = Baseline::from_snapshot(snapshot, facts);
    let same_host = saved.host.is_empty() || now.host.is_empty() || saved.host == now.host;
    if !same_host {
        notes.push(Note::input(
            BASELINE_INPUT,
            format!(
                "baseline was saved on host {:?}, this is {:?}: its changes are listed but not used as causes",
                saved.host, now.host
            ),
        ));
    }
    let date = saved.taken_at.as_str();
    let mut changes = Vec::new();
    if !saved.kernel.is_empty() && !now.kernel.is_empty() && saved.kernel != now.kernel {
        changes.push(changed(
            "kernel",
            "kernel",
            &saved.kernel,
            &now.kernel,
            "proc/sys/kernel/osrelease",
            date,
        ));
    }
    if !saved.cmdline.is_empty() && !now.cmdline.is_empty() && saved.cmdline != now.cmdline {
        changes.push(changed(
            "cmdline",
            "kernel command line",
            &saved.cmdline,
            &now.cmdline,
            "proc/cmdline",
            date,
        ));
    }
    // A table that was not collected now is unknown, not emptied.
    if !now.addresses.is_empty() {
        set_changes(
            "address",
            &saved.addresses,
            &now.addresses,
            "net/addr.json",
            date,
            &mut changes,
        );
    }
    if !now.routes.is_empty() {
        set_changes(
            "route",
            &saved.routes,
            &now.routes,
            "net/route.json",
            date,
            &mut changes,
        );
    }
    if !now.md_members.is_empty() || snapshot.inputs.contains_key("proc/mdstat") {
        set_changes(
            "md-member",
            &saved.md_members,
            &now.md_members,
            "proc/mdstat",
            date,
            &mut changes,
        );
    }
    if !now.mounts.is_empty() {
        set_changes(
            "mount",
            &saved.mounts,
            &now.mounts,
            "proc/mounts",
            date,
            &mut changes,
        );
    }
    for (name, was) in &saved.sysctls {
        if let Some(value) = now.sysctls.get(name) {
            if value != was {
                let subject = name.trim_start_matches("proc/sys/").replace('/', ".");
                changes.push(changed("sysctl", &subject, was, value, name, date));
            }
        }
    }
    let mut accounts_notes = Vec::new();
    let accounts = Accounts::parse(
        &snapshot.text("etc/passwd").unwrap_or_default(),
        &snapshot.text("etc/group").unwrap_or_default(),
        &mut accounts_notes,
    );
    let mut path_notes = Vec::new();
    let current: BTreeMap<String, (PathRecord, u32)> = snapshot_paths(snapshot, &mut path_notes)
        .into_iter()
        .map(|(r, line)| (r.path.clone(), (r, line)))
        .collect();
    for was in &saved.paths {
        let Some((now, line)) = current.get(&was.path) else {
            continue;
        };
        let (kind, from, to) = if was.error.is_empty() != now.error.is_empty() {
            ("path", owner(&accounts, was), owner(&accounts, now))
        } else if was.error.is_empty()
            && (was.uid != now.uid || was.gid != now.gid || was.mode != now.mode)
        {
            ("permission", owner(&accounts, was), owner(&accounts, now))
        } else if !was.sha256.is_empty() && !now.sha256.is_empty() && was.sha256 != now.sha256 {
            (
                "content",
                format!("sha256 {}", was.sha256),
                format!("sha256 {}", now.sha256),
            )
        } else {
            continue;
        };
        let excerpt = match kind {
            "permission" => format!(
                "{}: owner {} mode {}, was {} mode {} in the baseline of {date}",
                now.path,
                owner(&accounts, now)
                    .rsplit_once(' ')
                    .map(|x| x.0)
                    .unwrap_or(""),
                now.mode,
                owner(&accounts, was)
                    .rsplit_once(' ')
                    .map(|x| x.0)
                    .unwrap_or(""),
                was.mode
            ),
            _ => format!("{}: {to}, was {from} in the baseline of {date}", now.path),
        };
        changes.push(Change {
            kind: kind.into(),
            change: "changed".into(),
            subject: now.path.clone(),
            was: from,
            now: to,
            input: PATHS_INPUT.into(),
            line: *line,
            excerpt,
        });
    }
    BaselineFacts {
        present: true,
        taken_at: saved.taken_at.clone(),
        host: saved.host.clone(),
        same_host,
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot_with(baseline: &[u8], paths: &str, kernel: &str) -> Snapshot {
        Snapshot::from_inputs([
            (BASELINE_INPUT, baseline.to_vec()),
            (PATHS_INPUT, paths.as_bytes().to_vec()),
            ("proc/sys/kernel/osrelease", kernel.as_bytes().to_vec()),
            ("proc/sys/kernel/hostname", b"web1\n".to_vec()),
            (
                "etc/passwd",
                b"root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/false\n".to_vec(),
            ),
            ("etc/group", b"root:x:0:\nwww-data:x:33:\n".to_vec()),
        ])
    }

    fn saved() -> Baseline {
        Baseline {
            schema: BASELINE_SCHEMA.into(),
            diag_version: "0.1.0".into(),
            host: "web1".into(),
            taken_at: "2011-04-10T04:00:00Z".into(),
            kernel: "3.10.0".into(),
            paths: vec![PathRecord {
                path: "/var/www/html/aliases".into(),
                kind: "dir".into(),
                uid: 33,
                gid: 33,
                mode: "0755".into(),
                ..PathRecord::default()
            }],
            ..Baseline::default()
        }
    }

    #[test]
    fn permission_and_kernel_changes_are_found() {
        let paths = "[\n{\"path\":\"/var/www/html/aliases\",\"kind\":\"dir\",\"uid\":0,\"gid\":0,\"mode\":\"0700\"}\n]\n";
        let snapshot = snapshot_with(&saved().to_json(), paths, "3.4.0\n");
        let (facts, notes) = Facts::from_snapshot(&snapshot);
        assert!(notes.is_empty(), "{notes:?}");
        let b = &facts.baseline;
        assert!(b.present && b.same_host);
        let kinds: Vec<_> = b.changes.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(kinds, ["kernel", "permission"]);
        assert_eq!(
            b.changes[1].excerpt,
            "/var/www/html/aliases: owner root:root mode 0700, was www-data:www-data mode 0755 in the baseline of 2011-04-10T04:00:00Z"
        );
        assert_eq!(b.changes[1].line, 2);
    }

    #[test]
    fn unchanged_host_has_no_changes() {
        let paths = "[\n{\"path\":\"/var/www/html/aliases\",\"kind\":\"dir\",\"uid\":33,\"gid\":33,\"mode\":\"0755\"}\n]\n";
        let snapshot = snapshot_with(&saved().to_json(), paths, "3.10.0\n");
        let (facts, _) = Facts::from_snapshot(&snapshot);
        assert!(facts.baseline.present);
        assert!(facts.baseline.changes.is_empty());
    }

    #[test]
    fn corrupt_newer_and_foreign_baselines_are_notes() {
        for (bytes, want) in [
            (b"{not json".to_vec(), "not a diag baseline"),
            (b"".to_vec(), "not a diag baseline"),
            (
                br#"{"schema":"diag-baseline/9","diag_version":"9.0.0"}"#.to_vec(),
                "diag-baseline/9",
            ),
        ] {
            let snapshot = snapshot_with(&bytes, "[]", "3.4.0\n");
            let (facts, notes) = Facts::from_snapshot(&snapshot);
            assert!(!facts.baseline.present);
            assert!(
                notes
                    .iter()
                    .any(|n| n.input == BASELINE_INPUT && n.message.contains(want)),
                "{notes:?}"
            );
        }
        let mut other = saved();
        other.host = "db7".into();
        let snapshot = snapshot_with(&other.to_json(), "[]", "3.4.0\n");
        let (facts, notes) = Facts::from_snapshot(&snapshot);
        assert!(facts.baseline.present && !facts.baseline.same_host);
        assert!(notes.iter().any(|n| n.message.contains("db7")));
    }
}
