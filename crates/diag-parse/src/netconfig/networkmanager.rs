//! NetworkManager keyfiles: `/etc/NetworkManager/system-connections/*`.

use super::{ini_entries, is_no, ExpectedAddress, Found};
use crate::model::Note;
use std::collections::BTreeSet;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netconfig::samples::*;

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
}
