#!/usr/bin/env bash
# Crash test of the distributed shape, against real processes of the built binary on PostgreSQL
# and Redis: fan-out workers are killed with SIGKILL mid-fan-out, Redis is flushed before, during
# and after, and every broadcast must still reach each of its N recipients exactly once. Then a
# live-inbox socket on one API process must see a fan-out and a read made through another, and
# the audit chain written by both API processes at once must verify (and fail once tampered).
#
#   bash scripts/crash-test.sh            # after `cargo test` (CI) or `cargo test --no-run`
#
# It uses its own database (fingertip_crash, dropped and re-created on the server of
# FINGERTIP_CI_DATABASE_URL) and its own Redis logical database (number CRASH_REDIS_DB, default 7,
# on the server of FINGERTIP_CI_REDIS_URL), which it flushes: it refuses to start if that Redis
# database holds keys other than its own. Logs go to target/crash-test/.
#
# Settings (environment): FINGERTIP_CI_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
# FINGERTIP_CI_REDIS_URL (default redis://127.0.0.1:6379), CRASH_REDIS_DB (7), CRASH_MEMBERS
# (60000), CRASH_BATCH (100), CRASH_LEASE_SECS (5), CRASH_DB_NAME (fingertip_crash),
# FINGERTIP_BIN (target/debug/fingertip).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

BIN="${FINGERTIP_BIN:-$repo/target/debug/fingertip}"
PG_URL="${FINGERTIP_CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
REDIS_BASE="${FINGERTIP_CI_REDIS_URL:-redis://127.0.0.1:6379}"
REDIS_DB="${CRASH_REDIS_DB:-7}"
N="${CRASH_MEMBERS:-60000}"
BATCH="${CRASH_BATCH:-100}"
LEASE="${CRASH_LEASE_SECS:-5}"
OUT="$repo/target/crash-test"
DB_NAME="${CRASH_DB_NAME:-fingertip_crash}"
PREFIX=crash

t0=$(date +%s)
elapsed() { echo "$(($(date +%s) - t0))s"; }
say() { echo "crash-test [$(elapsed)]: $*"; }
pass() { echo "PASS: $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

for tool in psql redis-cli curl jq python3; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[ -x "$BIN" ] || fail "$BIN is missing: build it with 'cargo test --workspace --no-run' (the same build as CI's cargo test)"
[[ "$DB_NAME" =~ ^[a-z_][a-z0-9_]*$ ]] || fail "CRASH_DB_NAME=$DB_NAME is not a plain database name"
newer=$(find "$repo/src" "$repo/core" "$repo/api" "$repo/workers" "$repo/migrations" "$repo/wechat" \
  -name '*.rs' -newer "$BIN" -print -quit 2>/dev/null || true)
[ -z "$newer" ] || echo "crash-test: warning: $newer is newer than $BIN; 'cargo test --workspace --no-run' rebuilds it" >&2

# The crash database: the same server as PG_URL, another database name, the same query string.
CRASH_DB_URL=$(echo "$PG_URL" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$DB_NAME#")
[ "$CRASH_DB_URL" != "$PG_URL" ] || fail "cannot derive a database URL from $PG_URL"
REDIS_URL="$(echo "$REDIS_BASE" | sed -E 's#^(rediss?://[^/?]*).*#\1#')/$REDIS_DB"

sql() { psql "$CRASH_DB_URL" -v ON_ERROR_STOP=1 -qtAX -c "$1"; }
rcli() { redis-cli -u "$REDIS_URL" "$@"; }

mkdir -p "$OUT"
rm -f "$OUT"/*.log

# --- processes -----------------------------------------------------------------------------
declare -A PIDS=() # name -> pid of processes still to clean up
PORT=""

cleanup() {
  local rc=$?
  for name in "${!PIDS[@]}"; do
    kill -9 "${PIDS[$name]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    echo "--- crash-test failed after $(elapsed); the last lines of each log in $OUT:" >&2
    for f in "$OUT"/*.log; do
      [ -f "$f" ] || continue
      echo "--- $f" >&2
      tail -n 25 "$f" >&2
    done
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The binary runs with this environment (filled in once the port is known), in $OUT so that no
# .env is read, its output appended to $OUT/NAME.log.
ENVV=()

run_bin() { # run_bin NAME SUBCOMMAND: in the foreground
  local name=$1 cmd=$2
  (cd "$OUT" && exec env "${ENVV[@]}" "$BIN" "$cmd") >>"$OUT/$name.log" 2>&1
}

start() { # start NAME SUBCOMMAND: in the background, remembered for clean-up
  local name=$1 cmd=$2
  # One forked subshell that execs the binary, so that $! is the fingertip process itself.
  (cd "$OUT" && exec env "${ENVV[@]}" "$BIN" "$cmd") >>"$OUT/$name.log" 2>&1 &
  PIDS[$name]=$!
}

kill9() {
  local name=$1
  kill -9 "${PIDS[$name]}"
  wait "${PIDS[$name]}" 2>/dev/null || true
  unset "PIDS[$name]"
}

term() { # SIGTERM and wait (bounded) for a clean exit
  local name=$1 pid=${PIDS[$1]} rc=0
  kill -TERM "$pid"
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && fail "$name did not stop within 20 s of SIGTERM"
  wait "$pid" || rc=$?
  unset "PIDS[$name]"
  [ "$rc" -eq 0 ] || fail "$name exited with status $rc after SIGTERM"
}

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
      echo "$p"
      return
    }
  done
  fail "found no free port"
}

# --- queries ---------------------------------------------------------------------------------
rows() { sql "SELECT count(*) FROM inbox_items WHERE broadcast_id = $1"; }
distinct_rows() { sql "SELECT count(DISTINCT member_id) FROM inbox_items WHERE broadcast_id = $1"; }
status() { sql "SELECT status FROM broadcasts WHERE id = $1"; }
lease_owner() { sql "SELECT coalesce(lease_owner, '') FROM broadcasts WHERE id = $1"; }

API=""
TOKEN=""
api() { # api METHOD PATH [JSON]: prints the body, fails on a non-2xx status
  local method=$1 path=$2 out code
  local args=(-sS -o "" -w '%{http_code}' -X "$method" -H "authorization: Bearer $TOKEN")
  [ $# -lt 3 ] || args+=(-H 'content-type: application/json' --data "$3")
  out=$(mktemp)
  args[2]=$out
  code=$(curl "${args[@]}" "$API$path") || fail "$method $path: curl failed"
  if [ "${code:0:1}" != 2 ]; then
    cat "$out" >&2
    rm -f "$out"
    fail "$method $path answered $code"
  fi
  cat "$out"
  rm -f "$out"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.2 s until COMMAND succeeds
  local secs=$1 what=$2
  shift 2
  local end=$(($(date +%s) + secs))
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || fail "timed out after ${secs}s waiting for $what"
    sleep 0.2
  done
}

has_rows() { [ "$(rows "$1")" -ge "$2" ]; }
is_sent() { [ "$(status "$1")" = sent ]; }
is_partial() { # at least $2 rows, and not yet sent
  local n
  n=$(rows "$1")
  [ "$n" -ge "$2" ] || return 1
  [ "$(status "$1")" = sending ] || fail "broadcast $1 finished before the crash ($n rows): raise CRASH_MEMBERS or lower CRASH_BATCH"
}

broadcast() { # creates a broadcast to the crash unit, prints its id
  local body id
  body=$(api POST /api/v1/admin/broadcasts "{\"post_id\":\"$POST\",\"audience\":{\"unit_ids\":[\"$UNIT\"]}}")
  id=$(echo "$body" | jq -r .id)
  [ "$(echo "$body" | jq -r .audience_size)" = "$N" ] || fail "audience_size is not $N: $body"
  echo "$id"
}

exactly_once() { # exactly_once ID WHAT: N rows, N distinct members, sent, and the API agrees
  local id=$1 what=$2 n d stats
  n=$(rows "$id")
  d=$(distinct_rows "$id")
  [ "$n" = "$N" ] && [ "$d" = "$N" ] || fail "$what: $n inbox rows for $d distinct members, wanted $N and $N"
  stats=$(api GET "/api/v1/admin/broadcasts/$id")
  [ "$(echo "$stats" | jq -r .status)" = sent ] || fail "$what: the API says $(echo "$stats" | jq -c .status)"
  [ "$(echo "$stats" | jq -r .stats.recipients)" = "$N" ] && [ "$(echo "$stats" | jq -r .stats.delivered)" = "$N" ] ||
    fail "$what: the API's stats disagree: $(echo "$stats" | jq -c .stats)"
  pass "$what: $N inbox rows, $N distinct members, status sent, API stats agree"
}

crash_point() { echo $((N / 20 > 0 ? N / 20 : 1)); }

# --- set-up --------------------------------------------------------------------------------
say "binary $BIN, database $(echo "$CRASH_DB_URL" | sed -E 's#//[^@/]*@#//***@#'), redis $REDIS_URL (prefix $PREFIX), $N members, batch $BATCH, lease ${LEASE}s"
foreign=$(rcli --scan | grep -cv "^$PREFIX:" || true)
[ "$foreign" -eq 0 ] || fail "Redis database $REDIS_DB holds $foreign keys that are not this test's; set CRASH_REDIS_DB to an unused one"
rcli FLUSHDB >/dev/null
psql "$PG_URL" -v ON_ERROR_STOP=1 -qtAX -c "SET client_min_messages = warning" \
  -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null

PORT=$(free_port)
API="http://127.0.0.1:$PORT"
ENVV=(
  FINGERTIP_DATABASE_URL="$CRASH_DB_URL"
  FINGERTIP_REDIS_URL="$REDIS_URL"
  FINGERTIP_REDIS_PREFIX="$PREFIX"
  FINGERTIP_JWT_SECRET=crash-test-secret-crash-test-secret
  FINGERTIP_ADMIN_USERNAME=admin
  FINGERTIP_ADMIN_PASSWORD=crash-test-password
  FINGERTIP_BIND="127.0.0.1:$PORT"
  FINGERTIP_FANOUT_LEASE_SECS="$LEASE"
  FINGERTIP_FANOUT_BATCH="$BATCH"
  FINGERTIP_LOG_FORMAT=text
  NO_COLOR=1
  "RUST_LOG=info,sqlx=warn,sea_orm=warn,actix_server=warn"
)
run_bin migrate migrate || fail "fingertip migrate failed"
start serve serve
wait_for 60 "the API to be ready" curl -sf -o /dev/null "$API/readyz"
TOKEN=$(curl -sS "$API/api/v1/auth/admin/login" -H 'content-type: application/json' \
  -d '{"username":"admin","password":"crash-test-password"}' | jq -r .access_token)
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || fail "admin login failed"
UNIT=$(api POST /api/v1/admin/units '{"name":"压力测试支部"}' | jq -r .id)
sql "INSERT INTO members (name, unit_id, role, active, created_at, updated_at)
     SELECT '成员' || g, $UNIT, 'member', true, now(), now() FROM generate_series(1, $N) AS g"
POST=$(api POST /api/v1/admin/posts '{"kind":"lesson","title":"崩溃测试党课","body_md":"正文"}' | jq -r .id)
say "serve on $API, unit $UNIT with $N members, post $POST"

# --- 1. a worker killed mid-fan-out; the next takes over after the lease -------------------
say "case 1: SIGKILL a worker mid-fan-out"
start work1 work
B1=$(broadcast)
wait_for 60 "broadcast $B1 to be partly fanned out" is_partial "$B1" "$(crash_point)"
kill9 work1
c1=$(rows "$B1")
owner=$(lease_owner "$B1")
say "killed work1 with $c1 of $N rows written; the lease is left with '$owner'"
[ "$c1" -gt 0 ] && [ "$c1" -lt "$N" ] || fail "case 1: $c1 rows after the kill, wanted strictly between 0 and $N"
[ -n "$owner" ] || fail "case 1: the killed worker left no lease"
took=$(date +%s)
start work2 work
wait_for 120 "broadcast $B1 to be sent after the crash" is_sent "$B1"
say "work2 finished broadcast $B1 $(($(date +%s) - took))s after it started (lease ${LEASE}s)"
exactly_once "$B1" "case 1 (SIGKILL mid-fan-out, PostgreSQL)"

# --- 2. a worker killed mid-fan-out, Redis flushed, and flushed again under the new workers --
say "case 2: SIGKILL mid-fan-out, FLUSHDB, two new workers, FLUSHDB while they run"
B2=$(broadcast)
wait_for 60 "broadcast $B2 to be partly fanned out" is_partial "$B2" "$(crash_point)"
kill9 work2
c2=$(rows "$B2")
[ "$c2" -gt 0 ] && [ "$c2" -lt "$N" ] || fail "case 2: $c2 rows after the kill, wanted strictly between 0 and $N"
rcli FLUSHDB >/dev/null
say "killed work2 with $c2 of $N rows written; Redis flushed"
start work3 work
start work4 work
wait_for 60 "a new worker to take broadcast $B2 over" has_rows "$B2" $((c2 + BATCH))
rcli FLUSHDB >/dev/null
say "Redis flushed again while work3 and work4 fan out ($(rows "$B2") rows)"
wait_for 120 "broadcast $B2 to be sent" is_sent "$B2"
exactly_once "$B2" "case 2 (SIGKILL, Redis flushed before and during the take-over)"
[ "$(rcli XINFO GROUPS "$PREFIX:jobs" | grep -c '^workers$' || true)" -ge 1 ] ||
  fail "case 2: the consumer group $PREFIX:jobs/workers was not recreated after the flush"

# --- 3. the job is lost before any worker saw it: the sweep still finds the broadcast -------
say "case 3: no worker running, broadcast created, Redis flushed, then a worker starts"
term work3
term work4
B3=$(broadcast)
[ "$(rcli XLEN "$PREFIX:jobs")" -ge 1 ] || fail "case 3: creating the broadcast queued no job"
rcli FLUSHDB >/dev/null
[ "$(rcli DBSIZE)" = 0 ] || fail "case 3: FLUSHDB left keys"
start work5 work
wait_for 60 "broadcast $B3 to be partly fanned out by the sweep" is_partial "$B3" "$(crash_point)"
# Flushed again while the only worker is busy fanning out (not blocked on a read): its next
# pass must recreate the consumer group rather than fail on NOGROUP every pass from then on.
rcli FLUSHDB >/dev/null
wait_for 120 "broadcast $B3 to be sent by the sweep" is_sent "$B3"
exactly_once "$B3" "case 3 (job flushed before any worker saw it, and Redis flushed again mid-fan-out)"
sleep 1
before=$(grep -c 'queue unavailable' "$OUT/work5.log" || true)
sleep 3
after=$(grep -c 'queue unavailable' "$OUT/work5.log" || true)
[ "$after" -eq "$before" ] || fail "case 3: work5 still reports the queue unavailable after the flush ($before, then $after warnings)"
[ "$(rcli XINFO GROUPS "$PREFIX:jobs" | grep -c '^workers$' || true)" -ge 1 ] ||
  fail "case 3: the consumer group $PREFIX:jobs/workers was not recreated after the flush"
pass "case 3: after the flush the worker recreated the job stream's consumer group"

# --- 4. SIGTERM mid-fan-out releases the lease at once --------------------------------------
say "case 4: SIGTERM a worker mid-fan-out"
B4=$(broadcast)
wait_for 60 "broadcast $B4 to be partly fanned out" is_partial "$B4" "$(crash_point)"
term work5
c4=$(rows "$B4")
owner=$(lease_owner "$B4")
[ -z "$owner" ] || fail "case 4: the stopped worker kept its lease ('$owner')"
[ "$(status "$B4")" = sending ] && [ "$c4" -lt "$N" ] || fail "case 4: the broadcast finished before the stop"
took=$(date +%s)
start work6 work
wait_for 120 "broadcast $B4 to be sent" is_sent "$B4"
waited=$(($(date +%s) - took))
exactly_once "$B4" "case 4 (SIGTERM released the lease with $c4 rows written; the next worker took over)"

# --- 5. the live inbox across two API processes on one Redis -----------------------------
say "case 5: a socket on serve sees what a worker fans out and what a read on serve2 changes"
PORT2=$(free_port)
API1=$API
API2="http://127.0.0.1:$PORT2"
saved=("${ENVV[@]}")
ENVV+=(FINGERTIP_BIND="127.0.0.1:$PORT2") # env(1): the later assignment wins
start serve2 serve
ENVV=("${saved[@]}")
wait_for 60 "the second API to be ready" curl -sf -o /dev/null "$API2/readyz"
ME=$(api GET /api/v1/me | jq -r .id)
python3 "$repo/scripts/ws-listen.py" "ws://127.0.0.1:$PORT/api/v1/ws" "$TOKEN" 120 >"$OUT/ws.log" 2>&1 &
PIDS[ws]=$!
ws_says() { grep -q "$1" "$OUT/ws.log"; }
last_count() { grep '"unread_count"' "$OUT/ws.log" | tail -n 1 | jq -r .unread_count; }
wait_for 10 "the socket on serve to send the unread count" ws_says '"inbox.unread_count"'
before=$(last_count)
API=$API2
B5=$(api POST /api/v1/admin/broadcasts "{\"post_id\":\"$POST\",\"audience\":{\"member_ids\":[\"$ME\"]}}" | jq -r .id)
wait_for 30 "inbox.new on the socket of serve for broadcast $B5" ws_says '"inbox.new"'
new=$(grep '"inbox.new"' "$OUT/ws.log" | tail -n 1)
[ "$(echo "$new" | jq -r .item.broadcast_id)" = "$B5" ] || fail "case 5: inbox.new is for another broadcast: $new"
[ "$(echo "$new" | jq -r .unread_count)" = $((before + 1)) ] || fail "case 5: inbox.new says $(echo "$new" | jq -c .unread_count), wanted $((before + 1))"
item=$(echo "$new" | jq -r .item.id)
api POST "/api/v1/inbox/$item/read" >/dev/null
count_back() { [ "$(last_count)" = "$before" ]; }
wait_for 10 "the socket on serve to get the count after the read on serve2" count_back
API=$API1
pass "case 5: inbox.new (broadcast $B5, created on serve2, fanned out by work6) and the count after a read on serve2 reached the socket on serve"
kill "${PIDS[ws]}" 2>/dev/null || true
wait "${PIDS[ws]}" 2>/dev/null || true
unset "PIDS[ws]"

say "case 6: the audit chain written by two API processes at once, verified, then tampered with"
for i in $(seq 1 20); do
  if [ $((i % 2)) -eq 0 ]; then API=$API2; else API=$API1; fi
  api POST /api/v1/admin/units "{\"name\":\"audit-$i\"}" >/dev/null &
done
wait_units() { [ "$(psql "$CRASH_DB_URL" -qtAX -c "SELECT count(*) FROM units WHERE name LIKE 'audit-%'")" = 20 ]; }
wait_for 30 "the 20 units made through both APIs" wait_units
API=$API1
audit_verify() { (cd "$OUT" && exec env "${ENVV[@]}" "$BIN" audit verify) 2>>"$OUT/audit.log"; }
out=$(audit_verify) || fail "case 6: fingertip audit verify failed on an untouched chain: $out"
entries=$(psql "$CRASH_DB_URL" -qtAX -c "SELECT count(*) FROM audit_log")
[ "$(psql "$CRASH_DB_URL" -qtAX -c "SELECT max(seq) FROM audit_log")" = "$entries" ] ||
  fail "case 6: the chain has a gap or a fork: $entries entries"
echo "$out" | grep -q "^ok: $entries entries" || fail "case 6: unexpected verify output: $out"
psql "$CRASH_DB_URL" -qtAX -c "UPDATE audit_log SET summary = '{\"name\":\"forged\"}' WHERE seq = 3" >/dev/null
if out=$(audit_verify); then fail "case 6: verify passed a tampered chain: $out"; fi
echo "$out" | grep -q "MISMATCH at entry 3" || fail "case 6: verify did not name entry 3: $out"
pass "case 6: $entries audit entries from two serve processes form one chain; an edited entry 3 is named"

term work6
term serve2
term serve
say "all cases passed in $(elapsed)"
echo "PASS: crash test ($(elapsed), last take-over ${waited}s)"
