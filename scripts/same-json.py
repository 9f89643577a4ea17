#!/usr/bin/env python3
"""Runs two diag binaries over every fixture and shows that their diag/1
JSON is byte-identical, `generated_at` aside (issue 21: a refactor changes
no output).

Usage: scripts/same-json.py OLD_DIAG NEW_DIAG

Each fixture in fixtures/ is analysed as `diag analyze DIR --format json`
(inputs named in its expected.toml's [corpus] table copied in from
tests/corpus first, as tests/fixtures.rs does); both binaries read the same
temporary copy, so paths in the output agree. Exit 0 when every output is
identical, 1 with a unified diff of the first lines that differ otherwise.
"""
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(diag, bundle):
    out = subprocess.run(
        [diag, "analyze", bundle, "--format", "json"],
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        doc = json.loads(out.stdout)
    except ValueError:
        return f"exit {out.returncode}\n{out.stdout!r}\n{out.stderr!r}"
    doc.pop("generated_at", None)
    return f"exit {out.returncode}\n" + json.dumps(doc, indent=1, sort_keys=False)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    old, new = (os.path.abspath(p) for p in sys.argv[1:])
    fixtures = os.path.join(ROOT, "fixtures")
    names = sorted(os.listdir(fixtures))
    differ = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            src = os.path.join(fixtures, name)
            expected = os.path.join(src, "expected.toml")
            if not os.path.isfile(expected):
                continue
            with open(expected, "rb") as f:
                corpus = tomllib.load(f).get("corpus", {})
            bundle = os.path.join(tmp, name)
            shutil.copytree(src, bundle, symlinks=True)
            for dest, rel in corpus.items():
                target = os.path.join(bundle, dest)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(os.path.join(ROOT, "tests", "corpus", rel), target)
            a, b = run(old, bundle), run(new, bundle)
            if a == b:
                print(f"same      {name}")
            else:
                differ += 1
                print(f"DIFFERENT {name}")
                diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "old", "new", lineterm="", n=1)
                for line in list(diff)[:40]:
                    print("    " + line)
    total = sum(os.path.isfile(os.path.join(fixtures, n, "expected.toml")) for n in names)
    print(f"{total - differ} of {total} fixtures identical")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
