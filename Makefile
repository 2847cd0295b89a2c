# flowstatus: every target installs what it needs into .venv first.
# Downloads (the OpenSearch zip, Maven's and pip's caches) live outside the
# clone, so a fresh clone reuses them.

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8080
STAMP  := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: help install run test lint bench clean

help:
	@echo "make run    serve flowstatus on 127.0.0.1:$(PORT) (starts a local OpenSearch unless OPENSEARCH_URL is set)"
	@echo "make test   install, start OpenSearch, run the whole suite"
	@echo "make lint   ruff and mypy"
	@echo "make bench  benchmarks against raw OpenSearch"

$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) -m flowstatus.launcher run -- $(VENV)/bin/flowstatus serve --init-index --port $(PORT)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check --line-length 120 flowstatus tests
	$(VENV)/bin/mypy --ignore-missing-imports flowstatus

bench: $(STAMP)
	@echo "no benchmarks yet"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
