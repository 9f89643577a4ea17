//! Capture files: classic pcap (microsecond and nanosecond timestamps,
//! both byte orders) and pcapng, read frame by frame with `pcap-file`.
//!
//! The format is recognised by its magic number, not by the file name (a
//! `.pcapng` that is classic pcap is common). A file that ends in the middle
//! of a record is analysed up to there and reported as truncated.

use pcap_file::pcap::PcapHeader;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{PcapError, TsResolution};

/// One captured frame.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based packet number, as Wireshark and `tcpdump --number` count.
    pub number: u64,
    /// Capture time in nanoseconds since the epoch.
    pub time_ns: u128,
    /// Link-layer type (`LINKTYPE_*`: 1 Ethernet, 113 Linux SLL, ...).
    pub link_type: u32,
    /// The captured bytes (at most the snap length).
    pub data: &'a [u8],
    /// The frame's length on the wire.
    pub wire_len: u32,
}

/// What the file itself said, besides its frames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileInfo {
    /// `pcap`, `pcapng`, or empty when the format was not recognised.
    pub format: String,
    /// Link type of the first interface.
    pub link_type: u32,
    /// The file ends in the middle of a record.
    pub truncated: bool,
    /// Why reading stopped early, or what was odd about the file.
    pub note: Option<String>,
}

const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Calls `frame` for every frame of a pcap or pcapng file held in `bytes`.
/// Never fails: what could not be read is described in the returned
/// [`FileInfo`].
pub fn read_frames<'a>(bytes: &'a [u8], mut frame: impl FnMut(Frame<'a>)) -> FileInfo {
    let mut info = FileInfo::default();
    if bytes.is_empty() {
        info.note = Some("empty file: not a capture".into());
        return info;
    }
    if bytes.starts_with(&PCAPNG_MAGIC) {
        read_pcapng(bytes, &mut info, &mut frame);
    } else {
        read_pcap(bytes, &mut info, &mut frame);
    }
    info
}

fn read_pcap<'a>(bytes: &'a [u8], info: &mut FileInfo, frame: &mut impl FnMut(Frame<'a>)) {
    let (mut rest, header) = match PcapHeader::from_slice(bytes) {
        Ok(ok) => ok,
        Err(PcapError::IncompleteBuffer) => {
            info.truncated = true;
            info.note = Some(format!(
                "file of {} bytes ends inside the pcap header",
                bytes.len()
            ));
            return;
        }
        Err(err) => {
            info.note = Some(format!("not a pcap or pcapng file: {err}"));
            return;
        }
    };
    info.format = "pcap".into();
    info.link_type = u32::from(header.datalink);
    let scale: u128 = match header.ts_resolution {
        TsResolution::MicroSecond => 1_000,
        TsResolution::NanoSecond => 1,
    };
    let mut number = 0u64;
    while !rest.is_empty() {
        // Records read by hand: real files break the header's rules
        // (orig_len above a snap length of 0) and their data is still good.
        let big = header.endianness == pcap_file::Endianness::Big;
        match record(rest, big) {
            Some((next, ts_sec, ts_frac, data, orig_len)) => {
                number += 1;
                frame(Frame {
                    number,
                    time_ns: u128::from(ts_sec) * 1_000_000_000 + u128::from(ts_frac) * scale,
                    link_type: info.link_type,
                    data,
                    wire_len: orig_len,
                });
                rest = next;
            }
            None => {
                info.truncated = true;
                info.note = Some(format!(
                    "file ends inside packet {} ({} bytes left over): analysed the {number} packets before it",
                    number + 1,
                    rest.len()
                ));
                return;
            }
        }
    }
}

/// Converts timestamp units to nanoseconds by the interface's
/// `if_tsresol` (10^-6 s when absent).
fn to_ns(units: u128, idb: Option<&InterfaceDescriptionBlock<'_>>) -> u128 {
    let resol = idb
        .and_then(|i| {
            i.options.iter().find_map(|o| match o {
                InterfaceDescriptionOption::IfTsResol(v) => Some(*v),
                _ => None,
            })
        })
        .unwrap_or(6);
    if resol & 0x80 == 0 {
        let exp = u32::from(resol.min(30));
        if exp <= 9 {
            units.saturating_mul(10u128.pow(9 - exp))
        } else {
            units / 10u128.pow(exp - 9)
        }
    } else {
        let exp = u32::from((resol & 0x7f).min(100));
        units.saturating_mul(1_000_000_000) >> exp
    }
}

type Record<'a> = (&'a [u8], u32, u32, &'a [u8], u32);

/// One classic pcap record: its 16-byte header and data.
fn record(rest: &[u8], big: bool) -> Option<Record<'_>> {
    let word = |i: usize| -> u32 {
        let b = [rest[i], rest[i + 1], rest[i + 2], rest[i + 3]];
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    if rest.len() < 16 {
        return None;
    }
    let (ts_sec, ts_frac, incl_len, orig_len) = (word(0), word(4), word(8), word(12));
    let end = usize::try_from(incl_len)
        .ok()
        .and_then(|n| n.checked_add(16))
        .filter(|&end| end <= rest.len())?;
    Some((&rest[end..], ts_sec, ts_frac, &rest[16..end], orig_len))
}

fn read_pcapng<'a>(bytes: &'a [u8], info: &mut FileInfo, frame: &mut impl FnMut(Frame<'a>)) {
    let (mut rest, mut parser) = match PcapNgParser::new(bytes) {
        Ok(ok) => ok,
        Err(PcapError::IncompleteBuffer) => {
            info.truncated = true;
            info.note = Some("file ends inside the pcapng section header".into());
            return;
        }
        Err(err) => {
            info.note = Some(format!("unreadable pcapng section header: {err}"));
            return;
        }
    };
    info.format = "pcapng".into();
    let mut number = 0u64;
    while !rest.is_empty() {
        match parser.next_block(rest) {
            Ok((next, block)) => {
                rest = next;
                let (link, time_ns, data, wire_len) = match block {
                    Block::InterfaceDescription(idb) => {
                        if parser.interfaces().len() == 1 {
                            info.link_type = u32::from(idb.linktype);
                        }
                        continue;
                    }
                    Block::EnhancedPacket(epb) => (
                        parser.packet_interface(&epb).map(|i| u32::from(i.linktype)),
                        // pcap-file hands the raw units over as nanoseconds;
                        // the interface says what they are (µs by default).
                        to_ns(epb.timestamp.as_nanos(), parser.packet_interface(&epb)),
                        epb.data,
                        epb.original_len,
                    ),
                    Block::SimplePacket(spb) => (
                        parser.interfaces().first().map(|i| u32::from(i.linktype)),
                        0,
                        spb.data,
                        spb.original_len,
                    ),
                    Block::Packet(pb) => (
                        parser
                            .interfaces()
                            .get(usize::from(pb.interface_id))
                            .map(|i| u32::from(i.linktype)),
                        to_ns(
                            u128::from(pb.timestamp),
                            parser.interfaces().get(usize::from(pb.interface_id)),
                        ),
                        pb.data,
                        pb.original_len,
                    ),
                    _ => continue,
                };
                // Parsed blocks borrow the file's bytes; pcap-file owns
                // data only in blocks it builds itself.
                let std::borrow::Cow::Borrowed(data) = data else {
                    info.note = Some(format!(
                        "after packet {number}: a block the reader copied; stopped there"
                    ));
                    return;
                };
                number += 1;
                frame(Frame {
                    number,
                    time_ns,
                    link_type: link.unwrap_or(info.link_type),
                    data,
                    wire_len,
                });
            }
            Err(PcapError::IncompleteBuffer) => {
                info.truncated = true;
                info.note = Some(format!(
                    "file ends inside a block after packet {number} ({} bytes left over): analysed what came before",
                    rest.len()
                ));
                return;
            }
            Err(err) => {
                info.note = Some(format!("after packet {number}: {err}; stopped there"));
                return;
            }
        }
    }
}
