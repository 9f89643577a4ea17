//! md (software RAID) facts: the `proc/mdstat`, `sys/block/md*/md/*` and
//! `mdadm --detail` inputs of a snapshot, each read with its parser of
//! [`crate::parse::md`], joined per array ([`merge`]: sysfs wins where the
//! sources disagree, and the disagreement is a note) and classified
//! ([`MdArray::classify`]): one state per array in the operator's words
//! (clean, degraded, recovering, ...) plus the flags rules need
//! (`degraded`, `failed`, `rebuilding`).

use crate::model::Note;
use crate::parse::md::mdadm_detail::{parse_mdadm_detail, MdadmDetail};
use crate::parse::md::mdstat::parse_mdstat;
use crate::parse::md::sysfs::{parse_sysfs_md, SysfsMd};
use crate::parse::md::{MdArray, MdMember, MdSync};
use serde::Serialize;

/// The classified state of an array, most urgent first. One word per array;
/// the flags of [`MdArray`] carry the detail (a recovering array is also
/// `degraded` when a slot is empty, but not when it is a hot replace).
pub mod state {
    /// An IMSM/DDF container: always "inactive" in mdstat, holds the
    /// metadata of its member arrays. Normal.
    pub const CONTAINER: &str = "container";
    /// Assembled but not started (members missing at boot, or stopped).
    pub const INACTIVE: &str = "inactive";
    /// More members missing than the level tolerates: data unavailable.
    pub const FAILED: &str = "failed";
    /// A member is being rebuilt (a spare after a failure, or a
    /// hot-replace `(R)` onto a new disk).
    pub const RECOVERING: &str = "recovering";
    /// Parity or mirrors are being made consistent (after an unclean
    /// shutdown or at creation).
    pub const RESYNCING: &str = "resyncing";
    /// Layout, level or member count is being changed.
    pub const RESHAPING: &str = "reshaping";
    /// A scrub (`check`) is reading and comparing every stripe.
    pub const CHECKING: &str = "checking";
    /// A scrub that also rewrites mismatches (`repair`).
    pub const REPAIRING: &str = "repairing";
    /// Running without full redundancy, nothing rebuilding.
    pub const DEGRADED: &str = "degraded";
    /// A resync is due but waits for another array on the same disks.
    pub const RESYNC_DELAYED: &str = "resync-delayed";
    /// A resync is due but waits for the first write (auto-read-only).
    pub const RESYNC_PENDING: &str = "resync-pending";
    /// Every member in sync.
    pub const CLEAN: &str = "clean";
}

/// Everything known about md arrays.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MdFacts {
    /// The `Personalities :` line of mdstat (`raid1`, `raid6`, ...).
    pub personalities: Vec<String>,
    /// Every array, in mdstat order, then arrays only sysfs or mdadm knew.
    pub arrays: Vec<MdArray>,
}

/// Every md input of a snapshot (`proc/mdstat`, `sys/block/md*/md/...`,
/// `commands/mdadm_--detail_*`), parsed and merged.
pub(crate) fn from_snapshot(
    snapshot: &crate::source::snapshot::Snapshot,
    notes: &mut Vec<Note>,
) -> MdFacts {
    let mut facts = MdFacts::default();
    let mut arrays = Vec::new();
    if let Some(text) = snapshot.text("proc/mdstat") {
        let (mdstat, more) = parse_mdstat("proc/mdstat", &text);
        facts.personalities = mdstat.personalities;
        arrays = mdstat.arrays;
        for array in &mut arrays {
            array.classify();
        }
        notes.extend(more);
    }
    let mut by_array: std::collections::BTreeMap<String, Vec<(String, String)>> =
        std::collections::BTreeMap::new();
    for (name, input) in &snapshot.inputs {
        let Some(rest) = name.strip_prefix("sys/block/") else {
            continue;
        };
        let Some((array, attr)) = rest.split_once("/md/") else {
            continue;
        };
        if attr.is_empty() || array.contains('/') {
            continue;
        }
        by_array
            .entry(array.to_string())
            .or_default()
            .push((name.clone(), input.text().into_owned()));
    }
    let mut sysfs = Vec::new();
    for (array, files) in by_array {
        let (md, more) = parse_sysfs_md(&array, &files);
        notes.extend(more);
        sysfs.push(md);
    }
    let mut mdadm = Vec::new();
    for (name, input) in &snapshot.inputs {
        let Some(hint) = name.strip_prefix("commands/mdadm_--detail_") else {
            continue;
        };
        let (details, more) = parse_mdadm_detail(name, &input.text());
        notes.extend(more);
        let hint = hint.trim_start_matches("_dev_").trim_start_matches("dev_");
        let single = details.len() == 1;
        for detail in details {
            let hint = if single {
                hint.to_string()
            } else {
                String::new()
            };
            mdadm.push((hint, detail));
        }
    }
    facts.arrays = merge(arrays, sysfs, mdadm, notes);
    facts
}

/// The judgement of an md array from its parsed fields (the parser,
/// `diag_parse::md`, only reads them): a trait because [`MdArray`] is
/// diag-parse's type.
pub trait Classify {
    /// Computes `state`, the flags and `summary` from the parsed fields.
    /// Called on every array read from mdstat and by [`merge`]; idempotent.
    fn classify(&mut self);
}

impl Classify for MdArray {
    fn classify(&mut self) {
        self.is_container = self.is_container || is_container_metadata(&self.metadata);
        if self.container.is_empty() {
            self.container = container_of(&self.metadata);
        }
        let (redundancy, redundant) =
            redundancy(&self.level, self.raid_disks, &self.layout_copies());
        self.redundancy = redundancy;
        self.redundant = redundant;

        // Missing slots: the slot map is the most direct evidence; [n/m]
        // and sysfs `degraded` count them too. Take the worst.
        self.missing_slots = self
            .status
            .chars()
            .enumerate()
            .filter(|(_, c)| *c == '_')
            .map(|(i, _)| i as u64)
            .collect();
        let from_counts = self.raid_disks.saturating_sub(self.working_disks);
        if self.raid_disks > 0 || !self.status.is_empty() {
            self.missing = self
                .missing
                .max(from_counts)
                .max(self.missing_slots.len() as u64);
        }
        if !self.active {
            self.missing = 0;
            self.missing_slots.clear();
        }
        self.degraded = self.active && self.missing > 0;
        self.failed = self.array_state == "broken"
            || (self.active && self.redundant && self.lost_data())
            || (self.active && !self.redundant && self.missing > 0 && self.raid_disks > 0);

        self.mark_rebuilding();
        self.faulty = self.members.iter().filter(|m| m.faulty).count() as u64;
        // Members of a container or of an inactive array are all listed
        // (S): they are not spares of a running array.
        self.spares = if self.active && !self.is_container {
            self.members
                .iter()
                .filter(|m| m.spare && !m.rebuilding && !m.faulty)
                .count() as u64
        } else {
            0
        };
        self.rebuilding = self.members.iter().any(|m| m.rebuilding);
        for member in &mut self.members {
            member.role = if member.faulty {
                "faulty"
            } else if member.journal {
                "journal"
            } else if member.rebuilding {
                "rebuilding"
            } else if member.replacement {
                "replacement"
            } else if member.spare {
                "spare"
            } else {
                "active"
            }
            .to_string();
        }
        self.faulty_members = names(&self.members, |m| m.faulty);
        self.rebuilding_members = names(&self.members, |m| m.rebuilding);

        self.state = if self.is_container {
            state::CONTAINER
        } else if !self.active {
            state::INACTIVE
        } else if self.failed {
            state::FAILED
        } else {
            match self.sync.action.as_str() {
                "recovery" => state::RECOVERING,
                "resync" => state::RESYNCING,
                "reshape" => state::RESHAPING,
                "check" => state::CHECKING,
                "repair" => state::REPAIRING,
                _ if self.degraded => state::DEGRADED,
                _ if self.sync.delayed => state::RESYNC_DELAYED,
                _ if self.sync.pending => state::RESYNC_PENDING,
                _ => state::CLEAN,
            }
        }
        .to_string();
        if self.mode.is_empty() {
            self.mode = if self.active {
                "read-write"
            } else {
                "inactive"
            }
            .into();
        }
        self.sync.eta = eta_words(self.sync.eta_minutes);
        self.summary = self.describe();
    }
}

/// What [`Classify::classify`] needs of an array.
trait Judge {
    fn layout_copies(&self) -> (u64, u64);
    fn lost_data(&self) -> bool;
    fn mark_rebuilding(&mut self);
    fn describe(&self) -> String;
}

impl Judge for MdArray {
    /// Near and far copies of a raid10 layout (`2 near-copies`).
    fn layout_copies(&self) -> (u64, u64) {
        raid10_copies(&self.layout)
    }

    /// Whether the empty slots leave some data without any copy.
    fn lost_data(&self) -> bool {
        if self.missing == 0 {
            return false;
        }
        if self.level == "raid10" && !self.status.is_empty() {
            // The kernel's raid10 `_enough()`: windows of `copies` slots,
            // stepping by the near-copies count, each needs one member.
            let (near, far) = self.layout_copies();
            let copies = (near * far).max(1) as usize;
            let step = near.max(1) as usize;
            let slots: Vec<bool> = self.status.chars().map(|c| c == 'U').collect();
            let disks = slots.len();
            if disks == 0 {
                return false;
            }
            let mut first = 0usize;
            let mut rounds = 0;
            loop {
                if !(0..copies).any(|k| slots[(first + k) % disks]) {
                    return true;
                }
                first = (first + step) % disks;
                rounds += 1;
                if first == 0 || rounds > disks {
                    return false;
                }
            }
        }
        self.missing > self.redundancy
    }

    /// Which members are being rebuilt. sysfs says it exactly (state
    /// `spare` with a slot); from mdstat alone: members listed as active
    /// beyond the in-sync count are the rebuild targets (the newest device
    /// numbers), a `(R)` replacement is rebuilt while a recovery runs, and
    /// (in some test data) a spare listed `(S)` during a recovery.
    fn mark_rebuilding(&mut self) {
        if !self.active {
            for member in &mut self.members {
                member.rebuilding = false;
            }
            return;
        }
        if self.members.iter().any(|m| !m.sysfs_state.is_empty()) {
            for member in &mut self.members {
                let words: Vec<&str> = member.sysfs_state.split(',').collect();
                member.rebuilding = member.rebuilding
                    || (words.contains(&"spare") && member.slot >= 0 && !member.faulty);
            }
            return;
        }
        if self.members.iter().any(|m| m.rebuilding) {
            return; // mdadm said so
        }
        let syncing = !self.sync.action.is_empty() || self.sync.delayed || self.sync.pending;
        let recovering = self.sync.action == "recovery" || self.sync.delayed || self.sync.pending;
        let mut listed: Vec<usize> = (0..self.members.len())
            .filter(|&i| {
                let m = &self.members[i];
                !m.faulty && !m.spare && !m.journal && !m.replacement
            })
            .collect();
        if !syncing || self.failed {
            return; // nothing rebuilds on a failed array, or without a sync
        }
        if self.raid_disks > 0 && self.missing > 0 {
            let extra = (listed.len() as u64).saturating_sub(self.working_disks) as usize;
            if extra > 0 {
                crate::sort::sort_by_key(&mut listed, |&i| {
                    std::cmp::Reverse(self.members[i].number)
                });
                for &i in listed.iter().take(extra) {
                    self.members[i].rebuilding = true;
                }
                return;
            }
            if self.sync.action == "recovery" {
                let mut spares: Vec<usize> = (0..self.members.len())
                    .filter(|&i| self.members[i].spare && !self.members[i].faulty)
                    .collect();
                crate::sort::sort_by_key(&mut spares, |&i| self.members[i].number);
                for &i in spares.iter().take(self.missing as usize) {
                    self.members[i].rebuilding = true;
                }
            }
        }
        if recovering {
            for member in &mut self.members {
                if member.replacement && !member.faulty {
                    member.rebuilding = true;
                }
            }
        }
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut head = String::new();
        if !self.level.is_empty() {
            head.push_str(&self.level);
        }
        if self.raid_disks > 0 {
            head.push_str(&format!(" [{}/{}]", self.raid_disks, self.working_disks));
        }
        if !self.status.is_empty() {
            head.push_str(&format!(" [{}]", self.status));
        }
        let head = head.trim().to_string();
        parts.push(if head.is_empty() {
            self.state.clone()
        } else {
            format!("{} {head}", self.state)
        });
        if self.mode == "read-only" || self.mode == "auto-read-only" {
            parts.push(self.mode.clone());
        }
        if !self.faulty_members.is_empty() {
            parts.push(format!("faulty: {}", self.faulty_members));
        }
        if !self.missing_slots.is_empty() {
            let slots: Vec<String> = self.missing_slots.iter().map(u64::to_string).collect();
            parts.push(format!("empty slot(s) {}", slots.join(", ")));
        }
        if self.rebuilding {
            let progress = if !self.sync.action.is_empty() {
                let mut p = format!("{} {}%", self.sync.action, self.sync.percent);
                if !self.sync.eta.is_empty() {
                    p.push_str(&format!(", ETA {}", self.sync.eta));
                }
                p
            } else if self.sync.delayed {
                "waiting (resync=DELAYED)".into()
            } else if self.sync.pending {
                "waiting (resync=PENDING)".into()
            } else {
                "not started".into()
            };
            parts.push(format!(
                "rebuilding onto {} ({progress})",
                self.rebuilding_members
            ));
        } else if !self.sync.action.is_empty() {
            let mut p = format!("{} {}%", self.sync.action, self.sync.percent);
            if !self.sync.eta.is_empty() {
                p.push_str(&format!(", ETA {}", self.sync.eta));
            }
            parts.push(p);
        }
        if (!self.active || self.is_container) && !self.members.is_empty() {
            parts.push(format!("members: {}", names(&self.members, |_| true)));
        }
        if self.spares > 0 {
            parts.push(format!("{} spare(s)", self.spares));
        } else if self.degraded && self.redundant && !self.rebuilding {
            parts.push("no spare".into());
        }
        if self.mismatch_cnt > 0 {
            parts.push(format!("mismatch_cnt {}", self.mismatch_cnt));
        }
        if !self.container.is_empty() {
            parts.push(format!("in container {}", self.container));
        }
        parts.join("; ")
    }
}

fn names(members: &[MdMember], pick: impl Fn(&MdMember) -> bool) -> String {
    members
        .iter()
        .filter(|m| pick(m))
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `(near, far)` copies of a raid10 layout described in `text`
/// (`2 near-copies`, `2 far-copies`, `2 offset-copies`); `(2, 1)` when
/// nothing says (the default layout).
fn raid10_copies(text: &str) -> (u64, u64) {
    let mut near = 0;
    let mut far = 0;
    let words: Vec<&str> = text.split_whitespace().collect();
    for pair in words.windows(2) {
        let n = pair[0].parse::<u64>().unwrap_or(0).min(64);
        match pair[1].trim_end_matches(',') {
            "near-copies" => near = n,
            "far-copies" | "offset-copies" => far = n,
            _ => {}
        }
    }
    match (near, far) {
        (0, 0) => (2, 1),
        (0, f) => (1, f),
        (n, 0) => (n, 1),
        (n, f) => (n, f),
    }
}

/// What a level survives.
fn redundancy(level: &str, raid_disks: u64, copies: &(u64, u64)) -> (u64, bool) {
    match level {
        "raid1" | "multipath" => {
            let r = raid_disks.saturating_sub(1).max(u64::from(raid_disks == 0));
            (r, raid_disks != 1)
        }
        "raid4" | "raid5" => (1, true),
        "raid6" => (2, true),
        "raid10" => ((copies.0 * copies.1).saturating_sub(1).max(1), true),
        _ => (0, false),
    }
}

/// `external:imsm`, `external:ddf`: the array is a container.
fn is_container_metadata(metadata: &str) -> bool {
    metadata
        .strip_prefix("external:")
        .is_some_and(|rest| !rest.starts_with('/') && !rest.starts_with('-') && !rest.is_empty())
}

/// `external:/md127/0` (or `-md127/0` while read-only): the container.
fn container_of(metadata: &str) -> String {
    metadata
        .strip_prefix("external:")
        .and_then(|rest| rest.strip_prefix('/').or_else(|| rest.strip_prefix('-')))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_string()
}

fn eta_words(minutes: f64) -> String {
    if minutes.is_nan() || minutes <= 0.0 || !minutes.is_finite() {
        return String::new();
    }
    let total = minutes.round() as u64;
    if total == 0 {
        return "<1 min".into();
    }
    let (days, hours, mins) = (total / 1440, (total / 60) % 24, total % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, h) => format!("{h} h {mins} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// Joins mdstat arrays with sysfs attributes and `mdadm --detail` output,
/// then classifies every array. sysfs wins where sources disagree (with a
/// note); arrays only sysfs or mdadm knows are added.
pub fn merge(
    mut arrays: Vec<MdArray>,
    sysfs: Vec<SysfsMd>,
    mdadm: Vec<(String, MdadmDetail)>,
    notes: &mut Vec<Note>,
) -> Vec<MdArray> {
    for sys in sysfs {
        let index = match arrays.iter().position(|a| a.name == sys.name) {
            Some(i) => i,
            None => {
                arrays.push(MdArray {
                    name: sys.name.clone(),
                    input: sys.inputs.first().cloned().unwrap_or_default(),
                    line: 1,
                    ..MdArray::default()
                });
                arrays.len() - 1
            }
        };
        apply_sysfs(&mut arrays[index], sys, notes);
    }
    for (hint, detail) in mdadm {
        let short = detail.device.trim_start_matches("/dev/").replace('/', "");
        let by_members = |a: &MdArray| {
            !detail.members.is_empty()
                && detail
                    .members
                    .iter()
                    .all(|(n, _, _)| a.members.iter().any(|m| &m.name == n))
        };
        let index = arrays
            .iter()
            .position(|a| a.name == hint || a.name == short)
            .or_else(|| arrays.iter().position(by_members));
        let index = match index {
            Some(i) => i,
            None => {
                let name = if hint.is_empty() { short.clone() } else { hint };
                arrays.push(MdArray {
                    name,
                    input: detail.input.clone(),
                    line: detail.line,
                    excerpt: detail.excerpt.clone(),
                    active: true,
                    ..MdArray::default()
                });
                arrays.len() - 1
            }
        };
        apply_mdadm(&mut arrays[index], detail);
    }
    for array in &mut arrays {
        array.classify();
    }
    arrays
}

fn apply_sysfs(array: &mut MdArray, sys: SysfsMd, notes: &mut Vec<Note>) {
    let at = |attr: &str| format!("sys/block/{}/md/{attr}", sys.name);
    array.sources.extend(sys.inputs.iter().cloned());
    let from_mdstat = !array.excerpt.is_empty();
    if !sys.array_state.is_empty() {
        array.array_state = sys.array_state.clone();
        let active = !matches!(sys.array_state.as_str(), "inactive" | "clear" | "");
        if from_mdstat && active != array.active {
            notes.push(Note::line(
                &at("array_state"),
                1,
                format!(
                    "mdstat shows {} {}, sysfs array_state is {}: using sysfs",
                    array.name,
                    if array.active { "active" } else { "inactive" },
                    sys.array_state
                ),
            ));
        }
        array.active = active;
        match sys.array_state.as_str() {
            "readonly" => array.mode = "read-only".into(),
            "read-auto" => array.mode = "auto-read-only".into(),
            "inactive" | "clear" => array.mode = "inactive".into(),
            _ if array.mode == "inactive" || array.mode.is_empty() => {
                array.mode = "read-write".into()
            }
            _ => {}
        }
    }
    if !sys.level.is_empty() && sys.level != array.level {
        if from_mdstat && !array.level.is_empty() {
            notes.push(Note::line(
                &at("level"),
                1,
                format!(
                    "mdstat says {} for {}, sysfs says {}: using sysfs",
                    array.level, array.name, sys.level
                ),
            ));
        }
        array.level = sys.level.clone();
    }
    if let Some(n) = sys.raid_disks {
        if n > 0 {
            if array.raid_disks == 0 && sys.degraded.is_none() {
                // raid0/linear: no [n/m] in mdstat and no `degraded` file;
                // nothing says a slot is empty.
                array.working_disks = n;
            }
            array.raid_disks = n;
        }
    }
    if let Some(degraded) = sys.degraded {
        if from_mdstat && array.active && !array.status.is_empty() {
            let shown = array.status.chars().filter(|c| *c == '_').count() as u64;
            if shown != degraded {
                notes.push(Note::line(
                    &at("degraded"),
                    1,
                    format!(
                        "mdstat shows [{}] for {} ({shown} empty slot(s)), sysfs degraded is {degraded}: using sysfs",
                        array.status, array.name
                    ),
                ));
            }
        }
        array.missing = degraded;
        array.working_disks = array.raid_disks.saturating_sub(degraded);
        // sysfs is authoritative: the slot map no longer counts extra.
        if array.status.chars().filter(|c| *c == '_').count() as u64 != degraded {
            array.status.clear();
        }
    }
    if !sys.metadata.is_empty() && array.metadata.is_empty() {
        array.metadata = sys.metadata.trim_start_matches("super ").to_string();
    }
    array.sync_action = sys.sync_action.clone();
    let action = match sys.sync_action.as_str() {
        "recover" => "recovery",
        "resync" | "reshape" | "check" | "repair" => sys.sync_action.as_str(),
        _ => "",
    };
    if !action.is_empty() && !sys.sync_delayed {
        // mdstat prints a repair as "resync".
        if array.sync.action.is_empty() || action == "repair" {
            array.sync.action = action.to_string();
        }
        if let Some((done, total)) = sys.sync_completed {
            if array.sync.percent == 0.0 && total > 0 {
                array.sync.percent = (done as f64 * 1000.0 / total as f64).floor() / 10.0;
                array.sync.done = done / 2;
                array.sync.total = total / 2;
            }
        }
    } else if sys.sync_action == "idle" && !array.sync.action.is_empty() {
        notes.push(Note::line(
            &at("sync_action"),
            1,
            format!(
                "mdstat shows a {} on {}, sysfs sync_action is idle: using sysfs",
                array.sync.action, array.name
            ),
        ));
        array.sync = MdSync::default();
    }
    if sys.sync_delayed {
        // Due but not running: nothing is in progress yet.
        array.sync.delayed = true;
        array.sync.action.clear();
    }
    array.last_sync_action = sys.last_sync_action.clone();
    array.mismatch_cnt = sys.mismatch_cnt.unwrap_or(array.mismatch_cnt);
    for (name, state, slot) in sys.members {
        let member = match array.members.iter().position(|m| m.name == name) {
            Some(i) => &mut array.members[i],
            None => {
                array.members.push(MdMember::new(&name));
                let last = array.members.len() - 1;
                &mut array.members[last]
            }
        };
        let words: Vec<&str> = state.split(',').map(str::trim).collect();
        member.faulty = words.contains(&"faulty");
        member.write_mostly = words.contains(&"write_mostly");
        member.replacement = words.contains(&"replacement");
        member.journal = words.contains(&"journal");
        member.spare = words.contains(&"spare") && slot.unwrap_or(-1) < 0;
        if let Some(slot) = slot {
            member.slot = slot;
        }
        member.sysfs_state = state;
    }
    if array.input.is_empty() || array.excerpt.is_empty() {
        array.input = at("array_state");
        array.line = 1;
        array.excerpt = format!(
            "array_state={} level={} raid_disks={} degraded={} sync_action={}",
            sys.array_state,
            sys.level,
            sys.raid_disks.map_or("?".into(), |n| n.to_string()),
            sys.degraded.map_or("?".into(), |n| n.to_string()),
            sys.sync_action
        );
    }
}

fn apply_mdadm(array: &mut MdArray, detail: MdadmDetail) {
    array.sources.push(detail.input.clone());
    array.mdadm_state = detail.state.clone();
    let only_mdadm = array.excerpt == detail.excerpt;
    if array.level.is_empty() && !detail.level.is_empty() && detail.level != "container" {
        array.level = detail.level.clone();
    }
    if detail.level == "container" {
        array.is_container = true;
    }
    if array.metadata.is_empty() {
        array.metadata = detail.version.clone();
    }
    let words: Vec<String> = detail
        .state
        .split(',')
        .map(|w| w.trim().to_ascii_lowercase())
        .collect();
    if only_mdadm {
        array.active = !words
            .iter()
            .any(|w| w == "inactive" || w.contains("not started"));
        if let Some(n) = detail.raid_devices {
            array.raid_disks = n;
        }
        if let Some(n) = detail.active_devices {
            array.working_disks = n;
        }
        if words.iter().any(|w| w == "failed") {
            array.array_state = "broken".into();
        }
        if let Some((action, percent)) = &detail.progress {
            array.sync.action = action.clone();
            array.sync.percent = *percent;
        }
        for w in &words {
            if w.contains("(delayed)") {
                array.sync.delayed = true;
            }
            if w.contains("(pending)") {
                array.sync.pending = true;
            }
        }
    }
    for (name, slot, state) in &detail.members {
        let known = array.members.iter().position(|m| &m.name == name);
        let member = match known {
            Some(i) => &mut array.members[i],
            None => {
                array.members.push(MdMember::new(name));
                let last = array.members.len() - 1;
                &mut array.members[last]
            }
        };
        if member.slot < 0 && *slot >= 0 {
            member.slot = *slot;
        }
        if member.sysfs_state.is_empty() {
            member.faulty = member.faulty || state.contains("faulty");
            member.rebuilding = member.rebuilding || state.contains("rebuilding");
            member.spare = member.spare || (state.contains("spare") && !member.rebuilding);
            member.replacement = member.replacement || state.contains("replacement");
            member.write_mostly = member.write_mostly || state.contains("writemostly");
            member.journal = member.journal || state.contains("journal");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::md::mdstat::Mdstat;

    #[test]
    fn raid10_needs_one_member_per_window() {
        let mut a = MdArray {
            name: "md2".into(),
            active: true,
            level: "raid10".into(),
            raid_disks: 4,
            working_disks: 2,
            status: "U__U".into(),
            layout: "2 near-copies".into(),
            ..MdArray::default()
        };
        a.classify();
        assert_eq!(a.state, state::DEGRADED);
        a.status = "__UU".into();
        a.classify();
        assert_eq!(a.state, state::FAILED);
        // Three disks, two near copies: chunks on (0,1), (2,0), (1,2).
        a.raid_disks = 3;
        a.working_disks = 1;
        a.status = "U__".into();
        a.classify();
        assert_eq!(a.state, state::FAILED);
    }

    #[test]
    fn mdadm_detail_degraded_rebuilding() {
        let text = "/dev/md0:
           Version : 1.2
     Creation Time : Mon Feb 10 10:00:00 2014
        Raid Level : raid1
        Array Size : 1048512 (1023.94 MiB 1073.68 MB)
      Raid Devices : 2
     Total Devices : 3
       Persistence : Superblock is persistent

             State : clean, degraded, recovering
    Active Devices : 1
   Working Devices : 2
    Failed Devices : 1
     Spare Devices : 1

    Rebuild Status : 12% complete

    Number   Major   Minor   RaidDevice State
       0       8        1        0      active sync   /dev/sda1
       2       8       33        1      spare rebuilding   /dev/sdc1

       1       8       17        -      faulty   /dev/sdb1
";
        let (details, notes) = parse_mdadm_detail("commands/mdadm_--detail_md0", text);
        assert!(notes.is_empty(), "{notes:?}");
        let d = &details[0];
        assert_eq!(d.state, "clean, degraded, recovering");
        assert_eq!(d.progress, Some(("recovery".into(), 12.0)));
        assert_eq!(d.members.len(), 3);
        let arrays = merge(
            Vec::new(),
            Vec::new(),
            vec![("md0".into(), d.clone())],
            &mut Vec::new(),
        );
        let a = &arrays[0];
        assert_eq!(a.state, state::RECOVERING);
        assert!(a.degraded && a.rebuilding);
        assert_eq!(a.rebuilding_members, "sdc1");
        assert_eq!(a.faulty_members, "sdb1");
    }

    fn snapshot(inputs: &[(&str, &str)]) -> MdFacts {
        let snapshot = crate::source::snapshot::Snapshot::from_inputs(
            inputs
                .iter()
                .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec())),
        );
        let mut notes = Vec::new();
        let facts = from_snapshot(&snapshot, &mut notes);
        assert!(notes.iter().all(|n| !n.message.is_empty()));
        facts
    }

    #[test]
    fn sysfs_settles_what_mdstat_leaves_ambiguous() {
        // mdstat during a repair prints "resync"; [2/2] [U_] is
        // inconsistent. sysfs says a repair runs and nothing is degraded.
        let md = snapshot(&[
            (
                "proc/mdstat",
                "md2 : active raid1 sdb3[1] sda3[0]
      129596288 blocks [2/2] [U_]
      [=>...................]  resync =  8.5% (16775552/195310144) finish=17.0min speed=259783K/sec
",
            ),
            ("sys/block/md2/md/array_state", "active\n"),
            ("sys/block/md2/md/degraded", "0\n"),
            ("sys/block/md2/md/raid_disks", "2\n"),
            ("sys/block/md2/md/sync_action", "repair\n"),
            ("sys/block/md2/md/mismatch_cnt", "128\n"),
            ("sys/block/md2/md/dev-sda3/state", "in_sync\n"),
            ("sys/block/md2/md/dev-sdb3/state", "in_sync,write_mostly\n"),
        ]);
        let a = &md.arrays[0];
        assert_eq!(a.state, state::REPAIRING);
        assert!(!a.degraded);
        assert_eq!(a.mismatch_cnt, 128);
        assert!(a.members.iter().any(|m| m.name == "sdb3" && m.write_mostly));
        assert!(a.sources.len() > 1);
    }

    #[test]
    fn sysfs_alone_and_member_roles() {
        let md = snapshot(&[
            ("sys/block/md5/md/array_state", "clean\n"),
            ("sys/block/md5/md/level", "raid5\n"),
            ("sys/block/md5/md/raid_disks", "3\n"),
            ("sys/block/md5/md/degraded", "1\n"),
            ("sys/block/md5/md/sync_action", "recover\n"),
            ("sys/block/md5/md/sync_completed", "1000 / 4000\n"),
            ("sys/block/md5/md/dev-sda1/state", "in_sync\n"),
            ("sys/block/md5/md/dev-sda1/slot", "0\n"),
            ("sys/block/md5/md/dev-sdb1/state", "in_sync\n"),
            ("sys/block/md5/md/dev-sdb1/slot", "1\n"),
            ("sys/block/md5/md/dev-sdc1/state", "spare\n"),
            ("sys/block/md5/md/dev-sdc1/slot", "2\n"),
            ("sys/block/md5/md/dev-sdd1/state", "spare\n"),
            ("sys/block/md5/md/dev-sdd1/slot", "none\n"),
            ("sys/block/md5/md/dev-sde1/state", "faulty,write_error\n"),
            ("sys/block/md5/md/dev-sde1/slot", "none\n"),
            ("sys/block/md5/md/mismatch_cnt", "garbage\n"),
        ]);
        let a = &md.arrays[0];
        assert_eq!(a.state, state::RECOVERING);
        assert!(a.degraded && a.rebuilding);
        assert_eq!(a.rebuilding_members, "sdc1");
        assert_eq!(a.faulty_members, "sde1");
        assert_eq!(a.spares, 1);
        assert_eq!(a.sync.percent, 25.0);
        assert_eq!(a.input, "sys/block/md5/md/array_state");
    }

    #[test]
    fn broken_raid0_in_sysfs_is_failed() {
        let md = snapshot(&[
            (
                "proc/mdstat",
                "md0 : active raid0 sdb[1] sda[0]\n      2000 blocks super 1.2 512k chunks\n",
            ),
            ("sys/block/md0/md/array_state", "broken\n"),
        ]);
        assert_eq!(md.arrays[0].state, state::FAILED);
    }

    /// `/proc/mdstat` read and classified, as [`from_snapshot`] does.
    fn parse(text: &str) -> (Mdstat, Vec<Note>) {
        let (mut md, notes) = parse_mdstat("proc/mdstat", text);
        for array in &mut md.arrays {
            array.classify();
        }
        (md, notes)
    }

    #[test]
    fn degraded_raid1_with_faulty_member_and_no_spare() {
        let (md, notes) = parse(
            "Personalities : [raid1]
md0 : active raid1 sdb1[1] sda1[0](F)
      12581816 blocks super 1.2 [2/1] [_U]

unused devices: <none>
",
        );
        assert!(notes.is_empty(), "{notes:?}");
        let a = &md.arrays[0];
        assert_eq!(a.state, state::DEGRADED);
        assert!(a.degraded && !a.failed && !a.rebuilding);
        assert_eq!(a.faulty_members, "sda1");
        assert_eq!(a.missing_slots, vec![0]);
        assert_eq!(a.spares, 0);
        assert_eq!(
            a.summary,
            "degraded raid1 [2/1] [_U]; faulty: sda1; empty slot(s) 0; no spare"
        );
    }

    #[test]
    fn hot_replace_on_a_full_array_is_recovery_not_degradation() {
        let (md, _) = parse(
            "md0 : active raid5 sdk1[6](R) sdf1[5](S) sdg1[4] sdc1[2] sde1[1] sdb1[0]
      14650718208 blocks super 1.2 level 5, 512k chunk, algorithm 2 [4/4] [UUUU]
      [>....................]  recovery =  1.4% (72694748/4883572736) finish=1601.3min speed=50071K/sec
      bitmap: 0/37 pages [0KB], 65536KB chunk
",
        );
        let a = &md.arrays[0];
        assert_eq!(a.state, state::RECOVERING);
        assert!(!a.degraded);
        assert_eq!(a.rebuilding_members, "sdk1");
        assert_eq!(a.spares, 1);
        assert_eq!(a.sync.eta, "1 d 2 h");
        assert_eq!(a.sync.speed_kib, 50071);
        assert!(a.bitmap.starts_with("bitmap: 0/37"));
    }

    #[test]
    fn wrapped_recovery_line_of_a_2_4_kernel() {
        let (md, notes) = parse(
            "Personalities : [raid1]
read_ahead 1024 sectors
Event: 8
md0 : active raid1 sdb1[2] sda1[1]
      2097024 blocks [2/1] [_U]
      [>....................]  recovery =  0.4%
(10168/2097024) finish=23.8min speed=1452K/sec
unused devices: <none>
",
        );
        assert!(notes.is_empty(), "{notes:?}");
        let a = &md.arrays[0];
        assert_eq!(a.state, state::RECOVERING);
        assert_eq!(
            (a.sync.done, a.sync.total, a.sync.speed_kib),
            (10168, 2097024, 1452)
        );
        assert_eq!(a.rebuilding_members, "sdb1");
        assert_eq!(a.sync.eta, "24 min");
    }

    #[test]
    fn garbage_and_truncation_are_notes_and_other_arrays_survive() {
        let (md, notes) = parse(
            "Personalities : [raid1] [raid7]
md0 : active raid7 sda1[0] sdb1[1]
      1000 blocks [2/2] [UU]
md1 : frobnicated
\u{1}\u{2} garbage \u{ff}
md2 : active raid1 sdc1[0] sdd1[X](Z) sde1[2
      2000 blocks super 1.2 [2/1] [U_
md3 : active raid1 sdf1[0] sdg1[1]
      3000 blocks [2/2] [UU]
      [===>..] resync = 1",
        );
        assert_eq!(md.arrays.len(), 3);
        assert_eq!(md.arrays[0].level, "raid7");
        assert_eq!(md.arrays[2].name, "md3");
        assert_eq!(md.arrays[2].state, state::CLEAN);
        let lines: Vec<Option<u32>> = notes.iter().map(|n| n.line).collect();
        for line in [2, 4, 5, 6, 7, 10] {
            assert!(
                lines.contains(&Some(line)),
                "no note for line {line}: {notes:?}"
            );
        }
        assert!(notes.iter().all(|n| n.input == "proc/mdstat"));
    }
}

/// Every real-world mdstat of `tests/corpus/mdstat` (see its
/// PROVENANCE.tsv): no panic, and each array classified as the file shows
/// it. The expectations were written from reading each file.
#[cfg(test)]
mod corpus {
    use super::*;
    use crate::parse::md::mdstat::Mdstat;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/mdstat");

    /// File → "array=state ..." in file order; `!` after the state marks a
    /// degraded array (an empty slot), `+` a member being rebuilt.
    const EXPECTED: &[(&str, &str)] = &[
        ("centreon-plugins__issue18_resync_DELAYED_check", "md1=resync-delayed md2=checking md0=resync-delayed"),
        ("check_raid__issue43_raid6_recovery", "md0=recovering!+"),
        ("check_raid__issue43_raid6_reshape", "md0=reshaping!"),
        ("growlight__issue84_inactive_nvme", "md127=inactive"),
        ("hdo-site__issue404_mdadm_DegradedArray_mail", "md0=degraded! md3=degraded! md1=degraded! md2=degraded!"),
        ("insights-core__test_mdstat.MDSTAT_TEST_1", "md_d0=clean"),
        ("insights-core__test_mdstat.MDSTAT_TEST_2", "md1=clean md2=degraded! md0=degraded!"),
        ("insights-core__test_mdstat.MDSTAT_TEST_3", ""),
        ("insights-core__test_mdstat.MDSTAT_TEST_4", "md0=container"),
        ("insights-core__test_mdstat.MD_DOC", "md1=clean md2=clean md3=clean"),
        ("insights-core__test_mdstat.NO_MD_DEVICES", ""),
        ("librenms-agent__pr415_raid6_check_bitmap", "md127=checking"),
        ("monitoring-plugins__issue995_centos3_recovery_wrapped", "md0=recovering!+"),
        ("monitoring-plugins__pr55_resync", "md1=clean md2=resyncing"),
        ("munin-contrib__pr613_resync_DELAYED_tab", "md1=degraded!+ md0=resyncing"),
        ("netdata__issue1478_raid5_10disk_3missing", "md3=failed!"),
        ("probert__issue125_raid1_inactive_single_S", "md127=inactive"),
        ("probert__issue125_raid1_resync", "md127=resyncing"),
        (
            "procfs__fixtures_proc_mdstat",
            "md3=clean md127=clean md0=clean md4=inactive md6=recovering!+ md8=resyncing \
             md201=checking md7=degraded! md9=resync-delayed md10=clean md11=resync-pending \
             md12=clean md126=clean md219=container md00=clean md120=clean md101=clean md42=reshaping!",
        ),
        ("procfs__fixtures_proc_mdstat.split-md0", "md0=clean"),
        ("procfs__fixtures_proc_mdstat.split-md00", "md00=clean"),
        ("procfs__fixtures_proc_mdstat.split-md10", "md10=clean"),
        ("procfs__fixtures_proc_mdstat.split-md101", "md101=clean"),
        ("procfs__fixtures_proc_mdstat.split-md11", "md11=resync-pending"),
        ("procfs__fixtures_proc_mdstat.split-md12", "md12=clean"),
        ("procfs__fixtures_proc_mdstat.split-md120", "md120=clean"),
        ("procfs__fixtures_proc_mdstat.split-md126", "md126=clean"),
        ("procfs__fixtures_proc_mdstat.split-md127", "md127=clean"),
        ("procfs__fixtures_proc_mdstat.split-md201", "md201=checking"),
        ("procfs__fixtures_proc_mdstat.split-md219", "md219=container"),
        ("procfs__fixtures_proc_mdstat.split-md3", "md3=clean"),
        ("procfs__fixtures_proc_mdstat.split-md4", "md4=inactive"),
        ("procfs__fixtures_proc_mdstat.split-md42", "md42=reshaping!"),
        ("procfs__fixtures_proc_mdstat.split-md6", "md6=recovering!+"),
        ("procfs__fixtures_proc_mdstat.split-md7", "md7=degraded!"),
        ("procfs__fixtures_proc_mdstat.split-md8", "md8=resyncing"),
        ("procfs__fixtures_proc_mdstat.split-md9", "md9=resync-delayed"),
        // NEGATIVE samples: procfs rejects them whole; diag keeps what it
        // can and notes the rest (checked below).
        ("procfs__mdstat_test_invalid-1", ""),
        ("procfs__mdstat_test_invalid-2", "md12=clean"),
        ("procfs__mdstat_test_invalid-3", "md127=clean"),
        ("procfs__mdstat_test_invalid-4", "md127=clean"),
        ("procfs__pr676_raid5_replacement_R", "md0=recovering+"),
    ];

    fn shown(a: &MdArray) -> String {
        format!(
            "{}={}{}{}",
            a.name,
            a.state,
            if a.degraded { "!" } else { "" },
            if a.rebuilding { "+" } else { "" }
        )
    }

    fn read(name: &str) -> (Mdstat, Vec<Note>) {
        let path = std::path::Path::new(DIR).join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (mut md, notes) = parse_mdstat("proc/mdstat", &String::from_utf8_lossy(&bytes));
        for array in &mut md.arrays {
            array.classify();
        }
        (md, notes)
    }

    #[test]
    fn every_corpus_file_is_classified_as_it_shows() {
        let mut files: Vec<String> = std::fs::read_dir(DIR)
            .unwrap_or_else(|e| panic!("{DIR}: {e}"))
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        crate::sort::sort(&mut files);
        let listed: Vec<&str> = EXPECTED.iter().map(|(f, _)| *f).collect();
        assert_eq!(files, listed, "corpus files and expectations differ");
        let mut failures = Vec::new();
        for (file, want) in EXPECTED {
            let (md, _) = read(file);
            let got: Vec<String> = md.arrays.iter().map(shown).collect();
            let want: Vec<&str> = want.split_whitespace().collect();
            if got != want {
                failures.push(format!("{file}:\n  want {want:?}\n  got  {got:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn corpus_details_that_other_tools_get_wrong() {
        // [2/1] [_U]: the member in slot 0 (sda1) failed, sdb1 carries on.
        let (md, _) = read("hdo-site__issue404_mdadm_DegradedArray_mail");
        for a in &md.arrays {
            assert_eq!((a.missing, a.spares, a.faulty), (1, 0, 1), "{}", a.name);
            assert!(a.faulty_members.starts_with("sda"));
        }
        // A spare being rebuilt, the failed member, and the ETA.
        let (md, _) = read("procfs__fixtures_proc_mdstat.split-md6");
        let a = &md.arrays[0];
        assert_eq!(
            (a.faulty_members.as_str(), a.rebuilding_members.as_str()),
            ("sdb2", "sdc")
        );
        assert_eq!((a.sync.percent, a.sync.eta.as_str()), (8.5, "17 min"));
        // Two new disks recovering into a raid6 that lost two.
        let (md, _) = read("check_raid__issue43_raid6_recovery");
        assert_eq!(md.arrays[0].rebuilding_members, "sde1, sdf1");
        assert!(!md.arrays[0].failed);
        // Ten slots, three empty: raid5 cannot survive that.
        let (md, _) = read("netdata__issue1478_raid5_10disk_3missing");
        assert!(md.arrays[0].failed && !md.arrays[0].rebuilding);
        // A '/' in a member name.
        let (md, _) = read("insights-core__test_mdstat.MDSTAT_TEST_1");
        let m = md.arrays[0]
            .members
            .iter()
            .find(|m| m.name == "cciss/c0d0p1");
        assert_eq!(m.map(|m| m.disk.as_str()), Some("cciss/c0d0"));
        // The IMSM container and its member array.
        let (md, _) = read("procfs__fixtures_proc_mdstat");
        let find = |n: &str| {
            md.arrays
                .iter()
                .find(|a| a.name == n)
                .cloned()
                .unwrap_or_default()
        };
        assert!(find("md219").is_container);
        assert_eq!(find("md126").container, "md127");
        assert_eq!(find("md11").mode, "auto-read-only");
        assert_eq!(find("md101").mode, "read-only");
        assert_eq!(find("md9").faulty_members, "sde, sdf");
        assert_eq!(find("md3").spares, 2);
        // resync=DELAYED after spaces and a TAB.
        let (md, _) = read("munin-contrib__pr613_resync_DELAYED_tab");
        assert!(md.arrays[0].sync.delayed);
        assert_eq!(md.arrays[0].rebuilding_members, "sdc2");
    }
}
