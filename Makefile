# The README's two commands, `make demo` and `make test`, set up everything they need themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test demo bench lint typecheck pytest js chromium clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,image]'
	touch $@

js_snippet/node_modules/.installed: js_snippet/package.json js_snippet/package-lock.json
	cd js_snippet && npm ci --no-audit --no-fund
	touch $@

# Debian's Chromium drives the browser tests; Playwright never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

js: js_snippet/node_modules/.installed
	cd js_snippet && npm run build && npm test

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

pytest: $(BIN)/.installed chromium js
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: $(BIN)/.installed chromium js
	$(BIN)/python benchmarks/run.py

demo: $(BIN)/.installed chromium js
	$(BIN)/python examples/demo.py

clean:
	rm -rf $(VENV) js_snippet/node_modules .inferwatch
