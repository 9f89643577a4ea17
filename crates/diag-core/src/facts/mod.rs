//! Facts: what the inputs of a snapshot mean for the host, the tree rule
//! conditions read (`facts.net`, `facts.md`, ...).
//!
//! [`Facts::from_snapshot`] runs the right parser ([`crate::parse`]) on
//! every input of a snapshot, derives the views rules need (the network
//! view, md classification, services, baselines, captures joined with the
//! host's subnets) and gathers the notes (lines that could not be used).
//! Which inputs exist is `crate::source::inputs::INPUTS`.

pub mod baseline;
pub mod capture;
pub mod counters;
pub mod drops;
pub mod fs;
pub mod kernel_sources;
pub mod kernel_stream;
pub mod md;
pub mod memory;
pub mod netconfig;
pub mod netview;
pub mod prefilter;
pub mod probe;
pub mod services;
pub mod sockets;
pub mod sysctl;
pub mod targets;

use crate::model::Note;
use crate::parse::events;
use crate::parse::fs::{BlockDevice, FsUsage, Mount, QuotaProcess};
use crate::parse::kernel_log::LogEntry;
use crate::parse::md::{MdArray, MdMember};
use crate::parse::net::procnet::stat::{parse_neigh_cache_stats, NeighCacheStats};
use crate::source::snapshot::Snapshot;
use fs::FsFacts;
use md::MdFacts;
use netview::NetFacts;
use serde::Serialize;

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
    /// The memory state the kernel dumped when memory ran out (OOM kill,
    /// allocation failure), one record per dump, oldest first.
    pub oom: Vec<memory::OomMemory>,
    /// Every entry, oldest first (of a large log, the entries the rules
    /// need, each counting those left out after it:
    /// `facts::kernel_stream`). Not exposed to rule conditions (log rules
    /// read it directly, which is much faster).
    #[serde(skip)]
    pub entries: Vec<LogEntry>,
    /// When the snapshot was collected (µs since the epoch), when known
    /// (`Snapshot::collected_at`): a kernel-log finding says how long
    /// before it its lines were logged. Not exposed to rule conditions.
    #[serde(skip)]
    pub collected_us: Option<i64>,
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

/// `hostnamectl status` (a sosreport's): whether it is a container's.
pub const HOSTNAMECTL: &str = "commands/hostnamectl_status";

/// Host identity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostFacts {
    /// Host name, empty when unknown.
    pub hostname: String,
    /// Kernel release, empty when unknown.
    pub kernel: String,
    /// The container technology when the snapshot was taken inside a
    /// container (`lxc`, `docker`, `systemd-nspawn`, ...: `Virtualization:`
    /// of a sosreport's `hostnamectl status`), empty otherwise. Its kernel
    /// log is the host's: kernel-log findings about devices the container
    /// does not have are the host's, at info, never its causes.
    pub container: String,
}

/// Everything parsed from one snapshot. Serialised (without the raw kernel
/// log entries) this is the `facts` variable of rule conditions.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct Facts {
    /// Host identity.
    pub host: HostFacts,
    /// Canonical names of every input present.
    pub inputs: Vec<String>,
    /// The kernel log.
    pub kernel_log: KernelLog,
    /// Neighbour tables.
    pub neigh: Neighbours,
    /// Network state: addresses, links, routes, neighbours, rules.
    pub net: NetFacts,
    /// Packet captures: one summary per capture input, joined with the
    /// host's connected subnets.
    pub capture: capture::CaptureFacts,
    /// Packets the kernel dropped during the capture window, and why
    /// (`skb:kfree_skb` events).
    pub drops: drops::DropFacts,
    /// Software RAID (md) arrays.
    pub md: MdFacts,
    /// Mounts, filesystem usage, block devices, quota tools.
    pub fs: FsFacts,
    /// Results of active probes (`probe/*.json`), when they were run.
    pub probe: probe::ProbeFacts,
    /// What changed since the baseline, when one was given.
    pub baseline: baseline::BaselineFacts,
    /// Failed services, their logs, and the paths their users cannot reach.
    pub services: services::ServiceFacts,
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
                oom: vec![memory::OomMemory::default()],
                ..KernelLog::default()
            },
            neigh: Neighbours {
                caches: vec![NeighCacheStats::default()],
                ..Neighbours::default()
            },
            net: NetFacts::schema_sample(),
            capture: capture::CaptureFacts::schema_sample(),
            drops: drops::DropFacts::schema_sample(),
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
            probe: probe::ProbeFacts::schema_sample(),
            baseline: baseline::BaselineFacts {
                changes: vec![baseline::Change::default()],
                ..baseline::BaselineFacts::default()
            },
            services: services::ServiceFacts::schema_sample(),
            ..Facts::default()
        }
    }

    /// Parses every input of `snapshot`; what cannot be used becomes a note.
    pub fn from_snapshot(snapshot: &Snapshot) -> (Facts, Vec<Note>) {
        Self::from_snapshot_with(snapshot, None)
    }

    /// [`Facts::from_snapshot`]; of a large kernel log, only the entries
    /// `filter` needs are kept (`facts::kernel_stream`), the others
    /// counted.
    pub fn from_snapshot_with(
        snapshot: &Snapshot,
        filter: Option<&kernel_stream::LineFilter>,
    ) -> (Facts, Vec<Note>) {
        let mut facts = Facts {
            host: HostFacts {
                hostname: snapshot.host().unwrap_or_default(),
                kernel: snapshot.kernel().unwrap_or_default(),
                container: snapshot
                    .text(HOSTNAMECTL)
                    .and_then(|text| crate::parse::hostnamectl::container(&text))
                    .map(|(technology, _)| technology)
                    .unwrap_or_default(),
            },
            inputs: snapshot.inputs.keys().cloned().collect(),
            ..Facts::default()
        };
        let mut notes = Vec::new();
        // The source's own word on an input it cut (sos's tail of a large
        // log) says more than the generic note.
        notes.extend(snapshot.notes.iter().cloned());
        for (name, input) in &snapshot.inputs {
            if input.truncated && !snapshot.notes.iter().any(|n| n.input == *name) {
                notes.push(Note::input(
                    name,
                    "input was larger than the size limit and was cut",
                ));
            }
        }

        let (mut entries, inputs, boots) =
            kernel_sources::assemble_with(snapshot, filter, &mut notes);
        kernel_sources::leave_out_collection_artefacts(&mut entries, snapshot, &mut notes);
        if let Some(since) = snapshot.since {
            kernel_sources::keep_since(&mut entries, since, &mut notes);
        }
        events::group(&mut entries);
        facts.kernel_log.oom = memory::dumps(&entries);
        facts.kernel_log.entries = entries;
        facts.kernel_log.inputs = inputs;
        facts.kernel_log.boots = boots;
        facts.kernel_log.collected_us = snapshot
            .collected_at()
            .and_then(|at| at.parse::<jiff::Timestamp>().ok())
            .map(|at| at.as_microsecond());
        facts.kernel_log.count = facts
            .kernel_log
            .entries
            .iter()
            .map(|e| 1 + e.elided.as_ref().map_or(0, |e| e.entries as usize))
            .sum();

        for table in ["arp_cache", "ndisc_cache"] {
            let name = format!("proc/net/stat/{table}");
            if let Some(text) = snapshot.text(&name) {
                let (stats, more) = parse_neigh_cache_stats(&name, table, &text);
                notes.extend(more);
                let Some(mut stats) = stats else { continue };
                let end = format!("{name}.end");
                if let Some(text) = snapshot.text(&end) {
                    let (later, more) = parse_neigh_cache_stats(&end, table, &text);
                    notes.extend(more);
                    if let Some(later) = later {
                        stats.sampled_twice = true;
                        stats.table_fulls_growth =
                            later.table_fulls.saturating_sub(stats.table_fulls);
                        if stats.table_fulls_growth > 0 {
                            stats.excerpt.push_str(&format!(
                                "; table_fulls grew by {} during collection ({} at the end)",
                                stats.table_fulls_growth, later.table_fulls
                            ));
                        }
                    }
                }
                facts.neigh.caches.push(stats);
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

        netview::fill(&mut facts, snapshot, &mut notes);
        capture::fill(&mut facts, snapshot, &mut notes);
        facts.drops = drops::from_snapshot(snapshot, &mut notes);

        facts.md = md::from_snapshot(snapshot, &mut notes);
        facts.fs = fs::from_snapshot(snapshot, &mut notes);
        probe_facts(&mut facts, snapshot, &mut notes);
        facts.baseline = baseline::compare(snapshot, &facts, &mut notes);
        services::fill(&mut facts, snapshot, &mut notes);
        (facts, notes)
    }
}

/// Fills `facts.probe` from the snapshot's `probe/*.json` inputs: after
/// [`Facts::from_snapshot`], when the probes ran on its facts (the rest
/// of the facts does not depend on them).
pub fn probe_facts(facts: &mut Facts, snapshot: &Snapshot, notes: &mut Vec<Note>) {
    facts.probe = probe::from_snapshot(snapshot, notes);
    probe::place_resolvers(&mut facts.probe, &facts.net);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::snapshot::CollectOptions;
    use crate::source::LiveHost;

    /// A NetworkManager keyfile as NetworkManager 1.42 (RHEL 9) writes it,
    /// with a Wi-Fi password and a VPN secret.
    const KEYFILE: &str = "[connection]\nid=office\ntype=wifi\ninterface-name=wlan0\n\n[wifi-security]\nkey-mgmt=wpa-psk\npsk=hunter2hunter2\n\n[ipv4]\naddress1=192.0.2.44/24,192.0.2.1\nmethod=manual\n\n[vpn-secrets]\nsome-token=abc123\n";

    #[test]
    fn keyfile_secrets_never_reach_the_snapshot() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("etc/NetworkManager/system-connections");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("office.nmconnection"), KEYFILE).expect("write");
        let snapshot = Snapshot::collect(
            &LiveHost::with_root(root.path()),
            &CollectOptions::default(),
        );
        let text = snapshot
            .text("etc/NetworkManager/system-connections/office.nmconnection")
            .expect("collected")
            .into_owned();
        assert!(
            !text.contains("hunter2") && !text.contains("abc123"),
            "{text}"
        );
        assert!(text.contains("psk=<redacted by diag>\n"), "{text}");
        assert!(
            text.contains("address1=192.0.2.44/24,192.0.2.1\n"),
            "{text}"
        );
        let (config, _) = netconfig::from_snapshot(&snapshot);
        assert_eq!(config.expected[0].address.to_string(), "192.0.2.44");
    }
}
