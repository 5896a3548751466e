# The two commands: `make run` and `make test`. Both set up everything they
# need on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Development is asked for explicitly: with PORTAL_ENV unset the app refuses
# to start (production needs its own SECRET_KEY; see docs/deployment.md).
PORTAL_ENV ?= development
FLASK := PORTAL_ENV=$(PORTAL_ENV) $(VENV)/bin/flask --app wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: worker run test test-sqlite test-postgres test-e2e setup system-deps system-deps-test db-upgrade demo serve serve-prod bench bench-quick system-deps-bench clean

run: setup system-deps db-upgrade demo serve

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

system-deps:
	@scripts/system-deps.sh run

system-deps-test:
	@scripts/system-deps.sh test

system-deps-bench:
	@scripts/system-deps.sh bench

db-upgrade: setup
	$(FLASK) db-upgrade

demo: setup
	$(FLASK) seed-demo

# The web server and, beside it, the job worker (publication and mail run there).
serve:
	@PORTAL_ENV=$(PORTAL_ENV) scripts/serve-dev.sh $(VENV)/bin/flask --app wsgi

# The job worker alone (production runs it under systemd: docs/deployment.md).
worker: setup
	$(FLASK) worker

# Production: gunicorn with gunicorn.conf.py behind nginx (docs/deployment.md).
# The secret key comes from the environment and is never made up here. No
# `setup` prerequisite: a production server installs without the test extras.
serve-prod:
	@if [ -z "$$SECRET_KEY" ]; then \
		echo "SECRET_KEY が設定されていません。本番用の鍵（32文字以上）を環境変数で渡してください。" >&2; \
		echo "  鍵の作り方: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'" >&2; \
		exit 1; \
	fi
	@test -x $(VENV)/bin/gunicorn || { echo "gunicorn がありません。$(PY) -m pip install -e . を実行してください。" >&2; exit 1; }
	PORTAL_ENV=production $(VENV)/bin/gunicorn --config gunicorn.conf.py

# The whole suite: unit and integration tests on SQLite and on PostgreSQL,
# then the end-to-end tests in a real browser.
test: setup system-deps-test test-sqlite test-postgres test-e2e

# The unit and integration tests run on every core (pytest-xdist); each worker
# has its own database.
PYTEST_WORKERS ?= auto

test-sqlite: setup
	$(PY) -m pytest -q -m "not e2e" -p no:cacheprovider -n $(PYTEST_WORKERS)

test-postgres: setup
	@$(PY) scripts/check_postgres.py "$(PG_TEST_URL)"
	TEST_DATABASE_URL="$(PG_TEST_URL)" $(PY) -m pytest -q -m "not e2e" -p no:cacheprovider -n $(PYTEST_WORKERS)

test-e2e: setup system-deps-test
	$(PY) -m pytest -q -m e2e -p no:cacheprovider

# Speed, load and scale (issue 5): about 25 minutes on two cores, SQLite
# then PostgreSQL; writes bench/RESULTS.md. BENCH_ARGS passes options, e.g.
#   make bench BENCH_ARGS="--backends postgresql --applicants 300"
#   make bench BENCH_ARGS="--steps publication-job"  (issue 13: publication
#   as a job; about 12 minutes per database at 300 proposals, Redis for PostgreSQL)
# `make bench-quick` runs the same steps on small data in a few minutes.
BENCH_ARGS ?=
bench: setup system-deps-bench
	$(PY) -m bench.run $(BENCH_ARGS)

bench-quick: setup system-deps-bench
	$(PY) -m bench.run --quick --output bench/out/RESULTS-quick.md $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/portal.sqlite3* instance/uploads
