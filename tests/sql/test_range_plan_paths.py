"""A range plan's per-partition steps are planned once and copied for every
slot (issue 16), unless a name cannot be copied as text (quoted inside a
literal: then each slot is planned on its own). Both paths must give the same
plan, and the batched run (several statements per EXECUTE) must build what
the plan says."""

from __future__ import annotations

from psycopg import sql

from catalog import Conn, partition_bounds
from clock import GRID_NOW
from pgcall import create_range_dicts

DDL = """
CREATE TABLE {t} (id bigint GENERATED ALWAYS AS IDENTITY, k timestamptz NOT NULL, note text,
                  PRIMARY KEY (id, k), UNIQUE (note, k)) PARTITION BY RANGE (k);
CREATE INDEX ON {t} (k) WHERE note IS NOT NULL;
ALTER TABLE {t} REPLICA IDENTITY FULL;
"""

# the replica identity step names the partition inside a literal, where a
# quote is doubled: this parent takes the slot-by-slot path
QUOTED = "ev'q"


def plan(conn: Conn, parent: str) -> list[dict[str, object]]:
    return create_range_dicts(conn, parent, "1 day", premake=3, now_at=GRID_NOW, default_partition=True, dry_run=True)


def test_copied_and_slot_by_slot_plans_agree(conn: Conn) -> None:
    for name in ("ev", QUOTED):
        conn.execute(sql.SQL(DDL.format(t="{t}")).format(t=sql.Identifier(name)))
    plain = plan(conn, "ev")
    quoted = plan(conn, sql.Identifier(QUOTED).as_string(conn))
    assert [s["action"] for s in plain].count("attach") == 5  # 4 slots and the default

    def normal(steps: list[dict[str, object]]) -> list[tuple[str, ...]]:
        # the quoted parent's names written as the plain parent's:
        # public."ev'q_p20240515" and 'public."ev''q_p20240515"' as public.ev_p20240515
        return [
            tuple(
                str(s[c]).replace('"', "").replace("ev''q", "ev").replace("ev'q", "ev")
                for c in ("step", "action", "partition", "lower_bound", "upper_bound", "statement")
            )
            for s in steps
            if s["action"] != "lock"  # the advisory lock's key is the parent's
        ]

    assert normal(quoted) == normal(plain)

    # the batched run builds what was planned, on both paths
    for parent, steps in (("ev", plain), (sql.Identifier(QUOTED).as_string(conn), quoted)):
        created = create_range_dicts(conn, parent, "1 day", premake=3, now_at=GRID_NOW, default_partition=True)
        assert [r["partition"] for r in created] == [s["partition"] for s in steps if s["action"] == "attach"]
    bounds = partition_bounds(conn, "ev")
    quoted_bounds = partition_bounds(conn, sql.Identifier(QUOTED).as_string(conn))
    assert [b for _, b in bounds] == [b for _, b in quoted_bounds]
    assert len(bounds) == 5
    # every partition has the parent's three indexes, attached, and its replica identity
    rows = conn.execute(
        """
        SELECT c.relname, count(i.indexrelid), bool_and(ix.relispartition), min(c.relreplident)
        FROM pg_inherits AS h
        JOIN pg_class AS c ON c.oid = h.inhrelid
        JOIN pg_index AS i ON i.indrelid = c.oid
        JOIN pg_class AS ix ON ix.oid = i.indexrelid
        WHERE h.inhparent IN ('ev'::regclass, %s::regclass)
        GROUP BY c.relname
        """,
        [sql.Identifier(QUOTED).as_string(conn)],
    ).fetchall()
    assert len(rows) == 10
    assert all(r[1] == 3 and r[2] and r[3] == "f" for r in rows), rows
