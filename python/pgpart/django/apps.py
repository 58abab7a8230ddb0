"""The Django app of pgpart (``INSTALLED_APPS += ["pgpart.django"]``)."""

from __future__ import annotations

from django.apps import AppConfig


class PgpartConfig(AppConfig):
    name = "pgpart.django"
    label = "pgpart"
    verbose_name = "pgpart partitioning"

    def ready(self) -> None:
        # Registering the system checks is all ready() does: no query here.
        from .checks import register_all

        register_all()
