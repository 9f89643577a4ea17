//! Network state from procfs and sysfs: neighbour-cache statistics, the IPv4
//! routing table, interface flags.

use crate::model::Note;
use serde::Serialize;
use std::net::Ipv4Addr;

/// Totals of one neighbour cache (`/proc/net/stat/arp_cache` or
/// `ndisc_cache`), summed over the per-CPU rows. `table_fulls` counts the
/// times the table was full and forced garbage collection could not make
/// room: it keeps counting when the kernel's own message is rate-limited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NeighCacheStats {
    /// `arp_cache` (IPv4) or `ndisc_cache` (IPv6).
    pub table: String,
    /// Entries in the table now (a global value, repeated on every row).
    pub entries: u64,
    /// Allocations, summed over CPUs.
    pub allocs: u64,
    /// Forced garbage-collection runs (the table reached gc_thresh2/3).
    pub forced_gc_runs: u64,
    /// Packets dropped while waiting for resolution.
    pub unresolved_discards: u64,
    /// Times the table was full: each one is a "neighbor table overflow".
    pub table_fulls: u64,
    /// Number of per-CPU rows read.
    pub cpus: u64,
    /// Whether a second sample was taken at the end of collection.
    pub sampled_twice: bool,
    /// How much `table_fulls` grew between the two samples: the table is
    /// overflowing right now.
    pub table_fulls_growth: u64,
    /// Canonical input name.
    pub input: String,
    /// Line of the header (the counters are summed over all rows).
    pub line: u32,
    /// A one-line summary of the counters, as evidence.
    pub excerpt: String,
}

/// Parses a `/proc/net/stat/{arp,ndisc}_cache` file: a header of column
/// names, then one row of hexadecimal counters per CPU.
pub fn parse_neigh_cache_stats(
    input: &str,
    table: &str,
    text: &str,
) -> (Option<NeighCacheStats>, Vec<Note>) {
    let mut notes = Vec::new();
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        notes.push(Note::input(input, "empty file"));
        return (None, notes);
    };
    let columns: Vec<&str> = header.split_whitespace().collect();
    if columns.first() != Some(&"entries") {
        notes.push(Note::line(input, 1, "header does not start with 'entries'"));
        return (None, notes);
    }
    let mut stats = NeighCacheStats {
        table: table.to_string(),
        input: input.to_string(),
        line: 1,
        ..NeighCacheStats::default()
    };
    for (index, row) in lines.enumerate() {
        let line = index + 2;
        if row.trim().is_empty() {
            continue;
        }
        let values: Vec<Option<u64>> = row
            .split_whitespace()
            .map(|v| u64::from_str_radix(v, 16).ok())
            .collect();
        if values.len() != columns.len() || values.iter().any(Option::is_none) {
            notes.push(Note::line(
                input,
                line,
                format!("expected {} hex counters", columns.len()),
            ));
            continue;
        }
        stats.cpus += 1;
        for (column, value) in columns.iter().zip(values.iter().flatten()) {
            match *column {
                "entries" => stats.entries = *value,
                "allocs" => stats.allocs += value,
                "forced_gc_runs" => stats.forced_gc_runs += value,
                "unresolved_discards" => stats.unresolved_discards += value,
                "table_fulls" => stats.table_fulls += value,
                _ => {}
            }
        }
    }
    if stats.cpus == 0 {
        notes.push(Note::input(input, "no counter rows"));
        return (None, notes);
    }
    stats.excerpt = format!(
        "{table}: entries={} table_fulls={} forced_gc_runs={} unresolved_discards={} (summed over {} CPU rows)",
        stats.entries, stats.table_fulls, stats.forced_gc_runs, stats.unresolved_discards, stats.cpus
    );
    (Some(stats), notes)
}

/// One route of the IPv4 main table as `/proc/net/route` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Route {
    /// `inet` or `inet6`.
    pub family: String,
    /// Destination prefix, `0.0.0.0/0` for the default route.
    pub dst: String,
    /// Whether this is a default route.
    pub default: bool,
    /// Next hop, empty when the route is on-link (no gateway).
    pub gateway: String,
    /// Outgoing interface.
    pub dev: String,
    /// Route metric.
    pub metric: u64,
    /// Whether the route is up (RTF_UP).
    pub up: bool,
    /// Canonical input name.
    pub input: String,
    /// 1-based line in the input.
    pub line: u32,
    /// The raw line.
    pub excerpt: String,
}

const RTF_UP: u32 = 0x1;
const RTF_GATEWAY: u32 = 0x2;

/// Parses `/proc/net/route`: a tab-separated table of little-endian hex
/// addresses, lines padded with spaces.
pub fn parse_proc_net_route(input: &str, text: &str) -> (Vec<Route>, Vec<Note>) {
    let mut routes = Vec::new();
    let mut notes = Vec::new();
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim_start().starts_with("Iface") => {}
        Some(_) => {
            notes.push(Note::line(input, 1, "header does not start with 'Iface'"));
            return (routes, notes);
        }
        None => return (routes, notes),
    }
    for (index, raw) in lines {
        let line = index + 1;
        let fields: Vec<&str> = raw.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() < 8 {
            notes.push(Note::line(input, line, "expected at least 8 columns"));
            continue;
        }
        let dst = hex_ipv4(fields[1]);
        let gateway = hex_ipv4(fields[2]);
        let flags = u32::from_str_radix(fields[3], 16).ok();
        let metric = fields[6].parse::<u64>().ok();
        let mask = hex_ipv4(fields[7]);
        let (Some(dst), Some(gateway), Some(flags), Some(metric), Some(mask)) =
            (dst, gateway, flags, metric, mask)
        else {
            notes.push(Note::line(
                input,
                line,
                "malformed route (bad hex address, flags or metric)",
            ));
            continue;
        };
        let prefix = u32::from(mask).count_ones();
        routes.push(Route {
            family: "inet".into(),
            dst: format!("{dst}/{prefix}"),
            default: prefix == 0,
            gateway: if flags & RTF_GATEWAY != 0 {
                gateway.to_string()
            } else {
                String::new()
            },
            dev: fields[0].to_string(),
            metric,
            up: flags & RTF_UP != 0,
            input: input.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            excerpt: raw.trim_end().to_string(),
        });
    }
    (routes, notes)
}

/// `/proc/net/route` prints addresses as the host-order hex of the
/// network-order bytes, i.e. little-endian on every machine diag targets.
fn hex_ipv4(field: &str) -> Option<Ipv4Addr> {
    if field.len() != 8 {
        return None;
    }
    let value = u32::from_str_radix(field, 16).ok()?;
    Some(Ipv4Addr::from(value.swap_bytes()))
}

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

    // Captured on this project's CI VM (Debian 12, kernel 6.x, 2 CPUs).
    const ARP_CACHE: &str = "entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast rcv_probes_ucast periodic_gc_runs forced_gc_runs unresolved_discards table_fulls
00000002 00000001 00000000 00000000   00000000 00000000 00000000   00000000         00000000         00000008         00000010       00000000            0000000a
00000002 00000001 00000000 00000000   00000005 00000001 00000000   00000000         00000000         00000000         00000003       00000000            00000001
";

    #[test]
    fn arp_cache_counters_are_summed_over_cpus() {
        let (stats, notes) =
            parse_neigh_cache_stats("proc/net/stat/arp_cache", "arp_cache", ARP_CACHE);
        assert!(notes.is_empty());
        let stats = stats.expect("stats");
        assert_eq!(
            (
                stats.entries,
                stats.allocs,
                stats.table_fulls,
                stats.forced_gc_runs,
                stats.cpus
            ),
            (2, 2, 11, 19, 2)
        );
    }

    #[test]
    fn arp_cache_truncated_row_is_a_note_and_the_rest_is_used() {
        let text = format!("{ARP_CACHE}00000002 0000");
        let (stats, notes) = parse_neigh_cache_stats("proc/net/stat/arp_cache", "arp_cache", &text);
        assert_eq!(stats.expect("stats").table_fulls, 11);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].line, Some(4));
        let (none, notes) = parse_neigh_cache_stats("x", "arp_cache", "garbage\n");
        assert!(none.is_none() && notes.len() == 1);
        let (none, _) = parse_neigh_cache_stats("x", "arp_cache", "");
        assert!(none.is_none());
    }

    #[test]
    fn proc_net_route_default_and_onlink() {
        let text = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0                                                                               \n\
eth1\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n\
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
eth0\tZZZZ\n";
        let (routes, notes) = parse_proc_net_route("proc/net/route", text);
        assert_eq!(routes.len(), 3);
        assert_eq!(
            (
                routes[0].dst.as_str(),
                routes[0].gateway.as_str(),
                routes[0].metric
            ),
            ("0.0.0.0/0", "192.0.2.1", 100)
        );
        assert!(routes[1].default && routes[1].gateway.is_empty());
        assert_eq!(routes[2].dst, "192.0.2.0/24");
        assert!(!routes[2].default);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].line, Some(5));
    }

    #[test]
    fn corpus_routes_parse() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/route");
        for file in std::fs::read_dir(dir).expect("corpus/route") {
            let path = file.expect("entry").path();
            let text = String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned();
            let (routes, _notes) = parse_proc_net_route("proc/net/route", &text);
            if text.starts_with("Iface") {
                assert!(!routes.is_empty(), "{}", path.display());
            }
        }
    }

    #[test]
    fn interface_flags() {
        let lo = parse_interface_flags("lo", "sys/class/net/lo/flags", "0x9\n").expect("lo");
        assert!(lo.up && lo.loopback && !lo.pointopoint);
        let ppp = parse_interface_flags("ppp0", "x", "0x10d1").expect("ppp");
        assert!(ppp.pointopoint && ppp.noarp);
        assert!(parse_interface_flags("x", "x", "up").is_err());
    }
}
