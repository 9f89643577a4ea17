//! md (software RAID) facts: `proc/mdstat`, `sys/block/md*/md/*` and
//! `mdadm --detail` outputs of a snapshot, each parsed with
//! [`crate::parse::md`] / [`crate::parse::mdstat`] and merged per array.

use crate::model::Note;
use crate::parse::md::*;
use crate::parse::mdstat::parse_mdstat;

/// Every md input of a snapshot (`proc/mdstat`, `sys/block/md*/md/...`,
/// `commands/mdadm_--detail_*`), parsed and merged.
pub(crate) fn from_snapshot(
    snapshot: &crate::source::snapshot::Snapshot,
    notes: &mut Vec<Note>,
) -> MdFacts {
    let mut facts = MdFacts::default();
    let mut arrays = Vec::new();
    if let Some(text) = snapshot.text("proc/mdstat") {
        let (mdstat, more) = parse_mdstat("proc/mdstat", &text);
        facts.personalities = mdstat.personalities;
        arrays = mdstat.arrays;
        notes.extend(more);
    }
    let mut by_array: std::collections::BTreeMap<String, Vec<(String, String)>> =
        std::collections::BTreeMap::new();
    for (name, input) in &snapshot.inputs {
        let Some(rest) = name.strip_prefix("sys/block/") else {
            continue;
        };
        let Some((array, attr)) = rest.split_once("/md/") else {
            continue;
        };
        if attr.is_empty() || array.contains('/') {
            continue;
        }
        by_array
            .entry(array.to_string())
            .or_default()
            .push((name.clone(), input.text().into_owned()));
    }
    let mut sysfs = Vec::new();
    for (array, files) in by_array {
        let (md, more) = parse_sysfs_md(&array, &files);
        notes.extend(more);
        sysfs.push(md);
    }
    let mut mdadm = Vec::new();
    for (name, input) in &snapshot.inputs {
        let Some(hint) = name.strip_prefix("commands/mdadm_--detail_") else {
            continue;
        };
        let (details, more) = parse_mdadm_detail(name, &input.text());
        notes.extend(more);
        let hint = hint.trim_start_matches("_dev_").trim_start_matches("dev_");
        let single = details.len() == 1;
        for detail in details {
            let hint = if single {
                hint.to_string()
            } else {
                String::new()
            };
            mdadm.push((hint, detail));
        }
    }
    facts.arrays = merge(arrays, sysfs, mdadm, notes);
    facts
}
