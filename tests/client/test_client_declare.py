"""Client.declare: a complete declaration (what Django's Partitioning says)
applied in one call, all or nothing (issue 13, item 4: Django no longer
composes create_range_partitions + ensure_range + set_policy itself)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

import pgpart
from catalog import partitions
from pgpart import errors

Conn = psycopg.Connection[Any]
NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.timezone.utc)


def test_declare_range_clears_what_it_leaves_out(owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE public.ev (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    client = pgpart.Client(owner_conn)
    client.ensure("public.ev", interval="1 day", premake=1, retention="30 days", retention_action="drop", now_at=NOW)

    plan = client.declare("public.ev", interval="1 day", premake=3, now_at=NOW, dry_run=True)
    assert plan.dry_run
    assert [s.action for s in plan.steps].count("attach") == 2
    policy = client.policy("public.ev")
    assert policy is not None
    assert (policy["premake"], policy["retention"], policy["retention_action"]) == (1, "30 days", "drop")

    done = client.declare("public.ev", interval="1 day", premake=3, now_at=NOW)
    assert done.created == ["public.ev_p20250312", "public.ev_p20250313"]
    policy = client.policy("public.ev")
    assert policy is not None
    assert (policy["premake"], policy["retention"], policy["retention_action"]) == (3, None, "detach")


def test_declare_range_with_subpartitions(owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE public.ev (ts timestamptz NOT NULL, region text NOT NULL) PARTITION BY RANGE (ts)")
    client = pgpart.Client(owner_conn)
    sub = {"method": "list", "key": "region", "values": {"eu": ["de", "fr"], "us": ["us"]}}
    report = client.declare("public.ev", interval="1 day", premake=0, subpartition=sub, now_at=NOW, new_table=True)
    assert "public.ev_p20250310" in report.created
    assert partitions(owner_conn, "public.ev_p20250310") == ["ev_p20250310_eu", "ev_p20250310_us"]
    policy = client.policy("public.ev")
    assert policy is not None
    assert policy["subpartition"] is not None


def test_declare_list_and_hash(owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE public.li (region text NOT NULL) PARTITION BY LIST (region)")
    owner_conn.execute("CREATE TABLE public.ha (id bigint NOT NULL) PARTITION BY HASH (id)")
    client = pgpart.Client(owner_conn)
    client.declare("public.li", method="list", values={"eu": ["de"], "us": ["us"]}, default_partition=True)
    assert partitions(owner_conn, "public.li") == ["li_default", "li_eu", "li_us"]
    client.declare("public.ha", method="hash", modulus=3)
    assert partitions(owner_conn, "public.ha") == ["ha_h0", "ha_h1", "ha_h2"]


def test_declare_is_all_or_nothing(owner_conn: Conn) -> None:
    owner_conn.execute("CREATE TABLE public.ev (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)")
    client = pgpart.Client(owner_conn)
    with pytest.raises(errors.InvalidArgumentError):
        client.declare("public.ev", method="tree")
    # create_range_partitions succeeds, then ensure_range refuses the retention: nothing stays
    sub = {"method": "hash", "key": "ts", "modulus": 2}
    with pytest.raises(errors.PgpartError) as raised:
        client.declare("public.ev", interval="1 day", subpartition=sub, retention="-1 days", now_at=NOW)
    assert "retention" in str(raised.value)
    assert client.policy("public.ev") is None
    assert partitions(owner_conn, "public.ev") == []
