//! `sos_logs/sos.log`, sos's own log of a `sos report` run: when sos
//! collected, for a report without `sos_reports/manifest.json` (sos 3.x
//! writes none).
//!
//! Each record starts with Python logging's `asctime`, the host's local
//! time to the millisecond (`2026-12-06 16:13:29,348 INFO: [plugin:date]
//! added cmd output 'date'`); a record may go on over more lines (a
//! traceback), which do not start so. The first record is written as the
//! archive is set up, the last one as the last plugin's last command is
//! collected: within a second of the manifest's `start_time` and
//! `end_time` (sos 4.0 on this project's VM: 0.36 s after the start,
//! 0.02 s before the end).

use jiff::civil::DateTime;

/// The time a `sos.log` record starts with, if `line` starts one.
pub fn record_time(line: &str) -> Option<DateTime> {
    let stamp = line.get(..23)?;
    if stamp.as_bytes().get(10) != Some(&b' ') {
        return None;
    }
    let (seconds, millis) = stamp.split_once(',')?;
    if millis.len() != 3 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let at: DateTime = seconds.parse().ok()?;
    if seconds.len() != 19 {
        return None;
    }
    let millis: i64 = millis.parse().ok()?;
    at.checked_add(jiff::SignedDuration::from_millis(millis))
        .ok()
}

/// The first and last record times of `sos.log` (the host's local time);
/// `None` when no line starts a record, or the last is before the first
/// (a log that is not one run's).
pub fn window(text: &str) -> Option<(DateTime, DateTime)> {
    let first = text.lines().find_map(record_time)?;
    let last = text.lines().rev().find_map(record_time)?;
    (first <= last).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first three and the last line of the `sos.log` of `sos report
    /// --batch -o networking,host,date` (Debian 12's sos 4.0) on this
    /// project's VM, byte for byte; its manifest said `start_time
    /// 2026-12-06 16:13:28.987062`, `end_time 2026-12-06 16:13:31.878893`.
    const SOS_4_0: &str = "2026-12-06 16:13:29,348 INFO: [archive:TarFileArchive] initialised empty FileCacheArchive at '/tmp/sosnet/sos.jslxqxh3/sosreport-vm-2026-12-06-ikkkwjc'
2026-12-06 16:13:29,349 INFO: [sos.report:setup] executing 'sos report --batch -o networking,host,date --tmp-dir /tmp/sosnet'
2026-12-06 16:13:29,349 INFO: [sos.report:setup] using 'none' preset defaults ()
2026-12-06 16:13:31,856 INFO: [plugin:networking] collecting output of 'ufw app list'
";

    fn at(s: &str) -> DateTime {
        s.parse().expect("datetime")
    }

    #[test]
    fn the_window_is_the_first_and_last_record() {
        assert_eq!(
            window(SOS_4_0),
            Some((at("2026-12-06 16:13:29.348"), at("2026-12-06 16:13:31.856")))
        );
        // A traceback's lines start no record.
        let text = format!(
            "{SOS_4_0}Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/sos/report/__init__.py\", line 1\n"
        );
        assert_eq!(
            window(&text).map(|w| w.1),
            Some(at("2026-12-06 16:13:31.856"))
        );
        assert_eq!(
            window(SOS_4_0.lines().next().expect("line")),
            Some((at("2026-12-06 16:13:29.348"), at("2026-12-06 16:13:29.348")))
        );
    }

    #[test]
    fn odd_truncated_and_hostile_logs_give_no_window() {
        for bad in [
            "",
            "\n\n",
            "sos: command not found",
            "2026-12-06 16:13:29 INFO: no milliseconds",
            "2026-12-06 16:13:29,34 INFO: two digits",
            "2026-13-06 16:13:29,348 INFO: month 13",
            "2026-12-06T16:13:29,348 INFO: a T",
            "2026-12-06 16:13:31,856 INFO: b\n2026-12-06 16:13:29,348 INFO: a",
            "2026-12-06 16:13:2\u{e9},348 INFO: a multi-byte character",
        ] {
            assert_eq!(window(bad), None, "{bad:?}");
        }
        // Cut anywhere, never a panic.
        for end in 0..SOS_4_0.len() {
            let _ = window(&SOS_4_0[..end]);
        }
    }
}
