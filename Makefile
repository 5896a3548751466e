# The two commands: `make run` and `make test`. Both set up everything they
# need on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres test-e2e setup system-deps system-deps-test db-upgrade demo serve clean

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

db-upgrade: setup
	$(FLASK) db-upgrade

demo: setup
	$(FLASK) seed-demo

serve:
	$(FLASK) run --host 127.0.0.1 --port 5000

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

clean:
	rm -rf $(VENV) instance/portal.sqlite3* instance/uploads
