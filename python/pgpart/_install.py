"""Client.install(): CREATE EXTENSION where the server has pgpart's files,
else the script shipped in this package, run in schema pgpart (DESIGN §8).

A script install records its version in the comment of schema pgpart::

    pgpart 0.1.0 (installed from the script shipped with the Python client)

which is how a later ``install()`` recognises it and upgrades it through the
shipped upgrade scripts. It differs from an extension install only in that
record, in extension membership (pg_depend, pg_extension.extconfig) and, for
a role that is not a superuser:

- the event triggers are left out (CREATE EVENT TRIGGER needs a superuser;
  the statements are tried in a savepoint, 42501 skips them with a
  PgpartWarning);
- functions that SET a custom parameter (``SET "pgpart.event_triggers" =
  'off'``, the event triggers' recursion guard) are created without that
  clause when PostgreSQL refuses it (only a superuser, or a role granted SET
  on the parameter, may create such a function), with a PgpartWarning: with
  no event triggers there is nothing for it to guard.
"""

from __future__ import annotations

import re
import warnings
from typing import Literal

from psycopg import sql

from . import __version__, _script
from ._session import Session
from .errors import (
    DuplicateSchemaError,
    InstallError,
    PermissionDeniedError,
    PgpartWarning,
    UndefinedObjectError,
)
from .types import InstallReport

__all__ = ["SCHEMA_COMMENT", "install", "recorded_version"]

SCHEMA = "pgpart"
SCHEMA_COMMENT = "pgpart {version} (installed from the script shipped with the Python client)"
_RECORD = re.compile(r"^pgpart (\S+) \(installed from the script shipped with the Python client\)$")
_EVENT_TRIGGER_NAME = re.compile(
    r"^(?:CREATE|ALTER|DROP|COMMENT\s+ON)\s+EVENT\s+TRIGGER\s+(?:IF\s+EXISTS\s+)?(\"(?:[^\"]|\"\")+\"|[^\s;]+)",
    re.IGNORECASE,
)

Method = Literal["auto", "extension", "script"]


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    # "0.10.0" > "0.9.1"; non-numeric parts compare as text after numbers.
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-]", version))


def recorded_version(session: Session) -> tuple[bool, str | None]:
    """(schema pgpart exists, version recorded in its comment by a script install)."""
    row = session.fetch_one(
        "SELECT pg_catalog.obj_description(n.oid, 'pg_namespace')"
        " FROM pg_catalog.pg_namespace AS n WHERE n.nspname = %s",
        [SCHEMA],
    )
    if row is None:
        return False, None
    match = _RECORD.match(row[0] or "")
    return True, match.group(1) if match else None


def install(session: Session, *, method: Method = "auto", version: str = __version__) -> InstallReport:
    if method not in ("auto", "extension", "script"):
        raise ValueError(f"method must be 'auto', 'extension' or 'script', not {method!r}")
    with session.atomic():
        row = session.fetch_one("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = %s", [SCHEMA])
        if row is not None:
            return _extension_update(session, row[0], version)
        schema_exists, recorded = recorded_version(session)
        if schema_exists:
            if recorded is None:
                raise DuplicateSchemaError(
                    "schema pgpart exists but holds no pgpart install",
                    detail="Neither extension pgpart nor a version record in the schema's comment was found.",
                    hint="Drop or rename schema pgpart, or install with CREATE EXTENSION pgpart.",
                )
            return _script_upgrade(session, recorded, version)
        if method == "extension" or (method == "auto" and _can_create_extension(session, version)):
            session.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS pgpart VERSION {}").format(sql.Literal(version)))
            return InstallReport("extension", "installed", version)
        skipped, skipped_triggers = _run_script(session, _script.install_script(version), create_schema=True)
        _record(session, version)
        return InstallReport("script", "installed", version, None, skipped, skipped_triggers)


def _can_create_extension(session: Session, version: str) -> bool:
    """Whether the server has the files of VERSION and this role may run them."""
    row = session.fetch_one(
        "SELECT v.superuser, v.trusted,"
        "       (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user),"
        "       pg_catalog.has_database_privilege(current_database(), 'CREATE')"
        "  FROM pg_catalog.pg_available_extension_versions AS v"
        " WHERE v.name = %s AND v.version = %s",
        [SCHEMA, version],
    )
    if row is None:
        return False
    needs_superuser, trusted, is_superuser, may_create = row
    return bool(is_superuser or not needs_superuser or (trusted and may_create))


def _extension_update(session: Session, installed: str, version: str) -> InstallReport:
    if _version_key(installed) >= _version_key(version):
        return InstallReport("extension", "unchanged", installed, installed)
    session.execute(sql.SQL("ALTER EXTENSION pgpart UPDATE TO {}").format(sql.Literal(version)))
    return InstallReport("extension", "upgraded", version, installed)


def _script_upgrade(session: Session, installed: str, version: str) -> InstallReport:
    if _version_key(installed) >= _version_key(version):
        return InstallReport("script", "unchanged", installed, installed)
    path = _script.upgrade_path(installed, version)
    if path is None:
        raise InstallError(
            f"no upgrade path from pgpart {installed} to {version} in this package",
            hint="Install a version of the Python package that ships the upgrade scripts in between.",
        )
    skipped: list[tuple[str, str]] = []
    skipped_triggers: list[str] = []
    for name in path:
        s, t = _run_script(session, _script.read_script(name), create_schema=False)
        skipped += s
        skipped_triggers += t
    _record(session, version)
    return InstallReport("script", "upgraded", version, installed, tuple(skipped), tuple(skipped_triggers))


def _record(session: Session, version: str) -> None:
    comment = SCHEMA_COMMENT.format(version=version)
    session.execute(sql.SQL("COMMENT ON SCHEMA pgpart IS {}").format(sql.Literal(comment)))


def _run_script(
    session: Session, script: str, *, create_schema: bool
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Run SCRIPT's statements as CREATE EXTENSION would (search_path set to
    the schema, check_function_bodies off), inside the caller's atomic block."""
    statements = _script.prepare(script, SCHEMA)
    settings = session.fetch_one(
        "SELECT current_setting('search_path'), current_setting('check_function_bodies'),"
        "       (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user)"
    )
    assert settings is not None
    search_path, check_bodies, is_superuser = settings
    if create_schema:
        session.execute_verbatim("CREATE SCHEMA pgpart")
    session.execute(
        "SELECT pg_catalog.set_config('search_path', %s, true),"
        " pg_catalog.set_config('check_function_bodies', 'off', true)",
        [SCHEMA],
    )
    skipped: list[tuple[str, str]] = []
    skipped_triggers: list[str] = []
    for statement in statements:
        if statement.kind in ("config_dump", "alter_extension"):
            skipped.append((statement.kind, statement.summary))
        elif statement.kind == "event_trigger":
            name = _event_trigger_name(statement.text)
            if name in skipped_triggers:
                continue
            if _try_event_trigger(session, statement.text, bool(is_superuser)):
                continue
            skipped_triggers.append(name)
        elif is_superuser:
            session.execute_verbatim(statement.text)
        else:
            dropped = _create_routine(session, statement.text)
            skipped += [("custom_setting", f"SET {name} of {statement.summary}") for name in dropped]
    session.execute(
        "SELECT pg_catalog.set_config('search_path', %s, true),"
        " pg_catalog.set_config('check_function_bodies', %s, true)",
        [search_path, check_bodies],
    )
    dropped = sorted({entry[1].split()[1] for entry in skipped if entry[0] == "custom_setting"})
    if dropped:
        warnings.warn(
            f"functions created without their SET clauses of {', '.join(dropped)} (the role may not set these "
            "parameters; they only steer pgpart's event triggers, which need a superuser anyway)",
            PgpartWarning,
            stacklevel=4,
        )
    if skipped_triggers:
        warnings.warn(
            f"event triggers not created (the role may not create event triggers): {', '.join(skipped_triggers)}; "
            "pgpart works without them, and maintenance reconciles partitions instead",
            PgpartWarning,
            stacklevel=4,
        )
    return tuple(skipped), tuple(skipped_triggers)


def _event_trigger_name(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if not line.lstrip().startswith("--")]
    match = _EVENT_TRIGGER_NAME.match(" ".join(lines).strip())
    return match.group(1) if match else "?"


def _try_event_trigger(session: Session, statement: str, is_superuser: bool) -> bool:
    """Run an event-trigger statement in a savepoint; False when the role may
    not (42501), as on most managed services for non-superusers."""
    if is_superuser:
        session.execute_verbatim(statement)
        return True
    session.execute_verbatim("SAVEPOINT pgpart_event_trigger")
    try:
        session.execute_verbatim(statement)
    except (PermissionDeniedError, UndefinedObjectError):
        session.execute_verbatim("ROLLBACK TO SAVEPOINT pgpart_event_trigger")
        session.execute_verbatim("RELEASE SAVEPOINT pgpart_event_trigger")
        return False
    session.execute_verbatim("RELEASE SAVEPOINT pgpart_event_trigger")
    return True


def _create_routine(session: Session, statement: str) -> list[str]:
    """Run STATEMENT; a function that sets a custom parameter this role may
    not set (42501) is created without those SET clauses instead. Returns
    the parameters left out."""
    stripped, names = _script.strip_custom_settings(statement)
    if not names:
        session.execute_verbatim(statement)
        return []
    session.execute_verbatim("SAVEPOINT pgpart_routine")
    try:
        session.execute_verbatim(statement)
    except PermissionDeniedError:
        session.execute_verbatim("ROLLBACK TO SAVEPOINT pgpart_routine")
        session.execute_verbatim("RELEASE SAVEPOINT pgpart_routine")
        session.execute_verbatim(stripped)
        return names
    session.execute_verbatim("RELEASE SAVEPOINT pgpart_routine")
    return []
