"""``makemigrations`` with pgpart's autodetector (see pgpart.django.autodetector)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import makemigrations

from ...autodetector import MigrationAutodetector
from ...checks import conversion_pending_ok


class Command(makemigrations.Command):
    autodetector = MigrationAutodetector

    def execute(self, *args: Any, **options: Any) -> str | None:
        # A model that gained a declaration (pgpart.E002) is what this
        # command converts: its checks must not stop it.
        with conversion_pending_ok():
            result: str | None = super().execute(*args, **options)
        return result
