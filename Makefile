# minirec -- every target creates the virtual environment first if it is missing.
# Quick start: `make run` (execute all notebooks, print results) and `make test`.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LOCK   := requirements/lock.txt
# What `make typecheck` checks (mypy, configured in pyproject.toml under [tool.mypy]).
TYPED  := minirec/core minirec/hashing minirec/models minirec/train minirec/experiments

.PHONY: help install run test check lint typecheck lock data lab bench bench-seq assignments book book-check notebooks clean

help:
	@echo "make run        create .venv, execute every notebook into build/, print the results table"
	@echo "make test       everything CI runs: lint, typecheck, then all tests and nbval over notebooks/"
	@echo "make check      fast tier for the edit-test loop (< 60 s): pytest -m 'not slow'"
	@echo "make lint       ruff check and ruff format --check over minirec/ and tests/"
	@echo "make typecheck  mypy over the typed packages ($(TYPED))"
	@echo "make install    only create .venv: the exact, hashed versions of $(LOCK), then minirec"
	@echo "make lock       re-resolve $(LOCK) from pyproject.toml (newest releases), then make test"
	@echo "make data       regenerate data_samples/ bit for bit (seeded)"
	@echo "make lab        open JupyterLab on notebooks/"
	@echo "make bench      time top-10 search: float32 vs packed codes at 10^6; exact and approximate indexes at 10^7"
	@echo "make bench-seq DATA=DIR [SEEDS=0,1,2] [ROWS=sasrec-bce,...]  sequential models vs published rows"
	@echo "make assignments  student versions of every notebook (nbgrader) in build/nbgrader/release/"
	@echo "make book       the notebooks as a static website in build/book/ (not re-executed), checked"
	@echo "make book-check make book, then screenshots from headless Chromium in build/book-shots/ (installs Debian's chromium)"
	@echo "make notebooks  refresh the committed notebook outputs from a fresh run (maintainers)"
	@echo "make clean      remove build/ and .venv/"

# Installing is one step: a virtual environment with exactly the versions of the lock (every
# package pinned with ==, every file checked against its sha256, pip itself included), then
# minirec itself, editable, without dependencies and built by the locked setuptools (no
# download), then a check that torch and torchvision really import and run.
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --require-hashes -r $(LOCK)
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	$(PY) -m minirec.course.environment
	touch $(STAMP)

install: $(STAMP)

# `make lock` resolves the dependencies of pyproject.toml afresh (runtime and the dev extra, from
# their lower bounds up, plus requirements/lock.in: pip and uv): the newest releases on PyPI that
# fit, for CPython 3.11 (3.11.5 or later) on Linux x86_64 (manylinux_2_28), with the sha256 of
# every file of each pinned release. Constraint files that pip is configured with on this machine
# (`pip config list`) bind the resolution too, so that pip can install the result here. Then it
# reinstalls .venv from the new lock (packages dropped from the lock stay until `make clean`) and
# runs every test.
LOCK_CONSTRAINTS = $(shell $(PY) -m pip config list 2>/dev/null | sed -n "s/^[^.]*\.constraint='\(.*\)'$$/\1/p")

lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml requirements/lock.in --extra dev --upgrade \
	    --generate-hashes --python-version 3.11.5 --python-platform x86_64-manylinux_2_28 \
	    $(addprefix -c ,$(LOCK_CONSTRAINTS)) --custom-compile-command "make lock" -o $(LOCK)
	$(MAKE) test

run: $(STAMP)
	$(PY) -m minirec.course.runner

# Everything: CI runs exactly this (.ci/run).
test: $(STAMP) lint typecheck
	$(PY) -m pytest

# The fast tier: tests marked `slow` (notebooks, grading, command-line training, benchmarks) skipped.
check: $(STAMP)
	$(PY) -m pytest -m "not slow"

lint: $(STAMP)
	$(PY) -m ruff check minirec tests book
	$(PY) -m ruff format --check minirec tests book

typecheck: $(STAMP)
	$(PY) -m mypy $(TYPED)

data: $(STAMP)
	$(PY) -m minirec.data.generate

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

# Two tables: top-10 search at N = 10^6 (float32 against packed codes), then past one linear scan
# at N = 10^7 (multi-index hashing, a memory-mapped code file, faiss IVF / HNSW / multi-hash).
bench: $(STAMP)
	$(PY) -m minirec.experiments.hamming
	$(PY) -m minirec.experiments.hamming_scale

# The sequential models against the published numbers on a real sequence folder (e.g. the S3-Rec
# split of Amazon Beauty): one Markdown table. About 40 minutes per seed for all four rows.
SEEDS ?= 0
ROWS  ?= sasrec-bce,sasrec-ce,sasrec-sampled,fusion-ce
bench-seq: $(STAMP)
	@test -n "$(DATA)" || { echo "make bench-seq: set DATA=<folder with <name>.txt>"; exit 2; }
	$(PY) -m minirec.experiments.seqbench --data $(DATA) --seeds $(SEEDS) --rows $(ROWS)

assignments: $(STAMP)
	$(PY) -m minirec.course.assignments

# The book: Sphinx + myst-nb + the book theme render the committed notebooks (never executed),
# the README's opening, the data and teaching pages and the API reference into build/book/, with
# warnings as errors; then every page, link, image, formula and collapsed solution is checked.
book: $(STAMP)
	$(PY) -m minirec.course.book --out build/book

# The book as a reader sees it: Debian's chromium (installed with apt-get if missing; never a
# browser downloaded by a Python package) checks that MathJax typesets notebook 06 and writes
# screenshots of the landing page and notebook 06 to build/book-shots/.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
book-check: book
	@command -v chromium >/dev/null 2>&1 || { \
	    command -v apt-get >/dev/null 2>&1 || { echo "make book-check: needs chromium; install it with your package manager (Debian: apt-get install chromium)"; exit 2; }; \
	    echo "installing Debian's chromium with apt-get"; \
	    $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }
	$(PY) -m minirec.course.book --out build/book --check-only --screenshots build/book-shots

notebooks: $(STAMP)
	$(PY) -m minirec.course.runner --in-place

clean:
	rm -rf build $(VENV)
