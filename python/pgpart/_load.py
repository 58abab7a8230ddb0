"""Reading a COPY file in batches for ``Client.load``: each batch's raw text
(sent to the server as it is) and the text of its partition keys.

Only what is needed to find the keys is parsed here: CSV records (quoted
fields may span lines) and text-format lines (tab-separated, backslash
escapes). Casting the keys to the key's type, and everything about bounds
and partitions, is the server's (DESIGN §1).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TextIO

from .errors import InvalidArgumentError, PgpartError, error_class

Format = Literal["csv", "text"]

# text format escapes (COPY ... FORMAT text): \b \f \n \r \t \v, octal, hex
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.S)
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


@dataclass(frozen=True)
class Batch:
    """Up to ``batch_rows`` records: ``text`` as read, ``keys`` (None for
    NULL), ``first_record`` (1-based, after the header) and how many
    characters of the source were read through this batch."""

    text: str
    keys: list[str | None]
    first_record: int
    chars_read: int


def _unescape(field: str) -> str | None:
    if field == r"\N":
        return None

    def one(m: re.Match[str]) -> str:
        octal, hexa, char = m.groups()
        if octal is not None:
            return chr(int(octal, 8))
        if hexa is not None:
            return chr(int(hexa, 16))
        return _SIMPLE.get(char, char)

    return _ESCAPE.sub(one, field)


class _Lines:
    """The lines of SOURCE, keeping those handed out since the last
    ``take()`` (csv.reader reads a quoted newline's record line by line)."""

    def __init__(self, source: TextIO) -> None:
        self._taken: list[str] = []
        self.chars = 0
        self.lines = self._read(source)

    def _read(self, source: TextIO) -> Iterator[str]:
        keep = self._taken.append
        for line in source:
            keep(line)
            yield line

    def take(self) -> str:
        text = "".join(self._taken)
        self.chars += len(text)
        self._taken.clear()
        return text


def _checked(records: Iterator[list[str]]) -> Iterator[list[str]]:
    """RECORDS, a CSV syntax error raised as InvalidArgumentError naming the record."""
    number = 0
    while True:
        number += 1
        try:
            record = next(records)
        except StopIteration:
            return
        except csv.Error as e:
            raise InvalidArgumentError(
                f"record {number} is not valid CSV: {e}", hint="Check the format and the delimiter."
            ) from None
        yield record


def batches(
    source: TextIO,
    *,
    fmt: Format,
    key_index: int,
    batch_rows: int,
    delimiter: str | None = None,
    skip_records: int = 0,
) -> Iterator[Batch]:
    """SOURCE (opened with newline='') in batches of BATCH_ROWS records,
    the field at KEY_INDEX (0-based) of each record as its key text. The
    first SKIP_RECORDS records are read and not sent (a header line is the
    caller's to read first)."""
    lines = _Lines(source)
    sep = delimiter or ("," if fmt == "csv" else "\t")
    if fmt == "csv":
        fields: Iterator[list[str]] = csv.reader(lines.lines, delimiter=sep, strict=True)
    else:
        fields = (line.rstrip("\r\n").split(sep) for line in lines.lines)
    number = 0
    keys: list[str | None] = []
    first = 0
    for record in _checked(fields):
        number += 1
        if number <= skip_records:
            lines.take()
            continue
        if fmt == "text" and record == [r"\."]:  # end-of-data marker
            break
        if not keys:
            first = number
        if key_index >= len(record):
            raise InvalidArgumentError(
                f"record {number} has {len(record)} fields; the key is field {key_index + 1}",
                hint="Check the format, the delimiter and the column list.",
            )
        key = record[key_index]
        keys.append((key or None) if fmt == "csv" else _unescape(key))
        if len(keys) == batch_rows:
            yield Batch(lines.take(), keys, first, lines.chars)
            keys = []
    if keys:
        yield Batch(lines.take(), keys, first, lines.chars)


def header_fields(line: str, fmt: Format, delimiter: str | None) -> list[str]:
    """The column names of a header LINE."""
    sep = delimiter or ("," if fmt == "csv" else "\t")
    if fmt == "csv":
        return next(csv.reader([line], delimiter=sep), [])
    return [_unescape(f) or "" for f in line.rstrip("\r\n").split(sep)]


def in_batch(error: PgpartError, batch: Batch, records: int, loaded: int, skipped: int) -> PgpartError:
    """ERROR, raised while loading BATCH, saying which records it covers
    and what is already loaded (committed on an autocommit connection)."""
    last = batch.first_record + records - 1
    resume = batch.first_record - 1
    hint = (
        f"{loaded} rows before record {batch.first_record} are loaded (committed on an autocommit connection);"
        f" fix the input and resume with skip_rows={resume} (pgpart load --skip-rows {resume})."
    )
    if error.hint:
        hint = f"{error.hint} {hint}"
    return error_class(error.sqlstate)(
        f"{error.message} (loading records {batch.first_record}-{last}"
        + (f", after skipping {skipped}" if skipped else "")
        + ")",
        sqlstate=error.sqlstate,
        detail=error.detail,
        hint=hint,
        schema_name=error.schema_name,
        table_name=error.table_name,
        driver_error=error.driver_error,
    )
