#!/usr/bin/env bash
# Measures the server's memory while it streams an indicator export of 100,000 and then
# 1,000,000 generated rows from PostgreSQL. Not part of CI (it takes a minute or two).
#
#   bash tests/bi/export_memory.sh            # uses target/debug/chidao (cargo build first)
#   CHIDAO_BIN=target/release/chidao bash tests/bi/export_memory.sh
#
# Prints the server's resident memory idle and its peak during each export (sampled every
# 20 ms from /proc). Flat memory = the two peaks are about the same.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${CHIDAO_BIN:-target/debug/chidao}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=chidao_mem_$$
PORT=${PORT:-18471}
SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d " \n")   # random: serve refuses placeholder-shaped secrets
[ -x "$BIN" ] || cargo build -q
psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null; }
trap cleanup EXIT

DATABASE_URL="$PG/$DB" CHIDAO_BIND=127.0.0.1:$PORT JWT_SECRET=$SECRET RUST_LOG=warn "$BIN" serve >/tmp/chidao_mem.log 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
TOKEN=$(JWT_SECRET=$SECRET "$BIN" token --role analyst)
rss() { awk '/VmRSS/ {print $2}' /proc/$SERVER/status; }

# $1 indicators with 12 monthly values each.
generate() {
  psql "$PG/$DB" -q <<SQL
INSERT INTO indicators (code, name, unit, target, comparator, direction, measure, year, qualitative, ordinal, created_at, updated_at)
SELECT 'syn.' || lpad(g::text, 7, '0'), 'Chỉ tiêu tổng hợp số ' || g || ' (thu ngân sách, lũy kế)', 'tỷ đồng', '1200', 'GE',
       'INCREASE', 'CUMULATIVE', 2025, false, 1000 + g, now(), now()
FROM generate_series($2 + 1, $2 + $1) g;
INSERT INTO indicator_values (indicator_id, period, value, kind, recorded_by, recorded_at)
SELECT i.id, '2025' || lpad(m::text, 2, '0'), (m * 100 + (i.id % 7))::text, 'OFFICIAL', 'synthetic', now()
FROM indicators i CROSS JOIN generate_series(1, 12) m
WHERE i.code LIKE 'syn.%' AND i.ordinal > 1000 + $2;
ANALYZE indicator_values; ANALYZE indicators;
SQL
}

measure() {
  local peak=0 r
  curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/export/indicators.csv?periodType=MONTH" -o /tmp/chidao_export.csv &
  local client=$!
  local start=$(date +%s.%N)
  while kill -0 $client 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.02; done
  local secs=$(echo "$(date +%s.%N) - $start" | bc)
  local rows=$(( $(wc -l < /tmp/chidao_export.csv) - 1 ))
  printf '%9d rows  %6.1f MB  %5.1f s  peak RSS %6.1f MB\n' "$rows" "$(echo "$(stat -c %s /tmp/chidao_export.csv)/1048576" | bc -l)" "$secs" "$(echo "$peak/1024" | bc -l)"
}

printf 'idle RSS %.1f MB\n' "$(echo "$(rss)/1024" | bc -l)"
generate 8334 0      # 100,008 rows
measure
generate 75000 8334  # 1,008,008 rows in all
measure
