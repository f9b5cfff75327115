# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.statbot-installed
ORG ?= examples/org.yaml
export STATBOT_DATABASE_URL ?= sqlite+aiosqlite:///statbot.db
# Exact versions with hashes: the runtime's (the Docker image) and the developers' (CI).
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# `make lock` resolves for this interpreter (the image's Python) in a venv of its own.
LOCK_PYTHON ?= python3.11
LOCK_VENV ?= .venv-lock
# e.g. `make lock LOCK_FLAGS=--upgrade` to move every pin to the newest allowed release.
LOCK_FLAGS ?=
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_FLAGS)
PY_DIRS := bot storage adapters tests alembic $(wildcard bench)

.PHONY: run test lint bench install lock clean

$(STAMP): pyproject.toml $(DEV_LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	@touch $(STAMP)

install: $(STAMP)

lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || { $(LOCK_PYTHON) -m venv $(LOCK_VENV) \
		&& $(LOCK_VENV)/bin/python -m pip install --quiet 'pip-tools>=7.4,<8'; }
	$(PIP_COMPILE) --output-file $(LOCK) pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint $(LOCK) --output-file $(DEV_LOCK) pyproject.toml

run: $(STAMP)
	$(BIN)/statbot db upgrade
	$(BIN)/statbot org apply $(ORG)
	@if [ -n "$$SLACK_BOT_TOKEN$$MicrosoftAppId" ]; then \
		exec $(BIN)/statbot serve; \
	else \
		exec $(BIN)/statbot chat; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/mypy
	$(BIN)/lint-imports

# Tests run on one worker per core (pytest-xdist), or one after another when they share a
# PostgreSQL database (STATBOT_TEST_DATABASE_URL): each run resets that database.
PYTEST_WORKERS ?= $(if $(STATBOT_TEST_DATABASE_URL),0,auto)

test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(LOCK_VENV) statbot.db .pytest_cache .mypy_cache .ruff_cache build
