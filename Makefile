# The two commands of the README: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
REDIS ?= redis://127.0.0.1:6379/0
export FLASK_APP := portal:create_app

.PHONY: run test test-sqlite test-postgres test-faults test-citus soak install worker bench-letters bench-import bench-pages bench-web bench-requests seed-national lint i18n

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	bash scripts/system-deps.sh
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask tenants sync
	$(BIN)/flask demo seed --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

worker: install
	$(BIN)/flask rq worker

test: install
	bash scripts/test.sh

test-sqlite: install
	$(BIN)/python -m pytest -q -n 2

test-postgres: install
	TEST_DATABASE_URL=$(PG_URL) TEST_REDIS_URL=$(REDIS) $(BIN)/python -m pytest -q -n 2

# The fault tests (docs/operations.md): those with real processes start PostgreSQL and Redis of their
# own on free ports; the others use $(PG_URL) and $(REDIS) like test-postgres.
test-faults: install
	PORTAL_FAULT_TESTS=1 TEST_DATABASE_URL=$(PG_URL) TEST_REDIS_URL=$(REDIS) $(BIN)/python -m pytest -q tests/faults

# 10 minutes, 50 simulated users, on servers of its own (SOAK_ARGS="--minutes 3" for a short run).
soak: install
	$(BIN)/python tests/perf/soak.py $(SOAK_ARGS)

bench-letters: install
	$(BIN)/python tests/perf/bench_letters.py

# Import (25,000 and 100,000 rows), export and statistics on PostgreSQL: figures, targets, ratios.
bench-import: install
	$(BIN)/python tests/perf/bench_import.py --admin-url $(PG_URL)
# Region statistics, the register list and the exchange dashboard over BENCH_TENANTS counties (an
# empty database the ordinary role owns is created on PG_URL's server and dropped after).
BENCH_TENANTS ?= 50
BENCH_MEMBERS ?= 2000
bench-pages: install
	psql "$(PG_URL)" -qc "DROP DATABASE IF EXISTS portal_bench_pages" -c "CREATE DATABASE portal_bench_pages OWNER portal_test"
	$(BIN)/python tests/perf/bench_pages.py --tenants $(BENCH_TENANTS) --members $(BENCH_MEMBERS) \
		--database-url "$$(echo '$(PG_URL)' | sed 's#//[^@]*@#//portal_test@#; s#/[^/]*$$#/portal_bench_pages#')"

# gunicorn (2 workers) as the ordinary role, Redis, an rq worker, and 50 locust clerks for 3 minutes
# (README "Web load benchmark"). BENCH_WEB_DATABASE: a seeded database's URL; without one a smaller
# one is built on PG_URL's server and kept. BENCH_WEB_ARGS="--run-time 1m --users 20" to change.
BENCH_WEB_DATABASE ?=
bench-web: install
	BENCH_WEB_DATABASE="$(BENCH_WEB_DATABASE)" $(BIN)/python tests/perf/bench_web.py --admin-url "$(PG_URL)" \
		--redis "$(REDIS)" $(BENCH_WEB_ARGS)

# The same mix in-process, one request at a time: app and database CPU and SQL statements per page
# (figures that do not depend on the machine's load). BENCH_REQUESTS_ARGS="--profile all" for cProfile.
bench-requests: install
	BENCH_WEB_DATABASE="$(BENCH_WEB_DATABASE)" $(BIN)/python tests/perf/bench_requests.py --admin-url "$(PG_URL)" \
		--redis "$(REDIS)" $(BENCH_REQUESTS_ARGS)

# The national demo data set (every county, 2,000,000 members; README "A national data set") in the
# database portal_national on PG_URL's server, owned by the ordinary role portal_test; dropped and
# made again each time. SEED_ARGS="--tenants 50 --members 100000" for a smaller one.
seed-national: install
	psql "$(PG_URL)" -qc "DROP DATABASE IF EXISTS portal_national" -c "CREATE DATABASE portal_national OWNER portal_test"
	export DATABASE_URL="$$(echo '$(PG_URL)' | sed 's#//[^@]*@#//portal_test@#; s#/[^/]*$$#/portal_national#')" \
		PORTAL_ENV=development && $(BIN)/flask db upgrade && $(BIN)/flask tenants sync && \
		time $(BIN)/flask demo seed --scale national $(SEED_ARGS)

# Citus (distributed PostgreSQL): builds it from the vendored source into build/citus once, starts a
# coordinator and two workers on loopback ports 55701-55703, distributes every table, runs the
# tenancy, exchange, letters and statistics tests there (docs/scaling.md).
test-citus: install
	PYTHON=$(BIN)/python bash scripts/citus-test.sh

lint: install
	$(BIN)/python -m ruff check portal tests

# Refresh the English catalog from the code and templates, then compile it (translate new entries
# in portal/translations/en/LC_MESSAGES/messages.po between the two runs).
i18n: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _ -k lazy -k lazy_gettext --no-location -o /tmp/portal-messages.pot .
	$(BIN)/pybabel -q update -i /tmp/portal-messages.pot -d portal/translations -l en --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel -q compile -d portal/translations
