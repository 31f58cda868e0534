#!/usr/bin/env bash
# The mini-program's typed client (clients/miniprogram): the OpenAPI document checked in there is
# the one the binary serves, the types generated from it are the ones checked in, and the
# wrapper type-checks against them. Run by .ci/run with the debug binary the suites built:
#
#   FINGERTIP_BIN=target/debug/fingertip bash scripts/client-check.sh
#
# Needs Node.js 20 and npm (the packages are pinned by package-lock.json and installed with
# `npm ci`). To update the client after an API change:
#
#   cd clients/miniprogram && ../../target/debug/fingertip openapi > openapi.json && npm run generate
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(readlink -f "${FINGERTIP_BIN:-target/debug/fingertip}")
[ -x "$BIN" ] || { echo "client-check: no fingertip binary at $BIN" >&2; exit 2; }
command -v npm >/dev/null || { echo "client-check: npm is missing (Node.js 20)" >&2; exit 2; }

cd clients/miniprogram
npm ci --no-audit --no-fund --loglevel=error
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BIN" openapi > "$tmp/openapi.json"
npx --no-install openapi-typescript "$tmp/openapi.json" --output "$tmp/schema.d.ts" >/dev/null

fail=0
fix="cd clients/miniprogram && ../../target/debug/fingertip openapi > openapi.json && npm run generate"
if ! diff -u openapi.json "$tmp/openapi.json" > "$tmp/doc.diff"; then
  echo "FAIL: clients/miniprogram/openapi.json is not the document the server serves. Run: $fix" >&2
  head -60 "$tmp/doc.diff" >&2
  fail=1
fi
if ! diff -u src/schema.d.ts "$tmp/schema.d.ts" > "$tmp/types.diff"; then
  echo "FAIL: clients/miniprogram/src/schema.d.ts is not generated from the served document. Run: $fix" >&2
  head -60 "$tmp/types.diff" >&2
  fail=1
fi
npx --no-install tsc --noEmit -p . || { echo "FAIL: the wrapper does not type-check against the API's types" >&2; fail=1; }
[ "$fail" = 0 ] && echo "client-check: the document, the generated types and the wrapper agree"
exit "$fail"
