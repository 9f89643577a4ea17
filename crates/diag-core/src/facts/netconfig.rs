//! The host's *expected* network state: every network-configuration input
//! of a snapshot, read with its parser of [`crate::parse::netconfig`] (one
//! per format) and merged into one [`NetConfig`]: the addresses the
//! configuration says the host should carry, its nameservers and its
//! `/etc/hosts` entries.
//!
//! [`from_snapshot`] decides which input each parser reads (backup files
//! and non-`.yaml` netplan files are notes, not inputs), in which order
//! the formats count, and keeps one [`ExpectedAddress`] per address: the
//! first occurrence wins (the interface configuration before cPanel's
//! lists); every later occurrence is kept as evidence in its
//! [`ExpectedAddress::also`], so no line is lost.

use crate::model::{Evidence, Note};
use crate::parse::netconfig::hosts::{parse_hosts, HostsEntry};
use crate::parse::netconfig::ifupdown::{ifupdown_file, IfupdownFile};
use crate::parse::netconfig::resolv::{parse_resolv_conf, Nameserver};
use crate::parse::netconfig::{cpanel, ifcfg, netplan, networkd, networkmanager, ExpectedAddress};
use crate::source::snapshot::Snapshot;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// Everything the network configuration of one snapshot says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetConfig {
    /// Addresses the host should carry, one per address, in the order of
    /// [`from_snapshot`].
    pub expected: Vec<ExpectedAddress>,
    /// Resolvers from `/etc/resolv.conf`, in file order.
    pub nameservers: Vec<Nameserver>,
    /// `/etc/hosts` entries, in file order.
    pub hosts: Vec<HostsEntry>,
}

/// The configuration formats, in the order [`from_snapshot`] prefers them
/// when the same address is in several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Format {
    Ifcfg,
    Ifupdown,
    Netplan,
    Networkd,
    NetworkManager,
    CpanelIps,
    CpanelIpaddrpool,
}

const NETPLAN_DIR: &str = "etc/netplan/";
const IFCFG_DIR: &str = "etc/sysconfig/network-scripts/";
const NETWORKD_DIR: &str = "etc/systemd/network/";
const NM_DIR: &str = "etc/NetworkManager/system-connections/";
const INTERFACES: &str = "etc/network/interfaces";
const INTERFACES_D: &str = "etc/network/interfaces.d/";

/// A file in `dir` itself (not below it).
fn file_in<'n>(name: &'n str, dir: &str) -> Option<&'n str> {
    name.strip_prefix(dir)
        .filter(|f| !f.is_empty() && !f.contains('/'))
}

/// Backup and editor files that initscripts (`is_ignored_file`) and
/// NetworkManager skip.
fn is_backup(file: &str) -> bool {
    file.starts_with('.')
        || file.ends_with('~')
        || [
            ".bak",
            ".old",
            ".orig",
            ".rej",
            ".swp",
            ".tmp",
            ".rpmnew",
            ".rpmorig",
            ".rpmsave",
            ".dpkg-old",
            ".dpkg-new",
            ".dpkg-dist",
        ]
        .iter()
        .any(|suffix| file.ends_with(suffix))
}

/// Which parser reads the input `name`, or why none does.
fn classify(name: &str) -> Option<Result<Format, &'static str>> {
    if name == "etc/ips" {
        return Some(Ok(Format::CpanelIps));
    }
    if name == "etc/ipaddrpool" {
        return Some(Ok(Format::CpanelIpaddrpool));
    }
    if name == INTERFACES || file_in(name, INTERFACES_D).is_some() {
        return Some(Ok(Format::Ifupdown));
    }
    if let Some(file) = file_in(name, NETPLAN_DIR) {
        return Some(if file.ends_with(".yaml") {
            Ok(Format::Netplan)
        } else {
            Err("netplan reads only *.yaml files: not used")
        });
    }
    if let Some(file) = file_in(name, IFCFG_DIR) {
        if !file.starts_with("ifcfg-") {
            return None;
        }
        return Some(if is_backup(file) {
            Err("backup file, skipped by the network scripts: not used")
        } else {
            Ok(Format::Ifcfg)
        });
    }
    if let Some(file) = file_in(name, NETWORKD_DIR) {
        return file.ends_with(".network").then_some(Ok(Format::Networkd));
    }
    if let Some(file) = file_in(name, NM_DIR) {
        return Some(if is_backup(file) {
            Err("backup file, skipped by NetworkManager: not used")
        } else {
            Ok(Format::NetworkManager)
        });
    }
    None
}

/// Reads every network-configuration input of `snapshot` (canonical names
/// as in `crate::source::inputs::INPUTS`) into one [`NetConfig`].
///
/// Expected addresses are ordered by format: ifcfg, ifupdown, netplan,
/// networkd, NetworkManager, then cPanel's `etc/ips` and `etc/ipaddrpool`
/// (the interface configuration names a device and a prefix, cPanel's
/// lists do not); within a format by input name, then line. One entry is
/// kept per address: the first; later occurrences go into its `also`, and
/// it is `on_boot` when any occurrence is.
///
/// For ifupdown, `auto`/`allow-*` lines of every ifupdown file count. When
/// `etc/network/interfaces` exists and sources nothing under
/// `interfaces.d`, each `interfaces.d` file gets a note and its addresses
/// are not `on_boot` (ifupdown never reads them). Backup files (`*.bak`,
/// `*~`, `*.rpmsave`, ...) in the ifcfg and NetworkManager directories,
/// and non-`.yaml` files in `etc/netplan`, are notes and are not read.
pub fn from_snapshot(snapshot: &Snapshot) -> (NetConfig, Vec<Note>) {
    let mut config = NetConfig::default();
    let mut notes = Vec::new();
    let mut found: Vec<(Format, ExpectedAddress)> = Vec::new();
    let mut ifupdown: Vec<(String, IfupdownFile)> = Vec::new();

    for (name, input) in &snapshot.inputs {
        let format = match classify(name) {
            None => continue,
            Some(Err(why)) => {
                notes.push(Note::input(name, why));
                continue;
            }
            Some(Ok(format)) => format,
        };
        let text = input.text();
        let parser = match format {
            Format::Ifupdown => {
                ifupdown.push((name.clone(), ifupdown_file(name, &text)));
                continue;
            }
            Format::Ifcfg => ifcfg::parse_ifcfg,
            Format::Netplan => netplan::parse_netplan,
            Format::Networkd => networkd::parse_networkd,
            Format::NetworkManager => networkmanager::parse_networkmanager,
            Format::CpanelIps => cpanel::parse_cpanel_ips,
            Format::CpanelIpaddrpool => cpanel::parse_cpanel_ipaddrpool,
        };
        let (addresses, more) = parser(name, &text);
        found.extend(addresses.into_iter().map(|a| (format, a)));
        notes.extend(more);
    }

    let auto: BTreeSet<&String> = ifupdown.iter().flat_map(|(_, f)| &f.auto).collect();
    let interfaces_d_sourced = ifupdown
        .iter()
        .find(|(name, _)| name == INTERFACES)
        .is_none_or(|(_, f)| f.sources.iter().any(|s| s.contains("interfaces.d")));
    for (name, file) in &ifupdown {
        let unread = !interfaces_d_sourced && name.starts_with(INTERFACES_D);
        if unread {
            notes.push(Note::input(
                name,
                "etc/network/interfaces sources nothing under interfaces.d: ifupdown does not read this file",
            ));
        }
        notes.extend(file.notes.iter().cloned());
        for (stanza, address) in &file.addresses {
            let mut address = address.clone();
            address.on_boot = !unread && auto.contains(stanza);
            found.push((Format::Ifupdown, address));
        }
    }
    // Stable: keeps input-name and line order within a format.
    crate::sort::sort_by(&mut found, |(fa, a), (fb, b)| {
        fa.cmp(fb).then_with(|| a.input.cmp(&b.input))
    });

    let mut first: HashMap<IpAddr, usize> = HashMap::new();
    for (_, address) in found {
        match first.get(&address.address) {
            Some(&index) => {
                let kept = &mut config.expected[index];
                kept.on_boot |= address.on_boot;
                kept.also.push(Evidence {
                    input: address.input,
                    line: Some(address.line),
                    line_end: None,
                    excerpt: address.excerpt,
                });
            }
            None => {
                first.insert(address.address, config.expected.len());
                config.expected.push(address);
            }
        }
    }

    if let Some(text) = snapshot.text("etc/resolv.conf") {
        let (nameservers, more) = parse_resolv_conf("etc/resolv.conf", &text);
        config.nameservers = nameservers;
        notes.extend(more);
    }
    if let Some(text) = snapshot.text("etc/hosts") {
        let (hosts, more) = parse_hosts("etc/hosts", &text);
        config.hosts = hosts;
        notes.extend(more);
    }
    (config, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The founding incident's host: CentOS with cPanel, main address in
    /// ifcfg-eth0, an alias file, the rest in /etc/ips, one of them also
    /// in /etc/ipaddrpool, and a backup file that must not count.
    #[test]
    fn from_snapshot_gathers_every_format() {
        let snapshot = Snapshot::from_inputs([
            (
                "etc/sysconfig/network-scripts/ifcfg-eth0",
                "DEVICE=eth0\nONBOOT=yes\nIPADDR=192.0.2.10\nNETMASK=255.255.255.0\n",
            ),
            (
                "etc/sysconfig/network-scripts/ifcfg-eth0:1",
                "DEVICE=eth0:1\nONBOOT=yes\nIPADDR=192.0.2.11\nNETMASK=255.255.255.0\n",
            ),
            (
                "etc/sysconfig/network-scripts/ifcfg-eth0:1.bak",
                "DEVICE=eth0:1\nIPADDR=192.0.2.99\n",
            ),
            (
                "etc/sysconfig/network-scripts/ifup-aliases",
                "#!/bin/bash\n",
            ),
            (
                "etc/ips",
                "192.0.2.11:255.255.255.0:192.0.2.255\n192.0.2.12:255.255.255.0:192.0.2.255\n127.0.0.2\n",
            ),
            ("etc/ipaddrpool", "192.0.2.12\n"),
            ("etc/netplan/01-netcfg.yaml.orig", "network: {}\n"),
            ("etc/netplan/broken.yaml", "network: [\n"),
            ("etc/resolv.conf", "nameserver 192.0.2.53\n"),
            ("etc/hosts", "127.0.0.1 localhost\n192.0.2.10 host.example.com host\n"),
            ("proc/net/route", "Iface\n"),
        ]);
        let (config, notes) = from_snapshot(&snapshot);
        let got: Vec<(String, &str, &str, usize)> = config
            .expected
            .iter()
            .map(|a| {
                (
                    a.address.to_string(),
                    a.origin.as_str(),
                    a.interface.as_str(),
                    a.also.len(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("192.0.2.10".into(), "ifcfg", "eth0", 0),
                ("192.0.2.11".into(), "ifcfg", "eth0:1", 1),
                ("192.0.2.12".into(), "cpanel-ips", "", 1),
            ]
        );
        assert_eq!(
            config.expected[1].also,
            vec![Evidence {
                input: "etc/ips".into(),
                line: Some(1),
                line_end: None,
                excerpt: "192.0.2.11:255.255.255.0:192.0.2.255".into(),
            }]
        );
        assert_eq!(config.expected[2].also[0].input, "etc/ipaddrpool");
        assert_eq!(config.nameservers.len(), 1);
        assert_eq!(config.hosts.len(), 2);
        let mut named: Vec<&str> = notes.iter().map(|n| n.input.as_str()).collect();
        named.sort_unstable();
        assert_eq!(
            named,
            vec![
                "etc/netplan/01-netcfg.yaml.orig",
                "etc/netplan/broken.yaml",
                "etc/sysconfig/network-scripts/ifcfg-eth0:1.bak",
            ]
        );

        let json = serde_json::to_value(&config).expect("json");
        assert_eq!(json["expected"][0]["address"], "192.0.2.10");
        assert_eq!(json["nameservers"][0]["address"], "192.0.2.53");
    }

    #[test]
    fn from_snapshot_ifupdown_auto_lines_count_across_files() {
        let snapshot = Snapshot::from_inputs([
            (
                "etc/network/interfaces",
                "source /etc/network/interfaces.d/*\nauto lo eth0 eth0:1\niface lo inet loopback\n",
            ),
            (
                "etc/network/interfaces.d/eth0",
                "iface eth0 inet static\n  address 192.0.2.10/24\niface eth0:1 inet static\n  address 192.0.2.11/24\niface eth0:2 inet static\n  address 192.0.2.12/24\n",
            ),
        ]);
        let (config, notes) = from_snapshot(&snapshot);
        assert!(notes.is_empty(), "{notes:?}");
        let on_boot: Vec<(String, bool)> = config
            .expected
            .iter()
            .map(|a| (a.address.to_string(), a.on_boot))
            .collect();
        assert_eq!(
            on_boot,
            vec![
                ("192.0.2.10".into(), true),
                ("192.0.2.11".into(), true),
                ("192.0.2.12".into(), false),
            ]
        );

        // interfaces.d not sourced: ifupdown never reads it.
        let snapshot = Snapshot::from_inputs([
            ("etc/network/interfaces", "auto eth0\n"),
            (
                "etc/network/interfaces.d/eth0",
                "iface eth0 inet static\n  address 192.0.2.10/24\n",
            ),
        ]);
        let (config, notes) = from_snapshot(&snapshot);
        assert!(!config.expected[0].on_boot);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].input, "etc/network/interfaces.d/eth0");
    }
}
