"""The foundation migration's defaults: nothing new is reachable by a client by accident."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest


@pytest.mark.parametrize("schema", ["public", "private"])
def test_new_functions_are_not_executable_by_client_roles(
    db: psycopg.Connection[Any], schema: str
) -> None:
    with db.transaction(force_rollback=True):
        db.execute(
            f"create function {schema}.probe_fn() returns int language sql as 'select 1'".encode()
        )
        rows = db.execute(
            "select r, has_function_privilege(r, %s, 'execute')"
            " from unnest(array['anon', 'authenticated']) as r",
            (f"{schema}.probe_fn()",),
        ).fetchall()
    assert rows == [("anon", False), ("authenticated", False)]


def test_new_tables_in_public_are_not_granted_to_client_roles(db: psycopg.Connection[Any]) -> None:
    with db.transaction(force_rollback=True):
        db.execute("create table public.probe_tbl (id int primary key)")
        rows = db.execute(
            "select r, has_table_privilege(r, 'public.probe_tbl', 'select')"
            " from unnest(array['anon', 'authenticated', 'service_role']) as r"
        ).fetchall()
    assert rows == [("anon", False), ("authenticated", False), ("service_role", True)]


def test_private_schema_is_not_exposed_but_usable_by_policies(db: psycopg.Connection[Any]) -> None:
    # Policies evaluated as an API role must reach granted helpers; tables stay closed.
    rows = db.execute(
        "select has_schema_privilege('authenticated', 'private', 'usage'),"
        " has_table_privilege('authenticated', 'private.accounts', 'select'),"
        " has_table_privilege('anon', 'private.accounts', 'select')"
    ).fetchall()
    assert rows == [(True, False, False)]


@pytest.mark.parametrize(
    ("call", "inlined"),
    [
        ("auth.uid()", "request.jwt.claim.sub"),
        ("auth.role()", "request.jwt.claim.role"),
        ("auth.email()", "request.jwt.claim.email"),
        ("auth.jwt()", "request.jwt.claim'"),
        ("realtime.topic()", "realtime.topic"),
    ],
)
def test_platform_helpers_inline_like_supabase(
    db: psycopg.Connection[Any], call: str, inlined: str
) -> None:
    # Supabase declares them plain `language sql stable`; a SET clause on the local copies
    # would stop the planner from folding them into policies and make every call a separate
    # SQL-function execution here but not in production.
    plan = "\n".join(
        r[0] for r in db.execute(f"explain (verbose, costs off) select {call}".encode())
    )
    assert inlined in plan
    assert call not in plan
