# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PYTHONPATH := $(CURDIR):$(CURDIR)/platform

.PHONY: run test bench lint venv messages clean-demo

# Creates .venv and installs the pinned dependencies (again whenever pyproject.toml changes):
# `make run` needs only the platform's own; `make test` adds the dev extra (test tools and
# crowd-kit, the reference our answer aggregation is checked against).
$(VENV)/.installed-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet .
	touch $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet '.[dev]'
	touch $@ $(VENV)/.installed-run

venv: $(VENV)/.installed

# Embedded mode: SQLite and a file-system Celery broker in var/, demo data, web + worker + beat.
run: $(VENV)/.installed-run
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python platform/coop/embedded.py

# The whole suite. On SQLite by default; .ci/run sets DATABASE_URL and REDIS_URL for
# PostgreSQL and Redis, where the concurrency and real-worker tests also run.
test: $(VENV)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python bench/run.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy platform tasks payouts disputes governance mturk webhooks staff frontend
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python manage.py makemigrations --check --dry-run

# After adding or changing words: refresh every catalog, translate the new entries, then compile
# (tests/frontend/test_translations.py fails until every entry is translated and compiled).
MESSAGE_IGNORES := -i '.venv/*' -i 'build/*' -i 'tests/*' -i 'bench/*' -i 'docs/*' -i 'var/*' -i '*.egg-info/*'
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages -a --no-obsolete --no-wrap $(MESSAGE_IGNORES)
	$(BIN)/python manage.py makemessages -d djangojs -a --no-obsolete --no-wrap $(MESSAGE_IGNORES) -i 'frontend/static/frontend/vendor/*'
	$(BIN)/python manage.py compilemessages $(MESSAGE_IGNORES)

clean-demo:
	rm -rf var/
