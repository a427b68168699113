"""The splitter cuts SQL exactly where the Supabase CLI 2.117.0 does (quirks included).

Expected values marked "CLI" were recorded from `supabase db push` of the same text; the
end-to-end comparison against the binary lives in test_supabase_cli.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scripts.lib.sqlsplit import JS_WHITESPACE, split_statements


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("", []),
        ("  \n\t ", []),
        ("select 1", ["select 1"]),
        ("select 1;select 2;", ["select 1", "select 2"]),
        ("  select 1 ;\n\n  select 2 ;  \n", ["select 1", "select 2"]),
        # empty pieces are dropped
        (";;select 1;;\n;", ["select 1"]),
        # leading comments stay with their statement
        ("-- why; because\nselect 1;", ["-- why; because\nselect 1"]),
        ("/* a; b */ select 1;", ["/* a; b */ select 1"]),
        # a comment-only piece is a statement, in the middle and at the end
        (
            "select 1;\n-- note\n;\nselect 2;\n-- end\n",
            ["select 1", "-- note", "select 2", "-- end"],
        ),
        # a trailing line comment stays on its statement
        ("select 4 -- trailing; comment\n;", ["select 4 -- trailing; comment"]),
        # quotes: `;` inside, doubled delimiters
        ("select 'a;b', 'it''s;';select 2", ["select 'a;b', 'it''s;'", "select 2"]),
        ('select 1 as "x;""y";select 2', ['select 1 as "x;""y"', "select 2"]),
        # dollar quoting, tagged and untagged, and a tag inside another body
        (
            "create function f() returns int as $body$ begin return 1; end $body$;select 2",
            ["create function f() returns int as $body$ begin return 1; end $body$", "select 2"],
        ),
        ("select $$ '$x$;' $$;select 2", ["select $$ '$x$;' $$", "select 2"]),
        ("select $x$ a $y$ ; $y$ b $x$;", ["select $x$ a $y$ ; $y$ b $x$"]),
        # positional parameters are not dollar quotes
        (
            "prepare p(int) as select $1; deallocate p;",
            ["prepare p(int) as select $1", "deallocate p"],
        ),
        # nested block comments
        (
            "/* outer /* inner; */ still; */ select 3;x",
            ["/* outer /* inner; */ still; */ select 3", "x"],
        ),
        # BEGIN ATOMIC bodies (any case, any whitespace between the words)
        (
            "create function f(a int) returns int language sql begin atomic select a; end;select 2",
            [
                "create function f(a int) returns int language sql begin atomic select a; end",
                "select 2",
            ],
        ),
        ("Begin\n  Atomic select 1; END;x", ["Begin\n  Atomic select 1; END", "x"]),
        # `;` inside parentheses does not split (multi-action rules)
        (
            "create rule r as on insert to t do also (select 1; select 2);x",
            ["create rule r as on insert to t do also (select 1; select 2)", "x"],
        ),
        # whitespace is JavaScript's: a BOM and NBSP are trimmed, CRLF kept inside
        ("\ufeffselect 1;\r\n-- c\r\nselect 2;\r\n", ["select 1", "-- c\r\nselect 2"]),
        ("\u00a0select 1\u00a0;", ["select 1"]),
    ],
)
def test_split(sql: str, expected: list[str]) -> None:
    assert split_statements(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # CLI: backslashes do not escape inside strings, E'' or not.
        (r"select E'it\'s; here' as a;", [r"select E'it\'s", "here' as a"]),
        (r"select 'a\' as b; select 2;", [r"select 'a\' as b", "select 2"]),
        # CLI: outside strings a backslash hides the next character.
        ("select 1 \\; select 2;", ["select 1 \\; select 2"]),
        # CLI: the first `)` closes every open parenthesis.
        (
            "do also (select (1); select 2);",
            ["do also (select (1)", "select 2)"],
        ),
        # CLI: BEGIN ATOMIC ends at the first text ending in END, CASE ... END included.
        (
            "begin atomic select case when a then 1 else 2 end; select a; end;",
            ["begin atomic select case when a then 1 else 2 end", "select a", "end"],
        ),
        (
            "begin atomic select * from append; x; end;",
            ["begin atomic select * from append", "x", "end"],
        ),
        # not BEGIN ATOMIC when glued to another word
        ("xbegin atomic select 1; end;", ["xbegin atomic select 1", "end"]),
        # ...but the CLI decides at the C of ATOMIC, before it sees what follows
        ("begin atomicx select 1; end;", ["begin atomicx select 1; end"]),
        # CLI: any `$` starts a dollar tag, even inside an identifier.
        ("select 1 as a$b; select 2;", ["select 1 as a$b", "select 2"]),
        ("select a$b$c; select 2; $b$;", ["select a$b$c; select 2; $b$"]),
        # CLI: the closing tag may overlap the opening one.
        ("select $$$;$$ select;", ["select $$$", "$$ select"]),
        # CLI: `/*/` closes the comment it opened.
        ("/*/ x; */;", ["/*/ x", "*/"]),
        # an unterminated string swallows the rest; trailing `;` are still removed
        ("select 'open; select 2;;", ["select 'open; select 2"]),
    ],
)
def test_cli_quirks(sql: str, expected: list[str]) -> None:
    assert split_statements(sql) == expected


# ---------------------------------------------------------------------------------------
# Property: statements built from pieces that can hold `;` (strings, identifiers, dollar
# bodies, comments, parentheses) come back unchanged after joining them with `;\n`.
# ---------------------------------------------------------------------------------------
_TEXT = st.text(alphabet="abc ;,.*/-()\n'\"$", max_size=12)
_WORDS = st.sampled_from(["select", "x", "from", "t1", "=", "1", "insert", "values", "*", "::int"])


def _quoted(delimiter: str) -> st.SearchStrategy[str]:
    return _TEXT.map(lambda s: delimiter + s.replace(delimiter, delimiter * 2) + delimiter)


@st.composite
def _dollar(draw: st.DrawFn) -> str:
    tag = draw(st.sampled_from(["", "body", "_x1"]))
    # (a body starting or ending in `$` overlaps the tag: see test_cli_quirks)
    body = draw(_TEXT.filter(lambda s: f"${tag}$" not in s and "$" not in (s[:1], s[-1:])))
    return f"${tag}${body}${tag}$"


_LINE_COMMENT = st.text(alphabet="abc ;'\"$()*/-", max_size=12).map(lambda s: f"--{s}\n")
_BLOCK_COMMENT = st.text(alphabet="abc ;'\"$()-\n", max_size=12).map(lambda s: f"/*{s}*/")
_PARENS = st.lists(st.one_of(_WORDS, _quoted("'")), max_size=3).map(
    lambda parts: "(" + " ; ".join(parts) + ")"
)
_PIECE = st.one_of(
    _WORDS, _quoted("'"), _quoted('"'), _dollar(), _LINE_COMMENT, _BLOCK_COMMENT, _PARENS
)
# A statement ends in code: a trailing `--` comment would swallow the joining `;` (it does
# in PostgreSQL too).
_STATEMENT = st.tuples(
    st.lists(_PIECE, max_size=5), st.one_of(_WORDS, _quoted("'"), _dollar(), _PARENS)
).map(lambda p: " ".join([*p[0], p[1]]).strip(JS_WHITESPACE))


@settings(max_examples=200, deadline=None)
@given(st.lists(_STATEMENT, min_size=1, max_size=6))
def test_joined_statements_split_back(statements: list[str]) -> None:
    assert split_statements(";\n".join(statements) + ";\n") == statements
    # without the final `;` the last statement is the tail, and comes back the same
    assert split_statements(";\n".join(statements)) == statements


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ab ;'\"$()-/*\\\n\r\t", max_size=60))
def test_statements_are_trimmed_pieces_of_the_text_in_order(sql: str) -> None:
    position = 0
    for stmt in split_statements(sql):
        assert stmt
        assert stmt == stmt.strip(JS_WHITESPACE)
        found = sql.find(stmt, position)
        assert found >= 0
        position = found + len(stmt)
    # nothing but whitespace, `;` and comments is left out
    assert split_statements(sql) or not sql.strip(JS_WHITESPACE + ";")
