"""pgpart.output's renderers on rows as the client returns them (no server
needed: the rows are what partition_info returns, built by hand)."""

from __future__ import annotations

import dataclasses
import io

from pgpart.output import plural, print_info
from pgpart.types import PartitionInfo


def row(partition: str, tablespace: str | None, rows: int | None = 10, *, is_default: bool = False) -> PartitionInfo:
    return PartitionInfo(
        parent_table="ev", partition=partition, level=1, parent_partition=None,
        lower_bound=None if is_default else "2024-03-10 00:00:00+00",
        upper_bound=None if is_default else "2024-03-11 00:00:00+00",
        bound="DEFAULT" if is_default else "FOR VALUES ...", is_default=is_default, tablespace=tablespace,
        estimated_rows=rows, size_bytes=8192, detach_pending=False, runway="1 day",
    )  # fmt: skip


def rendered(rows: list[PartitionInfo]) -> list[str]:
    out = io.StringIO()
    print_info(rows, out)
    return out.getvalue().splitlines()


def test_one_tablespace_is_said_once() -> None:
    lines = rendered([row("ev_p1", "pg_default"), row("ev_default", "pg_default", is_default=True)])
    assert lines[0] == "ev: 2 partitions, 16 kB, runway 1 day, tablespace pg_default"
    assert lines[1].split() == ["partition", "from", "to", "rows", "size"]


def test_several_tablespaces_get_a_column() -> None:
    lines = rendered([row("ev_p1", "pg_default"), row("ev_p2", "cold")])
    assert lines[0] == "ev: 2 partitions, 16 kB, runway 1 day"
    assert lines[1].split() == ["partition", "from", "to", "rows", "size", "tablespace"]
    assert lines[3].split()[-1] == "cold"


def test_unknown_rows_are_explained_once() -> None:
    lines = rendered([row("ev_p1", "pg_default", rows=None), row("ev_p2", "pg_default", rows=None)])
    assert lines[0].startswith("ev: 2 partitions")
    assert [line for line in lines if "not analysed" in line] == [
        "  rows ?: not analysed yet (ANALYZE, or autovacuum in time, gives an estimate)"
    ]
    assert rendered([row("ev_p1", "pg_default")])[0].startswith("ev: 1 partition, ")  # not "1 partitions"


def test_plural() -> None:
    assert [plural(n, "partition") for n in (0, 1, 2)] == ["0 partitions", "1 partition", "2 partitions"]


def test_runway_of_zero_is_none() -> None:
    zero = dataclasses.replace(row("ev_p1", "pg_default"), runway="00:00:00")
    assert rendered([zero])[0] == "ev: 1 partition, 8192 bytes, runway none, tablespace pg_default"
