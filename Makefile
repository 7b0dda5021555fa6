# Two entry points for a fresh machine (see README):
#   make app    set up .venv and start the Streamlit app on the embedded data
#   make test   set up .venv (+ Debian chromium/poppler for browser and PDF tests) and run lint + tests
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: app test lint setup setup-test system-deps layers validate bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e .

setup-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

# Browser (end-to-end map test) and pdftoppm (print checks) come from Debian's packages.
system-deps:
	@command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; }

app: setup
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT) --browser.gatherUsageStats false

lint: setup-test
	$(BIN)/ruff check geo tests app.py benchmarks
	$(BIN)/ruff format --check geo tests app.py benchmarks

test: setup-test system-deps lint
	$(BIN)/python -m pytest

layers: setup
	$(BIN)/python -m geo build

validate: setup
	$(BIN)/python -m geo validate

bench: setup-test system-deps
	$(BIN)/python benchmarks/bench_coverage.py
	$(BIN)/python benchmarks/bench_network.py
	$(BIN)/python benchmarks/bench_atlas.py
	$(BIN)/python benchmarks/bench_webmap.py
	$(BIN)/python benchmarks/bench_sessions.py
	$(BIN)/python benchmarks/bench_siting.py
