#!/usr/bin/env bash
# GraphQL-over-HTTP conformance: runs the server audits of the npm package `graphql-http`
# (version pinned in package.json / package-lock.json) against a freshly started chidao.
#
# Usage (from the repository root, after `cargo build`):
#     bash tests/http-audit/run.sh
# Environment:
#     CHIDAO_BIN            the chidao binary (default: target/debug/chidao, relative to the
#                           directory run.sh is called from)
#     CHIDAO_AUDIT_JSON     optional: also write the results as JSON to this path
#     CHIDAO_AUDIT_VERBOSE  1: print the response of failing SHOULD/MAY audits too
#     HTTP_AUDIT_SKIP_NPM   1: skip `npm ci` (node_modules already installed from the lockfile)
#
# It starts the server on a free port (CHIDAO_BIND=127.0.0.1:0) with a temporary SQLite
# database and a random JWT_SECRET, signs an admin token, sends it on every audit request,
# prints one line per audit, and exits non-zero when a MUST audit fails (SHOULD and MAY
# results are printed but never fail). The server and the temporary files are always removed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$HERE/../lib.sh"
READY_TIMEOUT_S=60

BIN="${CHIDAO_BIN:-target/debug/chidao}"
[[ "$BIN" = /* ]] || BIN="$PWD/$BIN"
if [[ ! -x "$BIN" ]]; then
    echo "http-audit: no chidao binary at $BIN (run cargo build, or set CHIDAO_BIN)" >&2
    exit 2
fi
command -v node >/dev/null || { echo "http-audit: node is required" >&2; exit 2; }
command -v npm >/dev/null || { echo "http-audit: npm is required" >&2; exit 2; }

lib_tmp_term http-audit

# 1. The pinned graphql-http, exactly as the lockfile says.
if [[ "${HTTP_AUDIT_SKIP_NPM:-0}" != 1 ]]; then
    (cd "$HERE" && npm ci --silent --no-audit --no-fund)
fi

# 2. The server: temporary database, random key, port chosen by the OS. The audits send ~60
# requests in about a second with one token and query `__type`, so the per-token rate limit is
# raised and introspection kept on: what is audited is the HTTP handling, not those settings.
SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"   # 64 hex characters
LOG="$TMP/server.log"
: >"$LOG"   # exists before the server's shell opens it: the loop below reads it at once
(
    cd "$ROOT"
    exec env \
        DATABASE_URL="sqlite://$TMP/audit.db?mode=rwc" \
        CHIDAO_BIND=127.0.0.1:0 \
        CHIDAO_SEEDS="$ROOT/seeds" \
        JWT_SECRET="$SECRET" \
        CHIDAO_RATE_PER_MINUTE=100000 \
        CHIDAO_RATE_BURST=10000 \
        CHIDAO_INTROSPECTION=true \
        RUST_LOG="warn,chidao=info" \
        CHIDAO_LOG_FORMAT=text \
        NO_COLOR=1 \
        "$BIN" serve
) >"$LOG" 2>&1 </dev/null &
SERVER_PID=$!

PORT=""
deadline=$((SECONDS + READY_TIMEOUT_S))
while :; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "http-audit: chidao exited before it was ready; its log:" >&2
        cat "$LOG" >&2
        exit 2
    fi
    if [[ -z "$PORT" ]]; then
        PORT="$(sed -n 's#.*listening on http://[^ ]*:\([0-9][0-9]*\)/graphql.*#\1#p' "$LOG" | head -n1 || true)"
    fi
    if [[ -n "$PORT" ]] && node -e '
        fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
            .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));
    ' "http://127.0.0.1:$PORT/readyz"; then
        break
    fi
    if ((SECONDS >= deadline)); then
        echo "http-audit: chidao not ready after ${READY_TIMEOUT_S}s (port: ${PORT:-unknown}); its log:" >&2
        cat "$LOG" >&2
        exit 2
    fi
    sleep 0.2
done

TOKEN="$(JWT_SECRET="$SECRET" "$BIN" token --role admin --ttl 15m)"

# 3. The audits.
echo "http-audit: graphql-http $(node -p 'require(process.argv[1]).version' "$HERE/node_modules/graphql-http/package.json") against http://127.0.0.1:$PORT/graphql"
set +e
(
    cd "$HERE"
    CHIDAO_AUDIT_URL="http://127.0.0.1:$PORT/graphql" CHIDAO_AUDIT_TOKEN="$TOKEN" node audit.mjs
)
rc=$?
set -e
if ((rc != 0 && rc != 1)); then
    echo "http-audit: audit.mjs failed (exit $rc); server log:" >&2
    cat "$LOG" >&2
fi
exit "$rc"
