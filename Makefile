# cxkit: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint lab clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	@touch $@

setup: $(STAMP) ## create .venv and install the kit into it

demo: $(STAMP) ## build the demo data and run the main job on it
	$(BIN)/cxkit demo

test: $(STAMP) lint ## run the whole test suite
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff, the linter the code is kept clean with
	$(BIN)/ruff check .

lab: $(STAMP) ## start JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks

clean: ## remove rendered reports and generated demo data
	find reports -mindepth 1 ! -name README.md -exec rm -rf {} +
