# Micboard: `make run` starts the whole demo, `make test` runs every check.
# Both work on a fresh Debian machine: they install what is missing (as root, via apt).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint pytest setup system-deps bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: system-deps $(STAMP)

system-deps:
	@bash scripts/ensure-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy micboard dashboard realtime bench

pytest: $(STAMP)
	$(BIN)/pytest

test: setup lint pytest

run: setup
	$(BIN)/python manage.py run_stack --host $(HOST) --port $(PORT)

bench: setup
	$(BIN)/python -m bench.run_all

# 30 minutes of the whole live stack with device faults on; fails unless it stays flat.
soak: setup
	$(BIN)/python bench/soak.py --minutes 30

clean:
	rm -rf $(VENV) .run db.sqlite3* .test-db.sqlite3* staticfiles
