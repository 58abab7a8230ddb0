"""The partitioned table, from Django's own table SQL.

``schema_editor.table_sql(model)`` gives ``CREATE TABLE t (...)``; pgpart
adds ``PARTITION BY <method> (<key>)`` and, when Django's pk is a single
column other than the key, moves ``PRIMARY KEY`` from that column to a
table constraint ``PRIMARY KEY (pk, key)`` (PostgreSQL requires every unique
constraint of a partitioned table to contain the key). Uniqueness without the key
(``unique=True``, ``unique_together``, ``UniqueConstraint``) is left out of
that SQL (PostgreSQL would refuse it): the migration's ``AddGlobalUnique``
makes it global. Nothing of Django is
patched: the schema editor is only asked for SQL, and the rest of
``create_model`` (comments, indexes, many-to-many tables) is done the way
Django does it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from .declaration import Spec, key_column
from .globalunique import unique_sql_hidden

__all__ = ["create_partitioned_model", "partitioned_table_sql"]


def partitioned_table_sql(
    schema_editor: BaseDatabaseSchemaEditor, model: type[models.Model], spec: Spec
) -> tuple[str, list[Any]]:
    """``CREATE TABLE ... PARTITION BY ...`` for MODEL and its parameters."""
    sql, params = schema_editor.table_sql(model)
    qn = schema_editor.quote_name
    meta = model._meta
    key_col = key_column(model, spec)

    # table_sql appends " TABLESPACE x" after the column list; PARTITION BY
    # must come before it.
    suffix = ""
    if meta.db_tablespace:
        tablespace_sql = schema_editor.connection.ops.tablespace_sql(meta.db_tablespace)
        if tablespace_sql:
            suffix = " " + tablespace_sql
            if not sql.endswith(suffix):
                raise RuntimeError(f"unexpected table SQL from Django: {sql!r}")
            sql = sql[: -len(suffix)]
    if not sql.endswith(")"):
        raise RuntimeError(f"unexpected table SQL from Django: {sql!r}")

    pk = meta.pk
    constraint = ""
    pk_column = None if pk is None or isinstance(pk, models.CompositePrimaryKey) else pk.column
    if pk is not None and pk_column is not None and pk_column != key_col:
        definition, _ = schema_editor.column_sql(model, pk)
        column = f"{qn(pk_column)} {definition}"
        if definition is None or sql.count(column) != 1 or " PRIMARY KEY" not in definition:
            raise RuntimeError(f"cannot find the primary key column {pk_column!r} in Django's table SQL: {sql!r}")
        inline_tablespace = ""
        tablespace = getattr(pk, "db_tablespace", None) or meta.db_tablespace
        if tablespace and schema_editor.connection.features.supports_tablespaces:
            inline_tablespace = " " + schema_editor.connection.ops.tablespace_sql(tablespace, inline=True)
        plain = definition.replace(" PRIMARY KEY", "", 1)
        if inline_tablespace:
            plain = plain.replace(inline_tablespace, "", 1)
        sql = sql.replace(column, f"{qn(pk_column)} {plain}", 1)
        constraint = f", PRIMARY KEY ({qn(pk_column)}, {qn(key_col)}){inline_tablespace}"
    sql = f"{sql[:-1]}{constraint}) PARTITION BY {spec.method.upper()} ({qn(key_col)}){suffix}"
    return sql, params


def create_partitioned_model(schema_editor: BaseDatabaseSchemaEditor, model: type[models.Model], spec: Spec) -> None:
    """What ``schema_editor.create_model(model)`` does, with the partitioned
    table SQL."""
    with unique_sql_hidden(model, spec):  # global uniqueness: added by AddGlobalUnique instead
        sql, params = partitioned_table_sql(schema_editor, model, spec)
    schema_editor.execute(sql, params or None)
    connection = schema_editor.connection
    meta = model._meta
    if connection.features.supports_comments:
        if meta.db_table_comment:
            schema_editor.alter_db_table_comment(model, None, meta.db_table_comment)  # type: ignore[arg-type]  # None: no old comment, as Django itself passes
        if not connection.features.supports_comments_inline:
            for field in meta.local_fields:
                if field.db_comment:
                    field_type = field.db_parameters(connection=connection)["type"]
                    schema_editor.execute(
                        *schema_editor._alter_column_comment_sql(model, field, field_type, field.db_comment)  # type: ignore[attr-defined]
                    )
    schema_editor.deferred_sql.extend(schema_editor._model_indexes_sql(model))  # type: ignore[attr-defined]
    for field in meta.local_many_to_many:
        through = field.remote_field.through
        if through is not None and through._meta.auto_created:
            schema_editor.create_model(through)
