//! Filesystem facts: every filesystem input of a snapshot parsed with
//! [`crate::parse::fs`], mounts judged against `/etc/fstab`, quota tools
//! resolved to the mounts they work on.

use crate::model::Note;
use crate::parse::fs::*;
use serde::Serialize;

/// Decides `unexpected_read_only` for every read-only mount.
pub fn judge_read_only(mounts: &mut [Mount], fstab: Option<&[FstabEntry]>) {
    for mount in mounts.iter_mut().filter(|m| m.read_only) {
        if mount.pseudo
            || IMAGE_FSTYPES.contains(&mount.fstype.as_str())
            || !WRITABLE_FSTYPES.contains(&mount.fstype.as_str())
            || mount.device.starts_with("/dev/loop")
            || mount.mountpoint.starts_with("/snap/")
        {
            continue;
        }
        let listed = fstab.and_then(|entries| {
            entries
                .iter()
                .rev()
                .find(|e| e.mountpoint == mount.mountpoint)
        });
        let remount_ro = mount.options.iter().any(|o| o == "errors=remount-ro");
        let (unexpected, reason) = match (fstab, listed) {
            (_, Some(entry)) if entry.options.iter().any(|o| o == "ro") => {
                (false, "fstab asks for ro".to_string())
            }
            (_, Some(_)) => (
                true,
                "fstab mounts it read-write, but it is read-only now".to_string(),
            ),
            (Some(_), None) if mount.mountpoint == "/" => (
                true,
                "the root filesystem is read-only (not listed in fstab)".to_string(),
            ),
            (Some(_), None) => (false, "not listed in fstab".to_string()),
            (None, None) if mount.mountpoint == "/" => {
                (true, "the root filesystem is read-only".to_string())
            }
            (None, None) if remount_ro => (
                true,
                "mounted with errors=remount-ro and now read-only".to_string(),
            ),
            (None, None) => (false, "no fstab to compare with".to_string()),
        };
        mount.unexpected_read_only = unexpected;
        mount.read_only_reason = reason;
    }
}

/// Everything known about filesystems and block devices.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FsFacts {
    /// Every mount, in `/proc/mounts` order.
    pub mounts: Vec<Mount>,
    /// Space and inode usage, one record per mount statvfs was asked about.
    pub usage: Vec<FsUsage>,
    /// Block devices.
    pub block_devices: Vec<BlockDevice>,
    /// Quota tools running now.
    pub quota_processes: Vec<QuotaProcess>,
}

/// Every filesystem input of a snapshot, parsed.
pub(crate) fn from_snapshot(
    snapshot: &crate::source::snapshot::Snapshot,
    notes: &mut Vec<Note>,
) -> FsFacts {
    let mut facts = FsFacts::default();
    if let Some(text) = snapshot.text("proc/mounts") {
        let (mounts, more) = parse_mounts("proc/mounts", &text);
        facts.mounts = mounts;
        notes.extend(more);
    }
    let fstab = snapshot.text("etc/fstab").map(|text| {
        let (entries, more) = parse_fstab("etc/fstab", &text);
        notes.extend(more);
        entries
    });
    judge_read_only(&mut facts.mounts, fstab.as_deref());
    if let Some(text) = snapshot.text("fs/statvfs.json") {
        let (usage, more) = parse_statvfs_json("fs/statvfs.json", &text);
        facts.usage = usage;
        notes.extend(more);
    }
    if let Some(text) = snapshot.text("proc/diskstats") {
        let (devices, more) = parse_diskstats("proc/diskstats", &text);
        facts.block_devices = devices;
        notes.extend(more);
    }
    // sys/block/<dev>/{holders,slaves}/<other>/dev
    for name in snapshot.inputs.keys() {
        let Some(rest) = name.strip_prefix("sys/block/") else {
            continue;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let [dev, kind @ ("holders" | "slaves"), other, "dev"] = parts[..] else {
            continue;
        };
        let index = match facts.block_devices.iter().position(|d| d.name == dev) {
            Some(i) => i,
            None => {
                facts.block_devices.push(BlockDevice {
                    name: dev.to_string(),
                    input: name.clone(),
                    excerpt: format!("{dev} {kind} {other}"),
                    ..BlockDevice::default()
                });
                facts.block_devices.len() - 1
            }
        };
        let device = &mut facts.block_devices[index];
        let list = if kind == "holders" {
            &mut device.holders
        } else {
            &mut device.slaves
        };
        list.push(other.replace('!', "/"));
    }
    for (name, input) in &snapshot.inputs {
        let Some(pid) = name
            .strip_prefix("proc/")
            .and_then(|rest| rest.strip_suffix("/comm"))
            .and_then(|pid| pid.parse::<u64>().ok())
        else {
            continue;
        };
        let comm = input.text();
        if !QUOTA_TOOLS.contains(&comm.trim()) {
            continue;
        }
        let cmdline = snapshot
            .inputs
            .get(&format!("proc/{pid}/cmdline"))
            .map(|i| &i.bytes[..]);
        facts
            .quota_processes
            .push(quota_process(pid, &comm, cmdline, &facts.mounts));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    // The real-format inputs of diag-parse's own tests (`parse::fs`).
    const MOUNTS: &str = include_str!("../../../diag-parse/src/testdata/proc_mounts");
    const FSTAB: &str = include_str!("../../../diag-parse/src/testdata/etc_fstab");

    #[test]
    fn mounts_and_read_only_judgement() {
        let (mut mounts, _) = parse_mounts("proc/mounts", MOUNTS);
        judge_read_only(&mut mounts, None);
        let flagged: Vec<&str> = mounts
            .iter()
            .filter(|m| m.unexpected_read_only)
            .map(|m| m.mountpoint.as_str())
            .collect();
        assert_eq!(flagged, vec!["/srv"]);
        let (entries, notes) = parse_fstab("etc/fstab", FSTAB);
        assert!(notes.is_empty());
        judge_read_only(&mut mounts, Some(&entries));
        let flagged: Vec<&str> = mounts
            .iter()
            .filter(|m| m.unexpected_read_only)
            .map(|m| m.mountpoint.as_str())
            .collect();
        assert_eq!(flagged, vec!["/srv"]);
    }

    #[test]
    fn snapshot_stacking_and_quota_tools() {
        let snapshot = crate::Snapshot::from_inputs([
            ("proc/mounts", MOUNTS.as_bytes().to_vec()),
            (
                "proc/diskstats",
                b"   9       0 md0 10 0 80 1 20 0 160 2 0 3 3\n".to_vec(),
            ),
            ("sys/block/md0/slaves/sda1/dev", b"8:1\n".to_vec()),
            ("sys/block/md0/slaves/sdb1/dev", b"8:17\n".to_vec()),
            ("sys/block/sda/holders/dm-0/dev", b"253:0\n".to_vec()),
            ("proc/4242/comm", b"quotacheck\n".to_vec()),
            ("proc/4242/cmdline", b"quotacheck\0-vug\0/home\0".to_vec()),
            ("proc/1/comm", b"systemd\n".to_vec()),
            ("proc/self/comm", b"quotacheck\n".to_vec()),
        ]);
        let mut notes = Vec::new();
        let facts = from_snapshot(&snapshot, &mut notes);
        let md0 = facts
            .block_devices
            .iter()
            .find(|d| d.name == "md0")
            .expect("md0");
        assert_eq!(md0.slaves, vec!["sda1", "sdb1"]);
        assert_eq!(md0.reads, 10);
        let sda = facts
            .block_devices
            .iter()
            .find(|d| d.name == "sda")
            .expect("sda");
        assert_eq!(sda.holders, vec!["dm-0"]);
        assert_eq!(facts.quota_processes.len(), 1);
        assert_eq!(facts.quota_processes[0].filesystems, vec!["/home"]);
        assert!(facts.quota_processes[0].on_mounted);
        assert_eq!(
            facts
                .mounts
                .iter()
                .filter(|m| m.unexpected_read_only)
                .count(),
            1
        );
    }
}
