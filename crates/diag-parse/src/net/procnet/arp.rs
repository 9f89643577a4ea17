//! `/proc/net/arp`: the IPv4 neighbour table. It shows only whether an
//! entry is complete, not its NUD state.

use crate::model::Note;
use crate::net::{line_u32, lladdr, parse_ip as ip_addr, Interner, Neighbour, Notes};

const ATF_COM: u32 = 0x2;
const ATF_PERM: u32 = 0x4;

/// Parses `/proc/net/arp`: `IP address HW type Flags HW address Mask
/// Device`. Flags `0x2` is complete (state `COMPLETE`), `0x4`/`0x6`
/// permanent, `0x0` incomplete (its `00:00:00:00:00:00` address is dropped).
pub fn parse_proc_net_arp(
    input: &str,
    text: &str,
    interner: &mut Interner,
) -> (Vec<Neighbour>, Vec<Note>) {
    let mut notes = Notes::new(input);
    let mut neighbours = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let fields: Vec<&str> = raw.split_whitespace().collect();
        let Some(&first) = fields.first() else {
            continue;
        };
        if first == "IP" {
            continue;
        }
        let Some(dst) = ip_addr(first) else {
            notes.line(
                line,
                format!("not an arp entry: {first:?} is not an address"),
            );
            continue;
        };
        if fields.len() != 6 {
            notes.line(
                line,
                format!("expected 6 columns, found {} (cut short?)", fields.len()),
            );
            continue;
        }
        let Some(flags) = fields[2]
            .strip_prefix("0x")
            .and_then(|h| u32::from_str_radix(h, 16).ok())
        else {
            notes.line(line, format!("bad flags {:?}", fields[2]));
            continue;
        };
        let state = if flags & ATF_PERM != 0 {
            "PERMANENT"
        } else if flags & ATF_COM != 0 {
            "COMPLETE"
        } else {
            "INCOMPLETE"
        };
        let hw = if flags & (ATF_COM | ATF_PERM) != 0 {
            lladdr(fields[3])
        } else {
            String::new()
        };
        neighbours.push(Neighbour {
            dst,
            dev: interner.get(fields[5]),
            lladdr: interner.get(&hw),
            state: interner.get(state),
            router: false,
            line: line_u32(line),
        });
    }
    (neighbours, notes.finish())
}
