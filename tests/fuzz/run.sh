#!/usr/bin/env bash
# Bounded-time fuzzing of the GraphQL API with schemathesis (GraphQL mode, hypothesis-graphql
# underneath): queries AND mutations, generated from schema/schema.graphql, sent to a freshly
# started chidao on a throwaway SQLite database.
#
# Usage (from the repository root, after `cargo build`):
#     bash tests/fuzz/run.sh
# Environment:
#     FUZZ_SECONDS     fuzzing time budget, all passes together (default 60); the agency pass
#                      gets a third, the admin pass the rest
#     CHIDAO_BIN       the chidao binary (default target/debug/chidao, relative to the
#                      directory run.sh is called from)
#     FUZZ_SEED        seed for schemathesis, to replay a run (default: random, printed)
#     FUZZ_WORKERS     schemathesis workers per pass (default 1)
#     FUZZ_MODE        positive (default: documents valid for the schema, so the budget goes to
#                      the resolvers), negative (wrong-typed or missing arguments: async-graphql's
#                      validation) or all
#     FUZZ_SCHEMA      schema location: a path (default schema/schema.graphql) or `live` to
#                      introspect the running server
#     FUZZ_REPORT_DIR  where the JUnit reports, findings and stats go (default target/fuzz-report)
#     FUZZ_VENV        the virtualenv (default target/fuzz-venv); PYTHON: the interpreter that
#                      makes it (default python3, 3.10 or later)
#
# Fails (exit 1) when any response is an HTTP 5xx, is not JSON, or carries a GraphQL error with
# `extensions.code == "INTERNAL"` (see hooks.py), when schemathesis reports an error (e.g. a new
# custom scalar without a strategy, a dropped connection), or when the server died or logged a
# panic. Exit 2: the setup failed (no binary, no Python, server never ready).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$HERE/../lib.sh"
READY_TIMEOUT_S=60

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
[[ "$FUZZ_SECONDS" =~ ^[0-9]+$ ]] && ((FUZZ_SECONDS >= 2)) || { echo "fuzz: FUZZ_SECONDS must be an integer >= 2" >&2; exit 2; }
FUZZ_WORKERS="${FUZZ_WORKERS:-1}"
FUZZ_MODE="${FUZZ_MODE:-positive}"
BIN="${CHIDAO_BIN:-target/debug/chidao}"
[[ "$BIN" = /* ]] || BIN="$PWD/$BIN"
VENV="${FUZZ_VENV:-$ROOT/target/fuzz-venv}"
REPORT_DIR="${FUZZ_REPORT_DIR:-$ROOT/target/fuzz-report}"
SCHEMA="${FUZZ_SCHEMA:-$ROOT/schema/schema.graphql}"
PYTHON="${PYTHON:-python3}"
# schemathesis runs in a temporary directory: make the paths it is given absolute.
[[ "$REPORT_DIR" = /* ]] || REPORT_DIR="$PWD/$REPORT_DIR"
[[ "$SCHEMA" = /* || "$SCHEMA" == live ]] || SCHEMA="$PWD/$SCHEMA"

if [[ ! -x "$BIN" ]]; then
    echo "fuzz: no chidao binary at $BIN (run cargo build, or set CHIDAO_BIN)" >&2
    exit 2
fi
command -v "$PYTHON" >/dev/null || { echo "fuzz: $PYTHON is required" >&2; exit 2; }

started=$SECONDS
lib_tmp_term fuzz

# 1. The virtualenv, with the pinned packages; reinstalled only when requirements.txt changes.
REQS="$HERE/requirements.txt"
STAMP="$VENV/.chidao-fuzz-requirements"
if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$REQS" "$STAMP"; then
    echo "fuzz: installing $(grep -c '==' "$REQS") pinned packages into $VENV"
    if [[ -e "$VENV" && ! -f "$VENV/pyvenv.cfg" ]]; then
        echo "fuzz: $VENV exists and is not a virtualenv; not touching it" >&2
        exit 2
    fi
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQS"
    cp "$REQS" "$STAMP"
fi
ST="$VENV/bin/schemathesis"
echo "fuzz: $("$ST" --version), hypothesis-graphql $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("hypothesis-graphql"))')"

# 2. The server: temporary database, random key, port chosen by the OS, no rate limit (the
#    fuzzer sends far more than 600 requests a minute; a 429 would only hide the rest).
SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"   # 64 hex characters
LOG="$TMP/server.log"
(
    cd "$ROOT"
    exec env \
        DATABASE_URL="sqlite://$TMP/fuzz.db?mode=rwc" \
        CHIDAO_BIND=127.0.0.1:0 \
        CHIDAO_SEEDS="$ROOT/seeds" \
        CHIDAO_RATE_PER_MINUTE=0 \
        JWT_SECRET="$SECRET" \
        RUST_LOG="warn,chidao=info" \
        CHIDAO_LOG_FORMAT=text \
        NO_COLOR=1 \
        "$BIN" serve
) >"$LOG" 2>&1 </dev/null &
SERVER_PID=$!

ready() {  # GET /readyz answers 200
    "$VENV/bin/python" - "$1" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}

PORT=""
deadline=$((SECONDS + READY_TIMEOUT_S))
while :; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "fuzz: chidao exited before it was ready; its log:" >&2
        cat "$LOG" >&2
        exit 2
    fi
    if [[ -z "$PORT" ]]; then
        PORT="$(sed -n 's#.*listening on http://[^ ]*:\([0-9][0-9]*\)/graphql.*#\1#p' "$LOG" | head -n1)"
    fi
    if [[ -n "$PORT" ]] && ready "http://127.0.0.1:$PORT/readyz"; then
        break
    fi
    if ((SECONDS >= deadline)); then
        echo "fuzz: chidao not ready after ${READY_TIMEOUT_S}s (port: ${PORT:-unknown}); its log:" >&2
        cat "$LOG" >&2
        exit 2
    fi
    sleep 0.2
done
URL="http://127.0.0.1:$PORT/graphql"
TTL="$((FUZZ_SECONDS * 3 + 600))s"
ADMIN_TOKEN="$(JWT_SECRET="$SECRET" "$BIN" token --role admin --subject fuzz-admin --ttl "$TTL")"
AGENCY_TOKEN="$(JWT_SECRET="$SECRET" DATABASE_URL="sqlite://$TMP/fuzz.db?mode=rwc" "$BIN" token --role agency --agency so-tai-chinh --subject fuzz-agency --ttl "$TTL")"

# 3. The passes. The agency pass runs first: the admin pass fuzzes mergeAgencies, which may
#    dissolve so-tai-chinh and so void the agency token. The agency pass also asks for
#    `application/graphql-response+json` (spec status codes: 400 for a refused document),
#    the admin pass for plain JSON (200 for every well-formed request).
mkdir -p "$REPORT_DIR"
rm -f "$REPORT_DIR"/{agency,admin}-{stats,findings}.json "$REPORT_DIR"/{agency,admin}-junit.xml \
    "$REPORT_DIR"/findings.json "$REPORT_DIR"/server.log
if [[ "$SCHEMA" == live ]]; then SCHEMA="$URL"; fi
agency_s=$((FUZZ_SECONDS / 3))
admin_s=$((FUZZ_SECONDS - agency_s))

run_in() { local dir=$1; shift; (cd "$dir" && "$@"); }  # schemathesis writes to its cwd

rc=0
run_pass() {  # name token seconds accept
    local name=$1 token=$2 secs=$3 accept=$4
    local seed_args=()
    [[ -n "${FUZZ_SEED:-}" ]] && seed_args=(--seed "$FUZZ_SEED")
    echo
    echo "fuzz: pass '$name' for ${secs}s against $URL (Accept: $accept)"
    local prc=0
    # --max-time bounds generation; `timeout` bounds everything else (shrinking a failure,
    # a hung request) so that CI never waits for more than a minute past the budget.
    CHIDAO_FUZZ_URL="$URL" \
    CHIDAO_FUZZ_HARVEST_TOKEN="$ADMIN_TOKEN" \
    CHIDAO_FUZZ_TOKEN="$token" \
    CHIDAO_FUZZ_STATS="$REPORT_DIR/$name-stats.json" \
    CHIDAO_FUZZ_FINDINGS="$REPORT_DIR/$name-findings.json" \
    SCHEMATHESIS_HOOKS="$HERE/hooks.py" \
    PYTHONDONTWRITEBYTECODE=1 \
    run_in "$TMP" timeout --kill-after=10 "$((secs + 60))" \
        "$ST" --config-file "$HERE/schemathesis.toml" run "$SCHEMA" \
            --url "$URL" \
            -H "Authorization: Bearer $token" \
            -H "Accept: $accept" \
            --checks chidao_no_server_error,response_schema_conformance \
            --max-time "$secs" \
            --mode "$FUZZ_MODE" \
            --workers "$FUZZ_WORKERS" \
            --request-timeout 40 \
            --no-color \
            --report junit --report-junit-path "$REPORT_DIR/$name-junit.xml" \
            "${seed_args[@]}" \
        || prc=$?
    if ((prc == 124 || prc == 137)); then
        echo "fuzz: pass '$name' overran its time budget and was stopped" >&2
    fi
    if ((prc != 0)); then
        echo "fuzz: pass '$name' FAILED (schemathesis exit $prc)" >&2
        rc=1
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "fuzz: the server DIED during pass '$name'" >&2
        rc=1
        return 1
    fi
}

run_pass agency "$AGENCY_TOKEN" "$agency_s" "application/graphql-response+json" || true
if kill -0 "$SERVER_PID" 2>/dev/null; then
    run_pass admin "$ADMIN_TOKEN" "$admin_s" "application/json" || true
fi

# 4. After the passes: still alive and ready, and no panic in the log.
if kill -0 "$SERVER_PID" 2>/dev/null; then
    if ! ready "http://127.0.0.1:$PORT/readyz"; then
        echo "fuzz: the server is alive but /readyz is no longer 200" >&2
        rc=1
    fi
else
    echo "fuzz: the server is not running any more" >&2
    rc=1
fi
if grep -qiE 'panicked|resolver panicked' "$LOG"; then
    echo "fuzz: the server log has a panic:" >&2
    grep -iE -A3 'panicked' "$LOG" | head -n 40 >&2
    rc=1
fi
cp "$LOG" "$REPORT_DIR/server.log"

# 5. The summary: requests per pass, statuses, error codes, every distinct failure.
"$VENV/bin/python" - "$REPORT_DIR" "$((SECONDS - started))" <<'EOF'
import json, os, sys
d, elapsed = sys.argv[1], sys.argv[2]
total = 0
findings = []
print()
print("fuzz: summary")
for name in ("agency", "admin"):
    p = os.path.join(d, f"{name}-stats.json")
    if not os.path.exists(p):
        continue
    s = json.load(open(p))
    total += s["requests"]
    print(f"  {name}: {s['requests']} requests over {s['operations']} operations; HTTP {s['statuses']}; "
          f"error codes {s['error_codes']}; slowest {s['slowest_seconds']}s")
    never = s["operations_never_answered_without_error"]
    if never:
        print(f"    never answered without an error: {', '.join(never)}")
    fp = os.path.join(d, f"{name}-findings.json")
    if os.path.exists(fp):
        findings += [dict(f, role=name) for f in json.load(open(fp))]
print(f"  total: {total} requests in {elapsed}s (setup included)")
if findings:
    print(f"  {len(findings)} distinct failure(s):")
    for f in findings:
        print(f"  - [{f['role']}] {f['kind']} in {f['operation']} (x{f['count']}): {f['detail'][:200]}")
        print("    query:    " + f["query"].replace("\n", "\n              "))
        print("    response: " + f"HTTP {f['status']} " + f["response"][:600])
observations = {}
for name in ("agency", "admin"):
    p = os.path.join(d, f"{name}-stats.json")
    if os.path.exists(p):
        for o in json.load(open(p)).get("observations", []):
            seen = observations.setdefault(o["kind"], dict(o, role=name, operations=set(), count=0))
            seen["operations"].add(o["operation"])
            seen["count"] += o["count"]
            if len(o["query"]) < len(seen["query"]):
                seen.update(query=o["query"], response=o["response"], detail=o["detail"], role=name)
if observations:
    print("  observations (spec deviations; reported, not failing):")
    for o in observations.values():
        print(f"  - {o['kind']}: {o['count']} responses, {len(o['operations'])} operations; shortest [{o['role']}] {o['detail'][:150]}")
        print("    query:    " + o["query"].replace("\n", "\n              "))
        print("    response: " + f"HTTP {o['status']} " + o["response"][:400])
with open(os.path.join(d, "findings.json"), "w") as fd:
    json.dump(findings, fd, ensure_ascii=False, indent=1)
EOF

echo "fuzz: reports in $REPORT_DIR"
if ((rc == 0)); then
    echo "fuzz: PASSED"
else
    echo "fuzz: FAILED"
fi
exit "$rc"
