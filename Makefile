# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.statbot-installed
ORG ?= examples/org.yaml
export STATBOT_DATABASE_URL ?= sqlite+aiosqlite:///statbot.db

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/statbot db upgrade
	$(BIN)/statbot org apply $(ORG)
	@if [ -n "$$SLACK_BOT_TOKEN$$MicrosoftAppId" ]; then \
		exec $(BIN)/statbot serve; \
	else \
		exec $(BIN)/statbot chat; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check bot storage adapters tests $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) statbot.db .pytest_cache .mypy_cache .ruff_cache
