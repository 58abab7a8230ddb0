#!/usr/bin/env bash
# The suite's Django tests once more, on the newest Django 6.x (the main
# virtualenv has Django 5.2 LTS), and mypy --strict against Django 6's stubs.
# Django 6 needs Python >= 3.12: a virtualenv of its own, VENV/django6 (inside
# the main one, so `make venv` starts it afresh too), made with
# $PGPART_DJANGO6_PYTHON, else python3.12, python3.13, or pyenv's 3.12/3.13.
# The server is PG_CONFIG's (test_versions.sh installed pgpart into it).
# Usage: PG_CONFIG=... [VENV=.venv] scripts/test_django6.sh [PYTEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
dj6="$venv/django6"
: "${PG_CONFIG:?PG_CONFIG: the pg_config of the server to test against}"

python_312() {
    local p
    local candidates=("${PGPART_DJANGO6_PYTHON:-}" python3.12 python3.13)
    local root
    root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    candidates+=("$root"/versions/3.12*/bin/python3 "$root"/versions/3.13*/bin/python3)
    for p in "${candidates[@]}"; do
        [ -n "$p" ] || continue
        if "$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
            "$p" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    return 1
}

if [ ! -f "$dj6/.installed" ] || [ pyproject.toml -nt "$dj6/.installed" ]; then
    if ! python=$(python_312); then
        echo "test_django6.sh: no Python >= 3.12 found (set PGPART_DJANGO6_PYTHON)" >&2
        exit 1
    fi
    "$python" -m venv --clear "$dj6"
    # The test extra's Django and django-stubs resolve to 6.x on Python >= 3.12.
    "$dj6/bin/pip" install --quiet -e . 'Django>=6,<7' 'django-stubs>=6,<7' 'pytest>=8' 'mypy>=1.10'
    touch "$dj6/.installed"
fi

"$dj6/bin/python" -c 'import django, sys; print(f"Django {django.get_version()} on Python {sys.version.split()[0]}")'
"$dj6/bin/mypy" --strict python/pgpart
PG_CONFIG="$PG_CONFIG" "$dj6/bin/pytest" "$@" tests/django
