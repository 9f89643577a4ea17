//! `diag watch`: follow the kernel log and print each kernel-log finding as
//! its lines arrive (see `diag_core::watch`).
//!
//! Every string from the kernel log or a rule passes the one sanitiser
//! (`diag_core::sanitize`): `render` shows controls as visible pictures,
//! `--json` lines escape them.
//!
//! Its arguments ([`WatchArgs`]) are defined in [`crate::cli::args`]; this
//! module imports only that and [`crate::cli::common`].

use crate::cli::args::{RuleArgs, WatchArgs};
use crate::cli::common::load_rules;
use anyhow::{bail, Result};
use diag_core::model::Severity;
use diag_core::sanitize;
use diag_core::watch::{Follower, Start, Update, Watcher};
use std::io::Write;
use std::time::Duration;

/// Runs until interrupted (SIGINT/SIGTERM end the process) or stdout is
/// closed.
pub(crate) fn run(args: &WatchArgs, rules: &RuleArgs) -> Result<u8> {
    let rules = &load_rules(rules)?;
    if !(args.interval.is_finite() && args.interval > 0.0 && args.interval <= 3600.0) {
        bail!("--interval must be more than 0 and at most 3600 seconds");
    }
    if args.window_kib == 0 || args.window_kib > 1 << 20 {
        bail!("--window-kib must be between 1 and 1048576");
    }
    let start = if args.from_start {
        Start::Beginning
    } else {
        Start::End
    };
    let follower = Follower::open(&args.device, start, args.window_kib << 10)?;
    let interval = Duration::from_secs_f64(args.interval);
    let mut watcher = Watcher::new(follower, rules, interval);
    eprintln!(
        "diag: watching {} (new findings every {:.1} s at most; ^C stops)",
        sanitize::visible_line(&args.device.display().to_string()),
        args.interval
    );
    let mut out = std::io::stdout().lock();
    let mut overwritten = 0;
    loop {
        let updates = watcher.step(interval)?;
        // Records the kernel overwrote before diag read them are gone:
        // the operator must know the window is incomplete.
        let lost = watcher.follower().overwritten() - overwritten;
        if updates.is_empty() && lost == 0 {
            continue;
        }
        overwritten += lost;
        let now = jiff::Timestamp::now();
        let mut text = String::new();
        if lost > 0 {
            let message = format!(
                "the kernel overwrote records before diag read them ({lost} time(s); {overwritten} in all): the ring buffer fills faster than it is read"
            );
            if args.json {
                let line = serde_json::json!({ "time": now.to_string(), "lost": message });
                text.push_str(&sanitize::json(&line.to_string()));
                text.push('\n');
            } else {
                text.push_str(&format!("{} NOTE {message}\n", now.strftime("%H:%M:%SZ")));
            }
        }
        for update in &updates {
            if args.json {
                let line = serde_json::json!({
                    "time": now.to_string(),
                    "first": update.first,
                    "finding": diag_core::report::json::value(&update.finding),
                });
                text.push_str(&sanitize::json(&line.to_string()));
                text.push('\n');
            } else {
                text.push_str(&render(&now, update));
            }
        }
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
            other => other?,
        }
    }
}

/// One update as text: every string from the log or a rule through
/// [`sanitize::visible_line`], so a line stays one line and no escape
/// sequence reaches the terminal.
fn render(now: &jiff::Timestamp, update: &Update) -> String {
    let v = sanitize::visible_line;
    let f = &update.finding;
    let level = match f.severity {
        Severity::Critical => "CRIT",
        Severity::Warning => "WARN",
        Severity::Info => "INFO",
    };
    let mark = if update.first { "new" } else { "again" };
    let mut text = format!(
        "{} {level} {} ({mark}, {} in window): {}\n",
        now.strftime("%H:%M:%SZ"),
        v(&f.id),
        f.count,
        v(&f.summary)
    );
    if let Some(newest) = f.evidence.last() {
        let line = newest.line_end.or(newest.line).unwrap_or(0);
        let excerpt = newest.excerpt.lines().next().unwrap_or("");
        text.push_str(&format!(
            "    {}:{line}: {}\n",
            v(&newest.input),
            v(excerpt)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use diag_core::diagnose::Finding;
    use diag_core::model::Evidence;

    #[test]
    fn escape_sequences_in_a_finding_never_reach_the_terminal() {
        let evil = "\x1b]0;owned\x07\x1b[2J\u{9b}31m\u{202e}\r\nFAKE";
        let mut finding = Finding::new(
            format!("x.{evil}"),
            evil,
            Severity::Warning,
            format!("summary {evil}"),
        );
        finding.count = 2;
        finding.evidence = vec![Evidence {
            input: format!("dev/{evil}"),
            line: Some(3),
            line_end: None,
            excerpt: format!("kmsg {evil}"),
        }];
        let update = Update {
            finding,
            first: true,
        };
        let text = render(&jiff::Timestamp::UNIX_EPOCH, &update);
        assert!(
            !text.chars().any(|c| c != '\n' && sanitize::is_control(c)),
            "{text:?}"
        );
        // Two lines, not more: a line feed in a field is shown, not obeyed.
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("summary \u{241b}]0;owned\u{2407}"), "{text}");
        let json = sanitize::json(&serde_json::json!({ "finding": update.finding }).to_string())
            .into_owned();
        assert!(!json.chars().any(sanitize::is_control), "{json}");
    }
}
