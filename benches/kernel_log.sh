#!/bin/sh
# Kernel logs of any size (issue 23): diag analyze against rg -c -f and
# LC_ALL=C grep -E -c -f over the same generated logs, alternating runs;
# then a 300 MiB log with an incident at each end, which diag must find.
#
# Usage: benches/kernel_log.sh [SIZES_MIB] [RUNS] [CORPUS_DIR]
#   SIZES_MIB  sizes to generate, default "32" ("32 1024" adds 1 GiB)
#   RUNS       runs per tool and log, default 3 (median and best)
#   CORPUS_DIR another directory of real kernel messages; by default
#              only the repository's tests/corpus/kmsg is read.
#   BIG_MIB    (environment) size of the both-ends check, default 300;
#              0 skips it.
#   RG_DEFAULT_MAX (environment) seconds ripgrep with its default settings
#              may take before it is stopped, default 30.
# Needs release builds of diag and xtask (cargo build --release -p diag
# -p xtask; CARGO_TARGET_DIR is honoured), rg, GNU time, python3. Logs are
# written below $TMPDIR (TMPDIR=/dev/shm keeps them off the disk).
# Densities: 0.1% and 50% of lines match a rule. Formats: syslog
# (var/log/kern.log of a bundle) and kmsg (dev/kmsg of a bundle).
# Patterns: the built-in rules' own log patterns (xtask log-patterns): as
# written for rg (named groups made plain), translated to POSIX ERE for
# grep (crates/diag-core/benches/common/mod.rs). State patterns are not
# rules' patterns and are not given to rg or grep.
# Tools: diag analyze on a bundle holding the log; rg tuned as diag builds
# its pattern set; rg with its defaults (one run, stopped after
# RG_DEFAULT_MAX s); grep on the first 4 MiB.
# Prints one table row per (format, size, density, tool): median and best
# wall time, MiB/s, peak RSS (/usr/bin/time -v). It also checks that the
# incidents planted in the first and last MiB are both found, and exits 1
# when the both-ends check fails.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DIAG=$TARGET/release/diag
XTASK=$TARGET/release/xtask
SIZES=${1:-32}
RUNS=${2:-3}
CORPUS=${3:-$ROOT/tests/corpus/kmsg}
BIG_MIB=${BIG_MIB:-300}
RG_DEFAULT_MAX=${RG_DEFAULT_MAX:-30}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
command -v rg >/dev/null || { echo "rg missing (apt-get install -y ripgrep)" >&2; exit 1; }
[ -x "$DIAG" ] && [ -x "$XTASK" ] || { echo "build first: cargo build --release -p diag -p xtask" >&2; exit 1; }

# The rules' own patterns: $WORK/rg (Rust syntax) and $WORK/ere (POSIX ERE).
"$XTASK" log-patterns "$WORK"
# Lines of the corpus that match no pattern (filler), and lines that do.
cat $(find "$CORPUS" -type f | sort) 2>/dev/null | LC_ALL=C sed 's/^[0-9]*,[0-9]*,[0-9]*,[^;]*;//; s/^<[0-9]*>//; s/^\[ *[0-9.]*\] //' | tr -d '\r\000' | LC_ALL=C grep -a -v '^ ' | LC_ALL=C grep -a -v '^$' > "$WORK/all" || true
# No boot banner among them: the generated log is one boot.
rg -a -v -f "$WORK/rg" "$WORK/all" | grep -v 'Linux version' | head -20000 > "$WORK/filler" || true
rg -a -f "$WORK/rg" "$WORK/all" | grep -v 'Linux version' | head -2000 > "$WORK/hits" || true
echo "corpus: $(wc -l < "$WORK/filler") filler lines, $(wc -l < "$WORK/hits") matching lines, $(wc -l < "$WORK/rg") patterns (rg), $(wc -l < "$WORK/ere") (grep -E)" >&2
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start" >&2

gen() { # FORMAT MIB PERMILLE OUT
    python3 - "$1" "$2" "$3" "$WORK/filler" "$WORK/hits" "$4" <<'PY'
import sys, random
fmt, mib, permille, filler, hits, out = sys.argv[1:]
random.seed(23)
filler = [l.rstrip("\n") for l in open(filler, errors="replace") if l.strip()]
hits = [l.rstrip("\n") for l in open(hits, errors="replace") if l.strip()]
size, t, seq, written = int(mib) << 20, 1.0, 0, 0
with open(out, "w", buffering=1 << 20) as f:
    def line(msg):
        global t, seq, written
        t += 0.0001; seq += 1
        if fmt == "syslog":
            s = "Feb 10 10:05:00 h kernel: [%12.6f] %s\n" % (t, msg)
        else:
            s = "6,%d,%d,-;%s\n" % (seq, int(t * 1e6), msg)
        f.write(s)
        written += len(s)
    line("Linux version 6.1.0 (bench)")
    line("Out of memory: Killed process 4242 (first-mib) total-vm:1kB")
    n = 0
    p = int(permille)
    while written < size - 4096:
        n += 1
        if n % 1000 < p: line(random.choice(hits))
        else: line(random.choice(filler))
    line("md/raid1:md0: Disk failure on sdz9, disabling device.")
PY
}

ms() { awk '{print $1*1000}'; }
run() { # LABEL CMD...
    label=$1; shift
    rc=0
    /usr/bin/time -v -o "$WORK/time" "$@" > "$WORK/out" 2>/dev/null || rc=$?
    wall=$(grep 'Elapsed (wall' "$WORK/time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    rss=$(grep 'Maximum resident' "$WORK/time" | awk '{print $NF}')
    echo "$label $wall $rss $rc" >> "$WORK/results"
}

printf '| log | size | density | tool | median s | best s | MiB/s (median) | peak RSS MiB |\n|---|---:|---:|---|---:|---:|---:|---:|\n'
for size in $SIZES; do
  for fmt in syslog kmsg; do
    for permille in 1 500; do
        b=$WORK/b; rm -rf "$b"
        if [ "$fmt" = syslog ]; then mkdir -p "$b/var/log"; f=$b/var/log/kern.log; else mkdir -p "$b/dev"; f=$b/dev/kmsg; fi
        gen "$fmt" "$size" "$permille" "$f"
        : > "$WORK/results"
        "$DIAG" analyze "$b" --format json > "$WORK/json" 2>/dev/null || true
        python3 - "$WORK/json" <<'PY' >&2
import json, sys
d = json.load(open(sys.argv[1]))
# The planted lines themselves, in a finding's evidence (the corpus lines
# among the filler may fire the same rules).
found = [json.dumps(f) for f in d.get("findings", [])]
first = any("first-mib" in f for f in found if '"mem.oom-kill"' in f)
last = any("sdz9" in f for f in found if '"md.' in f)
print("  incidents found: first MiB %s, last MiB %s" % (first, last))
PY
        i=0
        while [ $i -lt "$RUNS" ]; do
            run diag "$DIAG" analyze "$b" --format json
            # ripgrep as diag builds its set: bytes, not Unicode classes
            # (diag confirms a candidate line with the Unicode pattern),
            # and the same DFA cache. ripgrep's defaults (Unicode \w and
            # \b, a 10 MiB cache) thrash on these 83 patterns and take
            # minutes: timed once, stopped after $RG_DEFAULT_MAX s.
            run rg rg -c --no-unicode --dfa-size-limit 32M --regex-size-limit 64M -f "$WORK/rg" "$f"
            [ $i -eq 0 ] && run rg-default timeout "$RG_DEFAULT_MAX" rg -c -f "$WORK/rg" "$f"
            # grep -E with ~90 patterns reads ~1 MiB/s whatever the size:
            # timed on the first 4 MiB, its MiB/s is what carries.
            head -c 4194304 "$f" > "$WORK/prefix"
            run grep env LC_ALL=C grep -E -c -f "$WORK/ere" "$WORK/prefix"
            i=$((i+1))
        done
        density=$([ "$permille" = 1 ] && echo 0.1% || echo 50%)
        for tool in diag rg rg-default grep; do
            mib=$size; [ $tool = grep ] && mib=4
            grep "^$tool " "$WORK/results" | sort -k2 -g | awk -v t=$tool -v s="$mib" -v fmt="$fmt" -v d="$density" '
                { w[NR]=$2; r = ($3 > r ? $3 : r); if ($4 == 124) late = 1 }
                END { med=w[int((NR+1)/2)]; best=w[1];
                      if (late) { printf "| %s | %d MiB | %s | %s | > %.0f (stopped) | | < %.1f | %.1f |\n", fmt, s, d, t, med, s/med, r/1024; exit }
                      printf "| %s | %d MiB | %s | %s | %.2f | %.2f | %.0f | %.1f |\n", fmt, s, d, t, med, best, (med>0 ? s/med : 0), r/1024 }'
        done
    done
  done
done

# Every line of a large log is analysed: an incident in its first and in
# its last MiB are both found (syslog format, 0.1% density).
if [ "$BIG_MIB" -gt 0 ]; then
    b=$WORK/b; rm -rf "$b"; mkdir -p "$b/var/log"
    gen syslog "$BIG_MIB" 1 "$b/var/log/kern.log"
    /usr/bin/time -v -o "$WORK/time" "$DIAG" analyze "$b" --format json > "$WORK/json" 2>/dev/null || true
    wall=$(grep 'Elapsed (wall' "$WORK/time" | awk '{print $NF}')
    rss=$(grep 'Maximum resident' "$WORK/time" | awk '{printf "%.1f", $NF/1024}')
    python3 - "$WORK/json" "$BIG_MIB" "$wall" "$rss" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
# The planted lines themselves, in a finding's evidence (the corpus lines
# among the filler may fire the same rules).
found = [json.dumps(f) for f in d.get("findings", [])]
first = any("first-mib" in f for f in found if '"mem.oom-kill"' in f)
last = any("sdz9" in f for f in found if '"md.' in f)
print("%s MiB syslog log, both ends: first MiB %s, last MiB %s (%s, peak RSS %s MiB)"
      % (sys.argv[2], "found" if first else "MISSED", "found" if last else "MISSED", sys.argv[3], sys.argv[4]))
sys.exit(0 if first and last else 1)
PY
fi
