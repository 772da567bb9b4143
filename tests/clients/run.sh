#!/usr/bin/env bash
# Well-known clients nobody here wrote, against a freshly started chidao under its default limits:
#   * graphql-js 16 (npm, pinned): its standard introspection query, every option on, is answered,
#     and buildClientSchema + printSchema of the answer equals schema/schema.graphql;
#   * Python gql (PyPI, pinned): fetch_schema_from_transport, then every task paged through.
# Usage: bash tests/clients/run.sh   (CHIDAO_BIN picks the binary; default `cargo build`)
# Exits non-zero on any failed check; chidao and its temporary files are always removed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
say() { echo "clients: $*"; }

(cd "$HERE" && npm ci --silent --no-audit --no-fund)
REQ="$HERE/requirements.txt"
PYDEPS="$ROOT/target/pydeps-clients/$(sha256sum "$REQ" | cut -c1-12)"
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
LOG="$TMP/server.log"
: >"$LOG"
DATABASE_URL="sqlite://$TMP/clients.db?mode=rwc" CHIDAO_BIND=127.0.0.1:0 CHIDAO_SEEDS="$ROOT/seeds" \
    JWT_SECRET="$SECRET" RUST_LOG="warn,chidao=info" NO_COLOR=1 "$BIN" serve >"$LOG" 2>&1 </dev/null &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG" >&2; exit 2; }
    PORT="$(sed -n 's#.*listening on http://[^ ]*:\([0-9][0-9]*\)/graphql.*#\1#p' "$LOG" | head -n1 || true)"
    [[ -n "$PORT" ]] && curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break
    sleep 0.2
done
[[ -n "$PORT" ]] || { echo "clients: chidao not ready" >&2; cat "$LOG" >&2; exit 2; }
URL="http://127.0.0.1:$PORT/graphql"
say "chidao on $URL, the default limits"
VIEWER="$(JWT_SECRET="$SECRET" "$BIN" token --role viewer --ttl 15m)"
(cd "$HERE" && node introspect.mjs "$URL" "$VIEWER" "$ROOT/schema/schema.graphql")
PYTHONPATH="$PYDEPS" PYTHONNOUSERSITE=1 python3 "$HERE/gql_client.py" "$URL" "$VIEWER"
say "passed"
