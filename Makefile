# flowstatus: every target installs what it needs into .venv first.
# Downloads (the OpenSearch zip, Maven's and pip's caches) live outside the
# clone, so a fresh clone reuses them.

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8080
STAMP  := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: help install browser promtool run test lint bench clean

help:
	@echo "make run    serve flowstatus on 127.0.0.1:$(PORT) (starts a local OpenSearch unless OPENSEARCH_URL is set)"
	@echo "make test   install, start OpenSearch, run the whole suite"
	@echo "make lint   ruff, mypy and the layer rules (import-linter)"
	@echo "make bench  benchmarks against raw OpenSearch and the Flow Framework plugin"

$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# setuptools says "Editable installation." on every editable install: a notice, not a problem.
	PYTHONWARNINGS="ignore:Editable installation.:UserWarning" $(PY) -m pip install --quiet -e '.[test,dev,bench]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) -m devtools.opensearch run -- $(VENV)/bin/flowstatus serve --init-index --port $(PORT)

# The browser tests drive Debian's chromium (Playwright never downloads one here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  echo "installing Debian's chromium for the browser tests..."; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The alert rules in docs/ are checked with promtool, taken out of Debian's prometheus package
# into the cache (nothing is installed, no service is started); elsewhere the check runs where
# promtool is on PATH.
CACHE    ?= $(or $(FLOWSTATUS_CACHE_DIR),$(if $(filter 0,$(shell id -u)),/var/cache/flowstatus,$(HOME)/.cache/flowstatus))
PROMTOOL := $(CACHE)/promtool/usr/bin/promtool
export PATH := $(dir $(PROMTOOL)):$(PATH)

promtool:
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "fetching promtool from Debian's prometheus package..."; \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && tmp=$$(mktemp -d) && chmod 755 $$tmp && \
	  (cd $$tmp && apt-get download -qq prometheus) && \
	  mkdir -p $(CACHE)/promtool && dpkg-deb -x $$tmp/prometheus_*.deb $(CACHE)/promtool && rm -rf $$tmp; }

# Two runs, one generation each, one after the other (only one run's nodes live at a time): the
# whole suite with the interop suite on a 2.19.6 plugin node, then the interop, integration and
# contract suites on 3.6.0 nodes of their own (a plugin node, a plain one). Both print their
# summary; the target fails if either run failed. PYTEST_ARGS go to both runs.
test: $(STAMP) browser $(if $(filter true,$(CI)),promtool)
	@status=0; \
	FLOWSTATUS_INTEROP_VERSION=2.19.6 $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	echo "make test: the 3.x generation (OpenSearch 3.6.0): tests/interop tests/integration tests/contract"; \
	env -u OPENSEARCH_URL -u OPENSEARCH_URLS FLOWSTATUS_OPENSEARCH_VERSION=3.6.0 FLOWSTATUS_INTEROP_VERSION=3.6.0 \
	  $(PY) -m pytest $(PYTEST_ARGS) tests/interop tests/integration tests/contract || status=$$?; \
	exit $$status

# One line-length setting for the whole tree; the layer rules live in setup.cfg [importlinter].
lint: $(STAMP)
	$(VENV)/bin/ruff check --line-length 120 flowstatus tests devtools bench
	$(VENV)/bin/mypy flowstatus devtools
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
