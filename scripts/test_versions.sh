#!/usr/bin/env bash
# Run the whole test suite once per PostgreSQL major (default: 15 16 18), one
# after the other, installing pgpart into each server first. Prints one
# summary line per version and a total; fails if any version fails.
# Usage: test_versions.sh [MAJOR ...]   (PYTEST_ARGS and VENV from the environment)
set -uo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(15 16 18)

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
summaries=()
status=0
passed_total=0
failed_total=0

# summarise NAME RC LOG: counts pytest's closing line in LOG into the totals
# and a summary line for NAME.
summarise() {
    local name=$1 rc=$2 log=$3 last passed failed
    # pytest's closing line, framed by '=' or (with -q) bare
    last=$(grep -E '(passed|failed|error|skipped|no tests ran).* in [0-9.]+s' "$log" | tail -n 1)
    passed=$(sed -nE 's/(^|.* )([0-9]+) passed.*/\2/p' <<<"$last"); passed=${passed:-0}
    failed=$(grep -oE '[0-9]+ (failed|error|errors)' <<<"$last" | awk '{s += $1} END {print s + 0}')
    [ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1  # e.g. no tests collected (exit 5), mypy
    [ "$rc" -eq 0 ] || status=1
    passed_total=$((passed_total + passed)); failed_total=$((failed_total + failed))
    last=${last//=/}
    summaries+=("$name: $passed passed, $failed failed   (pytest exit $rc:${last% in *})")
}
for v in "${versions[@]}"; do
    echo "=== PostgreSQL $v ==="
    if ! pg_config=$(scripts/pg_config_for.sh "$v" "$venv"); then
        summaries+=("pg$v: 0 passed, 1 failed (no server)")
        status=1; failed_total=$((failed_total + 1)); continue
    fi
    # A reinstalled wheel loses what was installed into it: install every run.
    # pgpart, and the suite's own test extension (tests/extension).
    if ! { make -s install PG_CONFIG="$pg_config" &&
           make -s -C tests/extension install PG_CONFIG="$pg_config"; } >"$logdir/install-$v" 2>&1; then
        cat "$logdir/install-$v"
        summaries+=("pg$v: 0 passed, 1 failed (make install)")
        status=1; failed_total=$((failed_total + 1)); continue
    fi
    # shellcheck disable=SC2086  # PYTEST_ARGS is a list of options
    PG_CONFIG="$pg_config" "$venv/bin/pytest" ${PYTEST_ARGS:-} 2>&1 | tee "$logdir/pytest-$v"
    summarise "pg$v" "${PIPESTATUS[0]}" "$logdir/pytest-$v"
done
# Django 6.x needs Python >= 3.12 (the main virtualenv has Django 5.2 LTS):
# the Django tests once more in a virtualenv of their own, with PostgreSQL 18,
# on whole-suite runs (no PYTEST_ARGS) that include 18. PGPART_DJANGO6=0 leaves it out.
if [ -z "${PYTEST_ARGS:-}" ] && [ "${PGPART_DJANGO6:-1}" != 0 ] && [[ " ${versions[*]} " == *" 18 "* ]]; then
    echo "=== Django 6.x, PostgreSQL 18 ==="
    if pg_config=$(scripts/pg_config_for.sh 18 "$venv"); then
        VENV="$venv" PG_CONFIG="$pg_config" scripts/test_django6.sh 2>&1 | tee "$logdir/django6"
        summarise "django6 pg18" "${PIPESTATUS[0]}" "$logdir/django6"
    else
        summaries+=("django6 pg18: 0 passed, 1 failed (no server)")
        status=1; failed_total=$((failed_total + 1))
    fi
fi
echo
echo "=== summary by PostgreSQL version ==="
printf '%s\n' "${summaries[@]}"
echo "total: $passed_total passed, $failed_total failed"
exit $status
