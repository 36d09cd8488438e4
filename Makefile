# minirec -- every target creates the virtual environment first if it is missing.
# Quick start: `make run` (execute all notebooks, print results) and `make test`.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help run test data lab bench assignments notebooks clean

help:
	@echo "make run        create .venv, execute every notebook into build/, print the results table"
	@echo "make test       create .venv if needed, run unit tests and nbval over notebooks/"
	@echo "make data       regenerate data_samples/ bit for bit (seeded)"
	@echo "make lab        open JupyterLab on notebooks/"
	@echo "make bench      time top-10 search: float32 vs packed binary codes (numpy, faiss); one table"
	@echo "make assignments  student versions of every notebook (nbgrader) in build/nbgrader/release/"
	@echo "make notebooks  refresh the committed notebook outputs from a fresh run (maintainers)"
	@echo "make clean      remove build/ and .venv/"

# Installing is one step: a virtual environment with the package and its dev extra, then a
# check that torch and torchvision really import and run (see DESIGN.md section 3).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[dev]'
	$(PY) -m minirec.environment
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m minirec.runner

test: $(STAMP)
	$(PY) -m pytest

data: $(STAMP)
	$(PY) -m minirec.data.generate

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	$(PY) -m minirec.bench.hamming

assignments: $(STAMP)
	$(PY) -m minirec.assignments

notebooks: $(STAMP)
	$(PY) -m minirec.runner --in-place

clean:
	rm -rf build $(VENV)
