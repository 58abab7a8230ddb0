"""Text for a terminal: what the pgpart command prints, made harmless.

Much of what the command prints is not its own: table, partition and
tablespace names, bounds and server messages come from the database, paths
and keys from the command line and policy files. Any table owner can name a
table ``"\\x1b]0;...\\x07"`` or ``"\\x1b[2J"``, and printed raw such a name
rewrites the operator's terminal (title, screen, colours, on some terminals
the clipboard or worse). So every control character is shown escaped, as
Python writes it in a string literal: C0 and DEL as ``\\x1b``, C1 as
``\\u009b``; so are the bidirectional overrides and isolates, which reorder
what the terminal shows, and the Unicode line and paragraph separators.

:func:`escape` is the one function that does it. The command writes through
:class:`TerminalStream`, which applies it to everything (keeping only newlines
and tabs, which lay out lines and move no further than the next line), and its renderers pass
each value from the database through :func:`shown`, which escapes newlines
too, so that a name cannot forge a line of output either. JSON output needs
neither: ``json.dump`` escapes every control character itself.

A :class:`TerminalStream` also ends quietly when the reader goes away
(``pgpart info | head``): the rest of the output is discarded, the command
finishes its work, and no BrokenPipeError traceback is printed.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

__all__ = ["Output", "TerminalStream", "escape", "shown"]

# C0, DEL and C1 (Unicode category Cc); the Arabic letter mark, left-to-right
# and right-to-left marks; line and paragraph separators; bidirectional
# embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


class Output(Protocol):
    """Where the command writes: a text stream, or a TerminalStream over one."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def escape(text: str, *, keep: str = "") -> str:
    """TEXT with every control character escaped (``\\x1b``, ``\\u009b``),
    except the characters in KEEP."""
    if keep:
        return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escaped(m), text)
    return _CONTROL.sub(_escaped, text)


def shown(value: object) -> str:
    """VALUE as one line of harmless text (newlines escaped too); None as ''."""
    return "" if value is None else escape(str(value))


class TerminalStream:
    """A text stream that escapes control characters (keeping newlines and tabs) and
    ends quietly when its reader has gone away (EPIPE)."""

    def __init__(self, stream: SupportsWrite[str] | Output) -> None:
        self.stream = stream
        #: set when the reader went away; later output is discarded
        self.broken = False

    def write(self, text: str, /) -> int:
        if not self.broken:
            safe = escape(text, keep="\n\t")
            try:
                try:
                    self.stream.write(safe)
                except UnicodeEncodeError:
                    # A name the terminal's encoding cannot show: shown escaped.
                    encoding = getattr(self.stream, "encoding", None) or "ascii"
                    self.stream.write(safe.encode(encoding, "backslashreplace").decode(encoding))
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        flush = getattr(self.stream, "flush", None)
        if self.broken or flush is None:
            return
        try:
            flush()
        except BrokenPipeError:
            self._reader_gone()

    def _reader_gone(self) -> None:
        self.broken = True
        # Python flushes sys.stdout and sys.stderr once more at exit, and that
        # flush would fail and print a traceback: point the descriptor at
        # /dev/null, where the buffered rest can go.
        with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
            fd = self.stream.fileno()  # type: ignore[union-attr]  # a plain Output has none
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, fd)
            finally:
                os.close(devnull)
