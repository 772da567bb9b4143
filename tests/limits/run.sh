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
source "$HERE/../lib.sh"
LIB_NAME=limits
lib_bin
lib_tmp
SECRET="$(od -An -N48 -tx1 /dev/urandom | tr -d ' \n')"

measure() { # NAME DATABASE_URL
    lib_serve "$TMP/$1.log" DATABASE_URL="$2" JWT_SECRET="$SECRET"
    echo "limits: $1 (chidao on port $PORT)"
    local token
    token="$(DATABASE_URL="$2" JWT_SECRET="$SECRET" "$BIN" token --role admin --ttl 15m)"
    python3 "$HERE/heaviest.py" "http://127.0.0.1:$PORT/graphql" "$token" "$SERVER_PID"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

measure "the seeded data" "sqlite://$TMP/seeded.db?mode=rwc"
DATABASE_URL="sqlite://$TMP/synthetic.db?mode=rwc" CHIDAO_SEEDS="$ROOT/seeds" "$BIN" seed --synthetic >/dev/null
measure "the synthetic scale-1 data" "sqlite://$TMP/synthetic.db?mode=rwc"
