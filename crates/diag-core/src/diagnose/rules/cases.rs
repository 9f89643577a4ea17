//! Files a rule case names as an input (`"capture/eth0.pcapng" = { file
//! = "capture/syn_flood.pcapng" }`): a capture is bytes, not text, and a
//! rule file should not carry it as 300,000 characters of escapes.
//!
//! The name is relative to the `cases/` folder of the rule directory:
//! `rules/cases/` for the built-in rules (embedded at build time with the
//! whole rule texts, see build.rs), `DIR/cases/` for `--rules DIR`, read
//! confined beneath that folder as a bundle is (no `..`, no absolute
//! name, no symbolic link that leaves it: docs/hostile-inputs.md).

use crate::source::beneath::Confine;
use crate::source::{check_name, read_in, Limits};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The embedded case files of the built-in rules, by name.
pub(crate) type Embedded = Arc<BTreeMap<String, Vec<u8>>>;

/// The largest case file read from a rule directory.
const CASE_FILE_MAX: usize = 64 << 20;

/// Where the files named by the cases of one rule file are.
#[derive(Debug, Clone)]
pub(crate) enum CaseFiles {
    /// Rule files given in memory: no case files.
    None,
    /// The built-in rules: `rules/cases/`, embedded.
    Builtin(Embedded),
    /// A rule directory's `cases/` folder.
    Dir(PathBuf),
}

impl CaseFiles {
    /// The bytes of case file `name`, or why it cannot be read.
    pub(crate) fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        if check_name(name).is_err() || name.contains('\\') {
            return Err(format!(
                "case file {name:?}: give a path relative to the rule directory's cases/ \
                 folder, without `..`, `.` or a leading `/`"
            ));
        }
        match self {
            CaseFiles::None => Err(format!(
                "case file {name:?}: rules given in memory have no cases/ folder"
            )),
            CaseFiles::Builtin(files) => files
                .get(name)
                .cloned()
                .ok_or_else(|| format!("case file {name:?} is not in rules/cases/")),
            CaseFiles::Dir(dir) => {
                let limits = Limits {
                    timeout: Duration::from_secs(10),
                    max_bytes: CASE_FILE_MAX,
                    ..Limits::default()
                };
                match read_in(dir, name, Confine::Beneath, &limits) {
                    Ok(input) if input.truncated => Err(format!(
                        "case file {name:?} (in {}) is over {} MiB",
                        dir.display(),
                        CASE_FILE_MAX >> 20
                    )),
                    Ok(input) => Ok(input.bytes.to_vec()),
                    Err(err) => Err(format!("case file {name:?} (in {}): {err}", dir.display())),
                }
            }
        }
    }
}
