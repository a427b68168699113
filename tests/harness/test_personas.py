"""The persona harness itself: it must tell allowed, denied (42501) and filtered apart."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.harness.personas import (
    ANON,
    SERVICE,
    acting_as,
    assert_denied,
    assert_filtered,
    query,
    rowcount,
    sqlstate_of,
    user,
)

ALICE = user("alice", uuid.UUID("00000000-0000-4000-8000-00000000000a"))
BOB = user("bob", uuid.UUID("00000000-0000-4000-8000-00000000000b"))


@pytest.fixture(scope="module")
def notes_db(fresh_db: Any) -> Iterator[psycopg.Connection[Any]]:
    """A table owned by its writer: read own rows, insert as yourself only."""
    with psycopg.connect(fresh_db(), autocommit=True) as conn:
        conn.execute(
            """
            create table public.notes (
                id int primary key,
                owner_id uuid not null,
                body text not null
            );
            alter table public.notes enable row level security;
            grant select, insert, update, delete on public.notes to authenticated;
            create policy notes_select_own on public.notes for select to authenticated
                using (owner_id = (select auth.uid()));
            create policy notes_insert_own on public.notes for insert to authenticated
                with check (owner_id = (select auth.uid()));
            create policy notes_update_own on public.notes for update to authenticated
                using (owner_id = (select auth.uid()));
            insert into public.notes values
                (1, '00000000-0000-4000-8000-00000000000a', 'alice note'),
                (2, '00000000-0000-4000-8000-00000000000b', 'bob note');
            """
        )
        yield conn


def test_preamble_sets_role_and_claims_like_postgrest(notes_db: psycopg.Connection[Any]) -> None:
    rows = query(
        notes_db,
        ALICE,
        "select current_user as role, auth.uid() as uid, auth.role() as claim_role,"
        " current_setting('request.method') as method",
    )
    assert rows == [
        {"role": "authenticated", "uid": ALICE.uid, "claim_role": "authenticated", "method": "POST"}
    ]


def test_anon_has_no_claims(notes_db: psycopg.Connection[Any]) -> None:
    rows = query(notes_db, ANON, "select current_user as role, auth.uid() as uid")
    assert rows == [{"role": "anon", "uid": None}]


def test_allowed_returns_exactly_own_rows(notes_db: psycopg.Connection[Any]) -> None:
    assert query(notes_db, ALICE, "select id, body from public.notes") == [
        {"id": 1, "body": "alice note"}
    ]
    assert query(notes_db, SERVICE, "select id from public.notes order by id") == [
        {"id": 1},
        {"id": 2},
    ]


def test_missing_grant_is_denied(notes_db: psycopg.Connection[Any]) -> None:
    assert_denied(notes_db, ANON, "select * from public.notes")


def test_failed_with_check_is_denied(notes_db: psycopg.Connection[Any]) -> None:
    assert_denied(
        notes_db,
        ALICE,
        "insert into public.notes values (3, %s, 'forged')",
        (str(BOB.uid),),
    )


def test_using_clause_filters_to_zero_rows(notes_db: psycopg.Connection[Any]) -> None:
    assert_filtered(notes_db, ALICE, "update public.notes set body = 'x' where id = 2")
    assert_filtered(notes_db, ALICE, "select * from public.notes where id = 2")
    # No delete policy at all: a granted delete is filtered, not denied.
    assert_filtered(notes_db, ALICE, "delete from public.notes where id = 1")


def test_helpers_reject_the_wrong_outcome(notes_db: psycopg.Connection[Any]) -> None:
    # The assertions must be able to fail: a filtered statement is not a denial,
    # and an allowed one is not filtered.
    with pytest.raises(AssertionError):
        assert_denied(notes_db, ALICE, "select * from public.notes where id = 2")
    with pytest.raises(AssertionError):
        assert_filtered(notes_db, ALICE, "select * from public.notes where id = 1")


def test_every_call_rolls_back(notes_db: psycopg.Connection[Any]) -> None:
    assert rowcount(notes_db, ALICE, "update public.notes set body = 'changed' where id = 1") == 1
    assert query(notes_db, SERVICE, "select body from public.notes where id = 1") == [
        {"body": "alice note"}
    ]


def test_commit_keeps_the_write(notes_db: psycopg.Connection[Any]) -> None:
    with acting_as(notes_db, ALICE, commit=True) as cur:
        cur.execute("insert into public.notes values (10, %s, 'kept')", (str(ALICE.uid),))
    assert query(notes_db, SERVICE, "select body from public.notes where id = 10") == [
        {"body": "kept"}
    ]


def test_read_only_transaction_like_get(notes_db: psycopg.Connection[Any]) -> None:
    with (
        acting_as(notes_db, ALICE, read_only=True) as cur,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        cur.execute("update public.notes set body = 'x' where id = 1")


def test_stale_legacy_claim_wins_like_on_supabase(notes_db: psycopg.Connection[Any]) -> None:
    # auth.uid() reads request.jwt.claim.sub first: a leftover legacy setting in the same
    # transaction overrides the JSON claims. The harness never sets it, so it never leaks.
    with acting_as(notes_db, ALICE) as cur:
        cur.execute("select set_config('request.jwt.claim.sub', %s, true)", (str(BOB.uid),))
        cur.execute("select auth.uid() as uid")
        assert cur.fetchone() == {"uid": BOB.uid}
    assert query(notes_db, ALICE, "select auth.uid() as uid") == [{"uid": ALICE.uid}]


def test_sqlstate_of_success_is_none(notes_db: psycopg.Connection[Any]) -> None:
    assert sqlstate_of(notes_db, ALICE, "select 1") is None
