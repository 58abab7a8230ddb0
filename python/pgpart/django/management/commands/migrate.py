"""``migrate`` with pgpart's autodetector, so its warning about model
changes missing from migrations includes partitioning changes."""

from __future__ import annotations

from django.core.management.commands import migrate

from ...autodetector import MigrationAutodetector


class Command(migrate.Command):
    autodetector = MigrationAutodetector
