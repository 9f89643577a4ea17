//! `/proc/net/softnet_stat`: one line per CPU of hexadecimal counters of
//! the receive path (`softnet_seq_show` in `net/core/net-procfs.c`):
//! packets processed, packets **dropped** because the CPU's input backlog
//! (`net.core.netdev_max_backlog`) was full, and **time_squeeze**, the
//! times `net_rx_action` stopped with work left (its budget,
//! `net.core.netdev_budget`/`netdev_budget_usecs`, ran out). Columns 4-9
//! are zero (retired counters); kernels since 2.6 add `cpu_collision`,
//! `received_rps`, `flow_limit_count`, and since 5.10 the backlog length
//! and the CPU number. Only the first three are read; every line needs
//! them.

use crate::model::Note;
use serde::Serialize;

/// One CPU's line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SoftnetCpu {
    /// 1-based line in the input.
    pub line: u32,
    /// Packets processed.
    pub processed: u64,
    /// Packets dropped: the CPU's input backlog was full.
    pub dropped: u64,
    /// Times the receive softirq ran out of budget with packets left.
    pub time_squeeze: u64,
}

/// The counters of every CPU, summed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Softnet {
    /// Canonical input name.
    pub input: String,
    /// CPUs (lines) read.
    pub cpus: u32,
    /// Packets processed, all CPUs.
    pub processed: u64,
    /// Packets dropped because a CPU's input backlog was full, all CPUs,
    /// since boot.
    pub dropped: u64,
    /// Times the receive softirq ran out of budget, all CPUs, since boot.
    pub time_squeeze: u64,
    /// The line of the CPU that dropped most (the first CPU's when none
    /// dropped).
    pub line: u32,
    /// That line as the kernel wrote it.
    pub excerpt: String,
    /// Each CPU's counters.
    #[serde(skip)]
    pub per_cpu: Vec<SoftnetCpu>,
}

/// Parses `/proc/net/softnet_stat`; `None` when no line holds three hex
/// counters. A malformed line is a note and is left out.
pub fn parse_softnet_stat(input: &str, text: &str) -> (Option<Softnet>, Vec<Note>) {
    let mut notes = Vec::new();
    let mut softnet = Softnet {
        input: input.to_string(),
        ..Softnet::default()
    };
    let mut worst: Option<(u64, u32, &str)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<Option<u64>> = raw
            .split_whitespace()
            .take(3)
            .map(|f| u64::from_str_radix(f, 16).ok())
            .collect();
        let [Some(processed), Some(dropped), Some(time_squeeze)] = fields[..] else {
            notes.push(Note::line(
                input,
                line as usize,
                "not a softnet_stat line (three hexadecimal counters expected)",
            ));
            continue;
        };
        softnet.per_cpu.push(SoftnetCpu {
            line,
            processed,
            dropped,
            time_squeeze,
        });
        softnet.cpus += 1;
        softnet.processed = softnet.processed.saturating_add(processed);
        softnet.dropped = softnet.dropped.saturating_add(dropped);
        softnet.time_squeeze = softnet.time_squeeze.saturating_add(time_squeeze);
        if worst.is_none_or(|(most, _, _)| dropped > most) {
            worst = Some((dropped, line, raw.trim()));
        }
    }
    let Some((_, line, excerpt)) = worst else {
        return (None, notes);
    };
    softnet.line = line;
    softnet.excerpt = excerpt.to_string();
    (Some(softnet), notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two CPUs of a 6.x kernel (13 columns), the second dropping.
    const TWO_CPUS: &str = "\
0001a2f3 00000000 00000004 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000
00ffffff 0000012c 00000031 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001
";

    #[test]
    fn cpus_are_summed_and_the_dropping_one_is_cited() {
        let (softnet, notes) = parse_softnet_stat("proc/net/softnet_stat", TWO_CPUS);
        assert!(notes.is_empty(), "{notes:?}");
        let s = softnet.expect("parsed");
        assert_eq!((s.cpus, s.dropped, s.time_squeeze), (2, 300, 53));
        assert_eq!(s.processed, 0x1a2f3 + 0xffffff);
        assert_eq!(s.line, 2);
        assert!(s.excerpt.starts_with("00ffffff 0000012c"), "{}", s.excerpt);
    }

    /// A 2.6.32 kernel's ten columns, and a line cut short, and garbage.
    #[test]
    fn old_and_malformed_lines() {
        let text = "0000a000 00000002 00000003 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n00000001 000000\nnot hex at all\n\n";
        let (softnet, notes) = parse_softnet_stat("proc/net/softnet_stat", text);
        let s = softnet.expect("the first line");
        assert_eq!((s.cpus, s.dropped, s.time_squeeze), (1, 2, 3));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[0].line, Some(2));
    }

    #[test]
    fn empty_and_hostile_input_parse_to_nothing() {
        for text in [
            "",
            "\n\n",
            "ffffffffffffffffffffff 1 2\n",
            "\u{1b}[2J 0 0\n",
        ] {
            let (softnet, _) = parse_softnet_stat("proc/net/softnet_stat", text);
            assert!(softnet.is_none(), "{text:?}");
        }
    }
}
