"""Django: a model keyed on a UUIDField (UUIDv7) or on a BigIntegerField
holding Unix milliseconds (``epoch_unit``) declares range partitioning by
time; the system checks accept it, and the declaration reaches the
extension (issue 19)."""

from __future__ import annotations

from typing import Any

import pytest

from django_helpers import query


def _models() -> Any:
    from django.db import models
    from django.test.utils import isolate_apps

    isolated = isolate_apps("testapp")
    registry = isolated.enable()

    class UuidEvent(models.Model):
        id = models.UUIDField(primary_key=True)

        class Meta:
            app_label = "testapp"

        class Partitioning:
            key = "id"
            interval = "1 day"
            premake = 1
            time_zone = "Europe/Berlin"

    class EpochReading(models.Model):
        taken_ms = models.BigIntegerField()

        class Meta:
            app_label = "testapp"

        class Partitioning:
            key = "taken_ms"
            interval = "1 month"
            epoch_unit = "ms"

    class EpochOnDate(models.Model):
        day = models.DateField()

        class Meta:
            app_label = "testapp"

        class Partitioning:
            key = "day"
            interval = "1 month"
            epoch_unit = "ms"

    return isolated, registry, UuidEvent, EpochReading, EpochOnDate


def test_uuid_and_epoch_keys_pass_the_checks_and_reach_the_extension(django_db: str) -> None:
    from pgpart.django import checks, db
    from pgpart.django.declaration import spec_of

    isolated, registry, uuid_event, epoch_reading, epoch_on_date = _models()
    try:
        messages = checks.check_declarations([registry.get_app_config("testapp")])
        by_model = {m.obj: m.id for m in messages}
        assert uuid_event not in by_model and epoch_reading not in by_model  # UUIDField and epoch keys accepted
        assert by_model[epoch_on_date] == "pgpart.E006"  # epoch_unit only for integer keys
        uuid_spec, epoch_spec = spec_of(uuid_event), spec_of(epoch_reading)
    finally:
        isolated.disable()
    assert uuid_spec is not None and epoch_spec is not None and epoch_spec.epoch_unit == "ms"
    assert epoch_spec.to_dict()["epoch_unit"] == "ms"

    query("CREATE TABLE uuid_event (id uuid NOT NULL PRIMARY KEY) PARTITION BY RANGE (id)")
    query("CREATE TABLE epoch_reading (id bigint NOT NULL, taken_ms bigint NOT NULL) PARTITION BY RANGE (taken_ms)")
    client = db.client_for("default")
    client.declare("uuid_event", **db.declaration(uuid_spec, now_at="2024-03-30 12:00+01"))
    client.declare("epoch_reading", **db.declaration(epoch_spec, now_at="2024-03-30 12:00+01"))
    assert query(
        "SELECT lower_bound, bound FROM pgpart.partition_info('uuid_event') ORDER BY lower_bound LIMIT 1"
    ) == [("2024-03-30 00:00:00+01", "FOR VALUES FROM ('018e8c71-0180-0000-0000-000000000000') "
                                     "TO ('018e9197-5d80-0000-0000-000000000000')")]  # fmt: skip
    assert query("SELECT key_type::text, epoch_unit FROM pgpart.config WHERE parent = 'epoch_reading'::regclass") == [
        ("bigint", "ms")
    ]
    assert query("SELECT lower_bound FROM pgpart.partition_info('epoch_reading') ORDER BY 1 LIMIT 1") == [
        ("2024-03-01 00:00:00+00",)
    ]


@pytest.mark.parametrize("method", ["list", "hash"])
def test_epoch_unit_is_for_range_only(method: str) -> None:
    from pgpart.django.declaration import DeclarationError, Spec, _build

    valid: dict[str, Any] = {"values": ["a"]} if method == "list" else {"modulus": 2}
    assert _build(method, "k", dict(valid)).epoch_unit is None
    with pytest.raises(DeclarationError, match="epoch_unit"):
        _build(method, "k", {**valid, "epoch_unit": "ms"})
    assert Spec.from_dict({"method": "range", "key": "k", "interval": "1 day", "epoch_unit": "us"}).epoch_unit == "us"
