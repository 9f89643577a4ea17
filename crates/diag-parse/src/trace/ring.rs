//! tracefs's binary ring-buffer pages, as `per_cpu/cpuN/trace_pipe_raw`
//! hands them out, and the `kfree_skb` events in them.
//!
//! A page (its layout in `events/header_page`; x86_64 since 2.6.31):
//!
//! ```text
//! offset 0   u64   timestamp of the page's first event (trace clock, ns)
//! offset 8   long  commit: bytes of events (low 27 bits); bit 31 set when
//!                  events were lost before this page, bit 30 when their
//!                  number follows the events (as a long)
//! offset 16  events, each a 32-bit header {type_len:5, time_delta:27}:
//!            type_len 1..=28  data of type_len * 4 bytes follows
//!            type_len 0       array[0] = 4 + data length, then the data
//!            29 padding (time_delta 0: the rest of the page is empty)
//!            30 time extend (delta += array[0] << 27), 31 absolute stamp
//! ```
//!
//! The same reading as libtraceevent's `kbuffer.c`. Nothing here reads a
//! file: the recorder (`source::tracing`) reads the pages, this module
//! takes them apart, bounds-checked at every step (a page is a kernel's
//! output, but a bundle may hold anything).

use super::EventFormat;

/// Where a page's fields are (`events/header_page`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLayout {
    /// Offset of the commit word.
    pub commit_offset: usize,
    /// Its size: 8 on 64-bit kernels, 4 on 32-bit ones.
    pub commit_size: usize,
    /// Offset of the first event.
    pub data_offset: usize,
}

impl Default for PageLayout {
    /// x86_64's layout.
    fn default() -> Self {
        PageLayout {
            commit_offset: 8,
            commit_size: 8,
            data_offset: 16,
        }
    }
}

/// Reads `events/header_page`: `None` unless it names the commit word
/// and the data with usable offsets.
pub fn parse_header_page(text: &str) -> Option<PageLayout> {
    let mut commit = None;
    let mut data = None;
    for line in text.lines() {
        let Some(field) = line.trim().strip_prefix("field:") else {
            continue;
        };
        let mut parts = field.split(';');
        let declaration = parts.next().unwrap_or_default();
        let mut offset = None;
        let mut size = None;
        for part in parts {
            if let Some((key, value)) = part.trim().split_once(':') {
                match key {
                    "offset" => offset = value.trim().parse::<usize>().ok(),
                    "size" => size = value.trim().parse::<usize>().ok(),
                    _ => {}
                }
            }
        }
        let name = declaration.split_ascii_whitespace().next_back();
        match (name, offset, size) {
            // `int overwrite` shares the commit word's offset: take the
            // first field named commit.
            (Some("commit"), Some(o), Some(s)) if commit.is_none() => commit = Some((o, s)),
            (Some("data"), Some(o), _) => data = Some(o),
            _ => {}
        }
    }
    let ((commit_offset, commit_size), data_offset) = (commit?, data?);
    let usable = matches!(commit_size, 4 | 8)
        && commit_offset + commit_size <= data_offset
        && data_offset <= 64;
    usable.then_some(PageLayout {
        commit_offset,
        commit_size,
        data_offset,
    })
}

/// Events were lost before a page (the writer overtook the reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// None.
    No,
    /// Some, how many not said.
    Unknown,
    /// This many.
    Count(u64),
}

/// What a page held besides its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSummary {
    /// Data events read.
    pub events: u64,
    /// Lost before the page.
    pub missed: Missed,
    /// The page ended inside an event (cut or corrupt): the rest was not
    /// read.
    pub broken: bool,
}

const TYPE_PADDING: u32 = 29;
const TYPE_TIME_EXTEND: u32 = 30;
const TYPE_TIME_STAMP: u32 = 31;
const MISSED_EVENTS: u64 = 1 << 31;
const MISSED_STORED: u64 = 1 << 30;
const COMMIT_MASK: u64 = (1 << 27) - 1;

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    let mut word = [0u8; 8];
    word.copy_from_slice(b);
    Some(u64::from_ne_bytes(word))
}

/// A word of 4 or 8 bytes.
fn word_at(bytes: &[u8], at: usize, size: usize) -> Option<u64> {
    match size {
        4 => u32_at(bytes, at).map(u64::from),
        _ => u64_at(bytes, at),
    }
}

/// The type and time delta of an event header. The kernel declares them
/// as bit fields, which a big-endian compiler lays out from the top.
fn split_header(header: u32) -> (u32, u32) {
    if cfg!(target_endian = "big") {
        (header >> 27, header & ((1 << 27) - 1))
    } else {
        (header & 0x1f, header >> 5)
    }
}

/// Reads one page, calling `each(timestamp_ns, data)` for every data
/// event in order.
pub fn read_page(
    layout: &PageLayout,
    page: &[u8],
    mut each: impl FnMut(u64, &[u8]),
) -> PageSummary {
    let mut summary = PageSummary {
        events: 0,
        missed: Missed::No,
        broken: false,
    };
    let (Some(mut time), Some(commit)) = (
        u64_at(page, 0),
        word_at(page, layout.commit_offset, layout.commit_size),
    ) else {
        summary.broken = true;
        return summary;
    };
    let size = (commit & COMMIT_MASK) as usize;
    let Some(data) = page.get(layout.data_offset..layout.data_offset.saturating_add(size)) else {
        summary.broken = true;
        return summary;
    };
    if commit & MISSED_EVENTS != 0 {
        let stored = (commit & MISSED_STORED != 0)
            .then(|| word_at(page, layout.data_offset + size, layout.commit_size))
            .flatten();
        summary.missed = stored.map_or(Missed::Unknown, Missed::Count);
    }
    let mut at = 0usize;
    while at + 4 <= data.len() {
        let Some(header) = u32_at(data, at) else {
            break;
        };
        let (type_len, delta) = split_header(header);
        let array0 = u32_at(data, at + 4);
        let (next, event) = match type_len {
            TYPE_PADDING => {
                if delta == 0 {
                    // The rest of the page holds nothing.
                    break;
                }
                time = time.wrapping_add(u64::from(delta));
                match array0 {
                    Some(length) => (at + 4 + length as usize, None),
                    None => (usize::MAX, None),
                }
            }
            TYPE_TIME_EXTEND => match array0 {
                Some(high) => {
                    time = time.wrapping_add((u64::from(high) << 27) + u64::from(delta));
                    (at + 8, None)
                }
                None => (usize::MAX, None),
            },
            TYPE_TIME_STAMP => match array0 {
                Some(high) => {
                    // 59 bits; the top ones are the page's.
                    let stamp = (u64::from(high) << 27) | u64::from(delta);
                    time = stamp | (time & !((1u64 << 59) - 1));
                    (at + 8, None)
                }
                None => (usize::MAX, None),
            },
            0 => match array0 {
                Some(length) if length >= 4 => {
                    time = time.wrapping_add(u64::from(delta));
                    let end = at + 4 + length as usize;
                    (end, Some((at + 8, end)))
                }
                _ => (usize::MAX, None),
            },
            words => {
                time = time.wrapping_add(u64::from(delta));
                let end = at + 4 + words as usize * 4;
                (end, Some((at + 4, end)))
            }
        };
        if next > data.len() {
            summary.broken = true;
            break;
        }
        if let Some((start, end)) = event {
            summary.events += 1;
            each(time, &data[start..end]);
        }
        at = next;
    }
    summary
}

/// Where `kfree_skb`'s fields are in an event's data, from its `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropLayout {
    id: u16,
    flags: (usize, usize),
    preempt_count: (usize, usize),
    pid: (usize, usize),
    skbaddr: (usize, usize),
    location: (usize, usize),
    protocol: (usize, usize),
    reason: Option<(usize, usize)>,
    rx_sk: Option<(usize, usize)>,
}

impl DropLayout {
    /// The layout of the event `format` describes: `None` unless it has
    /// an id and every field a drop is read by, of a size it can have.
    pub fn new(format: &EventFormat) -> Option<DropLayout> {
        let field = |name: &str, sizes: &[usize]| {
            format
                .layout
                .iter()
                .find(|f| f.name == name)
                .filter(|f| sizes.contains(&f.size))
                .map(|f| (f.offset, f.size))
        };
        Some(DropLayout {
            id: u16::try_from(format.id?).ok()?,
            flags: field("common_flags", &[1])?,
            preempt_count: field("common_preempt_count", &[1])?,
            pid: field("common_pid", &[4])?,
            skbaddr: field("skbaddr", &[4, 8])?,
            location: field("location", &[4, 8])?,
            protocol: field("protocol", &[2])?,
            reason: field("reason", &[4]),
            rx_sk: field("rx_sk", &[4, 8]),
        })
    }

    /// Whether the events carry a reason (5.17 and later).
    pub fn has_reason(&self) -> bool {
        self.reason.is_some()
    }

    /// Reads one event's data: `None` when it is another event or too
    /// short.
    pub fn read(&self, data: &[u8]) -> Option<RawDrop> {
        let value = |(offset, size): (usize, usize)| -> Option<u64> {
            let b = data.get(offset..offset.checked_add(size)?)?;
            let mut word = [0u8; 8];
            if cfg!(target_endian = "big") {
                word[8 - size..].copy_from_slice(b);
                Some(u64::from_be_bytes(word))
            } else {
                word[..size].copy_from_slice(b);
                Some(u64::from_le_bytes(word))
            }
        };
        let kind = value((0, 2))?;
        if kind != u64::from(self.id) {
            return None;
        }
        Some(RawDrop {
            flags: value(self.flags)? as u8,
            preempt_count: value(self.preempt_count)? as u8,
            pid: value(self.pid)? as u32 as i32,
            skbaddr: value(self.skbaddr)?,
            location: value(self.location)?,
            protocol: value(self.protocol)? as u16,
            reason: match self.reason {
                Some(field) => Some(value(field)? as u32),
                None => None,
            },
            rx_sk: match self.rx_sk {
                Some(field) => Some(value(field)?),
                None => None,
            },
        })
    }
}

/// One `kfree_skb` event as the ring holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDrop {
    /// `common_flags` (irqs off, softirq, …).
    pub flags: u8,
    /// `common_preempt_count`.
    pub preempt_count: u8,
    /// The task that was running.
    pub pid: i32,
    /// The packet's address (never shown: the kernel hashes it).
    pub skbaddr: u64,
    /// Where it was dropped: a kernel text address.
    pub location: u64,
    /// Its EtherType.
    pub protocol: u16,
    /// Why (a `skb_drop_reason` value), on 5.17 and later.
    pub reason: Option<u32>,
    /// The receiving socket (6.9 and later; never shown).
    pub rx_sk: Option<u64>,
}

/// tracefs's latency columns (`..s1.`): irqs off, need-resched,
/// hard/soft irq, preempt depth, migrate-disable depth, as the kernel's
/// `trace_print_lat_fmt` writes them.
pub fn lat_flags(flags: u8, preempt_count: u8) -> String {
    const IRQS_OFF: u8 = 0x01;
    const NEED_RESCHED_LAZY: u8 = 0x02;
    const NEED_RESCHED: u8 = 0x04;
    const HARDIRQ: u8 = 0x08;
    const SOFTIRQ: u8 = 0x10;
    const PREEMPT_RESCHED: u8 = 0x20;
    const NMI: u8 = 0x40;
    const BH_OFF: u8 = 0x80;
    let set = |bit: u8| flags & bit != 0;
    let irqs = match (set(IRQS_OFF), set(BH_OFF)) {
        (true, true) => 'D',
        (true, false) => 'd',
        (false, true) => 'b',
        (false, false) => '.',
    };
    let resched = match (
        set(NEED_RESCHED),
        set(PREEMPT_RESCHED),
        set(NEED_RESCHED_LAZY),
    ) {
        (true, true, _) => 'N',
        (true, false, true) => 'B',
        (true, false, false) => 'n',
        (false, true, _) => 'p',
        (false, false, true) => 'L',
        (false, false, false) => '.',
    };
    let irq = match (set(NMI), set(HARDIRQ), set(SOFTIRQ)) {
        (true, true, _) => 'Z',
        (true, false, _) => 'z',
        (false, true, true) => 'H',
        (false, true, false) => 'h',
        (false, false, true) => 's',
        (false, false, false) => '.',
    };
    let digit = |n: u8| {
        if n == 0 {
            '.'
        } else {
            char::from_digit(u32::from(n), 16).unwrap_or('?')
        }
    };
    [
        irqs,
        resched,
        irq,
        digit(preempt_count & 0xf),
        digit(preempt_count >> 4),
    ]
    .into_iter()
    .collect()
}

/// `secs.micros` as tracefs prints a nanosecond stamp (rounded to the
/// microsecond, as the kernel's `ns2usecs`).
pub fn trace_seconds(nanos: u64) -> String {
    let micros = nanos.saturating_add(500) / 1000;
    format!("{:5}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// A pointer as tracefs shows `%p`: not the address (that would tell
/// where the kernel is), a 32-bit hash of it under `key`, in 16 hex
/// digits; 0 stays 0.
pub fn hashed_pointer(key: u64, pointer: u64) -> String {
    if pointer == 0 {
        return "0000000000000000".into();
    }
    // splitmix64's finaliser over the keyed pointer, cut to 32 bits.
    let mut z = (pointer ^ key).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    let hash = (z ^ (z >> 31)) as u32;
    format!("{hash:016x}")
}

/// What a `kfree_skb` line needs beyond the event itself.
#[derive(Debug, Clone, Copy)]
pub struct LineContext<'a> {
    /// The task's name (`<idle>` for pid 0, `<...>` when unknown).
    pub comm: &'a str,
    /// The CPU whose ring held the event.
    pub cpu: u32,
    /// The event's time, ns of the trace clock.
    pub time_ns: u64,
    /// `location` as `%pS` prints it.
    pub location: &'a str,
    /// The reason's name (`None`: printed as `0x…`, as
    /// `__print_symbolic` does for a value it has no name for).
    pub reason: Option<&'a str>,
    /// The key pointers are hashed with ([`hashed_pointer`]).
    pub key: u64,
}

/// The event as a line of tracefs's `trace` file, the shape
/// [`super::kfree_skb::parse_line`] reads.
pub fn drop_line(drop: &RawDrop, context: &LineContext<'_>) -> String {
    let mut line = format!(
        "{:>16}-{:<7} [{:03}] {} {}: kfree_skb: skbaddr={}",
        context.comm,
        drop.pid,
        context.cpu,
        lat_flags(drop.flags, drop.preempt_count),
        trace_seconds(context.time_ns),
        hashed_pointer(context.key, drop.skbaddr),
    );
    if let Some(rx_sk) = drop.rx_sk {
        line.push_str(&format!(" rx_sk={}", hashed_pointer(context.key, rx_sk)));
    }
    line.push_str(&format!(
        " protocol={} location={}",
        drop.protocol, context.location
    ));
    if let Some(reason) = drop.reason {
        match context.reason {
            Some(name) => line.push_str(&format!(" reason: {name}")),
            None => line.push_str(&format!(" reason: {reason:#x}")),
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{kallsyms, kfree_skb, parse_event_format};

    const PAGE: &[u8] = include_bytes!("testdata/ring_page_6.18.bin");
    const TRACE: &str = include_str!("testdata/ring_page_6.18.trace");
    const HEADER_PAGE: &str = include_str!("testdata/header_page");
    const FORMAT: &str = include_str!("testdata/kfree_skb.format");
    const KALLSYMS: &str = include_str!("testdata/kallsyms_excerpt");

    /// The page's events, as lines diag writes.
    fn lines(page: &[u8]) -> (PageSummary, Vec<String>) {
        let layout = parse_header_page(HEADER_PAGE).expect("header_page");
        let (format, _) = parse_event_format("f", FORMAT);
        let drops = DropLayout::new(&format).expect("kfree_skb layout");
        let mut events = Vec::new();
        let summary = read_page(&layout, page, |time, data| {
            events.push((time, drops.read(data).expect("a kfree_skb")));
        });
        let addresses: Vec<u64> = events.iter().map(|(_, d)| d.location).collect();
        let named = kallsyms::resolve(KALLSYMS, &addresses);
        let lines = events
            .iter()
            .zip(&named)
            .map(|((time, drop), location)| {
                let reason = drop.reason.and_then(|r| {
                    format
                        .symbols
                        .iter()
                        .find(|(v, _)| *v == u64::from(r))
                        .map(|(_, n)| n.as_str())
                });
                drop_line(
                    drop,
                    &LineContext {
                        comm: "python3",
                        cpu: 1,
                        time_ns: *time,
                        location: location.as_deref().unwrap_or("?"),
                        reason,
                        key: 7,
                    },
                )
            })
            .collect();
        (summary, lines)
    }

    /// Everything but the hashed pointers, which only the kernel can
    /// compute.
    fn without_pointers(line: &str) -> String {
        line.split(' ')
            .filter(|w| !w.starts_with("skbaddr=") && !w.starts_with("rx_sk="))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn the_header_page_of_6_18_is_x86_64s_layout() {
        assert_eq!(parse_header_page(HEADER_PAGE), Some(PageLayout::default()));
        assert_eq!(
            parse_header_page("field: u64 timestamp;\toffset:0;\tsize:8;"),
            None
        );
    }

    #[test]
    fn a_real_page_reads_as_the_kernels_own_text() {
        let (summary, ours) = lines(PAGE);
        assert_eq!(
            summary,
            PageSummary {
                events: 8,
                missed: Missed::No,
                broken: false
            }
        );
        let kernels: Vec<&str> = TRACE.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(ours.len(), kernels.len());
        for (ours, kernels) in ours.iter().zip(&kernels) {
            assert_eq!(without_pointers(ours), without_pointers(kernels));
            let ours = kfree_skb::parse_line(ours)
                .expect("our line")
                .expect("an event");
            assert_eq!(
                Some(ours),
                kfree_skb::parse_line(kernels).expect("its line")
            );
        }
        // The same skb, the same hash; never the address itself.
        assert_eq!(ours[0].split(' ').nth(10), ours[2].split(' ').nth(10));
        assert!(!ours.concat().contains("ffff8881"));
    }

    #[test]
    fn a_cut_or_corrupt_page_reads_what_is_whole() {
        for cut in 0..PAGE.len().min(400) {
            let (summary, lines) = lines(&PAGE[..cut]);
            assert_eq!(summary.events as usize, lines.len());
            assert!(lines.len() <= 8);
        }
        // A commit word claiming more than the page, a length running
        // off it, every header type: no panic, no event past the end.
        let mut page = PAGE.to_vec();
        page[8..16].copy_from_slice(&(u64::from(u32::MAX >> 5)).to_ne_bytes());
        let layout = PageLayout::default();
        assert!(read_page(&layout, &page, |_, _| {}).broken);
        for header in 0..64u32 {
            let mut page = PAGE.to_vec();
            page[16..20].copy_from_slice(&(header | 0xffff_ffe0).to_ne_bytes());
            page[20..24].copy_from_slice(&u32::MAX.to_ne_bytes());
            let _ = read_page(&layout, &page, |_, data| assert!(data.len() <= 4080));
        }
    }

    #[test]
    fn lost_events_are_read_from_the_commit_word() {
        let mut page = PAGE.to_vec();
        let size = 0x160u64;
        page[8..16].copy_from_slice(&(size | MISSED_EVENTS | MISSED_STORED).to_ne_bytes());
        page[16 + 0x160..16 + 0x168].copy_from_slice(&1840u64.to_ne_bytes());
        let summary = read_page(&PageLayout::default(), &page, |_, _| {});
        assert_eq!((summary.events, summary.missed), (8, Missed::Count(1840)));
        page[8..16].copy_from_slice(&(size | MISSED_EVENTS).to_ne_bytes());
        let summary = read_page(&PageLayout::default(), &page, |_, _| {});
        assert_eq!(summary.missed, Missed::Unknown);
    }

    #[test]
    fn latency_flags_as_the_kernel_writes_them() {
        assert_eq!(lat_flags(0x10, 1), "..s1.");
        assert_eq!(lat_flags(0x01 | 0x04 | 0x08, 0x21), "dnh12");
        assert_eq!(lat_flags(0x81 | 0x24 | 0x48, 0), "DNZ..");
        assert_eq!(trace_seconds(78_309_402_958_499), "78309.402958");
        assert_eq!(trace_seconds(1_999_999_500), "    2.000000");
    }
}
