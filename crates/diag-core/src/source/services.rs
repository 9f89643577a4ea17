//! Live service inputs made by system calls or by systemd's own tools:
//!
//! | input | what | where |
//! |---|---|---|
//! | `services/paths.json` | stat of every watched path and every component of it ([`stat_records`]) | any root, unless the root holds that file (a copied bundle) |
//! | `systemd/list-units.json` | `systemctl list-units --all --output=json --state=failed,auto-restart` | root `/`, systemd running |
//! | `systemd/show/<unit>` | `systemctl show <unit>` of each listed unit | as above |
//! | `systemd/journal/<unit>.json` | `journalctl -u <unit> -o json -n 50 --no-pager` | as above |
//!
//! **Which paths.** [`DEFAULT_WATCH`] (a typical web host: server
//! configurations, web roots, network configuration, `/etc/ips`), the
//! lines of `etc/diag/watch` below the root (one absolute path a line, `#`
//! comments; a trailing `/*` adds the directory's first level), every
//! root the web servers' configurations name (DocumentRoot, Alias,
//! certificates, nginx `root`/`alias`, each with its first level), and
//! every path a permission denial in their error logs names. Each path is
//! recorded with all its components, since the one that stops a service
//! user is often a parent.
//!
//! **No systemd.** When `/run/systemd/system` does not exist (SysV,
//! OpenRC, a container whose PID 1 is something else), the unit list is
//! reported as skipped with that reason; services are then judged from
//! pid files and the process list (`parse::services`).
//!
//! Commands run with the read's timeout and are killed when it passes.

pub use super::storage::records_json;
use super::{bounded, Keep, Limits, RawInput, ReadError};
use crate::parse::services::perms::{components, PathRecord, PATHS_INPUT};
use crate::parse::services::{errorlog, webconf};
use crate::source::inputs::{ERROR_LOGS, SERVERS};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Paths watched on every host (a trailing `/*` adds the first level).
pub const DEFAULT_WATCH: &[&str] = &[
    "/etc/apache2/apache2.conf",
    "/etc/apache2/envvars",
    "/etc/apache2/ports.conf",
    "/etc/apache2/sites-enabled/*",
    "/etc/apache2/conf-enabled/*",
    "/etc/httpd/conf/httpd.conf",
    "/etc/httpd/conf.d/*",
    "/etc/nginx/nginx.conf",
    "/etc/nginx/sites-enabled/*",
    "/etc/nginx/conf.d/*",
    "/etc/ssl/certs",
    "/etc/ssl/private",
    "/var/www/*",
    "/var/www/html/*",
    "/srv/www/*",
    "/var/log/apache2",
    "/var/log/httpd",
    "/var/log/nginx",
    "/etc/ips",
    "/etc/ipaddrpool",
    "/etc/network/interfaces",
    "/etc/network/interfaces.d/*",
    "/etc/netplan/*",
    "/etc/sysconfig/network-scripts/*",
    "/etc/systemd/network/*",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/fstab",
    "/etc/passwd",
    "/etc/group",
];

/// The watch-list file below a root.
pub const WATCH_FILE: &str = "etc/diag/watch";

/// Files up to this size get a content hash.
pub const HASH_MAX: u64 = 64 << 10;

/// Records written at most.
pub const MAX_RECORDS: usize = 5000;

/// Entries of one directory's first level recorded at most.
pub const MAX_FIRST_LEVEL: usize = 200;

/// Journal lines collected per unit.
pub const JOURNAL_LINES: u32 = 50;

const LIST_UNITS: &str = "systemd/list-units.json";

/// Handles the reads this module generates; `None` for any other name.
pub fn read(root: &Path, name: &str, limits: &Limits) -> Option<Result<RawInput, ReadError>> {
    let live_root = root == Path::new("/");
    if name == PATHS_INPUT && (live_root || !root.join(name).is_file()) {
        let root = root.to_path_buf();
        return Some(bounded(limits.timeout, move || {
            let records = stat_records(&root, &watch_list(&root, &[]));
            Ok(RawInput {
                bytes: records_json(&records).into(),
                truncated: false,
            })
        }));
    }
    if !live_root || !name.starts_with("systemd/") {
        return None;
    }
    if let Err(why) = systemd_running(root) {
        return Some(Err(why));
    }
    let run = |args: &[&str]| run_command(args, limits.timeout, limits.max_bytes);
    Some(if name == LIST_UNITS {
        run(&[
            "systemctl",
            "list-units",
            "--all",
            "--output=json",
            "--state=failed,auto-restart",
            "--no-pager",
        ])
    } else if let Some(unit) = name.strip_prefix("systemd/show/") {
        valid_unit(unit).and_then(|()| run(&["systemctl", "show", unit, "--no-pager"]))
    } else if let Some(unit) = name
        .strip_prefix("systemd/journal/")
        .and_then(|u| u.strip_suffix(".json"))
    {
        let lines = JOURNAL_LINES.to_string();
        valid_unit(unit).and_then(|()| {
            run(&[
                "journalctl",
                "-u",
                unit,
                "-o",
                "json",
                "-n",
                &lines,
                "--no-pager",
            ])
        })
    } else {
        Err(ReadError::NotFound)
    })
}

/// Handles listings of `systemd/show` and `systemd/journal` on the live
/// root: the units `systemctl list-units` names.
pub fn list(root: &Path, dir: &str, limits: &Limits) -> Option<Result<Vec<String>, ReadError>> {
    if root != Path::new("/") || !(dir == "systemd/show" || dir == "systemd/journal") {
        return None;
    }
    let units = read(root, LIST_UNITS, limits)?.map(|raw| {
        let mut notes = Vec::new();
        crate::parse::services::systemd::parse_list_units(
            LIST_UNITS,
            &String::from_utf8_lossy(&raw.bytes),
            &mut notes,
        )
        .into_iter()
        .map(|(row, _)| {
            if dir == "systemd/journal" {
                format!("{}.json", row.unit)
            } else {
                row.unit
            }
        })
        .collect()
    });
    Some(units)
}

fn systemd_running(root: &Path) -> Result<(), ReadError> {
    if root.join("run/systemd/system").is_dir() {
        Ok(())
    } else {
        Err(ReadError::Failed(
            "systemd is not the service manager here (no /run/systemd/system); services are judged from pid files and the process list".into(),
        ))
    }
}

fn valid_unit(unit: &str) -> Result<(), ReadError> {
    let ok = !unit.is_empty()
        && !unit.starts_with('-')
        && unit
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._:-\\".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ReadError::Failed(format!("not a unit name: {unit:?}")))
    }
}

/// Runs a command, killing it after `timeout`; its stdout, capped.
fn run_command(args: &[&str], timeout: Duration, max_bytes: usize) -> Result<RawInput, ReadError> {
    let mut child = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("SYSTEMD_COLORS", "0")
        .spawn()
        .map_err(|e| ReadError::Failed(format!("cannot run {}: {e}", args[0])))?;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut out) = stdout {
            use std::io::Read;
            let _ = (&mut out)
                .take(max_bytes as u64 + 1)
                .read_to_end(&mut bytes);
        }
        bytes
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ReadError::TimedOut(timeout));
            }
            Err(e) => return Err(ReadError::Failed(e.to_string())),
        }
    };
    let mut bytes = reader.join().unwrap_or_default();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = (&mut e).take(4096).read_to_string(&mut err);
        }
        return Err(ReadError::Failed(format!(
            "{} exited with {status}: {}",
            args.join(" "),
            err.trim()
        )));
    }
    let truncated = bytes.len() > max_bytes;
    bytes.truncate(max_bytes);
    Ok(RawInput {
        bytes: bytes.into(),
        truncated,
    })
}

fn read_text(root: &Path, name: &str) -> Option<String> {
    let file = super::open_in(root, name.trim_start_matches('/'), super::Confine::InRoot).ok()?;
    super::read_file(file, 1 << 20, Keep::Tail, None)
        .ok()
        .map(|raw| String::from_utf8_lossy(&raw.bytes).into_owned())
}

fn first_level(root: &Path, dir: &str, out: &mut BTreeSet<String>) {
    let Ok(names) = list_below(root, dir) else {
        return;
    };
    let mut names: Vec<String> = names.into_iter().collect();
    crate::sort::sort(&mut names);
    for name in names.into_iter().take(MAX_FIRST_LEVEL) {
        out.insert(format!("{}/{name}", dir.trim_end_matches('/')));
    }
}

/// Every path to record below `root`: the default list, `etc/diag/watch`,
/// `extra` (a `--watch` file's lines), the web servers' configured roots
/// and the paths their error logs name.
pub fn watch_list(root: &Path, extra: &[String]) -> BTreeSet<String> {
    let mut wanted: Vec<String> = DEFAULT_WATCH.iter().map(|s| (*s).to_string()).collect();
    if let Some(text) = read_text(root, WATCH_FILE) {
        wanted.extend(parse_watch_file(&text));
    }
    wanted.extend(extra.iter().cloned());
    // Configured roots.
    for (service, patterns) in SERVERS {
        let mut server = webconf::WebServer::default();
        let mut env = HashMap::new();
        for pattern in *patterns {
            for name in expand_one(root, pattern) {
                let Some(text) = read_text(root, &name) else {
                    continue;
                };
                if name.ends_with("/envvars") {
                    env = webconf::parse_envvars(&text);
                } else if *service == "nginx" {
                    webconf::parse_nginx(&mut server, &name, &text);
                } else {
                    webconf::parse_apache(&mut server, &name, &text, &env);
                }
            }
        }
        for path in server.paths {
            wanted.push(format!("{}/*", path.path));
        }
    }
    // Paths the logs name.
    for pattern in ERROR_LOGS {
        for name in expand_one(root, pattern) {
            if name.ends_with(".gz") {
                continue;
            }
            let Some(text) = read_text(root, &name) else {
                continue;
            };
            let (events, _) =
                errorlog::parse_error_log(errorlog::service_of_log(&name), &name, &text);
            for event in events {
                if event.kind == "permission-denied" && event.path.starts_with('/') {
                    wanted.push(event.path);
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    for entry in wanted {
        match entry.strip_suffix("/*") {
            Some(dir) => {
                out.insert(dir.to_string());
                first_level(root, dir, &mut out);
            }
            None => {
                out.insert(entry);
            }
        }
    }
    out
}

/// The lines of a watch-list file: absolute paths, `#` comments ignored.
pub fn parse_watch_file(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| l.starts_with('/'))
        .map(str::to_string)
        .collect()
}

/// Names below `root` matching a pattern with at most one `*` in its last
/// segment.
fn expand_one(root: &Path, pattern: &str) -> Vec<String> {
    let Some((dir, file)) = pattern.rsplit_once('/') else {
        return vec![pattern.to_string()];
    };
    let Some((head, tail)) = file.split_once('*') else {
        return vec![pattern.to_string()];
    };
    let Ok(names) = list_below(root, dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|n| n.starts_with(head) && n.ends_with(tail))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    crate::sort::sort(&mut names);
    names
}

/// stat(2) of every path and every component of it, below `root`
/// (following symbolic links, as a service opening the path does).
pub fn stat_records(root: &Path, paths: &BTreeSet<String>) -> Vec<PathRecord> {
    let mut all = BTreeSet::new();
    for path in paths {
        all.extend(components(path));
    }
    all.into_iter()
        .take(MAX_RECORDS)
        .map(|path| stat_one(root, &path))
        .collect()
}

/// The names in directory `dir` (absolute, as in a watch list) below
/// `root`, never leaving it.
fn list_below(root: &Path, dir: &str) -> Result<Vec<String>, ReadError> {
    let dir = dir.trim_start_matches('/');
    if dir.is_empty() {
        return super::list_dir(File::open(root).map_err(|e| ReadError::from_io(&e))?);
    }
    super::list_dir(super::open_in(root, dir, super::Confine::InRoot)?)
}

/// `stat(2)` of `path` (absolute, as in a watch list) below `root`: on
/// the host itself as the kernel resolves it, below another root as under
/// `chroot(root)` (a link never leads out of it).
fn stat_below(root: &Path, path: &str) -> std::io::Result<std::fs::Metadata> {
    let rel = path.trim_start_matches('/');
    if root == Path::new("/") || rel.is_empty() {
        return std::fs::metadata(root.join(rel));
    }
    let fd = super::beneath::open_path(root, rel, super::Confine::InRoot).map_err(|e| match e {
        ReadError::NotFound => std::io::ErrorKind::NotFound.into(),
        ReadError::Denied(_) => std::io::ErrorKind::PermissionDenied.into(),
        other => std::io::Error::other(other.to_string()),
    })?;
    File::from(fd).metadata()
}

fn stat_one(root: &Path, path: &str) -> PathRecord {
    let mut record = PathRecord {
        path: path.to_string(),
        ..PathRecord::default()
    };
    match stat_below(root, path) {
        Ok(meta) => {
            let ft = meta.file_type();
            record.kind = if ft.is_dir() {
                "dir"
            } else if ft.is_file() {
                "file"
            } else {
                "other"
            }
            .into();
            record.uid = meta.uid();
            record.gid = meta.gid();
            record.mode = format!("{:04o}", meta.mode() & 0o7777);
            record.size = meta.len();
            if ft.is_file() && meta.len() <= HASH_MAX {
                let rel = path.trim_start_matches('/');
                let read = super::open_in(root, rel, super::Confine::InRoot)
                    .and_then(|file| super::read_file(file, HASH_MAX as usize, Keep::Head, None));
                if let Ok(RawInput { bytes, .. }) = read {
                    record.sha256 = format!("{:x}", Sha256::digest(&bytes));
                }
            }
        }
        Err(err) => {
            record.error = match err.kind() {
                std::io::ErrorKind::NotFound => "No such file or directory".into(),
                std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
                _ => err.to_string(),
            };
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_of_watched_and_logged_paths_are_stated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("var/www/html/aliases")).expect("mkdir");
        std::fs::create_dir_all(root.join("var/log/apache2")).expect("mkdir");
        std::fs::write(root.join("var/www/html/aliases/index.html"), "hi\n").expect("write");
        std::fs::write(
            root.join("var/log/apache2/error.log"),
            "[Sat Nov 21 10:49:10.101010 2026] [core:error] [pid 1:tid 2] (13)Permission denied: [client 127.0.0.1:40522] AH00035: access to /x denied (filesystem path '/srv/denied/file') because search permissions are missing on a component of the path\n",
        )
        .expect("write");
        std::fs::create_dir_all(root.join("etc/diag")).expect("mkdir");
        std::fs::write(root.join(WATCH_FILE), "# mine\n/opt/app/*\n").expect("write");
        let list = watch_list(root, &["/extra".into()]);
        assert!(list.contains("/var/www/html/aliases"), "{list:?}");
        assert!(list.contains("/srv/denied/file"));
        assert!(list.contains("/opt/app") && list.contains("/extra"));
        let records = stat_records(root, &list);
        let by_path: HashMap<_, _> = records.iter().map(|r| (r.path.as_str(), r)).collect();
        assert_eq!(by_path["/var/www/html/aliases"].kind, "dir");
        assert_eq!(by_path["/srv"].error, "No such file or directory");
        assert_eq!(by_path["/"].kind, "dir");
        let json = records_json(&records);
        let mut notes = Vec::new();
        let parsed = crate::parse::services::perms::parse_paths(
            PATHS_INPUT,
            &String::from_utf8_lossy(&json),
            &mut notes,
        );
        assert!(notes.is_empty());
        assert_eq!(parsed.len(), records.len());
    }

    #[test]
    fn systemd_absence_is_a_reason_not_a_failure() {
        let dir = tempfile::tempdir().expect("tempdir");
        match systemd_running(dir.path()) {
            Err(ReadError::Failed(why)) => assert!(why.contains("/run/systemd/system")),
            other => panic!("{other:?}"),
        }
        assert!(valid_unit("apache2.service").is_ok());
        assert!(valid_unit("--help").is_err());
        assert!(valid_unit("a b").is_err());
    }

    #[test]
    fn commands_are_bounded() {
        let got = run_command(&["sleep", "5"], Duration::from_millis(100), 100);
        assert_eq!(got, Err(ReadError::TimedOut(Duration::from_millis(100))));
        let got = run_command(&["printf", "abcdef"], Duration::from_secs(5), 3).expect("runs");
        assert_eq!((&got.bytes[..], got.truncated), (&b"abc"[..], true));
        assert!(run_command(&["false"], Duration::from_secs(5), 3).is_err());
    }
}
