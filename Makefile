# Two entry points for a fresh machine (see README):
#   make book   set up a virtual environment, then build the book (HTML in _build/html)
#   make test   set up the same environment, then run the test suite
#   make js-test  the browser twin's node tests (node >= 20), against the library
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: book test js-test bench reproduce clean

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

book: $(BIN)/.installed
	$(BIN)/jupyter-book build . -W --keep-going
	@echo "Open _build/html/index.html"

test: $(BIN)/.installed
	$(BIN)/python -m pytest

# The browser twin (usaav/web) against the Python library, in the same run.
js-test: $(BIN)/.installed
	USAAV_PYTHON=$(abspath $(BIN))/python npm test

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_velocity.py

reproduce: $(BIN)/.installed
	$(BIN)/python -m usaav reproduce all --out reproduce-out

clean:
	rm -rf _build .pytest_cache
