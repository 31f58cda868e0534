#!/usr/bin/env bash
# The mini-program's typed client (clients/miniprogram): the OpenAPI document checked in there is
# the one the binary serves, the types generated from it are the ones checked in, the wrapper
# type-checks against them, and the compiled wrapper does a member's round (login, bind, live
# inbox, ETag polls, read, token refresh, logout) against the real server and the WeChat mock
# (test/smoke.mjs). Run by .ci/run with the debug binaries the suites built:
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
MOCK_BIN=$(readlink -f "${FINGERTIP_MOCK_BIN:-$(dirname "$BIN")/fingertip-mock-wechat}")
[ -x "$BIN" ] || { echo "client-check: no fingertip binary at $BIN" >&2; exit 2; }
[ -x "$MOCK_BIN" ] || { echo "client-check: no WeChat mock at $MOCK_BIN" >&2; exit 2; }
command -v npm >/dev/null || { echo "client-check: npm is missing (Node.js 20)" >&2; exit 2; }

cd clients/miniprogram
npm ci --no-audit --no-fund --loglevel=error
tmp=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
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
[ "$fail" = 0 ] || exit 1
echo "client-check: the document, the generated types and the wrapper agree"

# The wrapper run for real: the server (API and workers, SQLite) with the WeChat mock beside it.
rm -rf build
npx --no-install tsc -p tsconfig.test.json
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); MOCK_PORT=$(free_port)
ADMIN_PASS=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
"$MOCK_BIN" --bind "127.0.0.1:$MOCK_PORT" >"$tmp/mock.log" 2>&1 &
PIDS+=($!)
(
  cd "$tmp"
  export FINGERTIP_BIND=127.0.0.1:$PORT
  export FINGERTIP_DATABASE_URL="sqlite://$tmp/smoke.db?mode=rwc"
  export FINGERTIP_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
  export FINGERTIP_ADMIN_USERNAME=admin FINGERTIP_ADMIN_PASSWORD=$ADMIN_PASS
  export FINGERTIP_WECHAT_APPID=wx-mock-appid FINGERTIP_WECHAT_SECRET=mock-secret
  export FINGERTIP_WECHAT_API_BASE=http://127.0.0.1:$MOCK_PORT
  export FINGERTIP_QUIET_HOURS=off   # pushes at once, whatever the hour the check runs at
  exec "$BIN"
) >"$tmp/server.log" 2>&1 &
PIDS+=($!)
ready=0
for _ in $(seq 1 60); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then ready=1; break; fi
  sleep 1
done
if [ "$ready" != 1 ]; then
  echo "FAIL: the server did not become ready within 60 s; its log:" >&2
  tail -30 "$tmp/server.log" >&2
  exit 1
fi
if ! timeout 60 node test/smoke.mjs "http://127.0.0.1:$PORT" "http://127.0.0.1:$MOCK_PORT" admin "$ADMIN_PASS"; then
  echo "FAIL: the wrapper's round against the server; the server's log:" >&2
  tail -30 "$tmp/server.log" >&2
  exit 1
fi
