#!/usr/bin/env bash
# run.sh [--smoke]
# The whole comparison: Q1–Q5 through chidao (monitor token), through PostGraphile 5.1.5 on the same
# database, and as raw SQL with pgbench; $CONCURRENCY (16) connections, $DURATION s (10) per cell,
# after a $WARMUP s (2) warm-up, $ROUNDS (3) rounds (cells interleaved; the table shows medians).
# Also chidao's memory (idle, peak under load) and its start-up on a fresh SQLite file.
# Every query is measured twice through chidao: row "qN" through a chidao with
# CHIDAO_STATISTICS_REUSE_SECS=0, which computes every answer (the rows the targets are about), and
# row "qNr" through a chidao as configured by default, which reuses an answer until a write commits
# to a table it read. Q2 also gets a SQL-only row, "q2f": sql/q2flat.sql, the same answer
# as flat rows without JSON (the least PostgreSQL can do for Q2).
# Q5 (reportingCompliance for one quarter, one statement) has no PostGraphile counterpart: it is
# compared with sql/q5.sql, the same count written by hand.
# --smoke: 1 round, 2 s per cell, 1 s warm-up.
# Prints a markdown table (req/s, p50, p99, ratio) and keeps the raw lines and the table in results/.
# Settings: CHIDAO_BIN (default: /work/target-bench/release/chidao if built, else target/debug/chidao),
# DURATION, CONCURRENCY, THREADS, WARMUP, QUERIES ("q1 q2 q3 q4 q5"), PGHOST/PGPORT/PGUSER/BENCH_DB.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$BENCH_DIR"
if [ "${1:-}" = "--smoke" ]; then export DURATION=2 WARMUP=1 ROUNDS=1; MODE=smoke; else MODE=full; fi
export WARMUP="${WARMUP:-2}" DURATION
QUERIES="${QUERIES:-q1 q2 q3 q4 q5}"
ROOT="$(cd .. && pwd)"
pick_chidao
command -v wrk >/dev/null || apt-get install -y wrk >&2
command -v pgbench >/dev/null || { echo "pgbench not found (postgresql-client)" >&2; exit 1; }

# 1. data: chidao_bench with the synthetic dataset (scale 1), and the PostGraphile helper functions
ensure_synthetic "$BENCH_DB" 1 "$DATABASE_URL"
psql -XAtq -c "vacuum (analyze)" >&2   # cheap after a fresh load; loads before fb856d4 had ANALYZE only
psql -XAtq -v ON_ERROR_STOP=1 -f postgraphile/extras.sql 2>/dev/null

# 2. servers
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
mkdir -p results
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
DATABASE_URL="$DATABASE_URL" CHIDAO_BIND="127.0.0.1:$CHIDAO_PORT" CHIDAO_RATE_PER_MINUTE=0 \
  CHIDAO_LOG_FORMAT=json RUST_LOG="${RUST_LOG:-warn}" "$CHIDAO_BIN" serve > "results/chidao-$stamp.log" 2>&1 &
CHIDAO_PID=$!; pids+=("$CHIDAO_PID")
NOREUSE_PORT=$((CHIDAO_PORT + 2)); NOREUSE_URL="http://127.0.0.1:$NOREUSE_PORT/graphql"
DATABASE_URL="$DATABASE_URL" CHIDAO_BIND="127.0.0.1:$NOREUSE_PORT" CHIDAO_RATE_PER_MINUTE=0 CHIDAO_STATISTICS_REUSE_SECS=0 \
  CHIDAO_LOG_FORMAT=json RUST_LOG="${RUST_LOG:-warn}" "$CHIDAO_BIN" serve > "results/chidao-noreuse-$stamp.log" 2>&1 &
NOREUSE_PID=$!; pids+=("$NOREUSE_PID")
if [ ! -x node_modules/.bin/postgraphile ] || [ ! -x node_modules/.bin/node ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
GRAPHILE_ENV=production NODE_ENV=production node_modules/.bin/node node_modules/postgraphile/dist/cli-run.js \
  --preset postgraphile/presets/amber --connection "$DATABASE_URL" --schema public,bench_pgl \
  --host "$PGL_HOST" --port "$PGL_PORT" > "results/postgraphile-$stamp.log" 2>&1 &
PGL_PID=$!; pids+=("$PGL_PID")
wait_up() { # URL PID
  for _ in $(seq 1 120); do
    curl -s -o /dev/null -H 'content-type: application/json' --data '{"query":"{__typename}"}' "$1" && return 0
    kill -0 "$2" 2>/dev/null || { echo "server for $1 exited; see results/*-$stamp.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "$1 did not answer in 60 s" >&2; exit 1
}
wait_up "$CHIDAO_URL" "$CHIDAO_PID"; wait_up "$PGL_URL" "$PGL_PID"; wait_up "$NOREUSE_URL" "$NOREUSE_PID"
sleep 1 # a server that lost its port to another process has exited by now: the answers were not its own
for p in "$CHIDAO_PID" "$PGL_PID" "$NOREUSE_PID"; do
  kill -0 "$p" 2>/dev/null || { echo "a server exited after answering (port taken?); see results/*-$stamp.log" >&2; exit 1; }
done
kb() { sed -n "s/^$2:\s*\([0-9]*\) kB/\1/p" "/proc/$1/status"; } # PID FIELD -> kB
IDLE_KB=$(kb "$CHIDAO_PID" VmRSS); PGL_IDLE_KB=$(kb "$PGL_PID" VmRSS)
TOKEN="$("$CHIDAO_BIN" token --role monitor --ttl 2h)"

# 3. measurements
raw="results/raw-$stamp.txt"
profile=$(case "$CHIDAO_BIN" in *release*) echo release;; *) echo debug;; esac)
{
  echo "# $(date -u -Is) mode=$MODE duration=$DURATION warmup=$WARMUP concurrency=$CONCURRENCY threads=$THREADS"
  echo "# chidao $CHIDAO_BIN ($profile build, binary from $(date -u -r "$CHIDAO_BIN" +%FT%TZ)), checkout at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)"
  echo "# $(nproc) cores: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# rounds=$ROUNDS; database: $(psql -XAtc "select count(*) from tasks") tasks, $(psql -XAtc "select count(*) from progress_reports") reports"
  echo "# $(psql -XAtc 'select version()' | cut -d, -f1); postgraphile $(python3 -c 'import json; print(json.load(open("node_modules/postgraphile/package.json"))["version"])'), node $(node_modules/.bin/node --version); $(pgbench --version)"
} > "$raw"
for round in $(seq 1 "$ROUNDS"); do
  for q in $QUERIES; do
    echo "== round $round $q chidao, every answer computed" >&2
    echo "q=$q method=chidao round=$round $(SERVER_PID=$NOREUSE_PID AUTH_TOKEN=$TOKEN ./load.sh "$NOREUSE_URL" chidao/$q.graphql | tee >(cat >&2) | grep '^RESULT')" >> "$raw"
    echo "== round $round $q chidao, answers reused" >&2
    echo "q=${q}r method=chidao round=$round $(SERVER_PID=$CHIDAO_PID AUTH_TOKEN=$TOKEN ./load.sh "$CHIDAO_URL" chidao/$q.graphql | tee >(cat >&2) | grep '^RESULT')" >> "$raw"
    if [ -f "postgraphile/$q.graphql" ]; then # Q5 (reporting duties) has no PostGraphile counterpart
      echo "== round $round $q postgraphile" >&2
      echo "q=$q method=pgl round=$round $(SERVER_PID=$PGL_PID ./load.sh "$PGL_URL" postgraphile/$q.graphql | tee >(cat >&2) | grep '^RESULT')" >> "$raw"
    fi
    echo "== round $round $q sql" >&2
    echo "q=$q method=sql round=$round $(./sql-bound.sh sql/$q.sql | tee >(cat >&2) | grep '^RESULT')" >> "$raw"
    if [ "$q" = q2 ]; then
      echo "== round $round q2 sql, flat rows (the floor)" >&2
      echo "q=q2f method=sql round=$round $(./sql-bound.sh sql/q2flat.sql | tee >(cat >&2) | grep '^RESULT')" >> "$raw"
    fi
  done
done
# The peak of whichever chidao held more (the one computing every answer, as a rule).
peak=$(( $(kb "$CHIDAO_PID" VmHWM) > $(kb "$NOREUSE_PID" VmHWM) ? $(kb "$CHIDAO_PID" VmHWM) : $(kb "$NOREUSE_PID" VmHWM) ))
echo "mem chidao_idle_kb=$IDLE_KB chidao_peak_kb=$peak pgl_idle_kb=$PGL_IDLE_KB pgl_peak_kb=$(kb "$PGL_PID" VmHWM)" >> "$raw"

# 4. start-up on the embedded default: a fresh SQLite file, migrations and the seeds, until /health
startup() { # DB_FILE -> seconds until /health answers
  local port=$((CHIDAO_PORT + 1)) t0 p
  t0=$(date +%s.%N)
  DATABASE_URL="sqlite://$1?mode=rwc" CHIDAO_SEEDS="$ROOT/seeds" CHIDAO_BIND="127.0.0.1:$port" RUST_LOG=warn \
    "$CHIDAO_BIN" serve >> "results/chidao-startup-$stamp.log" 2>&1 &
  p=$!
  until curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; do
    kill -0 "$p" 2>/dev/null || { echo "chidao exited during start-up; see results/chidao-startup-$stamp.log" >&2; exit 1; }
    sleep 0.01
  done
  python3 -c "import sys,time; print(f'{time.time()-float(sys.argv[1]):.2f}')" "$t0"
  kill "$p"; wait "$p" 2>/dev/null || true
}
db="$(mktemp -d)/startup.db"
first=$(startup "$db"); again=$(startup "$db")
echo "startup sqlite_fresh_s=$first sqlite_seeded_s=$again" >> "$raw"
rm -rf "$(dirname "$db")"
python3 table.py "$raw" | tee "results/summary-$stamp.md"
