#!/usr/bin/env bash
# Stops the throwaway PostgreSQL cluster the tests share (target/tmp/test-pg), if it runs.
set -u
data="${1:-target/tmp/test-pg/pg/data}"
[ -f "$data/postmaster.pid" ] || exit 0
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$bin" ] || exit 0
if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
else "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi
