"""docs/operations.md's pg_cron guide, followed on a server started as it
says (issue 15 item 5): its postgresql.conf settings start the server, its
SQL steps run as written, the scheduled maintenance really runs under pg_cron
and its history shows the run. pg_cron is packaged for Debian's PostgreSQL 15
(scripts/bootstrap.sh installs it): required there, skipped elsewhere."""

from __future__ import annotations

import re
import time
from typing import Any

import psycopg

from capabilities import require_extension
from fix_pg import MakeServer
from paths import REPO_ROOT

FENCE = re.compile(r"^( *)```text\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
SETTING = re.compile(r"^([a-z_.]+) = (.+)$")


def guide_blocks() -> list[str]:
    """The text blocks of the section "Scheduling with pg_cron", in order,
    without their list indentation."""
    doc = (REPO_ROOT / "docs" / "operations.md").read_text()
    section = doc.split("## Scheduling with pg_cron\n", 1)[1].split("\n### ", 1)[0]
    blocks = []
    for m in FENCE.finditer(section):
        indent = len(m.group(1))
        blocks.append("\n".join(line[indent:] for line in m.group(2).splitlines()).strip())
    return blocks


def test_the_guide_has_its_steps() -> None:
    blocks = guide_blocks()
    assert blocks[0] == "apt-get install postgresql-15-cron"
    assert any(b.startswith("CREATE EXTENSION pg_cron") for b in blocks)
    assert sum("cron.schedule" in b for b in blocks) == 1  # one recommended schedule


def test_pg_cron_guide_on_a_preloaded_server(conn: psycopg.Connection[Any], make_server: MakeServer) -> None:
    require_extension(conn, "pg_cron")
    blocks = guide_blocks()
    (conf,) = [b for b in blocks if b.startswith("shared_preload_libraries")]
    settings = {}
    for line in conf.splitlines():
        m = SETTING.match(line)
        assert m, line
        settings[m.group(1)] = m.group(2).strip("'")
    server = make_server(**settings)
    sql_steps = [b for b in blocks if re.match(r"(CREATE|SELECT) ", b)]
    create, schedule, history = sql_steps
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as c:
        c.execute(create)
        # a managed table with maintenance due: premake raised from 1 to 4
        c.execute("CREATE TABLE public.ev (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
        c.execute("SELECT pgpart.create_range_partitions('public.ev', '1 day', premake => 1)")
        c.execute("SELECT pgpart.set_policy('public.ev', premake => 4)")
        before = c.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.ev'::regclass").fetchone()
        (jobid,) = c.execute(schedule).fetchone()  # type: ignore[misc]
        job = c.execute("SELECT schedule, command, database FROM cron.job WHERE jobid = %s", [jobid]).fetchone()
        assert job == ("7 * * * *", "CALL pgpart.run_maintenance_proc()", "postgres")
        # the recommended minute is up to an hour away: run the same job every minute
        c.execute("SELECT cron.alter_job(%s, schedule => '* * * * *')", [jobid])
        status = None
        deadline = time.monotonic() + 180  # bounded wait for pg_cron's next minute
        while time.monotonic() < deadline:
            row = c.execute(
                "SELECT status, return_message FROM cron.job_run_details WHERE jobid = %s"
                " AND status IN ('succeeded', 'failed') ORDER BY start_time LIMIT 1",
                [jobid],
            ).fetchone()
            if row is not None:
                status = row
                break
            c.execute("SELECT pg_sleep(0.5)")
        assert status is not None, "pg_cron did not run the job within 3 minutes"
        assert status[0] == "succeeded", status
        after = c.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.ev'::regclass").fetchone()
        assert before is not None
        assert after is not None
        assert after[0] == before[0] + 3
        rows = c.execute(history).fetchall()
        assert ("pgpart-maintenance", "succeeded") in [r[:2] for r in rows]
