# The README's two commands, `make demo` and `make test`, set up everything they need themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test demo bench lint typecheck pytest clients-oldest pythons js react chromium clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,image]'
	touch $@

js_snippet/node_modules/.installed: js_snippet/package.json js_snippet/package-lock.json
	cd js_snippet && npm ci --no-audit --no-fund
	touch $@

REACT := examples/react_app
# The page installs inferwatch from js_snippet as a packed copy (see its .npmrc), as an app
# installs it from npm: a new build of the snippet is installed again.
$(REACT)/node_modules/.installed: $(REACT)/package.json $(REACT)/package-lock.json $(REACT)/.npmrc \
		js_snippet/package.json js_snippet/index.d.ts js_snippet/react.d.ts $(wildcard js_snippet/dist/*)
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); if (a < 20 || (a == 20 && b < 19)) { console.error("The example page is built with Vite, which needs Node 20.19 or later; this is " + process.version + "."); process.exit(1); }'
	cd $(REACT) && npm ci --no-audit --no-fund
	touch $@

# The example page, built with Vite from npm (the example app serves $(REACT)/dist/).
$(REACT)/dist/index.html: $(REACT)/node_modules/.installed $(REACT)/index.html $(REACT)/vite.config.js $(wildcard $(REACT)/src/* $(REACT)/public/*) js_snippet/dist/react.mjs
	cd $(REACT) && npm run build
	touch $@

react: $(REACT)/dist/index.html

# Debian's Chromium drives the browser tests; Playwright never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

# The tests rebuild the snippet into a temporary folder and fail when dist/ is stale or over budget.
js: js_snippet/node_modules/.installed
	cd js_snippet && npm test

snippet: js_snippet/node_modules/.installed
	cd js_snippet && npm run build

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

pytest: $(BIN)/.installed chromium js react
	$(BIN)/pytest -q

# The LLM client integrations, tested again with the oldest majors they support (docs/integrations.md).
OLDEST_CLIENTS := openai==2.54.0 anthropic==1.17.0
.clients-oldest/.installed: $(BIN)/.installed
	$(BIN)/pip install -q --no-deps --target .clients-oldest $(OLDEST_CLIENTS) distro tqdm
	touch $@

clients-oldest: .clients-oldest/.installed
	PYTHONPATH=.clients-oldest $(BIN)/pytest -q -p no:cacheprovider tests/integrations

# `requires-python` says 3.10 and later: the suite without the browser tests runs again on the
# oldest and the newest supported Python this machine has (.ci/pythons finds them, and says
# which it lacks), each in a venv of its own. The browser, the snippet's build and the linters
# do not depend on the interpreter, and run once, with the default one.
SUPPORTED_PYTHONS := 3.10 3.11 3.12 3.13 3.14
.PRECIOUS: .venv-py%/.installed

.venv-py%/.installed: pyproject.toml
	@python=$$(.ci/pythons --find $*) || { echo "There is no Python $* on this machine."; exit 1; }; \
		echo "$$python -m venv .venv-py$*"; $$python -m venv .venv-py$*
	.venv-py$*/bin/pip install -q --upgrade pip
	.venv-py$*/bin/pip install -q -e '.[dev,image]'
	touch $@

pytest-py%: .venv-py%/.installed
	.venv-py$*/bin/pytest -q -p no:cacheprovider -m "not browser"

pythons:
	@for version in $$(.ci/pythons $(PYTHON) $(SUPPORTED_PYTHONS)); do \
		$(MAKE) --no-print-directory pytest-py$$version || exit 1; \
	done

test: lint typecheck pytest clients-oldest pythons

bench: $(BIN)/.installed chromium js react
	$(BIN)/python benchmarks/run.py

demo: $(BIN)/.installed chromium react
	$(BIN)/python examples/demo.py

clean:
	rm -rf $(VENV) .venv-py* .clients-oldest js_snippet/node_modules $(REACT)/node_modules $(REACT)/dist .inferwatch
