# The commands in the README. `make` alone lists them.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
CONSOLE_JS := infra/console/node_modules/.package-lock.json

.DEFAULT_GOAL := help
.PHONY: help venv demo test up down status lint test-down chromium

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

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
test: venv chromium ## run the tests (ARGS='-k services' to pick)
	@$(BIN)/python -m pytest $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): failing" >&2; fi; \
	exit $$rc

up: venv ## start the local Kafka broker and PostgreSQL, create topics, migrate
	$(BIN)/rcm up

down: venv ## stop the local Kafka broker and PostgreSQL
	$(BIN)/rcm down

status: venv ## topics, throughput, consumer lag, dead letters
	$(BIN)/rcm status $(ARGS)

lint: venv ## ruff
	$(BIN)/ruff check .

test-down: venv ## stop test services a killed test session left running (.rcm/test)
	RCM_HOME=.rcm/test RCM_KAFKA_PORT=$${RCM_TEST_KAFKA_PORT:-29092} \
	  RCM_POSTGRES_PORT=$${RCM_TEST_POSTGRES_PORT:-25432} $(BIN)/rcm down
