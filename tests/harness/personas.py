"""Run SQL the way PostgREST runs it for a request, as a chosen persona.

Every data test goes through here, so what a test proves is what a real request would
see: one transaction, `role` and `request.jwt.claims` set locally by the very preamble the
service uses (`service.core.db.postgrest_preamble`), then the query. Each call rolls back
unless told otherwise, so matrix cells never leak state into each other.

Two kinds of "no" must be told apart, because RLS produces both:
- denied: a missing grant or a failed `WITH CHECK` raises SQLSTATE 42501;
- filtered: a `USING` clause hides the rows, so the statement simply sees or touches none.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from service.core.db import postgrest_preamble

Params = Sequence[Any] | Mapping[str, Any] | None
Row = dict[str, Any]


@dataclass(frozen=True)
class Persona:
    """Who is asking: a name for test output and the JWT claims PostgREST would verify."""

    name: str
    claims: Mapping[str, Any] | None = field(default=None)

    @property
    def uid(self) -> UUID | None:
        sub = (self.claims or {}).get("sub")
        return UUID(str(sub)) if sub else None

    def __str__(self) -> str:
        return self.name


ANON = Persona("anon", None)
SERVICE = Persona("service_role", {"role": "service_role"})


def user(name: str, uid: UUID | str, **extra: Any) -> Persona:
    """An `authenticated` persona with the claims our auth service mints."""
    claims: dict[str, Any] = {
        "sub": str(uid),
        "role": "authenticated",
        "aud": "authenticated",
        **extra,
    }
    return Persona(name, claims)


@contextlib.contextmanager
def acting_as(
    conn: psycopg.Connection[Any],
    persona: Persona,
    *,
    read_only: bool = False,
    commit: bool = False,
    method: str = "POST",
    path: str = "/",
) -> Iterator[psycopg.Cursor[Row]]:
    """A cursor inside one PostgREST-shaped transaction for `persona`.

    Rolls back at the end unless `commit=True`. The connection must not be inside another
    transaction (use a dedicated autocommit connection).
    """
    preamble, params = postgrest_preamble(persona.claims, method=method, path=path)
    with conn.transaction(force_rollback=not commit), conn.cursor(row_factory=dict_row) as cur:
        if read_only:
            cur.execute("set transaction read only")
        cur.execute(preamble, params)
        yield cur


def query(
    conn: psycopg.Connection[Any], persona: Persona, sql: str, params: Params = None
) -> list[Row]:
    """Rows a statement returns for `persona` (rolled back afterwards)."""
    with acting_as(conn, persona) as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def rowcount(
    conn: psycopg.Connection[Any], persona: Persona, sql: str, params: Params = None
) -> int:
    """How many rows an insert/update/delete touched for `persona` (rolled back)."""
    with acting_as(conn, persona) as cur:
        cur.execute(sql, params)
        return cur.rowcount


def sqlstate_of(
    conn: psycopg.Connection[Any], persona: Persona, sql: str, params: Params = None
) -> str | None:
    """None when the statement succeeds, else the SQLSTATE it raised (rolled back)."""
    try:
        query(conn, persona, sql, params)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def assert_denied(
    conn: psycopg.Connection[Any], persona: Persona, sql: str, params: Params = None
) -> None:
    """The statement must fail with 42501 (no grant, or a failed WITH CHECK)."""
    state = sqlstate_of(conn, persona, sql, params)
    assert state == "42501", f"{persona}: expected 42501, got {state or 'success'} for {sql!r}"


def assert_filtered(
    conn: psycopg.Connection[Any], persona: Persona, sql: str, params: Params = None
) -> None:
    """The statement must succeed but see/touch zero rows (RLS USING filtered them)."""
    with acting_as(conn, persona) as cur:
        cur.execute(sql, params)
        seen = len(cur.fetchall()) if cur.description else cur.rowcount
    assert seen == 0, f"{persona}: expected zero rows, got {seen} for {sql!r}"
