"""Split a SQL file into statements exactly the way the Supabase CLI (2.117.0) does.

The CLI records each migration's statements in `supabase_migrations.schema_migrations`,
so our runner must cut a file into the same pieces to write an identical history row, to
notice later edits, and to fail where `supabase db push` would fail. The CLI's scanner is
not PostgreSQL's lexer, and we follow the CLI, quirks included (checked against the binary):

- `;` ends a statement, except inside a quoted string or identifier (`'...'`, `"..."`,
  doubled delimiters escape), a dollar-quoted body (`$tag$...$tag$`; any `$` starts a tag,
  even inside an identifier such as `a$b$`), a `--` comment, or a `/* */` comment (nested).
- Backslashes are NOT escapes inside strings (so `E'it\\'s'` ends at the second quote);
  outside strings a backslash hides the next character.
- After `(`, semicolons are ignored until the next `)` of the code (nested parentheses do
  not count: the first `)` closes them all).
- After `BEGIN ATOMIC`, semicolons are ignored until the text ends in `END` (no word
  boundary, and a `CASE ... END` inside the body ends it too).
- Each statement is its text up to and including the `;`, with trailing `;` removed and
  surrounding whitespace trimmed (JavaScript's notion of whitespace); leading comments stay;
  empty pieces are dropped; the text after the last `;` is a statement when not blank
  (even when it holds only a comment).
"""

from __future__ import annotations

from typing import NamedTuple

# JavaScript's String.prototype.trim / RegExp \s set: WhiteSpace and LineTerminator.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


class _State(NamedTuple):
    """Where the scanner is: plain code, or inside some token (see `_step`)."""

    kind: str  # ready | dash | slash | quote | until | tag | backslash
    text: str = ""  # quote: its delimiter; until: what ends it
    number: int = 0  # slash: comment depth; tag: offset of the `$` that began it
    closing: bool = False  # quote: the last character was the delimiter


READY = _State("ready")


class _Step(NamedTuple):
    state: _State
    opens: str | None = None  # a new nesting that lasts until the text ends with this
    ends_statement: bool = False


def _tag_char(c: str) -> bool:
    return c.isalpha() or c.isdecimal() or c == "_"


def _word_char(c: str) -> bool:
    return _tag_char(c) or c == "$"


def _ends_with(sql: str, start: int, end: int, suffix: str, *, fold: bool = False) -> bool:
    """Whether sql[start:end] ends with `suffix` (case-insensitively when `fold`)."""
    begin = end - len(suffix)
    if begin < start:
        return False
    tail = sql[begin:end]
    return tail.upper() == suffix.upper() if fold else tail == suffix


def _after_begin_atomic(sql: str, start: int, end: int) -> bool:
    """Whether sql[start:end] ends with the words BEGIN ATOMIC (whitespace between)."""
    if not _ends_with(sql, start, end, "ATOMIC", fold=True):
        return False
    k = end - 6
    if k > start and _word_char(sql[k - 1]):
        return False
    while k > start and sql[k - 1] in JS_WHITESPACE:
        k -= 1
    if not _ends_with(sql, start, k, "BEGIN", fold=True):
        return False
    k -= 5
    return k == start or not _word_char(sql[k - 1])


def _ready(c: str, sql: str, start: int, end: int) -> _Step:
    if c == "$":
        return _Step(_State("tag", number=end - 1))
    if c in ("'", '"'):
        return _Step(_State("quote", c))
    if c == "-":
        return _Step(_State("dash"))
    if c == "/":
        return _Step(_State("slash"))
    if c == "\\":
        return _Step(_State("backslash"))
    if c == ";":
        return _Step(READY, ends_statement=True)
    if c == "(":
        return _Step(READY, opens=")")
    if c in "cC" and _after_begin_atomic(sql, start, end):
        return _Step(READY, opens="END")
    return _Step(READY)


def _step(state: _State, c: str, sql: str, start: int, end: int) -> _Step:
    """One character `c` (= sql[end - 1]) seen in `state`; the piece so far is sql[start:end]."""
    kind = state.kind
    if kind == "ready":
        return _ready(c, sql, start, end)
    if kind == "dash":
        return _Step(_State("until", "\n")) if c == "-" else _ready(c, sql, start, end)
    if kind == "slash":
        depth = state.number
        last_two = sql[max(start, end - 2) : end]
        if last_two == "/*":
            return _Step(state._replace(number=depth + 1))
        if depth == 0:
            return _ready(c, sql, start, end)
        if last_two == "*/":
            return _Step(READY if depth == 1 else state._replace(number=depth - 1))
        return _Step(state)
    if kind == "quote":
        if state.closing:
            if c == state.text:  # a doubled delimiter stands for itself
                return _Step(state._replace(closing=False))
            return _ready(c, sql, start, end)
        return _Step(state._replace(closing=c == state.text))
    if kind == "until":
        return _Step(READY if _ends_with(sql, start, end, state.text) else state)
    if kind == "tag":
        if c == "$":
            return _Step(_State("until", sql[state.number : end]))
        if _tag_char(c):
            return _Step(state)
        return _ready(c, sql, start, end)
    # backslash: the character after it is taken as is.
    return _Step(READY)


def split_statements(sql: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    state = READY
    nesting: list[str] = []  # what closes each open `(` / BEGIN ATOMIC, innermost last
    for i, c in enumerate(sql):
        end = i + 1
        step = _step(state, c, sql, start, end)
        if step.ends_statement:
            if not nesting:
                pieces.append(sql[start:end])
                start, state = end, READY
            # Inside a nesting the `;` is ignored and the scanner keeps its previous state.
            continue
        state = step.state
        if step.opens is not None:
            nesting.append(step.opens)
            continue
        # A nesting closes when its inner scanner is back in plain code and the text ends
        # with its closer; the enclosing one then checks its own closer the same way.
        while state == READY and nesting and _ends_with(sql, start, end, nesting[-1], fold=True):
            nesting.pop()
    if start < len(sql):
        pieces.append(sql[start:])
    statements = []
    for piece in pieces:
        text = piece.rstrip(";").strip(JS_WHITESPACE)
        if text:
            statements.append(text)
    return statements
