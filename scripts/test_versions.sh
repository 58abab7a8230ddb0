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
    rc=${PIPESTATUS[0]}
        # pytest's closing line, framed by '=' or (with -q) bare
    last=$(grep -E '(passed|failed|error|skipped|no tests ran).* in [0-9.]+s' "$logdir/pytest-$v" | tail -n 1)
    passed=$(sed -nE 's/(^|.* )([0-9]+) passed.*/\2/p' <<<"$last"); passed=${passed:-0}
    failed=$(grep -oE '[0-9]+ (failed|error|errors)' <<<"$last" | awk '{s += $1} END {print s + 0}')
    [ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1  # e.g. no tests collected (exit 5)
    [ "$rc" -eq 0 ] || status=1
    passed_total=$((passed_total + passed)); failed_total=$((failed_total + failed))
    last=${last//=/}
    summaries+=("pg$v: $passed passed, $failed failed   (pytest exit $rc:${last% in *})")
done
echo
echo "=== summary by PostgreSQL version ==="
printf '%s\n' "${summaries[@]}"
echo "total: $passed_total passed, $failed_total failed"
exit $status
