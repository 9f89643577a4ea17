//! A sosreport taken inside a container (LXD, Docker, systemd-nspawn:
//! `facts.host.container`) holds the host's kernel log: the kernel is
//! shared, so `dmesg` and the kernel lines of the logs speak of every
//! disk, array and interface of the host. A kernel-log finding whose
//! devices are none of the container's is the host's: its summary starts
//! `host's kernel log: sdb is not this container's (lxc).`, its severity
//! is info, and it is not handed to the rules that rank causes (it is not
//! in `findings` of their conditions), so it is never this host's cause.
//!
//! The container's devices are its network interfaces (its own network
//! namespace: the link and address tables) and the block devices it
//! mounts (`/proc/mounts` is per mount namespace), with their partitions
//! and the disks they are on (`sdb1` is `sdb`'s). `/proc/mdstat`, `lsblk`
//! and `/sys/block` show the host's devices in a container, so they are
//! not used. A finding that names no device (an AppArmor denial, an OOM
//! kill) is kept as it is: diag cannot tell whose it is.

use crate::facts::Facts;
use std::collections::{BTreeMap, BTreeSet};

/// The fields of kernel-log patterns that name a device: a block device
/// or interface (`dev`), a disk, an md array or member, an interface,
/// bond, bond slave, bridge or net device.
pub const DEVICE_FIELDS: &[&str] = &[
    "dev",
    "disk",
    "array",
    "member",
    "interface",
    "bond",
    "slave",
    "bridge",
    "ndev",
];

/// The devices a container has, when the facts are a container's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerDevices {
    /// `lxc`, `docker`, `systemd-nspawn`, ...
    pub technology: String,
    /// Its network interfaces.
    pub interfaces: BTreeSet<String>,
    /// The block devices it mounts (`sda1`, `md0`, `mapper/vg-root`).
    pub block_devices: BTreeSet<String>,
}

impl ContainerDevices {
    /// The container's devices; `None` when the facts are not a
    /// container's.
    pub fn of(facts: &Facts) -> Option<ContainerDevices> {
        if facts.host.container.is_empty() {
            return None;
        }
        let interfaces = facts
            .net
            .links
            .iter()
            .map(|l| l.name.as_str())
            .chain(facts.net.addresses.iter().map(|a| a.ifname.as_str()))
            .map(|name| name.split_once('@').map_or(name, |(n, _)| n).to_string())
            .filter(|name| !name.is_empty())
            .collect();
        let block_devices = facts
            .fs
            .mounts
            .iter()
            .filter_map(|m| m.device.strip_prefix("/dev/"))
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect();
        Some(ContainerDevices {
            technology: facts.host.container.clone(),
            interfaces,
            block_devices,
        })
    }

    /// Whether `dev` (as a kernel line names it) is one of the
    /// container's: one of its interfaces, a block device it mounts, a
    /// partition of one, or the disk one is on.
    pub fn has(&self, dev: &str) -> bool {
        self.interfaces.contains(dev)
            || self
                .block_devices
                .iter()
                .any(|own| own == dev || partition_of(dev, own) || partition_of(own, dev))
    }

    /// The devices `fields` (a fired kernel-log pattern's) name, when
    /// there is at least one and none is the container's; empty
    /// otherwise (no device named, or one of them is the container's).
    pub fn not_its_own(&self, fields: &BTreeMap<String, String>) -> Vec<String> {
        let mut named: Vec<String> = Vec::new();
        for field in DEVICE_FIELDS {
            let Some(values) = fields.get(*field) else {
                continue;
            };
            for value in values.split(", ") {
                let value = value.trim();
                if value.is_empty() || value == "…" {
                    continue;
                }
                if self.has(value) {
                    return Vec::new();
                }
                if !named.iter().any(|n| n == value) {
                    named.push(value.to_string());
                }
            }
        }
        named
    }
}

/// Whether `part` is a partition of the disk `disk`: `sda1` of `sda`;
/// of a disk whose name ends in a digit, after a `p` (`nvme0n1p2` of
/// `nvme0n1`, `md1p1` of `md1`; `md10` is another array, not `md1`'s).
fn partition_of(part: &str, disk: &str) -> bool {
    let Some(rest) = part.strip_prefix(disk) else {
        return false;
    };
    let digits = if disk.ends_with(|c: char| c.is_ascii_digit()) {
        match rest.strip_prefix('p') {
            Some(digits) => digits,
            None => return false,
        }
    } else {
        rest
    };
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devices() -> ContainerDevices {
        ContainerDevices {
            technology: "lxc".into(),
            interfaces: ["lo", "eth0"].into_iter().map(String::from).collect(),
            block_devices: ["sda1", "nvme0n1p2", "md1"]
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn its_own_devices_partitions_and_disks() {
        let own = devices();
        for dev in ["eth0", "sda1", "sda", "nvme0n1", "nvme0n1p2", "md1"] {
            assert!(own.has(dev), "{dev}");
        }
        for dev in [
            "eth1",
            "sdb",
            "sdb1",
            "sda12x",
            "nvme0n1p3",
            "md0",
            "md10",
            "ata3",
            "",
        ] {
            assert!(!own.has(dev), "{dev}");
        }
    }

    #[test]
    fn a_finding_is_the_hosts_only_when_every_device_it_names_is() {
        let own = devices();
        assert_eq!(
            own.not_its_own(&fields(&[("dev", "sdb, sdb1")])),
            ["sdb", "sdb1"]
        );
        assert_eq!(
            own.not_its_own(&fields(&[("array", "md0"), ("member", "sdc1, …")])),
            ["md0", "sdc1"]
        );
        // One of them is the container's: its disk too.
        assert!(own.not_its_own(&fields(&[("dev", "sdb, sda1")])).is_empty());
        // No device named: cannot be told.
        assert!(own.not_its_own(&fields(&[("comm", "nginx")])).is_empty());
        assert!(own.not_its_own(&fields(&[("dev", "")])).is_empty());
    }
}
