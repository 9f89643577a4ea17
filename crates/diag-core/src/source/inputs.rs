//! The input catalogue: every input diag reads, by canonical name, with
//! which end to keep when it is too large, how many rotations of a log,
//! and the redaction applied as it is collected (secrets never reach a
//! bundle). [`crate::source::snapshot::Snapshot::collect`] reads what it
//! lists; the parsers and facts only look inputs up by these names.

use super::Keep;

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
        crate::sort::sort_by(names, |a, b| {
            let ka = rotation_key(base, a);
            let kb = rotation_key(base, b);
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

/// Kernel logs: never cut, read in one pass (see [`Keep::Stream`]).
const fn stream(pattern: &'static str) -> InputSpec {
    InputSpec {
        pattern,
        keep: Keep::Stream,
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
    // A sosreport's: whether it was taken in a container (facts::HOSTNAMECTL).
    head("commands/hostnamectl_status"),
    head("proc/uptime"),
    head("proc/stat"),
    head("etc/localtime"),
    stream("dev/kmsg"),
    stream("commands/dmesg"),
    stream("commands/journalctl_--boot"),
    stream("var/log/kern.log*").newest(4),
    stream("var/log/syslog*").newest(4),
    stream("var/log/messages*").newest(4),
    stream("sys/fs/pstore/dmesg-*"),
    stream("var/crash/*/vmcore-dmesg.txt").newest(4),
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
    // A sosreport's socket listings, for a tree without `proc/net`
    // (`facts::sockets::SOCKET_LISTINGS`).
    head("commands/ss_-peaonmi"),
    head("commands/netstat_-neopa"),
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
    head("proc/net/softnet_stat"),
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
    // Kernel drop events of the capture window (`source::tracing` writes
    // them on a live host; `facts::drops` reads them).
    head("trace/kfree_skb.txt"),
    head("trace/kfree_skb.format"),
    head("trace/kfree_skb.stats"),
    head("trace/kfree_skb.counts"),
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
    // A sosreport's: its collection window and the block devices then
    // (collection artefacts in the kernel log, facts::kernel_sources).
    head("sos_reports/manifest.json"),
    // sos 3.x has no manifest: the window from its own log (its start
    // kept when it is large; `facts::kernel_sources::SOS_LOG`).
    head("sos_logs/sos.log"),
    head("commands/losetup_-a"),
    head("commands/lsblk"),
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
    // Written only by `diag collect --probe` / `check --probe` (the probe module).
    head("probe/*.json"),
    // Services and baselines (`facts::services`, `facts::baseline`).
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
pub const RESAMPLED: &[&str] = &[
    "proc/net/stat/arp_cache",
    "proc/net/stat/ndisc_cache",
    "proc/net/snmp",
    "proc/net/netstat",
    "proc/net/softnet_stat",
];

/// Sort key of a rotated log: oldest first. `-YYYYMMDD` (dateext) files by
/// date, then `.N` files from the highest N down, then the live file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RotationKey {
    /// `messages-20140210[.gz]`.
    Dated(String),
    /// `kern.log.3[.gz]`: the `u64` is `u64::MAX - N` so higher N sorts first.
    Numbered(u64),
    /// The file being written.
    Live,
}

/// The rotation key of `name` if it is `base` or one of its rotations.
pub fn rotation_key(base: &str, name: &str) -> Option<RotationKey> {
    let rest = name.strip_prefix(base)?;
    if rest.is_empty() {
        return Some(RotationKey::Live);
    }
    let rest = rest.strip_suffix(".gz").unwrap_or(rest);
    if let Some(n) = rest.strip_prefix('.').and_then(|n| n.parse::<u64>().ok()) {
        return Some(RotationKey::Numbered(u64::MAX - n));
    }
    if let Some(date) = rest.strip_prefix('-') {
        if !date.is_empty() && date.chars().all(|c| c.is_ascii_digit()) {
            return Some(RotationKey::Dated(date.to_string()));
        }
    }
    None
}

/// The web servers diag reads, with their configuration inputs, in order
/// (an `envvars` file first).
pub const SERVERS: &[(&str, &[&str])] = &[
    (
        "apache2",
        &[
            "etc/apache2/envvars",
            "etc/apache2/apache2.conf",
            "etc/apache2/ports.conf",
            "etc/apache2/conf-enabled/*",
            "etc/apache2/sites-enabled/*",
        ],
    ),
    (
        "httpd",
        &["etc/httpd/conf/httpd.conf", "etc/httpd/conf.d/*"],
    ),
    (
        "nginx",
        &[
            "etc/nginx/nginx.conf",
            "etc/nginx/conf.d/*",
            "etc/nginx/sites-enabled/*",
        ],
    ),
];

/// Error logs, per server.
pub const ERROR_LOGS: &[&str] = &[
    "var/log/apache2/error.log*",
    "var/log/httpd/error_log*",
    "var/log/nginx/error.log*",
];
