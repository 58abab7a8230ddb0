"""The public face of pgpart's sessions: what a connection adapter needs.

:class:`pgpart.Client` talks to a borrowed connection through a
:class:`Session`. psycopg 3 and PEP 249 connections get one automatically;
a framework with a connection of its own (Django's ``connections[alias]``,
see :mod:`pgpart.django.db`) subclasses :class:`Session` and passes an
instance to ``pgpart.Client``. A subclass provides ``_run``, ``_translate``,
``autocommit``, ``set_autocommit`` and ``transaction_status``; the helpers
below do the driver-specific parts for the PostgreSQL drivers pgpart knows
(psycopg 3, psycopg2, pg8000), whatever wraps them::

    class MySession(pgpart.session.Session):
        def _translate(self, exc):
            return pgpart.session.translate_driver_error(exc.__cause__ or exc)
        def transaction_status(self):
            return pgpart.session.dbapi_transaction_status(self.raw_connection)
        ...
"""

from __future__ import annotations

from ._adapters import session_for
from ._dbapi.errors import translate as translate_driver_error
from ._dbapi.transactions import transaction_status as dbapi_transaction_status
from ._session import Params, Row, Session, TransactionStatus

__all__ = [
    "Params",
    "Row",
    "Session",
    "TransactionStatus",
    "dbapi_transaction_status",
    "session_for",
    "translate_driver_error",
]
