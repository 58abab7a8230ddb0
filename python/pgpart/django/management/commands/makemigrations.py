"""``makemigrations`` with pgpart's autodetector (see pgpart.django.autodetector)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import makemigrations

from ...autodetector import MigrationAutodetector
from ...checks import CONVERSION_PENDING_OK


class Command(makemigrations.Command):
    autodetector = MigrationAutodetector

    def execute(self, *args: Any, **options: Any) -> str | None:
        # A model that gained a declaration (pgpart.E002) is what this
        # command converts: its checks must not stop it.
        token = CONVERSION_PENDING_OK.set(True)
        try:
            result: str | None = super().execute(*args, **options)
            return result
        finally:
            CONVERSION_PENDING_OK.reset(token)
