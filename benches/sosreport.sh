#!/bin/bash
# diag against hotsos over the same sosreport trees, alternating, in one
# run (issue 22: diag at least 20x faster per tree). Usage:
#   benches/sosreport.sh [RUNS] [TREE...]
# Needs hotsos (pip install hotsos) and a release build of diag (built
# here). Default tree: the vendored slice (tests/sosreports/); pass any
# other unpacked sosreport as TREE. Prints one row per tree: median and
# best wall time of each tool and the ratio of the medians.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-5}; shift || true
TREES=("$@")
[ ${#TREES[@]} -eq 0 ] && TREES=(tests/sosreports/hotsos-openstack)
command -v hotsos >/dev/null || { echo "hotsos is missing: pip install hotsos" >&2; exit 1; }
cargo build --release -q
DIAG=$PWD/target/release/diag
wall() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }
stats() { sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f\n", a[int((NR+1)/2)], a[1]}'; }
printf '%-45s %12s %10s %12s %10s %8s\n' tree "hotsos med" best "diag med" best ratio
for tree in "${TREES[@]}"; do
  h=(); d=()
  for _ in $(seq "$RUNS"); do
    h+=("$(wall hotsos --quiet "$tree")")
    d+=("$(wall "$DIAG" analyze "$tree" --format json)")
  done
  read -r hm hb < <(printf '%s\n' "${h[@]}" | stats)
  read -r dm db < <(printf '%s\n' "${d[@]}" | stats)
  printf '%-45s %11ss %9ss %11ss %9ss %7.0fx\n' "$tree" "$hm" "$hb" "$dm" "$db" "$(echo "$hm / $dm" | bc -l)"
done
