# Shared prelude of the tests/*/run.sh scripts. Sourced, never run:
#     source "$HERE/../lib.sh"
# after the script's `set -euo pipefail` and its ROOT (the repository). It sets no shell option.
# Call every function directly, never in `$(...)` or a pipeline: they set the caller's variables,
# and lib_serve's server must be a child of the caller's shell (SERVER_PID is waited for there).
#
# lib_pydeps NAME REQFILE
#     Sets PYDEPS to $ROOT/target/pydeps-NAME/<first 12 hex of REQFILE's sha256> and, unless it
#     holds a .installed marker, pip-installs REQFILE's pinned packages there (--no-deps
#     --target) and writes the marker. Use with PYTHONPATH="$PYDEPS" PYTHONNOUSERSITE=1.
# lib_bin
#     Sets BIN to CHIDAO_BIN when set (as given), else runs `cargo build -q` in $ROOT and sets BIN
#     to ${CARGO_TARGET_DIR:-$ROOT/target}/debug/chidao.
# lib_tmp
#     Sets TMP to a new `mktemp -d` folder and SERVER_PID to "", and traps EXIT to lib_cleanup:
#     kill SERVER_PID (when set) and wait for it, then remove TMP. A script with more to stop
#     re-traps EXIT, e.g. trap 'kill $OTHER_PID 2>/dev/null; lib_cleanup' EXIT.
# lib_tmp_term NAME [FUNC]
#     Sets TMP to a new ${TMPDIR:-/tmp}/chidao-NAME.XXXXXX folder and SERVER_PID to "", and traps
#     EXIT to lib_cleanup_term: SIGTERM to SERVER_PID (when alive), up to 5 s to exit, SIGKILL,
#     wait; remove TMP; call FUNC (if given) with the exit status; exit with that status. INT
#     exits 130 and TERM 143, through the same cleanup.
# lib_serve LOGFILE VAR=VALUE...
#     Starts `$BIN serve` in the background with CHIDAO_BIND=127.0.0.1:0,
#     CHIDAO_SEEDS=$ROOT/seeds, RUST_LOG=warn,chidao=info, NO_COLOR=1 and then the given VAR=VALUE
#     settings (DATABASE_URL, JWT_SECRET, …; a later one wins), its output in LOGFILE. Sets
#     SERVER_PID, then polls (300 × 0.2 s) LOGFILE for `listening on http://…:PORT/graphql` and
#     GET /readyz with curl until it answers. Sets PORT. Exits 2 with the log on stderr when the
#     server dies first, or when no port was logged in time ("$LIB_NAME: chidao not ready").
# LIB_NAME: the prefix of lib_serve's message (e.g. clients); the script sets it (default chidao).

lib_pydeps() {
    local name=$1 req=$2
    PYDEPS="$ROOT/target/pydeps-$name/$(sha256sum "$req" | cut -c1-12)"
    if [[ ! -f "$PYDEPS/.installed" ]]; then
        mkdir -p "$PYDEPS"
        python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$PYDEPS" -r "$req"
        touch "$PYDEPS/.installed"
    fi
}

lib_bin() {
    if [[ -n "${CHIDAO_BIN:-}" ]]; then
        BIN="$CHIDAO_BIN"
    else
        (cd "$ROOT" && cargo build -q)
        BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/chidao"
    fi
}

lib_tmp() {
    TMP="$(mktemp -d)"
    SERVER_PID=""
    trap lib_cleanup EXIT
}

lib_cleanup() {
    # A server that exits non-zero on SIGTERM must not stop the cleanup (set -e).
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}

lib_tmp_term() {
    TMP="$(mktemp -d "${TMPDIR:-/tmp}/chidao-$1.XXXXXX")"
    SERVER_PID=""
    LIB_ON_EXIT="${2:-}"
    trap lib_cleanup_term EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

lib_cleanup_term() {
    local rc=$?
    set +e
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
    [[ -z "$LIB_ON_EXIT" ]] || "$LIB_ON_EXIT" "$rc"
    exit "$rc"
}

lib_serve() {
    local log=$1
    shift
    : >"$log"   # exists before the server's shell opens it: the loop below reads it at once
    env CHIDAO_BIND=127.0.0.1:0 CHIDAO_SEEDS="$ROOT/seeds" RUST_LOG="warn,chidao=info" NO_COLOR=1 "$@" \
        "$BIN" serve >"$log" 2>&1 </dev/null &
    SERVER_PID=$!
    PORT=""
    for _ in $(seq 1 300); do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; exit 2; }
        PORT="$(sed -n 's#.*listening on http://[^ ]*:\([0-9][0-9]*\)/graphql.*#\1#p' "$log" | head -n1 || true)"
        [[ -n "$PORT" ]] && curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break
        sleep 0.2
    done
    [[ -n "$PORT" ]] || { echo "${LIB_NAME:-chidao}: chidao not ready" >&2; cat "$log" >&2; exit 2; }
}
