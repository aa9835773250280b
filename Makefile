# Two commands do all the set-up: `make demo` and `make test`.
# Both create .venv (once; again only when pyproject.toml changes) with only Python 3.11+, pip
# and make on the machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck sample-data benchmarks clean help chromium

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

demo: $(VENV)/.installed-all
	$(BIN)/python scripts/demo.py --out $(OUT)

test: $(VENV)/.installed-dev chromium
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
