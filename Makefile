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

# The key `make run` signs sessions with: made once, kept beside the database.
RUN_SECRET_KEY := $(CURDIR)/db.sqlite3.secret-key

$(RUN_SECRET_KEY):
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# What a venue runs on its FOH laptop: no debug pages, its own secret key, plain-HTTP
# cookies (the LAN has no TLS). DEBUG=True make run for development; with HOST=0.0.0.0,
# ALLOWED_HOSTS=<the names and addresses the other machines use> make run.
run: setup $(RUN_SECRET_KEY)
	DEBUG=$${DEBUG:-False} SECRET_KEY_FILE=$(RUN_SECRET_KEY) \
	SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-False} \
	CSRF_COOKIE_SECURE=$${CSRF_COOKIE_SECURE:-False} \
	$(BIN)/python manage.py run_stack --host $(HOST) --port $(PORT)

bench: setup
	$(BIN)/python -m bench.run_all

# 30 minutes of the whole live stack with device faults on; fails unless it stays flat.
soak: setup
	$(BIN)/python bench/soak.py --minutes 30

clean:
	rm -rf $(VENV) .run db.sqlite3* .test-db.sqlite3* staticfiles
