#!/bin/bash
# Fuzzes each named target for SECONDS in turn, for the hours issue 19 asks
# for: new inputs go to corpus-new/NAME (git ignores it; minimise it into
# corpus/NAME with `cargo +nightly fuzz cmin` before committing), the
# committed corpus/NAME is read only, crashes land in artifacts/NAME, and
# one line per run (seconds, execs, crashes) is appended to fuzz-summary.log.
# Build first: cargo +nightly fuzz build -O
# Usage: nice -n 19 fuzz/loop.sh SECONDS TARGET...
set -u
cd "$(dirname "$0")"
SECS=${1:-600}; shift
for t in "$@"; do
  mkdir -p "artifacts/$t" "corpus-new/$t"
  start=$(date +%s)
  log="artifacts/$t/run-$start.log"
  ./target/x86_64-unknown-linux-gnu/release/"$t" "corpus-new/$t" "corpus/$t" \
    -max_total_time="$SECS" -rss_limit_mb=4096 -timeout=30 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(grep -a "stat::number_of_executed_units" "$log" | awk '{print $2}')
  crashes=$(find "artifacts/$t" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
  echo "$t start=$start secs=$(( $(date +%s) - start )) rc=$rc execs=$execs crashes=$crashes" >> fuzz-summary.log
done
