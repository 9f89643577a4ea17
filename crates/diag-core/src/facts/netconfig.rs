//! The host's *expected* network state, read from its configuration: the
//! addresses the configuration says the host should carry, its nameservers
//! and its `/etc/hosts` entries.
//!
//! diag's founding incident is a cPanel host whose `ipaliases` script bound
//! only some of its addresses after a reboot and said nothing. Seeing that
//! needs the addresses that *should* be bound beside the ones that are; this
//! module supplies the first half from every configuration format a Linux
//! server is likely to carry:
//!
//! | parser                    | canonical inputs                                  | `origin`            |
//! |---------------------------|---------------------------------------------------|---------------------|
//! | [`parse_cpanel_ips`]      | `etc/ips`                                         | `cpanel-ips`        |
//! | [`parse_cpanel_ipaddrpool`] | `etc/ipaddrpool`                                | `cpanel-ipaddrpool` |
//! | [`parse_ifupdown`]        | `etc/network/interfaces`, `etc/network/interfaces.d/*` | `ifupdown`     |
//! | [`parse_netplan`]         | `etc/netplan/*.yaml`                              | `netplan`           |
//! | [`parse_ifcfg`]           | `etc/sysconfig/network-scripts/ifcfg-*`           | `ifcfg`             |
//! | [`parse_networkd`]        | `etc/systemd/network/*.network`                   | `networkd`          |
//! | [`parse_networkmanager`]  | `etc/NetworkManager/system-connections/*`         | `networkmanager`    |
//! | [`parse_resolv_conf`]     | `etc/resolv.conf`                                 | (nameservers)       |
//! | [`parse_hosts`]           | `etc/hosts`                                       | (hosts entries)     |
//!
//! Every parser is pure: text in, typed facts and [`Note`]s out. A line that
//! cannot be used becomes a note naming the input and the line, and the rest
//! of the input is still used. [`from_snapshot`] runs the right parser on
//! every input of a snapshot.
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
//! - [`from_snapshot`] keeps one [`ExpectedAddress`] per address. The first
//!   occurrence wins (the interface configuration before cPanel's lists, see
//!   [`from_snapshot`]); every later occurrence is kept as evidence in its
//!   [`ExpectedAddress::also`], so no line is lost.
//! - `prefixlen` is `None` when the configuration gives none; no class-based
//!   default is invented.

use crate::model::{Evidence, Note};
use crate::source::snapshot::Snapshot;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};

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
    /// [`from_snapshot`], which keeps one entry per address).
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

/// A `nameserver` line of `/etc/resolv.conf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nameserver {
    /// The resolver's address (an IPv6 zone such as `%eth0` is dropped).
    #[serde(serialize_with = "display")]
    pub address: IpAddr,
    /// Canonical input name.
    pub input: String,
    /// 1-based line.
    pub line: u32,
    /// That line, trimmed.
    pub excerpt: String,
}

impl Default for Nameserver {
    /// An empty entry (address `0.0.0.0`).
    fn default() -> Self {
        Nameserver {
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            input: String::new(),
            line: 0,
            excerpt: String::new(),
        }
    }
}

/// One line of `/etc/hosts`: an address and its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostsEntry {
    /// The address.
    #[serde(serialize_with = "display")]
    pub address: IpAddr,
    /// Canonical name first, then aliases.
    pub names: Vec<String>,
    /// Canonical input name.
    pub input: String,
    /// 1-based line.
    pub line: u32,
    /// That line, trimmed.
    pub excerpt: String,
}

impl Default for HostsEntry {
    /// An empty entry (address `0.0.0.0`).
    fn default() -> Self {
        HostsEntry {
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            names: Vec::new(),
            input: String::new(),
            line: 0,
            excerpt: String::new(),
        }
    }
}

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

fn display<S: Serializer>(address: &IpAddr, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(address)
}

/// Where a range file's expansion stops (`ifcfg-eth0-range0` may span a
/// whole /8 by mistake).
pub const RANGE_CAP: u32 = 65536;

// ---------------------------------------------------------------------------
// Shared helpers

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

// ---------------------------------------------------------------------------
// cPanel

/// Parses cPanel's `/etc/ips`: the additional addresses `ipaliases` binds,
/// one per line as `ADDRESS:NETMASK:BROADCAST` (netmask and broadcast may
/// be empty or missing; a bare IPv6 address is taken whole). Blank lines
/// and `#` comments are skipped; anything else is a note. A bad netmask or
/// broadcast is a note, and the address is still used.
pub fn parse_cpanel_ips(input: &str, text: &str) -> (Vec<ExpectedAddress>, Vec<Note>) {
    let mut found = Found::new(input, "cpanel-ips");
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Ok(address) = trimmed.parse::<IpAddr>() {
            found.add(address, None, "", line, raw, true);
            continue;
        }
        let mut fields = trimmed.split(':').map(str::trim);
        let address = fields.next().unwrap_or_default();
        let netmask = fields.next().unwrap_or_default();
        let broadcast = fields.next().unwrap_or_default();
        let rest = fields.next();
        let Ok(address) = address.parse::<Ipv4Addr>() else {
            found.note(line, "expected ADDRESS:NETMASK:BROADCAST or a bare address");
            continue;
        };
        let mut prefixlen = None;
        if !netmask.is_empty() {
            prefixlen = netmask_prefix(netmask, false);
            if prefixlen.is_none() {
                found.note(line, format!("{netmask:?} is not a netmask"));
            }
        }
        if !broadcast.is_empty() && broadcast.parse::<Ipv4Addr>().is_err() {
            found.note(line, format!("{broadcast:?} is not a broadcast address"));
        }
        if rest.is_some() {
            found.note(line, "more than three ':'-separated fields");
        }
        found.add(IpAddr::V4(address), prefixlen, "", line, raw, true);
    }
    found.finish()
}

/// Parses cPanel's `/etc/ipaddrpool`: the addresses of `/etc/ips` that no
/// account uses yet, one per line. They are bound like any other.
pub fn parse_cpanel_ipaddrpool(input: &str, text: &str) -> (Vec<ExpectedAddress>, Vec<Note>) {
    let mut found = Found::new(input, "cpanel-ipaddrpool");
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match trimmed.parse::<IpAddr>() {
            Ok(address) => {
                found.add(address, None, "", line, raw, true);
            }
            Err(_) => found.note(line, "expected one IP address"),
        }
    }
    found.finish()
}

// ---------------------------------------------------------------------------
// ifupdown

/// What one ifupdown file says, before `auto` lines of other files are
/// known.
#[derive(Debug, Default)]
struct IfupdownFile {
    /// Addresses (with `on_boot` false) and the stanza each belongs to.
    addresses: Vec<(String, ExpectedAddress)>,
    /// Interfaces named by `auto`, `allow-auto` and `allow-hotplug` lines.
    auto: BTreeSet<String>,
    /// Paths of `source` and `source-directory` lines.
    sources: Vec<String>,
    notes: Vec<Note>,
}

/// The stanza being read.
struct Stanza {
    name: String,
    ipv6: bool,
    /// Whether `address` options apply (static-like methods).
    takes_address: bool,
    /// `iface` line, for the "static without address" note.
    line: usize,
    /// `(line, logical line, value)` of every `address` option.
    addresses: Vec<(usize, String, String)>,
    /// `(line, value)` of the `netmask` option.
    netmask: Option<(usize, String)>,
}

fn is_ifupdown_keyword(word: &str) -> bool {
    matches!(
        word,
        "iface"
            | "mapping"
            | "auto"
            | "source"
            | "source-directory"
            | "no-auto-down"
            | "no-scripts"
            | "rename"
    ) || word.starts_with("allow-")
}

/// Logical lines of an ifupdown file: comments dropped, lines ending in
/// `\` joined to the next. Yields the first physical line's number.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if pending.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        let (start, mut joined) = pending.take().unwrap_or((line, String::new()));
        if let Some(head) = trimmed.strip_suffix('\\') {
            joined.push_str(head);
            joined.push(' ');
            pending = Some((start, joined));
        } else {
            joined.push_str(trimmed);
            out.push((start, joined));
        }
    }
    if let Some((start, joined)) = pending {
        out.push((start, joined.trim_end().to_string()));
    }
    out
}

fn ifupdown_file(input: &str, text: &str) -> IfupdownFile {
    let mut found = Found::new(input, "ifupdown");
    let mut stanzas: Vec<String> = Vec::new();
    let mut file = IfupdownFile::default();
    let mut stanza: Option<Stanza> = None;
    let mut in_mapping = false;

    for (line, logical) in logical_lines(text) {
        let mut words = logical.split_whitespace();
        let Some(first) = words.next() else { continue };
        if is_ifupdown_keyword(first) {
            if let Some(done) = stanza.take() {
                finish_stanza(&mut found, &mut stanzas, done);
            }
            in_mapping = false;
            match first {
                "iface" => {
                    let rest: Vec<&str> = words.collect();
                    let Some(name) = rest.first() else {
                        found.note(line, "iface line without an interface name");
                        continue;
                    };
                    let family = rest.get(1).copied().unwrap_or("inet");
                    let method = rest.get(2).copied();
                    stanza = Some(Stanza {
                        name: (*name).to_string(),
                        ipv6: family == "inet6",
                        // ifupdown2 allows `iface eth0` with no family or
                        // method, followed by `address` lines.
                        takes_address: matches!(
                            method,
                            None | Some("static" | "tunnel" | "v4tunnel")
                        ),
                        line,
                        addresses: Vec::new(),
                        netmask: None,
                    });
                }
                "mapping" => in_mapping = true,
                "source" | "source-directory" => {
                    let path = words.collect::<Vec<_>>().join(" ");
                    if !path.contains("interfaces.d") {
                        found.note(
                            line,
                            format!(
                                "{first} {path} is not followed: only etc/network/interfaces.d/* is read"
                            ),
                        );
                    }
                    file.sources.push(path);
                }
                "auto" => file.auto.extend(words.map(str::to_string)),
                _ if first.starts_with("allow-") => {
                    file.auto.extend(words.map(str::to_string));
                }
                _ => {}
            }
            continue;
        }
        if in_mapping {
            continue;
        }
        let Some(current) = stanza.as_mut() else {
            found.note(
                line,
                "not an ifupdown keyword, and outside any iface stanza",
            );
            continue;
        };
        match first {
            "address" => {
                for value in words {
                    current
                        .addresses
                        .push((line, logical.clone(), value.to_string()));
                }
            }
            "netmask" => {
                if let Some(value) = words.next() {
                    current.netmask = Some((line, value.to_string()));
                }
            }
            "up" | "post-up" | "pre-up" => {
                let command = logical[first.len()..].trim();
                let name = current.name.clone();
                for result in command_addresses(command, &name) {
                    match result {
                        Ok((address, prefixlen, interface)) => {
                            if found.add(address, prefixlen, &interface, line, &logical, false) {
                                stanzas.push(name.clone());
                            }
                        }
                        Err(message) => found.note(line, message),
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(done) = stanza.take() {
        finish_stanza(&mut found, &mut stanzas, done);
    }
    let (addresses, notes) = found.finish();
    file.addresses = stanzas.into_iter().zip(addresses).collect();
    file.addresses.sort_by_key(|(_, a)| a.line);
    file.notes = notes;
    file
}

fn finish_stanza(found: &mut Found<'_>, stanzas: &mut Vec<String>, stanza: Stanza) {
    if !stanza.takes_address {
        return;
    }
    if stanza.addresses.is_empty() && !stanza.name.starts_with("lo") {
        found.note(
            stanza.line,
            format!("static stanza for {} has no address line", stanza.name),
        );
        return;
    }
    let mut netmask = None;
    if let Some((line, value)) = &stanza.netmask {
        netmask = netmask_prefix(value, stanza.ipv6);
        if netmask.is_none() {
            found.note(*line, format!("{value:?} is not a netmask"));
        }
    }
    for (line, logical, value) in &stanza.addresses {
        if found.add_cidr(value, netmask, &stanza.name, *line, logical, false) {
            stanzas.push(stanza.name.clone());
        }
    }
}

/// An address a command adds, `(address, prefix, interface)`, or why it
/// could not be read.
type Added = Result<(IpAddr, Option<u8>, String), String>;

/// Addresses that a shell command from an `up`/`post-up`/`pre-up` line
/// adds: `ip [-4|-6] addr add A/len dev D [label L] ...` and
/// `ifconfig IF A [netmask M] [up]` / `ifconfig IF inet6 add A/len`, in
/// any of the `;`, `&&`, `||` separated parts. `$IFACE` is the stanza's
/// interface. Each result is `(address, prefix, interface)` or a note.
fn command_addresses(command: &str, stanza: &str) -> Vec<Added> {
    let command = command
        .replace("${IFACE}", stanza)
        .replace("$IFACE", stanza)
        .replace("${LOGICAL}", stanza)
        .replace("$LOGICAL", stanza);
    let mut out = Vec::new();
    for part in command.split([';', '&', '|']) {
        let words: Vec<&str> = part.split_whitespace().collect();
        let Some(program) = words.first() else {
            continue;
        };
        let program = program.rsplit('/').next().unwrap_or(program);
        let result = match program {
            "ip" => ip_addr_add(&words[1..], stanza),
            "ifconfig" => ifconfig_add(&words[1..]),
            _ => None,
        };
        out.extend(result);
    }
    out
}

fn ip_addr_add(words: &[&str], stanza: &str) -> Option<Added> {
    let mut words = words.iter().copied().skip_while(|w| w.starts_with('-'));
    let object = words.next()?;
    if !"address".starts_with(object) {
        return None;
    }
    let verb = words.next()?;
    if !("add".starts_with(verb) || verb == "replace") {
        return None;
    }
    let (mut address, mut dev, mut label) = (None, None, None);
    while let Some(word) = words.next() {
        match word {
            "dev" => dev = words.next(),
            "label" => label = words.next(),
            "local" => address = words.next(),
            "broadcast" | "brd" | "anycast" | "peer" | "scope" | "valid_lft" | "preferred_lft"
            | "metric" | "proto" => {
                words.next();
            }
            "home" | "mngtmpaddr" | "nodad" | "optimistic" | "noprefixroute" | "autojoin" => {}
            _ if address.is_none() => address = Some(word),
            _ => {}
        }
    }
    let Some(address) = address else {
        return Some(Err("ip addr add without an address".into()));
    };
    let interface = label.or(dev).unwrap_or(stanza).to_string();
    Some(parse_cidr(address).map(|(a, len)| (a, len, interface)))
}

fn ifconfig_add(words: &[&str]) -> Option<Added> {
    let interface = words.first().filter(|w| !w.starts_with('-'))?;
    let mut rest = words[1..].iter().copied().peekable();
    let mut ipv6 = false;
    while let Some(&word) = rest.peek() {
        match word {
            "inet" => {}
            "inet6" => ipv6 = true,
            "add" if ipv6 => {}
            _ => break,
        }
        rest.next();
    }
    let address = rest.next()?;
    // `ifconfig eth0 up`, `ifconfig eth0 mtu 9000`: no address.
    if !address.starts_with(|c: char| c.is_ascii_hexdigit()) || !address.contains(['.', ':']) {
        return None;
    }
    let mut netmask = None;
    while let Some(word) = rest.next() {
        if word == "netmask" {
            netmask = rest.next();
        }
    }
    Some(parse_cidr(address).and_then(|(a, len)| {
        let len = match (len, netmask) {
            (Some(len), _) => Some(len),
            (None, Some(mask)) => Some(
                netmask_prefix(mask, a.is_ipv6())
                    .ok_or_else(|| format!("{mask:?} is not a netmask"))?,
            ),
            (None, None) => None,
        };
        Ok((a, len, (*interface).to_string()))
    }))
}

/// Parses a Debian/Ubuntu ifupdown file (`/etc/network/interfaces` or a
/// file under `interfaces.d/`): `iface X inet|inet6 static` stanzas with
/// `address A[/len]` and `netmask` options (alias stanzas `iface eth0:1`
/// too), and addresses added by `up`/`post-up`/`pre-up` commands
/// (`ip addr add A/len dev D [label L]`, `ifconfig eth0:1 A netmask M`) in
/// any stanza, including `manual` ones. `dhcp`, `manual`, `loopback` and
/// other methods expect no `address`. `source` lines are not followed (the
/// collected `interfaces.d/*` files are parsed on their own); one that
/// points elsewhere is a note.
///
/// `on_boot` is true for stanzas that an `auto`, `allow-auto` or
/// `allow-hotplug` line of *this* file names; [`from_snapshot`] also
/// counts such lines in the other ifupdown files.
pub fn parse_ifupdown(input: &str, text: &str) -> (Vec<ExpectedAddress>, Vec<Note>) {
    let file = ifupdown_file(input, text);
    let addresses = file
        .addresses
        .into_iter()
        .map(|(stanza, mut address)| {
            address.on_boot = file.auto.contains(&stanza);
            address
        })
        .collect();
    (addresses, file.notes)
}

// ---------------------------------------------------------------------------
// netplan

/// netplan's device types whose devices may carry `addresses`.
const NETPLAN_DEVICE_TYPES: &[&str] = &[
    "ethernets",
    "bonds",
    "vlans",
    "bridges",
    "wifis",
    "tunnels",
    "dummy-devices",
    "virtual-ethernets",
    "vrfs",
    "modems",
];

/// Parses a netplan file (`/etc/netplan/*.yaml`):
/// `network.<ethernets|bonds|vlans|bridges|...>.<id>.addresses`, each an
/// `A/len` string or the newer map form `- A/len: {label: eth0:1}` (the
/// label is then the interface). The interface is the device's `set-name`
/// when it has one, else its id. A file that is not YAML is one note with
/// the line the YAML parser stopped at.
///
/// YAML is read with `saphyr`: it is maintained (the successor of
/// yaml-rust and yaml-rust2), pure Rust, implements YAML 1.2, and its
/// `MarkedYaml` carries a position for every node, so each address's line
/// comes from the parser itself rather than from searching the text (which
/// picks the wrong line when an address is written twice). `serde_yaml` is
/// archived; its forks `serde_yaml_ng` and `serde_norway` report a position
/// only for errors, and netplan's loose schema gains nothing from serde.
pub fn parse_netplan(input: &str, text: &str) -> (Vec<ExpectedAddress>, Vec<Note>) {
    use saphyr::{LoadableYamlNode, MarkedYaml};

    let mut found = Found::new(input, "netplan");
    if let Some(line) = yaml_too_deep(text) {
        found.note(line, "nested far deeper than any netplan file: not read");
        return found.finish();
    }
    let docs = match MarkedYaml::load_from_str(text) {
        Ok(docs) => docs,
        Err(error) => {
            let message = format!("not valid YAML: {}", error.info());
            match error.marker().line() {
                0 => found.notes.push(Note::input(input, message)),
                line => found.note(line, message),
            }
            return found.finish();
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let excerpt = |line: usize| lines.get(line.wrapping_sub(1)).copied().unwrap_or("");
    for doc in &docs {
        if doc.data.is_null() {
            continue;
        }
        let Some(network) = doc.data.as_mapping_get("network") else {
            found.note(doc.span.start.line(), "no top-level `network:` mapping");
            continue;
        };
        for kind in NETPLAN_DEVICE_TYPES {
            let Some(devices) = network.data.as_mapping_get(kind) else {
                continue;
            };
            let Some(devices) = devices.data.as_mapping() else {
                if !devices.data.is_null() {
                    found.note(
                        devices.span.start.line(),
                        format!("{kind} is not a mapping"),
                    );
                }
                continue;
            };
            for (id, device) in devices {
                let id = id.data.as_str().unwrap_or_default();
                let name = device
                    .data
                    .as_mapping_get("set-name")
                    .and_then(|n| n.data.as_str())
                    .unwrap_or(id);
                let Some(addresses) = device.data.as_mapping_get("addresses") else {
                    continue;
                };
                let Some(items) = addresses.data.as_sequence() else {
                    if !addresses.data.is_null() {
                        found.note(
                            addresses.span.start.line(),
                            format!("{id}: addresses is not a list"),
                        );
                    }
                    continue;
                };
                for item in items {
                    let (node, label) = match item.data.as_mapping() {
                        Some(map) => match map.iter().next() {
                            Some((key, options)) => (
                                key,
                                options
                                    .data
                                    .as_mapping_get("label")
                                    .and_then(|l| l.data.as_str()),
                            ),
                            None => (item, None),
                        },
                        None => (item, None),
                    };
                    let line = node.span.start.line();
                    let Some(value) = node.data.as_str() else {
                        found.note(
                            line,
                            format!("{id}: expected an address like 192.0.2.10/24"),
                        );
                        continue;
                    };
                    let interface = label.unwrap_or(name);
                    if found.add_cidr(value, None, interface, line, excerpt(line), true)
                        && !value.contains('/')
                    {
                        found.note(line, "netplan rejects an address without a prefix length");
                    }
                }
            }
        }
    }
    found.finish()
}

/// The line where `text` nests deeper than a netplan file ever does, if
/// it does. saphyr bounds flow nesting (`[[[...`) but not block nesting,
/// and loading a few hundred block levels exhausts a thread's stack: a
/// crash no input may cause. Block depth is bounded by indentation plus
/// the compact `- - -` entries of a line, flow depth by the open brackets,
/// so this cheap scan (quotes and comments not excluded: it only ever
/// overestimates) keeps the YAML library well away from that.
fn yaml_too_deep(text: &str) -> Option<usize> {
    const MAX_INDENT: usize = 128;
    const MAX_ENTRIES_PER_LINE: usize = 32;
    const MAX_FLOW: usize = 64;
    let mut flow = 0usize;
    for (index, raw) in text.lines().enumerate() {
        let content = raw.trim_start();
        let indent = raw.len() - content.len();
        let entries = content.matches("- ").count() + content.matches("? ").count();
        for c in content.chars() {
            match c {
                '[' | '{' => flow += 1,
                ']' | '}' => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
        if indent > MAX_INDENT || entries > MAX_ENTRIES_PER_LINE || flow > MAX_FLOW {
            return Some(index + 1);
        }
    }
    None
}

// ---------------------------------------------------------------------------
// ifcfg

/// One `KEY=value` of a shell-style file.
struct Assignment {
    value: String,
    line: usize,
    excerpt: String,
}

/// Reads a shell-style `KEY=value` file (ifcfg): `"double"` and `'single'`
/// quotes, backslash escapes, `#` comments. The last assignment of a key
/// wins, as in the shell.
fn shell_assignments(found: &mut Found<'_>, text: &str) -> BTreeMap<String, Assignment> {
    let mut out = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let statement = trimmed.strip_prefix("export ").unwrap_or(trimmed);
        let Some((key, raw_value)) = statement.split_once('=') else {
            found.note(line, "not a KEY=value line");
            continue;
        };
        let valid_key = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key {
            found.note(line, format!("{key:?} is not a variable name"));
            continue;
        }
        match shell_value(raw_value) {
            Ok((value, rest)) => {
                if !rest.is_empty() && !rest.starts_with('#') {
                    found.note(
                        line,
                        format!("{key}: text after an unquoted space is not part of the value"),
                    );
                }
                out.insert(
                    key.to_string(),
                    Assignment {
                        value,
                        line,
                        excerpt: trimmed.to_string(),
                    },
                );
            }
            Err(message) => found.note(line, format!("{key}: {message}")),
        }
    }
    out
}

/// The value of one shell word and what follows it on the line.
fn shell_value(raw: &str) -> Result<(String, &str), &'static str> {
    let mut value = String::new();
    let mut chars = raw.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => loop {
                match chars.next() {
                    None => return Err("unterminated double quote"),
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, next @ ('"' | '\\' | '$' | '`'))) => value.push(next),
                        Some((_, next)) => {
                            value.push('\\');
                            value.push(next);
                        }
                        None => return Err("unterminated double quote"),
                    },
                    Some((_, other)) => value.push(other),
                }
            },
            '\'' => loop {
                match chars.next() {
                    None => return Err("unterminated single quote"),
                    Some((_, '\'')) => break,
                    Some((_, other)) => value.push(other),
                }
            },
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    value.push(next);
                }
            }
            c if c.is_whitespace() => return Ok((value, raw[at..].trim())),
            c => value.push(c),
        }
    }
    Ok((value, ""))
}

fn is_no(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "no" | "false")
}

/// Parses a RHEL/CentOS/Alma/Rocky `ifcfg-*` file (initscripts, or
/// NetworkManager's ifcfg-rh plugin): `IPADDR`/`IPADDRn` with
/// `PREFIX`/`PREFIXn` or `NETMASK`/`NETMASKn`, `IPV6ADDR` and
/// `IPV6ADDR_SECONDARIES` (space separated `A/len`), quoted or not. The
/// interface is `DEVICE`, else the file name after `ifcfg-` (alias files
/// `ifcfg-eth0:1` name `eth0:1`). Range files (`ifcfg-eth0-range0`, read
/// by initscripts' `ifup-aliases`) with `IPADDR_START`, `IPADDR_END` and
/// `CLONENUM_START` expand to one address per clone, labelled
/// `eth0:<clone>`, at most [`RANGE_CAP`] of them (then a note).
///
/// `ONBOOT=no` or `ONPARENT=no` makes `on_boot` false; `IPV6INIT=no` does
/// the same for the IPv6 addresses. `BOOTPROTO` is not consulted:
/// NetworkManager adds static addresses to a DHCP profile too.
pub fn parse_ifcfg(input: &str, text: &str) -> (Vec<ExpectedAddress>, Vec<Note>) {
    let mut found = Found::new(input, "ifcfg");
    let vars = shell_assignments(&mut found, text);
    let get = |key: &str| vars.get(key).filter(|a| !a.value.is_empty());
    let file_device = input
        .rsplit('/')
        .next()
        .unwrap_or(input)
        .strip_prefix("ifcfg-")
        .unwrap_or_default();
    let on_boot = !["ONBOOT", "ONPARENT"]
        .iter()
        .any(|key| get(key).is_some_and(|a| is_no(&a.value)));

    if let Some(start) = get("IPADDR_START") {
        let parent = match file_device.rsplit_once("-range") {
            Some((parent, _)) => parent,
            None => file_device,
        };
        expand_range(&mut found, &vars, start, parent, on_boot);
        return found.finish();
    }

    let interface = get("DEVICE").map_or(file_device, |a| a.value.as_str());
    let mut keyed: Vec<(&String, &Assignment)> = vars.iter().collect();
    keyed.sort_by_key(|(_, a)| a.line);
    let ipv6_on_boot = on_boot && !get("IPV6INIT").is_some_and(|a| is_no(&a.value));
    for (key, assignment) in keyed {
        if assignment.value.is_empty() {
            continue;
        }
        let (line, excerpt) = (assignment.line, assignment.excerpt.as_str());
        if let Some(suffix) = key.strip_prefix("IPADDR") {
            if !suffix.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let prefix = ifcfg_prefix(&mut found, &vars, suffix);
            found.add_cidr(&assignment.value, prefix, interface, line, excerpt, on_boot);
        } else if key == "IPV6ADDR" || key == "IPV6ADDR_SECONDARIES" {
            for value in assignment.value.split_whitespace() {
                found.add_cidr(value, None, interface, line, excerpt, ipv6_on_boot);
            }
        }
    }
    found.finish()
}

/// `PREFIXn`, else `NETMASKn`, for the `IPADDRn` with suffix `n`.
fn ifcfg_prefix(
    found: &mut Found<'_>,
    vars: &BTreeMap<String, Assignment>,
    suffix: &str,
) -> Option<u8> {
    for key in ["PREFIX", "NETMASK"] {
        if let Some(a) = vars.get(&format!("{key}{suffix}")) {
            if a.value.is_empty() {
                continue;
            }
            let prefix = netmask_prefix(&a.value, false);
            if prefix.is_none() {
                found.note(
                    a.line,
                    format!("{key}{suffix}: {:?} is not a netmask", a.value),
                );
            }
            return prefix;
        }
    }
    None
}

fn expand_range(
    found: &mut Found<'_>,
    vars: &BTreeMap<String, Assignment>,
    start: &Assignment,
    parent: &str,
    on_boot: bool,
) {
    let Ok(first) = start.value.parse::<Ipv4Addr>() else {
        found.note(
            start.line,
            format!("IPADDR_START: {:?} is not an IPv4 address", start.value),
        );
        return;
    };
    let Some(end) = vars.get("IPADDR_END") else {
        found.note(start.line, "range file without IPADDR_END");
        return;
    };
    let Ok(last) = end.value.parse::<Ipv4Addr>() else {
        found.note(
            end.line,
            format!("IPADDR_END: {:?} is not an IPv4 address", end.value),
        );
        return;
    };
    let (first, last) = (u32::from(first), u32::from(last));
    if last < first {
        found.note(end.line, "IPADDR_END is before IPADDR_START");
        return;
    }
    let mut clone = 0u64;
    if let Some(a) = vars.get("CLONENUM_START") {
        match a.value.parse::<u64>() {
            Ok(n) => clone = n,
            Err(_) => found.note(
                a.line,
                format!("CLONENUM_START: {:?} is not a number", a.value),
            ),
        }
    }
    let prefix = ifcfg_prefix(found, vars, "");
    let count = u64::from(last - first) + 1;
    if count > u64::from(RANGE_CAP) {
        found.note(
            start.line,
            format!("range of {count} addresses: only the first {RANGE_CAP} are listed"),
        );
    }
    for offset in 0..count.min(u64::from(RANGE_CAP)) {
        // offset < count <= 2^32, and first + offset <= last.
        let address = Ipv4Addr::from(first.wrapping_add(offset as u32));
        let interface = format!("{parent}:{}", clone + offset);
        found.add(
            IpAddr::V4(address),
            prefix,
            &interface,
            start.line,
            &start.excerpt,
            on_boot,
        );
    }
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

/// Parses a systemd-networkd `.network` file: `Address=` in `[Network]`
/// (repeatable) and in `[Address]` sections (whose `Label=` is then the
/// interface). Otherwise the interface is the `[Match]` section's `Name=`
/// value as written (space-separated names or globs; empty when the file
/// matches on something else). `Address=0.0.0.0/24` (a pool request) is
/// not an expected address.
pub fn parse_networkd(input: &str, text: &str) -> (Vec<ExpectedAddress>, Vec<Note>) {
    let mut found = Found::new(input, "networkd");
    let entries = ini_entries(&mut found, text);
    let mut names: Vec<&str> = Vec::new();
    let mut labels: HashMap<usize, &str> = HashMap::new();
    for entry in &entries {
        match (entry.section, entry.key) {
            ("Match", "Name") if entry.value.is_empty() => names.clear(),
            ("Match", "Name") => names.extend(entry.value.split_whitespace()),
            ("Address", "Label") => {
                labels.insert(entry.section_index, entry.value);
            }
            _ => {}
        }
    }
    let name = names.join(" ");
    for entry in &entries {
        if entry.key != "Address" || entry.value.is_empty() {
            continue;
        }
        let interface = match entry.section {
            "Network" => name.as_str(),
            "Address" => labels.get(&entry.section_index).copied().unwrap_or(&name),
            _ => continue,
        };
        found.add_cidr(
            entry.value,
            None,
            interface,
            entry.line,
            entry.excerpt,
            true,
        );
    }
    found.finish()
}

/// Parses a NetworkManager keyfile (`/etc/NetworkManager/system-connections/`,
/// `*.nmconnection` or older names without the suffix): `[ipv4]` and
/// `[ipv6]` `addressN=A/len[,gateway]`, the older `addressesN=` lists
/// (`A/len;A/len;`, and NM 0.9's `A;len;gateway;`). The interface is
/// `[connection] interface-name=`, empty when the profile is not bound to
/// one. `autoconnect=false` makes `on_boot` false, and so does
/// `method=disabled` or `ignore` for that family. Static addresses count
/// with `method=auto` too: NetworkManager adds them beside DHCP's.
pub fn parse_networkmanager(input: &str, text: &str) -> (Vec<ExpectedAddress>, Vec<Note>) {
    let mut found = Found::new(input, "networkmanager");
    let entries = ini_entries(&mut found, text);
    let mut interface = "";
    let mut autoconnect = true;
    let mut disabled: BTreeSet<&str> = BTreeSet::new();
    for entry in &entries {
        match (entry.section, entry.key) {
            ("connection", "interface-name") => interface = entry.value,
            ("connection", "autoconnect") => autoconnect = !is_no(entry.value),
            ("ipv4" | "ipv6", "method") if matches!(entry.value, "disabled" | "ignore") => {
                disabled.insert(entry.section);
            }
            _ => {}
        }
    }
    for entry in &entries {
        if !matches!(entry.section, "ipv4" | "ipv6") {
            continue;
        }
        let is_address_key = ["addresses", "address"].iter().any(|stem| {
            entry
                .key
                .strip_prefix(stem)
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        });
        if !is_address_key {
            continue;
        }
        let on_boot = autoconnect && !disabled.contains(entry.section);
        let items: Vec<&str> = entry
            .value
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let legacy =
            items.len() >= 2 && !items[0].contains(['/', ',']) && items[1].parse::<u8>().is_ok();
        if legacy {
            let value = format!("{}/{}", items[0], items[1]);
            found.add_cidr(&value, None, interface, entry.line, entry.excerpt, on_boot);
            continue;
        }
        for item in items {
            let address = item.split(',').next().unwrap_or(item).trim();
            found.add_cidr(address, None, interface, entry.line, entry.excerpt, on_boot);
        }
    }
    found.finish()
}

// ---------------------------------------------------------------------------
// resolv.conf and hosts

/// Parses `/etc/resolv.conf`: every `nameserver ADDRESS` line (an IPv6
/// zone such as `%eth0` is accepted and dropped). Other directives are not
/// read; a `nameserver` line without a usable address is a note.
pub fn parse_resolv_conf(input: &str, text: &str) -> (Vec<Nameserver>, Vec<Note>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let mut words = raw.split_whitespace();
        if words.next() != Some("nameserver") {
            continue;
        }
        match words.next().map(|w| (w, parse_zoned(w))) {
            Some((_, Some(address))) => out.push(Nameserver {
                address,
                input: input.to_string(),
                line: line_u32(line),
                excerpt: raw.trim().to_string(),
            }),
            Some((word, None)) => {
                notes.push(Note::line(
                    input,
                    line,
                    format!("{word:?} is not an IP address"),
                ));
            }
            None => notes.push(Note::line(input, line, "nameserver without an address")),
        }
    }
    (out, notes)
}

/// Parses `/etc/hosts`: `ADDRESS NAME [ALIAS...]` per line, `#` starts a
/// comment. Loopback entries are kept (this is not the expected-address
/// list). A line without an address and a name is a note.
pub fn parse_hosts(input: &str, text: &str) -> (Vec<HostsEntry>, Vec<Note>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split_once('#').map_or(raw, |(content, _)| content);
        let mut words = content.split_whitespace();
        let Some(first) = words.next() else { continue };
        let names: Vec<String> = words.map(str::to_string).collect();
        match parse_zoned(first) {
            Some(address) if !names.is_empty() => out.push(HostsEntry {
                address,
                names,
                input: input.to_string(),
                line: line_u32(line),
                excerpt: raw.trim().to_string(),
            }),
            Some(_) => notes.push(Note::line(input, line, "address without a host name")),
            None => notes.push(Note::line(input, line, "expected ADDRESS NAME [ALIAS...]")),
        }
    }
    (out, notes)
}

// ---------------------------------------------------------------------------
// Snapshot

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
/// as in [`crate::source::inputs::INPUTS`]) into one [`NetConfig`].
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
            Format::Ifcfg => parse_ifcfg,
            Format::Netplan => parse_netplan,
            Format::Networkd => parse_networkd,
            Format::NetworkManager => parse_networkmanager,
            Format::CpanelIps => parse_cpanel_ips,
            Format::CpanelIpaddrpool => parse_cpanel_ipaddrpool,
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
    found.sort_by(|(fa, a), (fb, b)| fa.cmp(fb).then_with(|| a.input.cmp(&b.input)));

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

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    /// `(address, prefixlen, interface, line, on_boot)` of each address.
    fn summary(addresses: &[ExpectedAddress]) -> Vec<(String, Option<u8>, &str, u32, bool)> {
        addresses
            .iter()
            .map(|a| {
                (
                    a.address.to_string(),
                    a.prefixlen,
                    a.interface.as_str(),
                    a.line,
                    a.on_boot,
                )
            })
            .collect()
    }

    fn note_lines(notes: &[Note]) -> Vec<Option<u32>> {
        notes.iter().map(|n| n.line).collect()
    }

    fn assert_named(notes: &[Note], input: &str) {
        for note in notes {
            assert_eq!(note.input, input, "{note:?}");
            assert!(note.line.is_some(), "{note:?}");
        }
    }

    // cPanel's /etc/ips as WHM's "Add a New IP Address" writes it
    // (ADDRESS:NETMASK:BROADCAST; the main address is not listed), with a
    // bare address, a junk line and a last line cut mid-broadcast.
    const CPANEL_IPS: &str = "192.0.2.10:255.255.255.0:192.0.2.255
192.0.2.11:255.255.255.0:192.0.2.255

198.51.100.7
198.51.100.8:255.255.255.240:
this is not an address
192.0.2.12:255.255.0.255:192.0.2.255
192.0.2.13:255.255.255.0:192.0";

    #[test]
    fn cpanel_ips() {
        let (addresses, notes) = parse_cpanel_ips("etc/ips", CPANEL_IPS);
        assert_eq!(
            summary(&addresses),
            vec![
                ("192.0.2.10".into(), Some(24), "", 1, true),
                ("192.0.2.11".into(), Some(24), "", 2, true),
                ("198.51.100.7".into(), None, "", 4, true),
                ("198.51.100.8".into(), Some(28), "", 5, true),
                ("192.0.2.12".into(), None, "", 7, true),
                ("192.0.2.13".into(), Some(24), "", 8, true),
            ]
        );
        assert_eq!(addresses[0].origin, "cpanel-ips");
        assert_eq!(addresses[0].excerpt, "192.0.2.10:255.255.255.0:192.0.2.255");
        // Junk line, non-contiguous netmask, cut broadcast.
        assert_eq!(note_lines(&notes), vec![Some(6), Some(7), Some(8)]);
        assert_named(&notes, "etc/ips");
    }

    // cPanel's /etc/ipaddrpool: the /etc/ips addresses no account uses.
    #[test]
    fn cpanel_ipaddrpool() {
        let text = "192.0.2.11\n198.51.100.7\n\n192.0.2.\n";
        let (addresses, notes) = parse_cpanel_ipaddrpool("etc/ipaddrpool", text);
        assert_eq!(
            summary(&addresses),
            vec![
                ("192.0.2.11".into(), None, "", 1, true),
                ("198.51.100.7".into(), None, "", 2, true),
            ]
        );
        assert_eq!(addresses[0].origin, "cpanel-ipaddrpool");
        assert_eq!(note_lines(&notes), vec![Some(4)]);
        assert_named(&notes, "etc/ipaddrpool");
    }

    // Debian 12's installer-written /etc/network/interfaces, extended the
    // way hosting providers add failover addresses: alias stanzas and
    // `up ip addr add` / `ifconfig` lines (interfaces(5), ip-address(8)).
    const INTERFACES_TEXT: &str =
        "# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
auto eth0
iface eth0 inet static
\taddress 192.0.2.10/24
\tgateway 192.0.2.1
\t# dns-* options are implemented by the resolvconf package, if installed
\tdns-nameservers 192.0.2.53
\tup ip addr add 192.0.2.20/24 dev $IFACE label $IFACE:0
\tpost-up /sbin/ip -4 addr add 192.0.2.21/24 brd + dev eth0 label eth0:1 || true
\tpre-down ip addr del 192.0.2.20/24 dev eth0

iface eth0 inet6 static
\taddress 2001:db8::10
\tnetmask 64

auto eth0:1
iface eth0:1 inet static
\taddress 192.0.2.11
\tnetmask 255.255.255.0

iface eth0:2 inet static
\taddress 192.0.2.12
\tnetmask 255.255.255.0
\tup ifconfig eth0:3 192.0.2.13 netmask 255.255.255.0 up

allow-hotplug eth1
iface eth1 inet dhcp
\tup ip addr add 198.51.100.5/28 \\
\t\tdev eth1

source /etc/network/other.conf
this line is junk
iface eth9 inet static
\taddress 192.0.2.
";

    #[test]
    fn ifupdown_interfaces() {
        let input = "etc/network/interfaces";
        let (addresses, notes) = parse_ifupdown(input, INTERFACES_TEXT);
        assert_eq!(
            summary(&addresses),
            vec![
                ("192.0.2.10".into(), Some(24), "eth0", 13, true),
                ("192.0.2.20".into(), Some(24), "eth0:0", 17, true),
                ("192.0.2.21".into(), Some(24), "eth0:1", 18, true),
                ("2001:db8::10".into(), Some(64), "eth0", 22, true),
                ("192.0.2.11".into(), Some(24), "eth0:1", 27, true),
                // No `auto eth0:2`: configured, not brought up at boot.
                ("192.0.2.12".into(), Some(24), "eth0:2", 31, false),
                ("192.0.2.13".into(), Some(24), "eth0:3", 33, false),
                // A continued line: the number of its first line.
                ("198.51.100.5".into(), Some(28), "eth1", 37, true),
            ]
        );
        assert!(addresses.iter().all(|a| a.origin == "ifupdown"));
        assert_eq!(
            addresses[1].excerpt,
            "up ip addr add 192.0.2.20/24 dev $IFACE label $IFACE:0"
        );
        // `source` elsewhere, junk outside a stanza, a cut address.
        assert_eq!(note_lines(&notes), vec![Some(40), Some(41), Some(43)]);
        assert_named(&notes, input);
    }

    #[test]
    fn ifupdown_static_stanza_cut_before_its_address() {
        let text = "auto eth0\niface eth0 inet static\n";
        let (addresses, notes) = parse_ifupdown("etc/network/interfaces", text);
        assert!(addresses.is_empty());
        assert_eq!(note_lines(&notes), vec![Some(2)]);
        // A netmask that is not one is a note; the address is kept.
        let text =
            "auto eth0\niface eth0 inet static\n    address 192.0.2.10\n    netmask 255.0.255.0\n";
        let (addresses, notes) = parse_ifupdown("x", text);
        assert_eq!(
            summary(&addresses),
            vec![("192.0.2.10".into(), None, "eth0", 3, true)]
        );
        assert_eq!(note_lines(&notes), vec![Some(4)]);
    }

    // Ubuntu 22.04, cloud-init's 50-cloud-init.yaml extended by hand with
    // the map form of netplan >= 0.104 (`- A/len: {label: ...}`), a bond
    // and a VLAN; the nameserver addresses are not host addresses.
    const NETPLAN: &str =
        "# This file is generated from information provided by the datasource.  Changes
# to it will not persist across an instance reboot.
network:
  version: 2
  renderer: networkd
  ethernets:
    eno1:
      addresses:
        - 192.0.2.10/24
        - \"2001:db8::10/64\"
        - 192.0.2.11/24:
            label: \"eno1:1\"
        - 192.0.2.
        - 192.0.2.14
      routes:
        - to: default
          via: 192.0.2.1
      nameservers:
        addresses: [192.0.2.53, \"2001:db8::53\"]
    nic0:
      match:
        macaddress: \"52:54:00:12:34:56\"
      set-name: eth1
      addresses: [198.51.100.4/28]
  bonds:
    bond0:
      interfaces: [eno2, eno3]
      addresses: [198.51.100.5/28]
  vlans:
    vlan10:
      id: 10
      link: bond0
      addresses:
        - 203.0.113.5/24
";

    #[test]
    fn netplan() {
        let input = "etc/netplan/50-cloud-init.yaml";
        let (addresses, notes) = parse_netplan(input, NETPLAN);
        assert_eq!(
            summary(&addresses),
            vec![
                ("192.0.2.10".into(), Some(24), "eno1", 9, true),
                ("2001:db8::10".into(), Some(64), "eno1", 10, true),
                ("192.0.2.11".into(), Some(24), "eno1:1", 11, true),
                ("192.0.2.14".into(), None, "eno1", 14, true),
                ("198.51.100.4".into(), Some(28), "eth1", 24, true),
                ("198.51.100.5".into(), Some(28), "bond0", 28, true),
                ("203.0.113.5".into(), Some(24), "vlan10", 34, true),
            ]
        );
        assert_eq!(addresses[2].excerpt, "- 192.0.2.11/24:");
        assert_eq!(addresses[4].excerpt, "addresses: [198.51.100.4/28]");
        // The cut address, the address netplan would reject.
        assert_eq!(note_lines(&notes), vec![Some(13), Some(14)]);
        assert_named(&notes, input);
    }

    #[test]
    fn netplan_that_does_not_parse_is_one_note_with_its_line() {
        let input = "etc/netplan/01-netcfg.yaml";
        let unclosed =
            "network:\n  ethernets:\n    eth0:\n      addresses: [192.0.2.10/24\n      dhcp4: no\n";
        let (addresses, notes) = parse_netplan(input, unclosed);
        assert!(addresses.is_empty());
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].line, Some(5));
        assert!(notes[0].message.starts_with("not valid YAML"), "{notes:?}");
        let tabs = "network:\n  ethernets:\n\teth0:\n      addresses: [192.0.2.10/24]\n";
        let (_, notes) = parse_netplan(input, tabs);
        assert_eq!(note_lines(&notes), vec![Some(3)]);
        // Empty and comment-only files say nothing; other YAML is a note.
        assert_eq!(parse_netplan(input, ""), (vec![], vec![]));
        assert_eq!(parse_netplan(input, "# nothing\n"), (vec![], vec![]));
        assert_eq!(
            note_lines(&parse_netplan(input, "foo: 1\n").1),
            vec![Some(1)]
        );
    }

    #[test]
    fn netplan_nesting_that_would_exhaust_the_stack_is_a_note() {
        for text in [
            "- ".repeat(100_000),
            "[".repeat(100_000),
            (0..2000)
                .map(|i| format!("{}a:\n", " ".repeat(i)))
                .collect(),
        ] {
            let (addresses, notes) = parse_netplan("etc/netplan/x.yaml", &text);
            assert!(addresses.is_empty());
            assert_eq!(notes.len(), 1, "{notes:?}");
            assert!(notes[0].line.is_some());
        }
    }

    // CentOS 7 on a cPanel host: ifcfg-eth0 as anaconda writes it, plus
    // IPADDRn pairs, quoted values and IPv6 secondaries
    // (/usr/share/doc/initscripts-*/sysconfig.txt).
    const IFCFG_ETH0: &str = "# Generated by parse-kickstart
TYPE=Ethernet
BOOTPROTO=none
DEVICE=eth0
ONBOOT=yes
IPADDR=192.0.2.10
PREFIX=24
IPADDR1=\"192.0.2.14\"
NETMASK1='255.255.255.0'
IPADDR2=192.0.2.15
GATEWAY=192.0.2.1
IPV6INIT=yes
IPV6ADDR=2001:db8::10/64
IPV6ADDR_SECONDARIES=\"2001:db8::11/64 2001:db8::12/64\"
this is not an assignment
IPADDR3=\"192.0.2.1";

    #[test]
    fn ifcfg_device() {
        let input = "etc/sysconfig/network-scripts/ifcfg-eth0";
        let (addresses, notes) = parse_ifcfg(input, IFCFG_ETH0);
        assert_eq!(
            summary(&addresses),
            vec![
                ("192.0.2.10".into(), Some(24), "eth0", 6, true),
                ("192.0.2.14".into(), Some(24), "eth0", 8, true),
                ("192.0.2.15".into(), None, "eth0", 10, true),
                ("2001:db8::10".into(), Some(64), "eth0", 13, true),
                ("2001:db8::11".into(), Some(64), "eth0", 14, true),
                ("2001:db8::12".into(), Some(64), "eth0", 14, true),
            ]
        );
        assert_eq!(addresses[1].excerpt, "IPADDR1=\"192.0.2.14\"");
        assert_eq!(addresses[0].origin, "ifcfg");
        // Junk line, the cut quote.
        assert_eq!(note_lines(&notes), vec![Some(15), Some(16)]);
        assert_named(&notes, input);
    }

    #[test]
    fn ifcfg_alias_and_onboot_no() {
        // An alias file as cPanel's ipaliases predecessors and admins
        // write it: DEVICE names the alias.
        let alias = "DEVICE=eth0:1\nBOOTPROTO=static\nIPADDR=192.0.2.11\nNETMASK=255.255.255.0\nONBOOT=yes\n";
        let (addresses, notes) = parse_ifcfg("etc/sysconfig/network-scripts/ifcfg-eth0:1", alias);
        assert!(notes.is_empty());
        assert_eq!(
            summary(&addresses),
            vec![("192.0.2.11".into(), Some(24), "eth0:1", 3, true)]
        );
        // No DEVICE: the file name says; ONBOOT=no: not brought up.
        let off = "IPADDR=192.0.2.12\nPREFIX=24\nONBOOT=\"no\"\nIPV6ADDR=2001:db8::12/64\n";
        let (addresses, _) = parse_ifcfg("etc/sysconfig/network-scripts/ifcfg-eth0:2", off);
        assert_eq!(
            summary(&addresses),
            vec![
                ("192.0.2.12".into(), Some(24), "eth0:2", 1, false),
                ("2001:db8::12".into(), Some(64), "eth0:2", 4, false),
            ]
        );
        // The loopback file adds nothing.
        let lo = "DEVICE=lo\nIPADDR=127.0.0.1\nNETMASK=255.0.0.0\nONBOOT=yes\nNAME=loopback\n";
        let (addresses, notes) = parse_ifcfg("etc/sysconfig/network-scripts/ifcfg-lo", lo);
        assert!(addresses.is_empty() && notes.is_empty());
    }

    // An initscripts range file (ifup-aliases), as hosting panels of the
    // CentOS 5/6 era wrote them for blocks of addresses.
    #[test]
    fn ifcfg_range_file() {
        let input = "etc/sysconfig/network-scripts/ifcfg-eth0-range0";
        let text = "IPADDR_START=192.0.2.100\nIPADDR_END=192.0.2.103\nCLONENUM_START=10\nNETMASK=255.255.255.0\n";
        let (addresses, notes) = parse_ifcfg(input, text);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            summary(&addresses),
            vec![
                ("192.0.2.100".into(), Some(24), "eth0:10", 1, true),
                ("192.0.2.101".into(), Some(24), "eth0:11", 1, true),
                ("192.0.2.102".into(), Some(24), "eth0:12", 1, true),
                ("192.0.2.103".into(), Some(24), "eth0:13", 1, true),
            ]
        );
        assert_eq!(addresses[0].excerpt, "IPADDR_START=192.0.2.100");

        let huge = "IPADDR_START=10.0.0.0\nIPADDR_END=10.255.255.255\n";
        let (addresses, notes) = parse_ifcfg(input, huge);
        assert_eq!(addresses.len(), RANGE_CAP as usize);
        assert_eq!(addresses[1].interface, "eth0:1");
        assert_eq!(note_lines(&notes), vec![Some(1)]);

        let backwards = "IPADDR_START=192.0.2.9\nIPADDR_END=192.0.2.1\n";
        let (addresses, notes) = parse_ifcfg(input, backwards);
        assert!(addresses.is_empty());
        assert_eq!(note_lines(&notes), vec![Some(2)]);
        let cut = "IPADDR_START=192.0.2.9\nIPADDR_E";
        let (addresses, notes) = parse_ifcfg(input, cut);
        assert!(addresses.is_empty());
        assert_eq!(note_lines(&notes), vec![Some(2), Some(1)]);
    }

    // systemd.network(5): a static [Network] with a second address in an
    // [Address] section carrying a label, then junk and a cut line.
    #[test]
    fn networkd() {
        let input = "etc/systemd/network/10-eth0.network";
        let text = "[Match]
Name=eth0

[Network]
DHCP=no
Address=192.0.2.10/24
Address=2001:db8::10/64
Gateway=192.0.2.1
DNS=192.0.2.53

[Address]
Address=192.0.2.11/24
Label=eth0:1

[Address]
Address=0.0.0.0/24
garbage
[Address
Address=192.0.2.";
        let (addresses, notes) = parse_networkd(input, text);
        assert_eq!(
            summary(&addresses),
            vec![
                ("192.0.2.10".into(), Some(24), "eth0", 6, true),
                ("2001:db8::10".into(), Some(64), "eth0", 7, true),
                ("192.0.2.11".into(), Some(24), "eth0:1", 12, true),
            ]
        );
        assert_eq!(addresses[0].origin, "networkd");
        assert_eq!(note_lines(&notes), vec![Some(17), Some(18)]);
        assert_named(&notes, input);
    }

    // A RHEL 9 profile as `nmcli connection add` writes it, and an older
    // one with the NM 0.9/1.0 `addresses` forms.
    #[test]
    fn networkmanager_keyfiles() {
        let input = "etc/NetworkManager/system-connections/eth0.nmconnection";
        let text = "[connection]
id=eth0
uuid=5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03
type=ethernet
autoconnect-priority=-999
interface-name=eth0
timestamp=1700000000

[ethernet]

[ipv4]
address1=192.0.2.10/24,192.0.2.1
address2=192.0.2.11/24
dns=192.0.2.53;
method=manual

[ipv6]
addr-gen-mode=eui64
address1=2001:db8::10/64
method=manual

[proxy]
address3=192.0.2.";
        let (addresses, notes) = parse_networkmanager(input, text);
        assert_eq!(
            summary(&addresses),
            vec![
                ("192.0.2.10".into(), Some(24), "eth0", 12, true),
                ("192.0.2.11".into(), Some(24), "eth0", 13, true),
                ("2001:db8::10".into(), Some(64), "eth0", 19, true),
            ]
        );
        assert!(notes.is_empty(), "{notes:?}");

        let old = "[connection]
id=Wired connection 1
type=802-3-ethernet
autoconnect=false

[ipv4]
method=manual
addresses1=198.51.100.4;28;198.51.100.1;
addresses=198.51.100.5/28;198.51.100.6/28,198.51.100.1;

[ipv6]
method=ignore
address1=2001:db8::20/64
address2=2001:db8::zz/64
";
        let input = "etc/NetworkManager/system-connections/Wired connection 1";
        let (addresses, notes) = parse_networkmanager(input, old);
        assert_eq!(
            summary(&addresses),
            vec![
                ("198.51.100.4".into(), Some(28), "", 8, false),
                ("198.51.100.5".into(), Some(28), "", 9, false),
                ("198.51.100.6".into(), Some(28), "", 9, false),
                ("2001:db8::20".into(), Some(64), "", 13, false),
            ]
        );
        assert_eq!(note_lines(&notes), vec![Some(14)]);
        assert_named(&notes, input);
    }

    // glibc resolv.conf(5), as NetworkManager writes it.
    #[test]
    fn resolv_conf() {
        let text = "# Generated by NetworkManager
search example.com
nameserver 192.0.2.53
nameserver 2001:db8::53
nameserver fe80::1%eth0
nameserver not-an-ip
options edns0 trust-ad
nameserver
nameserver 192.0.";
        let (servers, notes) = parse_resolv_conf("etc/resolv.conf", text);
        let got: Vec<(IpAddr, u32)> = servers.iter().map(|s| (s.address, s.line)).collect();
        assert_eq!(
            got,
            vec![
                (ip("192.0.2.53"), 3),
                (ip("2001:db8::53"), 4),
                (ip("fe80::1"), 5)
            ]
        );
        assert_eq!(servers[2].excerpt, "nameserver fe80::1%eth0");
        assert_eq!(note_lines(&notes), vec![Some(6), Some(8), Some(9)]);
        assert_named(&notes, "etc/resolv.conf");
    }

    // Debian's default /etc/hosts with the host's own entry.
    #[test]
    fn hosts() {
        let text = "127.0.0.1\tlocalhost
127.0.1.1\thost.example.com\thost
192.0.2.10 host.example.com host # primary

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
junk
192.0.2.11
";
        let (entries, notes) = parse_hosts("etc/hosts", text);
        assert_eq!(entries.len(), 6);
        assert_eq!(entries[2].address, ip("192.0.2.10"));
        assert_eq!(entries[2].names, vec!["host.example.com", "host"]);
        assert_eq!(entries[2].line, 3);
        assert_eq!(entries[3].address, ip("::1"));
        assert_eq!(note_lines(&notes), vec![Some(9), Some(10)]);
        assert_named(&notes, "etc/hosts");
    }

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
