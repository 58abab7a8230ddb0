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

# Every source under sql/src (sql/pgpart_build.py orders them: sorted relative path).
SQL_SOURCES = $(shell find sql/src -name '*.sql' | sort)

# sql/pgpart_build.py is the one builder, shared with the Python package's build
# (the PEP 517 backend in pyproject.toml), so a wheel built without make ships the same bytes. The
# directory is a prerequisite too, so deleting or renaming a source rebuilds.
$(DATA_built): sql/src $(SQL_SOURCES) sql/pgpart_build.py $(EXTENSION).control
	python3 sql/pgpart_build.py $@

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

.PHONY: bootstrap bootstrap-demo venv demo-venv test demo lint dist

bootstrap:
	PG_CONFIG=$(PG_CONFIG) scripts/bootstrap.sh test

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

# The demo's own virtualenv holds pgpart and psycopg only (no test or lint tools).
DEMO_VENV = .venv-demo
$(DEMO_VENV)/.installed: pyproject.toml
	$(VENV_PYTHON) -m venv --clear $(DEMO_VENV)
	$(DEMO_VENV)/bin/pip install --quiet -e .
	touch $@

demo-venv: $(DEMO_VENV)/.installed
bootstrap-demo:
	PG_CONFIG=$(PG_CONFIG) scripts/bootstrap.sh demo

demo: bootstrap-demo demo-venv install
	PG_CONFIG=$(PG_CONFIG) $(DEMO_VENV)/bin/python scripts/demo.py

# The Python package's sdist and wheel in dist/, each shipping the install and
# upgrade scripts (built by sql/pgpart_build.py, the package's build backend).
dist: venv
	rm -rf dist
	$(VENV)/bin/python -m build --outdir dist .

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

# The maintenance tick at 50, 1,000 and 10,000 managed parents (bench/m_scale.py,
# bench/results/scale.md): not part of `make bench`, whose 10-minute budget the
# 10,000 parents alone exceed (building them takes most of the run).
.PHONY: bench-scale
bench-scale: bootstrap venv
	PG_CONFIG=$$(scripts/pg_config_for.sh 18) $(MAKE) install
	PG_CONFIG=$$(scripts/pg_config_for.sh 18) $(VENV)/bin/python bench/m_scale.py --parents 50,1000,10000 --reps 3
