#!/usr/bin/env bash
# Run the whole test suite once per PostgreSQL major (default: 15 16 18),
# installing pgpart into each server first. The versions run at the same
# time (each run keeps about one core busy, client and server taking turns:
# together they fill a 2-core machine and finish in about half the time of
# one after the other); PGPART_TEST_JOBS=1 runs them one after the other.
# Each run's output is kept and printed whole when it ends, then one summary
# line per version and a total; fails if any version fails.
# Version-independent checks (linters, the built packages) run in one
# version's run only (PGPART_VERSION_INDEPENDENT, tests/conftest.py).
# Usage: test_versions.sh [MAJOR ...]   (PYTEST_ARGS and VENV from the environment)
set -uo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(15 16 18)
jobs=${PGPART_TEST_JOBS:-${#versions[@]}}

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
fail_early() {  # fail_early NAME WHY
    summaries+=("$1: 0 passed, 1 failed ($2)")
    status=1; failed_total=$((failed_total + 1))
}

# 1. Install into every server first, one after the other (make is not
#    safe to run concurrently in one tree). A reinstalled wheel loses what
#    was installed into it: install every run, pgpart and the suite's own
#    test extension (tests/extension).
runs=()      # NAME:COMMAND-KIND pairs, started below
declare -A config
for v in "${versions[@]}"; do
    if ! pg_config=$(scripts/pg_config_for.sh "$v" "$venv"); then
        fail_early "pg$v" "no server"; continue
    fi
    if ! { make -s install PG_CONFIG="$pg_config" &&
           make -s -C tests/extension install PG_CONFIG="$pg_config"; } >"$logdir/install-$v" 2>&1; then
        cat "$logdir/install-$v"
        fail_early "pg$v" "make install"; continue
    fi
    config[$v]=$pg_config
    runs+=("pg$v")
done
# Django 6.x needs Python >= 3.12 (the main virtualenv has Django 5.2 LTS):
# the Django tests once more in a virtualenv of their own, with PostgreSQL 18,
# on whole-suite runs (no PYTEST_ARGS) that include 18. PGPART_DJANGO6=0 leaves it out.
if [ -z "${PYTEST_ARGS:-}" ] && [ "${PGPART_DJANGO6:-1}" != 0 ] && [ -n "${config[18]:-}" ]; then
    runs+=("django6")
fi

# 2. Run them, at most $jobs at a time. The version-independent checks go
#    to the lightest run: 16's (its wheel lacks the contrib modules some
#    tests need; 15's run also has the tests only Debian's packages allow,
#    plpgsql_check and pg_cron), else the first.
first=${runs[0]:-}
[[ " ${runs[*]} " != *" pg16 "* ]] || first=pg16
start_run() {  # start_run NAME: in the background, output to $logdir/NAME
    local name=$1
    (
        if [ "$name" = django6 ]; then
            VENV="$venv" PG_CONFIG="${config[18]}" scripts/test_django6.sh
        else
            local v=${name#pg} independent=run
            [ "$name" = "$first" ] || independent="ran in the $first run"
            # shellcheck disable=SC2086  # PYTEST_ARGS is a list of options
            PG_CONFIG="${config[$v]}" PGPART_VERSION_INDEPENDENT="$independent" \
                "$venv/bin/pytest" ${PYTEST_ARGS:-}
        fi
        rc=$?
        echo "$rc" >"$logdir/$name.rc"
        echo "=== finished: $name, exit $rc ($(date -u +%H:%M:%S)) ===" >&3
    ) 3>&1 >"$logdir/$name" 2>&1 &
}
for name in "${runs[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    echo "=== started: $name ($(date -u +%H:%M:%S)) ==="
    start_run "$name"
done
wait
for name in "${runs[@]}"; do
    echo
    echo "=== ${name/pg/PostgreSQL } ==="
    cat "$logdir/$name"
    rc=$(cat "$logdir/$name.rc" 2>/dev/null || echo 1)
    label=$name; [ "$name" != django6 ] || label="django6 pg18"
    summarise "$label" "$rc" "$logdir/$name"
done
echo
echo "=== summary by PostgreSQL version ==="
printf '%s\n' "${summaries[@]}"
echo "total: $passed_total passed, $failed_total failed"
exit $status
