#!/usr/bin/env bash
# Capture benchmark (docs/capture.md): diag's offline analysis of a
# generated 1,000,000-packet mixed pcap against tcpdump on the same file,
# then live capture on a veth pair between two namespaces.
# Needs root (namespaces); installs tcpdump with apt when it is missing.
# Usage: bash benches/capture.sh [PACKETS] [LIVE_SECONDS] [SENDER_THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
PACKETS=${1:-1000000}
LIVE=${2:-3}
SENDERS=${3:-1}

command -v tcpdump >/dev/null || {
    apt-get update && apt-get install -y --no-install-recommends tcpdump
}
cargo build --release -q -p diag -p xtask --bin diag --bin xtask
DIAG=target/release/diag
work=$(mktemp -d)
cleanup() {
    [ -n "${A:-}" ] && ip netns del "$A" 2>/dev/null || true
    [ -n "${B:-}" ] && ip netns del "$B" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/bundle/capture"
FILE="$work/bundle/capture/mixed.pcap"
target/release/xtask gen-pcap "$FILE" "$PACKETS"
echo "file: $PACKETS packets, $(stat -c %s "$FILE") bytes"
cat "$FILE" > /dev/null # page cache

now() { date +%s.%N; }
# Seconds taken by a command, its output thrown away.
took() {
    local start end
    start=$(now)
    "$@" > /dev/null 2>&1 || true # diag exits non-zero when it finds something
    end=$(now)
    awk -v s="$start" -v e="$end" 'BEGIN { print e - s }'
}
# Best and median of a list of times.
best() { sort -g | head -1; }
median() { sort -g | awk '{ t[NR] = $1 } END { print (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }'; }

# diag and `tcpdump -w` alternate, RUNS times each, so a change in the
# machine's speed (it is shared) falls on both alike.
RUNS=${RUNS:-15}
: > "$work/t_diag"; : > "$work/t_copy"; : > "$work/t_base"
for _ in $(seq "$RUNS"); do
    took "$DIAG" analyze "$work/bundle" --format json >> "$work/t_diag"
    took tcpdump -r "$FILE" -w /dev/null >> "$work/t_copy"
    # DIAG_BASELINE=path/to/an/older/diag times it too, for before/after.
    if [ -n "${DIAG_BASELINE:-}" ]; then
        took "$DIAG_BASELINE" analyze "$work/bundle" --format json >> "$work/t_base"
    fi
done
t_text=$( (for _ in 1 2 3; do took tcpdump -nr "$FILE"; done) | best)
report() { # name, file of times
    awk -v n="$PACKETS" -v name="$1" -v b="$(best < "$2")" -v m="$(median < "$2")" \
        -v cb="$(best < "$work/t_copy")" -v cm="$(median < "$work/t_copy")" 'BEGIN {
        printf "%-31s best %6.3f s (%5.2f Mpkt/s), median %6.3f s; tcpdump -w / this: best %.2fx, median %.2fx\n", name, b, n / b / 1e6, m, cb / b, cm / m
    }'
}
if [ -n "${DIAG_BASELINE:-}" ]; then
    report "baseline diag (DIAG_BASELINE):" "$work/t_base"
fi
report "diag analyze (whole pipeline):" "$work/t_diag"
report "tcpdump -r FILE -w /dev/null:" "$work/t_copy"
awk -v n="$PACKETS" -v a="$t_text" -v d="$(best < "$work/t_diag")" 'BEGIN {
    printf "tcpdump -nr FILE > /dev/null:   best %6.3f s (%5.2f Mpkt/s); diag is %.1fx faster\n", a, n / a / 1e6, a / d
}'

# Live: blast UDP from one namespace, capture with diag in the other.
R=$$$RANDOM
A=dbcap$R; B=dbsnd$R
ip netns add "$A"; ip netns add "$B"
ip link add "bx$R" type veth peer name "by$R"
ip link set "bx$R" netns "$A"; ip link set "by$R" netns "$B"
ip -n "$A" link set "bx$R" name eth0; ip -n "$B" link set "by$R" name eth0
ip -n "$A" addr add 10.220.0.1/24 dev eth0; ip -n "$B" addr add 10.220.0.9/24 dev eth0
ip -n "$A" link set eth0 up; ip -n "$B" link set eth0 up
# One blast process, SENDERS threads (each its own socket, sendmmsg).
ip netns exec "$B" target/release/xtask blast eth0 "$((LIVE + 2))" 10.220.0.1 "$SENDERS" > "$work/sent1" &
sleep 1
ip netns exec "$A" "$DIAG" collect -o "$work/live" --capture-seconds "$LIVE" \
    --capture-packets 100000000 --capture-mb 4096 --snaplen 64 > /dev/null 2>&1
wait
python3 - "$work/live/capture/stats.json" "$LIVE" "$(cat "$work"/sent* | awk '{ n += $1 } END { print n }')" "$SENDERS" <<'PY'
import json, sys
stats = [s for s in json.load(open(sys.argv[1])) if s["interface"] == "eth0"][0]
secs, sent = float(sys.argv[2]), int(sys.argv[3])
pps = stats["packets"] / secs
delivered = stats["kernel_packets"] + stats["kernel_drops"]
print(f"live: {sys.argv[4]} sender thread(s): {sent} frames in {secs + 2:.0f} s; diag captured {stats['packets']} in {secs:.0f} s = {pps:,.0f} pkt/s; "
      f"kernel drops {stats['kernel_drops']} of {delivered} ({100.0 * stats['kernel_drops'] / max(delivered, 1):.2f}%)")
PY
