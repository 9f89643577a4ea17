#!/usr/bin/env bash
# The kernel-log watcher under an OOM flood (docs/kernel-log.md).
#
# Writes 4,500 OOM kills a minute to the real /dev/kmsg, each with the ~20
# lines a kernel prints for one (header, call trace, task dump, oom-kill:
# and "Out of memory: Killed process" lines): about 1,500 records a second,
# a known way to take a log monitor down. Meanwhile `diag watch` (release
# build) follows /dev/kmsg, and `dmesg --follow > /dev/null` reads the same
# records as the reference. Reports each one's CPU time as a share of one
# core, diag's peak memory and how many updates it printed.
# Target: diag watch under 5% of one core, memory bounded.
#
# Needs root. It fills the machine's kernel log with fake OOM kills for the
# duration: do not run it beside tests that read the kernel log.
# Usage: bash benches/kmsg_flood.sh [SECONDS] [KILLS_PER_MINUTE]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-60}
RATE=${2:-4500}

cargo build --release -q -p diag --bin diag
DIAG=target/release/diag
out=$(mktemp)
"$DIAG" watch --json >"$out" 2>/dev/null &
W=$!
dmesg --follow >/dev/null &
D=$!
cleanup() {
    kill "$W" "$D" 2>/dev/null || true
    rm -f "$out"
}
trap cleanup EXIT
sleep 1

# utime + stime in clock ticks (fields 14 and 15; the command names here
# have no spaces).
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
w0=$(ticks "$W")
d0=$(ticks "$D")
t0=$(date +%s.%N)

python3 - "$DURATION" "$RATE" <<'PY'
import sys, time
duration, rate = float(sys.argv[1]), float(sys.argv[2])
def block(pid):
    n = "stress-ng"
    return [
        f"<4>{n} invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=1000",
        f"<4>CPU: 1 PID: {pid} Comm: {n} Not tainted 6.1.0-26-amd64 #1  Debian 6.1.112-1",
        "<4>Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
        "<4>Call Trace:", "<4> <TASK>", "<4> dump_stack_lvl+0x44/0x5c", "<4> dump_header+0x4a/0x211",
        "<4> oom_kill_process.cold+0xb/0x10", "<4> out_of_memory+0x1fd/0x4c0",
        "<4> __alloc_pages_slowpath.constprop.0+0xcc6/0xe10", "<4> __alloc_pages+0x305/0x330", "<4> </TASK>",
        "<6>Mem-Info:", "<6>active_anon:1018 inactive_anon:236521 isolated_anon:0",
        "<6>Tasks state (memory values in pages):",
        "<6>[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
        f"<6>[{pid:>7}]     0 {pid:>5}   262294   259522  2142208        0          1000 {n}",
        f"<6>oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice,task={n},pid={pid},uid=0",
        f"<3>Out of memory: Killed process {pid} ({n}) total-vm:1049176kB, anon-rss:1038088kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:2092kB oom_score_adj:1000",
        f"<6>oom_reaper: reaped process {pid} ({n}), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
    ]
# /dev/kmsg rate-limits user writes per open file (10 per 5 s unless
# kernel.printk_devkmsg=on): one open per record leaves the setting alone.
start = time.monotonic(); kills = records = 0
while time.monotonic() - start < duration:
    for line in block(10000 + kills % 50000):
        with open("/dev/kmsg", "w") as k:
            k.write(line + "\n")
        records += 1
    kills += 1
    delay = start + kills * 60.0 / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
took = time.monotonic() - start
print(f"flood: {kills} OOM kills in {took:.1f} s ({kills * 60 / took:.0f}/min), {records} records ({records / took:.0f}/s)")
PY
sleep 2
t1=$(date +%s.%N)
w1=$(ticks "$W")
d1=$(ticks "$D")
hz=$(getconf CLK_TCK)
peak=$(awk '/^VmHWM/ { print $2 }' "/proc/$W/status")
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$W/status")
updates=$(wc -l <"$out")
awk -v w="$((w1 - w0))" -v d="$((d1 - d0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
    -v peak="$peak" -v rss="$rss" -v updates="$updates" 'BEGIN {
    wall = t1 - t0
    printf "diag watch: %.2f s CPU over %.1f s = %.2f%% of one core; peak RSS %d KiB, RSS now %d KiB; %d updates printed\n", w / hz, wall, 100 * w / hz / wall, peak, rss, updates
    printf "reference dmesg --follow > /dev/null: %.2f s CPU = %.2f%% of one core\n", d / hz, 100 * d / hz / wall
}'
