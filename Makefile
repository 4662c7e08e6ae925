# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint bench bench-app screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	@# The portal's browser tests drive Debian's Chromium (never a downloaded browser).
	@command -v chromium >/dev/null || { \
	  as_root=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian's chromium for the browser tests"; \
	  $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
	  || { $$as_root apt-get update -qq && \
	       $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; }
	touch $@

## make run: set up, migrate, create a demo company on an empty database, serve on 127.0.0.1:8000
run: $(STAMP)
	$(BIN)/dtehub db upgrade
	$(BIN)/dtehub demo
	$(BIN)/dtehub serve --host 127.0.0.1 --port 8000

## make test: set up with test extras and run the whole suite
test: $(TEST_STAMP)
	$(BIN)/pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## make bench: the documents benchmark (1M documents; takes several minutes)
bench: $(TEST_STAMP)
	$(BIN)/python bench/documents.py

## make bench-app: every page of the web app at 1M documents (bench/app.py; takes several minutes)
bench-app: $(TEST_STAMP)
	$(BIN)/python bench/app.py

## make screenshots: the README's pictures of the web app (docs/screenshots/take.py, Debian's chromium)
screenshots: $(TEST_STAMP)
	$(BIN)/python docs/screenshots/take.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
