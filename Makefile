# make run: set everything up and serve the API. make test: set up and run the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
INSTALLED := $(VENV)/.installed

.PHONY: install run test test-citus lint check clean

$(INSTALLED): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Counterpart needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

install: $(INSTALLED)

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py setup_demo --base-url http://127.0.0.1:$(PORT)
	scripts/run $(PORT)

test: install
	$(BIN)/pytest

# The customer API, tenant matrix, imports, lost updates and webhooks again, on a Citus coordinator
# and two workers that scripts/citus-cluster builds and starts on this machine (needs root).
CITUS_URL := postgres://postgres@127.0.0.1:5433/counterpart
CITUS_TESTS := tests/citus tests/customers tests/webhooks tests/reliability/test_tenant_matrix.py \
	tests/reliability/test_lost_updates.py tests/reliability/test_routed_queries.py
test-citus: install
	scripts/citus-cluster start
	scripts/citus-cluster reset test_counterpart
	DATABASE_URL=$(CITUS_URL) COUNTERPART_TEST_CITUS=1 $(BIN)/pytest --reuse-db $(CITUS_TESTS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The quality gates CI runs besides the tests.
check: lint
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DJANGO_ALLOWED_HOSTS=counterpart.example.com \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
