//! Web server error logs (Apache `error.log`/`error_log`, nginx
//! `error.log`) and service journals: the lines that say why a service
//! cannot work, as [`LogEvent`]s.
//!
//! What is recognised (real shapes, see the tests):
//!
//! | kind | Apache | nginx |
//! |---|---|---|
//! | `permission-denied` | `(13)Permission denied: ... AH00035: ... (filesystem path '/p')`, `AH00529: /p/.htaccess pcfg_openfile`, `AH00132: file permissions deny server access: /p`, `Could not open configuration file /p: Permission denied` | `open() "/p" failed (13: Permission denied)`, `"/p" is forbidden (13: Permission denied)` |
//! | `bind-failed` | `(99)Cannot assign requested address: AH00072: make_sock: could not bind to address 192.0.2.7:80`, `(98)Address already in use` | `bind() to 192.0.2.7:80 failed (99: Cannot assign requested address)` |
//! | `missing-file` | `(2)No such file or directory: ...`, `AH00128: File does not exist: /p`, `SSLCertificateFile: file '/p' does not exist or is empty` | `open() "/p" failed (2: No such file or directory)` |
//! | `config-error` | `AH00526: Syntax error on line 3 of /etc/apache2/x.conf:`, `Syntax error on line ...` | `[emerg] ... in /etc/nginx/x.conf:12` |
//!
//! Other lines are not events and are not notes either (an error log is
//! mostly noise for this purpose); a line that is not text (NUL bytes,
//! invalid UTF-8) becomes a note, and the rest of the log is still used.

use crate::model::Note;
use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

/// Something a service logged that explains why it does not work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogEvent {
    /// The service whose log it is (`apache2`, `httpd`, `nginx`, a unit).
    pub service: String,
    /// `permission-denied`, `bind-failed`, `missing-file` or `config-error`.
    pub kind: String,
    /// The file or directory the line names, empty when none.
    pub path: String,
    /// For bind failures: the address (without port), else empty.
    pub address: String,
    /// For bind failures: the port, else 0.
    pub port: u32,
    /// The system's reason (`Permission denied`, `Cannot assign requested
    /// address`, ...), empty when the line gives none.
    pub reason: String,
    /// The Apache message id (`AH00035`), empty when none.
    pub code: String,
    /// Whether the line is about a client request (a 403 or 404 served to
    /// a client) rather than the server's own start-up.
    pub client: bool,
    /// The line's timestamp as written, empty when none.
    pub time: String,
    /// Canonical input name.
    pub input: String,
    /// 1-based line.
    pub line: u32,
    /// The line.
    pub excerpt: String,
}

struct Pattern {
    kind: &'static str,
    regex: Regex,
}

fn pattern(kind: &'static str, re: &str) -> Pattern {
    Pattern {
        kind,
        // The patterns are constants, tested below.
        regex: Regex::new(re).expect("valid built-in pattern"),
    }
}

/// Ordered: the first pattern that matches a line decides its kind.
/// Named groups: `path`, `addr`, `port`, `reason`.
static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    vec![
        // Apache, bind failures (start-up, or a graceful restart).
        pattern(
            "bind-failed",
            r"\((?:98|99|13)\)(?P<reason>[A-Za-z ]+): (?:AH00072: )?make_sock: could not bind to address \[?(?P<addr>[^\s\]]*?)\]?:(?P<port>[0-9]+)",
        ),
        // nginx bind failures.
        pattern(
            "bind-failed",
            r#"bind\(\) to \[?(?P<addr>[^\s\]]*?)\]?:(?P<port>[0-9]+) failed \([0-9]+: (?P<reason>[^)]+)\)"#,
        ),
        // Apache: a denied request, the path the filesystem check refused.
        pattern(
            "permission-denied",
            r"\(13\)(?P<reason>Permission denied).*filesystem path '(?P<path>[^']+)'",
        ),
        pattern(
            "permission-denied",
            r"\(13\)(?P<reason>Permission denied).*AH00529: (?P<path>\S+) pcfg_openfile",
        ),
        pattern(
            "permission-denied",
            r"AH00132: file permissions deny server access: (?P<path>\S+)",
        ),
        pattern(
            "permission-denied",
            r"Could not open configuration file (?P<path>\S+): (?P<reason>Permission denied)",
        ),
        pattern(
            "permission-denied",
            r"\(13\)(?P<reason>Permission denied): .*?(?P<path>/[^\s,'\x22]+)",
        ),
        // nginx: open() of a file or index, or a forbidden directory.
        pattern(
            "permission-denied",
            r#""(?P<path>/[^"]+)"(?: is forbidden| failed) \(13: (?P<reason>Permission denied)\)"#,
        ),
        pattern(
            "missing-file",
            r#""(?P<path>/[^"]+)" failed \(2: (?P<reason>No such file or directory)\)"#,
        ),
        pattern(
            "missing-file",
            r"AH00128: File does not exist: (?P<path>\S+)",
        ),
        pattern(
            "missing-file",
            r"file '(?P<path>/[^']+)' does not exist or is empty",
        ),
        pattern(
            "missing-file",
            r"\(2\)(?P<reason>No such file or directory): .*?(?P<path>/[^\s,'\x22]+)",
        ),
        pattern(
            "config-error",
            r"Syntax error on line [0-9]+ of (?P<path>[^\s:]+)",
        ),
        pattern("config-error", r"\[emerg\] .* in (?P<path>/[^\s:]+):[0-9]+"),
    ]
});

static CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bAH[0-9]{5}\b").expect("valid built-in pattern"));
static APACHE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\[([A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:.]+ [0-9]{4})\]")
        .expect("valid built-in pattern")
});
static NGINX_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})")
        .expect("valid built-in pattern")
});

/// Classifies one log line; `None` when it is not an event.
pub fn parse_line(service: &str, input: &str, line: u32, text: &str) -> Option<LogEvent> {
    let text = text.trim_end_matches(['\r', '\n']);
    for p in PATTERNS.iter() {
        let Some(caps) = p.regex.captures(text) else {
            continue;
        };
        let get = |name: &str| {
            caps.name(name)
                .map(|m| m.as_str().to_string())
                .unwrap_or_default()
        };
        let mut path = get("path");
        // "'/var/www/html/aliases/' is executable": keep the directory as
        // the system wrote it, without the trailing slash.
        if path.len() > 1 {
            path = path.trim_end_matches('/').to_string();
        }
        let time = APACHE_TIME
            .captures(text)
            .or_else(|| NGINX_TIME.captures(text))
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
        return Some(LogEvent {
            service: service.to_string(),
            kind: p.kind.to_string(),
            path,
            address: get("addr"),
            port: get("port").parse().unwrap_or(0),
            reason: get("reason").trim().to_string(),
            code: CODE
                .find(text)
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            client: text.contains("[client ") || text.contains(", client: "),
            time,
            input: input.to_string(),
            line,
            excerpt: text.to_string(),
        });
    }
    None
}

/// Every event of one error log. A line holding NUL bytes or invalid UTF-8
/// (U+FFFD after lossy decoding) becomes a note and is skipped.
pub fn parse_error_log(service: &str, input: &str, text: &str) -> (Vec<LogEvent>, Vec<Note>) {
    let mut events = Vec::new();
    let mut notes = Vec::new();
    let mut garbage = 0usize;
    for (i, line) in text.lines().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if line.contains('\0') || line.contains('\u{FFFD}') {
            garbage += 1;
            if garbage <= 3 {
                notes.push(Note::line(
                    input,
                    i + 1,
                    "not text (NUL bytes or invalid UTF-8); line skipped",
                ));
            }
            continue;
        }
        if let Some(event) = parse_line(service, input, number, line) {
            events.push(event);
        }
    }
    if garbage > 3 {
        notes.push(Note::input(
            input,
            format!("{garbage} lines in all were not text and were skipped"),
        ));
    }
    (events, notes)
}

/// The service an error log belongs to, from its canonical name
/// (`var/log/apache2/error.log.1` → `apache2`).
pub fn service_of_log(input: &str) -> &'static str {
    if input.starts_with("var/log/apache2/") {
        "apache2"
    } else if input.starts_with("var/log/httpd/") {
        "httpd"
    } else if input.starts_with("var/log/nginx/") {
        "nginx"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apache 2.4.71 (Debian), captured on this project's build VM: a
    /// request for `/aliases/index.html` after `chown root:root; chmod 0700`
    /// of the directory, with `AllowOverride` left at its default.
    const AH00529: &str = "[Sat Nov 21 10:47:52.239530 2026] [core:crit] [pid 15264:tid 15299] (13)Permission denied: [client 127.0.0.1:33482] AH00529: /var/www/html/aliases/.htaccess pcfg_openfile: unable to check htaccess file, ensure it is readable and that '/var/www/html/aliases/' is executable";
    /// Same, with `AllowOverride None`.
    const AH00035: &str = "[Sat Nov 21 10:49:10.101010 2026] [core:error] [pid 16001:tid 16010] (13)Permission denied: [client 127.0.0.1:40522] AH00035: access to /aliases/index.html denied (filesystem path '/var/www/html/aliases/index.html') because search permissions are missing on a component of the path";
    /// Apache 2.4.71 start-up with `Listen 192.0.2.77:18082` (not bound).
    const AH00072: &str =
        "(99)Cannot assign requested address: AH00072: make_sock: could not bind to address 192.0.2.77:18082";

    #[test]
    fn apache_permission_denials_name_the_path() {
        let e = parse_line("apache2", "var/log/apache2/error.log", 3, AH00529).expect("event");
        assert_eq!(e.kind, "permission-denied");
        assert_eq!(e.path, "/var/www/html/aliases/.htaccess");
        assert_eq!(e.code, "AH00529");
        assert!(e.client);
        assert_eq!(e.time, "Sat Nov 21 10:47:52.239530 2026");
        let e = parse_line("apache2", "x", 1, AH00035).expect("event");
        assert_eq!(
            (e.kind.as_str(), e.path.as_str(), e.code.as_str()),
            (
                "permission-denied",
                "/var/www/html/aliases/index.html",
                "AH00035"
            )
        );
        let e = parse_line(
            "httpd",
            "x",
            1,
            "[Mon Apr 18 04:00:02 2011] [error] [client 10.0.0.5] (13)Permission denied: file permissions deny server access: /var/www/aliases/index.html",
        )
        .expect("event");
        assert_eq!(e.path, "/var/www/aliases/index.html");
        let e = parse_line(
            "apache2",
            "x",
            1,
            "apache2: Syntax error on line 225 of /etc/apache2/apache2.conf: Could not open configuration file /var/www/aliases/aliases.conf: Permission denied",
        )
        .expect("event");
        assert_eq!(
            (e.kind.as_str(), e.path.as_str()),
            ("permission-denied", "/var/www/aliases/aliases.conf")
        );
        assert!(!e.client);
    }

    #[test]
    fn bind_failures_name_the_address() {
        let e = parse_line("apache2", "x", 1, AH00072).expect("event");
        assert_eq!(e.kind, "bind-failed");
        assert_eq!((e.address.as_str(), e.port), ("192.0.2.77", 18082));
        assert_eq!(e.reason, "Cannot assign requested address");
        let e = parse_line(
            "apache2",
            "x",
            1,
            "[Mon Jan 06 04:00:01.123456 2025] [core:error] [pid 812] (98)Address already in use: AH00072: make_sock: could not bind to address [::]:80",
        )
        .expect("event");
        assert_eq!((e.address.as_str(), e.port), ("::", 80));
        assert_eq!(e.reason, "Address already in use");
        let e = parse_line(
            "nginx",
            "x",
            1,
            "2024/03/02 04:00:01 [emerg] 1234#1234: bind() to 192.0.2.10:443 failed (99: Cannot assign requested address)",
        )
        .expect("event");
        assert_eq!(
            (e.kind.as_str(), e.address.as_str(), e.port, e.time.as_str()),
            ("bind-failed", "192.0.2.10", 443, "2024/03/02 04:00:01")
        );
    }

    #[test]
    fn nginx_lines() {
        let e = parse_line(
            "nginx",
            "x",
            1,
            r#"2024/03/02 10:00:01 [error] 99#99: *1 open() "/var/www/html/aliases/index.html" failed (13: Permission denied), client: 127.0.0.1, server: _, request: "GET /aliases/index.html HTTP/1.1", host: "localhost""#,
        )
        .expect("event");
        assert_eq!(
            (e.kind.as_str(), e.path.as_str(), e.client),
            (
                "permission-denied",
                "/var/www/html/aliases/index.html",
                true
            )
        );
        let e = parse_line(
            "nginx",
            "x",
            1,
            r#"2024/03/02 10:00:01 [error] 99#99: *2 "/var/www/html/aliases/index.html" is forbidden (13: Permission denied), client: 127.0.0.1"#,
        )
        .expect("event");
        assert_eq!(e.kind, "permission-denied");
        let e = parse_line(
            "nginx",
            "x",
            1,
            r#"2024/03/02 10:00:01 [emerg] 99#99: cannot load certificate "/etc/ssl/x.pem": BIO_new_file() failed in /etc/nginx/sites-enabled/default:12"#,
        )
        .expect("event");
        assert_eq!(
            (e.kind.as_str(), e.path.as_str()),
            ("config-error", "/etc/nginx/sites-enabled/default")
        );
        let e = parse_line(
            "nginx",
            "x",
            1,
            r#"2024/03/02 10:00:01 [error] 99#99: *3 open() "/var/www/html/favicon.ico" failed (2: No such file or directory), client: 127.0.0.1"#,
        )
        .expect("event");
        assert_eq!((e.kind.as_str(), e.client), ("missing-file", true));
    }

    #[test]
    fn noise_empty_truncated_and_garbage_are_handled() {
        let (events, notes) = parse_error_log("apache2", "x", "");
        assert!(events.is_empty() && notes.is_empty());
        let noise = "[Sat Nov 21 10:47:50.236365 2026] [mpm_event:notice] [pid 15259:tid 15259] AH00489: Apache/2.4.71 (Debian) configured -- resuming normal operations\n";
        let (events, _) = parse_error_log("apache2", "x", noise);
        assert!(events.is_empty());
        // Cut in the middle of the path: still an event, with what is there.
        let cut = &AH00035[..AH00035.len() - 60];
        let (events, notes) = parse_error_log("apache2", "x", cut);
        assert!(notes.is_empty());
        assert_eq!(events[0].kind, "permission-denied");
        let garbage = format!("\u{FFFD}\u{FFFD}\0\0junk\n{AH00072}\n");
        let (events, notes) = parse_error_log("apache2", "x", &garbage);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].line, 2);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].line, Some(1));
    }
}
