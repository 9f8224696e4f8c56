# flowkit: two commands for a newcomer -- `make lab` and `make test`.
# Everything the tests need is installed here: the Python venv, Azurite (npm),
# and Debian's chromium for the browser tests.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.flowkit-installed
NODE_STAMP := node_modules/.flowkit-installed
DATA   ?= data-samples
LAB_PORT ?= 8888
QUICK  ?=

.PHONY: help venv node browser setup test test-fast lab demo bench bench-parse samples clean

help:
	@echo "make lab    set up and open JupyterLab on notebooks/ (reads $(DATA)/ by default)"
	@echo "make test   set up and run every test"
	@echo "make bench  run the benchmarks (prints figures and ratios; QUICK=1 for small corpora)"
	@echo "make demo   execute every notebook headless, HTML copies in reports/"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

node: $(NODE_STAMP)

# Debian's chromium drives the browser tests (a Playwright browser download cannot work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); }

setup: venv node browser

test: setup
	$(PY) -m pytest

test-fast: venv
	$(PY) -m pytest -x -q -m "not slow"

lab: venv
	FLOWKIT_DATA=$(abspath $(DATA)) $(PY) -m flowkit.lab --port $(LAB_PORT) notebooks

demo: venv
	$(PY) -m flowkit.demo notebooks reports

bench: venv node
	$(PY) benchmarks/run.py $(if $(QUICK),--quick,)

bench-parse: venv
	$(PY) benchmarks/bench_parse.py $(if $(QUICK),--quick,)

samples: venv
	$(PY) -m flowkit.synth $(DATA)

clean:
	rm -rf $(VENV) node_modules reports .pytest_cache benchmarks/corpus benchmarks/results
