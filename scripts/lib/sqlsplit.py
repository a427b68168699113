"""Split a SQL file into statements the way the Supabase CLI does before running them.

The CLI records each migration's statements in `supabase_migrations.schema_migrations`,
so our runner must cut a file into the same pieces to write an identical history row and to
notice later edits. The rules: a `;` ends a statement unless it sits inside a quoted string,
a quoted identifier, a dollar-quoted body, a comment, or a `BEGIN ATOMIC ... END` body.
Each statement keeps its text up to (not including) the `;`, leading comments included,
trimmed of surrounding whitespace; a piece holding nothing but whitespace and comments is dropped.
"""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def split_statements(sql: str) -> list[str]:
    statements: list[str] = []
    start = 0
    i = 0
    n = len(sql)
    atomic_depth = 0  # inside BEGIN ATOMIC: count BEGIN/CASE ... END nesting
    prev_word = ""
    while i < n:
        c = sql[i]
        if c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "/" and sql.startswith("/*", i):
            depth = 1
            i += 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth += 1
                    i += 2
                elif sql.startswith("*/", i):
                    depth -= 1
                    i += 2
                else:
                    i += 1
            continue
        if c in ("'", '"'):
            backslash = c == "'" and i > 0 and sql[i - 1] in "eE" and _standalone_prefix(sql, i)
            i += 1
            while i < n:
                if backslash and sql[i] == "\\":
                    i += 2
                    continue
                if sql[i] == c:
                    if i + 1 < n and sql[i + 1] == c:
                        i += 2
                        continue
                    break
                i += 1
            i += 1
            continue
        if c == "$":
            m = _DOLLAR_TAG.match(sql, i)
            if m and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                tag = m.group(0)
                end = sql.find(tag, m.end())
                i = n if end < 0 else end + len(tag)
                continue
            i += 1
            continue
        if c.isalpha() or c == "_":
            m = _WORD.match(sql, i)
            assert m is not None
            word = m.group(0).lower()
            if atomic_depth == 0 and prev_word == "begin" and word == "atomic":
                atomic_depth = 1
            elif atomic_depth and word in ("begin", "case"):
                atomic_depth += 1
            elif atomic_depth and word == "end":
                atomic_depth -= 1
            prev_word = word
            i = m.end()
            continue
        if c == ";" and atomic_depth == 0:
            piece = sql[start:i].strip()
            if piece:
                statements.append(piece)
            start = i + 1
        if not c.isspace():
            prev_word = ""
        i += 1
    tail = sql[start:].strip()
    if tail:
        statements.append(tail)
    return statements


def _standalone_prefix(sql: str, quote_at: int) -> bool:
    """True when the E before a quote is the E'' prefix, not the end of an identifier."""
    k = quote_at - 2
    return k < 0 or not (sql[k].isalnum() or sql[k] == "_")
