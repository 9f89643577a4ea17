//! Path permissions of services: the `services/paths.json` records of a
//! snapshot (see [`crate::facts::services::perms`]).

use crate::model::Note;
use crate::parse::services::perms::*;

/// The stat records of a snapshot's `services/paths.json` (none when it
/// has none), with their lines.
pub fn snapshot_paths(
    snapshot: &crate::source::snapshot::Snapshot,
    notes: &mut Vec<Note>,
) -> Vec<(PathRecord, u32)> {
    snapshot
        .text(PATHS_INPUT)
        .map(|t| parse_paths(PATHS_INPUT, &t, notes))
        .unwrap_or_default()
}
