# zkperp: `make demo` runs the whole scenario, `make test` the tests. Both set up what they need.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP_PY  := $(VENV)/.installed
STAMP_NPM := node_modules/.installed
PRESET  ?= devnet
PYTEST_ARGS ?=
TEST_WORKERS ?= 2

.PHONY: setup engine native browser test test-all demo bench bench-quick lint clean

setup: $(STAMP_PY) $(STAMP_NPM) engine native browser

$(STAMP_PY): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	touch $@

$(STAMP_NPM): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The rules compiled to C by mypyc, for the current sources (a no-op when built): several times
# faster. Without a C compiler the build fails, says so, and the rules run interpreted; with CI
# set, a failed build fails the run (the compiled-engine differential test must not skip).
engine: $(STAMP_PY)
	$(VPY) -m scripts.build_engine --best-effort

# The native core (native/zkperp_native.c: the field, Poseidon, EdDSA verification), for the
# current source (a no-op when built): Poseidon and signature checks in C. Best-effort like the
# engine: without a compiler the Python code runs (the reference); with CI set a failure fails.
native: $(STAMP_PY)
	$(VPY) -m scripts.build_native --best-effort

# Debian's headless Chromium and its driver, for the explorer's browser test (apt, where
# missing and where apt can install as root); without them that test skips and says why.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "no chromium: the explorer's browser test will skip"

# The tests at the `minimal` preset; full prove/verify runs are the `prove` marker's smaller set.
# On TEST_WORKERS processes (pytest-xdist; tests/conftest.py keeps some modules on one worker);
# TEST_WORKERS=0 runs them in this process.
test: setup
	$(VPY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

demo: setup
	$(VENV)/bin/zkperp demo --preset $(PRESET)

bench: setup
	for b in bench/[!_]*.py; do [ $$b = bench/common.py ] || { echo "== $$b"; $(VPY) $$b || exit 1; }; done

# Every benchmark on small inputs (what tests/bench runs, from an empty build directory).
bench-quick: setup
	for b in bench/[!_]*.py; do [ $$b = bench/common.py ] || { echo "== $$b"; $(VPY) $$b --quick || exit 1; }; done

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
