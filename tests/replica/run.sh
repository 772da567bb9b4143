#!/usr/bin/env bash
# Reads from a streaming replica (issue #24, DATABASE_READ_URL): a primary cluster of its own
# (initdb, on a free port) and a hot standby made from it with `pg_basebackup -R` (another port),
# both under a temporary folder and stopped at the end; chidao on the primary with
# DATABASE_READ_URL on the standby. check_replica.py then shows: query requests read the replica
# (with its replay paused they see the old rows); a caller reads its own writes (through the
# primary while the replica is paused, through the replica once it has replayed); kept
# answers (whole queries, taskStatistics) are computed on the primary, never stale; the replica going down and coming back; and it prints
# the replica lag seen and what the routing costs per request, against a second chidao without a
# replica on the same primary.
# Usage: bash tests/replica/run.sh   (CHIDAO_BIN picks the binary; default `cargo build`)
# Needs PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup: Debian's postgresql package).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$HERE/../lib.sh"
LIB_NAME=replica
say() { echo "replica: $*"; }

PGBIN="${PGBIN:-/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -1)/bin}"
[[ -x "$PGBIN/initdb" && -x "$PGBIN/pg_basebackup" ]] || { echo "replica: no PostgreSQL server binaries in $PGBIN" >&2; exit 2; }
# PostgreSQL's tools refuse to run as root: the clusters belong to the postgres user then.
if [[ $(id -u) == 0 ]]; then AS=(runuser -u postgres --); else AS=(); fi

stop_clusters() {
    for c in replica primary; do
        [[ -f "$TMP/$c/postmaster.pid" ]] && "${AS[@]}" "$PGBIN/pg_ctl" -D "$TMP/$c" -m immediate stop >/dev/null 2>&1
    done
    [[ -n "${PLAIN_PID:-}" ]] && kill "$PLAIN_PID" 2>/dev/null
    [[ -n "${KEPT_PID:-}" ]] && kill "$KEPT_PID" 2>/dev/null
    return 0
}
lib_pydeps replica "$HERE/requirements.txt"
lib_bin
lib_tmp_term replica stop_clusters
chmod 755 "$TMP"
[[ $(id -u) == 0 ]] && chown postgres "$TMP"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port)

"${AS[@]}" "$PGBIN/initdb" -D "$TMP/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log"
cat >>"$TMP/primary/postgresql.conf" <<EOF
port = $P1
listen_addresses = '127.0.0.1'
unix_socket_directories = '$TMP'
wal_level = replica
max_wal_senders = 4
shared_buffers = 32MB
fsync = off
EOF
"${AS[@]}" "$PGBIN/pg_ctl" -D "$TMP/primary" -l "$TMP/primary.log" -w start >/dev/null
"${AS[@]}" psql -X -q -h 127.0.0.1 -p "$P1" -U postgres -d postgres -c "CREATE DATABASE chidao"
"${AS[@]}" "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U postgres -D "$TMP/replica" -R -X stream
echo "port = $P2" >>"$TMP/replica/postgresql.conf"
"${AS[@]}" "$PGBIN/pg_ctl" -D "$TMP/replica" -l "$TMP/replica.log" -w start >/dev/null
say "primary on $P1, standby (pg_basebackup -R) on $P2: in recovery = $(psql -XAtq -h 127.0.0.1 -p "$P2" -U postgres -d postgres -c 'select pg_is_in_recovery()')"

PRIMARY="postgres://postgres@127.0.0.1:$P1/chidao?sslmode=disable"
REPLICA="postgres://postgres@127.0.0.1:$P2/chidao?sslmode=disable"
SECRET="$(od -An -N48 -tx1 /dev/urandom | tr -d ' \n')"

# A standby is required: the primary given as DATABASE_READ_URL is refused at start.
if DATABASE_URL="$PRIMARY" DATABASE_READ_URL="$PRIMARY" JWT_SECRET="$SECRET" CHIDAO_BIND=127.0.0.1:0 \
    CHIDAO_SEEDS="$ROOT/seeds" timeout 60 "$BIN" serve >"$TMP/refused.log" 2>&1; then
    echo "replica: a primary as DATABASE_READ_URL was accepted" >&2; exit 1
fi
grep -q "not a standby" "$TMP/refused.log" || { cat "$TMP/refused.log" >&2; exit 1; }
say "a primary as DATABASE_READ_URL is refused: $(grep -o 'DATABASE_READ_URL is not a standby[^:]*' "$TMP/refused.log" | head -1)"

lib_serve "$TMP/plain.log" DATABASE_URL="$PRIMARY" JWT_SECRET="$SECRET" CHIDAO_RATE_PER_MINUTE=0 CHIDAO_STATISTICS_REUSE_SECS=0
PLAIN_PID=$SERVER_PID PLAIN_PORT=$PORT
# Answers reused (the default), with the replica: what will be kept is computed on the primary.
lib_serve "$TMP/kept.log" DATABASE_URL="$PRIMARY" DATABASE_READ_URL="$REPLICA" JWT_SECRET="$SECRET" \
    CHIDAO_RATE_PER_MINUTE=0 CHIDAO_REPLICA_WAIT_MS=300
KEPT_PID=$SERVER_PID KEPT_PORT=$PORT
# Every answer computed, with the replica: every query request is routed.
lib_serve "$TMP/server.log" DATABASE_URL="$PRIMARY" DATABASE_READ_URL="$REPLICA" JWT_SECRET="$SECRET" \
    CHIDAO_RATE_PER_MINUTE=0 CHIDAO_REPLICA_WAIT_MS=300 CHIDAO_STATISTICS_REUSE_SECS=0
tok() { DATABASE_URL="$PRIMARY" JWT_SECRET="$SECRET" "$BIN" token --ttl 30m --role admin --subject "$1"; }
WRITER="$(tok writer-a)" READER="$(tok reader-b)"
export P1 P2 TMP PGBIN
PYTHONPATH="$PYDEPS" PYTHONNOUSERSITE=1 python3 "$HERE/check_replica.py" "http://127.0.0.1:$PORT" "http://127.0.0.1:$PLAIN_PORT" "$WRITER" "$READER" \
    "${AS[*]:-}" "http://127.0.0.1:$KEPT_PORT"
say "passed"
