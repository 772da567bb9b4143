#!/usr/bin/env bash
# chidao against a real OpenID provider: panva's oidc-provider (versions pinned in package.json
# and package-lock.json) issues RS256 and ES256 access tokens with chidao's claims through the
# client_credentials grant, and chidao fetches its keys by OpenID discovery (JWT_OIDC_ISSUER) and,
# in a second phase, by JWKS URL (JWT_JWKS_URL). Each phase checks: RS256 and ES256 tokens
# accepted; a token for an unknown agency and tokens signed by keys outside the JWKS refused;
# a key rotation (the provider restarted with new keys) picked up without restarting chidao,
# the removed key's token refused; the provider stopped and the current token still accepted.
# A third phase starts chidao while the provider is down: it serves, refuses provider tokens
# and is not ready until the provider comes up, then accepts them.
#
# Usage (from anywhere):  bash tests/oidc/run.sh
# Environment:
#     CHIDAO_BIN      the chidao binary (default: `cargo build`, then target/debug/chidao)
#     OIDC_SKIP_NPM   1: skip `npm ci` (node_modules already installed from the lockfile)
#     OIDC_KEEP       1: keep the temporary folder (logs, databases) and print its path
# Prints one line per check with the HTTP status seen; exits non-zero when any check fails.
# Both servers are always stopped and the temporary files removed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
START=$SECONDS
RESOURCE="urn:laocai:chidao"   # the resource indicator: the tokens' `aud`, chidao's JWT_AUDIENCE

command -v node >/dev/null || { echo "oidc: node is required" >&2; exit 2; }
command -v npm >/dev/null || { echo "oidc: npm is required" >&2; exit 2; }
command -v curl >/dev/null || { echo "oidc: curl is required" >&2; exit 2; }

if [[ -z "${CHIDAO_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build -q)
    CHIDAO_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/chidao"
fi
[[ "$CHIDAO_BIN" = /* ]] || CHIDAO_BIN="$PWD/$CHIDAO_BIN"
[[ -x "$CHIDAO_BIN" ]] || { echo "oidc: no chidao binary at $CHIDAO_BIN" >&2; exit 2; }
if [[ "${OIDC_SKIP_NPM:-0}" != 1 ]]; then
    (cd "$HERE" && npm ci --silent --no-audit --no-fund)
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/chidao-oidc.XXXXXX")"
PROVIDER_PID=""
CHIDAO_PID=""
PASSED=0
FAILED=0

# stop PID: SIGTERM, up to 5 s to exit, then SIGKILL.
stop() {
    local pid=$1
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    set +e
    stop "$CHIDAO_PID"
    stop "$PROVIDER_PID"
    if [[ "${OIDC_KEEP:-0}" == 1 ]]; then echo "oidc: kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# wait_for_line FILE PATTERN PID WHAT: waits (15 s at most) for PATTERN in FILE while PID lives.
wait_for_line() {
    local file=$1 pattern=$2 pid=$3 what=$4 deadline=$((SECONDS + 15))
    until grep -q "$pattern" "$file" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
            echo "oidc: $what did not start; its log:" >&2
            cat "$file" >&2
            exit 2
        fi
        sleep 0.1
    done
}

# start_provider GENERATION: the provider on $PPORT with a new RS256 and ES256 key (kids
# rsa-GENERATION, ec-GENERATION).
start_provider() {
    local log="$TMP/provider-$1.log"
    (cd "$HERE" && exec node provider.mjs "$PPORT" "$1") >"$log" 2>&1 </dev/null &
    PROVIDER_PID=$!
    wait_for_line "$log" '^listening' "$PROVIDER_PID" "the provider ($1)"
}

stop_provider() {
    stop "$PROVIDER_PID"
    PROVIDER_PID=""
}

# start_chidao NAME VAR=VALUE...: chidao on a free port over a fresh SQLite database, with the
# provider's audience, an unknown-kid refetch interval of 1 s (instead of 30) so the rotation
# needs no long wait, and the given settings. Sets CHIDAO_URL.
start_chidao() {
    local name=$1
    shift
    local log="$TMP/chidao-$name.log"
    (
        cd "$ROOT"
        exec env DATABASE_URL="sqlite://$TMP/$name.db?mode=rwc" CHIDAO_BIND=127.0.0.1:0 \
            CHIDAO_SEEDS="$ROOT/seeds" JWT_AUDIENCE="$RESOURCE" JWT_JWKS_MIN_REFETCH_SECS=1 \
            CHIDAO_RATE_PER_MINUTE=0 CHIDAO_DEV=0 RUST_LOG="warn,chidao=info,api::auth=info" \
            CHIDAO_LOG_FORMAT=text NO_COLOR=1 "$@" "$CHIDAO_BIN" serve
    ) >"$log" 2>&1 </dev/null &
    CHIDAO_PID=$!
    wait_for_line "$log" 'listening on http://' "$CHIDAO_PID" "chidao ($name)"
    CHIDAO_URL="http://127.0.0.1:$(sed -n 's#.*listening on http://[^ ]*:\([0-9][0-9]*\)/graphql.*#\1#p' "$log" | head -n1)"
}

stop_chidao() {
    stop "$CHIDAO_PID"
    CHIDAO_PID=""
}

# mint CLIENT: an access token from the provider (client_credentials, for chidao's resource).
mint() {
    curl -sS --max-time 5 -d grant_type=client_credentials -d "client_id=$1" \
        -d "client_secret=secret-of-$1" -d "resource=$RESOURCE" "http://127.0.0.1:$PPORT/token" |
        node -e 'const b = JSON.parse(require("fs").readFileSync(0, "utf8")); if (!b.access_token) { console.error(JSON.stringify(b)); process.exit(1); } console.log(b.access_token);'
}

# rogue KID [ALG]: a token with the provider's issuer and audience, signed by a key it never had.
rogue() {
    (cd "$HERE" && node mint.mjs rogue "$1" "$ISSUER" "$RESOURCE" "${2:-RS256}")
}

# kid_of TOKEN: the `kid` of a token's header, for the check's label.
kid_of() {
    node -e 'console.log(JSON.parse(Buffer.from(process.argv[1].split(".")[0], "base64url")).kid)' "$1"
}

record() { # record OK LINE
    if [[ "$1" == 1 ]]; then PASSED=$((PASSED + 1)); echo "PASS $2"; else FAILED=$((FAILED + 1)); echo "FAIL $2"; fi
}

# check PHASE LABEL EXPECTED_STATUS EXPECTED_ME TOKEN: POSTs `{ me { role subject agency { code } } }`
# with the token; EXPECTED_ME is "ROLE subject agency-code" for a 200 (what `me` must answer).
check() {
    local phase=$1 label=$2 want=$3 want_me=$4 token=$5 body="$TMP/body.json" status seen
    status=$(curl -sS --max-time 10 -o "$body" -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $token" -d '{"query":"{ me { role subject agency { code } } }"}' \
        "$CHIDAO_URL/graphql") || status=000
    seen=$(node -e '
        let b; try { b = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch { console.log("(no JSON)"); process.exit(); }
        const me = b.data && b.data.me;
        console.log(me ? [me.role, me.subject, me.agency ? me.agency.code : "-"].join(" ")
                       : (b.errors || []).map((e) => (e.extensions || {}).code + ": " + e.message).join("; "));
    ' "$body")
    local ok=0
    if [[ "$status" == "$want" ]] && { [[ "$want" != 200 ]] || [[ "$seen" == "$want_me" ]]; }; then ok=1; fi
    record "$ok" "[$phase] $label (kid $(kid_of "$token")): HTTP $status, want $want — $seen"
}

# ready PHASE LABEL EXPECTED_STATUS EXPECTED_KEYS: GET /readyz.
ready() {
    local phase=$1 label=$2 want=$3 want_keys=$4 body="$TMP/ready.json" status keys
    status=$(curl -sS --max-time 10 -o "$body" -w '%{http_code}' "$CHIDAO_URL/readyz") || status=000
    keys=$(node -e 'try { console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).keys); } catch { console.log("?"); }' "$body")
    local ok=0
    [[ "$status" == "$want" && "$keys" == "$want_keys" ]] && ok=1
    record "$ok" "[$phase] $label: /readyz HTTP $status, keys $keys (want $want, $want_keys)"
}

# phase NAME GEN_BEFORE GEN_AFTER VAR=VALUE...: the checks against one configuration.
phase() {
    local name=$1 g1=$2 g2=$3
    shift 3
    start_provider "$g1"
    start_chidao "$name" "$@"
    ready "$name" "started with the provider up" 200 ok

    local rs es stc ghost
    rs=$(mint admin-rs)
    es=$(mint monitor-es)
    stc=$(mint stc-es)
    ghost=$(mint ghost-rs)
    check "$name" "RS256 token accepted" 200 "ADMIN admin-rs -" "$rs"
    check "$name" "ES256 token accepted" 200 "MONITOR monitor-es -" "$es"
    check "$name" "ES256 agency token accepted" 200 "AGENCY stc-es so-tai-chinh" "$stc"
    check "$name" "token for an agency not in chidao refused" 401 "" "$ghost"
    check "$name" "token signed by a key not in the JWKS refused" 401 "" "$(rogue "rsa-not-$g1")"
    check "$name" "token signed by another key under the provider's kid refused" 401 "" "$(rogue "rsa-$g1")"
    check "$name" "ES256 token by another key under the provider's kid refused" 401 "" "$(rogue "ec-$g1" ES256)"

    # Rotation: the provider restarts with new keys; chidao is not restarted.
    stop_provider
    start_provider "$g2"
    local rs2 es2
    rs2=$(mint admin-rs)
    es2=$(mint monitor-es)
    sleep 1.1   # JWT_JWKS_MIN_REFETCH_SECS=1 since the last fetch (the rogue kid's)
    check "$name" "after rotation, RS256 token with the new kid accepted" 200 "ADMIN admin-rs -" "$rs2"
    check "$name" "after rotation, ES256 token with the new kid accepted" 200 "MONITOR monitor-es -" "$es2"
    check "$name" "after rotation, token of the removed key refused" 401 "" "$rs"

    # The provider goes away: the last good set stays in use.
    stop_provider
    sleep 1.1   # let the unknown-kid fetch below be tried (and fail)
    check "$name" "provider down, token with an unknown kid refused" 401 "" "$(rogue "rsa-after-$g2")"
    ready "$name" "provider down, last good set kept" 200 stale
    check "$name" "provider down, current RS256 token still accepted" 200 "ADMIN admin-rs -" "$rs2"
    check "$name" "provider down, current ES256 token still accepted" 200 "MONITOR monitor-es -" "$es2"
    LAST_TOKEN=$rs2
    stop_chidao
}

PPORT=$(free_port)
ISSUER="http://127.0.0.1:$PPORT"
echo "oidc: oidc-provider $(node -p 'require(process.argv[1]).version' "$HERE/node_modules/oidc-provider/package.json") at $ISSUER, chidao $CHIDAO_BIN"

phase discovery g1 g2 JWT_OIDC_ISSUER="$ISSUER"
phase jwks-url g3 g4 JWT_JWKS_URL="$ISSUER/jwks" JWT_ISSUER="$ISSUER"

# Start-up with the provider down: chidao serves, but is not ready and refuses provider tokens
# until a retry (1 s, 2 s, 4 s, … after the failed start-up fetch) finds the keys.
start_chidao startup JWT_OIDC_ISSUER="$ISSUER"
ready startup "started with the provider down" 503 unavailable
check startup "provider down since start-up, token refused" 401 "" "$LAST_TOKEN"
start_provider g5
deadline=$((SECONDS + 20))
until curl -sf -o /dev/null --max-time 2 "$CHIDAO_URL/readyz" || ((SECONDS >= deadline)); do sleep 0.2; done
ready startup "provider up, keys fetched by a retry" 200 ok
check startup "provider up, RS256 token accepted" 200 "ADMIN admin-rs -" "$(mint admin-rs)"
stop_chidao
stop_provider

echo "oidc: $PASSED passed, $FAILED failed in $((SECONDS - START))s"
((FAILED == 0))
