"""pgpart for Django: an app that declares partitioned models and calls the
extension.

Add ``"pgpart.django"`` to ``INSTALLED_APPS`` (no database ENGINE to change)
and give a model an inner ``class Partitioning:`` (see
:mod:`pgpart.django.declaration`). ``makemigrations`` then emits
:class:`~pgpart.django.operations.CreatePartitionedModel`, ``migrate``
creates the table ``PARTITION BY ...`` with its first partitions and policy,
and ``manage.py pgpart maintain`` keeps partitions ahead (from cron).

Nothing here runs a query at import time or on a request: the extension is
called only by migrations, by ``manage.py pgpart`` and by database system
checks (``manage.py check --database default``, which ``migrate`` runs).

The app reaches pgpart through its public API only: :class:`pgpart.Client`
for every call, :mod:`pgpart.session` for its connection adapter,
:mod:`pgpart.output` for what ``manage.py pgpart`` prints and its exit
codes, :mod:`pgpart.errors` and :mod:`pgpart.types` (tests/client/test_python_imports.py
walks the imports).
"""

from __future__ import annotations

__all__: list[str] = []
