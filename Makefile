# Every target creates or refreshes the virtual environment it needs, so a fresh clone works.
# Python 3.11 is expected as `python3` (override with `make PYTHON=python3.11 …`).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The SAM CLI pins its own dependencies, so it lives in its own environment.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# Where the names data set is (see data/README.md); CI and this machine use the shared copy.
NAMEORIGIN_DATA_DIR ?= ../shared/data/names
export NAMEORIGIN_DATA_DIR
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help venv sam-venv test lint format clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[http,train,dev]'
	touch $@

venv: $(BIN)/.installed ## Create/refresh the development environment (.venv)

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet 'aws-sam-cli==1.170.0'
	touch $@

sam-venv: $(SAM_VENV)/.installed ## Create the SAM CLI environment (.venv-sam)

test: venv sam-venv ## Run the whole test suite (what CI runs)
	$(BIN)/pytest -n $(PYTEST_WORKERS)

lint: venv ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove build outputs (keeps the environments)
	rm -rf .aws-sam build .pytest_cache .mypy_cache .ruff_cache
