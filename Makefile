# lgtm-dash: two set-up commands on a fresh Debian machine: `make build` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LGTM   := $(BIN)/lgtm-dash
ENV    ?= dev
# Artifacts for environments other than the committed one (dev) are built outside out/.
ENV_OUT = $(if $(filter dev,$(ENV)),out,build/$(ENV))
PY_DIRS := lgtm_dash datasources dashboards alerts tests bench

.PHONY: build test check lint docs plan publish configmaps bench tools format clean emulate

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## build: create .venv, install, compile everything into out/ and lint it
build: $(VENV)/.installed
	$(LGTM) build --env $(ENV) --out $(ENV_OUT)
	$(LGTM) lint $(ENV_OUT)

## tools: install the real tools the tests use (promtool, amtool, alertmanager, mariadb, chromium) when missing
tools:
	bash scripts/install-tools.sh

PYTEST_ARGS ?=
## test: install what the tests need, lint, format-check and type-check the code (mypy over lgtm_dash/), check
## out/ is current, run the alert unit tests and routing cases (`lgtm-dash test`), then pytest (PYTEST_ARGS
## passes options to it)
test: $(VENV)/.installed tools
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/mypy
	$(MAKE) --no-print-directory check
	$(LGTM) test
	$(BIN)/pytest $(PYTEST_ARGS)

## check: fail when the committed out/ is stale against the Python definitions
check: $(VENV)/.installed
	$(LGTM) build --check

lint: $(VENV)/.installed
	$(LGTM) lint

## docs: regenerate docs/lint-rules.md from the lint rules' docstrings (a test fails when it is stale)
docs: $(VENV)/.installed
	$(LGTM) lint --docs > docs/lint-rules.md

## plan: build for ENV and show what publish would change (exit 1 of `plan`, "changes pending", is no error here)
plan: $(VENV)/.installed
	$(LGTM) build --env $(ENV) --out $(ENV_OUT)
	$(LGTM) plan --env $(ENV) --out $(ENV_OUT) || [ $$? -eq 1 ]

publish: $(VENV)/.installed
	$(LGTM) build --env $(ENV) --out $(ENV_OUT)
	$(LGTM) publish --env $(ENV) --out $(ENV_OUT)

configmaps: $(VENV)/.installed
	$(LGTM) build --env $(ENV) --out $(ENV_OUT)
	$(LGTM) configmaps --env $(ENV) --out $(ENV_OUT)/k8s

## emulate: serve the Grafana and Mimir emulators on the `local` ports (try `make plan ENV=local` without Docker)
emulate: $(VENV)/.installed
	$(LGTM) emulate

bench: $(VENV)/.installed
	$(BIN)/python bench/run.py

format: $(VENV)/.installed
	$(BIN)/ruff format $(PY_DIRS)
	$(BIN)/ruff check --fix $(PY_DIRS)

clean:
	rm -rf $(VENV) build .pytest_cache
