#!/usr/bin/env bash
# The whole suite on SQLite, then again on PostgreSQL with Redis and a real rq worker when they
# answer on 127.0.0.1. With CI=true an unreachable PostgreSQL or Redis fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${PG_URL:-postgresql://postgres@127.0.0.1:5432/test}
REDIS=${REDIS:-redis://127.0.0.1:6379/0}
DATED="tests/letters tests/exchange tests/members tests/reports tests/worklist tests/standing tests/selfservice"

echo "== suite on SQLite (jobs inline)"
$BIN/python -m pytest -q -n 2 "$@"
sqlite_rc=$?

# The date-sensitive folders again with the clock moved (tests/conftest.py reads PORTAL_TEST_TODAY):
# what passes today passes on any date. By default the year's last day (letter numbers, deadlines
# and validity crossing New Year) and a leap day (birthdays and month ends of the work list and the
# register); SHIFTED=all runs every one of those folders on 31 December, 1 January and 29 February.
shifted_rc=0
if [ $# -eq 0 ]; then
  if [ "${SHIFTED:-}" = "all" ]; then
    runs=("2026-12-31 $DATED" "2027-01-01 $DATED" "2028-02-29 $DATED")
  else
    runs=("2026-12-31 tests/letters tests/exchange tests/reports"
          "2028-02-29 tests/worklist tests/standing tests/members tests/selfservice")
  fi
  for run in "${runs[@]}"; do
    set -- $run
    day=$1; shift
    echo "== date-sensitive tests with the clock at $day: $*"
    PORTAL_TEST_TODAY=$day $BIN/python -m pytest -q -n 2 -m "not slow" "$@" || shifted_rc=1
  done
  set --
fi

reachable() {
  $BIN/python - "$PG_URL" "$REDIS" <<'PY'
import sys
import psycopg, redis
try:
    psycopg.connect(sys.argv[1].replace("postgresql://", "postgresql://", 1), connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL unreachable: {exc}"); sys.exit(1)
try:
    redis.Redis.from_url(sys.argv[2], socket_connect_timeout=3).ping()
except Exception as exc:
    print(f"Redis unreachable: {exc}"); sys.exit(2)
PY
}

if reachable; then
  echo "== suite on PostgreSQL with Redis and an rq worker"
  TEST_DATABASE_URL=$PG_URL TEST_REDIS_URL=$REDIS $BIN/python -m pytest -q -n 2 "$@"
  pg_rc=$?
  # The faults with real processes (workers killed, Redis and PostgreSQL restarted) run on servers
  # of their own in `make test-faults`, which .ci/run calls after this.
else
  if [ "${CI:-}" = "true" ]; then
    echo "CI=true: PostgreSQL and Redis must be reachable"; exit 1
  fi
  echo "PostgreSQL/Redis not reachable: skipped the second run (set CI=true to make this fatal)"
  pg_rc=0
fi
[ $sqlite_rc -eq 0 ] && [ $shifted_rc -eq 0 ] && [ $pg_rc -eq 0 ]
