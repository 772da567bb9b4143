#!/usr/bin/env bash
# GraphiQL in a real headless browser with the network blocked: Debian's Chromium, driven by
# playwright-core (pinned in package.json / package-lock.json), against a freshly started chidao.
# It checks that the page renders from chidao's own assets with no CSP violation, console
# error or request to anywhere but this machine, that a query with a pasted token returns
# data, that Docs lists `Query`, and that a subscription over /graphql/ws hears an event.
#
# Usage (from any folder):
#     bash tests/browser/run.sh
# Environment:
#     CHIDAO_BIN              the chidao binary to test (default: `cargo build`, then
#                             target/debug/chidao under CARGO_TARGET_DIR or the repository)
#     BROWSER_TEST_SKIP_NPM   1: skip `npm ci` (node_modules already installed from the lockfile)
#
# Installs Debian's `chromium` with apt-get when /usr/bin/chromium is missing (as root). Starts
# chidao on a free port (CHIDAO_BIND=127.0.0.1:0) with a temporary SQLite database and a random
# 48-byte JWT_SECRET, signs an admin token with `chidao token`, and runs graphiql.mjs, which
# prints one line per check and writes tests/browser/out/graphiql.png. Exits non-zero when a
# check fails; chidao and the temporary files are always removed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
READY_TIMEOUT_S=60
CHROMIUM=/usr/bin/chromium
START=$SECONDS
source "$HERE/../lib.sh"

say() { echo "browser-test: $*"; }

command -v node >/dev/null || { echo "browser-test: node is required" >&2; exit 2; }
command -v npm >/dev/null || { echo "browser-test: npm is required" >&2; exit 2; }

# 1. Debian's Chromium (playwright-core drives it; it downloads no browser of its own).
if [[ ! -x "$CHROMIUM" ]]; then
    if [[ "$(id -u)" != 0 ]]; then
        echo "browser-test: $CHROMIUM is missing; install Debian's chromium (apt-get install chromium) as root" >&2
        exit 2
    fi
    say "installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
say "$("$CHROMIUM" --version 2>/dev/null | head -n1)"

# 2. playwright-core, exactly as the lockfile says.
if [[ "${BROWSER_TEST_SKIP_NPM:-0}" != 1 ]]; then
    (cd "$HERE" && npm ci --silent --no-audit --no-fund)
fi

# 3. chidao.
if [[ -n "${CHIDAO_BIN:-}" ]]; then
    BIN="$CHIDAO_BIN"
    [[ "$BIN" = /* ]] || BIN="$PWD/$BIN"
else
    say "cargo build"
    (cd "$ROOT" && cargo build -q)
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/chidao"
fi
[[ -x "$BIN" ]] || { echo "browser-test: no chidao binary at $BIN" >&2; exit 2; }

done_in() { say "done in $((SECONDS - START))s (exit $1)"; }
lib_tmp_term browser done_in

# A fresh key of 48 random bytes, as hex, for this run only.
SECRET="$(od -An -N48 -tx1 /dev/urandom | tr -d ' \n')"

# The default limits, as a deployment has them: Docs must load under them (introspection is
# measured apart from data: CHIDAO_MAX_INTROSPECTION_DEPTH).
LIMITS="the default limits"
say "limits: $LIMITS"
LOG="$TMP/server.log"
: >"$LOG"   # exists before the server's shell opens it: the loop below reads it at once
(
    cd "$TMP"   # the binary serves the page from any folder: its assets are embedded
    exec env \
        DATABASE_URL="sqlite://$TMP/browser.db?mode=rwc" \
        CHIDAO_BIND=127.0.0.1:0 \
        CHIDAO_SEEDS="$ROOT/seeds" \
        JWT_SECRET="$SECRET" \
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
        echo "browser-test: chidao exited before it was ready; its log:" >&2
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
        echo "browser-test: chidao not ready after ${READY_TIMEOUT_S}s (port: ${PORT:-unknown}); its log:" >&2
        cat "$LOG" >&2
        exit 2
    fi
    sleep 0.2
done

TOKEN="$(JWT_SECRET="$SECRET" "$BIN" token --role admin --ttl 15m)"
say "chidao on http://127.0.0.1:$PORT, playwright-core $(node -p 'require(process.argv[1]).version' "$HERE/node_modules/playwright-core/package.json")"

# 4. The browser.
set +e
(
    cd "$HERE"
    CHIDAO_URL="http://127.0.0.1:$PORT" CHIDAO_TOKEN="$TOKEN" CHROMIUM="$CHROMIUM" \
        CHIDAO_LIMITS="$LIMITS" node graphiql.mjs
)
rc=$?
set -e
if ((rc != 0)); then
    echo "browser-test: failed (exit $rc); chidao's log:" >&2
    tail -n 40 "$LOG" >&2
fi
exit "$rc"
