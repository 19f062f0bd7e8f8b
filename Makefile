# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# pywb replays WARC exports in the tests. It ships a top-level `tests` package that would
# shadow ours, so it lives in a venv of its own.
PYWB_VENV ?= .venv-pywb
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: demo test bench browser

$(BIN)/wwc-archive: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# Headless Chromium (Debian's package) renders reports and Datasette pages in the tests.
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-dejavu-core; }

demo: $(BIN)/wwc-archive
	$(BIN)/wwc-archive demo

$(PYWB_VENV)/bin/wayback:
	$(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYWB_VENV)/bin/python -m pip install --quiet "pywb>=2.10,<2.11"

test: $(BIN)/wwc-archive browser $(PYWB_VENV)/bin/wayback
	WWC_PYWB_BIN=$(abspath $(PYWB_VENV))/bin $(BIN)/python -m pytest -n 2

bench: $(BIN)/wwc-archive
	$(BIN)/python bench/crawl_bench.py
