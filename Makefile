# The two commands of the README's quick start:
#   make run    set everything up (once) and open the app
#   make test   set everything up (once) and run the test suite
#
# The set-up byte-compiles the package, as pip does for an installed one, so that start-up
# does not compile every module again where PYTHONDONTWRITEBYTECODE is set.
#
# TORCH pins the CPU wheel that this kind of machine keeps on disk; pyproject.toml keeps a
# normal range for everyone else. Override it, e.g. `make run TORCH='torch'`.

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
# The tests run on every core, at most four (pytest-xdist; each worker starts its own
# PostgreSQL server and torch); `make test JOBS=0` runs them in one process.
JOBS ?= auto
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup lint bench clean

run: $(STAMP)
	$(BIN)/studyapp $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --maxprocesses=4 $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m compileall -q studyapp demos
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check studyapp demos tests benchmarks
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
