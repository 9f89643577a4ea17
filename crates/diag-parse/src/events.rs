//! Multi-line kernel events: an Oops, BUG, panic, `WARNING: CPU:` block,
//! hung-task report, RCU stall or lockup spans many log lines (registers,
//! `Call Trace:`, `---[ end trace ... ]---`). Grouping them lets evidence
//! point at the whole event instead of its first line.

use super::kernel_log::LogEntry;
use regex::{Regex, RegexSet};
use std::sync::LazyLock;

/// Longest block kept together (a trace with every register dump).
pub const BLOCK_MAX: usize = 400;

/// The first line of each kind of multi-line event: what [`starts`]
/// matches (also part of the kernel-log stream's one candidate set,
/// `facts::kernel_stream::LineFilter`).
pub const START_PATTERNS: [&str; 11] = [
    r"^-+\[ cut here \]-+",
    r"^WARNING: (?:CPU: |at )",
    r"^(?:kernel )?BUG[: ]",
    r"^Oops",
    r"^general protection fault",
    r"^Kernel panic - not syncing",
    r"^Unable to handle kernel",
    r"^INFO: task \S+ blocked for more than",
    r"^(?:rcu: )?INFO: rcu_\w+ (?:self-)?detected stall",
    r"^(?:watchdog: |NMI watchdog: )?(?:BUG: soft lockup|Watchdog detected hard LOCKUP)",
    r"^\S+ invoked oom-killer:",
];

static STARTS: LazyLock<RegexSet> =
    LazyLock::new(|| RegexSet::new(START_PATTERNS).expect("static regex set"));

static CONTINUES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:\s|\? |Call Trace:|Call trace:|<TASK>|</TASK>|<IRQ>|</IRQ>|<NMI>|</NMI>|",
        r"RIP:|RSP:|RAX:|RDX:|RBP:|R\d\d:|FS:|CS:|CR2:|DR\d:|Code:|Stack:|Modules linked in:|",
        r"CPU: \d+ |Hardware name:|Workqueue:|Tainted:|task:|pc :|lr :|sp :|x\d+ *:|",
        r"\[<[0-9a-f]+>\]|[A-Za-z_][\w.]*\+0x[0-9a-f]+/0x[0-9a-f]+|---\[ end |Kernel Offset:|PGD |",
        r"irq event stamp|hardirqs |softirqs |Sending NMI|NMI backtrace|rcu: |",
        r#""echo 0 > /proc/sys/kernel/hung_task_timeout_secs""#,
        r"|Mem-Info:|active_anon:|Node \d|\d+ total pagecache|Free swap|Total swap|\d+ pages |Tasks state|\[ *pid *\]|\[ *\d+\] |",
        r"oom-kill:|Out of memory|Memory cgroup out of memory|Killed process|Kernel panic|CR0:|ES:|",
        r"Dumping ftrace|Rebooting in|---\[ end Kernel panic)",
    ))
    .expect("static regex")
});

/// Whether a message starts a multi-line event.
pub fn starts(message: &str) -> bool {
    STARTS.is_match(message)
}

/// Whether a message continues a multi-line event.
pub fn continues(message: &str) -> bool {
    CONTINUES.is_match(message)
}

/// Whether a message ends a multi-line event (`---[ end trace ... ]---`).
pub fn ends(message: &str) -> bool {
    message.starts_with("---[ end ")
}

/// Marks every entry that belongs to a multi-line event with the event's
/// first and last index in `entries`.
pub fn group(entries: &mut [LogEntry]) {
    let mut i = 0;
    while i < entries.len() {
        if !STARTS.is_match(&entries[i].message) {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        // WARN() prints its own message right after "cut here".
        let mut free_line = entries[i].message.contains("[ cut here ]");
        if !ends(&entries[i].message) {
            while end + 1 < entries.len() && end + 1 - start < BLOCK_MAX {
                let next = &entries[end + 1];
                let same_place =
                    next.boot == entries[start].boot && next.input == entries[start].input;
                // A user-space record (journald writes to /dev/kmsg too)
                // may land between two lines of a kernel event.
                let foreign =
                    entries[start].facility == Some(0) && next.facility.is_some_and(|f| f != 0);
                let belongs = std::mem::take(&mut free_line)
                    || foreign
                    || CONTINUES.is_match(&next.message)
                    || STARTS.is_match(&next.message);
                if !same_place || !belongs {
                    break;
                }
                end += 1;
                if ends(&next.message) {
                    break;
                }
            }
        }
        if end > start {
            let span = (
                u32::try_from(start).unwrap_or(u32::MAX),
                u32::try_from(end).unwrap_or(u32::MAX),
            );
            for entry in &mut entries[start..=end] {
                entry.block = Some(span);
            }
        }
        i = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel_log::{parse_dmesg, parse_kmsg};

    #[test]
    fn warning_block_with_cut_here_and_end_trace() {
        // The shape of a NETDEV WATCHDOG warning as /dev/kmsg records.
        let text = "6,1,10,-;before\n\
4,2,20,-;------------[ cut here ]------------\n\
6,3,21,-;NETDEV WATCHDOG: enp9s0 (r8169): transmit queue 0 timed out\n\
4,4,22,-;WARNING: CPU: 5 PID: 0 at net/sched/sch_generic.c:525 dev_watchdog+0x20b/0x220\n\
4,5,23,-;Modules linked in: r8169 realtek\n\
4,6,24,-;CPU: 5 PID: 0 Comm: swapper/5 Not tainted 6.1.0 #1\n\
4,7,25,-;RIP: 0010:dev_watchdog+0x20b/0x220\n\
4,8,26,-;Call Trace:\n\
4,9,27,-; <IRQ>\n\
4,10,28,-; ? pfifo_fast_reset+0x150/0x150\n\
4,11,29,-; call_timer_fn+0x29/0x130\n\
4,12,30,-;---[ end trace 0000000000000000 ]---\n\
6,13,40,-;after\n";
        let (mut entries, _) = parse_kmsg("dev/kmsg", text);
        group(&mut entries);
        assert_eq!(entries[0].block, None);
        // The WARN() message right after "cut here" belongs to the block.
        for (i, entry) in entries.iter().enumerate().take(12).skip(1) {
            assert_eq!(entry.block, Some((1, 11)), "entry {i}");
        }
        assert_eq!(entries[12].block, None);
    }

    #[test]
    fn real_warning_block_with_an_interleaved_journald_record() {
        let path = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/corpus/kmsg/lkml-pci__2023-02-25_kmsg_r8169_netdev_watchdog"
        ));
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (mut entries, _) = parse_kmsg("dev/kmsg", &text);
        group(&mut entries);
        let (start, end) = entries[0].block.expect("the cut-here line starts a block");
        assert_eq!(start, 0);
        let last = &entries[end as usize];
        assert!(
            last.message.starts_with("---[ end trace"),
            "block ends at {:?}",
            last.message
        );
    }

    #[test]
    fn hung_task_report() {
        let text = "[  241.000000] INFO: task jbd2/sda1-8:123 blocked for more than 120 seconds.\n\
[  241.000001]       Not tainted 5.10.0 #1\n\
[  241.000002] \"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.\n\
[  241.000003] task:jbd2/sda1-8     state:D stack:    0 pid:  123 ppid:     2 flags:0x00004000\n\
[  241.000004] Call Trace:\n\
[  241.000005]  __schedule+0x282/0x870\n\
[  242.000000] e1000e: eth0 NIC Link is Up\n";
        let (mut entries, _) = parse_dmesg("commands/dmesg", text);
        group(&mut entries);
        assert_eq!(entries[0].block, Some((0, 5)));
        assert_eq!(entries[6].block, None);
    }
}
