#!/usr/bin/env bash
# The test command (after setup): type check, every test on the real kernel, then a leak check.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

echo "== type check (tsc --noEmit)"
tsc --noEmit -p . || exit 1

echo "== tests (bun test, real kernel)"
log=$(mktemp)
bun test --timeout 120000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

echo "== leak check (namespaces, pins, XDP attachments left by tests)"
bun test/check-leaks.ts || status=1

passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | grep -Eo '[0-9]+' | tail -1)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | grep -Eo '[0-9]+' | tail -1)
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
[ "${passed:-0}" -gt 0 ] || status=1
exit "$status"
