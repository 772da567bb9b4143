#!/usr/bin/env bash
# Transparent huge pages are off for chidao unless CHIDAO_HUGE_PAGES=true (issue #24: idle
# resident memory ≤ 30 MB). mimalloc maps its arenas aligned, so on a machine whose THP setting is
# `always` (Debian's default) every 2 MB of heap that holds anything is resident whole. This starts
# chidao twice on a fresh SQLite file and reads /proc/PID/status (`THP_enabled`) and
# /proc/PID/smaps_rollup (`AnonHugePages`, `Rss`) once it is idle.
# Usage: bash tests/memory/run.sh   (CHIDAO_BIN picks the binary; default `cargo build`)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$HERE/../lib.sh"
LIB_NAME=memory
say() { echo "memory: $*"; }

if ! grep -q '^THP_enabled:' /proc/self/status 2>/dev/null; then
    say "SKIPPED: this kernel does not report THP_enabled in /proc/PID/status (Linux 6.x does)"
    exit 0
fi
lib_bin
lib_tmp_term memory
SECRET="$(head -c 48 /dev/urandom | base64)"

field() { sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "$1"; } # FILE FIELD -> number
check() { # HUGE_PAGES EXPECTED_THP_ENABLED
    lib_serve "$TMP/server-$1.log" DATABASE_URL="sqlite://$TMP/$1.db?mode=rwc" JWT_SECRET="$SECRET" CHIDAO_HUGE_PAGES="$1"
    sleep 1
    local thp huge rss
    thp=$(field "/proc/$SERVER_PID/status" THP_enabled)
    huge=$(field "/proc/$SERVER_PID/smaps_rollup" AnonHugePages)
    rss=$(field "/proc/$SERVER_PID/smaps_rollup" Rss)
    say "CHIDAO_HUGE_PAGES=$1: THP_enabled $thp, AnonHugePages $huge kB, Rss $rss kB"
    [[ "$thp" == "$2" ]] || { say "THP_enabled is $thp, expected $2"; exit 1; }
    if [[ "$1" == false ]] && (( huge > 0 )); then
        say "$huge kB of huge pages with them turned off (none: the server executes itself again with the flag on)"; exit 1
    fi
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}
check false 0
check true "$(field /proc/self/status THP_enabled)"
say "passed"
