//! cPanel's address lists: `/etc/ips` (the additional addresses its
//! `ipaliases` script binds) and `/etc/ipaddrpool` (those no account uses
//! yet).

use super::{netmask_prefix, ExpectedAddress, Found};
use crate::model::Note;
use std::net::{IpAddr, Ipv4Addr};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netconfig::samples::*;

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
}
