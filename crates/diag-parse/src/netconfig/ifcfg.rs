//! RHEL, CentOS, Alma and Rocky's network scripts:
//! `/etc/sysconfig/network-scripts/ifcfg-*` (initscripts, or
//! NetworkManager's ifcfg-rh plugin), range files included.

use super::{is_no, netmask_prefix, ExpectedAddress, Found};
use crate::model::Note;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

/// Where a range file's expansion stops (`ifcfg-eth0-range0` may span a
/// whole /8 by mistake).
pub const RANGE_CAP: u32 = 65536;

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
pub(super) fn shell_value(raw: &str) -> Result<(String, &str), &'static str> {
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
    crate::sort::sort_by_key(&mut keyed, |(_, a)| a.line);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netconfig::samples::*;

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
}
