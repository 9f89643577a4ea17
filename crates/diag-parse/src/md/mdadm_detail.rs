//! `mdadm --detail` output (bundles only: `commands/mdadm_--detail_*`).

use super::clip;
use crate::model::Note;

/// One array as `mdadm --detail` describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MdadmDetail {
    /// The device path of the heading (`/dev/md0`).
    pub device: String,
    /// `Raid Level`.
    pub level: String,
    /// `Raid Devices`.
    pub raid_devices: Option<u64>,
    /// `Active Devices`.
    pub active_devices: Option<u64>,
    /// `State`, e.g. `clean, degraded, recovering`.
    pub state: String,
    /// `Rebuild Status` / `Resync Status` / ...: (action, percent).
    pub progress: Option<(String, f64)>,
    /// `Version` (metadata).
    pub version: String,
    /// Device table rows: (name, raid device slot or -1, state words).
    pub members: Vec<(String, i64, String)>,
    /// Slots the table lists as `removed`.
    pub removed_slots: Vec<u64>,
    /// Canonical input name.
    pub input: String,
    /// Line of the heading.
    pub line: u32,
    /// Heading, state and device table lines, as evidence.
    pub excerpt: String,
}

/// Parses `mdadm --detail` output (one or several arrays).
pub fn parse_mdadm_detail(input: &str, text: &str) -> (Vec<MdadmDetail>, Vec<Note>) {
    let mut out: Vec<MdadmDetail> = Vec::new();
    let mut notes = Vec::new();
    let mut in_table = false;
    let mut excerpt: Vec<String> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with("/dev/") && t.ends_with(':') && !raw.starts_with(' ') {
            if let Some(last) = out.last_mut() {
                last.excerpt = excerpt.join("\n");
            }
            excerpt.clear();
            excerpt.push(raw.trim_end().to_string());
            out.push(MdadmDetail {
                device: t.trim_end_matches(':').to_string(),
                input: input.to_string(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                ..MdadmDetail::default()
            });
            in_table = false;
            continue;
        }
        let Some(detail) = out.last_mut() else {
            if line <= 3 && t.starts_with("mdadm:") {
                notes.push(Note::line(input, line, format!("mdadm said: {}", clip(t))));
            }
            continue;
        };
        if t.starts_with("Number") && t.contains("RaidDevice") {
            in_table = true;
            excerpt.push(raw.trim_end().to_string());
            continue;
        }
        if in_table {
            // "   0   8   1   0   active sync   /dev/sda1"
            // "   1   0   0   1   removed"
            // "   2   8  17   -   faulty   /dev/sdb1"
            let fields: Vec<&str> = t.split_whitespace().collect();
            if fields.len() >= 5 && fields[..3].iter().all(|f| f.parse::<i64>().is_ok()) {
                excerpt.push(raw.trim_end().to_string());
                let slot = fields[3].parse::<i64>().unwrap_or(-1);
                let dev = fields
                    .last()
                    .filter(|f| f.starts_with('/'))
                    .map(|f| f.trim_start_matches("/dev/").to_string());
                let words_end = if dev.is_some() {
                    fields.len() - 1
                } else {
                    fields.len()
                };
                let words = fields[4..words_end].join(" ");
                match dev {
                    Some(dev) => detail.members.push((dev, slot, words)),
                    None if words.contains("removed") && slot >= 0 => {
                        detail.removed_slots.push(slot as u64)
                    }
                    None => {}
                }
            } else if fields.len() >= 3 && fields[0] == "-" {
                // mdadm 3.3+: "   -   0   0   1   removed"; container
                // members: "   -   8   0   -   /dev/sda".
                excerpt.push(raw.trim_end().to_string());
                if fields.last() == Some(&"removed") {
                    if let Some(slot) = fields.get(3).and_then(|s| s.parse::<u64>().ok()) {
                        detail.removed_slots.push(slot);
                    }
                } else if let Some(dev) = fields.last().filter(|f| f.starts_with('/')) {
                    detail.members.push((
                        dev.trim_start_matches("/dev/").to_string(),
                        -1,
                        String::new(),
                    ));
                }
            } else {
                notes.push(Note::line(
                    input,
                    line,
                    format!("unrecognised device table row {:?}", clip(t)),
                ));
            }
            continue;
        }
        let Some((key, value)) = t.split_once(" : ").or_else(|| t.split_once(':')) else {
            continue;
        };
        let key = key.trim();
        let value = value.trim();
        let number = || value.split_whitespace().next().and_then(|v| v.parse().ok());
        match key {
            "Raid Level" => detail.level = value.to_string(),
            "Raid Devices" => detail.raid_devices = number(),
            "Active Devices" => detail.active_devices = number(),
            "Version" => detail.version = value.to_string(),
            "State" => {
                detail.state = value.to_string();
                excerpt.push(raw.trim_end().to_string());
            }
            k if k.ends_with(" Status") && value.contains('%') => {
                let action = match k {
                    "Rebuild Status" => "recovery",
                    "Resync Status" => "resync",
                    "Reshape Status" => "reshape",
                    "Check Status" => "check",
                    "Repair Status" => "repair",
                    _ => "",
                };
                let percent = value
                    .split('%')
                    .next()
                    .and_then(|p| p.trim().parse::<f64>().ok());
                if let (false, Some(p)) = (action.is_empty(), percent) {
                    detail.progress = Some((action.to_string(), p));
                    excerpt.push(raw.trim_end().to_string());
                }
            }
            _ => {}
        }
    }
    if let Some(last) = out.last_mut() {
        last.excerpt = excerpt.join("\n");
    }
    if out.is_empty() && !text.trim().is_empty() {
        notes.push(Note::input(
            input,
            "no '/dev/mdN:' heading: not mdadm --detail output",
        ));
    }
    (out, notes)
}
