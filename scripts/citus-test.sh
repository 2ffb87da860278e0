#!/usr/bin/env bash
# make test-citus: a Citus coordinator and two workers as three PostgreSQL 15 clusters on loopback
# ports, a database `portal` distributed across them, and the tenancy, exchange, letters and
# statistics tests run against it as the ordinary role portal_test (row-level security binds it).
# Clusters live in build/citus-run/ and are stopped when the script ends, whatever happens.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
bash scripts/citus-build.sh
PGBIN="$ROOT/build/citus$(pg_config --bindir)"
RUN="$ROOT/build/citus-run"
read -r -a PORTS <<< "${CITUS_PORTS:-55701 55702 55703}"
TESTS="${CITUS_TESTS:-tests/tenancy tests/core/test_tenancy.py tests/exchange tests/letters tests/reports}"

as_pg() {  # PostgreSQL refuses to run as root: the clusters belong to the postgres user then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop() {
  for i in 0 1 2; do
    [ -f "$RUN/n$i/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$RUN/n$i" -m immediate stop >/dev/null 2>&1 || true
  done
}
trap stop EXIT

stop
rm -rf "$RUN"
mkdir -p "$RUN"
[ "$(id -u)" = 0 ] && chown postgres "$RUN"
for i in 0 1 2; do
  as_pg "$PGBIN/initdb" -D "$RUN/n$i" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$RUN/n$i/postgresql.conf" <<CONF
port = ${PORTS[$i]}
listen_addresses = '127.0.0.1'
unix_socket_directories = '$RUN'
shared_preload_libraries = 'citus'
max_connections = 200
max_prepared_transactions = 200
# Few shards per table: a test truncates every table between tests, once per shard.
citus.shard_count = 4
fsync = off
synchronous_commit = off
full_page_writes = off
# The tenant settings row-level security reads are written with SET LOCAL; forward them to the
# workers that run a statement's shards.
citus.propagate_set_commands = 'local'
CONF
  as_pg "$PGBIN/pg_ctl" -D "$RUN/n$i" -l "$RUN/n$i.log" -w start >/dev/null
done

psql_on() { local port=$1; shift; "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
for i in 0 1 2; do
  psql_on "${PORTS[$i]}" -d postgres -c "CREATE ROLE portal_test LOGIN NOSUPERUSER NOBYPASSRLS" \
    -c "CREATE DATABASE portal OWNER portal_test"
  psql_on "${PORTS[$i]}" -d portal -c "CREATE EXTENSION citus"
done
psql_on "${PORTS[0]}" -d portal -c "SELECT citus_set_coordinator_host('127.0.0.1', ${PORTS[0]})" \
  -c "SELECT citus_add_node('127.0.0.1', ${PORTS[1]})" -c "SELECT citus_add_node('127.0.0.1', ${PORTS[2]})" >/dev/null
echo "citus: coordinator 127.0.0.1:${PORTS[0]}, workers :${PORTS[1]} :${PORTS[2]}"

# The test session migrates, then distributes every table (portal.tenancy.citus), then runs.
export TEST_DATABASE_PREPARED="postgresql://portal_test@127.0.0.1:${PORTS[0]}/portal"
export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:${PORTS[0]}/postgres"
unset TEST_REDIS_URL
set +e
# shellcheck disable=SC2086
"$PY" -m pytest -q -p no:cacheprovider -m "not slow" $TESTS "$@"
status=$?
set -e
psql_on "${PORTS[0]}" -d portal -c "SELECT count(*) FILTER (WHERE partmethod = 'h') || ' distributed, ' || count(*) FILTER (WHERE partmethod = 'n') || ' reference tables' FROM pg_dist_partition"
exit $status
