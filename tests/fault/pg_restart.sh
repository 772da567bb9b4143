#!/usr/bin/env bash
# Restarts PostgreSQL under a stream of writes and checks that chidao fails fast during the
# outage (an error within seconds, never a hang or a dead process), recovers by itself, and
# loses no write it accepted. Needs a local PostgreSQL cluster it may restart (root), so it
# is not part of the test suite:
#
#   cargo build && bash tests/fault/pg_restart.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CHIDAO_BIN:-target/debug/chidao}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=chidao_fault_$$
PORT=${PORT:-18472}
SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d " \n")   # random: serve refuses placeholder-shaped secrets
CLUSTER=$(ls /etc/postgresql)
psql "$PG/postgres" -qc "CREATE DATABASE $DB"
cleanup() {
  pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main start 2>/dev/null || true
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT
DATABASE_URL="$PG/$DB" CHIDAO_BIND=127.0.0.1:$PORT JWT_SECRET=$SECRET RUST_LOG=warn "$BIN" serve >/tmp/chidao_fault.log 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
TOKEN=$(JWT_SECRET=$SECRET "$BIN" token --role admin)
accepted=() failed=0 slowest=0
write() {
  local i=$1 t0 t1 body
  t0=$(date +%s%N)
  body=$(curl -s -m 30 -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"query\":\"mutation { createDirective(input: { code: \\\"fault-$i\\\", kind: CONG_VAN, title: \\\"Công văn $i\\\" }) { directive { code } } }\"}" \
    "http://127.0.0.1:$PORT/graphql" || echo '{"errors":[{"extensions":{"code":"NO_RESPONSE"}}]}')
  t1=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$t1" -gt "$slowest" ] && slowest=$t1
  if echo "$body" | grep -q '"errors"'; then
    failed=$((failed + 1)); echo "write $i failed after ${t1} ms: $(echo "$body" | grep -o '"code":"[A-Z_]*"' | head -1)"
  else
    accepted+=("fault-$i")
  fi
}
for i in $(seq 1 10); do write "$i"; done
echo "restarting PostgreSQL…"
pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main stop -m fast
for i in $(seq 11 15); do write "$i"; done
ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")
echo "readyz during the outage: $ready"
[ "$ready" = 503 ] || { echo "FAIL: /readyz should be 503 during the outage"; exit 1; }
pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main start
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
for i in $(seq 16 30); do write "$i"; done
kill -0 "$SERVER" || { echo "FAIL: the server died"; exit 1; }
stored=$(psql "$PG/$DB" -tAc "SELECT code FROM directives WHERE code LIKE 'fault-%'")
lost=0
for c in "${accepted[@]}"; do grep -qx "$c" <<<"$stored" || { echo "LOST: $c"; lost=$((lost + 1)); }; done
echo "accepted ${#accepted[@]}, failed $failed, lost $lost, slowest request ${slowest} ms"
[ "$lost" -eq 0 ] || exit 1
[ "$failed" -ge 5 ] || { echo "FAIL: writes during the outage should fail"; exit 1; }
[ "${#accepted[@]}" -ge 24 ] || { echo "FAIL: the service did not recover"; exit 1; }
[ "$slowest" -lt 10000 ] || { echo "FAIL: a request took ${slowest} ms (fail fast)"; exit 1; }

# The change listener reconnects by itself: answers are reused again, and a write made beside
# the service (psql, as another instance would) is seen through its notification.
stats() {
  curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d '{"query":"{ taskStatistics(filter: {directiveNumber: \"10/CT-UBND\"}) { counts { completedOnTime completedLate } } }"}' \
    "http://127.0.0.1:$PORT/graphql"
}
hits() {
  curl -s "http://127.0.0.1:$PORT/metrics" |
    sed -n 's/^chidao_answers_reused_total{answer="task_statistics",result="hit"} \([0-9]*\).*/\1/p'
}
reused=no
for _ in $(seq 75); do
  before=$(hits); stats >/dev/null; stats >/dev/null
  [ "$(hits)" -gt "${before:-0}" ] && { reused=yes; break; }
  sleep 0.2
done
[ "$reused" = yes ] || { echo "FAIL: answers are not reused 15 s after the restart (listener down?)"; exit 1; }
first=$(stats)
psql "$PG/$DB" -qc "UPDATE tasks SET completed_on = DATE '2025-01-05' WHERE id = (SELECT MIN(t.id) FROM tasks t JOIN directives d ON d.id = t.directive_id WHERE d.number = '10/CT-UBND')"
seen=no
for _ in $(seq 50); do [ "$(stats)" != "$first" ] && { seen=yes; break; }; sleep 0.1; done
[ "$seen" = yes ] || { echo "FAIL: a write beside the service was not seen in 5 s: $first"; exit 1; }
echo "after the restart: answers reused again, a write beside the service seen"
echo "ok"
