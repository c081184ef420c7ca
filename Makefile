# cxkit: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint docs lab quarter bench bench-quick bench-batch test-spark clean screenshots look

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@bash .ci/system-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,spark]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	@touch $@

setup: $(STAMP) ## create .venv and install the kit into it

demo: $(STAMP) ## build the demo data and render the demo leadership report (HTML and PDF) into reports/
	$(BIN)/cxkit demo

test: $(STAMP) lint docs ## lint, build the docs, run the whole test suite, the Spark tests (local mode, Java 17) included
	$(BIN)/python -m pytest

test-spark: $(STAMP) ## only the warehouse engine's tests on Spark in local mode
	$(BIN)/python -m pytest -m spark

lint: $(STAMP) ## ruff, and the import contracts that keep the layers one way down (import-linter)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

docs: $(STAMP) ## the documentation site into site/ (MkDocs, warnings are errors; about 15 s of CPU); open site/index.html
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

lab: $(STAMP) ## JupyterLab in this project on the kit's kernel (as root too); PORT=9000, NO_BROWSER=1, IP=0.0.0.0
	$(BIN)/cxkit lab $(if $(PORT),--port $(PORT)) $(if $(NO_BROWSER),--no-browser) $(if $(IP),--ip $(IP))

quarter: $(STAMP) ## render the sample quarter (one report per region, product and care) in one batch
	$(BIN)/cxkit demo --no-report
	$(BIN)/cxkit batch params/quarter.yaml

bench: $(STAMP) ## benchmark at 100k, 1M and 10M customers against pandas + lifelines, then the audience batch; writes benchmarks/results.json
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/batch.py

bench-batch: $(STAMP) ## the audience-batch rows only: 100 and 1,000 audiences over 1M customers (about half an hour)
	$(BIN)/python benchmarks/batch.py

bench-quick: $(STAMP) ## the benchmark at 100k and 1M customers only (a few minutes)
	$(BIN)/python benchmarks/run.py --quick

screenshots: demo ## README's pictures: the demo and Telco reports (Chromium) and the demo email (Thunderbird)
	$(BIN)/cxkit render params/telco.yaml
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1500 \
	  --screenshot=notebooks/images/report-first-page.png file://$(CURDIR)/reports/demo/report.html
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1100 \
	  --screenshot=notebooks/images/telco-first-page.png file://$(CURDIR)/reports/telco/report.html
	$(BIN)/cxkit email reports/demo --to leadership@example.com
	$(BIN)/python -W ignore -c "from pathlib import Path; from tests.thunderbird import open_eml; \
	  open_eml(Path('reports/demo/email.eml').resolve(), Path('notebooks/images/demo-email-thunderbird.png'))"

LOOK ?= look
look: $(STAMP) ## PNGs of every page and slide of the demo, Telco and one sample-quarter audience in look/, for a person to read (not run by CI; needs LibreOffice)
	@command -v soffice > /dev/null || { echo "make look: LibreOffice draws the slides: apt-get install -y libreoffice-impress"; exit 1; }
	rm -rf $(LOOK) && mkdir -p $(LOOK)
	$(BIN)/cxkit demo --no-report
	$(BIN)/cxkit render params/demo.yaml --out $(LOOK)/reports --pptx
	@if [ -f ../shared/data/telco/telco_customer_churn.csv ]; then $(BIN)/cxkit render params/telco.yaml --out $(LOOK)/reports --pptx; \
	  else echo "make look: no Telco data beside the project, left out"; fi
	$(BIN)/cxkit batch params/quarter.yaml --out $(LOOK)/reports --pptx --shard 1/8
	@for run in $(LOOK)/reports/*/; do name=$$(basename $$run); [ -f $$run/report.pdf ] || continue; \
	  pdftoppm -r 80 -png $$run/report.pdf $(LOOK)/$$name-page; \
	  mkdir -p $(LOOK)/.slides/$$name; \
	  soffice --headless -env:UserInstallation=file://$(abspath $(LOOK))/.lo --convert-to pdf \
	    --outdir $(LOOK)/.slides/$$name $$run/report.pptx > /dev/null; \
	  pdftoppm -r 60 -png $(LOOK)/.slides/$$name/report.pdf $(LOOK)/$$name-slide; done
	@echo "$$(ls $(LOOK)/*.png | wc -l) pictures in $(LOOK)/: <report>-page-NN.png and <report>-slide-NN.png"

clean: ## remove rendered reports, generated demo data and the built docs (site/)
	find reports -mindepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf site
