# gridbot: the two commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
CONFIG ?= config.yaml

.PHONY: run test check bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip >/dev/null

$(VENV)/.installed: $(PY) pyproject.toml
	$(PIP) install -e . >/dev/null
	touch $@

$(VENV)/.installed-test: $(PY) pyproject.toml
	$(PIP) install -e '.[test,bench]' >/dev/null
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/gridbot db upgrade --config $(CONFIG)
	$(VENV)/bin/gridbot run --config $(CONFIG)

check: $(VENV)/.installed
	$(VENV)/bin/gridbot check --config $(CONFIG)

test: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
