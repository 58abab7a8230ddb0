"""pgpart's Django settings, each read through a function with its default
(read when used, never at import time).

``PGPART_LOCK_TIMEOUT``  lock timeout of every pgpart call (an interval such
                         as ``"500ms"``); default: the extension's (200ms).
``PGPART_LOCK_RETRIES``  retries after a lock timeout; default: the extension's (10).
"""

from __future__ import annotations

from django.conf import settings

__all__ = ["lock_retries", "lock_timeout"]


def lock_timeout() -> str | None:
    value = getattr(settings, "PGPART_LOCK_TIMEOUT", None)
    return None if value is None else str(value)


def lock_retries() -> int | None:
    value = getattr(settings, "PGPART_LOCK_RETRIES", None)
    return None if value is None else int(value)
