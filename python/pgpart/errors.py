"""Exceptions raised by the pgpart client, one class per condition.

Every error the server raises while a :class:`pgpart.Client` method runs is
re-raised as an instance of the class registered for its SQLSTATE (see
:data:`SQLSTATE_CLASSES`), else of the class registered for its SQLSTATE
class (the first two characters), else as :class:`PgpartError`. The driver's
exception (psycopg 3, psycopg2, pg8000, ...) is chained as ``__cause__`` and
kept in :attr:`PgpartError.driver_error`, so nothing it said is lost.

No driver exception reaches the caller unwrapped: errors the driver raises
without a SQLSTATE (a broken or closed connection, text it cannot send) are
re-raised as :class:`ConnectionFailureError` (08006, or 08003 for a closed
connection), :class:`InvalidArgumentError` (a value the driver refused) or
else :class:`PgpartError` (no SQLSTATE), the driver's exception chained the
same way (see :func:`from_driver_error`). Arguments the server would refuse
in any case (text with a NUL character) are refused before anything is sent,
with InvalidArgumentError naming the argument.

The fields follow PostgreSQL's error report: ``message`` is the primary
message, ``detail`` the facts, ``hint`` what to do, ``schema_name`` and
``table_name`` the table concerned when the server named one.
"""

from __future__ import annotations

__all__ = [
    "SQLSTATE_CLASSES",
    "ConnectionFailureError",
    "DeadlockError",
    "DefaultPartitionRowsError",
    "DuplicateSchemaError",
    "DuplicateTableError",
    "ExportError",
    "FeatureNotSupportedError",
    "InstallError",
    "InvalidArgumentError",
    "InvalidDefinitionError",
    "InvalidSchemaError",
    "LimitExceededError",
    "LockTimeoutError",
    "MissingExtraError",
    "NotManagedError",
    "PermissionDeniedError",
    "PgpartError",
    "PgpartWarning",
    "QueryCanceledError",
    "TransactionStateError",
    "UndefinedFunctionError",
    "UndefinedObjectError",
    "UndefinedTableError",
    "error_class",
    "from_diagnostics",
    "from_driver_error",
]


class PgpartWarning(UserWarning):
    """Something pgpart did not do, but that does not stop it (e.g. event
    triggers left out of a script install by a role that may not create them)."""


class PgpartError(Exception):
    """Base class of every pgpart error.

    Attributes:
        sqlstate: the five-character SQLSTATE, or None for errors the client
            raises itself without one.
        message: the primary message.
        detail: the server's DETAIL, if any.
        hint: the server's HINT, if any.
        schema_name, table_name: the table the error is about, when the
            server named it (``RAISE ... USING SCHEMA, TABLE``).
        driver_error: the driver's exception (also ``__cause__``).
    """

    #: the SQLSTATE a client-side error of this class carries
    default_sqlstate: str | None = None

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
        schema_name: str | None = None,
        table_name: str | None = None,
        driver_error: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate if sqlstate is not None else self.default_sqlstate
        self.detail = detail
        self.hint = hint
        self.schema_name = schema_name
        self.table_name = table_name
        self.driver_error = driver_error

    @property
    def table(self) -> str | None:
        """``schema.table`` (or the bare table name) the error is about, if known."""
        if self.table_name is None:
            return None
        return f"{self.schema_name}.{self.table_name}" if self.schema_name else self.table_name

    def __str__(self) -> str:
        parts = [self.message]
        if self.detail:
            parts.append(f"DETAIL: {self.detail}")
        if self.hint:
            parts.append(f"HINT: {self.hint}")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, sqlstate={self.sqlstate!r})"


class LockTimeoutError(PgpartError):
    """55P03 lock_not_available: a lock was not obtained within the lock timeout
    (after pgpart's retries). Nothing was left half-done; retry later."""

    default_sqlstate = "55P03"


class PermissionDeniedError(PgpartError):
    """42501 insufficient_privilege: e.g. the role does not own the table."""

    default_sqlstate = "42501"


class InvalidArgumentError(PgpartError):
    """22023 invalid_parameter_value, and other data exceptions (class 22):
    a bad interval, premake, time zone, retention, ..."""

    default_sqlstate = "22023"


class NotManagedError(PgpartError):
    """55000 object_not_in_prerequisite_state: the table is not managed by
    pgpart, or not in the state the operation needs."""

    default_sqlstate = "55000"


class UndefinedTableError(PgpartError):
    """42P01 undefined_table: the table does not exist."""

    default_sqlstate = "42P01"


class UndefinedFunctionError(PgpartError):
    """42883 undefined_function: usually pgpart is not installed in this
    database, or is older than this client (see :meth:`pgpart.Client.install`)."""

    default_sqlstate = "42883"


class UndefinedObjectError(PgpartError):
    """42704 undefined_object: e.g. a tablespace or role that does not exist."""

    default_sqlstate = "42704"


class InvalidDefinitionError(PgpartError):
    """42P17 invalid_object_definition: the table is not partitioned, has the
    wrong strategy or key, or a requested range overlaps an existing partition."""

    default_sqlstate = "42P17"


class FeatureNotSupportedError(PgpartError):
    """0A000 feature_not_supported: an unsupported combination, e.g. changing
    the grid of a table that has partitions."""

    default_sqlstate = "0A000"


class DefaultPartitionRowsError(PgpartError):
    """23514 check_violation: the default partition holds rows of a range
    that is to be created; move them first."""

    default_sqlstate = "23514"


class LimitExceededError(PgpartError):
    """54000 program_limit_exceeded: e.g. too many partitions for one call."""

    default_sqlstate = "54000"


class DuplicateTableError(PgpartError):
    """42P07 duplicate_table: a relation with the partition's name exists."""

    default_sqlstate = "42P07"


class DuplicateSchemaError(PgpartError):
    """42P06 duplicate_schema: schema pgpart exists but holds no pgpart install."""

    default_sqlstate = "42P06"


class InvalidSchemaError(PgpartError):
    """3F000 invalid_schema_name: a schema that does not exist (e.g. the
    archive schema, or schema pgpart when pgpart is not installed)."""

    default_sqlstate = "3F000"


class TransactionStateError(PgpartError):
    """25001 active_sql_transaction (and the rest of class 25): the operation
    must run outside a transaction block, e.g. online maintenance given a
    connection inside an open transaction. The caller's transaction is left
    untouched."""

    default_sqlstate = "25001"


class QueryCanceledError(PgpartError):
    """57014 query_canceled: a statement_timeout expired or the statement was
    cancelled. An online detach interrupted this way is left "detach pending"
    and finished by the next maintenance run."""

    default_sqlstate = "57014"


class DeadlockError(PgpartError):
    """40P01 deadlock_detected."""

    default_sqlstate = "40P01"


class ConnectionFailureError(PgpartError):
    """08006 connection_failure (and the rest of class 08): the connection
    could not be made, broke, or was closed (08003 connection_does_not_exist).
    When it broke while a statement ran, whether that statement took effect
    is not known: read the state back (``info()``, ``check()``) on a new
    connection."""

    default_sqlstate = "08006"


class InstallError(PgpartError):
    """pgpart cannot be installed or upgraded this way (no SQLSTATE from the
    server: e.g. no upgrade path between two versions)."""


class ExportError(PgpartError):
    """A Parquet export or restore could not be verified (the file does not
    give back the table's rows, or does not match its manifest): nothing was
    detached, dropped or attached."""


class MissingExtraError(PgpartError):
    """An optional dependency is missing: e.g. pyarrow for the cold tier
    (``pip install 'pgpart-manager[parquet]'``)."""


#: exact SQLSTATE -> class
SQLSTATE_CLASSES: dict[str, type[PgpartError]] = {
    "55P03": LockTimeoutError,
    "42501": PermissionDeniedError,
    "22023": InvalidArgumentError,
    "55000": NotManagedError,
    "42P01": UndefinedTableError,
    "42883": UndefinedFunctionError,
    "42704": UndefinedObjectError,
    "42P17": InvalidDefinitionError,
    "0A000": FeatureNotSupportedError,
    "23514": DefaultPartitionRowsError,
    "54000": LimitExceededError,
    "42P07": DuplicateTableError,
    "42P06": DuplicateSchemaError,
    "3F000": InvalidSchemaError,
    "25001": TransactionStateError,
    "57014": QueryCanceledError,
    "40P01": DeadlockError,
    "08006": ConnectionFailureError,
}

# SQLSTATE class (first two characters) -> class, when no exact code matches.
_CLASS_FALLBACK: dict[str, type[PgpartError]] = {
    "08": ConnectionFailureError,  # connection exception
    "22": InvalidArgumentError,  # data exception: bad interval, date, number...
    "25": TransactionStateError,  # invalid transaction state
    "54": LimitExceededError,  # program limit exceeded
}


def error_class(sqlstate: str | None) -> type[PgpartError]:
    """The pgpart exception class for SQLSTATE."""
    if not sqlstate:
        return PgpartError
    return SQLSTATE_CLASSES.get(sqlstate) or _CLASS_FALLBACK.get(sqlstate[:2]) or PgpartError


def from_diagnostics(
    sqlstate: str | None,
    message: str,
    *,
    detail: str | None = None,
    hint: str | None = None,
    schema_name: str | None = None,
    table_name: str | None = None,
    driver_error: BaseException | None = None,
) -> PgpartError:
    """Build the pgpart exception for an error report (used by the drivers'
    adapters; the caller raises it ``from driver_error``)."""
    return error_class(sqlstate)(
        message,
        sqlstate=sqlstate,
        detail=detail,
        hint=hint,
        schema_name=schema_name,
        table_name=table_name,
        driver_error=driver_error,
    )


# PEP 249 exception names (in the exception's class hierarchy) -> (class, SQLSTATE)
_DBAPI_CLASSES: tuple[tuple[str, type[PgpartError], str | None], ...] = (
    ("OperationalError", ConnectionFailureError, "08006"),
    ("InterfaceError", ConnectionFailureError, "08003"),
    ("DataError", InvalidArgumentError, "22023"),
)


def from_driver_error(exc: BaseException, driver: str) -> PgpartError:
    """The pgpart exception for EXC, an exception DRIVER raised without a
    SQLSTATE (the caller raises it ``from exc``).

    PEP 249 names say what happened whatever the driver: OperationalError
    (the connection broke) and InterfaceError (it is closed, or the driver
    cannot use it) become ConnectionFailureError; DataError, and the
    ValueError or UnicodeError of a value the driver cannot send (psycopg2
    refuses NUL characters with ValueError), InvalidArgumentError; anything
    else PgpartError without a SQLSTATE.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    kind: type[PgpartError] = PgpartError
    sqlstate: str | None = None
    for name, cls, code in _DBAPI_CLASSES:
        if name in names:
            kind, sqlstate = cls, code
            break
    else:
        if isinstance(exc, OSError):
            kind, sqlstate = ConnectionFailureError, "08006"
        elif isinstance(exc, ValueError):  # UnicodeError too
            kind, sqlstate = InvalidArgumentError, "22023"
    cls_name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    # libpq's messages go on over several lines: the first is the message.
    first, _, rest = str(exc).strip().partition("\n")
    facts = [line.strip() for line in rest.splitlines() if line.strip()]
    facts.append(f"The {driver or 'database'} driver raised {cls_name} without a SQLSTATE.")
    return kind(first.strip() or cls_name, sqlstate=sqlstate, detail="\n".join(facts), driver_error=exc)
