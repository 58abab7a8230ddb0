"""The Django app of pgpart (``INSTALLED_APPS += ["pgpart.django"]``)."""

from __future__ import annotations

from django.apps import AppConfig


class PgpartConfig(AppConfig):
    name = "pgpart.django"
    label = "pgpart"
    verbose_name = "pgpart partitioning"

    def ready(self) -> None:
        # The system checks and Model.partitioning: no query here.
        from django.apps import apps

        from .checks import register_all
        from .partitioning import attach_descriptors

        register_all()
        attach_descriptors(apps.get_models())
