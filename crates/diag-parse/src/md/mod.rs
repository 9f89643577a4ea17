//! Linux software RAID (md): the model of an array, and one parser per
//! place that describes it.
//!
//! - `/proc/mdstat` ([`mdstat`]): every array at once, but terse and easy
//!   to misread when an array is degraded (`[2/1] [_U]`, spares, a
//!   hot-replace `(R)` on a full array).
//! - sysfs, `/sys/block/mdN/md/*` ([`sysfs`]): one value per file, the
//!   kernel's own view.
//! - `mdadm --detail` text ([`mdadm_detail`], bundles only:
//!   `commands/mdadm_--detail_md0`): member roles in words ("spare
//!   rebuilding", "faulty", "removed").
//!
//! `diag_core::facts::md` joins them by array name (sysfs wins where it
//! disagrees with mdstat, and the disagreement is a note) and classifies
//! each array: one state in the operator's words (clean, degraded,
//! recovering, ...) plus the flags rules need (`degraded`, `failed`,
//! `rebuilding`). The fields of [`MdArray`] it derives are left at their
//! defaults by the parsers.

use serde::Serialize;

pub mod mdadm_detail;
pub mod mdstat;
pub mod sysfs;

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
    /// The classified state, one of the `diag_core::facts::md::state` words.
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

/// At most 80 bytes of `text`, for a note or an excerpt.
fn clip(text: &str) -> String {
    let mut end = text.len().min(80);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
