#!/usr/bin/env bash
# The test command (after setup): type check, every test on the real kernel, then a leak check.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

echo "== type check (tsc --noEmit)"
tsc --noEmit -p . || exit 1

# Tests that need no kernel run first as an unprivileged user: they must pass without root.
UNPRIVILEGED=(
  test/core/{addr,agent,cli,config,config-schema,control,layers,net,plugin-host,reload-plan,reload-agent}.test.ts
  test/testbed/evaluate.test.ts
  plugins/extractors/xdp/{features,pcap}.test.ts
  plugins/models/artifact/artifact-model.test.ts
  plugins/responders/*/*.test.ts plugins/catalog.test.ts plugins/fleet/fleet-config.test.ts
  $(find models -name '*.test.ts' | sort)
)
if [ "$(id -u)" = 0 ] && [ $# -eq 0 ]; then
  echo "== unit tests as user nobody (no root, no kernel)"
  home=$(mktemp -d) && chmod 777 "$home"
  setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$home" TMPDIR="$home" BUN_INSTALL_CACHE_DIR="$home/cache" \
    "$PWD/node_modules/.bin/bun" test --timeout 120000 "${UNPRIVILEGED[@]/#/./}" >"$home/log" 2>&1
  unpriv=$?
  grep -E '^ *[0-9]+ (pass|fail)$|^\(fail\)' "$home/log"
  rm -rf "$home"
  [ "$unpriv" -eq 0 ] || { echo "unit tests failed without root"; exit 1; }
fi

echo "== tests (bun test, real kernel)"
log=$(mktemp)
bun test --timeout 120000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

echo "== leak check (namespaces, pins, XDP attachments left by tests)"
bun test/check-leaks.ts || status=1

passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | grep -Eo '[0-9]+' | tail -1)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | grep -Eo '[0-9]+' | tail -1)
skipped=$(grep -Eo '^ *[0-9]+ skip$' "$log" | grep -Eo '[0-9]+' | tail -1)
# Every skip is listed with its test name (a skip is never silent).
if [ "${skipped:-0}" -gt 0 ]; then
  echo "== skipped tests"
  grep -E '^\(skip\)' "$log" | sort -u
  grep -E '^\[skip\]' "$log" | sort -u
fi
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
[ "${passed:-0}" -gt 0 ] || status=1
exit "$status"
