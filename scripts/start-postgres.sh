#!/usr/bin/env bash
# Starts a throw-away PostgreSQL (Debian's package) on 127.0.0.1:55432 for the tracker-store tests,
# and prints the `export` lines to use it:   eval "$(scripts/start-postgres.sh)"
# Installs the package when missing (root, apt). Stop with: scripts/start-postgres.sh stop
set -euo pipefail
PORT=${KOTOBOT_PG_PORT:-55432}
DATA=${KOTOBOT_PG_DIR:-/tmp/kotobot-postgres}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

if [ "${1:-}" = stop ]; then
  [ -d "$DATA/db" ] && su postgres -c "$(pg_bin)/pg_ctl -D $DATA/db -m fast stop" >/dev/null 2>&1 || true
  exit 0
fi

if [ -z "$(pg_bin)" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
fi
BIN=$(pg_bin)
if ! su postgres -c "$BIN/pg_ctl -D $DATA/db status" >/dev/null 2>&1; then
  rm -rf "$DATA" && mkdir -p "$DATA" && chown postgres "$DATA"
  su postgres -c "$BIN/initdb -D $DATA/db -A trust -U postgres" >/dev/null
  su postgres -c "$BIN/pg_ctl -D $DATA/db -w -l $DATA/log \
    -o '-p $PORT -k $DATA -c listen_addresses=127.0.0.1' start" >/dev/null
  su postgres -c "psql -h 127.0.0.1 -p $PORT -U postgres -q \
    -c 'CREATE ROLE kotobot LOGIN' -c 'CREATE DATABASE kotobot_test OWNER kotobot'" >/dev/null
fi
echo "export KOTOBOT_TEST_POSTGRES_URL=postgresql://kotobot@127.0.0.1:$PORT/kotobot_test"
