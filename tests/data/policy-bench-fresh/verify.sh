#!/usr/bin/env bash
# Re-checks every label of cases.json with the real Kyverno CLI.
# Usage: tests/data/policy-bench-fresh/verify.sh [path/to/kyverno]
# Without an argument it uses $KYVERNO, else the binary of scripts/build-binaries.sh, else PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
kyverno="${1:-${KYVERNO:-}}"
if [ -z "$kyverno" ]; then
  dir="$(bash "$root/scripts/build-binaries.sh" --print 2>/dev/null || true)"
  if [ -n "$dir" ] && [ -x "$dir/kyverno" ]; then kyverno="$dir/kyverno"; else kyverno="$(command -v kyverno || true)"; fi
fi
[ -x "$kyverno" ] || { echo "verify.sh: no kyverno binary found" >&2; exit 2; }
"$kyverno" version 2>/dev/null | head -1 || true
python3 "$here/make_suites.py"
out="$(mktemp)"; trap 'rm -f "$out"' EXIT
rc=0
"$kyverno" test "$here/suites" --remove-color >"$out" 2>&1 || rc=$?
grep -E "Test Summary|^Loading test" "$out" | grep -c "^Loading test" | sed 's/^/suites run: /'
grep -E "Test Summary" "$out" | tail -1 || true
if [ "$rc" -ne 0 ] || grep -qiE "\bFail\b.*(Want|Got)|Error:|error " "$out"; then
  echo "verify.sh: kyverno test reported failures (rc=$rc):" >&2
  grep -iE "fail|error" "$out" | grep -v "^ *│ *[0-9]* *│.*Ok" | head -80 >&2
  exit 1
fi
want="$(python3 -c 'import json,sys; print(sum(len(c["expected"]) for c in json.load(open(sys.argv[1]))["cases"]))' "$here/cases.json")"
got="$(sed -n 's/.*Test Summary: \([0-9]*\) tests passed.*/\1/p' "$out" | tail -1)"
if [ "$got" != "$want" ]; then
  echo "verify.sh: kyverno checked $got results, cases.json scores $want resources" >&2
  exit 1
fi
echo "verify.sh: all $want labels confirmed by kyverno test"
