"""Django integration: ``manage.py pgpart`` (info, ensure, maintain, check, install)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from typing import Any

import pytest

from django_helpers import manage, partitions, query


def pgpart(*args: str) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("pgpart", *args, stdout=out, stderr=out)
    return out.getvalue()


def _month_start(moment: dt.datetime, months_ahead: int = 0) -> dt.datetime:
    month = moment.month - 1 + months_ahead
    return dt.datetime(moment.year + month // 12, month % 12 + 1, 1, tzinfo=dt.timezone.utc)


def _event_bounds() -> list[tuple[dt.datetime, dt.datetime]]:
    rows = query(
        "SELECT lower_bound::timestamptz, upper_bound::timestamptz FROM pgpart.partition_info('testapp_event')"
        " WHERE NOT is_default ORDER BY 1"
    )
    return [(lo, hi) for lo, hi in rows]


def _assert_monthly_grid(bounds: list[tuple[dt.datetime, dt.datetime]]) -> None:
    for lo, hi in bounds:
        assert lo < hi
        assert (lo.day, lo.hour, lo.minute, lo.utcoffset()) == (1, 0, 0, dt.timedelta(0)), lo
        assert hi == _month_start(lo, 1)
    for (_, hi), (lo, _) in itertools.pairwise(bounds):
        assert hi <= lo, f"overlap: a partition ends {hi}, the next starts {lo}"


def test_maintain_at_two_hours_of_a_day_and_across_a_month_boundary(migrated_db: str) -> None:
    future = _month_start(dt.datetime.now(dt.timezone.utc), 5)
    day = future + dt.timedelta(days=14)
    month_end = _month_start(future, 1) - dt.timedelta(minutes=30)  # 23:30 on the last day
    runs = [
        (day + dt.timedelta(hours=12)).isoformat(),  # psqlextra's #269: 12:00, then 08:00 fails to overlap
        (day + dt.timedelta(hours=8)).isoformat(),
        month_end.isoformat(),
        (month_end + dt.timedelta(hours=1)).isoformat(),  # 00:30 of the next month
        (month_end + dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=5))).isoformat(),
    ]
    created_per_run = []
    for now in runs:
        output = pgpart("maintain", "--model", "testapp.Event", "--now", now, "--yes")
        created_per_run.append(output.count("created "))
        bounds = _event_bounds()
        _assert_monthly_grid(bounds)
        now_at = dt.datetime.fromisoformat(now)
        # The month of now and premake (2) months ahead are covered, without a gap.
        assert bounds[-1][1] >= _month_start(now_at.astimezone(dt.timezone.utc), 3)
        assert any(lo <= now_at < hi for lo, hi in bounds)
    assert created_per_run[1] == 0  # the same day at another hour: nothing new, no error
    assert created_per_run[3] == 1  # a new month: one more partition ahead
    assert created_per_run[4] == 0
    # Retention (3 months, drop) removed the old months.
    assert _event_bounds()[0][0] >= _month_start(future, -3)


def test_maintain_asks_for_yes_before_removals(migrated_db: str) -> None:
    from django.core.management import CommandError

    before = [p for p, _ in partitions("testapp_event")]
    later = _month_start(dt.datetime.now(dt.timezone.utc), 6).isoformat()

    plan = pgpart("maintain", "--model", "testapp.Event", "--now", later, "--dry-run")
    assert "steps planned" in plan
    assert "drop" in plan
    assert [p for p, _ in partitions("testapp_event")] == before

    with pytest.raises(CommandError, match="retention is due but was not applied for testapp_event: pass --yes"):
        pgpart("maintain", "--model", "testapp.Event", "--now", later, "--no-input")
    kept = [p for p, _ in partitions("testapp_event")]
    assert set(before) <= set(kept)  # created ahead, removed nothing
    assert len(kept) > len(before)

    output = pgpart("maintain", "--model", "testapp.Event", "--now", later, "--yes", "--json")
    actions = json.loads(output)["testapp.Event"]
    dropped = {a["partition"].removeprefix("public.") for a in actions if a["action"] == "drop"}
    assert dropped
    assert dropped <= set(before)
    assert not dropped & {p for p, _ in partitions("testapp_event")}


def test_ensure_info_install_and_errors(migrated_db: str) -> None:
    from django.core.management import CommandError

    last = partitions("testapp_event")[-1][0]
    query(f"ALTER TABLE testapp_event DETACH PARTITION {last}")
    query(f"DROP TABLE {last}")
    plan = pgpart("ensure", "--model", "testapp.Event", "--dry-run")
    assert f"would run attach public.{last}" in plan
    assert last not in [p for p, _ in partitions("testapp_event")]
    output = pgpart("ensure", "--model", "testapp.Event")
    assert f"created public.{last}" in output
    assert last in [p for p, _ in partitions("testapp_event")]
    assert "0 partitions" in pgpart("ensure", "--model", "testapp.Event")

    info = json.loads(pgpart("info", "--json"))
    assert set(info) == {"testapp.Event", "testapp.Reading", "testapp.Measurement", "testapp.Order", "testapp.Visit"}
    assert [r["partition"] for r in info["testapp.Visit"]] == [f"testapp_visit_h{i}" for i in range(4)]
    assert "testapp_reading_p1000  [1000, 2000)" in pgpart("info", "--model", "testapp.Reading")

    assert "unchanged" in pgpart("install")

    with pytest.raises(CommandError, match=r"unknown model 'testapp\.Nope'"):
        pgpart("info", "--model", "testapp.Nope")
    with pytest.raises(CommandError, match="declares no Partitioning"):
        pgpart("info", "--model", "testapp.EventNote")
    with pytest.raises(CommandError, match=r"invalid input syntax for type timestamp with time zone"):
        pgpart("maintain", "--now", "not a time", "--yes")


def test_check_exits_non_zero_for_findings(migrated_db: str, pg: Any) -> None:
    from django.core.management import CommandError

    assert "no findings" in pgpart("check")
    query("INSERT INTO testapp_order (region, amount) VALUES ('jp', 1)")
    with pytest.raises(CommandError) as raised:
        pgpart("check", "--model", "testapp.Order")
    assert raised.value.returncode == 2

    # As cron or CI runs it: a process and its exit status.
    from django.db import connections

    connections.close_all()
    result = manage(pg, migrated_db, "pgpart", "check")
    assert result.returncode == 2, result.stderr
    assert "the default partition holds rows" in result.stdout
    # Order is LIST-partitioned: moving default rows exists for range grids
    # only (the call would fail with 42P17), so no such fix is offered
    assert "move_default_rows" not in result.stdout
    later = _month_start(dt.datetime.now(dt.timezone.utc), 2).isoformat()
    result = manage(pg, migrated_db, "pgpart", "maintain", "--now", later, "--yes")
    assert result.returncode == 0, result.stderr
    assert "created" in result.stdout
