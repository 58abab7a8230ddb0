"""The cold tier: partitions to Parquet files and back (docs/cold-tier.md).

Needs the optional extra ``parquet`` (pyarrow); it is imported only by the
functions here that use it, so ``import pgpart`` never needs it.

The SQL side decides *which* tables go (retention_action 'export',
``pgpart.awaiting_export``) and records what went (``pgpart.record_export``,
``pgpart.cold_partitions``); this module moves the rows:

export
    rows streamed from a server-side cursor in key order, BATCH_ROWS at a
    time, each batch one zstd row group (memory stays flat), into
    ``<name>.parquet.partial``; then the file is read back batch by batch
    into a temporary table and the rows it gives back are checksummed by the
    same definition as the source's: a mismatch (or any failure) removes the
    file and leaves the partition attached. Only then is the file renamed,
    its manifest written beside it, the partition detached (journaled for
    export) and, under a SHARE lock, checked once more and dropped
    (``pgpart.record_export``, one transaction).
restore
    the file loaded into a temporary table, checksummed against the manifest,
    inserted into a new table built like a partition of the parent, a CHECK
    constraint added so that ATTACH need not scan, attached under the lock
    timeout, logged.

Checksum (the manifest's ``checksum``, ``sha256:<hex>``): SHA-256 of the
rows' PostgreSQL text forms, each ``ROW(c1, ..., cn)::text`` over the
parent's columns in the parent's order, UTF-8, each followed by ``\\n``, in
the order ``ORDER BY <key column>, <row text> COLLATE "C"``, computed with
DateStyle ``ISO, YMD``, TimeZone ``UTC``, IntervalStyle ``postgres``,
extra_float_digits ``1`` and bytea_output ``hex``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from .errors import ExportError, InvalidArgumentError, MissingExtraError

__all__ = ["FORMAT", "Column", "Manifest", "export_table", "restore_file", "table_checksum"]

FORMAT = "pgpart-parquet/1"

#: the settings every checksum is computed under (the text forms depend on them)
_SETTINGS = (
    # a row security policy must not hide rows from the export: PostgreSQL
    # then raises instead (42501) of returning fewer rows
    ("row_security", "off"),
    ("DateStyle", "ISO, YMD"),
    ("TimeZone", "UTC"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "1"),
    ("bytea_output", "hex"),
)

#: one-dimensional arrays of these element types become Parquet lists
_LIST_ELEMENTS = {"bool", "int2", "int4", "int8", "float4", "float8", "text", "varchar"}
_SCALARS = {
    "bool": "bool", "int2": "int2", "int4": "int4", "int8": "int8", "float4": "float4", "float8": "float8",
    "text": "text", "varchar": "text", "bpchar": "text", "name": "text", "bytea": "bytea", "date": "date",
    "timestamp": "timestamp", "timestamptz": "timestamptz", "time": "time", "uuid": "uuid",
    "json": "json", "jsonb": "json", "numeric": "decimal",
}  # fmt: skip

Progress = Callable[[str, int], None]


def _module(name: str) -> Any:
    """A module of pyarrow (or fsspec), imported only when used (untyped: Any)."""
    return importlib.import_module(name)


def _require_pyarrow() -> Any:
    try:
        pyarrow = _module("pyarrow")
        _module("pyarrow.parquet")
    except ImportError as exc:
        raise MissingExtraError(
            "exporting to Parquet needs pyarrow, which is not installed",
            detail=str(exc),
            hint="pip install 'pgpart-manager[parquet]'",
        ) from exc
    return pyarrow


@dataclass(frozen=True)
class Column:
    """One column of the export: its name, PostgreSQL type (format_type) and
    the codec that carries it into Parquet ('text' when Parquet cannot hold
    every value exactly)."""

    name: str
    pg_type: str
    codec: str
    precision: int | None = None
    scale: int | None = None
    generated: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "pg_type": self.pg_type, "codec": self.codec,
            "precision": self.precision, "scale": self.scale, "generated": self.generated,
        }  # fmt: skip

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Column:
        codec = str(item["codec"])
        known = set(_SCALARS.values()) | {"list:" + e for e in _LIST_ELEMENTS}
        precision, scale = item.get("precision"), item.get("scale")
        if codec not in known or not all(v is None or isinstance(v, int) for v in (precision, scale)):
            raise InvalidArgumentError(
                f"the manifest's column {item.get('name')!r} has an unknown codec {codec!r}",
                hint="Restore files written by pgpart export, with their manifest unchanged.",
            )
        return cls(str(item["name"]), str(item["pg_type"]), codec, precision, scale, bool(item.get("generated")))

    # -- SQL ------------------------------------------------------------------

    def export_expr(self, alias: str) -> sql.Composable:
        """What the export selects: a value the Arrow array is built from."""
        c = sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(self.name))
        if self.codec in ("timestamp", "timestamptz", "time"):
            return sql.SQL("(extract(epoch FROM {}) * 1000000)::int8").format(c)
        if self.codec == "date":
            return sql.SQL("({} - DATE '1970-01-01')").format(c)
        if self.codec == "uuid":
            return sql.SQL("pg_catalog.uuid_send({})").format(c)
        if self.codec in ("text", "json"):
            return sql.SQL("{}::text").format(c)
        return c

    def staging_type(self) -> sql.Composable:
        """The type of the temporary table's column the file is loaded into."""
        types = {
            "bool": "boolean", "int2": "int2", "int4": "int4", "int8": "int8", "float4": "float4",
            "float8": "float8", "decimal": "numeric", "bytea": "bytea", "uuid": "bytea", "date": "int4",
            "timestamp": "int8", "timestamptz": "int8", "time": "int8", "text": "text", "json": "text",
        }  # fmt: skip
        if self.codec.startswith("list:"):
            element = self.codec[5:]
            return sql.SQL("{}[]").format(sql.SQL("text" if element == "varchar" else element))
        return sql.SQL(types[self.codec])

    def import_expr(self, alias: str) -> sql.Composable:
        """The column's value, of its PostgreSQL type, from the staging column."""
        s = sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(self.name))
        if self.codec in ("timestamp", "timestamptz"):
            origin = "TIMESTAMP '1970-01-01'" if self.codec == "timestamp" else "TIMESTAMPTZ '1970-01-01 00:00:00+00'"
            # two products, each exact in float8: seconds and the rest in microseconds
            value = sql.SQL(
                "(" + origin + " + ({s} / 1000000) * INTERVAL '1 second' + ({s} % 1000000) * INTERVAL '1 microsecond')"
            ).format(s=s)
        elif self.codec == "time":
            value = sql.SQL("(TIME '00:00' + {} * INTERVAL '1 microsecond')").format(s)
        elif self.codec == "date":
            value = sql.SQL("(DATE '1970-01-01' + {})").format(s)
        elif self.codec == "uuid":
            value = sql.SQL("pg_catalog.encode({}, 'hex')").format(s)
        else:
            value = s
        return sql.SQL("({})::{}").format(value, sql.SQL(self.pg_type))

    # -- Arrow ----------------------------------------------------------------

    def arrow_type(self, pa: Any) -> Any:
        simple = {
            "bool": pa.bool_(), "int2": pa.int16(), "int4": pa.int32(), "int8": pa.int64(),
            "float4": pa.float32(), "float8": pa.float64(), "text": pa.string(), "bytea": pa.binary(),
            "date": pa.date32(), "timestamp": pa.timestamp("us"), "timestamptz": pa.timestamp("us", tz="UTC"),
            "time": pa.time64("us"), "uuid": pa.uuid(), "json": pa.json_(pa.string()),
        }  # fmt: skip
        if self.codec == "decimal":
            return pa.decimal128(self.precision, self.scale)
        if self.codec.startswith("list:"):
            element = Column(self.name, "", "text" if self.codec[5:] == "varchar" else self.codec[5:])
            return pa.list_(element.arrow_type(pa))
        return simple[self.codec]

    def to_arrow(self, pa: Any, values: list[Any]) -> Any:
        """The Arrow array of one batch of exported values."""
        kind = self.arrow_type(pa)
        if self.codec in ("timestamp", "timestamptz", "time", "date"):
            storage = pa.array(values, type=pa.int32() if self.codec == "date" else pa.int64())
            return storage.view(kind)
        if self.codec in ("uuid", "json"):
            storage = pa.array(values, type=kind.storage_type)
            return pa.ExtensionArray.from_storage(kind, storage)
        return pa.array(values, type=kind)

    def from_arrow(self, pa: Any, array: Any) -> list[Any]:
        """One column of a batch read back, as values the staging table takes."""
        if self.codec in ("uuid", "json"):
            array = array.storage
        elif self.codec in ("timestamp", "timestamptz", "time"):
            array = array.view(pa.int64())
        elif self.codec == "date":
            array = array.view(pa.int32())
        values: list[Any] = array.to_pylist()
        return values


@dataclass(frozen=True)
class Manifest:
    """What is written beside each file, and logged by pgpart.record_export."""

    data: dict[str, Any]

    @property
    def columns(self) -> list[Column]:
        return [Column.from_json(c) for c in self.data["columns"]]

    @property
    def rows(self) -> int:
        return int(self.data["rows"])

    @property
    def checksum(self) -> str:
        return str(self.data["checksum"])


# -- reading the catalog -----------------------------------------------------------


def table_columns(conn: psycopg.Connection[Any], parent: str) -> tuple[list[Column], str | None, str]:
    """The parent's columns with their codecs before any value is seen, the
    key column (None when the key is an expression) and the parent's name."""
    rows = conn.execute(
        "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), tn.nspname = 'pg_catalog'"
        " AND t.typtype = 'b', t.typname::text, a.atttypmod, a.attgenerated <> '',"
        " et.typname::text, en.nspname = 'pg_catalog' AND et.typtype = 'b', c.oid::regclass::text"
        " FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid"
        " JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid"
        " JOIN pg_catalog.pg_namespace AS tn ON tn.oid = t.typnamespace"
        " LEFT JOIN pg_catalog.pg_type AS et ON et.oid = t.typelem AND t.typcategory = 'A'"
        " LEFT JOIN pg_catalog.pg_namespace AS en ON en.oid = et.typnamespace"
        " WHERE c.oid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [parent],
    ).fetchall()
    columns = []
    for name, pg_type, builtin, typname, typmod, generated, element, element_builtin, _ in rows:
        codec, precision, scale = "text", None, None
        if builtin and typname in _SCALARS:
            codec = _SCALARS[typname]
            if codec == "decimal":
                precision, scale = _numeric_typmod(typmod)
                if precision is None or not (0 <= (scale or 0) <= precision <= 38):
                    codec, precision, scale = "text", None, None
        elif element is not None and element_builtin and element in _LIST_ELEMENTS:
            codec = "list:" + element
        columns.append(Column(name, pg_type, codec, precision, scale, bool(generated)))
    key = conn.execute(
        "SELECT a.attname::text FROM pg_catalog.pg_partitioned_table AS p"
        " JOIN pg_catalog.pg_attribute AS a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
        " WHERE p.partrelid = %s::regclass AND p.partnatts = 1",
        [parent],
    ).fetchone()
    return columns, None if key is None else str(key[0]), _regclass(conn, parent)


def _numeric_typmod(typmod: int) -> tuple[int | None, int | None]:
    if typmod < 4:
        return None, None
    value = typmod - 4
    return (value >> 16) & 0xFFFF, ((value & 0x7FF) ^ 1024) - 1024


def _fit(conn: psycopg.Connection[Any], table: sql.Composable, columns: list[Column]) -> list[Column]:
    """The codecs the values allow: one scan that finds values Parquet cannot
    hold in the column's type (numeric NaN, infinite dates and times, the
    time 24:00, arrays of several dimensions or another lower bound); such a
    column goes as text."""
    tests: list[sql.Composable] = []
    which: list[int] = []
    for i, col in enumerate(columns):
        c = sql.Identifier(col.name)
        test: sql.Composable | None = None
        if col.codec == "decimal":
            test = sql.SQL("NOT pg_catalog.bool_or({} = 'NaN'::numeric)").format(c)
        elif col.codec in ("date", "timestamp", "timestamptz"):
            test = sql.SQL("pg_catalog.bool_and(pg_catalog.isfinite({}))").format(c)
        elif col.codec == "time":
            test = sql.SQL("NOT pg_catalog.bool_or({} = TIME '24:00')").format(c)
        elif col.codec.startswith("list:"):
            test = sql.SQL(
                "pg_catalog.bool_and(pg_catalog.array_ndims({c}) IS NULL"
                " OR (pg_catalog.array_ndims({c}) = 1 AND pg_catalog.array_lower({c}, 1) = 1))"
            ).format(c=c)
        if test is not None:
            tests.append(sql.SQL("coalesce({}, true)").format(test))
            which.append(i)
    if not tests:
        return columns
    row = conn.execute(sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(tests), table)).fetchone()
    assert row is not None
    fitted = list(columns)
    for i, fits in zip(which, row, strict=True):
        if not fits:
            col = columns[i]
            fitted[i] = Column(col.name, col.pg_type, "text", None, None, col.generated)
    return fitted


def _regclass(conn: psycopg.Connection[Any], table: str) -> str:
    """TABLE's schema-qualified name as the server quotes it (safe to compose,
    and meaning the same under pgpart's pinned search_path; 42P01 if none)."""
    row = conn.execute(
        "SELECT pg_catalog.format('%%I.%%I', n.nspname, c.relname) FROM pg_catalog.pg_class AS c"
        " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace WHERE c.oid = %s::regclass",
        [table],
    ).fetchone()
    assert row is not None
    return str(row[0])


def lock_table(conn: psycopg.Connection[Any], table: str, mode: str, timeout: str, retries: int, *,
               only: bool = False) -> None:  # fmt: skip
    """Locks TABLE in MODE under the lock timeout with retries (pgpart._acquire_locks)."""
    statement = sql.SQL("LOCK TABLE {}{} IN {} MODE").format(
        sql.SQL("ONLY " if only else ""), sql.SQL(_regclass(conn, table)), sql.SQL(mode)
    )
    conn.execute(
        "SELECT pgpart._acquire_locks(ARRAY[%s], %s::interval, %s::integer)",
        [statement.as_string(conn), timeout, retries],
    )


def _settings(conn: psycopg.Connection[Any]) -> None:
    for name, value in _SETTINGS:
        conn.execute("SELECT pg_catalog.set_config(%s, %s, true)", [name, value])


def _ordered_rows(source: sql.Composable, exprs: Sequence[sql.Composable], key: sql.Composable | None,
                  extra: Sequence[sql.Composable] = ()) -> sql.Composed:  # fmt: skip
    """``SELECT row text, EXTRA... FROM SOURCE`` in the checksum's order."""
    row = sql.SQL("ROW({})::text").format(sql.SQL(", ").join(exprs))
    order = [sql.SQL('q."_pgpart_row" COLLATE "C"')]
    keyed: list[sql.Composable] = []
    if key is not None:
        keyed = [sql.SQL("{} AS _pgpart_key").format(key)]
        order.insert(0, sql.SQL("q._pgpart_key"))
    fields = [sql.SQL('{} AS "_pgpart_row"').format(row), *keyed]
    fields += [sql.SQL("{} AS {}").format(e, sql.Identifier(f"c{i}")) for i, e in enumerate(extra)]
    outer = [sql.SQL('q."_pgpart_row"')] + [sql.SQL("q.{}").format(sql.Identifier(f"c{i}")) for i in range(len(extra))]
    return sql.SQL("SELECT {} FROM (SELECT {} FROM {}) AS q ORDER BY {}").format(
        sql.SQL(", ").join(outer), sql.SQL(", ").join(fields), source, sql.SQL(", ").join(order)
    )


def _stream_checksum(conn: psycopg.Connection[Any], query: sql.Composed, batch_rows: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    rows = 0
    with conn.cursor(name="pgpart_checksum") as cur:
        cur.execute(query)
        while batch := cur.fetchmany(batch_rows):
            for text, *_rest in batch:
                digest.update(text.encode())
                digest.update(b"\n")
            rows += len(batch)
    return rows, "sha256:" + digest.hexdigest()


def table_checksum(conn: psycopg.Connection[Any], table: str, columns: Sequence[Column], key: str | None,
                   batch_rows: int = 50_000) -> tuple[int, str]:  # fmt: skip
    """Row count and checksum of TABLE (inside the caller's transaction)."""
    _settings(conn)
    exprs = [sql.SQL("t.{}").format(sql.Identifier(c.name)) for c in columns]
    source = sql.SQL("{} AS t").format(sql.SQL(table))
    key_expr = None if key is None else sql.SQL("t.{}").format(sql.Identifier(key))
    return _stream_checksum(conn, _ordered_rows(source, exprs, key_expr), batch_rows)


# -- files -------------------------------------------------------------------------


def _filesystem(destination: str, filesystem: Any) -> tuple[Any, str]:
    """The pyarrow filesystem and the path in it: a local directory, or a URL
    pyarrow knows (s3://, gs://, hdfs://, file://) or one of fsspec's when
    fsspec is installed."""
    pa = _require_pyarrow()
    pafs_ = _module("pyarrow.fs")

    if filesystem is not None:
        return filesystem, destination
    if "://" not in destination:
        return pafs_.LocalFileSystem(), str(destination)
    try:
        fs, path = pafs_.FileSystem.from_uri(destination)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        fsspec = _module("fsspec")
        fs_, path = fsspec.core.url_to_fs(destination)
        fs = pafs_.PyFileSystem(pafs_.FSSpecHandler(fs_))
    return fs, path


def _join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name


def file_name(table: str) -> str:
    """The file's base name for a table (its qualified name, made safe)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", table.replace('"', ""))


# -- export ------------------------------------------------------------------------


def export_table(
    conn: psycopg.Connection[Any],
    *,
    parent: str,
    table: str,
    destination: str,
    attached: bool,
    pgpart_version: str,
    batch_rows: int = 50_000,
    filesystem: Any = None,
    progress: Progress | None = None,
) -> Manifest:
    """Writes TABLE (a partition of PARENT, or a table detached from it) to
    ``DESTINATION/<name>.parquet`` and reads it back through a temporary
    table to verify it; returns the manifest (also written beside the file
    as ``<name>.manifest.json``). Changes nothing in the database. CONN is
    in autocommit mode; each phase is a transaction of its own."""
    pa = _require_pyarrow()
    pq = _module("pyarrow.parquet")

    if batch_rows < 1:
        raise InvalidArgumentError(f"batch_rows must be at least 1, got {batch_rows}", hint="Pass e.g. 50000.")
    fs, directory = _filesystem(destination, filesystem)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        _settings(conn)
        table = _regclass(conn, table)
        # reading every column runs their types' and the table's code: only trusted code (docs/security.md)
        conn.execute("SELECT pgpart._guard_owner_code(%s::regclass, 'read')", [parent])
        base = file_name(table)
        final = _join(directory, base + ".parquet")
        partial = final + ".partial"
        columns, key, parent_name = table_columns(conn, parent)
        source = sql.SQL("{} AS t").format(sql.SQL(table))
        columns = _fit(conn, sql.SQL(table), columns)
        bound = conn.execute(
            "SELECT pg_catalog.pg_get_expr(c.relpartbound, 0), c.oid::regclass::text FROM pg_catalog.pg_class AS c"
            " WHERE c.oid = %s::regclass",
            [table],
        ).fetchone()
        assert bound is not None
        bound_text = bound[0]
        if bound_text is None:  # detached: the bound it had, from the journal
            logged = conn.execute(
                "SELECT l.detail ->> 'bound' FROM pgpart.log AS l WHERE l.parent = %s::regclass"
                " AND l.action = 'detach' AND l.journal_oid = %s::regclass::oid ORDER BY l.id DESC LIMIT 1",
                [parent, table],
            ).fetchone()
            bound_text = None if logged is None else logged[0]
        schema = pa.schema([pa.field(c.name, c.arrow_type(pa)) for c in columns])
        exprs = [sql.SQL("t.{}").format(sql.Identifier(c.name)) for c in columns]
        key_expr = None if key is None else sql.SQL("t.{}").format(sql.Identifier(key))
        query = _ordered_rows(source, exprs, key_expr, [c.export_expr("t") for c in columns])
        digest = hashlib.sha256()
        rows = 0
        try:
            fs.create_dir(directory, recursive=True)
            with (
                fs.open_output_stream(partial) as sink,
                pq.ParquetWriter(sink, schema, compression="zstd") as writer,
                conn.cursor(name="pgpart_export") as cur,
            ):
                cur.execute(query)
                while batch := cur.fetchmany(batch_rows):
                    for row in batch:
                        digest.update(row[0].encode())
                        digest.update(b"\n")
                    arrays = [col.to_arrow(pa, [r[i + 1] for r in batch]) for i, col in enumerate(columns)]
                    writer.write_batch(pa.record_batch(arrays, schema=schema))
                    rows += len(batch)
                    if progress is not None:
                        progress("written", rows)
        except BaseException:
            with contextlib.suppress(Exception):
                fs.delete_file(partial)
            raise
    checksum = "sha256:" + digest.hexdigest()
    try:
        got_rows, got = _file_checksum(conn, fs, partial, columns, key, batch_rows, progress)
        if (got_rows, got) != (rows, checksum):
            raise ExportError(
                f"the Parquet file of {table} does not give back its rows",
                detail=f"Written: {rows} rows, {checksum}; read back: {got_rows} rows, {got}.",
                hint="Nothing was detached or dropped. Report this with the table's column types.",
            )
        if progress is not None:
            progress("verified", rows)
        manifest = Manifest({
            "format": FORMAT, "parent": parent_name, "table": table, "bound": bound_text,
            "key_column": key, "rows": rows, "checksum": checksum,
            "checksum_definition": _CHECKSUM_DEFINITION,
            "columns": [c.as_json() for c in columns], "file": base + ".parquet",
            "location": final, "file_bytes": fs.get_file_info(partial).size,
            "pgpart_version": pgpart_version, "server_version": conn.info.server_version,
            "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        })  # fmt: skip
        fs.move(partial, final)
        with fs.open_output_stream(_join(directory, base + ".manifest.json")) as out:
            out.write(json.dumps(manifest.data, indent=2).encode())
    except BaseException:
        with contextlib.suppress(Exception):
            fs.delete_file(partial)
        raise
    return manifest


_CHECKSUM_DEFINITION = (
    "sha256 over ROW(columns in the parent's order)::text || E'\\n', UTF-8, ORDER BY key column, row text "
    "COLLATE \"C\"; DateStyle 'ISO, YMD', TimeZone UTC, IntervalStyle postgres, extra_float_digits 1, "
    "bytea_output hex"
)


def _batches(fs: Any, path: str, batch_rows: int) -> Iterator[Any]:
    pq = _module("pyarrow.parquet")
    with fs.open_input_file(path) as source:
        yield from pq.ParquetFile(source).iter_batches(batch_size=batch_rows)


def _load_staging(conn: psycopg.Connection[Any], fs: Any, path: str, columns: Sequence[Column], batch_rows: int,
                  progress: Progress | None, stage: str) -> str:  # fmt: skip
    """Loads the file into a temporary table (dropped at commit); its name."""
    pa = _require_pyarrow()
    staging = "pgpart_staging"
    conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(sql.Identifier(staging)))
    conn.execute(
        sql.SQL("CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP").format(
            sql.Identifier(staging),
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c.name), c.staging_type()) for c in columns),
        )
    )
    # binary COPY with the staging types set: psycopg's C dumpers, no text escaping
    copy = sql.SQL("COPY pg_temp.{} ({}) FROM STDIN (FORMAT binary)").format(
        sql.Identifier(staging), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    )
    names = [c.name for c in columns]
    loaded = 0
    with conn.cursor() as cur, cur.copy(copy) as out:
        out.set_types([c.staging_type().as_string(conn) for c in columns])
        for batch in _batches(fs, path, batch_rows):
            if batch.schema.names != names:
                raise ExportError(
                    f"the Parquet file {path} does not hold the manifest's columns",
                    detail=f"File: {', '.join(batch.schema.names)}; manifest: {', '.join(names)}.",
                    hint="Restore the file with the manifest written beside it.",
                )
            values = [col.from_arrow(pa, batch.column(i)) for i, col in enumerate(columns)]
            for row in zip(*values, strict=True):
                out.write_row(row)
            loaded += batch.num_rows
            if progress is not None:
                progress(stage, loaded)
    return staging


def _file_checksum(conn: psycopg.Connection[Any], fs: Any, path: str, columns: Sequence[Column], key: str | None,
                   batch_rows: int, progress: Progress | None) -> tuple[int, str]:  # fmt: skip
    """Row count and checksum of the rows the file gives back in PostgreSQL."""
    with conn.transaction():
        staging = _load_staging(conn, fs, path, columns, batch_rows, progress, "read back")
        _settings(conn)
        exprs = [c.import_expr("s") for c in columns]
        key_expr = None
        if key is not None:
            key_expr = next(c.import_expr("s") for c in columns if c.name == key)
        source = sql.SQL("pg_temp.{} AS s").format(sql.Identifier(staging))
        return _stream_checksum(conn, _ordered_rows(source, exprs, key_expr), batch_rows)


# -- restore -----------------------------------------------------------------------


def read_manifest(path: str, filesystem: Any = None) -> tuple[Manifest, Any, str]:
    """The manifest at PATH (a ``.manifest.json``, or the ``.parquet`` beside
    it), the filesystem and the data file's path."""
    fs, where = _filesystem(path, filesystem)
    if where.endswith(".parquet"):
        where = where[: -len(".parquet")] + ".manifest.json"
    with fs.open_input_stream(where) as source:
        data = json.loads(source.read().decode())
    if data.get("format") != FORMAT:
        raise InvalidArgumentError(
            f"{where} is not a pgpart Parquet manifest",
            detail=f"Its format is {data.get('format')!r}, expected {FORMAT!r}.",
            hint="Pass the .manifest.json written beside the file by pgpart export.",
        )
    directory = where.rsplit("/", 1)[0] if "/" in where else "."
    return Manifest(data), fs, _join(directory, str(data["file"]))


def manifests_in(conn: psycopg.Connection[Any], parent: str, directory: str, start: object, end: object,
                 filesystem: Any = None) -> list[str]:  # fmt: skip
    """The manifests in DIRECTORY of files exported from PARENT whose bound
    overlaps [START, END) (the server compares, in the key's type), oldest
    first, leaving out those whose table exists already."""
    pafs_ = _module("pyarrow.fs")
    fs, where = _filesystem(directory, filesystem)
    parent = _regclass(conn, parent)
    columns, key, _ = table_columns(conn, parent)
    key_type = next(c.pg_type for c in columns if c.name == key)
    chosen: list[tuple[Any, str]] = []
    for info in fs.get_file_info(pafs_.FileSelector(where)):
        if not info.path.endswith(".manifest.json"):
            continue
        with fs.open_input_stream(info.path) as source:
            data = json.loads(source.read().decode())
        values = _bound_values(str(data.get("bound")))
        if data.get("format") != FORMAT or data.get("parent") != parent or values is None:
            continue
        row = conn.execute(
            sql.SQL(
                "SELECT (%s::text IS NULL OR %s::text IS NULL OR %s::text::{t} < %s::text::{t})"
                " AND (%s::text IS NULL OR %s::text IS NULL OR %s::text::{t} > %s::text::{t}),"
                " pg_catalog.to_regclass(%s) IS NULL, %s::text::{t}"
            ).format(t=sql.SQL(key_type)),
            [values[0], end, values[0], end, values[1], start, values[1], start, str(data.get("table")),
             values[0]],
        ).fetchone()  # fmt: skip
        if row is not None and row[0] and row[1]:
            chosen.append((row[2], info.path))
    chosen.sort(key=lambda item: (item[0] is not None, item[0] if item[0] is not None else 0, item[1]))
    return [path for _, path in chosen]


def restore_file(
    conn: psycopg.Connection[Any],
    *,
    parent: str,
    manifest: Manifest,
    fs: Any,
    data_path: str,
    name: str | None,
    lock_timeout: str,
    lock_retries: int,
    batch_rows: int = 50_000,
    progress: Progress | None = None,
) -> str:
    """Loads the file into a new table built like a partition of PARENT,
    verified against the manifest, attached at the manifest's bound; one
    transaction (a failure leaves nothing). The new table's name."""
    columns = manifest.columns
    bound = str(manifest.data.get("bound"))
    clause = _bound_clause(bound)  # refused before anything is done
    with conn.transaction():
        parent = _regclass(conn, parent)
        ident = conn.execute("SELECT pg_catalog.parse_ident(%s)", [name or str(manifest.data["table"])]).fetchone()
        assert ident is not None
        target = sql.Identifier(*ident[0]).as_string(conn)
        # inserting rows runs the table's code (defaults, constraints, generated columns): only trusted code
        conn.execute("SELECT pgpart._guard_owner_code(%s::regclass, 'move')", [parent])
        current, key, _ = table_columns(conn, parent)
        have = {c.name: c.pg_type for c in current}
        wrong = [c.name for c in columns if have.get(c.name) != c.pg_type]
        if wrong or key != manifest.data.get("key_column"):
            raise InvalidArgumentError(
                f"the file's columns do not match table {parent}",
                detail=f"Columns missing or of another type now: {', '.join(wrong) or '(none)'}; "
                f"key column {key} (file: {manifest.data.get('key_column')}).",
                hint="Restore into a table with the columns the manifest lists.",
            )
        staging = _load_staging(conn, fs, data_path, columns, batch_rows, progress, "loaded")
        _settings(conn)
        exprs = [c.import_expr("s") for c in columns]
        key_expr = next((c.import_expr("s") for c in columns if c.name == key), None)
        source = sql.SQL("pg_temp.{} AS s").format(sql.Identifier(staging))
        rows, checksum = _stream_checksum(conn, _ordered_rows(source, exprs, key_expr), batch_rows)
        if (rows, checksum) != (manifest.rows, manifest.checksum):
            raise ExportError(
                f"the Parquet file {data_path} does not match its manifest",
                detail=f"Manifest: {manifest.rows} rows, {manifest.checksum}; file: {rows} rows, {checksum}.",
                hint="The file or its manifest was changed or damaged; nothing was restored.",
            )
        if progress is not None:
            progress("verified", rows)
        ddl = conn.execute(
            # where and how pgpart creates a partition of this parent
            "SELECT d.action, d.statement FROM pgpart._partition_ddl(%s::regclass, %s,"
            " pgpart._target_tablespace(%s::regclass, (SELECT f.tablespace FROM pgpart.config AS f"
            "  WHERE f.parent = %s::regclass)),"
            " (SELECT f.reloptions FROM pgpart.config AS f WHERE f.parent = %s::regclass),"
            " (SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class AS c"
            "  WHERE c.oid = %s::regclass)) AS d",
            [parent, target, parent, parent, parent, parent],
        ).fetchall()
        conn.execute(ddl[0][1])
        own = [c for c in columns if not c.generated]
        conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                sql.SQL(target), sql.SQL(", ").join(sql.Identifier(c.name) for c in own),
                sql.SQL(", ").join(c.import_expr("s") for c in own), source,
            )
        )  # fmt: skip
        for _action, statement in ddl[1:]:
            conn.execute(statement)
        conn.execute(sql.SQL("DROP TABLE pg_temp.{}").format(sql.Identifier(staging)))
        check = _bound_check(bound, key, dict(have))
        if check is not None:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT pgpart_restore_bound CHECK ({})").format(sql.SQL(target), check)
            )
        lock_table(conn, parent, "SHARE UPDATE EXCLUSIVE", lock_timeout, lock_retries, only=True)
        conn.execute(sql.SQL("ALTER TABLE {} ATTACH PARTITION {} {}").format(sql.SQL(parent), sql.SQL(target), clause))
        if check is not None:
            conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT pgpart_restore_bound").format(sql.SQL(target)))
        conn.execute(
            "SELECT pgpart._log(%s::regclass, 'restore', 'ok', %s::jsonb)",
            [parent, json.dumps({"table": target, "rows": rows, "checksum": checksum,
                                 "location": manifest.data.get("location"), "bound": bound})],
        )  # fmt: skip
        return _regclass(conn, target)


def _bound_check(bound: str, key: str | None, types: dict[str, str]) -> sql.Composable | None:
    """A CHECK constraint implying a one-column range bound, so ATTACH need
    not scan the table (None when the bound is not of that shape)."""
    values = _bound_values(bound)
    if key is None or values is None:
        return None
    k = sql.Identifier(key)
    parts: list[sql.Composable] = [sql.SQL("{} IS NOT NULL").format(k)]
    for value, op in zip(values, (">=", "<"), strict=True):
        if value is not None:
            parts.append(sql.SQL("{} {} {}::{}").format(k, sql.SQL(op), sql.Literal(value), sql.SQL(types[key])))
    return sql.SQL(" AND ").join(parts)


_BOUND_VALUE = r"(MINVALUE|MAXVALUE|'(?:[^']|'')*'|-?[0-9]+)"


def _bound_values(bound: str) -> tuple[str | None, str | None] | None:
    """The two values of a one-column range bound as the server printed it
    (None for MINVALUE/MAXVALUE), or None for any other bound: the manifest
    is read from a file, so it is parsed, never pasted into SQL."""
    match = re.fullmatch(rf"FOR VALUES FROM \({_BOUND_VALUE}\) TO \({_BOUND_VALUE}\)", bound)
    if match is None:
        return None

    def value(text: str) -> str | None:
        if text in ("MINVALUE", "MAXVALUE"):
            return None
        return text[1:-1].replace("''", "'") if text.startswith("'") else text

    return value(match.group(1)), value(match.group(2))


def _bound_clause(bound: str) -> sql.Composable:
    """The FOR VALUES clause of a one-column range bound, rebuilt from its values."""
    values = _bound_values(bound)
    if values is None:
        raise InvalidArgumentError(
            f"the manifest's bound {bound!r} is not a one-column range bound",
            hint="Attach the restored table by hand.",
        )
    low, high = (
        sql.SQL(side) if v is None else sql.Literal(v) for v, side in zip(values, ("MINVALUE", "MAXVALUE"), strict=True)
    )
    return sql.SQL("FOR VALUES FROM ({}) TO ({})").format(low, high)
