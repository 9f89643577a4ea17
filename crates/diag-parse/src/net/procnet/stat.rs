//! `/proc/net/stat/arp_cache` and `/proc/net/stat/ndisc_cache`: the
//! neighbour caches' counters, one row per CPU.

use crate::model::Note;
use serde::Serialize;

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
}
