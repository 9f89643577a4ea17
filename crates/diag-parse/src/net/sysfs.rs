//! `/sys/class/net/<iface>/flags`: an interface's `IFF_*` flags, for
//! links netlink did not give.

use crate::model::Note;
use serde::Serialize;

/// A network interface and the flags sysfs reports for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// Interface name.
    pub name: String,
    /// `IFF_*` flags.
    pub flags: u32,
    /// IFF_UP.
    pub up: bool,
    /// IFF_POINTOPOINT: no neighbour resolution happens on this link, so an
    /// on-link route through it is normal.
    pub pointopoint: bool,
    /// IFF_NOARP.
    pub noarp: bool,
    /// IFF_LOOPBACK.
    pub loopback: bool,
}

/// Parses `sys/class/net/<name>/flags` (`0x1003`).
pub fn parse_interface_flags(name: &str, input: &str, text: &str) -> Result<Interface, Note> {
    let value = text.trim();
    let flags = value
        .strip_prefix("0x")
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or_else(|| {
            Note::line(
                input,
                1,
                format!("expected hex flags like 0x1003, got {value:?}"),
            )
        })?;
    Ok(Interface {
        name: name.to_string(),
        flags,
        up: flags & 0x1 != 0,
        loopback: flags & 0x8 != 0,
        pointopoint: flags & 0x10 != 0,
        noarp: flags & 0x80 != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_flags() {
        let lo = parse_interface_flags("lo", "sys/class/net/lo/flags", "0x9\n").expect("lo");
        assert!(lo.up && lo.loopback && !lo.pointopoint);
        let ppp = parse_interface_flags("ppp0", "x", "0x10d1").expect("ppp");
        assert!(ppp.pointopoint && ppp.noarp);
        assert!(parse_interface_flags("x", "x", "up").is_err());
    }
}
