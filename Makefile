# Model Registry: the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEV_ORG ?= organization-test-demo

# The development settings every manage.py command reads (config/settings.py), written once.
DOTENV_FILE ?= .env

.PHONY: run test lint check openapi-lint bench clean venv venv-dev

$(VENV)/.runtime: requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is required"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.runtime
venv-dev: $(VENV)/.dev

## run: create the virtualenv, write .env, migrate, seed, print a development token and serve on 127.0.0.1:$(PORT)
run: $(VENV)/.runtime $(DOTENV_FILE)
	@$(PY) manage.py migrate --noinput
	@$(PY) manage.py seed_system_models
	@echo
	@echo "Development token (organization $(DEV_ORG), role stytch_admin, valid 24 h):"
	@echo
	@$(PY) manage.py dev_token --org $(DEV_ORG) --ttl 86400
	@echo
	@echo "  API:    curl -H 'Authorization: Bearer <token>' http://127.0.0.1:$(PORT)/v1/models"
	@echo "  Docs:   http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  Admin:  http://127.0.0.1:$(PORT)/admin/  (create a staff account: $(PY) manage.py createsuperuser)"
	@echo
	@$(PY) manage.py runserver 127.0.0.1:$(PORT)

# DEBUG for this one command only: the file it writes is what gives every later command its settings.
$(DOTENV_FILE): | $(VENV)/.runtime
	@DEBUG=true $(PY) manage.py dev_env --file $@

## test: the whole suite (SQLite by default; DATABASE_URL selects another database)
test: $(VENV)/.dev
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

## check: lint, migrations in step with the models, OpenAPI document valid and lint-clean
check: $(VENV)/.dev lint
	SECRET_KEY=check $(PY) manage.py makemigrations --check --dry-run
	SECRET_KEY=check $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(MAKE) --no-print-directory openapi-lint

## openapi-lint: redocly lint (redocly.yaml) with no problem, and the hey-api TypeScript SDK
## type-checks under tsc --strict (Node.js and npm; tools cached in ~/.cache/model-registry/)
openapi-lint: $(VENV)/.dev
	@set -e; dir="$$(mktemp -d)"; trap 'rm -rf "$$dir"' EXIT; \
	SECRET_KEY=check $(PY) manage.py spectacular --file "$$dir/openapi.yaml"; \
	$(PY) -m tests.clients.openapi_check "$$dir/openapi.yaml"

## bench: the performance benchmarks (PostgreSQL, gunicorn); prints one table
bench: $(VENV)/.dev
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package) for the HTTP benchmarks"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }; }
	$(PY) benchmarks/run.py --scale

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-output staticfiles
