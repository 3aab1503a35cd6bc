# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INDEX ?= .index
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test index clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# indexer/__init__.py is a prerequisite: an editable install made before it existed took
# indexer for a namespace package and would never load it.
$(VENV)/.installed: $(BIN)/python pyproject.toml indexer/__init__.py
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml indexer/__init__.py
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

index: install
	$(BIN)/vnsearch index --index $(INDEX) seeds/

# The package's bytecode made beforehand: a server that starts never compiles it, even where
# Python may not write bytecode itself (PYTHONDONTWRITEBYTECODE).
run: index
	$(BIN)/python -m compileall -q indexer search_ui
	$(BIN)/vnsearch serve --index $(INDEX) --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(INDEX) .pytest_cache

# Speed benchmark (bench/README.md, "Speed"): make bench-speed SPEED_ARGS="--sizes 2k,20k"
# The scripts in bench/ run as modules from the repo root: python -m bench.NAME
.PHONY: bench-speed
$(VENV)/.installed-bench: $(BIN)/python pyproject.toml indexer/__init__.py
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

bench-speed: $(VENV)/.installed-bench
	$(BIN)/python -m bench.speed $(SPEED_ARGS)
