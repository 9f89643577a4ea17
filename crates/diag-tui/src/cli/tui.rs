//! The commands that open the terminal UI ([`crate::tui`]): `diag tui` (and
//! `diag` without a command on a terminal) on the live host, and `diag
//! analyze PATH --tui` on a bundle; and how their TUI flags combine with
//! those given before the command. Imports only [`crate::cli::args`],
//! [`crate::cli::common`] and [`crate::tui`], which imports nothing from
//! `cli`.

use crate::cli::args::{Cli, IntervalArg, ReadArgs, RuleArgs, TuiFlags};
use crate::cli::common::{live, load_rules, options};
use crate::tui::model::Feed;
use crate::tui::TuiArgs;
use anyhow::Result;
use std::path::PathBuf;

/// The TUI's flags from before the command and after it.
pub(crate) fn tui_args(top: &Cli, interval: IntervalArg, flags: TuiFlags) -> TuiArgs {
    TuiArgs {
        interval: interval.interval.or(top.interval.interval).unwrap_or(2.0),
        no_color: flags.no_color || top.tui.no_color,
        ascii: flags.ascii || top.tui.ascii,
    }
}

/// `diag analyze PATH --tui`: the terminal UI on the bundle at `path`.
pub(crate) fn on_bundle(
    path: PathBuf,
    read: &ReadArgs,
    rules: &RuleArgs,
    args: &TuiArgs,
) -> Result<u8> {
    let rules = load_rules(rules)?;
    diag_core::source::open(&path)?;
    let feed = Feed::Bundle(path);
    crate::tui::run(feed, rules, options(read)?, args)?;
    Ok(0)
}

/// `diag tui`: the terminal UI on the live host (below `root`), refreshed
/// every `args.interval` seconds.
pub(crate) fn on_live_host(
    root: Option<PathBuf>,
    read: &ReadArgs,
    rules: &RuleArgs,
    args: &TuiArgs,
) -> Result<u8> {
    let rules = load_rules(rules)?;
    live(root.clone())?;
    let interval = args.interval()?;
    let feed = Feed::Live { root, interval };
    crate::tui::run(feed, rules, options(read)?, args)?;
    Ok(0)
}
