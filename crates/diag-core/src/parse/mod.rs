//! Parse: raw inputs to typed facts.
//!
//! Each parser is a pure function over text. [`Facts::from_snapshot`] runs
//! the right parser on every input of a snapshot and gathers the facts and
//! the notes (lines that could not be used). [`INPUTS`] lists every input a
//! parser knows: it is what `diag collect` reads and what a bundle holds.

pub mod baseline;
pub mod counters;
pub mod events;
pub mod fs;
pub mod json_records;
pub mod kernel_log;
pub mod kernel_sources;
pub mod md;
pub mod mdstat;
pub mod net;
pub mod netconfig;
pub mod netstate;
pub mod nettext;
pub mod netview;
pub mod probe;
pub mod services;
pub mod sockets;
pub mod sysctl;

use crate::model::Note;
use crate::snapshot::Snapshot;
use crate::source::Keep;
use fs::{BlockDevice, FsFacts, FsUsage, Mount, QuotaProcess};
use kernel_log::LogEntry;
use md::{MdArray, MdFacts, MdMember};
use net::NeighCacheStats;
use netview::NetFacts;
use serde::Serialize;

/// Rewrites an input's bytes as they are collected.
pub type Redact = fn(&[u8]) -> Vec<u8>;

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
    /// Rewrites the input as it is collected, so secrets it holds never
    /// reach a bundle (NetworkManager keyfiles keep Wi-Fi and VPN
    /// passwords next to the addresses diag needs).
    pub redact: Option<Redact>,
}

impl InputSpec {
    const fn redacted(self, redact: Redact) -> Self {
        InputSpec {
            redact: Some(redact),
            ..self
        }
    }

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
        redact: None,
    }
}

const fn tail(pattern: &'static str) -> InputSpec {
    InputSpec {
        pattern,
        keep: Keep::Tail,
        newest: None,
        redact: None,
    }
}

/// Captures: never cut (see [`Keep::Whole`]).
const fn whole(pattern: &'static str) -> InputSpec {
    InputSpec {
        pattern,
        keep: Keep::Whole,
        newest: None,
        redact: None,
    }
}

/// Every input the parsers know, in collection order.
pub const INPUTS: &[InputSpec] = &[
    head("proc/sys/kernel/hostname"),
    head("proc/sys/kernel/osrelease"),
    head("proc/uptime"),
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
    head("net/link.json"),
    head("net/addr.json"),
    head("net/route.json"),
    head("net/route6.json"),
    head("net/neigh.json"),
    head("net/rule.json"),
    head("net/rule6.json"),
    head("proc/net/route"),
    head("proc/net/ipv6_route"),
    head("proc/net/arp"),
    head("commands/ip_*"),
    head("sys/class/net/*/flags"),
    head("sys/class/net/*/speed"),
    head("sys/class/net/*/duplex"),
    head("proc/net/tcp"),
    head("proc/net/tcp6"),
    head("proc/net/udp"),
    head("proc/net/udp6"),
    head("proc/sys/net/ipv4/ip_forward"),
    head("proc/sys/net/ipv4/conf/*/rp_filter"),
    head("proc/sys/net/ipv4/conf/*/arp_ignore"),
    head("proc/sys/net/ipv4/conf/*/arp_announce"),
    head("proc/sys/net/ipv4/conf/*/forwarding"),
    head("proc/sys/net/ipv6/conf/*/forwarding"),
    head("proc/sys/net/ipv4/tcp_syncookies"),
    head("proc/sys/net/ipv4/tcp_max_syn_backlog"),
    head("proc/sys/net/core/somaxconn"),
    head("proc/sys/net/netfilter/nf_conntrack_max"),
    head("proc/sys/net/netfilter/nf_conntrack_count"),
    head("proc/net/snmp"),
    head("proc/net/netstat"),
    head("proc/net/dev"),
    head("etc/ips"),
    head("etc/ipaddrpool"),
    head("etc/network/interfaces"),
    head("etc/network/interfaces.d/*"),
    head("etc/netplan/*"),
    head("etc/sysconfig/network-scripts/ifcfg-*"),
    head("etc/systemd/network/*.network"),
    head("etc/NetworkManager/system-connections/*").redacted(redact_keyfile_secrets),
    head("etc/resolv.conf"),
    head("etc/hosts"),
    whole("capture/*.pcap"),
    whole("capture/*.pcapng"),
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
    head("proc/*/comm"),
    // A live host hands out only quota tools' command lines
    // (`source::storage::cmdline_wanted`): others can hold secrets.
    head("proc/*/cmdline"),
    // Made by statvfs of every mount on a live host (`source::storage`).
    head("fs/statvfs.json"),
    // Written only by `diag collect --probe` / `check --probe` (crate::probe).
    head("probe/*.json"),
    // Services and baselines (`parse::services`, `parse::baseline`).
    head("proc/cmdline"),
    head("etc/passwd"),
    head("etc/group"),
    head("etc/apache2/envvars"),
    head("etc/apache2/apache2.conf"),
    head("etc/apache2/ports.conf"),
    head("etc/apache2/conf-enabled/*"),
    head("etc/apache2/sites-enabled/*"),
    head("etc/httpd/conf/httpd.conf"),
    head("etc/httpd/conf.d/*"),
    head("etc/nginx/nginx.conf"),
    head("etc/nginx/conf.d/*"),
    head("etc/nginx/sites-enabled/*"),
    tail("var/log/apache2/error.log*").newest(2),
    tail("var/log/httpd/error_log*").newest(2),
    tail("var/log/nginx/error.log*").newest(2),
    head("run/*.pid"),
    head("run/*/*.pid"),
    // Made from systemctl/journalctl on a live host (`source::services`).
    head("systemd/list-units.json"),
    head("systemd/show/*"),
    tail("systemd/journal/*"),
    // Made by stat of watched and service paths (`source::services`).
    head("services/paths.json"),
    head("baseline/baseline.json"),
];

/// Replaces the values of secret keys in an INI-style keyfile (`psk=`,
/// `password=`, `wep-key0=`, `pin=`, anything with `secret` or `password`
/// in its name, and every key of a `[vpn-secrets]` section) by
/// `<redacted by diag>`. Everything else is kept byte for byte.
pub fn redact_keyfile_secrets(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut secret_section = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            secret_section = trimmed.to_ascii_lowercase().starts_with("[vpn-secrets");
            out.push_str(line);
            continue;
        }
        let Some((key, _)) = line.split_once('=') else {
            out.push_str(line);
            continue;
        };
        let k = key.trim().to_ascii_lowercase();
        let secret = secret_section
            || k.contains("psk")
            || k.contains("password")
            || k.contains("secret")
            || k.starts_with("wep-key")
            || k == "pin"
            || k == "puk";
        if secret && !trimmed.starts_with('#') {
            out.push_str(key);
            out.push_str("=<redacted by diag>");
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    out.into_bytes()
}

/// Inputs a live collection reads twice, at its start and at its end (the
/// second sample is stored as `NAME.end`): counters whose growth tells
/// what is happening now.
pub const RESAMPLED: &[&str] = &["proc/net/stat/arp_cache", "proc/net/stat/ndisc_cache"];

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
    /// Network state: addresses, links, routes, neighbours, rules.
    pub net: NetFacts,
    /// Packet captures: one summary per capture input, joined with the
    /// host's connected subnets.
    pub capture: crate::capture::CaptureFacts,
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
                ..KernelLog::default()
            },
            neigh: Neighbours {
                caches: vec![NeighCacheStats::default()],
                ..Neighbours::default()
            },
            net: NetFacts::schema_sample(),
            capture: crate::capture::CaptureFacts::schema_sample(),
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
        if let Some(since) = snapshot.since {
            kernel_sources::keep_since(&mut entries, since, &mut notes);
        }
        events::group(&mut entries);
        facts.kernel_log.entries = entries;
        facts.kernel_log.inputs = inputs;
        facts.kernel_log.boots = boots;
        facts.kernel_log.count = facts.kernel_log.entries.len();

        for table in ["arp_cache", "ndisc_cache"] {
            let name = format!("proc/net/stat/{table}");
            if let Some(text) = snapshot.text(&name) {
                let (stats, more) = net::parse_neigh_cache_stats(&name, table, &text);
                notes.extend(more);
                let Some(mut stats) = stats else { continue };
                let end = format!("{name}.end");
                if let Some(text) = snapshot.text(&end) {
                    let (later, more) = net::parse_neigh_cache_stats(&end, table, &text);
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
        crate::capture::fill(&mut facts, snapshot, &mut notes);

        facts.md = md::from_snapshot(snapshot, &mut notes);
        facts.fs = fs::from_snapshot(snapshot, &mut notes);
        facts.probe = probe::from_snapshot(snapshot, &mut notes);
        probe::place_resolvers(&mut facts.probe, &facts.net);
        facts.baseline = baseline::compare(snapshot, &facts, &mut notes);
        services::fill(&mut facts, snapshot, &mut notes);
        (facts, notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::CollectOptions;
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
