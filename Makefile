# The commands in the README. `make` alone lists them.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
CONSOLE_JS := infra/console/node_modules/.package-lock.json

.DEFAULT_GOAL := help
.PHONY: help venv demo test test-unit test-integration test-e2e up down status lint typecheck test-down chromium

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z0-9-]*:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) $(CONSOLE_JS) ## create .venv (Python 3.11) and install the project with dev extras

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# The console's third-party JavaScript (Chart.js, htmx) from npm, as its lock file pins it.
$(CONSOLE_JS): infra/console/package.json infra/console/package-lock.json
	npm ci --prefix infra/console --no-audit --no-fund

# The browser tests drive Debian's headless Chromium through its chromedriver.
chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -q && apt-get install -y -q chromium chromium-driver; }

demo: venv ## run the whole pipeline on synthetic data and summarise
	$(BIN)/rcm demo $(ARGS)

# The services fixture starts Kafka and PostgreSQL itself (jars come from Maven Central once).
# pytest exits 5 when it collected nothing: that is a failure, never a pass.
PYTEST = @$(BIN)/python -m pytest $(1) $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: pytest collected no tests (exit 5): failing" >&2; fi; \
	exit $$rc

test: venv chromium ## every layer in one session: unit, stream, integration, e2e, console (ARGS='-k services' to pick)
	$(call PYTEST,)

test-unit: venv ## tests/unit and tests/stream: no services, under a minute
	$(call PYTEST,tests/unit tests/stream)

test-integration: venv ## tests/integration: the sink and views on a real PostgreSQL (starts it)
	$(call PYTEST,tests/integration)

test-e2e: venv chromium ## tests/e2e and tests/console: the real services end to end, and the console in Chromium
	$(call PYTEST,tests/e2e tests/console)

up: venv ## start the local Kafka broker and PostgreSQL, create topics, migrate
	$(BIN)/rcm up

down: venv ## stop the local Kafka broker and PostgreSQL
	$(BIN)/rcm down

status: venv ## topics, throughput, consumer lag, dead letters
	$(BIN)/rcm status $(ARGS)

lint: venv ## ruff (defaults, import order, private access, complexity)
	$(BIN)/ruff check .

typecheck: venv ## mypy on the rule modules and schemas/ (pyproject.toml [tool.mypy])
	$(BIN)/mypy

test-down: venv ## stop test services a killed test session left running (.rcm/test)
	RCM_HOME=.rcm/test RCM_KAFKA_PORT=$${RCM_TEST_KAFKA_PORT:-29092} \
	  RCM_POSTGRES_PORT=$${RCM_TEST_POSTGRES_PORT:-25432} $(BIN)/rcm down
