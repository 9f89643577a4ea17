//! Live storage inputs made by system calls, or read only under a
//! condition:
//!
//! | input | what |
//! |---|---|
//! | `fs/statvfs.json` | `statvfs(2)` of every mount ([`generate_statvfs`]) |
//! | `proc/PID/cmdline` | read for quota tools only ([`cmdline_wanted`]) |
//!
//! `statvfs` on a mount whose server is gone (NFS `hard`, CIFS) blocks in
//! the kernel, uninterruptibly, for as long as the server stays away. Each
//! call therefore runs on its own thread with its own deadline (the same
//! idea as the bounded reads of every source, many at a time): a mount that
//! does not answer in time is recorded as `"timed_out": true` (a finding,
//! not a hang), its thread is abandoned, and the others go on. With `N`
//! hung mounts the whole run takes about `ceil(N / IN_FLIGHT)` timeouts.
//!
//! Command lines are collected for quota tools only: other processes'
//! command lines can hold secrets and have no place in a bundle.
//!
//! [`super::LiveHost`] calls these when it reads those names below `/`
//! (like the netlink tables); below any other root the names are plain
//! files.

use super::{bounded, read_capped, Keep, ReadError};
use crate::parse::fs::{
    parse_mounts, Mount, StatvfsRecord, IMAGE_FSTYPES, PSEUDO_FSTYPES, QUOTA_TOOLS,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// The inputs this module generates.
pub const INPUTS: &[&str] = &["fs/statvfs.json"];

/// statvfs calls running at once. A hung call holds its slot until its own
/// timeout; the others keep going.
pub const IN_FLIGHT: usize = 32;

/// What a statvfs call returns: the numeric fields of a record, or the
/// error in the system's words.
pub type StatvfsResult = Result<StatvfsRecord, String>;

/// The real `statvfs(2)`.
#[allow(clippy::useless_conversion)] // the libc types are u32 on some targets
pub fn statvfs(path: &Path) -> StatvfsResult {
    let s = nix::sys::statvfs::statvfs(path).map_err(|e| e.desc().to_string())?;
    Ok(StatvfsRecord {
        blocks: u64::from(s.blocks()),
        bfree: u64::from(s.blocks_free()),
        bavail: u64::from(s.blocks_available()),
        files: u64::from(s.files()),
        ffree: u64::from(s.files_free()),
        bsize: u64::from(s.block_size()),
        frsize: u64::from(s.fragment_size()),
        ..StatvfsRecord::default()
    })
}

/// The mounts worth a statvfs: no pseudo filesystems (autofs included: a
/// statvfs there would trigger the automounter), no read-only images, and
/// each mount point once (the last mount on it is the visible one).
pub fn mounts_to_check(mounts: &[Mount]) -> Vec<Mount> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut kept: Vec<Mount> = Vec::new();
    for mount in mounts {
        let base = mount.fstype.split('.').next().unwrap_or("");
        if mount.pseudo
            || PSEUDO_FSTYPES.contains(&base)
            || IMAGE_FSTYPES.contains(&mount.fstype.as_str())
        {
            continue;
        }
        match seen.get(mount.mountpoint.as_str()) {
            Some(&i) => kept[i] = mount.clone(),
            None => {
                seen.insert(&mount.mountpoint, kept.len());
                kept.push(mount.clone());
            }
        }
    }
    kept
}

/// Mount points whose statvfs is blocked in the kernel, with when it
/// started; forgotten when that call returns. A live TUI refreshing every
/// two seconds stats each mount again: without this, every refresh left
/// one more thread blocked on a hung mount (~540 an hour).
static STUCK_MOUNTS: std::sync::Mutex<Vec<(PathBuf, Instant)>> = std::sync::Mutex::new(Vec::new());

/// For how long the statvfs of `path` from an earlier run has been
/// blocked, if it still is.
fn still_stuck(path: &Path) -> Option<Duration> {
    let stuck = STUCK_MOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    stuck
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, since)| since.elapsed())
}

/// statvfs of every mount in `mounts` (below `root`), each call on its own
/// thread with `timeout`, at most [`IN_FLIGHT`] at once. `stat` is the
/// call ([`statvfs`] on a live host; tests inject a hanging one). Returns
/// one record per mount, in order.
pub fn statvfs_all<F>(
    root: &Path,
    mounts: &[Mount],
    timeout: Duration,
    stat: F,
) -> Vec<StatvfsRecord>
where
    F: Fn(&Path) -> StatvfsResult + Send + Sync + 'static,
{
    let stat = Arc::new(stat);
    let mut records: Vec<StatvfsRecord> = mounts
        .iter()
        .map(|m| StatvfsRecord {
            mount: m.mountpoint.clone(),
            fstype: m.fstype.clone(),
            device: m.device.clone(),
            ..StatvfsRecord::default()
        })
        .collect();
    let (tx, rx) = mpsc::channel::<(usize, StatvfsResult, Duration)>();
    let mut in_flight: HashMap<usize, (Instant, Arc<AtomicBool>)> = HashMap::new();
    let mut next = 0;
    let mut done = 0;
    while done < records.len() {
        while in_flight.len() < IN_FLIGHT && next < records.len() {
            let index = next;
            next += 1;
            let path: PathBuf = root.join(records[index].mount.trim_start_matches('/'));
            if let Some(since) = still_stuck(&path) {
                // Its call from an earlier run is still blocked: another
                // would only block one more thread.
                records[index].timed_out = true;
                records[index].error = format!(
                    "still not answering: an earlier statvfs has been blocked for {}",
                    humantime::format_duration(Duration::from_secs(since.as_secs()))
                );
                done += 1;
                continue;
            }
            let stat = Arc::clone(&stat);
            let tx = tx.clone();
            let started = Instant::now();
            let finished = Arc::new(AtomicBool::new(false));
            let finished_here = Arc::clone(&finished);
            let spawned = thread::Builder::new()
                .name("diag-statvfs".into())
                .stack_size(64 << 10)
                .spawn(move || {
                    let result = stat(&path);
                    let mut stuck = STUCK_MOUNTS.lock().unwrap_or_else(|e| e.into_inner());
                    stuck.retain(|(p, _)| *p != path);
                    finished_here.store(true, Ordering::SeqCst);
                    drop(stuck);
                    // After a timeout nobody listens; nothing to do then.
                    let _ = tx.send((index, result, started.elapsed()));
                });
            match spawned {
                Ok(_) => {
                    in_flight.insert(index, (started, finished));
                }
                Err(err) => {
                    records[index].error = format!("cannot start a thread: {err}");
                    done += 1;
                }
            }
        }
        let Some(oldest) = in_flight.values().map(|(started, _)| *started).min() else {
            continue;
        };
        let wait = (oldest + timeout).saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok((index, result, elapsed)) => {
                // An abandoned call that answers late is ignored.
                if in_flight.remove(&index).is_some() {
                    let record = &mut records[index];
                    record.elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
                    match result {
                        Ok(values) => {
                            let (mount, fstype, device) = (
                                std::mem::take(&mut record.mount),
                                std::mem::take(&mut record.fstype),
                                std::mem::take(&mut record.device),
                            );
                            *record = StatvfsRecord {
                                mount,
                                fstype,
                                device,
                                elapsed_ms: record.elapsed_ms,
                                timed_out: false,
                                error: String::new(),
                                ..values
                            };
                        }
                        Err(error) => record.error = error,
                    }
                    done += 1;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let expired: Vec<usize> = in_flight
                    .iter()
                    .filter(|(_, (started, _))| now.duration_since(*started) >= timeout)
                    .map(|(i, _)| *i)
                    .collect();
                for index in expired {
                    if let Some((started, finished)) = in_flight.remove(&index) {
                        // Remembered as stuck unless it finished meanwhile
                        // (decided under the lock its thread takes).
                        let mut stuck = STUCK_MOUNTS.lock().unwrap_or_else(|e| e.into_inner());
                        if !finished.load(Ordering::SeqCst) {
                            let path = root.join(records[index].mount.trim_start_matches('/'));
                            stuck.push((path, started));
                        }
                    }
                    records[index].timed_out = true;
                    records[index].elapsed_ms =
                        u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
                    done += 1;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    records
}

/// Records as a JSON array, one record per line (so evidence can name the
/// line of a mount, or of a path in `services/paths.json`).
pub fn records_json<T: serde::Serialize>(records: &[T]) -> Vec<u8> {
    let mut out = b"[\n".to_vec();
    for (i, record) in records.iter().enumerate() {
        if let Ok(line) = serde_json::to_vec(record) {
            out.extend_from_slice(&line);
            if i + 1 < records.len() {
                out.push(b',');
            }
            out.push(b'\n');
        }
    }
    out.extend_from_slice(b"]\n");
    out
}

/// `fs/statvfs.json` for the host below `root`: reads `proc/mounts` and
/// statvfs'es every mount worth it, `timeout` per mount.
pub fn generate_statvfs(root: &Path, timeout: Duration) -> Result<Vec<u8>, ReadError> {
    let path = root.join("proc/mounts");
    let raw = bounded(timeout, move || read_capped(&path, 16 << 20, Keep::Head))?;
    let (mounts, _) = parse_mounts("proc/mounts", &String::from_utf8_lossy(&raw.bytes));
    let records = statvfs_all(root, &mounts_to_check(&mounts), timeout, statvfs);
    Ok(records_json(&records))
}

/// Whether `name` may be read: anything but a process's command line, and
/// the command line of a quota tool (`proc/PID/comm` below `root` names
/// one of [`QUOTA_TOOLS`]). The `comm` read is bounded: a process stuck in
/// the kernel can block readers of its files.
pub fn cmdline_wanted(root: &Path, name: &str, timeout: Duration) -> bool {
    let Some(pid) = name
        .strip_prefix("proc/")
        .and_then(|rest| rest.strip_suffix("/cmdline"))
    else {
        return true;
    };
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let comm = format!("proc/{pid}/comm");
    let limits = super::Limits {
        timeout,
        max_bytes: 64,
        keep: Keep::Head,
    };
    match super::read_in(root, &comm, super::Confine::InRoot, &limits) {
        Ok(comm) => QUOTA_TOOLS.contains(&String::from_utf8_lossy(&comm.bytes).trim()),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::fs::parse_statvfs_json;

    fn mounts(n: usize) -> Vec<Mount> {
        let text: String = (0..n)
            .map(|i| format!("/dev/vd{i} /mnt/m{i} ext4 rw,relatime 0 0\n"))
            .collect();
        parse_mounts("proc/mounts", &text).0
    }

    /// 1,000 mounts, one of which never answers (a closure-injected
    /// statvfs that sleeps a minute on that path, standing in for a hung
    /// NFS mount): the run ends within the timeout plus a second, the hung
    /// mount is marked timed out, every other mount has its figures.
    #[test]
    fn a_thousand_mounts_with_one_hanging_finish_in_time() {
        let list = mounts(1000);
        let timeout = Duration::from_millis(1500);
        let started = Instant::now();
        let records = statvfs_all(Path::new("/"), &list, timeout, |path| {
            if path == Path::new("/mnt/m500") {
                thread::sleep(Duration::from_secs(60));
            }
            Ok(StatvfsRecord {
                blocks: 100,
                bfree: 50,
                bavail: 40,
                files: 10,
                ffree: 5,
                bsize: 4096,
                ..StatvfsRecord::default()
            })
        });
        let elapsed = started.elapsed();
        eprintln!("1000 mounts, one hung, timeout {timeout:?}: {elapsed:?}");
        assert!(
            elapsed < timeout + Duration::from_secs(1),
            "took {elapsed:?}"
        );
        assert_eq!(records.len(), 1000);
        let hung: Vec<&str> = records
            .iter()
            .filter(|r| r.timed_out)
            .map(|r| r.mount.as_str())
            .collect();
        assert_eq!(hung, vec!["/mnt/m500"]);
        assert!(records
            .iter()
            .filter(|r| !r.timed_out)
            .all(|r| r.blocks == 100 && r.error.is_empty()));
        let json = records_json(&records);
        let (usage, notes) = parse_statvfs_json("fs/statvfs.json", &String::from_utf8_lossy(&json));
        assert!(notes.is_empty());
        assert_eq!(usage.len(), 1000);
        assert_eq!(usage[500].line, 502);
        assert!(usage[500].timed_out);
    }

    /// Issue 19, defect 4: the live TUI statted a known-hung mount again on
    /// every refresh, leaving one more thread blocked each time. While its
    /// first call is stuck, the mount is reported hung without a new call.
    #[test]
    fn a_hung_mount_is_not_statted_again_while_its_call_is_stuck() {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Mutex;
        let calls = Arc::new(AtomicUsize::new(0));
        let (release, released) = mpsc::channel::<()>();
        let released = Arc::new(Mutex::new(released));
        let stat = {
            let calls = Arc::clone(&calls);
            move |_: &Path| -> StatvfsResult {
                calls.fetch_add(1, Ordering::SeqCst);
                let _ = released.lock().map(|rx| rx.recv());
                Ok(StatvfsRecord::default())
            }
        };
        let stat = Arc::new(stat);
        let root = Path::new("/test-stuck-root");
        let list = mounts(1);
        let run = |stat: Arc<dyn Fn(&Path) -> StatvfsResult + Send + Sync>| {
            statvfs_all(root, &list, Duration::from_millis(100), move |p| stat(p))
        };
        let first = run(stat.clone());
        assert!(first[0].timed_out);
        let second = run(stat.clone());
        assert!(second[0].timed_out);
        assert!(
            second[0].error.contains("still not answering"),
            "{:?}",
            second[0]
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1, "statted again while stuck");
        release.send(()).expect("release");
        let until = Instant::now() + Duration::from_secs(5);
        while still_stuck(&root.join(list[0].mountpoint.trim_start_matches('/'))).is_some() {
            assert!(Instant::now() < until, "never forgotten");
            thread::sleep(Duration::from_millis(10));
        }
        let _ = release.send(());
        let third = run(stat);
        assert!(!third[0].timed_out, "{:?}", third[0]);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn several_hung_mounts_wait_in_parallel() {
        let list = mounts(100);
        let timeout = Duration::from_millis(300);
        let started = Instant::now();
        let records = statvfs_all(Path::new("/"), &list, timeout, |path| {
            if path.to_string_lossy().ends_with('7') {
                thread::sleep(Duration::from_secs(30));
            }
            Err("Permission denied".into())
        });
        // Ten hung mounts, fewer than IN_FLIGHT: one timeout, not ten.
        assert!(started.elapsed() < timeout * 3, "{:?}", started.elapsed());
        assert_eq!(records.iter().filter(|r| r.timed_out).count(), 10);
        assert_eq!(
            records
                .iter()
                .filter(|r| r.error == "Permission denied")
                .count(),
            90
        );
    }

    #[test]
    fn real_statvfs_of_this_host_and_a_missing_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let records = statvfs_all(
            dir.path(),
            &parse_mounts(
                "proc/mounts",
                "/dev/root / ext4 rw 0 0\n/dev/x /does/not/exist ext4 rw 0 0\n",
            )
            .0,
            Duration::from_secs(5),
            statvfs,
        );
        assert!(records[0].blocks > 0 && records[0].error.is_empty());
        assert!(!records[1].error.is_empty());
    }

    #[test]
    fn pseudo_images_and_stacked_mounts_are_not_checked() {
        let (list, _) = parse_mounts(
            "proc/mounts",
            "proc /proc proc rw 0 0
systemd-1 /home autofs rw 0 0
/dev/loop0 /snap/x/1 squashfs ro 0 0
/dev/sda1 /home ext4 rw 0 0
tmpfs /run tmpfs rw 0 0
server:/e /home nfs4 rw 0 0
",
        );
        let kept = mounts_to_check(&list);
        let shown: Vec<(&str, &str)> = kept
            .iter()
            .map(|m| (m.mountpoint.as_str(), m.fstype.as_str()))
            .collect();
        assert_eq!(shown, vec![("/home", "nfs4"), ("/run", "tmpfs")]);
    }

    #[test]
    fn quota_tool_command_lines_only() {
        let root = tempfile::tempdir().expect("tempdir");
        for (pid, comm, cmdline) in [
            ("100", "quotacheck\n", "quotacheck\0-avug\0"),
            ("200", "mysqld\n", "mysqld\0--password=secret\0"),
        ] {
            let dir = root.path().join("proc").join(pid);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join("comm"), comm).expect("write");
            std::fs::write(dir.join("cmdline"), cmdline).expect("write");
        }
        let t = Duration::from_secs(5);
        assert!(cmdline_wanted(root.path(), "proc/100/cmdline", t));
        assert!(!cmdline_wanted(root.path(), "proc/200/cmdline", t));
        assert!(!cmdline_wanted(root.path(), "proc/self/cmdline", t));
        assert!(!cmdline_wanted(root.path(), "proc/300/cmdline", t));
        assert!(cmdline_wanted(root.path(), "proc/100/comm", t));
        assert!(cmdline_wanted(root.path(), "proc/mdstat", t));
    }
}
