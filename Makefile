# casetrail developer entry points. `make help` lists them.
#
# `make test` is self-contained on a fresh Debian machine: it creates .venv, installs the
# project, installs the PostgreSQL 15 server binaries and runs the whole suite, whose harness
# (tests/pgserver.py) starts and stops its own throwaway PostgreSQL server, and the pinned
# TypeScript tools of tests/typescript/ (npm ci) for the generated-client check.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Same default and override variable as tests/pgserver.py.
CASETRAIL_PG_BIN ?= /usr/lib/postgresql/15/bin
PYTEST_ARGS ?=

.PHONY: help venv postgres-binaries typescript-tools browser assets run test lint format bench demo clean screenshots

help: ## List the targets
	@echo "Usage: make TARGET"
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-18s %s\n", $$1, $$2}'

# The interpreter is the "venv exists" marker; order-only below so that recreating it never
# counts as newer than the install stamp by itself.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml (dependencies, entry points) changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing casetrail and its dev dependencies into $(VENV) ..."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed ## Create .venv and install the project with dev dependencies

postgres-binaries: ## Install the PostgreSQL 15 server binaries the tests need (apt, as root)
	@if [ ! -x "$(CASETRAIL_PG_BIN)/postgres" ]; then \
		if [ "$$(id -u)" -eq 0 ]; then \
			echo "Installing postgresql-15 (server binaries for the test harness) ..."; \
			apt-get update -qq \
			&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15; \
		else \
			echo "PostgreSQL 15 is missing: $(CASETRAIL_PG_BIN)/postgres not found." >&2; \
			echo "Install it with:  sudo apt-get install -y postgresql-15" >&2; \
			echo "(or set CASETRAIL_PG_BIN to a directory with initdb and postgres)" >&2; \
			exit 1; \
		fi; \
	fi

# The TypeScript client check (tests/api/test_typescript_client.py): openapi-typescript and
# tsc at the versions pinned in tests/typescript/package-lock.json. Re-installed when the lock
# file changes; Node.js and npm from apt if the machine has none.
TS_TOOLS := tests/typescript
$(TS_TOOLS)/node_modules/.installed: $(TS_TOOLS)/package-lock.json
	@if ! command -v npm >/dev/null; then \
		if [ "$$(id -u)" -eq 0 ]; then \
			apt-get update -qq \
			&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; \
		else \
			echo "npm is missing: install Node.js and npm (sudo apt-get install -y nodejs npm)" >&2; \
			exit 1; \
		fi; \
	fi
	npm ci --prefix $(TS_TOOLS) --no-audit --no-fund --loglevel=error
	@touch $@

typescript-tools: $(TS_TOOLS)/node_modules/.installed ## Install the pinned TypeScript client generator and tsc

# The pages' front-end: GOV.UK Frontend and MoJ Frontend at the versions package-lock.json pins,
# copied into the static folder the service serves from its own origin (/ui/assets/vendor).
ASSETS := api/pages/static/vendor
$(ASSETS)/.built: package.json package-lock.json
	@command -v npm >/dev/null || { \
		if [ "$$(id -u)" -eq 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; \
		else echo "npm is missing: sudo apt-get install -y npm" >&2; exit 1; fi; }
	npm ci --no-audit --no-fund --legacy-peer-deps --loglevel=error
	rm -rf $(ASSETS) && mkdir -p $(ASSETS)/images
	cp -r node_modules/govuk-frontend/dist/govuk/assets/. $(ASSETS)/
	cp -r node_modules/@ministryofjustice/frontend/moj/assets/images/. $(ASSETS)/images/
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css \
		node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js \
		node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.css $(ASSETS)/
	sed -i -e 's|url(/assets/|url(/ui/assets/vendor/|g' -e 's|/\*# sourceMappingURL=[^*]*\*/||' $(ASSETS)/*.css
	sed -i 's|//# sourceMappingURL=.*$$||' $(ASSETS)/*.js
	@touch $@

assets: $(ASSETS)/.built ## Build the pages' static assets from the pinned npm packages

browser: ## Install Debian's chromium for the browser tests (apt, as root)
	@if ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" -eq 0 ]; then \
			echo "Installing chromium (headless browser for the page tests) ..."; \
			apt-get update -qq \
			&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				chromium fonts-liberation; \
		else \
			echo "chromium is missing: sudo apt-get install -y chromium" >&2; exit 1; \
		fi; \
	fi

run: venv assets ## Migrate the database, then serve the API
	$(BIN)/casetrail db upgrade
	$(BIN)/casetrail serve

test: venv assets postgres-binaries browser typescript-tools ## Run the whole test suite, PostgreSQL tests included (PYTEST_ARGS=...)
	$(BIN)/pytest -q -p no:cacheprovider tests/ $(PYTEST_ARGS)

lint: venv ## ruff, ruff format --check, mypy, import-linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: venv ## Reformat and apply safe lint fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv ## Run the benchmarks (~1 h; BENCH_ARGS="--national-cases 0" skips national scale)
	$(BIN)/python -m bench $(BENCH_ARGS)

screenshots: venv assets browser ## Screenshots of every page for the demo PDU, under var/screenshots/
	$(BIN)/python -m tests.pages.screenshots

demo: venv ## Load demo data
	$(BIN)/casetrail demo

clean: ## Remove var/ and caches (keeps .venv)
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
