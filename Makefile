# Protokol: the two commands of the README's quick start, and a few more.
#   make run    install into .venv, migrate the embedded SQLite database, load the demo, serve
#   make test   install into .venv and run the whole suite on SQLite and on PostgreSQL
#   make bench  generate the benchmark record (once) and measure against the targets
#   make serve  migrate, then serve with gunicorn (deploy/gunicorn.conf.py; docs/deploy.md)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgres install lint migrate demo clean browser translations messages \
  bench bench-data serve serve-live bench-downloads check-security

install: $(STAMP) translations

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# The interface's message catalogues (protokol/translations/<lang>/LC_MESSAGES/messages.po).
CATALOGUES := $(wildcard protokol/translations/*/LC_MESSAGES/messages.po)
translations: $(CATALOGUES:.po=.mo)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing interface texts: re-extract them and update every catalogue.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -o protokol/translations/messages.pot \
	  --no-location --omit-header --ignore-dirs='.venv tests migrations bench' .
	$(BIN)/pybabel update -i protokol/translations/messages.pot -d protokol/translations \
	  --no-fuzzy-matching

migrate: $(STAMP) translations
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo --if-empty

run: demo
	@echo
	@echo "Protokol runs on http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@echo
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production serving (docs/deploy.md): gunicorn, sync workers, settings in
# deploy/gunicorn.conf.py (PROTOKOL_BIND, PROTOKOL_WORKERS, ...); set PROTOKOL_ENV=production,
# SECRET_KEY and DATABASE_URL in the environment.
serve: migrate
	$(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

# Beside it, the live pages' event streams (docs/live.md): the ASGI app under uvicorn;
# nginx routes /meetings/<id>/live/events here (deploy/nginx.conf).
LIVE_HOST ?= 127.0.0.1
LIVE_PORT ?= 8001
LIVE_WORKERS ?= 2
serve-live: migrate
	$(BIN)/uvicorn protokol.asgi:app --host $(LIVE_HOST) --port $(LIVE_PORT) \
	  --workers $(LIVE_WORKERS) --timeout-graceful-shutdown 5 --no-access-log

# The published PDF downloads with wrk, gunicorn and nginx on loopback (bench/downloads.py).
bench-downloads: $(STAMP) translations
	$(BIN)/python bench/downloads.py

test: lint browser test-sqlite test-postgres

# The browser tests drive Debian's Chromium; install it when it is missing (as root).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; \
	fi

test-sqlite: $(STAMP) translations
	env -u DATABASE_URL $(BIN)/python -m pytest

test-postgres: $(STAMP) translations
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest

# The security checks that take minutes (docs/security.md): sqlmap against the public search,
# pages and API, on SQLite and on PostgreSQL. `.ci/run` runs it after `make test`.
check-security: $(STAMP) translations
	@command -v sqlmap >/dev/null || { echo "check-security needs Debian's sqlmap: apt-get install sqlmap" >&2; exit 1; }
	env -u DATABASE_URL $(BIN)/python -m tests.security.sqlmap_scan
	DATABASE_URL=$(PG_URL) $(BIN)/python -m tests.security.sqlmap_scan

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache *.egg-info

# The benchmark (bench/README.md): a generated record of ten years of a large municipality,
# loaded once into bench/out/ (SQLite), and into BENCH_DATABASE_URL (an empty PostgreSQL
# database) when that is set; then bench/run.py prints each figure beside its target.
BENCH_SEED ?= 1
BENCH_SCALE ?= 1.0
BENCH_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
BENCH_OUT ?= bench/out
BENCH_REPEAT ?= 21
BENCH_DB := $(abspath $(BENCH_OUT))/bench.sqlite3
BENCH_LOADED := $(BENCH_OUT)/.loaded-sqlite-$(BENCH_SEED)-$(BENCH_SCALE)
BENCH_EXTRA := $(VENV)/.bench-installed

$(BENCH_EXTRA): pyproject.toml $(STAMP)
	-$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	@touch $@

$(BENCH_LOADED): | $(STAMP) translations
	rm -f $(BENCH_DB) $(BENCH_DB)-wal $(BENCH_DB)-shm $(BENCH_OUT)/.loaded-sqlite-*
	rm -rf $(BENCH_OUT)/files-sqlite
	mkdir -p $(BENCH_OUT)
	$(BIN)/python -m bench.generate --seed $(BENCH_SEED) --scale $(BENCH_SCALE) \
	  --workers $(BENCH_WORKERS) --database-url sqlite:///$(BENCH_DB) \
	  --files-dir $(BENCH_OUT)/files-sqlite
	@touch $@

bench-data: $(BENCH_LOADED)
ifneq ($(BENCH_DATABASE_URL),)
	$(BIN)/python -m bench.generate --seed $(BENCH_SEED) --scale $(BENCH_SCALE) \
	  --workers $(BENCH_WORKERS) --database-url '$(BENCH_DATABASE_URL)' \
	  --files-dir $(BENCH_OUT)/files-postgresql --if-loaded
endif

bench: bench-data $(BENCH_EXTRA)
	$(BIN)/python -m bench.run --seed $(BENCH_SEED) --repeat $(BENCH_REPEAT) --database-url sqlite:///$(BENCH_DB) \
	  --out $(BENCH_OUT)
ifneq ($(BENCH_DATABASE_URL),)
	$(BIN)/python -m bench.run --seed $(BENCH_SEED) --repeat $(BENCH_REPEAT) \
	  --database-url '$(BENCH_DATABASE_URL)' --only downloads --only votes --only pages --out $(BENCH_OUT)
endif
