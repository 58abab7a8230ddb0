#!/usr/bin/env bash
# Re-make sql/pgpart--A--B.sql from its hand-written head (sql/upgrade/A--B.head.sql:
# table changes, data migration) and the routines drafted by upgrade_draft.py
# from the released A script and the current build. Statements the draft marks
# for review are dropped here when the head covers them (listed in SKIP, a regex
# on the statement's first SQL line). Usage: upgrade_assemble.sh A B 'SKIP'
set -euo pipefail
cd "$(dirname "$0")/.."
from=$1 to=$2 skip=${3:-'^$'}
make -s "sql/pgpart--$to.sql"
out=sql/pgpart--$from--$to.sql
{
    cat "sql/upgrade/$from--$to.head.sql"
    echo "-- Routines, policies and comments new or changed since $from (drafted by scripts/upgrade_draft.py)."
    echo
    "${PYTHON:-.venv/bin/python}" scripts/upgrade_draft.py "sql/released/pgpart--$from.sql" "sql/pgpart--$to.sql" |
        SKIP="$skip" python3 -c '
import os, re, sys
blocks = sys.stdin.read().split("\n\n")
skip = re.compile(os.environ["SKIP"])
for b in blocks:
    if not b.strip():
        continue
    first = next((l for l in b.splitlines() if l.strip() and not l.lstrip().startswith("--")), "")
    if b.startswith("-- REVIEW") and skip.search(first):
        continue
    print(b.replace("-- REVIEW: not a routine; new or changed since", "-- new or changed since") + "\n")
'
} > "$out.tmp"
mv "$out.tmp" "$out"
grep -c . "$out" >/dev/null
echo "wrote $out"
