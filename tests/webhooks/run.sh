#!/usr/bin/env bash
# Webhooks as receivers see them (issue #22): check_webhooks.py drives a chidao on a fresh SQLite
# file and checks every delivery with the official `standardwebhooks` verifier (PyPI, pinned in
# requirements.txt): the README's receiver (receiver.py), three attempts of one message to a
# receiver that fails twice, an agency endpoint that hears only its own tasks, refused URLs; then
# `kill -9` of chidao after a change committed while its receiver was down, a restart, and the
# message delivered; a slow receiver beside a fast one; directives and indicator values. On
# PostgreSQL (WEBHOOK_PG_URL): one instance's throughput from a pre-filled outbox, and two
# instances delivering each message once.
# Usage: bash tests/webhooks/run.sh   (CHIDAO_BIN picks the binary; default `cargo build`)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
say() { echo "webhooks: $*"; }

REQ="$HERE/requirements.txt"
PYDEPS="$ROOT/target/pydeps-webhooks/$(sha256sum "$REQ" | cut -c1-12)"
if [[ ! -f "$PYDEPS/.installed" ]]; then
    mkdir -p "$PYDEPS"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$PYDEPS" -r "$REQ"
    touch "$PYDEPS/.installed"
fi
if [[ -n "${CHIDAO_BIN:-}" ]]; then
    BIN="$CHIDAO_BIN"
else
    (cd "$ROOT" && cargo build -q)
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/chidao"
fi
TMP="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
SECRET="$(od -An -N48 -tx1 /dev/urandom | tr -d ' \n')"
DB="sqlite://$TMP/webhooks.db?mode=rwc"
PORT=""
start() {
    local log="$TMP/server-$1.log"
    : >"$log"
    DATABASE_URL="${2:-$DB}" CHIDAO_BIND=127.0.0.1:0 CHIDAO_SEEDS="$ROOT/seeds" JWT_SECRET="$SECRET" \
        CHIDAO_WEBHOOK_ALLOW_HOSTS=127.0.0.1 CHIDAO_WEBHOOK_RETRY_SECS=1,1,1,2,2,2,2,2,2,2,2,2,2,2,2 \
        CHIDAO_WEBHOOK_TIMEOUT_SECS=3 CHIDAO_WEBHOOK_WORKERS="${WORKERS:-8}" CHIDAO_RATE_PER_MINUTE=0 RUST_LOG="warn,chidao=info" NO_COLOR=1 "$BIN" serve >"$log" 2>&1 </dev/null &
    SERVER_PID=$!
    PORT=""
    for _ in $(seq 1 300); do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; exit 2; }
        PORT="$(sed -n 's#.*listening on http://[^ ]*:\([0-9][0-9]*\)/graphql.*#\1#p' "$log" | head -n1 || true)"
        [[ -n "$PORT" ]] && curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break
        sleep 0.2
    done
    [[ -n "$PORT" ]] || { echo "webhooks: chidao not ready" >&2; cat "$log" >&2; exit 2; }
}
tok() { DATABASE_URL="$DB" JWT_SECRET="$SECRET" "$BIN" token --ttl 15m "$@"; }
run() { PYTHONPATH="$PYDEPS" PYTHONNOUSERSITE=1 python3 "$HERE/check_webhooks.py" "$1" "http://127.0.0.1:$PORT" "$ADMIN" "$AGENCY" "$TMP"; }

# The README's receiver is this file's code (after its docstring).
python3 - "$ROOT/README.md" "$HERE/receiver.py" <<'PY'
import sys
readme, receiver = open(sys.argv[1]).read(), open(sys.argv[2]).read()
start = readme.index("```python\n", readme.index("A receiver in a few lines of Python")) + len("```python\n")
block = readme[start:readme.index("```\n", start)]
body = receiver[receiver.index('"""\n', 3) + 4:]
if block != body:
    sys.exit("webhooks: README's receiver differs from tests/webhooks/receiver.py")
PY
start 1
ADMIN="$(tok --role admin)"
AGENCY="$(tok --role agency --agency so-tai-chinh)"
run live
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
say "chidao killed (-9) with the message in its outbox"
start 2
run after

# Two instances on one PostgreSQL database (WEBHOOK_PG_URL, an empty database; .ci/run gives
# one): each message reaches the counting receiver exactly once; latency and throughput.
if [[ -n "${WEBHOOK_PG_URL:-}" ]]; then
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    # One instance's throughput: the outbox filled by an instance that delivers nothing, then
    # drained by one with 8 workers.
    DB="$WEBHOOK_PG_URL"
    WORKERS=0 start pg-fill "$WEBHOOK_PG_URL"
    ADMIN="$(tok --role admin)"
    run fill
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    run drain & DRAIN=$!
    for _ in $(seq 1 100); do [[ -f "$TMP/drain-ready" ]] && break; sleep 0.1; done
    start pg-drain "$WEBHOOK_PG_URL"
    echo "http://127.0.0.1:$PORT" >"$TMP/drain-url"
    wait "$DRAIN"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    start pg-a "$WEBHOOK_PG_URL"; A_PID=$SERVER_PID; A_PORT=$PORT
    start pg-b "$WEBHOOK_PG_URL"; B_PID=$SERVER_PID; B_PORT=$PORT
    printf '["http://127.0.0.1:%s", "http://127.0.0.1:%s"]' "$A_PORT" "$B_PORT" >"$TMP/urls.json"
    DB="$WEBHOOK_PG_URL"
    ADMIN="$(tok --role admin)"
    PORT=$A_PORT
    SERVER_PID=$A_PID
    trap 'kill $B_PID 2>/dev/null; cleanup' EXIT
    run two
else
    say "two instances on PostgreSQL: skipped (set WEBHOOK_PG_URL to an empty database)"
fi
say "passed"
