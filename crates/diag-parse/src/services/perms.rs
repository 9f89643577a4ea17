//! Who may reach a path: `etc/passwd` and `etc/group` of the root, the
//! owner, group and mode of every component of a path (from
//! `services/paths.json`, one stat record per line), and the check that
//! finds the first component a user cannot traverse or read.
//!
//! The check follows the classic Unix rules: the owner's bits when the
//! user owns the component, else the group's bits when the component's
//! group is one of the user's groups (primary, or a member in
//! `etc/group`), else the others' bits; root passes. POSIX ACLs and
//! SELinux/AppArmor labels are not in the records and are not checked: a
//! denial the mode bits do not explain is reported as such.

use crate::json_records;
use crate::model::Note;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The canonical name of the generated stat records.
pub const PATHS_INPUT: &str = "services/paths.json";

/// One stat record of `services/paths.json` (stat(2), following links).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PathRecord {
    /// Absolute path on the host.
    pub path: String,
    /// `dir`, `file`, `symlink`, `other`; empty when stat failed.
    pub kind: String,
    /// Owner uid.
    pub uid: u32,
    /// Group gid.
    pub gid: u32,
    /// Permission bits as 4 octal digits (`0755`).
    pub mode: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, for regular files up to 64 KiB; else empty.
    pub sha256: String,
    /// The stat error in the system's words (`No such file or directory`),
    /// empty on success.
    pub error: String,
}

impl PathRecord {
    /// The permission bits, 0 when the mode is not octal.
    pub fn mode_bits(&self) -> u32 {
        u32::from_str_radix(&self.mode, 8).unwrap_or(0)
    }
}

/// Parses `services/paths.json`: records by path, each with its line.
/// A malformed record is a note; the others are kept.
pub fn parse_paths(input: &str, text: &str, notes: &mut Vec<Note>) -> Vec<(PathRecord, u32)> {
    let (elements, problem) = json_records::split(text);
    let mut records = Vec::new();
    for element in elements {
        match serde_json::from_str::<PathRecord>(element.text) {
            Ok(record) if record.path.starts_with('/') => records.push((record, element.line)),
            Ok(_) => notes.push(Note::line(
                input,
                element.line as usize,
                "stat record without an absolute path",
            )),
            Err(err) => notes.push(Note::line(
                input,
                element.line as usize,
                format!("unreadable stat record: {err}"),
            )),
        }
    }
    json_records::problem_note(input, problem, notes);
    records
}

/// A user of `etc/passwd` with every group it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// uid.
    pub uid: u32,
    /// Primary gid.
    pub gid: u32,
    /// Every gid: the primary one and the memberships in `etc/group`.
    pub groups: Vec<u32>,
}

/// Users and groups of a root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    /// name → (uid, primary gid).
    users: HashMap<String, (u32, u32)>,
    /// uid → name.
    user_names: HashMap<u32, String>,
    /// name → gid.
    groups: HashMap<String, u32>,
    /// gid → name.
    group_names: HashMap<u32, String>,
    /// user name → gids it is a listed member of.
    members: HashMap<String, Vec<u32>>,
}

impl Accounts {
    /// Parses `etc/passwd` and `etc/group` (either may be empty). Lines
    /// with too few fields or a non-numeric id are notes.
    pub fn parse(passwd: &str, group: &str, notes: &mut Vec<Note>) -> Accounts {
        let mut accounts = Accounts::default();
        for (i, line) in passwd.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') || line.starts_with('+') {
                continue;
            }
            let f: Vec<&str> = line.split(':').collect();
            match (
                f.len() >= 4,
                f.get(2).and_then(|u| u.parse().ok()),
                f.get(3).and_then(|g| g.parse().ok()),
            ) {
                (true, Some(uid), Some(gid)) => {
                    accounts.users.insert(f[0].to_string(), (uid, gid));
                    accounts
                        .user_names
                        .entry(uid)
                        .or_insert_with(|| f[0].to_string());
                }
                _ => notes.push(Note::line(
                    "etc/passwd",
                    i + 1,
                    "expected name:x:uid:gid:...",
                )),
            }
        }
        for (i, line) in group.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') || line.starts_with('+') {
                continue;
            }
            let f: Vec<&str> = line.split(':').collect();
            match (f.len() >= 3, f.get(2).and_then(|g| g.parse().ok())) {
                (true, Some(gid)) => {
                    accounts.groups.insert(f[0].to_string(), gid);
                    accounts
                        .group_names
                        .entry(gid)
                        .or_insert_with(|| f[0].to_string());
                    for member in f.get(3).copied().unwrap_or("").split(',') {
                        if !member.is_empty() {
                            accounts
                                .members
                                .entry(member.to_string())
                                .or_default()
                                .push(gid);
                        }
                    }
                }
                _ => notes.push(Note::line(
                    "etc/group",
                    i + 1,
                    "expected name:x:gid:members",
                )),
            }
        }
        accounts
    }

    /// The account of `user` (a name or a numeric uid, as Apache accepts
    /// `#33`), with `group` (a name) replacing its primary group when given.
    pub fn account(&self, user: &str, group: &str) -> Option<Account> {
        let user = user.trim_start_matches('#');
        let (name, uid, mut gid) = match self.users.get(user) {
            Some(&(uid, gid)) => (user.to_string(), uid, gid),
            None => {
                let uid: u32 = user.parse().ok()?;
                let name = self.user_names.get(&uid)?.clone();
                let (_, gid) = self.users[&name];
                (name, uid, gid)
            }
        };
        if !group.is_empty() {
            if let Some(&g) = self.groups.get(group.trim_start_matches('#')) {
                gid = g;
            }
        }
        let mut groups = vec![gid];
        groups.extend(self.members.get(&name).into_iter().flatten().copied());
        groups.sort_unstable();
        groups.dedup();
        Some(Account {
            name,
            uid,
            gid,
            groups,
        })
    }

    /// `name` of a uid, else the number.
    pub fn user_name(&self, uid: u32) -> String {
        self.user_names
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| uid.to_string())
    }

    /// `name` of a gid, else the number.
    pub fn group_name(&self, gid: u32) -> String {
        self.group_names
            .get(&gid)
            .cloned()
            .unwrap_or_else(|| gid.to_string())
    }
}

/// What a user may do with a path, component by component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Every component can be traversed and the path itself read.
    Allowed,
    /// This component stops the user: `need` is `traverse` (search, x on
    /// a directory) or `read`.
    Blocked {
        /// The component's stat record.
        component: PathRecord,
        /// `traverse` or `read`.
        need: &'static str,
    },
    /// Every component up to this one can be traversed, but it does not
    /// exist (or could not be stat'ed).
    Missing(PathRecord),
    /// A component has no stat record: the check cannot be made.
    Unknown(String),
}

/// `/`, `/var`, `/var/www`, ... `/var/www/html/x`.
pub fn components(path: &str) -> Vec<String> {
    let mut out = vec!["/".to_string()];
    let mut current = String::new();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        current.push('/');
        current.push_str(part);
        out.push(current.clone());
    }
    out
}

fn permits(account: &Account, record: &PathRecord, bit: u32) -> bool {
    if account.uid == 0 {
        return true;
    }
    let mode = record.mode_bits();
    let shift = if record.uid == account.uid {
        6
    } else if account.groups.contains(&record.gid) {
        3
    } else {
        0
    };
    mode & (bit << shift) != 0
}

/// Walks `path` from `/`: the first component `account` cannot traverse
/// (x on every directory above the path) or read (r on the path itself,
/// and x too when it is a directory).
pub fn check_access(account: &Account, path: &str, stats: &HashMap<String, PathRecord>) -> Access {
    let parts = components(path);
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        let Some(record) = stats.get(part) else {
            return Access::Unknown(part.clone());
        };
        if !record.error.is_empty() {
            return Access::Missing(record.clone());
        }
        if i < last {
            if !permits(account, record, 1) {
                return Access::Blocked {
                    component: record.clone(),
                    need: "traverse",
                };
            }
        } else {
            let readable = permits(account, record, 4)
                && (record.kind != "dir" || permits(account, record, 1));
            if !readable {
                return Access::Blocked {
                    component: record.clone(),
                    need: "read",
                };
            }
        }
    }
    Access::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debian 13 defaults (trimmed).
    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnginx:x:101:101::/nonexistent:/usr/sbin/nologin\n";
    const GROUP: &str = "root:x:0:\nwww-data:x:33:\nnginx:x:101:\nssl-cert:x:110:www-data\n";

    fn record(path: &str, kind: &str, uid: u32, gid: u32, mode: &str) -> PathRecord {
        PathRecord {
            path: path.into(),
            kind: kind.into(),
            uid,
            gid,
            mode: mode.into(),
            ..PathRecord::default()
        }
    }

    fn stats(records: &[PathRecord]) -> HashMap<String, PathRecord> {
        records
            .iter()
            .map(|r| (r.path.clone(), r.clone()))
            .collect()
    }

    #[test]
    fn accounts_resolve_names_numbers_and_memberships() {
        let mut notes = Vec::new();
        let accounts = Accounts::parse(PASSWD, GROUP, &mut notes);
        assert!(notes.is_empty());
        let www = accounts.account("www-data", "").expect("www-data");
        assert_eq!(
            (www.uid, www.gid, www.groups.clone()),
            (33, 33, vec![33, 110])
        );
        assert_eq!(accounts.account("#33", "").expect("uid").name, "www-data");
        assert_eq!(
            accounts.account("nginx", "www-data").expect("nginx").gid,
            33
        );
        assert!(accounts.account("nobody-here", "").is_none());
        assert_eq!(accounts.user_name(33), "www-data");
        assert_eq!(accounts.group_name(4242), "4242");
        let bad = Accounts::parse("broken line\nx:x:notanumber:0::/:\n", "", &mut notes);
        assert_eq!(notes.len(), 2);
        assert!(bad.account("x", "").is_none());
    }

    #[test]
    fn the_first_blocking_component_is_named() {
        let accounts = Accounts::parse(PASSWD, GROUP, &mut Vec::new());
        let www = accounts.account("www-data", "").expect("www-data");
        let mut records = vec![
            record("/", "dir", 0, 0, "0755"),
            record("/var", "dir", 0, 0, "0755"),
            record("/var/www", "dir", 0, 0, "0755"),
            record("/var/www/html", "dir", 33, 33, "0755"),
            record("/var/www/html/aliases", "dir", 0, 0, "0700"),
            record("/var/www/html/aliases/index.html", "file", 33, 33, "0644"),
        ];
        match check_access(&www, "/var/www/html/aliases/index.html", &stats(&records)) {
            Access::Blocked { component, need } => {
                assert_eq!(
                    (component.path.as_str(), need),
                    ("/var/www/html/aliases", "traverse")
                );
            }
            other => panic!("{other:?}"),
        }
        match check_access(&www, "/var/www/html/aliases", &stats(&records)) {
            Access::Blocked { need, .. } => assert_eq!(need, "read"),
            other => panic!("{other:?}"),
        }
        // Group access through a membership.
        records[4] = record("/var/www/html/aliases", "dir", 0, 110, "0750");
        assert_eq!(
            check_access(&www, "/var/www/html/aliases/index.html", &stats(&records)),
            Access::Allowed
        );
        let root = accounts.account("root", "").expect("root");
        records[4] = record("/var/www/html/aliases", "dir", 0, 0, "0000");
        assert_eq!(
            check_access(&root, "/var/www/html/aliases/index.html", &stats(&records)),
            Access::Allowed
        );
        assert_eq!(
            check_access(&www, "/srv/x", &stats(&records)),
            Access::Unknown("/srv".into())
        );
        let mut missing = record("/var/www/html/aliases/.htaccess", "", 0, 0, "");
        missing.error = "No such file or directory".into();
        records[4] = record("/var/www/html/aliases", "dir", 33, 33, "0755");
        records.push(missing);
        assert!(matches!(
            check_access(&www, "/var/www/html/aliases/.htaccess", &stats(&records)),
            Access::Missing(_)
        ));
    }

    #[test]
    fn paths_json_good_malformed_empty_truncated() {
        let text = "[\n{\"path\":\"/var\",\"kind\":\"dir\",\"uid\":0,\"gid\":0,\"mode\":\"0755\"},\n{\"path\":5},\n{\"path\":\"relative\"},\n{\"path\":\"/var/www\",\"kind\":\"dir\",\"uid\":0,\"gid\"";
        let mut notes = Vec::new();
        let records = parse_paths("services/paths.json", text, &mut notes);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].0.mode_bits(), 0o755);
        assert_eq!(notes.len(), 3, "{notes:?}");
        let mut notes = Vec::new();
        assert!(parse_paths("services/paths.json", "", &mut notes).is_empty());
        assert_eq!(notes.len(), 1);
    }
}
