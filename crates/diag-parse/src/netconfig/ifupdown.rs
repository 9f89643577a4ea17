//! Debian and Ubuntu's ifupdown: `/etc/network/interfaces` and the files
//! of `/etc/network/interfaces.d/` (interfaces(5), ifupdown2 too).

use super::{netmask_prefix, parse_cidr, ExpectedAddress, Found};
use crate::model::Note;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// What one ifupdown file says, before `auto` lines of other files are
/// known.
#[derive(Debug, Default)]
pub struct IfupdownFile {
    /// Addresses (with `on_boot` false) and the stanza each belongs to.
    pub addresses: Vec<(String, ExpectedAddress)>,
    /// Interfaces named by `auto`, `allow-auto` and `allow-hotplug` lines.
    pub auto: BTreeSet<String>,
    /// Paths of `source` and `source-directory` lines.
    pub sources: Vec<String>,
    /// What could not be used.
    pub notes: Vec<Note>,
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

/// Reads one ifupdown file; [`parse_ifupdown`] is this with only the
/// file's own `auto` lines counted.
pub fn ifupdown_file(input: &str, text: &str) -> IfupdownFile {
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
    crate::sort::sort_by_key(&mut file.addresses, |(_, a)| a.line);
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
/// `allow-hotplug` line of *this* file names;
/// `diag_core::facts::netconfig::from_snapshot` also counts such lines in
/// the other ifupdown files.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netconfig::samples::*;

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
}
