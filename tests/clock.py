"""The reference times of the tests. Time only ever reaches pgpart through
``now_at``: the wall clock never decides a test."""

from __future__ import annotations

import datetime as dt

UTC = dt.timezone.utc

# The SQL tests of policy, maintenance, checks, reconcile and event triggers.
NOW = "2024-03-10 12:00:00+00"

# The grid, name and time-zone tests: a Wednesday, mid-month, mid-quarter.
GRID_NOW = "2024-05-15 10:37:00+00"

# The Python client's tests (the events table of tables.py) ...
CLIENT_NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
# ... and the same instant as the pgpart command's --now-at text.
CLI_NOW = "2025-03-10 12:00+00"


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)
