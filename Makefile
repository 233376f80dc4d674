# Two commands do everything on a fresh machine with only python3: `make demo` and `make test`.
PY ?= python3
export PIP_CONFIG_FILE := /dev/null
export PIP_DISABLE_PIP_VERSION_CHECK := 1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DB ?= runs/demo.db

.PHONY: demo test lint bench clean

# pip itself comes first, pinned by hash (requirements-bootstrap.lock); then the locked packages; then
# every .pth file in site-packages is checked against an allow-list (tools/check_pth.py).
$(STAMP): requirements-bootstrap.lock requirements.lock pyproject.toml tools/check_pth.py
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-bootstrap.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python tools/check_pth.py
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sim run worlds/repeated/scenarios/demo.yaml --db $(DEMO_DB) --new-run

test: $(STAMP)
	$(BIN)/ruff check app.py sim worlds agents tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check app.py sim worlds agents tests bench
	$(BIN)/ruff format --check app.py sim worlds agents tests bench

$(VENV)/.bench-stamp: $(STAMP) requirements-bench.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-bench.lock
	touch $@

bench: $(VENV)/.bench-stamp
	$(BIN)/python bench/repeated_tournament.py
	$(BIN)/python bench/llm_throughput.py
	$(BIN)/python bench/avalon_games.py

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache .mypy_cache
