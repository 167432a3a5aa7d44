# Tokui: `make run` serves the demo, `make test` checks everything. GNU make.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
TOKUI := $(BIN)/tokui
# Rebuilt when pyproject.toml changes, so `pip install` runs only when it has to.
INSTALLED := $(VENV)/.installed
# Tried newest first; each is executed, since a pyenv shim may exist and still fail.
PYTHONS := python3.13 python3.12 python3.11 python3
# PostgreSQL run of the suite; Django creates and drops test_<name> itself.
PG_URL ?= postgres://postgres@127.0.0.1:5432/tokui
CHROMIUM := /usr/bin/chromium
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -n $(PYTEST_WORKERS)
RUN_ARGS ?=

.PHONY: help run test lint format check-migrations messages compile-messages \
	test-sqlite test-postgres test-browser bench clean

help:
	@echo "make run      create .venv, install, migrate, load demo data, serve on 127.0.0.1:8000"
	@echo "make test     lint, migrations check, tests on SQLite, PostgreSQL and in Chromium"
	@echo "make lint     ruff check, ruff format --check, makemigrations --check"
	@echo "make format   ruff format and safe fixes"
	@echo "make bench    benchmarks: customer list and search, order import, derived figures"
	@echo "make messages update the ja and ko translation catalogues"

$(BIN)/python:
	@python=""; \
	for candidate in $(PYTHONS); do \
	  if $$candidate -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' \
	      >/dev/null 2>&1; then python=$$candidate; break; fi; \
	done; \
	if [ -z "$$python" ]; then \
	  echo "No Python 3.11 or newer with venv support found (tried: $(PYTHONS))." >&2; \
	  echo "On Debian: apt-get install python3 python3-venv" >&2; exit 1; \
	fi; \
	echo "Creating $(VENV) with $$python ($$($$python --version))"; \
	$$python -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: $(INSTALLED)
	@if command -v msgfmt >/dev/null; then $(MAKE) --no-print-directory compile-messages; \
	else echo "gettext (msgfmt) not installed: translations are not recompiled."; fi
	$(TOKUI) run $(RUN_ARGS)

test: lint compile-messages test-sqlite test-postgres test-browser
	@echo "make test: all checks passed."

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory check-migrations

check-migrations: $(INSTALLED)
	$(TOKUI) makemigrations --check --dry-run

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Compile a catalogue only when a .po file is newer than its .mo (or the .mo is missing).
compile-messages: $(INSTALLED)
	@stale=$$(find tokui/locale -name '*.po' 2>/dev/null | while read -r po; do \
	  [ "$$po" -nt "$${po%.po}.mo" ] && echo "$$po"; done || true); \
	if [ -n "$$stale" ]; then \
	  command -v msgfmt >/dev/null || { echo "msgfmt missing: apt-get install gettext" >&2; exit 1; }; \
	  echo "Compiling translations: $$stale"; \
	  $(TOKUI) compilemessages --ignore=$(VENV) --ignore=var; \
	fi

messages: $(INSTALLED)
	$(TOKUI) makemessages -l ja -l ko --ignore=$(VENV) --ignore=var --ignore=bench

test-sqlite: $(INSTALLED)
	@echo "== Tests on SQLite =="
	env -u DATABASE_URL $(PYTEST) -m "not browser"

test-postgres: $(INSTALLED)
	@if $(BIN)/python -c 'import sys, psycopg; from urllib.parse import urlsplit; \
	    url = urlsplit(sys.argv[1])._replace(path="/postgres").geturl(); \
	    psycopg.connect(url, connect_timeout=3).close()' '$(PG_URL)' 2>/dev/null; then \
	  echo "== Tests on PostgreSQL ($(PG_URL)) =="; \
	  DATABASE_URL='$(PG_URL)' $(PYTEST) -m "not browser"; \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "PostgreSQL not reachable: FAILED, CI=true requires it ($(PG_URL))." >&2; exit 1; \
	else \
	  echo "PostgreSQL not reachable: skipped ($(PG_URL))."; \
	fi

test-browser: $(INSTALLED)
	@if [ -x $(CHROMIUM) ]; then \
	  echo "== Browser tests in Chromium =="; \
	  mkdir -p var; status=0; \
	  env -u DATABASE_URL TOKUI_TEST_SQLITE_FILE=var/test-browser.sqlite3 \
	    $(BIN)/pytest -q -m browser || status=$$?; \
	  rm -f var/test-browser.sqlite3*; \
	  if [ $$status -eq 5 ]; then echo "No browser tests collected."; \
	  elif [ $$status -ne 0 ]; then exit $$status; fi; \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "$(CHROMIUM) not found: browser tests FAILED (CI=true requires them)." >&2; exit 1; \
	else \
	  echo "$(CHROMIUM) not found: browser tests skipped (apt-get install chromium)."; \
	fi

# Each benchmark rewrites its own section of docs/performance.md.
bench: $(INSTALLED)
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/imports.py $(BENCH_IMPORT_ARGS)
	$(BIN)/python bench/metrics.py $(BENCH_METRICS_ARGS)

clean:
	rm -rf $(VENV) .ruff_cache .pytest_cache *.egg-info
