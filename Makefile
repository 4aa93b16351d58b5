# hwgen: the two set-up commands of the README are `make demo` and `make test`.
# Both create .venv/ in the checkout on first use (idempotent) with the pinned stack.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo demo-estimate test test-slow test-gpu install tools bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=23.2" setuptools wheel
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	@# da4ml (the open path) JIT-compiles its numba kernels on first use and caches them in the
	@# venv: doing it here keeps that one-time cost (~85 s on 2 cores) out of the first run.
	@echo "compiling da4ml's numba kernels once (about 1.5 minutes on 2 cores; cached in $(VENV))"
	@$(PY) -W ignore -c "from hwgen.synth.open.trace import warm_up; print(f'  done in {warm_up():.0f} s')" \
		|| echo "  (not done: the open path compiles them on its first trace instead)"
	@touch $(STAMP)

install: $(STAMP) tools

tools:
	@bash scripts/install-tools.sh

# The demo: digits_mlp through training, C-sim, the open path (bit-exact RTL simulation and
# Yosys LUT/FF) and the labelled estimate, about 90 s on 2 cores after the install;
# `make demo-estimate` leaves the open path out (about 25 s).
demo: install
	$(VENV)/bin/hwgen flow models/digits_mlp.yaml --synth open,estimate

demo-estimate: install
	$(VENV)/bin/hwgen flow models/digits_mlp.yaml --synth estimate --out runs/digits_mlp_estimate

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
