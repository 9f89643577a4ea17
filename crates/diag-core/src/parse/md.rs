//! Linux software RAID (md): one model of every array, merged from the
//! three places that describe it.
//!
//! - `/proc/mdstat` ([`super::mdstat::parse_mdstat`]): every array at once,
//!   but terse and easy to misread when an array is degraded (`[2/1] [_U]`,
//!   spares, a hot-replace `(R)` on a full array).
//! - sysfs, `/sys/block/mdN/md/*` ([`parse_sysfs_md`]): one value per file,
//!   the kernel's own view. Where it disagrees with mdstat, sysfs wins (and
//!   the disagreement is a note).
//! - `mdadm --detail` text ([`parse_mdadm_detail`], bundles only:
//!   `commands/mdadm_--detail_md0`): member roles in words ("spare
//!   rebuilding", "faulty", "removed").
//!
//! [`merge`] joins them by array name and [`MdArray::classify`] gives each
//! array one state in the operator's words (clean, degraded, recovering,
//! ...) plus the flags rules need (`degraded`, `failed`, `rebuilding`).

use crate::model::Note;
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

/// One member device of an array.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MdMember {
    /// Device name as mdstat prints it (`sda1`, `nvme0n1p3`, `cciss/c0d0p1`).
    pub name: String,
    /// The whole disk the member lives on (`sda`, `nvme0n1`, `cciss/c0d0`).
    pub disk: String,
    /// The number in brackets in mdstat (the superblock's device number,
    /// not the slot); -1 when unknown.
    pub number: i64,
    /// The slot (raid disk) it fills, from sysfs or mdadm; -1 when unknown
    /// or none (a spare).
    pub slot: i64,
    /// What the member does: `active`, `faulty`, `spare`, `rebuilding`,
    /// `replacement`, `journal`.
    pub role: String,
    /// `(F)`: marked faulty, no longer used.
    pub faulty: bool,
    /// `(S)`: a spare, not part of the array's data.
    pub spare: bool,
    /// `(W)`: write-mostly (reads avoid it).
    pub write_mostly: bool,
    /// `(R)`: a replacement being built for another member.
    pub replacement: bool,
    /// `(J)`: the raid5/6 write journal.
    pub journal: bool,
    /// Being rebuilt into an empty slot (or waiting to be).
    pub rebuilding: bool,
    /// The sysfs `dev-*/state` text when known (`in_sync`, `faulty`,
    /// `spare,write_error`, ...).
    pub sysfs_state: String,
    /// A regular expression matching the kernel-log device names of this
    /// member's disk in a finding field (`sda, sdb1`): the disk, its
    /// partitions, and an NVMe disk's controller. For correlating kernel
    /// I/O errors with the member (`disk.failing`).
    pub kernel_dev_pattern: String,
}

/// Resync, recovery, reshape or check progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MdSync {
    /// `resync`, `recovery`, `reshape`, `check`, `repair`, or empty when
    /// nothing runs.
    pub action: String,
    /// Percent done (`8.5`).
    pub percent: f64,
    /// Blocks (1 KiB) done, as `(done/total)` says.
    pub done: u64,
    /// Blocks (1 KiB) to do.
    pub total: u64,
    /// Estimated minutes left (`finish=17.0min`).
    pub eta_minutes: f64,
    /// The estimate in words (`17 min`, `23 h 40 min`), empty when unknown.
    pub eta: String,
    /// Current speed in KiB/s.
    pub speed_kib: u64,
    /// `resync=DELAYED`: waits for another array sharing a disk.
    pub delayed: bool,
    /// `resync=PENDING`: waits for the array to be written to.
    pub pending: bool,
}

/// One md array, merged from mdstat, sysfs and `mdadm --detail`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MdArray {
    /// Kernel name (`md0`, `md127`, `md_d0`).
    pub name: String,
    /// The classified state, one of the [`state`] words.
    pub state: String,
    /// Started (`active` in mdstat).
    pub active: bool,
    /// `read-write`, `read-only`, `auto-read-only` or `inactive`.
    pub mode: String,
    /// Personality (`raid1`, `raid5`, `linear`, ...); empty when the array
    /// is inactive and nothing says.
    pub level: String,
    /// Superblock format (`1.2`, `0.90`, `external:imsm`,
    /// `external:/md127/0`); empty when mdstat does not say (0.90).
    pub metadata: String,
    /// For an array inside an IMSM/DDF container: the container (`md127`).
    pub container: String,
    /// This array is an IMSM/DDF container.
    pub is_container: bool,
    /// Size in 1 KiB blocks.
    pub blocks: u64,
    /// Chunk size as printed (`512k`), empty when none.
    pub chunk: String,
    /// Layout as printed (`algorithm 2`, `2 near-copies`), empty when none.
    pub layout: String,
    /// Slots the level has (`n` of `[n/m]`); 0 when unknown.
    pub raid_disks: u64,
    /// Slots filled by an in-sync member (`m` of `[n/m]`).
    pub working_disks: u64,
    /// The slot map (`UU_U`), empty when not shown.
    pub status: String,
    /// Slots without an in-sync member.
    pub missing: u64,
    /// Zero-based positions of the empty slots in the slot map.
    pub missing_slots: Vec<u64>,
    /// How many members the level can lose (raid1: n-1, raid5: 1, raid6: 2,
    /// raid10: copies-1, raid0/linear: 0).
    pub redundancy: u64,
    /// The level keeps redundant copies (raid1/4/5/6/10, multipath).
    pub redundant: bool,
    /// At least one slot has no in-sync member.
    pub degraded: bool,
    /// More members missing than the level tolerates.
    pub failed: bool,
    /// A member is being rebuilt (or waits to be).
    pub rebuilding: bool,
    /// Members listed as spares (`(S)`, not rebuilding).
    pub spares: u64,
    /// Members marked faulty.
    pub faulty: u64,
    /// Every member device.
    pub members: Vec<MdMember>,
    /// Names of the faulty members, comma separated (for summaries).
    pub faulty_members: String,
    /// Names of the members being rebuilt, comma separated.
    pub rebuilding_members: String,
    /// Progress of a running (or waiting) resync/recovery/reshape/check.
    pub sync: MdSync,
    /// The mdstat `bitmap:` line, empty when there is none.
    pub bitmap: String,
    /// sysfs `array_state` (`clean`, `active`, `inactive`, `read-auto`,
    /// `broken`, ...), empty when not read.
    pub array_state: String,
    /// sysfs `sync_action` (`idle`, `check`, ...), empty when not read.
    pub sync_action: String,
    /// sysfs `last_sync_action`, empty when not read.
    pub last_sync_action: String,
    /// sysfs `mismatch_cnt`: sectors found inconsistent by the last
    /// check/repair (0 when not read).
    pub mismatch_cnt: u64,
    /// `mdadm --detail` `State :` line, empty when not read.
    pub mdadm_state: String,
    /// A one-line description for summaries (`degraded raid1 [2/1] [_U];
    /// faulty: sda1; empty slot(s) 0; no spare`).
    pub summary: String,
    /// Every input that described the array.
    pub sources: Vec<String>,
    /// Canonical input of the main evidence (`proc/mdstat`).
    pub input: String,
    /// Line of the array's first line in that input.
    pub line: u32,
    /// The array's lines in that input.
    pub excerpt: String,
}

/// Everything known about md arrays.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MdFacts {
    /// The `Personalities :` line of mdstat (`raid1`, `raid6`, ...).
    pub personalities: Vec<String>,
    /// Every array, in mdstat order, then arrays only sysfs or mdadm knew.
    pub arrays: Vec<MdArray>,
}

/// Personalities the kernel has had; anything else gets a note.
pub(crate) const PERSONALITIES: &[&str] = &[
    "linear",
    "raid0",
    "raid1",
    "raid4",
    "raid5",
    "raid6",
    "raid10",
    "multipath",
    "faulty",
];

impl MdArray {
    /// Computes `state`, the flags and `summary` from the parsed fields.
    /// Called by the parsers and after [`merge`]; idempotent.
    pub fn classify(&mut self) {
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
                listed.sort_by_key(|&i| std::cmp::Reverse(self.members[i].number));
                for &i in listed.iter().take(extra) {
                    self.members[i].rebuilding = true;
                }
                return;
            }
            if self.sync.action == "recovery" {
                let mut spares: Vec<usize> = (0..self.members.len())
                    .filter(|&i| self.members[i].spare && !self.members[i].faulty)
                    .collect();
                spares.sort_by_key(|&i| self.members[i].number);
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

/// The whole disk a member device lives on: `sda1` → `sda`, `nvme0n1p3` →
/// `nvme0n1`, `mmcblk0p2` → `mmcblk0`, `cciss/c0d0p1` → `cciss/c0d0`,
/// `dm-3` and `loop0` stay as they are.
pub fn disk_of(device: &str) -> String {
    let name = device.trim_start_matches("/dev/");
    if name.starts_with("dm-") || name.starts_with("loop") || name.starts_with("md") {
        return name.to_string();
    }
    // Names whose disk ends in a digit mark partitions with `p<N>`.
    let p_style = [
        "nvme", "mmcblk", "nbd", "cciss", "ida/", "rd/", "zram", "pmem",
    ];
    if p_style.iter().any(|p| name.starts_with(p)) || name.contains("/c") {
        if let Some(pos) = name.rfind('p') {
            let (disk, part) = name.split_at(pos);
            let digits = &part[1..];
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && disk.ends_with(|c: char| c.is_ascii_digit())
            {
                return disk.to_string();
            }
        }
        return name.to_string();
    }
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if trimmed.is_empty() {
        name.to_string()
    } else {
        trimmed.to_string()
    }
}

/// A regex over a finding field (`dev` values joined by `, `) that matches
/// the names the kernel log uses for `disk`: the disk, its partitions, and
/// for NVMe the controller (`nvme0` of `nvme0n1`).
fn kernel_dev_pattern(disk: &str) -> String {
    let mut names = vec![format!(
        "{}(?:p?[0-9]+)?",
        regex::escape(&disk.replace('/', "!"))
    )];
    if disk.contains('/') {
        names.push(format!("{}(?:p?[0-9]+)?", regex::escape(disk)));
    }
    if let Some(rest) = disk.strip_prefix("nvme") {
        if let Some(controller) = rest.split('n').next().filter(|c| !c.is_empty()) {
            names.push(format!("nvme{}", regex::escape(controller)));
        }
    }
    format!("(?:^|, )(?:{})(?:,|$)", names.join("|"))
}

impl MdMember {
    /// A member with its name and derived fields set.
    pub fn new(name: &str) -> Self {
        let disk = disk_of(name);
        MdMember {
            name: name.to_string(),
            kernel_dev_pattern: kernel_dev_pattern(&disk),
            disk,
            number: -1,
            slot: -1,
            ..MdMember::default()
        }
    }
}

/// The md attributes of one array as sysfs shows them
/// (`/sys/block/mdN/md/*`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SysfsMd {
    /// Array name (`md0`).
    pub name: String,
    /// `array_state`.
    pub array_state: String,
    /// `level`.
    pub level: String,
    /// `raid_disks` (the new count during a reshape).
    pub raid_disks: Option<u64>,
    /// `degraded`: slots without an in-sync member.
    pub degraded: Option<u64>,
    /// `sync_action`.
    pub sync_action: String,
    /// `sync_completed` as (done, total) sectors.
    pub sync_completed: Option<(u64, u64)>,
    /// `sync_completed` said `delayed`.
    pub sync_delayed: bool,
    /// `last_sync_action`.
    pub last_sync_action: String,
    /// `mismatch_cnt`.
    pub mismatch_cnt: Option<u64>,
    /// `metadata_version`.
    pub metadata: String,
    /// Members: (name, state, slot).
    pub members: Vec<(String, String, Option<i64>)>,
    /// The input names read, for evidence.
    pub inputs: Vec<String>,
}

/// Parses the attribute files of one array. `files` holds
/// (canonical input name, content) for every file below
/// `sys/block/<array>/md/`; attribute names are taken from the input names.
pub fn parse_sysfs_md(array: &str, files: &[(String, String)]) -> (SysfsMd, Vec<Note>) {
    let mut md = SysfsMd {
        name: array.to_string(),
        ..SysfsMd::default()
    };
    let mut notes = Vec::new();
    let prefix = format!("sys/block/{array}/md/");
    let mut members: std::collections::BTreeMap<String, (String, Option<i64>)> =
        std::collections::BTreeMap::new();
    for (input, text) in files {
        let Some(attr) = input.strip_prefix(&prefix) else {
            continue;
        };
        md.inputs.push(input.clone());
        let value = text.trim();
        let number = |notes: &mut Vec<Note>| -> Option<u64> {
            let first = value.split_whitespace().next().unwrap_or("");
            match first.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    notes.push(Note::line(
                        input,
                        1,
                        format!("expected a number, got {:?}", clip(value)),
                    ));
                    None
                }
            }
        };
        match attr {
            "array_state" => md.array_state = value.to_string(),
            "level" => md.level = value.to_string(),
            "raid_disks" => md.raid_disks = number(&mut notes),
            "degraded" => md.degraded = number(&mut notes),
            "sync_action" => md.sync_action = value.to_string(),
            "last_sync_action" => md.last_sync_action = value.to_string(),
            "mismatch_cnt" => md.mismatch_cnt = number(&mut notes),
            "metadata_version" => md.metadata = value.to_string(),
            "sync_completed" => match value {
                "none" | "" => {}
                "delayed" => md.sync_delayed = true,
                _ => {
                    let parsed = value.split_once('/').and_then(|(a, b)| {
                        Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?))
                    });
                    match parsed {
                        Some(pair) => md.sync_completed = Some(pair),
                        None => notes.push(Note::line(
                            input,
                            1,
                            format!("expected 'done / total', got {:?}", clip(value)),
                        )),
                    }
                }
            },
            _ => {
                if let Some(rest) = attr.strip_prefix("dev-") {
                    if let Some((dev, file)) = rest.split_once('/') {
                        let entry = members.entry(dev.to_string()).or_default();
                        match file {
                            "state" => entry.0 = value.to_string(),
                            "slot" => {
                                entry.1 = match value {
                                    "none" => Some(-1),
                                    v => match v.parse::<i64>() {
                                        Ok(n) => Some(n),
                                        Err(_) => {
                                            notes.push(Note::line(
                                                input,
                                                1,
                                                format!(
                                                    "expected a slot number or 'none', got {:?}",
                                                    clip(v)
                                                ),
                                            ));
                                            None
                                        }
                                    },
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    md.members = members
        .into_iter()
        .map(|(name, (state, slot))| (name.replace('!', "/"), state, slot))
        .collect();
    (md, notes)
}

/// One array as `mdadm --detail` describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MdadmDetail {
    /// The device path of the heading (`/dev/md0`).
    pub device: String,
    /// `Raid Level`.
    pub level: String,
    /// `Raid Devices`.
    pub raid_devices: Option<u64>,
    /// `Active Devices`.
    pub active_devices: Option<u64>,
    /// `State`, e.g. `clean, degraded, recovering`.
    pub state: String,
    /// `Rebuild Status` / `Resync Status` / ...: (action, percent).
    pub progress: Option<(String, f64)>,
    /// `Version` (metadata).
    pub version: String,
    /// Device table rows: (name, raid device slot or -1, state words).
    pub members: Vec<(String, i64, String)>,
    /// Slots the table lists as `removed`.
    pub removed_slots: Vec<u64>,
    /// Canonical input name.
    pub input: String,
    /// Line of the heading.
    pub line: u32,
    /// Heading, state and device table lines, as evidence.
    pub excerpt: String,
}

/// Parses `mdadm --detail` output (one or several arrays).
pub fn parse_mdadm_detail(input: &str, text: &str) -> (Vec<MdadmDetail>, Vec<Note>) {
    let mut out: Vec<MdadmDetail> = Vec::new();
    let mut notes = Vec::new();
    let mut in_table = false;
    let mut excerpt: Vec<String> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with("/dev/") && t.ends_with(':') && !raw.starts_with(' ') {
            if let Some(last) = out.last_mut() {
                last.excerpt = excerpt.join("\n");
            }
            excerpt.clear();
            excerpt.push(raw.trim_end().to_string());
            out.push(MdadmDetail {
                device: t.trim_end_matches(':').to_string(),
                input: input.to_string(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                ..MdadmDetail::default()
            });
            in_table = false;
            continue;
        }
        let Some(detail) = out.last_mut() else {
            if line <= 3 && t.starts_with("mdadm:") {
                notes.push(Note::line(input, line, format!("mdadm said: {}", clip(t))));
            }
            continue;
        };
        if t.starts_with("Number") && t.contains("RaidDevice") {
            in_table = true;
            excerpt.push(raw.trim_end().to_string());
            continue;
        }
        if in_table {
            // "   0   8   1   0   active sync   /dev/sda1"
            // "   1   0   0   1   removed"
            // "   2   8  17   -   faulty   /dev/sdb1"
            let fields: Vec<&str> = t.split_whitespace().collect();
            if fields.len() >= 5 && fields[..3].iter().all(|f| f.parse::<i64>().is_ok()) {
                excerpt.push(raw.trim_end().to_string());
                let slot = fields[3].parse::<i64>().unwrap_or(-1);
                let dev = fields
                    .last()
                    .filter(|f| f.starts_with('/'))
                    .map(|f| f.trim_start_matches("/dev/").to_string());
                let words_end = if dev.is_some() {
                    fields.len() - 1
                } else {
                    fields.len()
                };
                let words = fields[4..words_end].join(" ");
                match dev {
                    Some(dev) => detail.members.push((dev, slot, words)),
                    None if words.contains("removed") && slot >= 0 => {
                        detail.removed_slots.push(slot as u64)
                    }
                    None => {}
                }
            } else if fields.len() >= 3 && fields[0] == "-" {
                // mdadm 3.3+: "   -   0   0   1   removed"; container
                // members: "   -   8   0   -   /dev/sda".
                excerpt.push(raw.trim_end().to_string());
                if fields.last() == Some(&"removed") {
                    if let Some(slot) = fields.get(3).and_then(|s| s.parse::<u64>().ok()) {
                        detail.removed_slots.push(slot);
                    }
                } else if let Some(dev) = fields.last().filter(|f| f.starts_with('/')) {
                    detail.members.push((
                        dev.trim_start_matches("/dev/").to_string(),
                        -1,
                        String::new(),
                    ));
                }
            } else {
                notes.push(Note::line(
                    input,
                    line,
                    format!("unrecognised device table row {:?}", clip(t)),
                ));
            }
            continue;
        }
        let Some((key, value)) = t.split_once(" : ").or_else(|| t.split_once(':')) else {
            continue;
        };
        let key = key.trim();
        let value = value.trim();
        let number = || value.split_whitespace().next().and_then(|v| v.parse().ok());
        match key {
            "Raid Level" => detail.level = value.to_string(),
            "Raid Devices" => detail.raid_devices = number(),
            "Active Devices" => detail.active_devices = number(),
            "Version" => detail.version = value.to_string(),
            "State" => {
                detail.state = value.to_string();
                excerpt.push(raw.trim_end().to_string());
            }
            k if k.ends_with(" Status") && value.contains('%') => {
                let action = match k {
                    "Rebuild Status" => "recovery",
                    "Resync Status" => "resync",
                    "Reshape Status" => "reshape",
                    "Check Status" => "check",
                    "Repair Status" => "repair",
                    _ => "",
                };
                let percent = value
                    .split('%')
                    .next()
                    .and_then(|p| p.trim().parse::<f64>().ok());
                if let (false, Some(p)) = (action.is_empty(), percent) {
                    detail.progress = Some((action.to_string(), p));
                    excerpt.push(raw.trim_end().to_string());
                }
            }
            _ => {}
        }
    }
    if let Some(last) = out.last_mut() {
        last.excerpt = excerpt.join("\n");
    }
    if out.is_empty() && !text.trim().is_empty() {
        notes.push(Note::input(
            input,
            "no '/dev/mdN:' heading: not mdadm --detail output",
        ));
    }
    (out, notes)
}

fn clip(text: &str) -> String {
    let mut end = text.len().min(80);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
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
    use crate::facts::md::from_snapshot;

    #[test]
    fn disks_of_members() {
        for (member, disk) in [
            ("sda1", "sda"),
            ("sdab12", "sdab"),
            ("sdc", "sdc"),
            ("nvme0n1p3", "nvme0n1"),
            ("nvme0n1", "nvme0n1"),
            ("mmcblk0p2", "mmcblk0"),
            ("cciss/c0d0p1", "cciss/c0d0"),
            ("cciss!c0d0p1", "cciss!c0d0"),
            ("xvdb", "xvdb"),
            ("hda", "hda"),
            ("dm-3", "dm-3"),
            ("loop0", "loop0"),
            ("", ""),
            ("1", "1"),
        ] {
            assert_eq!(disk_of(member), disk, "{member}");
        }
    }

    #[test]
    fn kernel_names_of_a_disk() {
        let re = regex::Regex::new(&MdMember::new("sdb1").kernel_dev_pattern).expect("re");
        assert!(re.is_match("sdb"));
        assert!(re.is_match("sda, sdb1"));
        assert!(re.is_match("sdb2, sdc"));
        assert!(!re.is_match("sdbc"));
        assert!(!re.is_match("sda"));
        let re = regex::Regex::new(&MdMember::new("nvme1n1p3").kernel_dev_pattern).expect("re");
        assert!(re.is_match("nvme1"));
        assert!(re.is_match("nvme1n1"));
        assert!(!re.is_match("nvme10"));
        assert!(!re.is_match("nvme0n1"));
    }

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
}
