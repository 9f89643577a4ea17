//! systemd-networkd: `/etc/systemd/network/*.network`.

use super::{ini_entries, ExpectedAddress, Found};
use crate::model::Note;
use std::collections::HashMap;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netconfig::samples::*;

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
}
