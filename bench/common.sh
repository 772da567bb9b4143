# Shared settings for the chidao benchmark scripts (sourced, not run). Override any in the environment.
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
BENCH_DB="${BENCH_DB:-chidao_bench}"
export PGUSER="${PGUSER:-postgres}" PGDATABASE="$BENCH_DB"
# All three clients talk plain TCP to the local server: node-postgres (PostGraphile) does not use
# TLS unless asked, while libpq (pgbench) and sqlx (chidao) would negotiate it with a server that
# has ssl=on (Debian's default), encrypting every loopback round trip on both sides.
export PGSSLMODE="${PGSSLMODE:-disable}"
DATABASE_URL="${BENCH_DATABASE_URL:-postgres://$PGUSER@$PGHOST:$PGPORT/$BENCH_DB?sslmode=$PGSSLMODE}"
CHIDAO_PORT="${CHIDAO_PORT:-8088}"
CHIDAO_URL="http://127.0.0.1:$CHIDAO_PORT/graphql"
PGL_HOST="${PGL_HOST:-127.0.0.1}"
PGL_PORT="${PGL_PORT:-5678}"
PGL_URL="${PGL_URL:-http://$PGL_HOST:$PGL_PORT/graphql}"
DURATION="${DURATION:-10}"
CONCURRENCY="${CONCURRENCY:-16}"
THREADS="${THREADS:-2}"   # load-generator threads (wrk -t, pgbench -j)
ROUNDS="${ROUNDS:-3}"     # run.sh: rounds of every cell; the table shows each cell's median round

# "a.json" or '{"id":1}' -> JSON text; "" -> the query file's sibling NAME.vars.json if present, else {}
vars_json() { # QUERYFILE [VARS]
  local q="$1" v="${2:-}"
  if [ -z "$v" ]; then
    local f="${q%.*}.vars.json"
    if [ -f "$f" ]; then cat "$f"; else echo '{}'; fi
  elif [ -f "$v" ]; then cat "$v"
  else printf '%s' "$v"
  fi
}

# The chidao binary to measure: $CHIDAO_BIN, else the first built of the bench target dir, the
# release build and the debug build. Also sets the JWT secret the server and `chidao token` share.
pick_chidao() {
  local root; root="$(cd "$BENCH_DIR/.." && pwd)"
  if [ -z "${CHIDAO_BIN:-}" ]; then
    for b in /work/target-bench/release/chidao "$root/target/release/chidao" "$root/target/debug/chidao"; do
      [ -x "$b" ] && { CHIDAO_BIN="$b"; break; }
    done
  fi
  [ -x "${CHIDAO_BIN:-}" ] || { echo "no chidao binary: cargo build --release (or set CHIDAO_BIN)" >&2; exit 1; }
  # A random key per run: `serve` refuses placeholder-shaped secrets.
  export CHIDAO_BIN JWT_SECRET="${JWT_SECRET:-$(od -An -N32 -tx1 /dev/urandom | tr -d " \n")}"
}

# ensure_synthetic DB SCALE [URL]: creates DB if missing and loads `chidao seed --synthetic --scale SCALE`
# unless agency syn-0001 says it is there (prints the load time). Sets the database's
# random_page_cost to $RANDOM_PAGE_COST (1.1, as docker-compose.yml's PostgreSQL; "" keeps the
# server's), so chidao, PostGraphile and pgbench all plan with the same costs.
RANDOM_PAGE_COST="${RANDOM_PAGE_COST-1.1}"
ensure_synthetic() {
  local db="$1" scale="$2" url="${3:-postgres://$PGUSER@$PGHOST:$PGPORT/$1?sslmode=$PGSSLMODE}" t0
  psql -d "$db" -XAtqc 'select 1' >/dev/null 2>&1 || psql -XAtq -d postgres -c "create database $db" >&2
  if [ -n "$RANDOM_PAGE_COST" ]; then
    psql -XAtq -d postgres -c "alter database $db set random_page_cost = $RANDOM_PAGE_COST" >&2
  else
    psql -XAtq -d postgres -c "alter database $db reset random_page_cost" >&2
  fi
  if [ "$(psql -d "$db" -XAtqc "select count(*) from pg_tables where tablename='agencies'")" = 1 ] &&
     [ "$(psql -d "$db" -XAtqc "select count(*) from agencies where code='syn-0001'")" = 1 ]; then
    return 0
  fi
  echo "seeding $db (chidao seed --synthetic --scale $scale)..." >&2
  t0=$(date +%s)
  DATABASE_URL="$url" "$CHIDAO_BIN" seed --synthetic --scale "$scale" >&2
  echo "seeded $db in $(( $(date +%s) - t0 )) s" >&2
}
