//! The host's *expected* network state, read from its configuration: the
//! addresses the configuration says the host should carry, its nameservers
//! and its `/etc/hosts` entries. One file per format an operator would
//! name; the shared pieces (the [`ExpectedAddress`] every address parser
//! yields, CIDR and netmask reading, the INI reader of networkd and
//! NetworkManager) are here.
//!
//! diag's founding incident is a cPanel host whose `ipaliases` script bound
//! only some of its addresses after a reboot and said nothing. Seeing that
//! needs the addresses that *should* be bound beside the ones that are;
//! these parsers supply the first half from every configuration format a
//! Linux server is likely to carry:
//!
//! | file | parser | canonical inputs | `origin` |
//! |------|--------|------------------|----------|
//! | [`cpanel`] | [`parse_cpanel_ips`](cpanel::parse_cpanel_ips) | `etc/ips` | `cpanel-ips` |
//! | [`cpanel`] | [`parse_cpanel_ipaddrpool`](cpanel::parse_cpanel_ipaddrpool) | `etc/ipaddrpool` | `cpanel-ipaddrpool` |
//! | [`ifupdown`] | [`parse_ifupdown`](ifupdown::parse_ifupdown) | `etc/network/interfaces`, `etc/network/interfaces.d/*` | `ifupdown` |
//! | [`netplan`] | [`parse_netplan`](netplan::parse_netplan) | `etc/netplan/*.yaml` | `netplan` |
//! | [`ifcfg`] | [`parse_ifcfg`](ifcfg::parse_ifcfg) | `etc/sysconfig/network-scripts/ifcfg-*` | `ifcfg` |
//! | [`networkd`] | [`parse_networkd`](networkd::parse_networkd) | `etc/systemd/network/*.network` | `networkd` |
//! | [`networkmanager`] | [`parse_networkmanager`](networkmanager::parse_networkmanager) | `etc/NetworkManager/system-connections/*` | `networkmanager` |
//! | [`resolv`] | [`parse_resolv_conf`](resolv::parse_resolv_conf) | `etc/resolv.conf` | (nameservers) |
//! | [`hosts`] | [`parse_hosts`](hosts::parse_hosts) | `etc/hosts` | (hosts entries) |
//!
//! Every parser is pure: text in, typed facts and [`Note`]s out. A line that
//! cannot be used becomes a note naming the input and the line, and the rest
//! of the input is still used. Which inputs are read, in which order, and
//! how the addresses of several files are merged is
//! `diag_core::facts::netconfig`'s job.
//!
//! Decisions that hold for every format:
//!
//! - Loopback (`127.0.0.0/8`, `::1`) and unspecified (`0.0.0.0`, `::`)
//!   addresses are never expected addresses: the first are always on `lo`,
//!   the second mean "any" or "pick one from a pool" (networkd). They are
//!   left out without a note.
//! - An address the configuration holds but does not bring up at boot
//!   (`ONBOOT=no`, an ifupdown stanza no `auto`/`allow-*` line names, a
//!   NetworkManager profile with `autoconnect=false`) is kept, with
//!   [`ExpectedAddress::on_boot`] false: "configured but not brought up at
//!   boot" is itself a likely answer to "why is it not bound after a reboot".
//! - `prefixlen` is `None` when the configuration gives none; no class-based
//!   default is invented.

use crate::model::{Evidence, Note};
use serde::{Serialize, Serializer};
use std::net::{IpAddr, Ipv4Addr};

pub mod cpanel;
pub mod hosts;
pub mod ifcfg;
pub mod ifupdown;
pub mod netplan;
pub mod networkd;
pub mod networkmanager;
pub mod resolv;
#[cfg(test)]
mod samples;

/// One address the configuration says the host should carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedAddress {
    /// The address.
    #[serde(serialize_with = "display")]
    pub address: IpAddr,
    /// Prefix length, when the configuration gives one (CIDR suffix,
    /// `NETMASK`, `PREFIX`, `netmask`).
    pub prefixlen: Option<u8>,
    /// Device or alias label as configured (`eth0`, `eth0:1`); empty when
    /// the format names none (`/etc/ips`). For networkd it is the `[Match]`
    /// `Name=` value as written, which may be a glob (`en*`).
    pub interface: String,
    /// The format: `cpanel-ips`, `cpanel-ipaddrpool`, `ifupdown`,
    /// `netplan`, `ifcfg`, `networkd` or `networkmanager`.
    pub origin: String,
    /// Canonical input name, e.g. `etc/ips`.
    pub input: String,
    /// 1-based line the address is on.
    pub line: u32,
    /// That line, trimmed.
    pub excerpt: String,
    /// Whether the configuration brings the address up at boot. False for
    /// `ONBOOT=no`/`ONPARENT=no` ifcfg files (and their IPv6 addresses when
    /// `IPV6INIT=no`), ifupdown stanzas no `auto`/`allow-*` line names (or
    /// in an `interfaces.d` file that `interfaces` does not source), and
    /// NetworkManager profiles with `autoconnect=false` or `method=disabled`.
    pub on_boot: bool,
    /// Other places the same address is configured (only filled by
    /// `diag_core::facts::netconfig::from_snapshot`, which keeps one entry
    /// per address).
    pub also: Vec<Evidence>,
}

impl Default for ExpectedAddress {
    /// An empty entry (address `0.0.0.0`): the shape rule conditions are
    /// checked against.
    fn default() -> Self {
        ExpectedAddress {
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            prefixlen: None,
            interface: String::new(),
            origin: String::new(),
            input: String::new(),
            line: 0,
            excerpt: String::new(),
            on_boot: false,
            also: Vec::new(),
        }
    }
}

fn display<S: Serializer>(address: &IpAddr, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(address)
}

fn line_u32(line: usize) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

/// Parses `A` or `A/len`.
fn parse_cidr(value: &str) -> Result<(IpAddr, Option<u8>), String> {
    let (addr, len) = match value.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (value, None),
    };
    let address: IpAddr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an IP address"))?;
    let Some(len) = len else {
        return Ok((address, None));
    };
    let max = if address.is_ipv4() { 32 } else { 128 };
    match len.parse::<u8>() {
        Ok(len) if len <= max => Ok((address, Some(len))),
        _ => Err(format!("{len:?} is not a prefix length (0-{max})")),
    }
}

/// A netmask as written in ifupdown, ifcfg, ifconfig or `/etc/ips`:
/// dotted quad (`255.255.255.0`), prefix length (`24`), or ifconfig's hex
/// (`0xffffff00`). `None` when it is none of these or not contiguous.
fn netmask_prefix(mask: &str, ipv6: bool) -> Option<u8> {
    let max = if ipv6 { 128 } else { 32 };
    if let Ok(len) = mask.parse::<u8>() {
        return (len <= max).then_some(len);
    }
    if ipv6 {
        return None;
    }
    let dotted = match mask.strip_prefix("0x").or_else(|| mask.strip_prefix("0X")) {
        Some(hex) => Ipv4Addr::from(u32::from_str_radix(hex, 16).ok()?),
        None => mask.parse::<Ipv4Addr>().ok()?,
    };
    ipnet::ipv4_mask_to_prefix(dotted).ok()
}

/// Parses an address that may carry an IPv6 zone (`fe80::1%eth0`).
fn parse_zoned(value: &str) -> Option<IpAddr> {
    let addr = value.split_once('%').map_or(value, |(addr, _)| addr);
    addr.parse().ok()
}

/// Collects the addresses and notes of one input.
struct Found<'a> {
    input: &'a str,
    origin: &'static str,
    addresses: Vec<ExpectedAddress>,
    notes: Vec<Note>,
}

impl<'a> Found<'a> {
    fn new(input: &'a str, origin: &'static str) -> Self {
        Found {
            input,
            origin,
            addresses: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn note(&mut self, line: usize, message: impl Into<String>) {
        self.notes.push(Note::line(self.input, line, message));
    }

    /// Adds an address unless it is loopback or unspecified; returns
    /// whether it was added.
    fn add(
        &mut self,
        address: IpAddr,
        prefixlen: Option<u8>,
        interface: &str,
        line: usize,
        excerpt: &str,
        on_boot: bool,
    ) -> bool {
        if address.is_loopback() || address.is_unspecified() {
            return false;
        }
        self.addresses.push(ExpectedAddress {
            address,
            prefixlen,
            interface: interface.to_string(),
            origin: self.origin.to_string(),
            input: self.input.to_string(),
            line: line_u32(line),
            excerpt: excerpt.trim().to_string(),
            on_boot,
            also: Vec::new(),
        });
        true
    }

    /// Adds `A[/len]`, or notes why it is not an address. `netmask` is
    /// used when the value has no `/len`.
    fn add_cidr(
        &mut self,
        value: &str,
        netmask: Option<u8>,
        interface: &str,
        line: usize,
        excerpt: &str,
        on_boot: bool,
    ) -> bool {
        match parse_cidr(value) {
            Ok((address, prefixlen)) => self.add(
                address,
                prefixlen.or(netmask),
                interface,
                line,
                excerpt,
                on_boot,
            ),
            Err(message) => {
                self.note(line, message);
                false
            }
        }
    }

    fn finish(self) -> (Vec<ExpectedAddress>, Vec<Note>) {
        (self.addresses, self.notes)
    }
}

/// `no` or `false`, in any case: a switched-off boolean of ifcfg and
/// NetworkManager files.
fn is_no(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "no" | "false")
}

// ---------------------------------------------------------------------------
// INI-style files: systemd-networkd and NetworkManager keyfiles

struct IniEntry<'t> {
    section: &'t str,
    /// Counts section headers, so repeated sections (`[Address]`) differ.
    section_index: usize,
    key: &'t str,
    value: &'t str,
    line: usize,
    excerpt: &'t str,
}

fn ini_entries<'t>(found: &mut Found<'_>, text: &'t str) -> Vec<IniEntry<'t>> {
    let mut out = Vec::new();
    let mut section = "";
    let mut section_index = 0;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        if let Some(header) = trimmed.strip_prefix('[') {
            section_index += 1;
            match header.strip_suffix(']') {
                Some(name) => section = name.trim(),
                None => {
                    found.note(line, "section header without a closing ]");
                    // Keys up to the next header belong to no known section.
                    section = "";
                }
            }
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            found.note(line, "not a [section] or key=value line");
            continue;
        };
        if section_index == 0 {
            found.note(line, "key=value before any [section]");
            continue;
        }
        out.push(IniEntry {
            section,
            section_index,
            key: key.trim(),
            value: value.trim(),
            line,
            excerpt: trimmed,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cpanel::{parse_cpanel_ipaddrpool, parse_cpanel_ips};
    use super::hosts::parse_hosts;
    use super::ifcfg::{parse_ifcfg, shell_value};
    use super::ifupdown::parse_ifupdown;
    use super::netplan::parse_netplan;
    use super::networkd::parse_networkd;
    use super::networkmanager::parse_networkmanager;
    use super::resolv::parse_resolv_conf;
    use super::samples::*;
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(netmask_prefix("255.255.255.0", false), Some(24));
        assert_eq!(netmask_prefix("0xfffffff0", false), Some(28));
        assert_eq!(netmask_prefix("24", false), Some(24));
        assert_eq!(netmask_prefix("33", false), None);
        assert_eq!(netmask_prefix("64", true), Some(64));
        assert_eq!(netmask_prefix("255.0.255.0", false), None);
        assert!(parse_cidr("192.0.2.1/33").is_err());
        assert!(parse_cidr("2001:db8::1/129").is_err());
        assert_eq!(
            parse_cidr("2001:db8::1/128"),
            Ok((ip("2001:db8::1"), Some(128)))
        );
        assert_eq!(shell_value("\"a b\"c # x"), Ok(("a bc".to_string(), "# x")));
        assert!(shell_value("'open").is_err());
    }

    #[test]
    fn odd_input_never_panics() {
        type Parser = fn(&str, &str) -> (Vec<ExpectedAddress>, Vec<Note>);
        let parsers: [Parser; 7] = [
            parse_cpanel_ips,
            parse_cpanel_ipaddrpool,
            parse_ifupdown,
            parse_netplan,
            parse_ifcfg,
            parse_networkd,
            parse_networkmanager,
        ];
        let samples = [
            CPANEL_IPS,
            INTERFACES_TEXT,
            NETPLAN,
            IFCFG_ETH0,
            "\u{0}\u{fffd}=\\\n[\n'\"\n- - :\n",
            "iface\nup ip a a\nup ip addr add\nup ifconfig\nup ifconfig eth0 inet6 add\n",
        ];
        for sample in samples {
            // Every prefix, cut at each character boundary.
            for (cut, _) in sample.char_indices() {
                for parse in parsers {
                    let _ = parse("x", &sample[..cut]);
                }
                let _ = parse_hosts("x", &sample[..cut]);
                let _ = parse_resolv_conf("x", &sample[..cut]);
            }
        }
    }
}
