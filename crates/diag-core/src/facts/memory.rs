//! What memory looked like when it ran out (issue 24, class 8): the state
//! the kernel dumps with an OOM kill or an allocation failure (`Mem-Info:`
//! and the lines after it), read back into numbers so rules can say *why*
//! memory ran out: unreclaimable kernel slab (a leak), shared memory, free
//! memory that is all CMA, one process's resident size, no swap.
//!
//! The dump's counters are in pages (`slab_unreclaimable:534590`), its
//! zone lines in kB (`DMA free:519112kB ... free_cma:513592kB`). Shares of
//! RAM are taken against `N pages RAM` when the dump has it, else against
//! the pages the counters account for (anon, file, unevictable, slab,
//! page tables, free). The page size is what the zone lines and the
//! counters imply (`free:` in kB over `free:` in pages), else 4 KiB.
//!
//! A dump starts at `Mem-Info:` (2.6: `Mem-info:`), or, in a log pasted
//! from its middle, at the first zone or `pages RAM` line; it ends with the
//! kill (`Killed process ...`), the next dump, another input, or after
//! 20,000 lines. In a log large enough to be compacted
//! (`facts::kernel_stream`), the dump is kept whole with the OOM report
//! it belongs to (`parse::events`).

use crate::parse::kernel_log::LogEntry;
use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

/// Lines of one dump read at most (a task list of thousands of processes
/// lies between the counters and the kill).
const DUMP_MAX: usize = 20_000;

/// Lines of a dump shown as its evidence, at most.
pub const EXCERPT_MAX: usize = 16;

/// One memory-state dump.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OomMemory {
    /// Input of the dump's first line.
    pub input: String,
    /// Line of the dump's first line in that input.
    pub line: u32,
    /// Line of the dump's last line read (the kill, when there is one).
    pub line_end: u32,
    /// The lines the numbers were read from (at most 16: the first ones
    /// and the kill).
    pub excerpt: String,
    /// RAM in pages (`N pages RAM`), else the pages the counters account
    /// for; 0 when the dump says neither.
    pub ram_pages: u64,
    /// Unreclaimable kernel slab, in percent of `ram_pages`.
    pub slab_unreclaimable_pct: u64,
    /// Shared memory (tmpfs, `/dev/shm`, SysV), in percent of `ram_pages`.
    pub shmem_pct: u64,
    /// Free memory, in kB (the zones' `free:`, else the counter).
    pub free_kb: u64,
    /// How much of the free memory is CMA, in percent (only movable
    /// allocations can use it).
    pub free_cma_pct: u64,
    /// Whether the dump gives the swap totals.
    pub swap_known: bool,
    /// `Total swap = NkB`.
    pub swap_total_kb: u64,
    /// `Free swap = NkB`.
    pub swap_free_kb: u64,
    /// The process the OOM killer killed, when the dump is followed by
    /// the kill.
    pub victim: String,
    /// Its resident size (anon + file + shmem), in kB.
    pub victim_rss_kb: u64,
    /// Its resident size, in percent of RAM.
    pub victim_rss_pct: u64,
}

/// Counters of one dump while it is read.
#[derive(Default)]
struct Dump {
    first: usize,
    /// Entries the numbers were read from.
    used: Vec<usize>,
    kill: Option<usize>,
    pages: std::collections::HashMap<&'static str, u64>,
    ram_pages: u64,
    zone_free_kb: u64,
    zone_cma_kb: u64,
    swap: (Option<u64>, Option<u64>),
    victim: Option<(String, u64)>,
}

/// The page counters of `Mem-Info:` read (of the many it prints).
const COUNTERS: [&str; 11] = [
    "active_anon",
    "inactive_anon",
    "active_file",
    "inactive_file",
    "unevictable",
    "slab_reclaimable",
    "slab_unreclaimable",
    "shmem",
    "pagetables",
    "free",
    "free_cma",
];

static ZONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:Node \d+ )?(?:DMA32|DMA|Normal|HighMem|Movable|Device) free:(\d+)kB.*?(?: free_cma:(\d+)kB)?$")
        .expect("static regex")
});

static KILLED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Killed process \d+ \(([^)]*)\).*? anon-rss:(\d+)kB, file-rss:(\d+)kB(?:, shmem-rss:(\d+)kB)?")
        .expect("static regex")
});

/// Every memory-state dump in `entries` (the kernel log, oldest first).
pub fn dumps(entries: &[LogEntry]) -> Vec<OomMemory> {
    let mut out = Vec::new();
    let mut current: Option<Dump> = None;
    for (i, entry) in entries.iter().enumerate() {
        let message = entry.message.trim();
        let header = message.starts_with("Mem-Info:") || message.starts_with("Mem-info:");
        let ended = current.as_ref().is_some_and(|d| {
            header
                || d.kill.is_some()
                || i - d.first > DUMP_MAX
                || *entries[d.first].input != *entry.input
        });
        if ended {
            if let Some(dump) = current.take() {
                out.push(finish(dump, entries));
            }
        }
        let starts_here = header
            || ZONE.is_match(message)
            || message.ends_with(" pages RAM")
            || message.starts_with("Total swap =");
        if current.is_none() && starts_here {
            current = Some(Dump {
                first: i,
                used: vec![i],
                ..Dump::default()
            });
        }
        if let Some(dump) = current.as_mut() {
            read_line(dump, message, i);
        }
    }
    if let Some(dump) = current {
        out.push(finish(dump, entries));
    }
    out
}

/// Reads what one line of a dump says into `dump`.
fn read_line(dump: &mut Dump, message: &str, i: usize) {
    if let Some(caps) = KILLED.captures(message) {
        let kb = |n: usize| {
            caps.get(n)
                .and_then(|m| m.as_str().parse::<u64>().ok())
                .unwrap_or(0)
        };
        dump.victim = Some((
            caps[1].to_string(),
            kb(2).saturating_add(kb(3)).saturating_add(kb(4)),
        ));
        dump.kill = Some(i);
        dump.use_line(i);
        return;
    }
    if let Some(caps) = ZONE.captures(message) {
        let kb = |n: usize| {
            caps.get(n)
                .and_then(|m| m.as_str().parse::<u64>().ok())
                .unwrap_or(0)
        };
        dump.zone_free_kb = dump.zone_free_kb.saturating_add(kb(1));
        dump.zone_cma_kb = dump.zone_cma_kb.saturating_add(kb(2));
        dump.use_line(i);
        return;
    }
    let number = |text: &str| text.trim().parse::<u64>().ok();
    if let Some(pages) = message.strip_suffix(" pages RAM").and_then(number) {
        dump.ram_pages = pages;
    } else if let Some(kb) = message
        .strip_prefix("Total swap =")
        .and_then(|r| r.strip_suffix("kB"))
        .and_then(number)
    {
        dump.swap.0 = Some(kb);
    } else if let Some(kb) = message
        .strip_prefix("Free swap")
        .and_then(|r| r.trim_start().strip_prefix('='))
        .and_then(|r| r.strip_suffix("kB"))
        .and_then(number)
    {
        dump.swap.1 = Some(kb);
    } else if !message.starts_with("Node ") {
        // `key:N` counters in pages (the per-node line, in kB, is not read).
        let mut read = false;
        for token in message.split_whitespace() {
            let Some((key, value)) = token.split_once(':') else {
                continue;
            };
            if let (Some(key), Ok(value)) =
                (COUNTERS.iter().find(|k| **k == key), value.parse::<u64>())
            {
                dump.pages.insert(key, value);
                read = true;
            }
        }
        if !read {
            return;
        }
    } else {
        return;
    }
    dump.use_line(i);
}

impl Dump {
    fn use_line(&mut self, i: usize) {
        if self.used.last() != Some(&i) {
            self.used.push(i);
        }
    }
}

fn finish(dump: Dump, entries: &[LogEntry]) -> OomMemory {
    let page = |key: &str| dump.pages.get(key).copied().unwrap_or(0);
    // Every page counter read but shmem (part of anon or file already)
    // and free_cma (part of free).
    let accounted: u64 = COUNTERS
        .iter()
        .filter(|k| !matches!(**k, "shmem" | "free_cma"))
        .fold(0u64, |sum, k| sum.saturating_add(page(k)));
    let ram_pages = if dump.ram_pages > 0 {
        dump.ram_pages
    } else {
        accounted
    };
    // The page size the dump implies: free memory in kB over free pages.
    let page_kb = match (dump.zone_free_kb, page("free")) {
        (kb, pages) if kb > 0 && pages > 0 => [4u64, 8, 16, 64]
            .into_iter()
            .min_by_key(|size| (kb / pages).abs_diff(*size))
            .unwrap_or(4),
        _ => 4,
    };
    let pct = |part: u64, whole: u64| part.saturating_mul(100).checked_div(whole).unwrap_or(0);
    let (free_kb, free_cma_pct) = if dump.zone_free_kb > 0 {
        (dump.zone_free_kb, pct(dump.zone_cma_kb, dump.zone_free_kb))
    } else {
        (
            page("free").saturating_mul(page_kb),
            pct(page("free_cma"), page("free")),
        )
    };
    let (victim, victim_rss_kb) = dump.victim.clone().unwrap_or_default();
    let first = &entries[dump.first];
    let last = dump.used.last().map_or(first, |&i| &entries[i]);
    // The first lines read and the kill: a dump of a big host lists
    // thousands of tasks in between.
    let mut shown: Vec<usize> = dump.used.iter().copied().take(EXCERPT_MAX - 1).collect();
    if let Some(kill) = dump.kill.filter(|k| !shown.contains(k)) {
        shown.push(kill);
    }
    let excerpt = shown
        .iter()
        .map(|&i| entries[i].raw.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    OomMemory {
        input: first.input.to_string(),
        line: first.line,
        line_end: last.line,
        excerpt,
        ram_pages,
        slab_unreclaimable_pct: pct(page("slab_unreclaimable"), ram_pages),
        shmem_pct: pct(page("shmem"), ram_pages),
        free_kb,
        free_cma_pct,
        swap_known: dump.swap.0.is_some(),
        swap_total_kb: dump.swap.0.unwrap_or(0),
        swap_free_kb: dump.swap.1.unwrap_or(0),
        victim,
        victim_rss_kb,
        victim_rss_pct: pct(victim_rss_kb, ram_pages.saturating_mul(page_kb)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::kernel_log::parse_dmesg;

    fn dumps_of(text: &str) -> Vec<OomMemory> {
        dumps(&parse_dmesg("commands/dmesg", text).0)
    }

    /// stress-ng issue 177 (sparc64, 8 KiB pages): the slab holds almost
    /// everything, and RAM is not in the excerpt.
    #[test]
    fn a_slab_dominated_dump_from_sparc64() {
        let text = "[44179.087680] Mem-Info:\n\
[44179.087698] active_anon:0 inactive_anon:0 isolated_anon:0\n\
[44179.087698]  active_file:23 inactive_file:30 isolated_file:0\n\
[44179.087698]  unevictable:5 dirty:0 writeback:0\n\
[44179.087698]  slab_reclaimable:466670 slab_unreclaimable:534590\n\
[44179.087698]  mapped:19 shmem:0 pagetables:249 bounce:0\n\
[44179.087698]  kernel_misc_reclaimable:0\n\
[44179.087698]  free:31098 free_pcp:23 free_cma:0\n\
[44179.087848] Node 0 active_anon:0kB inactive_anon:0kB active_file:184kB\n";
        let got = dumps_of(text);
        assert_eq!(got.len(), 1, "{got:?}");
        let d = &got[0];
        assert_eq!((d.line, d.line_end), (1, 8));
        assert!(
            d.excerpt.contains("slab_unreclaimable:534590"),
            "{}",
            d.excerpt
        );
        assert_eq!(d.ram_pages, 1_032_665);
        assert_eq!(d.slab_unreclaimable_pct, 51);
        assert_eq!(d.free_cma_pct, 0);
        assert!(!d.swap_known);
    }

    /// raspberrypi/linux issue 3872: a report pasted from its middle; the
    /// free memory is all CMA.
    #[test]
    fn free_memory_that_is_all_cma_from_a_partial_report() {
        let text = "[  492.656714] Node 0 active_anon:968kB inactive_anon:32280kB shmem:10236kB all_unreclaimable? no\n\
[  492.659081] DMA free:519112kB boost:7216kB min:10428kB low:11228kB high:12028kB reserved_highatomic:0KB active_anon:0kB present:786432kB managed:663836kB mlocked:0kB bounce:0kB free_pcp:236kB local_pcp:232kB free_cma:513592kB\n\
[  492.661151] lowmem_reserve[]: 0 0 3188 3188\n\
[  492.665835] Free swap  = 785668kB\n\
[  492.666982] Total swap = 785668kB\n\
[  492.668136] 1012736 pages RAM\n\
[  492.671656] 131072 pages cma reserved\n";
        let got = dumps_of(text);
        assert_eq!(got.len(), 1, "{got:?}");
        let d = &got[0];
        assert_eq!(d.line, 2);
        assert_eq!(d.free_kb, 519_112);
        assert_eq!(d.free_cma_pct, 98);
        assert_eq!(d.ram_pages, 1_012_736);
        assert!(d.swap_known);
        assert_eq!((d.swap_total_kb, d.swap_free_kb), (785_668, 785_668));
    }

    /// Two reports: each dump ends at its kill, with the victim's share.
    #[test]
    fn each_dump_ends_at_its_kill() {
        let report = |pid: u32| {
            format!(
                "[10.0] java invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0\n\
[10.1] Mem-Info:\n\
[10.1] active_anon:900000 inactive_anon:10000 isolated_anon:0\n\
[10.1]  slab_reclaimable:2000 slab_unreclaimable:3000\n\
[10.1]  mapped:19 shmem:100 pagetables:2000 bounce:0\n\
[10.1]  free:20000 free_pcp:23 free_cma:0\n\
[10.2] Node 0 Normal free:80000kB boost:0kB min:1000kB free_cma:0kB\n\
[10.2] Free swap  = 0kB\n\
[10.2] Total swap = 0kB\n\
[10.2] 1048576 pages RAM\n\
[10.3] Out of memory: Killed process {pid} (java) total-vm:4000000kB, anon-rss:3600000kB, file-rss:100kB, shmem-rss:0kB, UID:1000 pgtables:8000kB oom_score_adj:0\n"
            )
        };
        let got = dumps_of(&(report(41) + &report(42) + "[11.0] eth0: link up\n"));
        assert_eq!(got.len(), 2, "{got:?}");
        for d in &got {
            assert_eq!(d.victim, "java");
            assert_eq!(d.victim_rss_kb, 3_600_100);
            assert_eq!(d.victim_rss_pct, 85);
            assert!(d.swap_known && d.swap_total_kb == 0);
            assert!(d.excerpt.contains("Mem-Info:") && d.excerpt.contains("Killed process"));
        }
        assert_eq!((got[0].line, got[1].line), (2, 13));
    }

    /// Nothing of a dump, or a malformed one: no record, or one with
    /// what could be read.
    #[test]
    fn no_dump_and_hostile_dumps() {
        assert!(
            dumps_of("[1.0] eth0: link up\n[2.0] Memory: 3218300K/25165432K available\n")
                .is_empty()
        );
        let got = dumps_of("[1.0] Mem-Info:\n[1.0] free:x slab_unreclaimable:99999999999999999999 free_cma:\n[1.0] 0 pages RAM\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].slab_unreclaimable_pct, 0);
        let got = dumps_of("[1.0] Mem-Info:\n[1.0] Out of memory: Killed process 1 (\u{1b}[2J) total-vm:1kB, anon-rss:18446744073709551615kB, file-rss:18446744073709551615kB\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].victim_rss_pct, 0);
    }
}
