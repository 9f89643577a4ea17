#!/bin/sh
# node-problem-detector custom plugin around `diag check` (docs/fleet.md).
#
#   diag-check.sh warning    NonOK when diag's verdict is warning or worse
#   diag-check.sh critical   NonOK when diag's verdict is critical
#
# diag check's exit code is its verdict: 0 nothing above info, 1 warning,
# 2 critical, 3 diag could not run. A node-problem-detector plugin exits
# 0 OK, 1 NonOK, 2 Unknown, and its first line of output is the
# condition's message: here diag's verdict line ("CRITICAL: 1 cause(s),
# 2 finding(s), ...") and the top cause or finding.
DIAG=${DIAG:-/usr/local/bin/diag}
level=${1:-warning}
out=$("$DIAG" check --capture-seconds 0 2>&1)
code=$?
verdict=$(printf '%s\n' "$out" | grep -m1 -E '^(OK|INFO|WARNING|CRITICAL): ')
top=$(printf '%s\n' "$out" | grep -m1 -E '^(1\. |- )\[' | sed 's/^1\. //; s/^- //')
printf '%s %s\n' "${verdict:-diag could not run}" "$top"
case "$code" in
  0) exit 0 ;;
  1) [ "$level" = warning ] && exit 1; exit 0 ;;
  2) exit 1 ;;
  *) exit 2 ;;
esac
