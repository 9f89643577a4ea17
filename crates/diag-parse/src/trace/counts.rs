//! `trace/kfree_skb.counts`: every drop event of a recording, counted
//! while it ran (diag reads the ring buffer as the kernel fills it), where
//! `trace/kfree_skb.txt` beside it keeps only samples.
//!
//! Tab-separated (shown here with spaces), in two sections; `-` is "no reason" (a kernel before
//! 5.17), a location is `%pS`'s text or the address in hex:
//!
//! ```text
//! # diag kfree_skb counts
//! [totals]
//! # reason  protocol  location  events
//! NO_SOCKET  2048  __udp4_lib_rcv+0x4bc/0xd00  912345
//! [seconds]
//! # second  reason  events
//! 78309  NO_SOCKET  456000
//! ```
//!
//! `second` is the whole second of the trace clock, as the event lines'
//! timestamps show it.

use super::NOTES_MAX;
use crate::model::Note;

/// Rows read per section; past this a note says how many were not.
pub const ROWS_MAX: usize = 100_000;
/// The longest reason or location read (a longer one refuses the line).
const NAME_MAX: usize = 256;

/// Events of one reason, protocol and location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    /// The reason's name; `None` on a kernel without reasons.
    pub reason: Option<String>,
    /// The EtherType.
    pub protocol: u16,
    /// Where the kernel dropped them.
    pub location: String,
    /// How many.
    pub events: u64,
}

/// Events of one reason in one second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondRow {
    /// The whole second of the trace clock.
    pub second: u64,
    /// The reason; `None` on a kernel without reasons.
    pub reason: Option<String>,
    /// How many.
    pub events: u64,
}

/// The counts of a recording.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropCounts {
    /// Per reason, protocol and location.
    pub totals: Vec<CountRow>,
    /// Per second and reason.
    pub seconds: Vec<SecondRow>,
}

impl DropCounts {
    /// Every event counted.
    pub fn events(&self) -> u64 {
        self.totals
            .iter()
            .fold(0u64, |sum, row| sum.saturating_add(row.events))
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let reason = |r: &Option<String>| r.clone().unwrap_or_else(|| "-".into());
        let mut out = String::from(
            "# diag kfree_skb counts\n[totals]\n# reason\tprotocol\tlocation\tevents\n",
        );
        for row in &self.totals {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                reason(&row.reason),
                row.protocol,
                row.location,
                row.events
            ));
        }
        out.push_str("[seconds]\n# second\treason\tevents\n");
        for row in &self.seconds {
            out.push_str(&format!(
                "{}\t{}\t{}\n",
                row.second,
                reason(&row.reason),
                row.events
            ));
        }
        out
    }
}

#[derive(PartialEq)]
enum Section {
    None,
    Totals,
    Seconds,
}

fn name(text: &str) -> Option<String> {
    (!text.is_empty() && text.len() <= NAME_MAX && !text.chars().any(char::is_control))
        .then(|| text.to_string())
}

fn reason(text: &str) -> Option<Option<String>> {
    if text == "-" {
        Some(None)
    } else {
        name(text).map(Some)
    }
}

/// Parses a counts file. Unusable lines become notes (at most
/// [`NOTES_MAX`], then one that counts the rest).
pub fn parse_counts(input: &str, text: &str) -> (DropCounts, Vec<Note>) {
    let mut counts = DropCounts::default();
    let mut notes = Vec::new();
    let mut section = Section::None;
    let mut bad = 0usize;
    let mut over = 0usize;
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        match line.trim() {
            "[totals]" => {
                section = Section::Totals;
                continue;
            }
            "[seconds]" => {
                section = Section::Seconds;
                continue;
            }
            _ => {}
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let read = match (&section, fields.as_slice()) {
            (Section::Totals, [r, p, l, n]) => match (
                reason(r),
                p.parse::<u16>().ok(),
                name(l),
                n.parse::<u64>().ok(),
            ) {
                (Some(reason), Some(protocol), Some(location), Some(events)) => {
                    if counts.totals.len() < ROWS_MAX {
                        counts.totals.push(CountRow {
                            reason,
                            protocol,
                            location,
                            events,
                        });
                    } else {
                        over += 1;
                    }
                    true
                }
                _ => false,
            },
            (Section::Seconds, [s, r, n]) => {
                match (s.parse::<u64>().ok(), reason(r), n.parse::<u64>().ok()) {
                    (Some(second), Some(reason), Some(events)) => {
                        if counts.seconds.len() < ROWS_MAX {
                            counts.seconds.push(SecondRow {
                                second,
                                reason,
                                events,
                            });
                        } else {
                            over += 1;
                        }
                        true
                    }
                    _ => false,
                }
            }
            _ => false,
        };
        if !read {
            bad += 1;
            if bad <= NOTES_MAX {
                notes.push(Note::line(
                    input,
                    index + 1,
                    "not a row of a drop-counts section",
                ));
            }
        }
    }
    if bad > NOTES_MAX {
        notes.push(Note::input(
            input,
            format!("{} more lines could not be read", bad - NOTES_MAX),
        ));
    }
    if over > 0 {
        notes.push(Note::input(
            input,
            format!("{over} rows past the first {ROWS_MAX} of a section were not read"),
        ));
    }
    (counts, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DropCounts {
        DropCounts {
            totals: vec![
                CountRow {
                    reason: Some("NO_SOCKET".into()),
                    protocol: 2048,
                    location: "__udp4_lib_rcv+0x4bc/0xd00".into(),
                    events: 912_345,
                },
                CountRow {
                    reason: None,
                    protocol: 34525,
                    location: "vxlan_rcv+0x1c4/0x1000 [vxlan]".into(),
                    events: 2,
                },
            ],
            seconds: vec![SecondRow {
                second: 78309,
                reason: Some("NO_SOCKET".into()),
                events: 456_000,
            }],
        }
    }

    #[test]
    fn renders_and_reads_back() {
        let counts = sample();
        let (read, notes) = parse_counts("c", &counts.render());
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(read, counts);
        assert_eq!(read.events(), 912_347);
    }

    #[test]
    fn hostile_and_cut_input_is_noted_not_trusted() {
        let text = sample().render();
        for cut in 0..text.len() {
            let Some(head) = text.get(..cut) else {
                continue;
            };
            let (read, _) = parse_counts("c", head);
            assert!(read.totals.len() <= 2 && read.seconds.len() <= 1);
        }
        let hostile = format!(
            "[totals]\nNO_SOCKET\t99999\tx\t1\nR\t1\t\u{1b}]0;x\t1\n{}\t1\tx\t1\nR\t1\tx\t-5\nR\t1\tx\n[seconds]\nx\tR\t1\n",
            "R".repeat(300)
        );
        let (read, notes) = parse_counts("c", &hostile);
        assert_eq!(read, DropCounts::default());
        assert_eq!(notes.len(), 6, "{notes:?}");
        let many = format!("[totals]\n{}", "R\t1\tx\t1\n".repeat(ROWS_MAX + 3));
        let (read, notes) = parse_counts("c", &many);
        assert_eq!(read.totals.len(), ROWS_MAX);
        assert!(notes[0].message.starts_with("3 rows past"), "{notes:?}");
    }
}
