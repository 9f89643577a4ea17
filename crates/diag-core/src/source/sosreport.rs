//! A sosreport: the tree `sos report` makes (files copied from `/proc`,
//! `/sys`, `/etc`, `/var/log`, plus `sos_commands/<plugin>/<command>`
//! outputs), read as a source of diag's canonical inputs.
//!
//! Host files keep their paths and are read as in a bundle. The inputs
//! diag otherwise collects itself come from sos's command outputs, by the
//! table [`MAP`] (documented in `docs/sosreport.md`): the first path of
//! each row that the tree holds is read under the canonical name (the
//! text forms `ip` and `mdadm` print are what diag's `commands/*` parsers
//! read). Some inputs are made from a sos file rather than copied:
//! `proc/sys/**` from `sysctl -a`, `proc/sys/kernel/osrelease` from
//! `uname -a`, `systemd/list-units.json` from `systemctl list-units`,
//! `proc/mounts` from `mount -l` and `proc/uptime` from `uptime` (to the
//! minute), each only when the tree lacks the real file.
//!
//! Every read goes through a [`Bundle`] of the tree, so it stays beneath
//! the tree's root: sos's own links (`proc/net -> self/net`) resolve when
//! they stay inside it, a link that leaves it is refused and named.
//!
//! A command that failed when sos ran it leaves its error text in the
//! output file (`mdadm: cannot open /dev/md*: No such file or
//! directory`): such a file is a skipped input with that text, never data.
//! When the report was collected comes from `sos_commands/date/date_--utc`
//! (or `date`), never from the analysing machine's clock: the year of
//! syslog lines is taken from it.

use super::{Bundle, Limits, RawInput, ReadError, Source, SourceKind};
use crate::error::Result;
use crate::model::{Note, Skipped};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Canonical input → where sos 3.x and 4.x store it, in order of
/// preference (the most detailed form first).
pub const MAP: &[(&str, &[&str])] = &[
    (
        "proc/sys/kernel/hostname",
        &[
            "sos_commands/host/hostname",
            "sos_commands/general/hostname",
            "etc/hostname",
        ],
    ),
    (
        "commands/dmesg",
        &["sos_commands/kernel/dmesg", "sos_commands/general/dmesg"],
    ),
    (
        "commands/ip_addr",
        &[
            "sos_commands/networking/ip_-d_address",
            "sos_commands/networking/ip_address",
            "sos_commands/networking/ip_-o_addr",
        ],
    ),
    (
        "commands/ip_link",
        &[
            "sos_commands/networking/ip_-s_-d_link",
            "sos_commands/networking/ip_link",
        ],
    ),
    (
        "commands/ip_route",
        &[
            "sos_commands/networking/ip_route_show_table_all",
            "sos_commands/networking/ip_route",
            "sos_commands/networking/route_-n",
        ],
    ),
    (
        "commands/ip_route6",
        &["sos_commands/networking/ip_-6_route_show_table_all"],
    ),
    (
        "commands/ip_neigh",
        &[
            "sos_commands/networking/ip_-s_-s_neigh_show",
            "sos_commands/networking/ip_neigh_show",
            "sos_commands/networking/ip_neigh",
        ],
    ),
    ("commands/ip_rule", &["sos_commands/networking/ip_-4_rule"]),
    ("commands/ip_rule6", &["sos_commands/networking/ip_-6_rule"]),
    (
        "commands/mdadm_--detail_all",
        &["sos_commands/md/mdadm_-D_.dev.md"],
    ),
    (
        "commands/journalctl_--boot",
        &[
            "sos_commands/logs/journalctl_--no-pager_--catalog_--boot",
            "sos_commands/logs/journalctl_--no-pager_--boot",
        ],
    ),
    // Sockets, read only when the tree has no `proc/net/{tcp,udp}*`
    // (facts::sockets).
    (
        "commands/ss_-peaonmi",
        &["sos_commands/networking/ss_-peaonmi"],
    ),
    (
        "commands/netstat_-neopa",
        &[
            "sos_commands/networking/netstat_-W_-neopa",
            "sos_commands/networking/netstat_-T_-neopa",
            "sos_commands/networking/netstat_-neopa",
        ],
    ),
    // Whether the report is a container's (facts::HOSTNAMECTL).
    (
        "commands/hostnamectl_status",
        &["sos_commands/host/hostnamectl_status"],
    ),
    ("commands/losetup_-a", &["sos_commands/block/losetup_-a"]),
    ("commands/lsblk", &["sos_commands/block/lsblk"]),
];

/// The `sysctl -a` output sos keeps.
const SYSCTL: &[&str] = &["sos_commands/kernel/sysctl_-a"];
/// `uname -a`.
const UNAME: &[&str] = &["sos_commands/kernel/uname_-a", "uname"];
/// `systemctl list-units` (text).
const LIST_UNITS: &[&str] = &["sos_commands/systemd/systemctl_list-units"];
/// `mount -l` (sos trees without `proc/mounts`).
const MOUNT: &[&str] = &["sos_commands/filesys/mount_-l", "mount"];
/// `date --utc` when sos ran.
const DATE: &[&str] = &["sos_commands/date/date_--utc", "sos_commands/date/date"];
/// `uptime` (sos 4.x's host plugin; `uptime` at the top is sos's link to it).
const UPTIME: &[&str] = &["sos_commands/host/uptime", "uptime"];

/// Made from a sos file: `systemd/list-units.json` in the shape
/// `systemctl list-units -o json` prints.
const LIST_UNITS_JSON: &str = "systemd/list-units.json";
/// Made from `uname -a`.
const OSRELEASE: &str = "proc/sys/kernel/osrelease";
/// Made from `uptime`, to the minute.
const PROC_UPTIME: &str = "proc/uptime";

/// A sosreport tree, read as a source.
#[derive(Debug)]
pub struct Sosreport {
    path: PathBuf,
    tree: Bundle,
    /// Canonical names made from sos files, with their bytes (sysctls,
    /// osrelease, list-units).
    made: BTreeMap<String, Vec<u8>>,
    /// The canonical names [`MAP`] resolves, with the sos path read.
    mapped: BTreeMap<String, String>,
    /// Files sos cut to their tail: the host path (`var/log/kern.log`)
    /// with the file sos wrote (`sos_strings/logs/var.log.kern.log.tailed`).
    tailed: BTreeMap<String, String>,
    collected: Option<SystemTime>,
    notes: Vec<Skipped>,
}

/// Whether an opened tree (a directory or an unpacked archive) looks like
/// a sosreport: a `sos_commands/` folder beside `version.txt`,
/// `sos_logs/` or `sos_reports/`. Read through the bundle, so beneath its
/// root.
pub fn is_sosreport(tree: &Bundle) -> bool {
    let limits = Limits::default();
    tree.list("sos_commands", &limits).is_ok()
        && (tree.read("version.txt", &limits).is_ok()
            || tree.list("sos_logs", &limits).is_ok()
            || tree.list("sos_reports", &limits).is_ok())
}

impl Sosreport {
    /// Opens the sosreport at `path`: a directory, or the archive `sos
    /// report` wrote (`.tar.xz`, `.tar.gz`, `.tar.zst`).
    pub fn open(path: impl AsRef<Path>) -> Result<Sosreport> {
        let path = path.as_ref().to_path_buf();
        let tree = Bundle::open(&path)?;
        Ok(Self::of_tree(path, tree))
    }

    /// A sosreport over a tree already opened (see [`is_sosreport`]).
    pub fn of_tree(path: PathBuf, tree: Bundle) -> Sosreport {
        let limits = Limits::default();
        let mut report = Sosreport {
            path,
            tree,
            made: BTreeMap::new(),
            mapped: BTreeMap::new(),
            tailed: BTreeMap::new(),
            collected: None,
            notes: Vec::new(),
        };
        for (name, paths) in MAP {
            if let Some(found) = paths.iter().find(|p| report.tree.read(p, &limits).is_ok()) {
                report.mapped.insert(name.to_string(), found.to_string());
            }
        }
        report.tailed = tailed_files(&report.tree, &limits);
        if let Some((_, text)) = report.first_text(SYSCTL, &limits) {
            for (name, value) in sysctl_files(&text) {
                report.made.entry(name).or_insert(value.into_bytes());
            }
        }
        if let Some((_, text)) = report.first_text(UNAME, &limits) {
            if let Some(release) = text.split_whitespace().nth(2) {
                report
                    .made
                    .insert(OSRELEASE.into(), format!("{release}\n").into_bytes());
            }
        }
        if let Some((_, text)) = report.first_text(LIST_UNITS, &limits) {
            report
                .made
                .insert(LIST_UNITS_JSON.into(), list_units_json(&text).into_bytes());
        }
        if report.tree.read("proc/mounts", &limits).is_err() {
            if let Some((_, text)) = report.first_text(MOUNT, &limits) {
                report
                    .made
                    .insert("proc/mounts".into(), proc_mounts(&text).into_bytes());
            }
        }
        if let Some((_, text)) = report.first_text(DATE, &limits) {
            report.collected = parse_date(&text);
        }
        // How long the host had been up, so the running boot's kernel
        // lines get a wall-clock time: only beside the report's own date.
        if report.collected.is_some() && report.tree.read(PROC_UPTIME, &limits).is_err() {
            if let Some(seconds) = report
                .first_text(UPTIME, &limits)
                .and_then(|(_, text)| parse_uptime(&text))
            {
                report
                    .made
                    .insert(PROC_UPTIME.into(), format!("{seconds}.00\n").into_bytes());
            }
        }
        report
    }

    /// The text of the first of `paths` the tree holds, if it is not a
    /// failed command's error.
    fn first_text(&self, paths: &[&str], limits: &Limits) -> Option<(String, String)> {
        paths.iter().find_map(|p| {
            let raw = self.tree.read(p, limits).ok()?;
            let text = String::from_utf8_lossy(&raw.bytes).into_owned();
            failed_command(&text)
                .is_none()
                .then(|| (p.to_string(), text))
        })
    }
}

impl Source for Sosreport {
    fn kind(&self) -> SourceKind {
        SourceKind::Sosreport
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self, name: &str, limits: &Limits) -> std::result::Result<RawInput, ReadError> {
        if let Some(path) = self.mapped.get(name) {
            let raw = self.tree.read(path, limits)?;
            // A failed command says so in a few short lines: a large
            // output (a mapped log) is not read through for it.
            let short = raw.bytes.len() <= FAILED_COMMAND_MAX;
            if let Some(error) = short
                .then(|| String::from_utf8_lossy(&raw.bytes))
                .and_then(|text| failed_command(&text).map(str::to_string))
            {
                return Err(ReadError::Failed(format!(
                    "{path}: the command failed when sos ran it: {error}"
                )));
            }
            return Ok(raw);
        }
        if let Some(tailed) = self.tailed.get(name) {
            // sos's link at the host path, or, when the link was lost,
            // the file it points to.
            let raw = match self.tree.read(name, limits) {
                Err(ReadError::NotFound) => self.tree.read(tailed, limits)?,
                other => other?,
            };
            return Ok(RawInput {
                bytes: after_first_line(raw.bytes),
                truncated: true,
            });
        }
        match self.tree.read(name, limits) {
            Err(ReadError::NotFound) => match self.made.get(name) {
                Some(bytes) => Ok(RawInput {
                    bytes: bytes.clone().into(),
                    truncated: false,
                }),
                None => Err(ReadError::NotFound),
            },
            other => other,
        }
    }

    fn list(&self, dir: &str, limits: &Limits) -> std::result::Result<Vec<String>, ReadError> {
        let mut names: BTreeSet<String> = match self.tree.list(dir, limits) {
            Ok(names) => names.into_iter().collect(),
            Err(ReadError::NotFound) => BTreeSet::new(),
            Err(err) => return Err(err),
        };
        let prefix = format!("{dir}/");
        for name in self
            .mapped
            .keys()
            .chain(self.made.keys())
            .chain(self.tailed.keys())
        {
            if let Some(rest) = name.strip_prefix(&prefix) {
                let child = rest.split('/').next().unwrap_or(rest);
                names.insert(child.to_string());
            }
        }
        if names.is_empty() {
            return Err(ReadError::NotFound);
        }
        Ok(names.into_iter().collect())
    }

    fn notes(&self) -> Vec<Skipped> {
        let mut notes = self.tree.notes();
        notes.extend(self.notes.iter().cloned());
        notes
    }

    fn collected_at(&self) -> Option<SystemTime> {
        self.collected
    }

    fn input_notes(&self) -> Vec<Note> {
        self.tailed
            .iter()
            .map(|(name, tailed)| {
                Note::input(
                    name,
                    format!(
                        "partial: sos kept only the end of this file ({tailed}), it was over sos's size limit; earlier lines are missing, and the first line, cut where sos cut the file, is left out"
                    ),
                )
            })
            .collect()
    }
}

/// Most `sos_strings` files looked at for tails sos cut.
const TAILED_MAX: usize = 1024;

/// The files sos cut to their tail: `sos_strings/<plugin>/<path with / as
/// .>.tailed` (sos 4.x, `Plugin._add_copy_paths`' size limit), each with
/// the host path it stands for. The dots are read back as folders as far
/// as the tree has them (`var.log.kern.log`: `var/log/` is a folder,
/// `kern` is not, so `var/log/kern.log`); a tree without the folders
/// gives `var/log/` to the names that start so.
fn tailed_files(tree: &Bundle, limits: &Limits) -> BTreeMap<String, String> {
    let mut tailed = BTreeMap::new();
    let plugins = tree.list("sos_strings", limits).unwrap_or_default();
    for plugin in plugins.iter().take(TAILED_MAX) {
        let dir = format!("sos_strings/{plugin}");
        let files = tree.list(&dir, limits).unwrap_or_default();
        for file in files.iter().take(TAILED_MAX) {
            let Some(host) = file
                .strip_suffix(".tailed")
                .and_then(|d| undot(tree, d, limits))
            else {
                continue;
            };
            tailed
                .entry(host)
                .or_insert_with(|| format!("{dir}/{file}"));
            if tailed.len() >= TAILED_MAX {
                return tailed;
            }
        }
    }
    tailed
}

/// A host path from sos's dotted name of it (see [`tailed_files`]);
/// `None` when no file name is left or a part is empty.
fn undot(tree: &Bundle, dotted: &str, limits: &Limits) -> Option<String> {
    let parts: Vec<&str> = dotted.split('.').collect();
    let mut dir = String::new();
    let mut used = 0;
    while used + 1 < parts.len() && !parts[used].is_empty() {
        let next = if dir.is_empty() {
            parts[used].to_string()
        } else {
            format!("{dir}/{}", parts[used])
        };
        if tree.list(&next, limits).is_err() {
            break;
        }
        dir = next;
        used += 1;
    }
    let file = parts[used..].join(".");
    if file.is_empty() || file.starts_with('.') {
        return None;
    }
    match (dir.is_empty(), file.strip_prefix("var.log.")) {
        (false, _) => Some(format!("{dir}/{file}")),
        (true, Some(rest)) if !rest.is_empty() && !rest.starts_with('.') => {
            Some(format!("var/log/{rest}"))
        }
        (true, _) => None,
    }
}

/// `bytes` without its first line (up to its first newline): sos cut a
/// file at a byte count, mostly inside a line. Nothing when there is no
/// newline.
fn after_first_line(bytes: bytes::Bytes) -> bytes::Bytes {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(end) => bytes.slice(end + 1..),
        None => bytes::Bytes::new(),
    }
}

/// Longest output read for the signs of a failed command.
const FAILED_COMMAND_MAX: usize = 64 << 10;

/// The error text of a command that failed when sos ran it, if `text` is
/// one: a short output whose first line says the command could not run.
pub fn failed_command(text: &str) -> Option<&str> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next()?.trim();
    if lines.count() > 2 {
        return None;
    }
    const SIGNS: &[&str] = &[
        "command not found",
        "No such file or directory",
        "cannot open",
        "Cannot open",
        "not found",
        "Permission denied",
        "Operation not permitted",
        "Failed to ",
        "timed out",
    ];
    SIGNS.iter().any(|s| first.contains(s)).then_some(first)
}

/// `sysctl -a` as the files of `/proc/sys`: `net.ipv4.ip_forward = 1`
/// is `proc/sys/net/ipv4/ip_forward` holding `1\n`. sysctl writes a `.`
/// inside a name (a VLAN interface `eth0.100`) as `/`.
pub fn sysctl_files(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(" = ")?;
            let key = key.trim();
            if key.is_empty() || key.contains("..") || key.starts_with('.') {
                return None;
            }
            let parts: Vec<String> = key.split('.').map(|p| p.replace('/', ".")).collect();
            if parts.iter().any(|p| p.is_empty() || p == "." || p == "..") {
                return None;
            }
            Some((
                format!("proc/sys/{}", parts.join("/")),
                format!("{}\n", value.trim()),
            ))
        })
        .collect()
}

/// `systemctl list-units` text as the JSON `systemctl list-units -o json`
/// prints: one object per unit row (`unit`, `load`, `active`, `sub`,
/// `description`); the header, the legend and a failed unit's `●` are
/// dropped.
pub fn list_units_json(text: &str) -> String {
    let mut rows = Vec::new();
    for line in text.lines() {
        let line = line.trim_start_matches(|c: char| c.is_whitespace() || c == '●' || c == '*');
        let mut fields = line.split_whitespace();
        let (Some(unit), Some(load), Some(active), Some(sub)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if unit == "UNIT"
            || !unit.contains('.')
            || !matches!(
                load,
                "loaded" | "not-found" | "masked" | "bad-setting" | "error"
            )
        {
            continue;
        }
        let description = fields.collect::<Vec<_>>().join(" ");
        rows.push(serde_json::json!({
            "unit": unit, "load": load, "active": active, "sub": sub, "description": description,
        }));
    }
    serde_json::Value::Array(rows).to_string()
}

/// `mount -l` output (`/dev/vda1 on / type ext4 (rw,relatime) [root]`)
/// in the form of `/proc/mounts` (`/dev/vda1 / ext4 rw,relatime 0 0`),
/// blanks in paths written `\040` as the kernel writes them.
pub fn proc_mounts(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let Some((device, rest)) = line.split_once(" on ") else {
            continue;
        };
        let Some((dir, rest)) = rest.rsplit_once(" type ") else {
            continue;
        };
        let Some((fstype, rest)) = rest.split_once(" (") else {
            continue;
        };
        let Some((options, _label)) = rest.split_once(')') else {
            continue;
        };
        out.push_str(&format!(
            "{} {} {} {} 0 0\n",
            mounts_field(device),
            mounts_field(dir),
            mounts_field(fstype),
            mounts_field(options)
        ));
    }
    out
}

/// One field of a `/proc/mounts` line, escaped as the kernel escapes it
/// (blank, tab and backslash in octal), so that a line always has its six
/// fields whatever `mount -l` printed.
fn mounts_field(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    for c in field.chars() {
        match c {
            ' ' => out.push_str("\\040"),
            '\t' => out.push_str("\\011"),
            '\\' => out.push_str("\\134"),
            c => out.push(c),
        }
    }
    if out.is_empty() {
        out.push('-');
    }
    out
}

/// `uptime` output (procps: ` 16:19:19 up 17:41,  2 users,  load
/// average: ...`; `up 5 min,`, `up 2 days,  3:04,`, `up 1 day, 12 min,`)
/// as seconds up, to the minute (uptime prints no seconds); `None` for
/// anything else.
pub fn parse_uptime(text: &str) -> Option<u64> {
    let (_, rest) = text.lines().next()?.split_once(" up ")?;
    let mut parts = rest.split(',').map(str::trim);
    let mut part = parts.next()?;
    let mut seconds = 0u64;
    if let Some(days) = part
        .strip_suffix(" days")
        .or_else(|| part.strip_suffix(" day"))
    {
        seconds = days.trim().parse::<u64>().ok()?.checked_mul(86_400)?;
        part = parts.next()?;
    }
    let minutes = if let Some(m) = part.strip_suffix(" min") {
        m.trim().parse::<u64>().ok()?
    } else if let Some((h, m)) = part.split_once(':') {
        let (h, m) = (h.trim().parse::<u64>().ok()?, m.trim().parse::<u64>().ok()?);
        if m >= 60 {
            return None;
        }
        h.checked_mul(60)?.checked_add(m)?
    } else {
        return None;
    };
    seconds.checked_add(minutes.checked_mul(60)?)
}

/// `date --utc` output (`Thu Feb 10 16:19:17 UTC 2022`, sos runs its
/// commands in the C locale) as an instant; `None` for anything else
/// (a `date` in another zone is not guessed at).
pub fn parse_date(text: &str) -> Option<SystemTime> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [day, month, date, time, "UTC", year] = words[..] else {
        return None;
    };
    let text = format!("{day} {month} {date} {time} {year}");
    let civil = jiff::fmt::strtime::parse("%a %b %d %H:%M:%S %Y", &text)
        .ok()?
        .to_datetime()
        .ok()?;
    let ts = civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(SystemTime::from(ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_a_becomes_proc_sys_files() {
        let files = sysctl_files(
            "net.ipv4.ip_forward = 1\nnet.ipv4.conf.eth0/100.rp_filter = 2\nkernel.hostname = h\nbad line\n...x = 1\n",
        );
        assert_eq!(
            files,
            vec![
                ("proc/sys/net/ipv4/ip_forward".into(), "1\n".into()),
                (
                    "proc/sys/net/ipv4/conf/eth0.100/rp_filter".into(),
                    "2\n".into()
                ),
                ("proc/sys/kernel/hostname".into(), "h\n".into()),
            ]
        );
    }

    #[test]
    fn a_failed_command_is_not_data() {
        assert_eq!(
            failed_command("mdadm: cannot open /dev/md*: No such file or directory\n"),
            Some("mdadm: cannot open /dev/md*: No such file or directory")
        );
        assert_eq!(
            failed_command("bash: ip: command not found"),
            Some("bash: ip: command not found")
        );
        assert_eq!(failed_command("default via 10.0.0.2 dev eth0\n"), None);
        assert_eq!(failed_command(""), None);
    }

    #[test]
    fn list_units_text_becomes_json_rows() {
        let json = list_units_json(
            "  UNIT  LOAD   ACTIVE SUB     DESCRIPTION\n  a.service loaded active running The A\n● b.service loaded failed failed  The B\n\nLOAD   = Reflects whether\n2 loaded units listed.\n",
        );
        let rows: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(rows.as_array().map(Vec::len), Some(2));
        assert_eq!(rows[1]["unit"], "b.service");
        assert_eq!(rows[1]["active"], "failed");
        assert_eq!(rows[0]["description"], "The A");
    }

    #[test]
    fn mount_l_becomes_proc_mounts() {
        assert_eq!(
            proc_mounts("/dev/vda1 on / type ext4 (rw,relatime) [cloudimg-rootfs]\nproc on /proc type proc (rw,nosuid)\n/dev/sdb1 on /mnt/my disk type vfat (ro)\ngarbage\n"),
            "/dev/vda1 / ext4 rw,relatime 0 0\nproc /proc proc rw,nosuid 0 0\n/dev/sdb1 /mnt/my\\040disk vfat ro 0 0\n"
        );
    }

    /// Found by the `sosreport` fuzz target: options holding a blank made
    /// a seven-field line.
    #[test]
    fn mount_l_options_with_a_blank_stay_one_field() {
        let line = proc_mounts(
            "mdadm: cannot open /dev/md*:sysfs on /sys type sysfs (rw,relati meNo s)\n",
        );
        assert_eq!(line, "mdadm:\\040cannot\\040open\\040/dev/md*:sysfs /sys sysfs rw,relati\\040meNo\\040s 0 0\n");
        assert_eq!(line.trim_end().split(' ').count(), 6);
        assert_eq!(
            proc_mounts(" on  type  ()\n").trim_end().split(' ').count(),
            6
        );
    }

    #[test]
    fn a_tail_sos_cut_loses_its_cut_first_line() {
        let cut = |s: &'static str| after_first_line(bytes::Bytes::from_static(s.as_bytes()));
        assert_eq!(
            cut("4 09:35:00 h kernel: x\nFeb  4 09:35:06 h kernel: y\n"),
            "Feb  4 09:35:06 h kernel: y\n"
        );
        // No newline at all: one cut line, nothing kept.
        assert_eq!(cut("4 09:35:00 h kernel: x"), "");
        assert_eq!(cut(""), "");
        assert_eq!(cut("\n"), "");
    }

    #[test]
    fn uptime_output_is_seconds_up_to_the_minute() {
        // The hotsos tree's sos_commands/host/uptime, byte for byte.
        assert_eq!(
            parse_uptime(" 16:19:19 up 17:41,  2 users,  load average: 3.58, 3.27, 2.58\n"),
            Some(63_660)
        );
        assert_eq!(
            parse_uptime(" 10:01:02 up 5 min,  1 user,  load average: 0.00, 0.01, 0.00\n"),
            Some(300)
        );
        assert_eq!(
            parse_uptime(" 10:01:02 up 2 days,  3:04,  0 users,  load average: 1.00, 1.00, 1.00"),
            Some(2 * 86_400 + 3 * 3600 + 4 * 60)
        );
        assert_eq!(
            parse_uptime(" 10:01:02 up 1 day, 12 min,  3 users,  load average: 0.10, 0.20, 0.30"),
            Some(86_400 + 12 * 60)
        );
        // Malformed, truncated, hostile: nothing, never a panic.
        for bad in [
            "",
            "uptime: command not found",
            " 10:01:02 up ",
            " 10:01:02 up 17:99,  2 users",
            " 10:01:02 up x:41,  2 users",
            " 10:01:02 up 99999999999999999999 days, 1:00,",
            " 10:01:02 up 18446744073709551615:00,",
            " 10:01:02 up \u{feff}17:41,",
        ] {
            assert_eq!(parse_uptime(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn date_utc_is_read_without_the_local_clock() {
        let at = parse_date("Thu Feb 10 16:19:17 UTC 2022\n").expect("date");
        let secs = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after")
            .as_secs();
        assert_eq!(secs, 1_644_509_957);
        assert!(parse_date("Tue Feb  1 01:02:03 UTC 2022").is_some());
        assert_eq!(parse_date("Thu Feb 10 16:19:17 CET 2022"), None);
        assert_eq!(parse_date("yesterday"), None);
    }
}
