#!/usr/bin/env bash
# Fleet view benchmark (docs/fleet.md): 1,000 saved diag/1 documents, as
# the collect playbook fetches them (DIR/HOST/diag-HOST-1.json), made from
# the diagnoses of three fixtures with host names and addresses changed
# (one host in ten the gateway typo), then `diag fleet DIR` timed, text
# and JSON. Target: under 2 s.
# Usage: bash benches/fleet.sh [HOSTS]
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${1:-1000}
cargo build --release -q -p diag --bin diag
DIAG=$PWD/target/release/diag
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for f in scenario-healthy-web-host scenario-000-aliases-ifcfg http6-gateway-typo; do
    "$DIAG" analyze "fixtures/$f" --format json > "$work/$f.template" || true
done
python3 - "$work" "$HOSTS" <<'PY'
import json, os, sys
work, hosts = sys.argv[1], int(sys.argv[2])
names = ["scenario-healthy-web-host", "scenario-000-aliases-ifcfg", "http6-gateway-typo"]
templates = [json.load(open(os.path.join(work, n + ".template"))) for n in names]
for i in range(hosts):
    # 20 hosts a /24; in each, host 7 the gateway typo, hosts 3 and 13 the
    # unbound addresses, the rest healthy.
    k = i % 20
    doc = json.loads(json.dumps(templates[2 if k == 7 else 1 if k in (3, 13) else 0]))
    host = f"web{i:04d}"
    doc["source"]["host"] = host
    doc["targets"] = {"expected": [], "listening": [], "bound": [
        {"address": f"10.{i // 20 // 256}.{i // 20 % 256}.{k + 10}",
         "interface": "eth0", "input": "ip/addr", "line": 1}]}
    os.makedirs(os.path.join(work, "fleet", host))
    with open(os.path.join(work, "fleet", host, f"diag-{host}-1.json"), "w") as f:
        json.dump(doc, f, indent=2)
PY
echo "inputs: $HOSTS files, $(du -sb "$work/fleet" | cut -f1) bytes"
cat "$work"/fleet/*/*.json > /dev/null # page cache
for format in text json; do
    start=$(date +%s.%N)
    code=0
    "$DIAG" fleet "$work/fleet" --format "$format" > "$work/out.$format" || code=$?
    end=$(date +%s.%N)
    echo "diag fleet --format $format: $(echo "$end - $start" | bc) s, exit $code, $(wc -l < "$work/out.$format") lines"
done
head -12 "$work/out.text"
