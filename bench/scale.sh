#!/usr/bin/env bash
# scale.sh [N]
# Does the cost grow with the data? Q1–Q4 ($SCALE_QUERIES) through chidao on the default synthetic dataset
# (database chidao_bench, as run.sh leaves it) and on N times that (default 10; database
# chidao_bench_xN, seeded on first use: about 3 minutes, time printed), same binary, token and
# settings as run.sh's rows that compute every answer (CHIDAO_STATISTICS_REUSE_SECS=0),
# $ROUNDS rounds each (cells interleaved, medians). Prints p50/p99/req/s at
# both scales and the latency ratio (target: p50 within 1.5x).
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$BENCH_DIR"
N="${1:-10}"
# Q5 (the compliance count) is left out by default: it reads every report of the quarter, so it
# grows with the reports by nature (the raw SQL as much), and at 10x one request takes ~40 s.
SCALE_QUERIES="${SCALE_QUERIES:-q1 q2 q3 q4}"
pick_chidao
url_of() { echo "postgres://$PGUSER@$PGHOST:$PGPORT/$1?sslmode=$PGSSLMODE"; }
BIG="${BENCH_DB}_x$N"
ensure_synthetic "$BENCH_DB" 1
ensure_synthetic "$BIG" "$N"
for db in "$BENCH_DB" "$BIG"; do psql -d "$db" -XAtqc "vacuum analyze" >&2; done
mkdir -p results
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
raw="results/scale-$stamp.txt"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
port=$CHIDAO_PORT
declare -A PID URL
for db in "$BENCH_DB" "$BIG"; do
  DATABASE_URL="$(url_of "$db")" CHIDAO_BIND="127.0.0.1:$port" CHIDAO_RATE_PER_MINUTE=0 CHIDAO_STATISTICS_REUSE_SECS=0 RUST_LOG=warn \
    "$CHIDAO_BIN" serve > "results/chidao-scale-$db-$stamp.log" 2>&1 &
  PID[$db]=$!; pids+=("$!"); URL[$db]="http://127.0.0.1:$port/graphql"; port=$((port + 1))
done
for db in "$BENCH_DB" "$BIG"; do
  for i in $(seq 1 121); do
    # the server must be ours: a port taken by another process would answer for it
    kill -0 "${PID[$db]}" 2>/dev/null || { echo "chidao on $db exited; see results/chidao-scale-$db-$stamp.log" >&2; exit 1; }
    curl -s -o /dev/null "${URL[$db]%/graphql}/healthz" && break
    [ "$i" = 121 ] && { echo "chidao on $db did not answer in 60 s" >&2; exit 1; }
    sleep 0.5
  done
done
sleep 1
for db in "$BENCH_DB" "$BIG"; do
  kill -0 "${PID[$db]}" 2>/dev/null || { echo "chidao on $db exited; see results/chidao-scale-$db-$stamp.log" >&2; exit 1; }
done
TOKEN="$("$CHIDAO_BIN" token --role monitor --ttl 2h)"
{
  echo "# $(date -u -Is) scale=$N duration=$DURATION concurrency=$CONCURRENCY rounds=$ROUNDS chidao=$CHIDAO_BIN"
  for db in "$BENCH_DB" "$BIG"; do
    echo "# $db: $(psql -d "$db" -XAtc "select count(*) from tasks") tasks, $(psql -d "$db" -XAtc "select count(*) from assignments") assignments, $(psql -d "$db" -XAtc "select count(*) from progress_reports") reports"
  done
} > "$raw"
for round in $(seq 1 "$ROUNDS"); do
  for q in $SCALE_QUERIES; do
    for db in "$BENCH_DB" "$BIG"; do
      echo "== round $round $q $db" >&2
      echo "q=$q db=$db round=$round $(SERVER_PID=${PID[$db]} AUTH_TOKEN=$TOKEN ./load.sh "${URL[$db]}" chidao/$q.graphql | tee >(cat >&2) | grep '^RESULT')" >> "$raw"
    done
  done
done
python3 - "$raw" "$BENCH_DB" "$BIG" "$N" <<'PY' | tee "results/scale-summary-$stamp.md"
import re, sys
raw, small, big, n = sys.argv[1:5]
runs = {}
for line in open(raw, encoding="utf-8"):
    if line.startswith("#"):
        print(f"<!-- {line[1:].strip()} -->"); continue
    kv = dict(re.findall(r"(\S+?)=(\S+)", line))
    runs.setdefault((kv["q"], kv["db"]), []).append(kv)
med = lambda rs: sorted(rs, key=lambda kv: float(kv["p50_ms"]))[(len(rs) - 1) // 2]
print(f"| query | x1 req/s | x1 p50 ms | x1 p99 ms | x{n} req/s | x{n} p50 ms | x{n} p99 ms | p50 x{n}/x1 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for q in dict.fromkeys(q for q, _ in runs):
    a, b = med(runs[(q, small)]), med(runs[(q, big)])
    print(f"| {q.upper()} | {float(a['rps']):,.0f} | {float(a['p50_ms']):.1f} | {float(a['p99_ms']):.1f} | "
          f"{float(b['rps']):,.0f} | {float(b['p50_ms']):.1f} | {float(b['p99_ms']):.1f} | "
          f"{float(b['p50_ms']) / float(a['p50_ms']):.2f} |")
PY
