# Every entry point a person needs. Targets call the tools directly; read them to see what runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup browser test lint format demo bench check-infra clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) ## create .venv and install the project with its dev extras (idempotent)

# Debian's Chromium for the page's browser test (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium is missing and cannot be installed here: the browser test will be skipped"

test: setup browser ## the whole test suite
	$(BIN)/pytest

lint: setup ## ruff, formatting, and mypy --strict on the core
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: setup ## the whole loop on real flights, offline, on ./.flightdelay/
	$(BIN)/flightdelay demo

clean: ## remove the local stores and caches (not the virtual environment)
	rm -rf .flightdelay .pytest_cache .mypy_cache .ruff_cache

bench: setup ## benchmarks; every figure is measured in this run
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.fetcher
	$(BIN)/python -m bench.evaluator
	$(BIN)/python -m bench.model_quality
