"""Draft the body of an upgrade script from two install scripts.

    .venv/bin/python scripts/upgrade_draft.py OLD.sql NEW.sql > draft.sql

Statements of NEW that are not in OLD, word for word, are printed in NEW's
order: functions and procedures as CREATE OR REPLACE (their grants and
comments follow them in NEW, so they come along), anything else under a
`-- REVIEW:` line. Functions of OLD whose signature NEW no longer has are
dropped first. It is a draft: read it, fix what CREATE OR REPLACE cannot do
(a changed return type or parameter name needs DROP + CREATE; a changed table
needs ALTER TABLE), and let tests/sql/test_upgrade.py compare the upgraded catalog
with a fresh install. See docs/architecture.md, "Writing an upgrade".
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))
from pgpart._script import split_statements  # noqa: E402

ROUTINE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\s+([\w.\"]+)\s*\(", re.I | re.S)


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")).strip()


def _arguments(statement: str, start: int) -> str:
    """The text between the parentheses that open at START."""
    depth = 0
    for i in range(start, len(statement)):
        if statement[i] == "(":
            depth += 1
        elif statement[i] == ")":
            depth -= 1
            if depth == 0:
                return statement[start + 1 : i]
    raise ValueError("unbalanced parentheses")


def _split_top(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return parts


def signature(statement: str) -> tuple[str, str, str] | None:
    """(FUNCTION|PROCEDURE, name, argument declarations without defaults)."""
    body = _strip_comments(statement)
    match = ROUTINE.match(body)
    if not match:
        return None
    args = _arguments(body, match.end() - 1)
    decls = [re.split(r"\s+(?:DEFAULT\b|=)", a.strip(), maxsplit=1, flags=re.I)[0] for a in _split_top(args)]
    return match.group(1).upper(), match.group(2), ", ".join(" ".join(d.split()) for d in decls)


def statements(path: str) -> list[str]:
    text = Path(path).read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("\\echo"))  # the psql guard
    return [s.strip() for s in split_statements(text) if _strip_comments(s)]


def main(old_path: str, new_path: str) -> None:
    old, new = statements(old_path), statements(new_path)
    old_set = {_strip_comments(s) for s in old}
    new_sigs = {sig for s in new if (sig := signature(s))}
    for s in old:
        sig = signature(s)
        if sig and sig not in new_sigs:
            print(f"DROP {sig[0]} {sig[1]}({sig[2]});\n")
    for s in new:
        if _strip_comments(s) in old_set:
            continue
        text = s if s.endswith(";") else s + ";"
        if signature(s):
            text = re.sub(r"^CREATE\s+(FUNCTION|PROCEDURE)\b", r"CREATE OR REPLACE \1", text, count=1, flags=re.M)
        elif not re.match(r"(COMMENT ON|GRANT|REVOKE)\b", _strip_comments(s), re.I):
            text = f"-- REVIEW: not a routine; new or changed since {Path(old_path).name}\n{text}"
        print(text + "\n")

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
