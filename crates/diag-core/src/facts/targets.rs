//! What another host probes to check this one: the addresses the
//! configuration expects, the addresses bound and the listening TCP
//! ports, derived from the facts (`targets` of `diag/1`; `diag probe
//! --targets-from`).

use crate::facts::Facts;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The addresses and ports of the diagnosed host that a prober elsewhere
/// tries (`diag probe --targets-from`), with where each came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ProbeTargets {
    /// Addresses the configuration says the host carries.
    pub expected: Vec<ExpectedTarget>,
    /// Global-scope addresses bound to interfaces.
    pub bound: Vec<BoundTarget>,
    /// Listening TCP sockets (address `0.0.0.0` or `::` for every
    /// address).
    pub listening: Vec<ListeningPort>,
}

/// A configured address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ExpectedTarget {
    /// The address.
    pub address: IpAddr,
    /// An interface carries it.
    pub bound: bool,
    /// A listening TCP socket covers it.
    pub served: bool,
    /// `/etc/hosts` maps the host's own name to it.
    pub named: bool,
    /// Configuration file (canonical input name).
    pub input: String,
    /// Line in that file.
    pub line: u32,
}

/// An address bound to an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct BoundTarget {
    /// The address.
    pub address: IpAddr,
    /// The interface that carries it.
    pub interface: String,
    /// Canonical input name of the record.
    pub input: String,
    /// Line of the record.
    pub line: u32,
}

/// A listening TCP socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ListeningPort {
    /// Local address (an IPv4-mapped one as IPv4); unspecified for every
    /// address of its family (`::` covers IPv4 too).
    pub address: IpAddr,
    /// The port.
    pub port: u16,
}

impl ProbeTargets {
    /// The targets of a host from its facts; `None` when there are none.
    pub fn from_facts(facts: &Facts) -> Option<ProbeTargets> {
        let mut listening: Vec<ListeningPort> = facts
            .net
            .sockets
            .listeners
            .iter()
            .filter(|s| s.proto == "tcp")
            .map(|s| ListeningPort {
                // A listener on `::ffff:192.0.2.7` serves 192.0.2.7.
                address: s.local.to_canonical(),
                port: s.port,
            })
            .collect();
        crate::sort::sort_by_key(&mut listening, |l| (l.address, l.port));
        listening.dedup();
        let targets = ProbeTargets {
            expected: facts
                .net
                .expected
                .iter()
                .filter_map(|e| {
                    Some(ExpectedTarget {
                        address: e.address.parse().ok()?,
                        bound: e.bound,
                        served: e.served,
                        named: e.named,
                        input: e.input.clone(),
                        line: e.line,
                    })
                })
                .collect(),
            bound: facts
                .net
                .addresses
                .iter()
                .filter(|a| a.scope == "global")
                .map(|a| BoundTarget {
                    address: a.local,
                    interface: a.ifname.clone(),
                    input: a.input.clone(),
                    line: a.line,
                })
                .collect(),
            listening,
        };
        let empty = targets.expected.is_empty() && targets.bound.is_empty();
        (!empty || !targets.listening.is_empty()).then_some(targets)
    }

    /// Ports of listening TCP sockets that accept connections on `ip`.
    pub fn ports_of(&self, ip: IpAddr) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .listening
            .iter()
            .filter(|s| {
                s.address == ip
                    || (s.address.is_unspecified() && (s.address.is_ipv6() || ip.is_ipv4()))
            })
            .map(|s| s.port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}
