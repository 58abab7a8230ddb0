"""``makemigrations`` with pgpart's autodetector (see pgpart.django.autodetector)."""

from __future__ import annotations

from django.core.management.commands import makemigrations

from ...autodetector import MigrationAutodetector


class Command(makemigrations.Command):
    autodetector = MigrationAutodetector
