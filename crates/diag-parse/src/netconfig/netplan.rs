//! netplan (Ubuntu): `/etc/netplan/*.yaml`.

use super::{ExpectedAddress, Found};
use crate::model::Note;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netconfig::samples::*;

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
}
