# Two commands: `make run` starts the app, `make test` runs the whole suite. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test chromium bench clean

$(VENV)/.app-installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.test-installed: $(VENV)/.app-installed requirements-test.txt
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	@touch $@

run: $(VENV)/.app-installed
	$(BIN)/streamlit run app.py --server.port $(PORT)

# Debian's Chromium drives the browser tests (Playwright cannot download its own browser here).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation; \
		else \
			echo "Chromium is missing: run 'sudo apt-get install chromium' for the browser tests."; \
		fi; \
	fi

test: $(VENV)/.test-installed chromium
	$(BIN)/python -m pytest

# Benchmarks print markdown tables; the SDV anchor is a bench-only dependency (requirements-bench.txt).
bench: $(VENV)/.test-installed
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	$(BIN)/python bench/read_profile.py
	$(BIN)/python bench/generators.py --epochs 100
	$(BIN)/python bench/sampling.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
