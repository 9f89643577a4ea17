//! Parse: pure parsers, bytes or text of one format to typed records, with
//! notes for what could not be used. No I/O and no derivation: reading
//! the inputs is [`crate::source`]'s job, deriving what they mean for the
//! host is [`crate::facts`]'s.
//!
//! One file per format, named as an operator names it: the network tables
//! and counters under [`net`] (`ip -j`, `ip` text, net-tools, `/proc/net`,
//! sysfs, sysctl), the network configuration under [`netconfig`] (cPanel,
//! ifupdown, netplan, ifcfg, networkd, NetworkManager, resolv.conf,
//! hosts), md under [`md`] (mdstat, sysfs, `mdadm --detail`).

pub mod events;
pub mod fs;
pub mod hostnamectl;
pub mod json_records;
pub mod kernel_log;
pub mod md;
pub mod net;
pub mod netconfig;
pub mod pcap;
pub mod services;
pub mod sos_log;
pub mod trace;
