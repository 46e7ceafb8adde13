# lgtm-dash: two set-up commands on a fresh Debian machine: `make build` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LGTM   := $(BIN)/lgtm-dash
ENV    ?= dev
# Artifacts for environments other than the committed one (dev) are built outside out/.
ENV_OUT = $(if $(filter dev,$(ENV)),out,build/$(ENV))

.PHONY: build test check lint docs plan publish configmaps bench tools format clean

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

## test: install what the tests need, check out/ is current, lint the code, run the tests
test: $(VENV)/.installed tools
	$(BIN)/ruff check lgtm_dash datasources dashboards alerts tests bench
	$(MAKE) --no-print-directory check
	$(BIN)/pytest

## check: fail when the committed out/ is stale against the Python definitions
check: $(VENV)/.installed
	$(LGTM) build --check

lint: $(VENV)/.installed
	$(LGTM) lint

## docs: regenerate docs/lint-rules.md from the lint rules' docstrings (a test fails when it is stale)
docs: $(VENV)/.installed
	$(LGTM) lint --docs > docs/lint-rules.md

plan: $(VENV)/.installed
	$(LGTM) build --env $(ENV) --out $(ENV_OUT)
	$(LGTM) plan --env $(ENV) --out $(ENV_OUT)

publish: $(VENV)/.installed
	$(LGTM) build --env $(ENV) --out $(ENV_OUT)
	$(LGTM) publish --env $(ENV) --out $(ENV_OUT)

configmaps: $(VENV)/.installed
	$(LGTM) build --env $(ENV) --out $(ENV_OUT)
	$(LGTM) configmaps --env $(ENV) --out $(ENV_OUT)/k8s

bench: $(VENV)/.installed
	$(BIN)/python bench/run.py

format: $(VENV)/.installed
	$(BIN)/ruff format lgtm_dash datasources dashboards alerts tests bench
	$(BIN)/ruff check --fix lgtm_dash datasources dashboards alerts tests bench

clean:
	rm -rf $(VENV) build .pytest_cache
