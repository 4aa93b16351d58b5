# hwgen: the two set-up commands of the README are `make demo` and `make test`.
# Both create .venv/ in the checkout on first use (idempotent) with the pinned stack.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo demo-open test test-slow test-gpu install tools bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=23.2" setuptools wheel
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	@touch $(STAMP)

install: $(STAMP) tools

tools:
	@bash scripts/install-tools.sh

# The demo keeps to about a minute on 2 cores with the labelled estimate as its synthesis
# source; `make demo-open` runs the open Yosys/RTL-simulation path too (minutes: Yosys dominates).
demo: install
	$(VENV)/bin/hwgen flow models/digits_mlp.yaml --synth estimate

demo-open: install
	$(VENV)/bin/hwgen flow models/digits_mlp.yaml --synth open,estimate --out runs/digits_mlp_open

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: install
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

test-gpu: install
	$(PY) -m pytest -m gpu -rs $(PYTEST_ARGS)

bench: install
	$(PY) benchmarks/bench_open_jet.py

clean:
	rm -rf runs .pytest_cache
