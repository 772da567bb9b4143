#!/usr/bin/env bash
# load.sh URL QUERYFILE [VARS_JSON] [SECONDS] [CONCURRENCY]
# Drives a closed-loop GraphQL POST load with wrk (Debian package `wrk`, LuaJIT script post.lua):
# CONCURRENCY connections (default 16) over $THREADS threads (default 2) for SECONDS (default 10),
# after a $WARMUP-second warm-up (default 2, same load, not counted).
# VARS_JSON: JSON text or a file; default QUERYFILE's sibling NAME.vars.json.
# AUTH_TOKEN, when set, is sent as `Authorization: Bearer …` (chidao needs one).
# The response is checked once before and once after the run (HTTP 200, `data`, no `errors`).
# Prints requests/s, p50 and p99 latency, and a machine-readable "RESULT ..." line that also says
# how the cores were used during the run (cpu.py; set SERVER_PID to the server's PID to single it out).
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ $# -ge 2 ] || { sed -n 2,8p "$0" >&2; exit 2; }
URL="$1"; QUERY="$2"; VARS="$(vars_json "$QUERY" "${3:-}")"; SECS="${4:-$DURATION}"; CONC="${5:-$CONCURRENCY}"
WARMUP="${WARMUP:-2}"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
python3 "$BENCH_DIR/gql.py" "$QUERY" "$VARS" > "$tmp/body.json"
check() {
  local code
  code=$(curl -sS -o "$tmp/resp.json" -w '%{http_code}' -H 'content-type: application/json' \
         ${AUTH_TOKEN:+-H "authorization: Bearer $AUTH_TOKEN"} \
         --data-binary @"$tmp/body.json" "$URL")
  python3 - "$tmp/resp.json" "$code" <<'PY'
import json, sys
body, code = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
try:
    d = json.loads(body)
except ValueError:
    d = None
if code != "200" or not isinstance(d, dict) or d.get("errors") or not d.get("data"):
    sys.exit(f"bad response (HTTP {code}): {body[:500]}")
PY
  wc -c < "$tmp/resp.json"
}
bytes=$(check)
t=$(( CONC < THREADS ? CONC : THREADS ))
if [ "$WARMUP" -gt 0 ]; then
  BODY_FILE="$tmp/body.json" wrk -t"$t" -c"$CONC" -d"${WARMUP}s" -s "$BENCH_DIR/post.lua" "$URL" >/dev/null
fi
python3 "$BENCH_DIR/cpu.py" snap "${SERVER_PID:-}" $$ > "$tmp/cpu0"
BODY_FILE="$tmp/body.json" wrk -t"$t" -c"$CONC" -d"${SECS}s" --timeout 10s -s "$BENCH_DIR/post.lua" "$URL" > "$tmp/wrk.out"
python3 "$BENCH_DIR/cpu.py" snap "${SERVER_PID:-}" $$ > "$tmp/cpu1"
check >/dev/null
line=$(grep '^RESULT ' "$tmp/wrk.out")
reqs=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")
cpu=$(python3 "$BENCH_DIR/cpu.py" diff "$tmp/cpu0" "$tmp/cpu1" "$reqs")
line="${line} ${cpu} response_bytes=${bytes} query=$(basename "$QUERY") concurrency=${CONC} threads=${t} tool=wrk"
echo "$line"
python3 - "$line" <<'PY'
import sys
kv = dict(x.split("=", 1) for x in sys.argv[1].split()[1:])
errs = sum(int(v) for k, v in kv.items() if k.startswith("errors_"))
print(f"{float(kv['rps']):.0f} requests/s   p50 {float(kv['p50_ms']):.2f} ms   p99 {float(kv['p99_ms']):.2f} ms"
      f"   ({kv['requests']} requests, {errs} errors)   CPU (100% = 1 core): server {kv['cpu_server_pct']}%"
      f" postgres {kv['cpu_pg_pct']}% wrk {kv['cpu_loadgen_pct']}% other {kv['cpu_other_pct']}%")
if errs:
    sys.exit(1)
PY
