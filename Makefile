# One-command set-up and runs. Needs only Python 3.11+ and make: the first target creates .venv and installs
# metacalc with its dependencies; later runs reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.metacalc-installed
CORES ?= 1

.PHONY: report test bench clean

report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	@echo "report: reports/index.html"

test: $(STAMP)
	$(BIN)/mypy metacalc
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/workflow.py

clean:
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf .snakemake

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "metacalc needs Python 3.11 or later")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)
