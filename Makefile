# Circulate developer commands.  `make run` serves the API, `make test` runs every check.

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
PACKAGES := domain application adapters entrypoints migrations

# Test databases; a value already in the environment wins.
CIRCULATE_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
CIRCULATE_TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
export CIRCULATE_TEST_POSTGRES_URL CIRCULATE_TEST_REDIS_URL

.DEFAULT_GOAL := help
.PHONY: help install run services lint test clean

help:
	@echo "make run       apply migrations and serve the API on http://$(HOST):$(PORT)"
	@echo "make test      start PostgreSQL/Redis if needed, lint, type-check and run the tests"
	@echo "make lint      ruff, mypy and the import-layer contracts"
	@echo "make services  make sure PostgreSQL and Redis answer"
	@echo "make install   create .venv with the package and its dev tools"
	@echo "make clean     remove .venv, caches and build output"

install: $(DEV_STAMP)

# The editable install maps the top-level packages that exist when it runs, so it is redone when
# pyproject.toml changes or a package's __init__.py appears. `make run` installs what serving
# needs; `make test` adds the dev tools on top.
$(STAMP): pyproject.toml $(wildcard $(addsuffix /__init__.py,$(PACKAGES)))
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "error: '$(PYTHON)' not found; Circulate needs Python >= 3.11 (set PYTHON=...)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "error: Circulate needs Python >= 3.11 but '$(PYTHON)' is $$($(PYTHON) --version 2>&1);" \
	       "run e.g. 'make PYTHON=python3.11 ...'" >&2; exit 1; }
	@echo "Installing Circulate into $(VENV) ..."
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip
	@$(PIP) install -e .
	@touch $@

$(DEV_STAMP): $(STAMP)
	@echo "Installing the dev tools into $(VENV) ..."
	@$(PIP) install -e '.[dev]'
	@touch $@

run: $(STAMP)
	$(BIN)/circulate db upgrade
	$(BIN)/circulate serve --host $(HOST) --port $(PORT)

services:
	scripts/ensure-services

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(DEV_STAMP) services
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest -n auto --dist loadfile --cov --cov-report=term-missing:skip-covered $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .coverage .coverage.* coverage.xml htmlcov \
	  .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
