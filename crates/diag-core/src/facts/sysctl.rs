//! Network sysctls from `/proc/sys/net/...`: forwarding, reverse-path
//! filtering and ARP behaviour per interface, SYN-cookie and backlog
//! settings, the conntrack limit.
//!
//! Each file holds one integer. For `rp_filter`, `arp_ignore` and
//! `arp_announce` the kernel applies the larger of `conf/all/<name>` and
//! `conf/<iface>/<name>` (`IN_DEV_MAXCONF` in `include/linux/inetdevice.h`),
//! so an interface set to 0 still filters when `all` is 1: the effective
//! values are worked out here. `forwarding` is per interface only (writing
//! `all` copies the value to every interface).

use crate::model::Note;
use crate::parse::net::sysctl::{parse_sysctl_integer, Setting};
use crate::source::snapshot::Snapshot;
use serde::Serialize;
use std::collections::BTreeMap;

/// The `net.ipv4.conf.<iface>.*` (and `net.ipv6.conf.<iface>.forwarding`)
/// settings of one interface, or of the `all` and `default` pseudo
/// interfaces. A setting is `None` when its file was not in the snapshot
/// or did not hold an integer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InterfaceConf {
    /// Interface name, or `all` or `default`.
    pub iface: String,
    /// Reverse-path filter: 0 off, 1 strict, 2 loose.
    pub rp_filter: Option<Setting>,
    /// Which ARP requests are answered (0: any local address on any
    /// interface; 1: only addresses on the receiving interface; ...).
    pub arp_ignore: Option<Setting>,
    /// Which source address ARP requests use (0: any; 1, 2: prefer the
    /// outgoing interface's addresses).
    pub arp_announce: Option<Setting>,
    /// IPv4 forwarding on this interface.
    pub forwarding: Option<Setting>,
    /// IPv6 forwarding on this interface.
    pub forwarding6: Option<Setting>,
    /// The rp_filter the kernel applies: max(all, iface). `None` for `all`
    /// and `default`, or when either value is unknown.
    pub effective_rp_filter: Option<i64>,
    /// The arp_ignore the kernel applies: max(all, iface).
    pub effective_arp_ignore: Option<i64>,
    /// The arp_announce the kernel applies: max(all, iface).
    pub effective_arp_announce: Option<i64>,
}

/// The network sysctls of a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetSysctls {
    /// Canonical names of the files used.
    pub inputs: Vec<String>,
    /// `net.ipv4.ip_forward`.
    pub ip_forward: Option<Setting>,
    /// `net.ipv4.tcp_syncookies` (0 off, 1 when the SYN queue overflows,
    /// 2 always).
    pub tcp_syncookies: Option<Setting>,
    /// `net.ipv4.tcp_max_syn_backlog`: half-open connections per listener.
    pub tcp_max_syn_backlog: Option<Setting>,
    /// `net.core.somaxconn`: the cap on a listener's accept queue.
    pub somaxconn: Option<Setting>,
    /// `net.netfilter.nf_conntrack_max`.
    pub nf_conntrack_max: Option<Setting>,
    /// Per-interface settings: `all`, `default`, then interfaces by name.
    pub conf: Vec<InterfaceConf>,
}

impl NetSysctls {
    /// The settings of one interface (or `all`, `default`).
    pub fn conf(&self, iface: &str) -> Option<&InterfaceConf> {
        self.conf.iter().find(|c| c.iface == iface)
    }
}

/// Builds [`NetSysctls`] from `(canonical name, text)` pairs such as
/// `("proc/sys/net/ipv4/conf/eth0/rp_filter", "1\n")`. Names this module
/// does not know are ignored; a file that does not hold one integer is a
/// note.
pub fn parse_net_sysctls<'a, I>(files: I) -> (NetSysctls, Vec<Note>)
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut sysctls = NetSysctls::default();
    let mut notes = Vec::new();
    let mut conf: BTreeMap<String, InterfaceConf> = BTreeMap::new();
    for (name, text) in files {
        let Some(key) = name.trim_start_matches('/').strip_prefix("proc/sys/net/") else {
            continue;
        };
        let slot = match key.split('/').collect::<Vec<_>>().as_slice() {
            ["ipv4", "ip_forward"] => &mut sysctls.ip_forward,
            ["ipv4", "tcp_syncookies"] => &mut sysctls.tcp_syncookies,
            ["ipv4", "tcp_max_syn_backlog"] => &mut sysctls.tcp_max_syn_backlog,
            ["core", "somaxconn"] => &mut sysctls.somaxconn,
            ["netfilter", "nf_conntrack_max"] => &mut sysctls.nf_conntrack_max,
            [family @ ("ipv4" | "ipv6"), "conf", iface, setting] => {
                let field: fn(&mut InterfaceConf) -> &mut Option<Setting> =
                    match (*family, *setting) {
                        ("ipv4", "rp_filter") => |c| &mut c.rp_filter,
                        ("ipv4", "arp_ignore") => |c| &mut c.arp_ignore,
                        ("ipv4", "arp_announce") => |c| &mut c.arp_announce,
                        ("ipv4", "forwarding") => |c| &mut c.forwarding,
                        ("ipv6", "forwarding") => |c| &mut c.forwarding6,
                        _ => continue,
                    };
                field(
                    conf.entry((*iface).to_string())
                        .or_insert_with(|| InterfaceConf {
                            iface: (*iface).to_string(),
                            ..InterfaceConf::default()
                        }),
                )
            }
            _ => continue,
        };
        sysctls.inputs.push(name.to_string());
        match parse_sysctl_integer(name, text) {
            Ok(setting) => *slot = Some(setting),
            Err(note) => notes.push(note),
        }
    }
    let all = conf.get("all").cloned().unwrap_or_default();
    let effective = |own: &Option<Setting>, all: &Option<Setting>| match (own, all) {
        (Some(own), Some(all)) => Some(own.value.max(all.value)),
        _ => None,
    };
    for (name, entry) in conf.iter_mut() {
        if name == "all" || name == "default" {
            continue;
        }
        entry.effective_rp_filter = effective(&entry.rp_filter, &all.rp_filter);
        entry.effective_arp_ignore = effective(&entry.arp_ignore, &all.arp_ignore);
        entry.effective_arp_announce = effective(&entry.arp_announce, &all.arp_announce);
    }
    let mut conf: Vec<InterfaceConf> = conf.into_values().collect();
    crate::sort::sort_by_key(&mut conf, |c| match c.iface.as_str() {
        "all" => (0, String::new()),
        "default" => (1, String::new()),
        other => (2, other.to_string()),
    });
    sysctls.conf = conf;
    crate::sort::sort(&mut sysctls.inputs);
    (sysctls, notes)
}

/// Reads the network sysctls of a snapshot (every `proc/sys/net/` input
/// this module knows).
pub fn from_snapshot(snapshot: &Snapshot) -> (NetSysctls, Vec<Note>) {
    let files: Vec<(&str, std::borrow::Cow<'_, str>)> = snapshot
        .inputs
        .iter()
        .filter(|(name, _)| name.starts_with("proc/sys/net/"))
        .map(|(name, input)| (name.as_str(), input.text()))
        .collect();
    parse_net_sysctls(files.iter().map(|(name, text)| (*name, text.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values as read from a router-like host: forwarding on, strict
    /// rp_filter on `all` (so eth1's 0 does not switch it off), a loose
    /// eth0, ARP flux settings on eth1 (the interface names and values are
    /// made up; the file format is the kernel's one integer and newline).
    fn router() -> Vec<(&'static str, &'static str)> {
        vec![
            ("proc/sys/net/ipv4/ip_forward", "1\n"),
            ("proc/sys/net/ipv4/tcp_syncookies", "1\n"),
            ("proc/sys/net/ipv4/tcp_max_syn_backlog", "2048\n"),
            ("proc/sys/net/core/somaxconn", "4096\n"),
            ("proc/sys/net/netfilter/nf_conntrack_max", "262144\n"),
            ("proc/sys/net/ipv4/conf/all/rp_filter", "1\n"),
            ("proc/sys/net/ipv4/conf/default/rp_filter", "1\n"),
            ("proc/sys/net/ipv4/conf/eth0/rp_filter", "2\n"),
            ("proc/sys/net/ipv4/conf/eth1/rp_filter", "0\n"),
            ("proc/sys/net/ipv4/conf/all/arp_ignore", "0\n"),
            ("proc/sys/net/ipv4/conf/eth1/arp_ignore", "1\n"),
            ("proc/sys/net/ipv4/conf/all/arp_announce", "0\n"),
            ("proc/sys/net/ipv4/conf/eth1/arp_announce", "2\n"),
            ("proc/sys/net/ipv4/conf/all/forwarding", "1\n"),
            ("proc/sys/net/ipv4/conf/eth0/forwarding", "1\n"),
            ("proc/sys/net/ipv6/conf/eth0/forwarding", "0\n"),
            ("proc/sys/net/ipv4/neigh/default/gc_thresh3", "1024\n"),
            ("proc/sys/net/ipv4/conf/eth0/accept_redirects", "1\n"),
        ]
    }

    #[test]
    fn effective_values_are_the_max_of_all_and_the_interface() {
        let (sysctls, notes) = parse_net_sysctls(router());
        assert!(notes.is_empty(), "{notes:?}");
        let names: Vec<&str> = sysctls.conf.iter().map(|c| c.iface.as_str()).collect();
        assert_eq!(names, ["all", "default", "eth0", "eth1"]);
        let eth0 = sysctls.conf("eth0").expect("eth0");
        let eth1 = sysctls.conf("eth1").expect("eth1");
        assert_eq!(eth0.effective_rp_filter, Some(2));
        assert_eq!(eth1.rp_filter.as_ref().map(|s| s.value), Some(0));
        assert_eq!(eth1.effective_rp_filter, Some(1));
        assert_eq!(
            (eth1.effective_arp_ignore, eth1.effective_arp_announce),
            (Some(1), Some(2))
        );
        // eth0 has no arp_ignore file: unknown, not 0.
        assert_eq!(eth0.effective_arp_ignore, None);
        assert_eq!(sysctls.conf("all").expect("all").effective_rp_filter, None);
        assert_eq!(eth0.forwarding6.as_ref().map(|s| s.value), Some(0));
        let forward = sysctls.ip_forward.as_ref().expect("ip_forward");
        assert_eq!(
            (
                forward.value,
                forward.input.as_str(),
                forward.line,
                forward.excerpt.as_str()
            ),
            (1, "proc/sys/net/ipv4/ip_forward", 1, "1")
        );
        assert_eq!(sysctls.somaxconn.as_ref().map(|s| s.value), Some(4096));
        assert_eq!(
            sysctls.tcp_max_syn_backlog.as_ref().map(|s| s.value),
            Some(2048)
        );
        assert_eq!(
            sysctls.nf_conntrack_max.as_ref().map(|s| s.value),
            Some(262144)
        );
        // Known names only; gc_thresh3 and accept_redirects are not ours.
        assert_eq!(sysctls.inputs.len(), 16);
    }

    #[test]
    fn non_integers_are_notes_and_the_rest_is_used() {
        let files = [
            ("proc/sys/net/ipv4/ip_forward", "yes\n"),
            ("proc/sys/net/ipv4/conf/all/rp_filter", ""),
            ("proc/sys/net/ipv4/conf/eth0/rp_filter", "1 2\n"),
            ("proc/sys/net/ipv4/conf/eth0/arp_ignore", "1"),
            ("proc/sys/net/core/somaxconn", "40"), // cut: "4096" was cut short
            ("proc/sys/net/ipv4/tcp_syncookies", "\u{0}\u{fffd}"),
        ];
        let (sysctls, notes) = parse_net_sysctls(files);
        let noted: Vec<&str> = notes.iter().map(|n| n.input.as_str()).collect();
        assert_eq!(
            noted,
            [
                "proc/sys/net/ipv4/ip_forward",
                "proc/sys/net/ipv4/conf/all/rp_filter",
                "proc/sys/net/ipv4/conf/eth0/rp_filter",
                "proc/sys/net/ipv4/tcp_syncookies",
            ]
        );
        assert!(notes.iter().all(|n| n.line == Some(1)));
        assert!(notes[0].message.contains("\"yes\""), "{}", notes[0].message);
        assert!(sysctls.ip_forward.is_none());
        let eth0 = sysctls.conf("eth0").expect("eth0");
        assert!(eth0.rp_filter.is_none() && eth0.effective_rp_filter.is_none());
        assert_eq!(eth0.arp_ignore.as_ref().map(|s| s.value), Some(1));
        // A value cut short cannot be told from a real one.
        assert_eq!(sysctls.somaxconn.as_ref().map(|s| s.value), Some(40));
        let long = "9".repeat(100);
        let note = parse_sysctl_integer("x", &long).expect_err("overflow");
        assert!(note.message.len() < 80, "{}", note.message);
    }

    #[test]
    fn from_snapshot_reads_net_sysctls_only() {
        let mut files = router();
        files.push(("proc/sys/kernel/hostname", "box\n"));
        let snapshot = Snapshot::from_inputs(files);
        let (sysctls, notes) = from_snapshot(&snapshot);
        assert!(notes.is_empty());
        assert_eq!(sysctls, parse_net_sysctls(router()).0);
    }
}
