# Two commands do all the set-up: `make demo` and `make test`.
# Both create .venv (once; again only when pyproject.toml changes) with only Python 3.11+, pip
# and make on the machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck sample-data benchmarks clean help chromium node-tools

help:
	@echo "make demo   - set up .venv and run the main jobs on sample_data/ (outputs in $(OUT)/)"
	@echo "make test   - set up .venv and run every test, notebooks, ruff and mypy"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# what the demo needs: geo3d with all extras
$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[all]"
	@touch $@

# what the tests need on top
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-all
	$(BIN)/python -m pip install --quiet -e ".[all,dev]"
	@touch $@

# headless Chromium (+ a Hangul font) for the browser tests in tests/viz: Debian's packages,
# installed once when missing; without root or apt the browser tests are skipped, with the reason
chromium:
	@if command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/truetype/nanum ]; then :; \
	elif [ "$$(id -u)" != 0 ]; then echo "chromium: missing and not root, browser tests will be skipped (as root: apt-get install chromium fonts-nanum)"; \
	elif ! command -v apt-get >/dev/null 2>&1; then echo "chromium: missing and no apt-get here, browser tests will be skipped"; \
	else echo "installing chromium fonts-nanum (apt-get)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum >/dev/null \
	  || echo "chromium: apt-get install failed, browser tests will be skipped"; fi

# validators of the 3D Tiles tests (tests/tiles/test_tiles3d.py), into .venv/node: the Khronos
# glTF validator, the official 3d-tiles-validator when the npm registry serves it (tried once),
# and CesiumJS's Build/Cesium; node/npm from Debian when missing and root; without them those
# tests are skipped
NPM_DIR := $(VENV)/node
# CesiumJS's built bundle (npm pack, no install) for the browser test that loads the tilesets
CESIUM_VERSION := 1.145.0
node-tools:
	@if ! command -v npm >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing nodejs npm (apt-get)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null || true; fi
	@if ! command -v npm >/dev/null 2>&1; then echo "node-tools: npm missing, the 3D Tiles validation tests will be skipped"; \
	else [ -d $(NPM_DIR)/node_modules/gltf-validator ] || npm install --silent --no-audit --no-fund --prefix $(NPM_DIR) gltf-validator@2.0.0-dev.3.10 \
	  || echo "node-tools: npm install gltf-validator failed, the 3D Tiles validation tests will be skipped"; \
	  [ -d $(NPM_DIR)/node_modules/3d-tiles-validator ] || [ -f $(NPM_DIR)/.no-3d-tiles-validator ] \
	  || npm install --silent --no-audit --no-fund --prefix $(NPM_DIR) 3d-tiles-validator@0.6.0 \
	  || { touch $(NPM_DIR)/.no-3d-tiles-validator; echo "node-tools: 3d-tiles-validator not available from this npm registry; the glTF validator and geo3d's tileset checks run instead"; }; \
	  [ -f $(NPM_DIR)/cesium/Cesium.js ] || { mkdir -p $(NPM_DIR) && cd $(NPM_DIR) && npm pack --silent cesium@$(CESIUM_VERSION) >/dev/null \
	    && tar xzf cesium-$(CESIUM_VERSION).tgz package/Build/Cesium && rm -rf cesium && mv package/Build/Cesium cesium \
	    && rm -rf package cesium-$(CESIUM_VERSION).tgz; } || echo "node-tools: npm pack cesium failed, the CesiumJS test will be skipped"; fi

demo: $(VENV)/.installed-all
	$(BIN)/python scripts/demo.py --out $(OUT)

test: $(VENV)/.installed-dev chromium node-tools
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbmake --nbmake-timeout=900 $(PYTEST_ARGS) tests geo3d notebooks
	$(BIN)/ruff check geo3d scripts benchmarks tests
	$(BIN)/mypy geo3d

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check geo3d scripts benchmarks tests

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy geo3d

sample-data: $(VENV)/.installed-all
	$(BIN)/python scripts/make_sample_data.py --out sample_data

benchmarks: $(VENV)/.installed-dev
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
