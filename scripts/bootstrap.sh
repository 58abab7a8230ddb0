#!/usr/bin/env bash
# Make this Debian machine ready for pgpart's tests: install the Debian
# packages they need beyond PostgreSQL itself. Idempotent; without apt (and
# so fast) when everything is already there.
set -euo pipefail

pg_config=${PG_CONFIG:-pg_config}
# Packages must match the server the tests run, i.e. pg_config's major version.
major=$("$pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
packages=(
    python3-venv                       # Debian ships `python3 -m venv` apart from python3
)
# `bootstrap.sh demo` (make demo): only what the demo needs
if [ "${1:-test}" != demo ]; then
    packages+=(
        "postgresql-$major-plpgsql-check"  # the catalog tests run plpgsql_check
        "postgresql-$major-cron"           # tests/sql/test_pg_cron.py runs docs/operations.md's pg_cron steps
    )
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
    echo "bootstrap: install them as root (apt-get install ${missing[*]}) or allow this user sudo" >&2
    exit 1
fi
echo "bootstrap: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
