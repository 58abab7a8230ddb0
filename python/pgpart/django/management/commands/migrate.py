"""``migrate`` with pgpart's autodetector, so its warning about model
changes missing from migrations includes partitioning changes (and a new
app's partitioned models, which still need ``makemigrations``)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate

from ...autodetector import MigrationAutodetector
from ...checks import RUN_SYNCDB


class Command(migrate.Command):
    autodetector = MigrationAutodetector

    def execute(self, *args: Any, **options: Any) -> str | None:
        # Its system checks then know whether apps without migrations are
        # synced: only with --run-syncdb would a partitioned model of such
        # an app become a plain table (pgpart.E002).
        token = RUN_SYNCDB.set(bool(options.get("run_syncdb")))
        try:
            return super().execute(*args, **options)
        finally:
            RUN_SYNCDB.reset(token)
