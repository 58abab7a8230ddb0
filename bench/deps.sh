#!/usr/bin/env bash
# What `make bench` needs beyond `make test`: pg_partman's Debian package for
# the server pg_config names (4.7.x on Debian 12). Idempotent; no apt when it
# is already installed. As root, or through `sudo -n`.
set -euo pipefail

major=$("${PG_CONFIG:-pg_config}" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
package="postgresql-$major-partman"
dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "bench: missing Debian package $package: install it as root (apt-get install $package) or allow this user sudo" >&2
    exit 1
fi
echo "bench: installing $package"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package"
