//! `/etc/hosts`: addresses and the names the host gives them.

use super::{line_u32, parse_zoned};
use crate::model::Note;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};

/// One line of `/etc/hosts`: an address and its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostsEntry {
    /// The address.
    #[serde(serialize_with = "super::display")]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netconfig::samples::*;

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
}
