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
source "$HERE/../lib.sh"
LIB_NAME=webhooks
say() { echo "webhooks: $*"; }

lib_pydeps webhooks "$HERE/requirements.txt"
lib_bin
lib_tmp
SECRET="$(od -An -N48 -tx1 /dev/urandom | tr -d ' \n')"
DB="sqlite://$TMP/webhooks.db?mode=rwc"
start() { # NAME [DATABASE_URL]; WORKERS=N before it: that many delivery workers (default 8)
    lib_serve "$TMP/server-$1.log" DATABASE_URL="${2:-$DB}" JWT_SECRET="$SECRET" \
        CHIDAO_WEBHOOK_ALLOW_HOSTS=127.0.0.1 CHIDAO_WEBHOOK_RETRY_SECS=1,1,1,2,2,2,2,2,2,2,2,2,2,2,2 \
        CHIDAO_WEBHOOK_TIMEOUT_SECS=3 CHIDAO_WEBHOOK_WORKERS="${WORKERS:-8}" CHIDAO_RATE_PER_MINUTE=0
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
    trap 'kill $B_PID 2>/dev/null; lib_cleanup' EXIT
    run two
else
    say "two instances on PostgreSQL: skipped (set WEBHOOK_PG_URL to an empty database)"
fi
say "passed"
