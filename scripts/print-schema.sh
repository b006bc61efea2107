#!/usr/bin/env bash
# Regenerates src/db/schema.rs with `diesel print-schema` from a freshly migrated database: the
# tests' throwaway cluster (target/tmp/test-pg) runs the migrations in a scratch database.
# Needs diesel_cli (`cargo install diesel_cli --no-default-features --features postgres`).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v diesel >/dev/null || { echo "diesel_cli is not installed" >&2; exit 1; }
secrets=target/tmp/test-pg/pg-secrets
data=target/tmp/test-pg/pg/data
[ -d "$data" ] || { echo "run the tests once first (they create $data)" >&2; exit 1; }
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
started=0
if [ ! -f "$data/postmaster.pid" ]; then
  run "$bin/pg_ctl" -D "$data" -l "$data/../print-schema.log" -w \
    -o "-p $(cat $secrets/port) -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null
  started=1
fi
base="postgres://parley:$(cat $secrets/password)@127.0.0.1:$(cat $secrets/port)"
db="schema_$$"
psql -q "$base/postgres" -c "CREATE DATABASE $db"
trap 'psql -q "$base/postgres" -c "DROP DATABASE IF EXISTS $db"; [ $started = 1 ] && scripts/stop-test-db.sh' EXIT
DATABASE_URL="$base/$db" RUST_LOG=warn cargo run -q --bin parley -- migrate >/dev/null
diesel print-schema --database-url "$base/$db" > src/db/schema.rs.new
mv src/db/schema.rs.new src/db/schema.rs
echo "src/db/schema.rs regenerated"
