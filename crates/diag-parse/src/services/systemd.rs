//! systemd's own output, as `diag collect` stores it:
//!
//! | input | command |
//! |---|---|
//! | `systemd/list-units.json` | `systemctl list-units --all --output=json --state=failed,auto-restart` |
//! | `systemd/show/<unit>` | `systemctl show <unit>` (`Key=Value` lines) |
//! | `systemd/journal/<unit>.json` | `journalctl -u <unit> -o json -n 50 --no-pager` (one object a line) |
//!
//! A unit is *failed* when its `ActiveState` is `failed`, and
//! *restart-looping* when its `SubState` is `auto-restart` or it restarted
//! at least [`RESTART_LOOP`] times (`NRestarts`).

use crate::json_records;
use crate::model::Note;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Restarts (`NRestarts`) from which a unit counts as restart-looping.
pub const RESTART_LOOP: u64 = 3;

/// Journal lines kept per unit.
pub const LAST_LINES: usize = 10;

/// One row of `systemctl list-units --output=json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct UnitRow {
    /// Unit name.
    pub unit: String,
    /// `loaded`, `not-found`, ...
    pub load: String,
    /// `active`, `failed`, `activating`, ...
    pub active: String,
    /// `running`, `failed`, `auto-restart`, ...
    pub sub: String,
    /// Description.
    pub description: String,
}

/// Parses `systemd/list-units.json`.
pub fn parse_list_units(input: &str, text: &str, notes: &mut Vec<Note>) -> Vec<(UnitRow, u32)> {
    let (elements, problem) = json_records::split(text);
    let mut rows = Vec::new();
    for element in elements {
        match serde_json::from_str::<UnitRow>(element.text) {
            Ok(row) if !row.unit.is_empty() => rows.push((row, element.line)),
            Ok(_) => notes.push(Note::line(
                input,
                element.line as usize,
                "unit row without a name",
            )),
            Err(err) => notes.push(Note::line(
                input,
                element.line as usize,
                format!("unreadable unit row: {err}"),
            )),
        }
    }
    // `[]` is a host with nothing failed: not a problem.
    if !matches!(problem, Some(json_records::Problem::Empty)) || !text.is_empty() {
        json_records::problem_note(input, problem, notes);
    }
    rows
}

/// `Key=Value` lines of `systemctl show`. Lines without `=` are notes.
pub fn parse_show(input: &str, text: &str, notes: &mut Vec<Note>) -> HashMap<String, String> {
    let mut props = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) => {
                props.insert(k.to_string(), v.to_string());
            }
            None => notes.push(Note::line(input, i + 1, "expected Key=Value")),
        }
    }
    props
}

/// One journal line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JournalLine {
    /// Microseconds since the epoch (`__REALTIME_TIMESTAMP`), 0 when absent.
    pub time_us: u64,
    /// `SYSLOG_IDENTIFIER`.
    pub identifier: String,
    /// The message (binary messages decoded lossily).
    pub message: String,
    /// 1-based line in the input.
    pub line: u32,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Message {
    Text(String),
    Bytes(Vec<u8>),
}

#[derive(Deserialize)]
struct JournalRecord {
    #[serde(rename = "__REALTIME_TIMESTAMP", default)]
    time: Option<String>,
    #[serde(rename = "SYSLOG_IDENTIFIER", default)]
    identifier: Option<String>,
    #[serde(rename = "MESSAGE", default)]
    message: Option<Message>,
}

/// `journalctl -o json` output: one JSON object a line. Unreadable lines
/// are notes; a record without `MESSAGE` is skipped.
pub fn parse_journal(input: &str, text: &str, notes: &mut Vec<Note>) -> Vec<JournalLine> {
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<JournalRecord>(line) {
            Ok(record) => {
                let message = match record.message {
                    Some(Message::Text(t)) => t,
                    Some(Message::Bytes(b)) => String::from_utf8_lossy(&b).into_owned(),
                    None => continue,
                };
                lines.push(JournalLine {
                    time_us: record.time.and_then(|t| t.parse().ok()).unwrap_or(0),
                    identifier: record.identifier.unwrap_or_default(),
                    message,
                    line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                });
            }
            Err(err) => notes.push(Note::line(
                input,
                i + 1,
                format!("unreadable journal record: {err}"),
            )),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `systemctl list-units --all --output=json --state=failed,auto-restart`
    /// as systemd 252 prints it (one line).
    const LIST: &str = r#"[{"unit":"apache2.service","load":"loaded","active":"failed","sub":"failed","description":"The Apache HTTP Server"},{"unit":"php-fpm.service","load":"loaded","active":"activating","sub":"auto-restart","description":"PHP FastCGI"}]"#;

    #[test]
    fn list_units() {
        let mut notes = Vec::new();
        let rows = parse_list_units("systemd/list-units.json", LIST, &mut notes);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].0.sub, "auto-restart");
        assert!(parse_list_units("x", "[]", &mut notes).is_empty());
        assert!(notes.is_empty());
        parse_list_units("x", &LIST[..60], &mut notes);
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn show_and_journal() {
        let mut notes = Vec::new();
        let props = parse_show(
            "systemd/show/apache2.service",
            "Id=apache2.service\nActiveState=failed\nSubState=failed\nResult=exit-code\nExecMainCode=1\nExecMainStatus=1\nNRestarts=0\nUser=\ngarbage\n",
            &mut notes,
        );
        assert_eq!(props["Result"], "exit-code");
        assert_eq!(notes.len(), 1);
        let journal = concat!(
            r#"{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1713326402000000","PRIORITY":"3","SYSLOG_IDENTIFIER":"apachectl","_SYSTEMD_UNIT":"apache2.service","MESSAGE":"(99)Cannot assign requested address: AH00072: make_sock: could not bind to address 192.0.2.77:80"}"#,
            "\n",
            r#"{"__REALTIME_TIMESTAMP":"1713326402000001","SYSLOG_IDENTIFIER":"apachectl","MESSAGE":[65,72,48,48,48,49,53,255]}"#,
            "\n{\"MESSAGE\":\"cut",
            "\n"
        );
        let mut notes = Vec::new();
        let lines = parse_journal("systemd/journal/apache2.service.json", journal, &mut notes);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].time_us, 1_713_326_402_000_000);
        assert!(lines[1].message.starts_with("AH00015"));
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].line, Some(3));
    }
}
