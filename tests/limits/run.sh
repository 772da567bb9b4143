#!/usr/bin/env bash
# The heaviest requests the default limits accept, alone and 20 at once, on the seeded data
# and on the synthetic scale-1 database (SQLite), with the server's peak RSS read from /proc
# (tests/limits/heaviest.py says how). Fails when a request raises the peak by more than
# MAX_RSS_MB (96) or answers with an error; times are printed against the 2 s target (enforced
# only when MAX_SECONDS is set: shared VMs differ by instance).
# Usage: bash tests/limits/run.sh   (CHIDAO_BIN picks the binary; default `cargo build`)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
if [[ -n "${CHIDAO_BIN:-}" ]]; then BIN="$CHIDAO_BIN"; else (cd "$ROOT" && cargo build -q); BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/chidao"; fi
TMP="$(mktemp -d)"
PID=""
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
SECRET="$(od -An -N48 -tx1 /dev/urandom | tr -d ' \n')"

measure() { # NAME DATABASE_URL
    local log="$TMP/$1.log" port=""
    : >"$log"
    DATABASE_URL="$2" CHIDAO_BIND=127.0.0.1:0 CHIDAO_SEEDS="$ROOT/seeds" JWT_SECRET="$SECRET" \
        RUST_LOG="warn,chidao=info" NO_COLOR=1 "$BIN" serve >"$log" 2>&1 </dev/null &
    PID=$!
    for _ in $(seq 1 300); do
        kill -0 "$PID" 2>/dev/null || { cat "$log" >&2; exit 2; }
        port="$(sed -n 's#.*listening on http://[^ ]*:\([0-9][0-9]*\)/graphql.*#\1#p' "$log" | head -n1 || true)"
        [[ -n "$port" ]] && curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break
        sleep 0.2
    done
    echo "limits: $1 (chidao on port $port)"
    local token
    token="$(DATABASE_URL="$2" JWT_SECRET="$SECRET" "$BIN" token --role admin --ttl 15m)"
    python3 "$HERE/heaviest.py" "http://127.0.0.1:$port/graphql" "$token" "$PID"
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

measure "the seeded data" "sqlite://$TMP/seeded.db?mode=rwc"
DATABASE_URL="sqlite://$TMP/synthetic.db?mode=rwc" CHIDAO_SEEDS="$ROOT/seeds" "$BIN" seed --synthetic >/dev/null
measure "the synthetic scale-1 data" "sqlite://$TMP/synthetic.db?mode=rwc"
