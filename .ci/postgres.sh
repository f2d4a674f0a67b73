#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the tests and print the `export` lines that point
# them at it: `eval "$(.ci/postgres.sh)"`. PostgreSQL refuses to run as root (CI runs as
# root), so the server runs as the `postgres` user from a fresh data directory in /tmp, on
# 127.0.0.1 and a free port, with a `leadstream` role owning a `leadstream_test` database.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
  echo "PostgreSQL is not installed (apt-get install postgresql)." >&2
  exit 1
fi
run_as=postgres
id "$run_as" >/dev/null 2>&1 || run_as=$(id -un)
[ "$(id -u)" = 0 ] && [ "$run_as" = root ] && { echo "No postgres user to run the server as." >&2; exit 1; }

datadir=$(mktemp -d /tmp/leadstream-pg.XXXXXX)
chown "$run_as" "$datadir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')

as_pg() {
  if [ "$(id -un)" = "$run_as" ]; then "$@"; else su "$run_as" -s /bin/sh -c "$(printf '%q ' "$@")"; fi
}
as_pg "$bindir/initdb" -D "$datadir/data" -A trust -U postgres -E UTF8 >/dev/null
# fsync off: a test server loses nothing worth keeping in a crash, and runs much faster.
as_pg "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$datadir -c fsync=off -c max_connections=200" \
  start >/dev/null
as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c \
  "CREATE ROLE leadstream LOGIN PASSWORD '$password' CREATEDB" -c \
  "CREATE DATABASE leadstream_test OWNER leadstream" >/dev/null

echo "export LEADSTREAM_TEST_DATABASE_URL=postgresql://leadstream:$password@127.0.0.1:$port/leadstream_test"
echo "export LEADSTREAM_PG=1"
echo "export LEADSTREAM_PG_DATA=$datadir"
