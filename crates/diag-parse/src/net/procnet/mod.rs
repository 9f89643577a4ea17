//! `/proc/net`: the kernel's own network tables and counters, one file per
//! format:
//!
//! | file | `/proc/net/...` |
//! |------|-----------------|
//! | [`route`] | `route`, `ipv6_route` |
//! | [`arp`] | `arp` |
//! | [`sockets`] | `tcp`, `tcp6`, `udp`, `udp6` |
//! | [`snmp`] | `snmp`, `netstat` (one format: name lines and value lines) |
//! | [`dev`] | `dev` |
//! | [`stat`] | `stat/arp_cache`, `stat/ndisc_cache` |
//! | [`softnet`] | `softnet_stat` (per-CPU receive backlog drops) |
//!
//! Addresses are printed as hex words in the kernel's byte order and read
//! as little-endian whatever machine analyses the bundle ([`sockets`] says
//! why).

pub mod arp;
pub mod dev;
pub mod route;
pub mod snmp;
pub mod sockets;
pub mod softnet;
pub mod stat;
