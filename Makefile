# Protokol: the two commands of the README's quick start, and a few more.
#   make run    install into .venv, migrate the embedded SQLite database, load the demo, serve
#   make test   install into .venv and run the whole suite on SQLite and on PostgreSQL
#   make serve  migrate, then serve with gunicorn (deploy/gunicorn.conf.py; docs/deploy.md)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: serve serve-live bench-downloads run test test-sqlite test-postgres install lint migrate demo clean browser translations messages

install: $(STAMP) translations

$(STAMP): pyproject.toml
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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache *.egg-info
