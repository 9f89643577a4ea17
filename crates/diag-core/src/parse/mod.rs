//! Parse: raw inputs to typed facts.
//!
//! Each parser is a pure function over text. [`Facts::from_snapshot`] runs
//! the right parser on every input of a snapshot and gathers the facts and
//! the notes (lines that could not be used). [`INPUTS`] lists every input a
//! parser knows: it is what `diag collect` reads and what a bundle holds.

pub mod events;
pub mod fs;
pub mod json_records;
pub mod kernel_log;
pub mod kernel_sources;
pub mod md;
pub mod mdstat;
pub mod net;
pub mod netstate;

use crate::model::Note;
use crate::snapshot::Snapshot;
use crate::source::Keep;
use fs::{BlockDevice, FsFacts, FsUsage, Mount, QuotaProcess};
use kernel_log::LogEntry;
use md::{MdArray, MdFacts, MdMember};
use net::{Interface, NeighCacheStats, Route};
use serde::Serialize;

/// One input (or family of inputs) that a parser understands.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    /// Canonical name; a path segment may hold one `*`.
    pub pattern: &'static str,
    /// Which end to keep when the input is larger than the size limit.
    pub keep: Keep,
    /// Keep only this many matches of a pattern, the newest by name
    /// (rotated logs: the live file and the most recent rotations).
    pub newest: Option<usize>,
}

impl InputSpec {
    const fn newest(self, n: usize) -> Self {
        InputSpec {
            newest: Some(n),
            ..self
        }
    }

    /// Orders matches of this pattern newest first (for the `newest` field):
    /// rotated logs by their rotation, anything else (`var/crash/<time>/`)
    /// by name, highest first.
    pub fn newest_first(&self, names: &mut [String]) {
        let base = self.pattern.trim_end_matches('*');
        names.sort_by(|a, b| {
            let ka = kernel_sources::rotation_key(base, a);
            let kb = kernel_sources::rotation_key(base, b);
            kb.cmp(&ka).then_with(|| b.cmp(a))
        });
    }
}

const fn head(pattern: &'static str) -> InputSpec {
    InputSpec {
        pattern,
        keep: Keep::Head,
        newest: None,
    }
}

const fn tail(pattern: &'static str) -> InputSpec {
    InputSpec {
        pattern,
        keep: Keep::Tail,
        newest: None,
    }
}

/// Every input the parsers know, in collection order.
pub const INPUTS: &[InputSpec] = &[
    head("proc/sys/kernel/hostname"),
    head("proc/sys/kernel/osrelease"),
    head("proc/stat"),
    head("etc/localtime"),
    tail("dev/kmsg"),
    tail("commands/dmesg"),
    tail("var/log/kern.log*").newest(4),
    tail("var/log/syslog*").newest(4),
    tail("var/log/messages*").newest(4),
    tail("sys/fs/pstore/dmesg-*"),
    tail("var/crash/*/vmcore-dmesg.txt").newest(4),
    head("proc/net/stat/arp_cache"),
    head("proc/net/stat/ndisc_cache"),
    head("proc/sys/net/ipv4/neigh/default/gc_thresh1"),
    head("proc/sys/net/ipv4/neigh/default/gc_thresh2"),
    head("proc/sys/net/ipv4/neigh/default/gc_thresh3"),
    head("proc/net/route"),
    head("sys/class/net/*/flags"),
    head("proc/mdstat"),
    head("sys/block/md*/md/array_state"),
    head("sys/block/md*/md/level"),
    head("sys/block/md*/md/raid_disks"),
    head("sys/block/md*/md/degraded"),
    head("sys/block/md*/md/sync_action"),
    head("sys/block/md*/md/sync_completed"),
    head("sys/block/md*/md/last_sync_action"),
    head("sys/block/md*/md/mismatch_cnt"),
    head("sys/block/md*/md/metadata_version"),
    head("sys/block/md*/md/dev-*/state"),
    head("sys/block/md*/md/dev-*/slot"),
    head("commands/mdadm_--detail_*"),
    head("proc/mounts"),
    head("etc/fstab"),
    head("proc/diskstats"),
    head("sys/block/*/holders/*/dev"),
    head("sys/block/*/slaves/*/dev"),
    // Process names only: a quota tool's command line comes from
    // `source::storage::quota_cmdlines` (other command lines can hold
    // secrets and stay out of bundles).
    head("proc/*/comm"),
    head("fs/statvfs.json"),
];

/// The kernel log, from whichever source the snapshot had.
///
/// `dev/kmsg` is preferred; `commands/dmesg` is read only when there is no
/// `dev/kmsg`, so the same messages are never counted twice.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KernelLog {
    /// Canonical names of the inputs the entries came from.
    pub inputs: Vec<String>,
    /// How many entries there are.
    pub count: usize,
    /// The boots the entries belong to, oldest first.
    pub boots: Vec<kernel_sources::BootSummary>,
    /// Every entry, oldest first. Not exposed to rule conditions (log
    /// rules read it directly, which is much faster).
    #[serde(skip)]
    pub entries: Vec<LogEntry>,
}

/// Neighbour-table state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Neighbours {
    /// Cache statistics per table (`arp_cache`, `ndisc_cache`).
    pub caches: Vec<NeighCacheStats>,
    /// `net.ipv4.neigh.default.gc_thresh1..3`, 0 when unknown.
    pub gc_thresh1: u64,
    /// See `gc_thresh1`.
    pub gc_thresh2: u64,
    /// The hard limit on IPv4 neighbour entries.
    pub gc_thresh3: u64,
}

/// Host identity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostFacts {
    /// Host name, empty when unknown.
    pub hostname: String,
    /// Kernel release, empty when unknown.
    pub kernel: String,
}

/// Everything parsed from one snapshot. Serialised (without the raw kernel
/// log entries) this is the `facts` variable of rule conditions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    /// Host identity.
    pub host: HostFacts,
    /// Canonical names of every input present.
    pub inputs: Vec<String>,
    /// The kernel log.
    pub kernel_log: KernelLog,
    /// Neighbour tables.
    pub neigh: Neighbours,
    /// Routes (IPv4 main table, from `/proc/net/route`).
    pub routes: Vec<Route>,
    /// Network interfaces.
    pub interfaces: Vec<Interface>,
    /// Software RAID (md) arrays.
    pub md: MdFacts,
    /// Mounts, filesystem usage, block devices, quota tools.
    pub fs: FsFacts,
}

impl Facts {
    /// Facts with one default element in every list: the shape rule
    /// conditions are checked against (`diag rules validate`).
    pub fn schema_sample() -> Facts {
        Facts {
            inputs: vec![String::new()],
            kernel_log: KernelLog {
                inputs: vec![String::new()],
                boots: vec![kernel_sources::BootSummary::default()],
                ..KernelLog::default()
            },
            neigh: Neighbours {
                caches: vec![NeighCacheStats::default()],
                ..Neighbours::default()
            },
            routes: vec![Route::default()],
            interfaces: vec![Interface::default()],
            md: MdFacts {
                personalities: vec![String::new()],
                arrays: vec![MdArray {
                    members: vec![MdMember::default()],
                    missing_slots: vec![0],
                    sources: vec![String::new()],
                    ..MdArray::default()
                }],
            },
            fs: FsFacts {
                mounts: vec![Mount {
                    options: vec![String::new()],
                    quota: vec![String::new()],
                    ..Mount::default()
                }],
                usage: vec![FsUsage::default()],
                block_devices: vec![BlockDevice {
                    holders: vec![String::new()],
                    slaves: vec![String::new()],
                    ..BlockDevice::default()
                }],
                quota_processes: vec![QuotaProcess {
                    filesystems: vec![String::new()],
                    ..QuotaProcess::default()
                }],
            },
            ..Facts::default()
        }
    }

    /// Parses every input of `snapshot`; what cannot be used becomes a note.
    pub fn from_snapshot(snapshot: &Snapshot) -> (Facts, Vec<Note>) {
        let mut facts = Facts {
            host: HostFacts {
                hostname: snapshot.host().unwrap_or_default(),
                kernel: snapshot.kernel().unwrap_or_default(),
            },
            inputs: snapshot.inputs.keys().cloned().collect(),
            ..Facts::default()
        };
        let mut notes = Vec::new();
        for (name, input) in &snapshot.inputs {
            if input.truncated {
                notes.push(Note::input(
                    name,
                    "input was larger than the size limit and was cut",
                ));
            }
        }

        let (mut entries, inputs, boots) = kernel_sources::assemble(snapshot, &mut notes);
        events::group(&mut entries);
        facts.kernel_log.entries = entries;
        facts.kernel_log.inputs = inputs;
        facts.kernel_log.boots = boots;
        facts.kernel_log.count = facts.kernel_log.entries.len();

        for table in ["arp_cache", "ndisc_cache"] {
            let name = format!("proc/net/stat/{table}");
            if let Some(text) = snapshot.text(&name) {
                let (stats, more) = net::parse_neigh_cache_stats(&name, table, &text);
                facts.neigh.caches.extend(stats);
                notes.extend(more);
            }
        }
        for (n, slot) in [
            (1, &mut facts.neigh.gc_thresh1),
            (2, &mut facts.neigh.gc_thresh2),
            (3, &mut facts.neigh.gc_thresh3),
        ] {
            let name = format!("proc/sys/net/ipv4/neigh/default/gc_thresh{n}");
            if let Some(text) = snapshot.text(&name) {
                match text.trim().parse() {
                    Ok(value) => *slot = value,
                    Err(_) => notes.push(Note::line(&name, 1, "expected an integer")),
                }
            }
        }

        if let Some(text) = snapshot.text("proc/net/route") {
            let (routes, more) = net::parse_proc_net_route("proc/net/route", &text);
            facts.routes = routes;
            notes.extend(more);
        }

        for (name, input) in &snapshot.inputs {
            let Some(iface) = name
                .strip_prefix("sys/class/net/")
                .and_then(|rest| rest.strip_suffix("/flags"))
            else {
                continue;
            };
            match net::parse_interface_flags(iface, name, &input.text()) {
                Ok(interface) => facts.interfaces.push(interface),
                Err(note) => notes.push(note),
            }
        }

        facts.md = md::from_snapshot(snapshot, &mut notes);
        facts.fs = fs::from_snapshot(snapshot, &mut notes);
        (facts, notes)
    }
}
