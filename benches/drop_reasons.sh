#!/usr/bin/env bash
# Cost of recording the kernel's packet drops (docs/drop-reasons.md):
# `xtask blast` floods UDP to a closed port (9) from one namespace into
# another over a veth pair; `diag collect` runs in the receiving namespace
# with and without its drop recording (`--no-drop-reasons`), RUNS times
# each, alternating. Reports diag's CPU time and wall time, the machine's
# busy CPU during the window (/proc/stat), the datagrams the receiver's
# kernel took per second (Udp NoPorts growth), and, with the recording,
# the events read per second, the events lost (ring overruns) and how the
# NO_SOCKET count compares with the Udp NoPorts growth over the same
# window (the recorder's trace/snmp.start and .end).
# Needs root. Usage: bash benches/drop_reasons.sh [WINDOW_SECONDS] [SENDER_THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
WINDOW=${1:-2}
SENDERS=${2:-1}
RUNS=${RUNS:-3}

cargo build --release -q -p diag -p xtask --bin diag --bin xtask
DIAG=$PWD/target/release/diag
work=$(mktemp -d)
cleanup() {
    [ -n "${A:-}" ] && ip netns del "$A" 2>/dev/null || true
    [ -n "${B:-}" ] && ip netns del "$B" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

R=$$$RANDOM
A=dbdrp$R; B=dbsnd$R
ip netns add "$A"; ip netns add "$B"
ip link add "bx$R" type veth peer name "by$R"
ip link set "bx$R" netns "$A"; ip link set "by$R" netns "$B"
ip -n "$A" link set "bx$R" name eth0; ip -n "$B" link set "by$R" name eth0
ip -n "$A" addr add 10.220.0.1/24 dev eth0; ip -n "$B" addr add 10.220.0.9/24 dev eth0
ip -n "$A" link set lo up; ip -n "$A" link set eth0 up; ip -n "$B" link set eth0 up

busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }

# One run: blast for WINDOW + 2 s, collect in the middle. $1: label,
# $2...: extra diag flags.
run() {
    local label=$1; shift
    local out="$work/$label.$RANDOM"
    ip netns exec "$B" target/release/xtask blast eth0 "$((WINDOW + 2))" 10.220.0.1 "$SENDERS" > "$out.sent" &
    sleep 1
    local before after
    before=$(busy)
    /usr/bin/time -f "%e %U %S" -o "$out.time" ip netns exec "$A" "$DIAG" collect -o "$out" \
        --capture-seconds "$WINDOW" --capture-interface lo "$@" > /dev/null 2>&1 || true
    after=$(busy)
    wait
    echo "$before $after" > "$out.busy"
    python3 - "$out" "$label" "$WINDOW" <<'PY'
import os, sys
out, label, window = sys.argv[1], sys.argv[2], float(sys.argv[3])
wall, user, sys_ = map(float, open(out + ".time").read().split()[-3:])
b0, i0, b1, i1 = map(float, open(out + ".busy").read().split())
busy = 100.0 * (b1 - b0) / max((b1 - b0) + (i1 - i0), 1)
def noports(name):
    text = open(os.path.join(out, name)).read().splitlines()
    udp = [l.split() for l in text if l.startswith("Udp:")]
    return int(udp[1][udp[0].index("NoPorts")])
grown = noports("proc/net/snmp.end") - noports("proc/net/snmp")
line = f"{label:>14}: diag wall {wall:5.2f} s, cpu user {user:5.2f} s + sys {sys_:5.2f} s; machine busy {busy:5.1f}%; Udp NoPorts +{grown:,} ({grown / wall:,.0f}/s)"
counts = os.path.join(out, "trace/kfree_skb.counts")
if os.path.exists(counts):
    # Every event, counted while the window ran; the same window's Udp
    # NoPorts growth (trace/snmp.start and .end, read by the recorder as
    # it enabled and disabled the event). One NO_SOCKET drop at
    # __udp4_lib_rcv per NoPorts increment.
    events = sum(int(f[3]) for f in (l.rstrip("\n").split("\t") for l in open(counts))
                 if len(f) == 4 and f[0] == "NO_SOCKET" and f[1] == "2048" and f[2].startswith("__udp4_lib_rcv+"))
    stats = open(os.path.join(out, "trace/kfree_skb.stats")).read().splitlines()
    win = float(stats[0].split()[1])
    lost = sum(int(l.split(":")[1]) for l in stats if l.split(":")[0] in ("overrun", "commit overrun", "dropped events"))
    same = noports("trace/snmp.end") - noports("trace/snmp.start")
    line += (f"\n{'':>14}  events NO_SOCKET {events:,} in {win:.2f} s ({events / win:,.0f}/s read), "
             f"{lost:,} lost (overrun); events + lost = {events + lost:,} vs NoPorts +{same:,} over the same window "
             f"({100.0 * (events + lost) / max(same, 1):.2f}%)")
print(line)
PY
}

echo "window ${WINDOW} s, ${SENDERS} sender thread(s), ${RUNS} runs each, $(nproc) CPUs, $(uname -r)"
for _ in $(seq "$RUNS"); do
    run "without" --no-drop-reasons
    run "with"
done
