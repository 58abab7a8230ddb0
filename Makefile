# pgpart: the extension's PGXS build, plus the developer entry points.
# `make test` and `make demo` prepare everything they need first (Debian
# packages, virtualenv, `make install`), so a fresh clone needs nothing else.

EXTENSION = pgpart
# pgpart.control is the single source of the version. (Not named VERSION:
# PGXS's Makefile.global uses that for the PostgreSQL version.)
EXTVERSION := $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(EXTENSION).control)
# The install script is generated (and git-ignored); upgrade scripts are
# committed as they are, and this wildcard is empty until the first exists.
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(wildcard sql/$(EXTENSION)--*--*.sql)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# File names carry numeric prefixes, so sorted order is load order.
SQL_SOURCES = $(sort $(wildcard sql/src/*.sql))

# The sources are plain SQL (so sqlfluff can lint them); the psql guard is
# added here. awk ends every file with a newline, so a missing final newline
# cannot glue a trailing comment onto the next file's first statement.
$(DATA_built): $(SQL_SOURCES)
	@test -n "$(SQL_SOURCES)" || { echo "no SQL sources in sql/src" >&2; exit 1; }
	{ printf '%s\n' '\echo Use "CREATE EXTENSION $(EXTENSION)" to load this file. \quit'; \
	  awk 'FNR == 1 { print "-- source: " FILENAME } { print }' $(SQL_SOURCES); } > $@.tmp
	mv $@.tmp $@

VENV = .venv
PYTHON ?= python3

# Re-install the Python dependencies only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

.PHONY: bootstrap test demo lint

bootstrap:
	PG_CONFIG=$(PG_CONFIG) scripts/bootstrap.sh

# PYTEST_ARGS passes options through, e.g. make test PYTEST_ARGS='-k version'.
test: bootstrap $(VENV)/.installed install
	PG_CONFIG=$(PG_CONFIG) $(VENV)/bin/pytest $(PYTEST_ARGS)

demo: bootstrap $(VENV)/.installed install
	PG_CONFIG=$(PG_CONFIG) $(VENV)/bin/python scripts/demo.py

lint: $(VENV)/.installed
	$(VENV)/bin/sqlfluff lint sql/src
	$(VENV)/bin/mypy --strict python/pgpart
