//! sysfs: the md attributes of one array, `/sys/block/mdN/md/*`.

use super::clip;
use crate::model::Note;

/// The md attributes of one array as sysfs shows them
/// (`/sys/block/mdN/md/*`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SysfsMd {
    /// Array name (`md0`).
    pub name: String,
    /// `array_state`.
    pub array_state: String,
    /// `level`.
    pub level: String,
    /// `raid_disks` (the new count during a reshape).
    pub raid_disks: Option<u64>,
    /// `degraded`: slots without an in-sync member.
    pub degraded: Option<u64>,
    /// `sync_action`.
    pub sync_action: String,
    /// `sync_completed` as (done, total) sectors.
    pub sync_completed: Option<(u64, u64)>,
    /// `sync_completed` said `delayed`.
    pub sync_delayed: bool,
    /// `last_sync_action`.
    pub last_sync_action: String,
    /// `mismatch_cnt`.
    pub mismatch_cnt: Option<u64>,
    /// `metadata_version`.
    pub metadata: String,
    /// Members: (name, state, slot).
    pub members: Vec<(String, String, Option<i64>)>,
    /// The input names read, for evidence.
    pub inputs: Vec<String>,
}

/// Parses the attribute files of one array. `files` holds
/// (canonical input name, content) for every file below
/// `sys/block/<array>/md/`; attribute names are taken from the input names.
pub fn parse_sysfs_md(array: &str, files: &[(String, String)]) -> (SysfsMd, Vec<Note>) {
    let mut md = SysfsMd {
        name: array.to_string(),
        ..SysfsMd::default()
    };
    let mut notes = Vec::new();
    let prefix = format!("sys/block/{array}/md/");
    let mut members: std::collections::BTreeMap<String, (String, Option<i64>)> =
        std::collections::BTreeMap::new();
    for (input, text) in files {
        let Some(attr) = input.strip_prefix(&prefix) else {
            continue;
        };
        md.inputs.push(input.clone());
        let value = text.trim();
        let number = |notes: &mut Vec<Note>| -> Option<u64> {
            let first = value.split_whitespace().next().unwrap_or("");
            match first.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    notes.push(Note::line(
                        input,
                        1,
                        format!("expected a number, got {:?}", clip(value)),
                    ));
                    None
                }
            }
        };
        match attr {
            "array_state" => md.array_state = value.to_string(),
            "level" => md.level = value.to_string(),
            "raid_disks" => md.raid_disks = number(&mut notes),
            "degraded" => md.degraded = number(&mut notes),
            "sync_action" => md.sync_action = value.to_string(),
            "last_sync_action" => md.last_sync_action = value.to_string(),
            "mismatch_cnt" => md.mismatch_cnt = number(&mut notes),
            "metadata_version" => md.metadata = value.to_string(),
            "sync_completed" => match value {
                "none" | "" => {}
                "delayed" => md.sync_delayed = true,
                _ => {
                    let parsed = value.split_once('/').and_then(|(a, b)| {
                        Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?))
                    });
                    match parsed {
                        Some(pair) => md.sync_completed = Some(pair),
                        None => notes.push(Note::line(
                            input,
                            1,
                            format!("expected 'done / total', got {:?}", clip(value)),
                        )),
                    }
                }
            },
            _ => {
                if let Some(rest) = attr.strip_prefix("dev-") {
                    if let Some((dev, file)) = rest.split_once('/') {
                        let entry = members.entry(dev.to_string()).or_default();
                        match file {
                            "state" => entry.0 = value.to_string(),
                            "slot" => {
                                entry.1 = match value {
                                    "none" => Some(-1),
                                    v => match v.parse::<i64>() {
                                        Ok(n) => Some(n),
                                        Err(_) => {
                                            notes.push(Note::line(
                                                input,
                                                1,
                                                format!(
                                                    "expected a slot number or 'none', got {:?}",
                                                    clip(v)
                                                ),
                                            ));
                                            None
                                        }
                                    },
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    md.members = members
        .into_iter()
        .map(|(name, (state, slot))| (name.replace('!', "/"), state, slot))
        .collect();
    (md, notes)
}
