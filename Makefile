# One-command set-up and runs. Needs only Python 3.11+ and make: the first target creates .venv and installs
# metacalc with its dependencies; later runs reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.metacalc-installed
CORES ?= 1
# The workflow's progress summary, a Snakemake logger plugin: installed normally (Snakemake does not find
# plugins installed in editable mode), and again whenever it changes. (A wheel of metacalc carries it too.)
LOGGER_PLUGIN := snakemake/logger
LOGGER_SOURCES := $(LOGGER_PLUGIN)/pyproject.toml $(wildcard $(LOGGER_PLUGIN)/snakemake_logger_plugin_metacalc/*.py)

.PHONY: report test check bench clean

# The repository root is a review folder: its Snakefile uses the workflow shipped in metacalc (module directive).
# The workflow prints one line per job and where the report is; full logs are in reports/logs/.
report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

# The package's tests (on fixtures under tests/; one worker per core, each test file in one worker so that its
# module fixtures are built once), then the bundled review's own check: its results against its
# expected findings (expected_findings.yaml), which an update of the review updates.
test: $(STAMP)
	$(BIN)/mypy metacalc
	$(BIN)/pytest -q -n auto --dist loadfile
	$(BIN)/metacalc check

check: $(STAMP)
	$(BIN)/metacalc check

# Every speed target side by side (engine vs metafor, workflow vs floor, scale series 1k/10k/100k), written to
# benchmarks/bench_results.md; the scripts it runs also run alone (benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

clean:
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf .snakemake

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "metacalc needs Python 3.11 or later")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml $(LOGGER_SOURCES) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]' ./$(LOGGER_PLUGIN)
	touch $(STAMP)
