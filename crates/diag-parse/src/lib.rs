//! diag-parse: the pure parsers of diag, bytes or text of one format to
//! typed records, with notes for what could not be used.
//!
//! No I/O and no derivation, and no dependency on the operating system
//! (no `nix`, no `libc`): the crate builds and its parsers run on bytes
//! alone, so the fuzz targets and anyone who only reads files depend on
//! it without the rest of diag. Reading the inputs is diag-core's
//! `source` layer's job, deriving what they mean for the host its `facts`
//! layer's (docs/architecture.md); diag-core re-exports this crate as
//! `diag_core::parse` (and [`model`], [`sanitize`] at its root).
//!
//! One module per format, named as an operator names it: the network
//! tables and counters under [`net`] (`ip -j`, `ip` text, net-tools,
//! `/proc/net`, sysfs, sysctl), the network configuration under
//! [`netconfig`] (cPanel, ifupdown, netplan, ifcfg, networkd,
//! NetworkManager, resolv.conf, hosts), md under [`md`] (mdstat, sysfs,
//! `mdadm --detail`), the kernel log ([`kernel_log`], [`events`]),
//! filesystems ([`fs`]), captures ([`pcap`]), services ([`services`]),
//! kernel trace events ([`trace`]).
//!
//! Stability: as diag-core's, the Rust API follows semver from 1.0 and may
//! change before it.

#![deny(missing_docs)]

pub mod model;
pub mod sanitize;
#[doc(hidden)]
pub mod sort;

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
