//! Samples: `testdata/README.md` says where each came from.

use super::kfree_skb::{parse_line, parse_trace, DropEvent};
use super::*;

const FORMAT_6_18: &str = include_str!("testdata/kfree_skb.format");
const FORMAT_5_10: &str = include_str!("testdata/kfree_skb_5.10.format");
const TRACE_MIXED: &str = include_str!("testdata/trace_mixed");
const TRACE_OVERRUN: &str = include_str!("testdata/trace_overrun_head");
const TRACE_5_10: &str = include_str!("testdata/trace_5.10");
const TRACE_5_17: &str = include_str!("testdata/trace_5.17");
const TRACE_CMD: &str = include_str!("testdata/trace_cmd_report");
const PERF_SCRIPT: &str = include_str!("testdata/perf_script");
const STATS: &str = include_str!("testdata/per_cpu_stats");
const STATS_OVERRUN: &str = include_str!("testdata/per_cpu_stats_overrun");

fn events(
    text: &str,
) -> (
    Vec<(usize, DropEvent<'_>)>,
    kfree_skb::TraceSummary,
    Vec<Note>,
) {
    let mut out = Vec::new();
    let (summary, notes) = parse_trace("trace/kfree_skb.txt", text, |line, e| out.push((line, e)));
    (out, summary, notes)
}

#[test]
fn the_6_18_format_names_every_reason() {
    let (format, notes) = parse_event_format("trace/kfree_skb.format", FORMAT_6_18);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!((format.name.as_str(), format.id), ("kfree_skb", Some(2310)));
    for field in [
        "skbaddr",
        "location",
        "rx_sk",
        "protocol",
        "reason",
        "common_pid",
    ] {
        assert!(format.has_field(field), "{field}");
    }
    assert!(kfree_skb::has_reason(&format));
    assert_eq!(format.symbols.len(), 129);
    assert_eq!(format.symbols[0], (2, "NOT_SPECIFIED".to_string()));
    let name = |v: u64| {
        format
            .symbols
            .iter()
            .find(|(n, _)| *n == v)
            .map(|(_, s)| s.as_str())
    };
    assert_eq!(name(57), Some("NEIGH_CREATEFAIL"));
    assert_eq!(name(40), Some("TCP_LISTEN_OVERFLOW"));
    assert_eq!(name(130), Some("MAX"));
}

#[test]
fn a_5_10_format_has_no_reason() {
    let (format, notes) = parse_event_format("trace/kfree_skb.format", FORMAT_5_10);
    assert!(notes.is_empty(), "{notes:?}");
    assert!(!kfree_skb::has_reason(&format));
    assert!(format.symbols.is_empty());
    assert!(format.has_field("location"));
}

#[test]
fn tracefs_lines_of_6_18() {
    let (events, summary, notes) = events(TRACE_MIXED);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(summary.events, 8);
    assert_eq!(
        summary.header,
        Some(TraceHeader {
            in_buffer: 8,
            written: 8,
            cpus: 2
        })
    );
    let (line, first) = events[0];
    assert_eq!(line, 13);
    assert_eq!(
        first,
        DropEvent {
            cpu: 0,
            timestamp: 33575.097553,
            protocol: Some(2048),
            location: Some("__udp4_lib_rcv+0x4bc/0xd00"),
            reason: Some("NO_SOCKET"),
        }
    );
    let v6 = events
        .iter()
        .filter(|(_, e)| e.protocol == Some(34525))
        .count();
    assert_eq!(v6, 4);
    assert_eq!(events[7].1.location, Some("tcp_v6_rcv+0x35a/0x13b0"));
}

#[test]
fn the_header_counts_what_was_overwritten() {
    let (events, summary, notes) = events(TRACE_OVERRUN);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(summary.header.map(|h| h.lost()), Some(1840));
    assert_eq!(events.len(), 28);
}

#[test]
fn kernels_before_5_17_have_no_reason_and_5_17_no_symbol() {
    let (events, _, notes) = events(TRACE_5_10);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|(_, e)| e.reason.is_none()));
    assert_eq!(events[0].1.location, Some("000000004c1e22aa"));
    assert_eq!(events[2].1.protocol, Some(34525));
    assert_eq!(events[2].1.cpu, 0);
    let (events, _, notes) = self::events(TRACE_5_17);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(events[1].1.reason, Some("NOT_SPECIFIED"));
    assert_eq!(events[1].1.location, Some("000000002b9c8d7e"));
}

#[test]
fn trace_cmd_report_and_perf_script() {
    let (events, summary, notes) = events(TRACE_CMD);
    assert_eq!(events.len(), 3);
    assert_eq!(summary.other_lines, 2, "cpus=2 and sched_switch");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(events[1].1.reason, Some("NETFILTER_DROP"));
    assert_eq!(events[2].1.location, Some("vxlan_rcv+0x1c4 [vxlan]"));
    assert_eq!(events[2].1.reason, Some("VXLAN_VNI_NOT_FOUND"));
    let (events, _, notes) = self::events(PERF_SCRIPT);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[0].1,
        DropEvent {
            cpu: 1,
            timestamp: 33579.556051,
            protocol: Some(2048),
            location: Some("__udp4_lib_rcv+0x4bc"),
            reason: Some("NO_SOCKET"),
        }
    );
}

#[test]
fn ring_stats_and_the_recording_file() {
    let (stats, notes) = parse_ring_stats("per_cpu/cpu0/stats", STATS_OVERRUN);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(
        (stats.entries, stats.overrun, stats.lost()),
        (160, 1840, 1840)
    );
    let recording = RecordingStats {
        window_seconds: Some(2.0),
        buffer_size_kb: Some(1024),
        cpus: Vec::new(),
    };
    let text = recording.render(&[(0, STATS.to_string()), (1, STATS_OVERRUN.to_string())]);
    let (read, notes) = parse_recording_stats("trace/kfree_skb.stats", &text);
    assert!(notes.is_empty(), "{notes:?}\n{text}");
    assert_eq!(read.window_seconds, Some(2.0));
    assert_eq!(read.buffer_size_kb, Some(1024));
    assert_eq!(read.cpus.len(), 2);
    assert_eq!(read.lost(), 1840);
}

#[test]
fn a_task_name_that_mimics_the_framing_is_not_the_event() {
    // A comm can hold spaces and colons; the event name is the word after
    // the timestamp.
    let line = "   kfree_skb: x-77 [003] ..s1. 10.5: kfree_skb: skbaddr=0 protocol=2048 location=ip_rcv+0x1/0x2 reason: OTHERHOST";
    let event = parse_line(line).expect("read").expect("an event");
    assert_eq!((event.cpu, event.reason), (3, Some("OTHERHOST")));
    // Other events whose names end the same way are not it.
    let line = "  a-1 [000] ..... 1.0: skb_kfree_skb: skbaddr=0 protocol=1";
    assert_eq!(parse_line(line), Ok(None));
}

#[test]
fn malformed_truncated_and_hostile_lines() {
    let cases: &[(&str, TraceLineError)] = &[
        (
            "kfree_skb: skbaddr=0 protocol=2048",
            TraceLineError::NoTimestamp,
        ),
        (
            "  a-1 [000] ..... 1.0: kfree_skb: skbaddr=0 protocol=99999 location=x",
            TraceLineError::BadNumber {
                field: "protocol",
                value: "99999".into(),
            },
        ),
        (
            "  a-1 [000] ..... 1.0: kfree_skb: ",
            TraceLineError::NoFields,
        ),
        (
            "  a-1 [000] ..... 1.0: kfree_skb: garbage",
            TraceLineError::NoFields,
        ),
    ];
    for (line, want) in cases {
        assert_eq!(parse_line(line), Err(want.clone()), "{line}");
    }
    // Truncated in the middle of the reason: the reason is what is left.
    let cut = "  a-1 [000] ..s1. 1.0: kfree_skb: skbaddr=0 rx_sk=0 protocol=2048 location=tcp_v4_rcv+0x99/0x1400 reason: NO_SOC";
    assert_eq!(
        parse_line(cut).ok().flatten().and_then(|e| e.reason),
        Some("NO_SOC")
    );
    // Truncated before the reason: read, without one.
    let cut = "  a-1 [000] ..s1. 1.0: kfree_skb: skbaddr=0 rx_sk=0 protocol=20";
    let event = parse_line(cut).ok().flatten().expect("an event");
    assert_eq!((event.protocol, event.reason), (Some(20), None));
    // A control character in a value is kept as it is here (the
    // presenters sanitise), and shown when it is an error's.
    let escape = "  a-1 [000] ..... 1.0: kfree_skb: protocol=\u{1b}[2J location=x";
    let err = parse_line(escape).expect_err("bad protocol").to_string();
    assert!(!err.contains('\u{1b}') && err.contains('␛'), "{err}");
    // A huge line is refused whole.
    let huge = format!(
        "  a-1 [000] ..... 1.0: kfree_skb: reason: {}",
        "A".repeat(1 << 20)
    );
    assert_eq!(parse_line(&huge), Err(TraceLineError::TooLong(huge.len())));
}

#[test]
fn a_flood_of_bad_lines_makes_a_bounded_number_of_notes() {
    let mut text = String::new();
    for _ in 0..10_000 {
        text.push_str("x [0] 1.0: kfree_skb: protocol=nope\n");
    }
    text.push_str(TRACE_MIXED);
    let (events, summary, notes) = events(&text);
    assert_eq!((events.len(), summary.unusable), (8, 10_000));
    assert_eq!(notes.len(), NOTES_MAX + 1);
    assert!(
        notes[NOTES_MAX].message.starts_with("9980 more"),
        "{notes:?}"
    );
}

#[test]
fn non_utf8_read_lossily_still_parses() {
    let mut bytes = b"  \xff\xfe-1 [001] ..s1. 5.0: kfree_skb: skbaddr=0 protocol=2048 location=ip_rcv+0x1/0x2 reason: IP_RPFILTER\n".to_vec();
    bytes.extend_from_slice(b"\xc3\x28 [0] 1: kfree_skb: \xff\n");
    let text = String::from_utf8_lossy(&bytes);
    let (events, summary, _) = events(&text);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1.reason, Some("IP_RPFILTER"));
    assert_eq!(summary.unusable, 1);
}

#[test]
fn hostile_format_files() {
    let (format, notes) = parse_event_format("f", "");
    assert_eq!(format, EventFormat::default());
    assert_eq!(notes.len(), 1);
    let text = "name: kfree_skb\nID: x\nprint fmt: \"%s\", __print_symbolic(REC->reason, { 1, \"OK\" }, { 2, \"\u{1b}]0;pwned\u{7}\" }, { zz, \"BAD\" }, { 3, \"LAST\" }), { 4, \"AFTER\" }\n";
    let (format, notes) = parse_event_format("f", text);
    assert_eq!(
        format.symbols,
        vec![(1, "OK".to_string()), (3, "LAST".to_string())]
    );
    assert_eq!(notes.len(), 2, "{notes:?}");
    // An unterminated list.
    let (format, _) = parse_event_format(
        "f",
        "name: x\nprint fmt: __print_symbolic(REC->r, { 1, \"A\" }, { 2",
    );
    assert_eq!(format.symbols.len(), 1);
}
