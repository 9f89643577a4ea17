//! The kernel-log watcher (`diag watch`, `diag_core::watch`) under an OOM
//! flood: 4,500 OOM kills a minute written to the real `/dev/kmsg`, each
//! with the ~20 lines a kernel prints for one (header, call trace, task
//! dump, `oom-kill:` and `Out of memory: Killed process` lines): about
//! 1,500 records a second, a known way to take a log monitor down.
//!
//! Reports the watcher thread's CPU time as a share of one core, the
//! process's memory, and, as the reference run at the same time on the
//! same records, `dmesg --follow > /dev/null` (which only reads and prints).
//! Target: under 5% of one core, memory bounded by the window.
//!
//! Needs root (it writes to /dev/kmsg, and fills the machine's kernel log
//! with fake OOM kills for the duration: do not run it beside tests that
//! read the kernel log). `DIAG_FLOOD_SECONDS` (default 60) sets the length.
//! Run: `cargo bench -p diag-core --bench kmsg_flood`.

use diag_core::rules::RuleSet;
use diag_core::watch::{Follower, Start, Watcher, DEFAULT_WINDOW_BYTES};
use nix::time::{clock_gettime, ClockId};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

const KILLS_PER_MINUTE: u64 = 4_500;

fn oom_block(pid: u64) -> Vec<String> {
    let name = "stress-ng";
    vec![
        format!("<4>{name} invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=1000"),
        format!("<4>CPU: 1 PID: {pid} Comm: {name} Not tainted 6.1.0-26-amd64 #1  Debian 6.1.112-1"),
        "<4>Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014".into(),
        "<4>Call Trace:".into(),
        "<4> <TASK>".into(),
        "<4> dump_stack_lvl+0x44/0x5c".into(),
        "<4> dump_header+0x4a/0x211".into(),
        "<4> oom_kill_process.cold+0xb/0x10".into(),
        "<4> out_of_memory+0x1fd/0x4c0".into(),
        "<4> __alloc_pages_slowpath.constprop.0+0xcc6/0xe10".into(),
        "<4> __alloc_pages+0x305/0x330".into(),
        "<4> </TASK>".into(),
        "<6>Mem-Info:".into(),
        "<6>active_anon:1018 inactive_anon:236521 isolated_anon:0".into(),
        "<6>Tasks state (memory values in pages):".into(),
        "<6>[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name".into(),
        format!("<6>[{pid:>7}]     0 {pid:>5}   262294   259522  2142208        0          1000 {name}"),
        format!("<6>oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice,task={name},pid={pid},uid=0"),
        format!("<3>Out of memory: Killed process {pid} ({name}) total-vm:1049176kB, anon-rss:1038088kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:2092kB oom_score_adj:1000"),
        format!("<6>oom_reaper: reaped process {pid} ({name}), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"),
    ]
}

/// Writes one record. /dev/kmsg rate-limits user writes per open file
/// (10 per 5 s unless kernel.printk_devkmsg=on): a fresh open per record
/// keeps the machine's setting untouched.
fn write_record(line: &str) -> std::io::Result<()> {
    let mut kmsg = std::fs::OpenOptions::new().write(true).open("/dev/kmsg")?;
    kmsg.write_all(format!("{line}\n").as_bytes())
}

fn thread_cpu() -> Duration {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_or(Duration::ZERO, Duration::from)
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of a process, in seconds.
fn process_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    ticks / hz
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / test harness probes
    }
    if write_record("<6>diag kmsg_flood bench: starting").is_err() {
        println!("kmsg_flood: skipped: /dev/kmsg is not writable (run as root)");
        return;
    }
    let seconds: u64 = std::env::var("DIAG_FLOOD_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let rules = RuleSet::builtin().expect("built-in rules");
    let follower = Follower::open(Path::new("/dev/kmsg"), Start::End, DEFAULT_WINDOW_BYTES)
        .expect("open /dev/kmsg");
    let mut dmesg = std::process::Command::new("dmesg")
        .arg("--follow")
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok();
    let rss_start = status_kib("VmRSS:");
    let stop = Instant::now() + Duration::from_secs(seconds);

    let watcher = std::thread::spawn(move || {
        let mut watcher = Watcher::new(follower, &rules, Duration::from_secs(1));
        let cpu0 = thread_cpu();
        let start = Instant::now();
        let mut updates = 0u64;
        let mut max_held = 0usize;
        let mut rss_mid = 0;
        while Instant::now() < stop + Duration::from_secs(2) {
            updates += watcher
                .step(Duration::from_millis(500))
                .expect("step")
                .len() as u64;
            max_held = max_held.max(watcher.follower().held_bytes());
            if rss_mid == 0 && start.elapsed() > Duration::from_secs(seconds / 2) {
                rss_mid = status_kib("VmRSS:");
            }
        }
        let cpu = thread_cpu() - cpu0;
        let wall = start.elapsed();
        (
            cpu,
            wall,
            updates,
            watcher.evaluations(),
            watcher.follower().received(),
            watcher.follower().overwritten(),
            max_held,
            rss_mid,
        )
    });

    let interval = Duration::from_secs(60) / u32::try_from(KILLS_PER_MINUTE).unwrap_or(1);
    let mut next = Instant::now();
    let mut kills = 0u64;
    let mut records = 0u64;
    while Instant::now() < stop {
        for line in oom_block(10_000 + kills % 50_000) {
            write_record(&line).expect("write /dev/kmsg");
            records += 1;
        }
        kills += 1;
        next += interval;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let (cpu, wall, updates, evaluations, received, overwritten, max_held, rss_mid) =
        watcher.join().expect("watcher thread");
    let dmesg_cpu = dmesg.as_ref().map(|c| process_cpu(c.id()));
    if let Some(child) = dmesg.as_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let rss_end = status_kib("VmRSS:");
    let share = cpu.as_secs_f64() / wall.as_secs_f64() * 100.0;
    println!("kmsg_flood: {seconds} s, {kills} OOM kills written ({:.0}/min), {records} records ({:.0}/s)",
        kills as f64 * 60.0 / seconds as f64, records as f64 / seconds as f64);
    println!(
        "watcher: {:.3} s CPU over {:.1} s = {share:.2}% of one core; {received} records read, {overwritten} overwritten before read, {evaluations} evaluations, {updates} updates printed",
        cpu.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "memory: window at most {} KiB (bound {} KiB); RSS {rss_start} KiB at start, {rss_mid} KiB midway, {rss_end} KiB at end",
        max_held >> 10,
        DEFAULT_WINDOW_BYTES >> 10
    );
    match dmesg_cpu {
        Some(dcpu) => println!(
            "reference dmesg --follow > /dev/null: {dcpu:.2} s CPU = {:.2}% of one core; watcher/dmesg = {:.2}",
            dcpu / wall.as_secs_f64() * 100.0,
            cpu.as_secs_f64() / dcpu.max(0.001)
        ),
        None => println!("reference dmesg --follow not run"),
    }
}
