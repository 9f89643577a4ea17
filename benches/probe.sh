#!/usr/bin/env bash
# Probe benchmark (docs/probes.md): `diag probe` against 10,000
# address:port targets at concurrency 512, between two namespaces this
# script creates (and deletes): a server namespace that owns 10.210.0.0/16
# (`ip route add local ... dev lo`) with a listener on port 80, and a
# client across a veth. Of the targets, 8,000 are open (10.210.x.y:80),
# 1,000 refused (10.210.x.y:81) and 1,000 time out (10.211.x.y:80, which
# the server namespace blackholes). Reports wall time against the time
# bound, peak memory (/usr/bin/time -v), the outcome counts, and the time
# `diag analyze` takes to diagnose the 10,000 results.
# Needs root (namespaces) and python3. Traffic stays between the two
# namespaces.
# Usage: bash benches/probe.sh [TARGETS] [CONCURRENCY] [TIMEOUT_S]
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=${1:-10000}
CONCURRENCY=${2:-512}
TIMEOUT=${3:-1}
RETRIES=1
RATE=10000

cargo build --release -q -p diag --bin diag
DIAG=$PWD/target/release/diag
work=$(mktemp -d)
S=dpbs$$ C=dpbc$$
cleanup() {
    [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
    ip netns del "$S" 2>/dev/null || true
    ip netns del "$C" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$S"
ip netns add "$C"
x=dpx$RANDOM$$ y=dpy$RANDOM$$
ip link add "$x" type veth peer name "$y"
ip link set "$x" netns "$S"
ip link set "$y" netns "$C"
ip -n "$S" link set "$x" name eth0
ip -n "$C" link set "$y" name eth0
for ns in "$S" "$C"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
done
ip -n "$S" addr add 10.209.0.1/24 dev eth0
ip -n "$C" addr add 10.209.0.2/24 dev eth0
ip -n "$S" route add local 10.210.0.0/16 dev lo
# Forwarding on, so the blackhole drops silently (with forwarding off the
# kernel answers "host unreachable", rate-limited).
ip netns exec "$S" sysctl -q -w net.ipv4.ip_forward=1
ip -n "$S" route add blackhole 10.211.0.0/16
ip netns exec "$S" sysctl -q -w net.core.somaxconn=4096
ip -n "$C" route add 10.210.0.0/15 via 10.209.0.1

ip netns exec "$S" python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80))
s.listen(4096)
while True:
    c, _ = s.accept()
    c.close()
' &
SERVER_PID=$!
for _ in $(seq 50); do
    ip netns exec "$C" python3 -c 'import socket; socket.create_connection(("10.210.0.1", 80), 0.2).close()' 2>/dev/null && break
    sleep 0.1
done

python3 - "$TARGETS" > "$work/targets.txt" <<'EOF'
import sys
n = int(sys.argv[1])
opened, refused = n * 8 // 10, n // 10
for i in range(n):
    host = f"{(i // 250) % 256}.{i % 250 + 1}"
    if i < opened:
        print(f"10.210.{host}:80")
    elif i < opened + refused:
        print(f"10.210.{host}:81")
    else:
        print(f"10.211.{host}:80")
EOF

set +e
ip netns exec "$C" /usr/bin/time -v -o "$work/time.txt" "$DIAG" probe \
    --targets-file "$work/targets.txt" --no-dns --no-path \
    --concurrency "$CONCURRENCY" --rate "$RATE" --timeout "$TIMEOUT" \
    --retries "$RETRIES" --max-targets "$TARGETS" \
    -o "$work/results" > "$work/probe.txt"
code=$?
set -e
head -1 "$work/probe.txt" | cut -c1-200
echo "exit code: $code (2 expected: 1,000 targets time out)"
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt")
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$work/time.txt")
for outcome in open refused timeout unreachable error; do
    printf "%-12s %6d\n" "$outcome" "$(grep -c "\"result\":\"$outcome\"" "$work/results/probe/tcp.json" || true)"
done
# The TCP part of ProbeOptions::time_bound (docs/probes.md).
bound=$(awk -v n="$TARGETS" -v r="$RETRIES" -v c="$CONCURRENCY" -v t="$TIMEOUT" -v rate="$RATE" 'BEGIN {
    a = n * (r + 1); w = int((a + c - 1) / c); b1 = w * t; b2 = a / rate + t
    print (b1 > b2) ? b1 : b2 }')
echo "targets: $TARGETS, concurrency $CONCURRENCY, timeout ${TIMEOUT}s, retries $RETRIES, rate $RATE/s"
echo "wall: ${wall}s (bound ${bound}s), cpu: ${cpu}s, peak RSS: ${rss} KB"
awk -v w="$wall" -v b="$bound" 'BEGIN { exit !(w <= b) }' || { echo "over the time bound"; exit 1; }

start=$(date +%s.%N)
"$DIAG" analyze "$work/results" --format json > /dev/null || true
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "diag analyze of the %s results: %.2f s\n", "'"$TARGETS"'", e - s }'
