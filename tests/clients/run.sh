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
source "$HERE/../lib.sh"
LIB_NAME=clients
say() { echo "clients: $*"; }

(cd "$HERE" && npm ci --silent --no-audit --no-fund)
lib_pydeps clients "$HERE/requirements.txt"
lib_bin
lib_tmp
SECRET="$(od -An -N48 -tx1 /dev/urandom | tr -d ' \n')"
lib_serve "$TMP/server.log" DATABASE_URL="sqlite://$TMP/clients.db?mode=rwc" JWT_SECRET="$SECRET"
URL="http://127.0.0.1:$PORT/graphql"
say "chidao on $URL, the default limits"
VIEWER="$(JWT_SECRET="$SECRET" "$BIN" token --role viewer --ttl 15m)"
(cd "$HERE" && node introspect.mjs "$URL" "$VIEWER" "$ROOT/schema/schema.graphql")
PYTHONPATH="$PYDEPS" PYTHONNOUSERSITE=1 python3 "$HERE/gql_client.py" "$URL" "$VIEWER"
say "passed"
