//! `/proc/net/snmp` and `/proc/net/netstat`: the kernel's protocol
//! counters, one line of names and one line of values per group (`Ip`,
//! `Tcp`, `TcpExt`, ...). Every counter is cumulative since boot.

use crate::model::Note;
use serde::Serialize;
use std::collections::BTreeMap;

/// One counter and where it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counter {
    /// The value (`Tcp: MaxConn` is -1, so signed).
    pub value: i64,
    /// Canonical input name.
    pub input: String,
    /// 1-based line of the value.
    pub line: u32,
    /// The counter as `Group: Name value` (`TcpExt: ListenOverflows 12`);
    /// for a one-value file, its text.
    pub excerpt: String,
}

/// Where one group's values were read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CounterOrigin {
    /// Canonical input name.
    pub input: String,
    /// 1-based line of the value line (the names are on the line before).
    pub line: u32,
}

/// The counters of `/proc/net/snmp` and `/proc/net/netstat`, by group
/// (`Ip`, `Tcp`, `TcpExt`, ...) and name (`RetransSegs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProtocolCounters {
    /// Group → counter name → value.
    pub values: BTreeMap<String, BTreeMap<String, i64>>,
    /// Group → where its values were read (not serialised: see [`Self::get`]).
    #[serde(skip)]
    pub origins: BTreeMap<String, CounterOrigin>,
}

impl ProtocolCounters {
    /// One counter's value.
    pub fn value(&self, group: &str, name: &str) -> Option<i64> {
        self.values.get(group)?.get(name).copied()
    }

    /// One counter with where it was read, for evidence.
    pub fn get(&self, group: &str, name: &str) -> Option<Counter> {
        let value = self.value(group, name)?;
        let origin = self.origins.get(group).cloned().unwrap_or_default();
        Some(Counter {
            value,
            input: origin.input,
            line: origin.line,
            excerpt: format!("{group}: {name} {value}"),
        })
    }

    /// Adds the groups of `other`; a group already present is kept as it
    /// is and the clash becomes a note.
    pub fn merge(&mut self, other: ProtocolCounters, notes: &mut Vec<Note>) {
        for (group, values) in other.values {
            let origin = other.origins.get(&group).cloned().unwrap_or_default();
            if let Some(first) = self.origins.get(&group) {
                notes.push(Note::line(
                    &origin.input,
                    origin.line as usize,
                    format!(
                        "group {group} was already read from {} line {}; ignored here",
                        first.input, first.line
                    ),
                ));
                continue;
            }
            self.values.insert(group.clone(), values);
            self.origins.insert(group, origin);
        }
    }
}

/// Parses `/proc/net/snmp` or `/proc/net/netstat`: for each group a line of
/// names (`Tcp: RtoAlgorithm RtoMin ...`) then a line of values
/// (`Tcp: 1 200 ...`). A group whose values do not match its names, or
/// that has no value line, is left out with a note: its values cannot be
/// told apart any more. A value that is not an integer is left out alone.
pub fn parse_proc_net_snmp(input: &str, text: &str) -> (ProtocolCounters, Vec<Note>) {
    let mut counters = ProtocolCounters::default();
    let mut notes = Vec::new();
    if text.trim().is_empty() {
        notes.push(Note::input(input, "empty file"));
        return (counters, notes);
    }
    let cut = !text.ends_with('\n');
    let last = text.lines().count();
    // The names line waiting for its values: group, line, names.
    let mut pending: Option<(&str, usize, Vec<&str>)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let Some((group, rest)) = raw.split_once(':') else {
            notes.push(Note::line(input, line, "expected 'Group: ...'"));
            continue;
        };
        let group = group.trim();
        if group.is_empty() || !group.bytes().all(|b| b.is_ascii_alphanumeric()) {
            notes.push(Note::line(
                input,
                line,
                format!("expected a group name before ':', got {group:?}"),
            ));
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        let (names, names_line) = match pending.take() {
            Some((pending_group, names_line, names)) if pending_group == group => {
                (names, names_line)
            }
            other => {
                if let Some((pending_group, names_line, _)) = other {
                    notes.push(missing_values(input, pending_group, names_line));
                }
                pending = Some((group, line, words));
                continue;
            }
        };
        if cut && line == last {
            notes.push(Note::line(
                input,
                line,
                format!("the input ends inside the values of {group} (cut short?); group ignored"),
            ));
            continue;
        }
        if names.len() != words.len() {
            notes.push(Note::line(
                input,
                line,
                format!(
                    "{} names on line {names_line} but {} values; group {group} ignored",
                    names.len(),
                    words.len()
                ),
            ));
            continue;
        }
        if counters.values.contains_key(group) {
            notes.push(Note::line(
                input,
                line,
                format!("group {group} appears twice; the second is ignored"),
            ));
            continue;
        }
        let mut values = BTreeMap::new();
        let mut bad = Vec::new();
        for (name, word) in names.iter().zip(&words) {
            match word.parse::<i64>() {
                Ok(value) => {
                    values.insert((*name).to_string(), value);
                }
                Err(_) => bad.push(format!("{name}={word}")),
            }
        }
        if !bad.is_empty() {
            notes.push(Note::line(
                input,
                line,
                format!("not integers, left out: {}", bad.join(" ")),
            ));
        }
        counters.values.insert(group.to_string(), values);
        counters.origins.insert(
            group.to_string(),
            CounterOrigin {
                input: input.to_string(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
            },
        );
    }
    if let Some((group, names_line, _)) = pending {
        notes.push(missing_values(input, group, names_line));
    }
    (counters, notes)
}

fn missing_values(input: &str, group: &str, line: usize) -> Note {
    Note::line(
        input,
        line,
        format!("names of {group} have no value line after them (cut short?)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured on the development VM (Linux 6.18, x86_64), idle; see
    // testdata/README.md.
    const SNMP: &str = include_str!("testdata/proc_net_snmp");
    const NETSTAT: &str = include_str!("testdata/proc_net_netstat");

    #[test]
    fn snmp_groups_and_negative_values() {
        let (counters, notes) = parse_proc_net_snmp("proc/net/snmp", SNMP);
        assert!(notes.is_empty(), "{notes:?}");
        let groups: Vec<&str> = counters.values.keys().map(String::as_str).collect();
        assert_eq!(groups, ["Icmp", "IcmpMsg", "Ip", "Tcp", "Udp", "UdpLite"]);
        assert_eq!(counters.value("Tcp", "MaxConn"), Some(-1));
        assert_eq!(counters.value("Tcp", "RtoMax"), Some(120000));
        assert_eq!(counters.value("Ip", "InReceives"), Some(9530));
        assert_eq!(counters.value("IcmpMsg", "InType3"), Some(2));
        let retrans = counters.get("Tcp", "OutSegs").expect("OutSegs");
        assert_eq!(
            (
                retrans.value,
                retrans.input.as_str(),
                retrans.line,
                retrans.excerpt.as_str()
            ),
            (6373, "proc/net/snmp", 8, "Tcp: OutSegs 6373")
        );
        assert_eq!(counters.get("Tcp", "Nope"), None);
    }

    #[test]
    fn header_value_mismatch_and_missing_value_line() {
        let text = "Ip: Forwarding DefaultTTL InReceives\n\
Ip: 2 64\n\
Tcp: RtoAlgorithm RtoMin\n\
Udp: InDatagrams NoPorts\n\
Udp: 170 0\n\
Icmp: InMsgs InErrors\n\
Icmp: 2 x\n\
just text\n\
Icmp: InMsgs\n\
Icmp: 3\n\
UdpLite: InDatagrams\n";
        let (counters, notes) = parse_proc_net_snmp("proc/net/snmp", text);
        let got: Vec<(Option<u32>, &str)> =
            notes.iter().map(|n| (n.line, n.message.as_str())).collect();
        assert_eq!(got.len(), 6, "{got:?}");
        assert_eq!(
            got[0],
            (Some(2), "3 names on line 1 but 2 values; group Ip ignored")
        );
        assert_eq!(got[1].0, Some(3));
        assert!(got[1].1.contains("Tcp have no value line"));
        assert_eq!(got[2], (Some(7), "not integers, left out: InErrors=x"));
        assert_eq!(got[3].0, Some(8));
        assert_eq!(
            got[4],
            (Some(10), "group Icmp appears twice; the second is ignored")
        );
        assert_eq!(got[5].0, Some(11));
        assert_eq!(counters.value("Udp", "NoPorts"), Some(0));
        assert_eq!(counters.value("Icmp", "InMsgs"), Some(2));
        assert_eq!(counters.value("Icmp", "InErrors"), None);
        assert!(!counters.values.contains_key("Ip") && !counters.values.contains_key("Tcp"));
    }

    #[test]
    fn truncated_snmp_keeps_the_complete_groups() {
        // Cut inside the Udp values: everything before is used.
        let cut = &SNMP[..SNMP.find("Udp: 176 0 0 1").expect("udp") + 13];
        let (counters, notes) = parse_proc_net_snmp("proc/net/snmp", cut);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].line, Some(10));
        assert!(counters.values.contains_key("Tcp") && !counters.values.contains_key("Udp"));
        // Cut inside the last number of a value line: the count matches but
        // the number may be short, so the group is not used.
        let cut = &SNMP[..SNMP.find("Udp: 176").expect("udp") + 7];
        let (counters, notes) = parse_proc_net_snmp("proc/net/snmp", cut);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].message.contains("cut short"));
        assert!(!counters.values.contains_key("Udp"));
        // Cut inside a names line.
        let cut = &NETSTAT[..300];
        let (counters, notes) = parse_proc_net_snmp("proc/net/netstat", cut);
        assert!(counters.values.is_empty());
        assert_eq!((notes.len(), notes[0].line), (1, Some(1)));
    }

    #[test]
    fn snmp_garbage_never_panics() {
        for text in [
            "",
            "\n\n",
            ":",
            ": 1 2",
            "Tcp:",
            "Tcp:\nTcp:\n",
            "\u{0}:\u{1}",
            "é: x\né: 1",
        ] {
            let (_, notes) = parse_proc_net_snmp("proc/net/snmp", text);
            assert!(!notes.is_empty() || text == "Tcp:\nTcp:\n", "{text:?}");
        }
        let mut notes = Vec::new();
        let mut counters = parse_proc_net_snmp("proc/net/snmp", SNMP).0;
        counters.merge(parse_proc_net_snmp("proc/net/netstat", SNMP).0, &mut notes);
        assert_eq!(notes.len(), 6);
        assert_eq!(notes[0].input, "proc/net/netstat");
        assert_eq!(counters.origins["Tcp"].input, "proc/net/snmp");
    }
}
