# CityOps: `make run` starts the demo, `make test` runs the whole suite. Both set up first.
#
#   make setup   system packages (apt-get, only the missing ones) + .venv + pip install
#   make run     the demo on http://127.0.0.1:8000 (embedded SQLite, demo data)
#   make test    pytest on SQLite, pytest on PostgreSQL (throwaway cluster), benchmarks
#   make lint    ruff check + ruff format --check
#   make bench   every bench/bench_*.py (each prints JSON, exits non-zero under its target)
#   make frontend  build the web UI (npm ci + vite) into src/cityops/web/static
#   make clean   remove the virtualenv and caches (keeps var/, the instance's data)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINT_PATHS := src tests bench

# PostgreSQL server + PostGIS for the PostgreSQL test run. PG_MAJOR follows the newest server
# already installed (so PostGIS matches it), else 15 (Debian 12's PostgreSQL).
PG_MAJOR ?= $(or $(lastword $(sort $(notdir $(patsubst %/bin/initdb,%,$(wildcard /usr/lib/postgresql/*/bin/initdb))))),15)
SYSTEM_PACKAGES ?= postgresql-$(PG_MAJOR) postgresql-$(PG_MAJOR)-postgis-3 mosquitto chromium

.PHONY: help setup system-packages run demo test test-sqlite test-postgresql bench lint clean frontend

help:
	@sed -n '3,10p' Makefile | sed 's/^# *//'

setup: system-packages $(STAMP)

# Install only what is missing; one `apt-get update` first. Without root, say what to install.
system-packages:
	@missing=""; \
	for pkg in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "make setup: not a Debian system; install yourself:$$missing (PostgreSQL tests need them)"; \
	  exit 0; \
	fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "make setup: skipping system packages (not root); missing:$$missing"; \
	  echo "  run: sudo apt-get update && sudo apt-get install -y$$missing"; \
	  echo "  (the demo and the SQLite tests work without them; the PostgreSQL tests do not)"; \
	  exit 0; \
	fi; \
	echo "make setup: installing$$missing"; \
	apt-get update -q; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing

# Re-run pip only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "make setup: CityOps needs Python 3.11+; $(PYTHON) is $$($(PYTHON) -V 2>&1)"; exit 1; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

# The web UI (frontend/, Vite): `npm ci` when node_modules is missing or the lock changed,
# `npm run build` (vue-tsc type check + vite) into src/cityops/web/static when sources changed.
WEB_BUILD := src/cityops/web/static/index.html
NPM_STAMP := frontend/node_modules/.cityops-installed
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
  $(wildcard frontend/*.html frontend/*.ts frontend/*.json)

frontend: $(WEB_BUILD)

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null 2>&1 || \
	  { echo "make frontend: Node.js 20.19+ and npm are needed to build the web UI"; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB_BUILD): $(NPM_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run --silent build
	@touch $@

# The demo server, and the simulator feeding it once /readyz answers; Ctrl+C stops both.
run: setup frontend
	HOST=$(HOST) PORT=$(PORT) BIN=$(BIN) scripts/run-demo.sh

demo: run

test: setup frontend
	@start=$$SECONDS; $(MAKE) --no-print-directory test-sqlite; \
	  echo "make test: SQLite suite took $$((SECONDS - start)) s"
	@start=$$SECONDS; $(MAKE) --no-print-directory test-postgresql; \
	  echo "make test: PostgreSQL suite took $$((SECONDS - start)) s"
	@start=$$SECONDS; $(MAKE) --no-print-directory bench; \
	  echo "make test: benchmarks took $$((SECONDS - start)) s"

test-sqlite: setup
	$(BIN)/pytest

# The Chromium tests run once, in the SQLite pass: the pages are the same on either database,
# and every API they call is tested on PostgreSQL in this pass.
test-postgresql: setup
	CITYOPS_TEST_DB=postgresql $(BIN)/pytest --ignore=tests/e2e/browser

# Run every benchmark even when one fails, then fail if any did.
bench: setup
	@failed=""; \
	for f in bench/bench_*.py; do \
	  [ -e "$$f" ] || continue; \
	  echo "== $$f"; \
	  $(BIN)/python "$$f" || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then echo "make bench: under target or failed:$$failed"; exit 1; fi

lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build dist src/*.egg-info
	rm -rf frontend/node_modules src/cityops/web/static test-artifacts
	find src tests bench -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
