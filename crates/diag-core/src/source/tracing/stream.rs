//! Reading the instance's rings while the window runs: every CPU's
//! `per_cpu/cpuN/trace_pipe_raw`, non-blocking, page by page (the kernel
//! hands each page over and reuses it), every `kfree_skb` counted per
//! reason, protocol and location and per second, the first few of each
//! reason kept as samples.
//!
//! Why: a ring read once at the end holds what fits (about 21,000 events
//! per CPU at 1,024 KiB); under a flood of 450,000 drops a second the
//! rest were only "at least N lost" and every rate was the rate of what
//! fit. Read as it fills, in binary (no text formatting by the kernel, a
//! few hundred nanoseconds per event here), every drop is counted.
//!
//! What it writes: `trace/kfree_skb.counts` (every event,
//! [`crate::parse::trace::counts`]) and `trace/kfree_skb.txt` (the
//! samples, as lines of tracefs's `trace` file: the same parser reads
//! both shapes, and a human can read them).

use super::TraceError;
use crate::parse::trace::counts::{CountRow, DropCounts, SecondRow};
use crate::parse::trace::ring::{self, DropLayout, LineContext, Missed, PageLayout, RawDrop};
use crate::parse::trace::{self, kallsyms};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Samples kept per reason.
const SAMPLES_PER_REASON: u32 = 16;
/// Samples kept in all.
const SAMPLES_MAX: usize = 4096;
/// Distinct (reason, protocol, location) counted; past this an event
/// counts under its reason and protocol at location `other`.
const KEYS_MAX: usize = 4096;
/// Distinct (second, reason) counted; past this, not per second.
const SECONDS_MAX: usize = 65_536;
/// Pages read from one CPU before the next CPU's turn.
const PAGES_PER_TURN: usize = 256;
/// Most of `/proc/kallsyms` read (6.18 with modules: about 10 MB).
const KALLSYMS_MAX: u64 = 64 << 20;

/// What a drop is counted by: its reason, protocol and location.
type Key = (Option<u32>, u16, u64);

/// `/proc/kallsyms`, being read or read.
enum Kallsyms {
    Unread,
    /// The file, what was read, whether all of it was.
    Reading(std::fs::File, Vec<u8>, bool),
    Read(kallsyms::Symbols),
}

/// Bytes of `/proc/kallsyms` read at least at a time (0.3 ms of the
/// kernel's time here).
const KALLSYMS_PIECE: usize = 64 << 10;

/// The rings of one instance, and what was counted from them.
pub(super) struct Streamer {
    rings: Vec<(u32, PathBuf, std::fs::File)>,
    /// `/proc/kallsyms` as read so far, a piece at a time between two
    /// drains ([`Streamer::read_symbols`]: the kernel takes 50 ms to write
    /// it all here, and a pause that long overran the rings under the
    /// bench's flood), then its table, made after the window. Not a
    /// thread of its own: the binary is size-bound
    /// (docs/static-binary.md).
    kallsyms: Kallsyms,
    page: Vec<u8>,
    counter: Counter,
}

struct Counter {
    layout: PageLayout,
    drops: DropLayout,
    names: Vec<(u64, String)>,
    totals: Vec<(Key, u64)>,
    last_total: usize,
    seconds: Vec<((u64, Option<u32>), u64)>,
    last_second: usize,
    samples: Vec<(u32, u64, RawDrop)>,
    /// The task names of the samples' pids, read when each was taken
    /// (a short-lived sender is gone by the window's end).
    comms: Vec<(i32, String)>,
    sampled: Vec<(Option<u32>, u32)>,
    events: u64,
    missed: u64,
    broken: u64,
}

/// Adds one to `key`'s count (the last key hit tried first: a flood is
/// one key); a new key past `max` counts under `overflow`, or not at all.
fn bump<K: PartialEq + Copy>(
    counts: &mut Vec<(K, u64)>,
    last: &mut usize,
    key: K,
    max: usize,
    overflow: Option<K>,
) {
    if let Some((k, n)) = counts.get_mut(*last) {
        if *k == key {
            *n += 1;
            return;
        }
    }
    let found = counts.iter().position(|(k, _)| *k == key).or_else(|| {
        if counts.len() < max {
            counts.push((key, 0));
            Some(counts.len() - 1)
        } else {
            let overflow = overflow?;
            counts.iter().position(|(k, _)| *k == overflow).or_else(|| {
                counts.push((overflow, 0));
                Some(counts.len() - 1)
            })
        }
    });
    if let Some(index) = found {
        counts[index].1 += 1;
        *last = index;
    }
}

impl Counter {
    fn page(&mut self, cpu: u32, page: &[u8]) {
        let layout = self.layout;
        let drops = self.drops;
        let summary = ring::read_page(&layout, page, |time, data| {
            if let Some(drop) = drops.read(data) {
                self.add(cpu, time, drop);
            }
        });
        match summary.missed {
            Missed::Count(n) => self.missed = self.missed.saturating_add(n),
            Missed::Unknown | Missed::No => {}
        }
        self.broken += u64::from(summary.broken);
    }

    fn add(&mut self, cpu: u32, time: u64, drop: RawDrop) {
        self.events += 1;
        let key = (drop.reason, drop.protocol, drop.location);
        let other = (drop.reason, drop.protocol, 0);
        bump(
            &mut self.totals,
            &mut self.last_total,
            key,
            KEYS_MAX,
            Some(other),
        );
        // The second the event line shows (its time rounded to the µs).
        let second = time.saturating_add(500) / 1000 / 1_000_000;
        bump(
            &mut self.seconds,
            &mut self.last_second,
            (second, drop.reason),
            SECONDS_MAX,
            None,
        );
        if self.samples.len() < SAMPLES_MAX {
            let index = match self.sampled.iter().position(|(r, _)| *r == drop.reason) {
                Some(index) => index,
                None => {
                    self.sampled.push((drop.reason, 0));
                    self.sampled.len() - 1
                }
            };
            if self.sampled[index].1 < SAMPLES_PER_REASON {
                self.sampled[index].1 += 1;
                self.samples.push((cpu, time, drop));
                if !self.comms.iter().any(|(pid, _)| *pid == drop.pid) {
                    let comm = if drop.pid == 0 {
                        "<idle>".to_string()
                    } else {
                        std::fs::read_to_string(format!("/proc/{}/comm", drop.pid))
                            .map(|c| crate::sanitize::visible_line(c.trim_end()))
                            .unwrap_or_else(|_| "<...>".into())
                    };
                    self.comms.push((drop.pid, comm));
                }
            }
        }
    }

    fn reason_name(&self, reason: Option<u32>) -> Option<String> {
        let reason = reason?;
        Some(
            self.names
                .iter()
                .find(|(v, _)| *v == u64::from(reason))
                .map_or_else(|| format!("{reason:#x}"), |(_, n)| n.clone()),
        )
    }
}

impl Streamer {
    /// Opens every CPU's `trace_pipe_raw` of the instance at `instance`
    /// (of the tracefs at `tracefs`)
    /// whose event has the `format` given: `None` when the page or the
    /// event cannot be read in binary (then the text is read at the end,
    /// as before).
    pub(super) fn open(tracefs: &Path, instance: &Path, format: &[u8]) -> Option<Streamer> {
        use std::os::unix::fs::OpenOptionsExt;
        // Only the top level has it; instances share the layout. The
        // kernel answers only a read at offset 0: one read, a buffer
        // large enough (std's `read_to_end` probes with 32 bytes first).
        let mut header = vec![0; 16 << 10];
        let n = std::fs::File::open(tracefs.join("events/header_page"))
            .and_then(|mut f| f.read(&mut header))
            .ok()?;
        let header = String::from_utf8_lossy(&header[..n]);
        let layout = ring::parse_header_page(&header)?;
        let (format, _) = trace::parse_event_format("format", &String::from_utf8_lossy(format));
        let drops = DropLayout::new(&format)?;
        // 6.8 and later let a sub-buffer be larger than a page.
        let page_size = std::fs::read_to_string(instance.join("buffer_subbuf_size_kb"))
            .ok()
            .and_then(|t| t.trim().parse::<usize>().ok())
            .map_or(4096, |kb| kb.clamp(4, 1024) * 1024);
        let mut rings = Vec::new();
        for (cpu, dir) in super::per_cpu_dirs(instance) {
            let path = dir.join("trace_pipe_raw");
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
                .open(&path)
                .ok()?;
            rings.push((cpu, path, file));
        }
        if rings.is_empty() {
            return None;
        }
        Some(Streamer {
            rings,
            kallsyms: Kallsyms::Unread,
            page: vec![0; page_size],
            counter: Counter {
                layout,
                drops,
                names: format.symbols,
                totals: Vec::new(),
                last_total: 0,
                seconds: Vec::new(),
                last_second: 0,
                samples: Vec::new(),
                comms: Vec::new(),
                sampled: Vec::new(),
                events: 0,
                missed: 0,
                broken: 0,
            },
        })
    }

    /// Reads the next `piece` bytes of `/proc/kallsyms` once there is an
    /// event to name the location of; with `piece` 0, the rest of it, and
    /// makes its table (20 ms here: after the window, not between two
    /// drains).
    pub(super) fn read_symbols(&mut self, piece: usize) {
        if self.counter.events == 0 {
            return;
        }
        loop {
            self.kallsyms = match std::mem::replace(&mut self.kallsyms, Kallsyms::Unread) {
                Kallsyms::Unread => match std::fs::File::open("/proc/kallsyms") {
                    Ok(file) => Kallsyms::Reading(file, Vec::new(), false),
                    Err(_) => Kallsyms::Read(kallsyms::Symbols::default()),
                },
                Kallsyms::Reading(mut file, mut text, false) => {
                    let at = text.len();
                    text.resize(at + piece.max(KALLSYMS_PIECE), 0);
                    let n = file.read(&mut text[at..]).unwrap_or(0);
                    text.truncate(at + n);
                    let end = n == 0 || text.len() as u64 >= KALLSYMS_MAX;
                    Kallsyms::Reading(file, text, end)
                }
                Kallsyms::Reading(file, text, true) if piece > 0 => {
                    Kallsyms::Reading(file, text, true)
                }
                Kallsyms::Reading(_, text, true) => {
                    Kallsyms::Read(kallsyms::Symbols::parse(&String::from_utf8_lossy(&text)))
                }
                read @ Kallsyms::Read(_) => read,
            };
            if piece > 0 || matches!(self.kallsyms, Kallsyms::Read(_)) {
                return;
            }
        }
    }

    /// Reads what the rings hold now; the number of pages read.
    pub(super) fn drain(&mut self) -> Result<usize, TraceError> {
        let mut pages = 0;
        for (cpu, path, file) in &mut self.rings {
            let mut turn = 0;
            while turn < PAGES_PER_TURN {
                match file.read(&mut self.page) {
                    Ok(0) => break,
                    Ok(n) => {
                        turn += 1;
                        self.counter.page(*cpu, &self.page[..n]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(TraceError::io(path, e)),
                }
            }
            pages += turn;
        }
        Ok(pages)
    }

    /// The counts and the samples, as the files of a bundle.
    pub(super) fn finish(mut self) -> Vec<(String, Vec<u8>)> {
        self.read_symbols(0);
        let counter = self.counter;
        let symbols = match self.kallsyms {
            Kallsyms::Read(symbols) => symbols,
            _ => kallsyms::Symbols::default(),
        };
        let location = |address: u64| -> String {
            if address == 0 {
                return "other".into();
            }
            symbols
                .name(address)
                .unwrap_or_else(|| format!("{address:#x}"))
        };

        let mut counts = DropCounts {
            totals: counter
                .totals
                .iter()
                .map(|((reason, protocol, at), events)| CountRow {
                    reason: counter.reason_name(*reason),
                    protocol: *protocol,
                    location: location(*at),
                    events: *events,
                })
                .collect(),
            seconds: counter
                .seconds
                .iter()
                .map(|((second, reason), events)| SecondRow {
                    second: *second,
                    reason: counter.reason_name(*reason),
                    events: *events,
                })
                .collect(),
        };
        crate::sort::sort_by(&mut counts.totals, |a, b| {
            b.events
                .cmp(&a.events)
                .then_with(|| a.reason.cmp(&b.reason))
                .then_with(|| a.location.cmp(&b.location))
                .then_with(|| a.protocol.cmp(&b.protocol))
        });
        crate::sort::sort_by(&mut counts.seconds, |a, b| {
            a.second
                .cmp(&b.second)
                .then_with(|| a.reason.cmp(&b.reason))
        });

        let mut samples = counter.samples.clone();
        crate::sort::sort_by_key(&mut samples, |(cpu, time, _)| (*time, *cpu));
        let key = {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(std::process::id())
        };
        let mut text = format!(
            "# tracer: nop\n#\n# diag: {} kfree_skb events read from the ring buffer while the window ran, \
             every one counted in trace/kfree_skb.counts; the first {SAMPLES_PER_REASON} of each reason are below{}\n#\n",
            counter.events,
            [
                (counter.missed > 0)
                    .then(|| format!("; the pages said {} events were lost before them", counter.missed)),
                (counter.broken > 0)
                    .then(|| format!("; {} pages could not be read whole", counter.broken)),
            ]
            .into_iter()
            .flatten()
            .collect::<String>()
        );
        for (cpu, time, drop) in &samples {
            let comm = counter
                .comms
                .iter()
                .find(|(pid, _)| *pid == drop.pid)
                .map_or("<...>", |(_, comm)| comm.as_str());
            let reason = counter.reason_name(drop.reason);
            let at = location(drop.location);
            text.push_str(&ring::drop_line(
                drop,
                &LineContext {
                    comm,
                    cpu: *cpu,
                    time_ns: *time,
                    location: &at,
                    reason: reason.as_deref(),
                    key,
                },
            ));
            text.push('\n');
        }
        vec![
            ("trace/kfree_skb.txt".into(), text.into_bytes()),
            (
                "trace/kfree_skb.counts".into(),
                counts.render().into_bytes(),
            ),
        ]
    }
}
