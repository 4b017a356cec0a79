# gridbot: the two commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
CONFIG ?= config.yaml

# Debian packages the project needs: a CJK font for the digest charts' Chinese labels (and screenshots),
# and Chromium for the console's browser tests.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
CHROMIUM := /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT      := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

.PHONY: run test check bench screenshots clean

$(CJK_FONT):
	$(APT) install -y --no-install-recommends fonts-wqy-microhei >/dev/null || \
	  { $(APT) update >/dev/null && $(APT) install -y --no-install-recommends fonts-wqy-microhei >/dev/null; }

$(CHROMIUM):
	$(APT) install -y --no-install-recommends chromium >/dev/null || \
	  { $(APT) update >/dev/null && $(APT) install -y --no-install-recommends chromium >/dev/null; }

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip >/dev/null

# setup.py builds the parser's optional C extension: a change to it or to its source builds it again
$(VENV)/.installed: $(PY) pyproject.toml setup.py bot/domain/parsing/_grams.c
	$(PIP) install -e . >/dev/null
	touch $@

$(VENV)/.installed-test: $(PY) pyproject.toml setup.py bot/domain/parsing/_grams.c
	$(PIP) install -e '.[test,bench]' >/dev/null
	touch $@

run: $(VENV)/.installed $(CJK_FONT)
	$(VENV)/bin/gridbot db upgrade --config $(CONFIG)
	$(VENV)/bin/gridbot run --config $(CONFIG)

check: $(VENV)/.installed
	$(VENV)/bin/gridbot check --config $(CONFIG)

test: $(VENV)/.installed-test $(CJK_FONT) $(CHROMIUM)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test $(CJK_FONT)
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

# the main pages at 375 and 1440 px into screenshots/ (git-ignored), with the browser tests' Playwright + Chromium
screenshots: $(VENV)/.installed-test $(CJK_FONT) $(CHROMIUM)
	$(PY) -m tests.browser.screenshots screenshots

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info bot/domain/parsing/_grams.*.so
