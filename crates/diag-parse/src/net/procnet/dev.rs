//! `/proc/net/dev`: per-interface counters since the interface was
//! created.

use crate::model::Note;
use serde::Serialize;

/// One interface's line of `/proc/net/dev`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InterfaceCounters {
    /// Interface name.
    pub iface: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors (all kinds).
    pub rx_errs: u64,
    /// Received packets dropped (no buffer, unknown protocol, ...).
    pub rx_drop: u64,
    /// Receive FIFO overruns.
    pub rx_fifo: u64,
    /// Frame alignment and length errors.
    pub rx_frame: u64,
    /// Compressed packets received.
    pub rx_compressed: u64,
    /// Multicast packets received.
    pub rx_multicast: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Transmit errors (all kinds).
    pub tx_errs: u64,
    /// Packets dropped on transmit.
    pub tx_drop: u64,
    /// Transmit FIFO errors.
    pub tx_fifo: u64,
    /// Collisions.
    pub tx_colls: u64,
    /// Carrier losses while sending.
    pub tx_carrier: u64,
    /// Compressed packets sent.
    pub tx_compressed: u64,
    /// Canonical input name.
    pub input: String,
    /// 1-based line in the input.
    pub line: u32,
    /// The raw line, padding trimmed.
    pub excerpt: String,
}

/// Parses `/proc/net/dev`: two header lines, then `name: 16 counters` per
/// interface. Old kernels let a wide first number run into the colon
/// (`eth0:3285625463 ...`); that is read too.
pub fn parse_proc_net_dev(input: &str, text: &str) -> (Vec<InterfaceCounters>, Vec<Note>) {
    let mut interfaces = Vec::new();
    let mut notes = Vec::new();
    let mut lines = text.lines().enumerate();
    for (expected, prefix) in [(1, "Inter-|"), (2, "face |")] {
        match lines.next() {
            Some((_, header)) if header.trim_start().starts_with(prefix) => {}
            Some(_) => {
                notes.push(Note::line(
                    input,
                    expected,
                    format!("header line {expected} does not start with {prefix:?}"),
                ));
                return (interfaces, notes);
            }
            None => {
                notes.push(Note::input(
                    input,
                    format!("{} (cut short?)", header_missing(expected)),
                ));
                return (interfaces, notes);
            }
        }
    }
    let cut = !text.ends_with('\n');
    let last = text.lines().count();
    for (index, raw) in lines {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        if cut && line == last {
            notes.push(Note::line(
                input,
                line,
                "the input ends inside this line (cut short?); ignored",
            ));
            continue;
        }
        let Some((name, rest)) = raw.split_once(':') else {
            notes.push(Note::line(input, line, "expected 'name: counters'"));
            continue;
        };
        let name = name.trim();
        let values: Vec<Option<u64>> = rest.split_whitespace().map(|v| v.parse().ok()).collect();
        if name.is_empty() || name.contains(char::is_whitespace) {
            notes.push(Note::line(
                input,
                line,
                "expected an interface name before ':'",
            ));
            continue;
        }
        let values: Option<Vec<u64>> = if values.len() == 16 {
            values.into_iter().collect()
        } else {
            None
        };
        let Some(v) = values else {
            notes.push(Note::line(input, line, "expected 16 unsigned counters"));
            continue;
        };
        interfaces.push(InterfaceCounters {
            iface: name.to_string(),
            rx_bytes: v[0],
            rx_packets: v[1],
            rx_errs: v[2],
            rx_drop: v[3],
            rx_fifo: v[4],
            rx_frame: v[5],
            rx_compressed: v[6],
            rx_multicast: v[7],
            tx_bytes: v[8],
            tx_packets: v[9],
            tx_errs: v[10],
            tx_drop: v[11],
            tx_fifo: v[12],
            tx_colls: v[13],
            tx_carrier: v[14],
            tx_compressed: v[15],
            input: input.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            excerpt: raw.trim().to_string(),
        });
    }
    (interfaces, notes)
}

fn header_missing(line: usize) -> String {
    if line == 1 {
        "empty file".to_string()
    } else {
        "second header line missing".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured on the development VM (Linux 6.18, x86_64), idle; see
    // testdata/README.md.
    const DEV: &str = include_str!("testdata/proc_net_dev");

    #[test]
    fn proc_net_dev_current_and_old_formats() {
        let (interfaces, notes) = parse_proc_net_dev("proc/net/dev", DEV);
        assert!(notes.is_empty(), "{notes:?}");
        let names: Vec<&str> = interfaces.iter().map(|i| i.iface.as_str()).collect();
        assert_eq!(names, ["lo", "ifb0", "ifb1", "eth0"]);
        let eth0 = &interfaces[3];
        assert_eq!(
            (
                eth0.rx_bytes,
                eth0.rx_packets,
                eth0.tx_bytes,
                eth0.tx_packets,
                eth0.line
            ),
            (147954557, 9474, 710876, 6415, 6)
        );
        assert!(eth0.excerpt.starts_with("eth0: 147954557"));
        // The layout of 2.6-era kernels, where a wide rx_bytes touches the
        // colon; numbers made up.
        let old = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:1083417    8760    0    0    0     0          0         0  1083417    8760    0    0    0     0       0          0
  eth0:3285625463 4398577    3   17    0     2          0      1201 1375412372 3765338    0    0    0     5       1          0
";
        let (interfaces, notes) = parse_proc_net_dev("proc/net/dev", old);
        assert!(notes.is_empty(), "{notes:?}");
        let eth0 = &interfaces[1];
        assert_eq!(
            (
                eth0.iface.as_str(),
                eth0.rx_bytes,
                eth0.rx_errs,
                eth0.rx_drop,
                eth0.rx_frame
            ),
            ("eth0", 3285625463, 3, 17, 2)
        );
        assert_eq!(
            (eth0.rx_multicast, eth0.tx_colls, eth0.tx_carrier),
            (1201, 5, 1)
        );
    }

    #[test]
    fn proc_net_dev_truncated_and_garbage() {
        // Cut in the middle of eth0's line.
        let cut = &DEV[..DEV.find("710876").expect("eth0")];
        let (interfaces, notes) = parse_proc_net_dev("proc/net/dev", cut);
        assert_eq!(interfaces.len(), 3);
        assert_eq!((notes.len(), notes[0].line), (1, Some(6)));
        let mut text: String = DEV.lines().take(2).map(|l| format!("{l}\n")).collect();
        text.push_str("  eth9: 1 2 3\nno colon here\n   : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n  eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n");
        text.push_str(DEV.lines().nth(2).expect("lo"));
        text.push('\n');
        let (interfaces, notes) = parse_proc_net_dev("proc/net/dev", &text);
        assert_eq!(interfaces.len(), 1);
        let lines: Vec<Option<u32>> = notes.iter().map(|n| n.line).collect();
        assert_eq!(lines, [Some(3), Some(4), Some(5), Some(6)]);
        let (_, notes) = parse_proc_net_dev("proc/net/dev", "");
        assert_eq!(notes[0].message, "empty file (cut short?)");
        let (_, notes) = parse_proc_net_dev("proc/net/dev", "Inter-|   Receive");
        assert_eq!(notes[0].message, "second header line missing (cut short?)");
        let (_, notes) = parse_proc_net_dev("proc/net/dev", "garbage\n");
        assert_eq!(notes[0].line, Some(1));
    }
}
