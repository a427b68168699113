"""The RLS matrix for storage.objects, both buckets, and the buckets themselves.

World: travelers A and B, locals L and M, stranger S (no conversation). Conversations AL
(A with L) and BM (B with M). Objects, as Storage records them (rows in storage.objects):
avatars `a` (A's folder) and `l` (L's folder); attachments `al` (in AL's folder), `bm` (in
BM's folder) and `junk` (in a folder that is not a conversation id at all).

Expected: clients write nothing (insert denied, update/delete see no row); nobody lists
avatars (public by URL only); an attachment is visible to the two participants of the
conversation its folder names, which is what signing a URL for it checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
import pytest

from tests.harness import matrix
from tests.harness.matrix import Action
from tests.harness.personas import ANON, SERVICE, Persona, user
from tests.harness.world import create_person

MATRIX = """
table        action           anon   A      B      L      M      S      service
avatars      select           zero   {}     {}     {}     {}     {}     {a,l}
avatars      insert_own       deny   deny   deny   deny   deny   deny   1
avatars      update_own       zero   zero   zero   zero   zero   zero   1
avatars      delete_own       zero   zero   zero   zero   zero   zero   1
attachments  select           zero   {al}   {bm}   {al}   {bm}   {}     {al,bm,junk}
attachments  insert_own_conv  deny   deny   deny   deny   deny   deny   1
attachments  update_own_conv  zero   zero   zero   zero   zero   zero   1
attachments  delete_own_conv  zero   zero   zero   zero   zero   zero   1
attachments  update_all       zero   zero   zero   zero   zero   zero   3
buckets      select           zero   zero   zero   zero   zero   zero   2
"""

NAMES = "ABLMS"
ROLES = {"A": "traveler", "B": "traveler", "L": "local", "M": "local", "S": "traveler"}
UIDS = {n: uuid.UUID(f"00000000-0000-4000-9300-{i:012d}") for i, n in enumerate(NAMES)}
CONV = {
    "AL": uuid.UUID("00000000-0000-4000-9400-000000000001"),
    "BM": uuid.UUID("00000000-0000-4000-9400-000000000002"),
}
OBJECTS = {
    "a": ("avatars", f"{UIDS['A']}/{uuid.UUID(int=1)}.webp"),
    "l": ("avatars", f"{UIDS['L']}/{uuid.UUID(int=2)}.webp"),
    "al": ("attachments", f"{CONV['AL']}/{uuid.UUID(int=3)}.webp"),
    "bm": ("attachments", f"{CONV['BM']}/{uuid.UUID(int=4)}.pdf"),
    "junk": ("attachments", f"not-a-uuid/{uuid.UUID(int=5)}.webp"),
}
LABEL = {name: label for label, (_, name) in OBJECTS.items()}
OWN_CONV = {"A": "AL", "L": "AL", "B": "BM", "M": "BM", "S": "AL", "anon": "AL", "service": "AL"}


def who(persona: Persona) -> str:
    return "service" if persona is SERVICE else persona.name


def params(persona: Persona) -> Mapping[str, Any]:
    name = who(persona)
    me = name if name in UIDS else "A"
    return {"me": str(UIDS[me]), "conv": str(CONV[OWN_CONV[name]])}


def labels(row: dict[str, Any]) -> str:
    return LABEL[row["name"]]


ACTIONS: dict[tuple[str, str], Action] = {
    ("avatars", "select"): Action(
        "select name from storage.objects where bucket_id = 'avatars'", key=labels
    ),
    ("avatars", "insert_own"): Action(
        "insert into storage.objects (bucket_id, name, owner_id)"
        " values ('avatars', %(me)s || '/new.webp', %(me)s)",
        params,
    ),
    ("avatars", "update_own"): Action(
        "update storage.objects set metadata = '{}'"
        " where bucket_id = 'avatars' and name like %(me)s || '/%%'",
        params,
    ),
    ("avatars", "delete_own"): Action(
        "delete from storage.objects where bucket_id = 'avatars' and name like %(me)s || '/%%'",
        params,
    ),
    ("attachments", "select"): Action(
        "select name from storage.objects where bucket_id = 'attachments'", key=labels
    ),
    ("attachments", "insert_own_conv"): Action(
        "insert into storage.objects (bucket_id, name, owner_id)"
        " values ('attachments', %(conv)s || '/new.pdf', %(me)s)",
        params,
    ),
    ("attachments", "update_own_conv"): Action(
        "update storage.objects set metadata = '{}'"
        " where bucket_id = 'attachments' and name like %(conv)s || '/%%'",
        params,
    ),
    ("attachments", "delete_own_conv"): Action(
        "delete from storage.objects"
        " where bucket_id = 'attachments' and name like %(conv)s || '/%%'",
        params,
    ),
    ("attachments", "update_all"): Action(
        "update storage.objects set name = name where bucket_id = 'attachments'"
    ),
    ("buckets", "select"): Action(
        "select id from storage.buckets where id in ('avatars', 'attachments')"
    ),
}

CELLS = matrix.parse(MATRIX)


def build_world(conn: psycopg.Connection[Any]) -> dict[str, Persona]:
    for name in NAMES:
        create_person(conn, ROLES[name], name, uid=UIDS[name], city="Porto")
    for key, (traveler, local) in {"AL": ("A", "L"), "BM": ("B", "M")}.items():
        conn.execute(
            "insert into public.conversations (id, traveler_id, local_id) values (%s, %s, %s)",
            (CONV[key], UIDS[traveler], UIDS[local]),
        )
    for bucket, name in OBJECTS.values():
        # What Supabase Storage records for an object written through its S3 endpoint.
        conn.execute(
            "insert into storage.objects (bucket_id, name, metadata)"
            " values (%s, %s, jsonb_build_object('mimetype', 'image/webp'))",
            (bucket, name),
        )
    return {n: user(n, UIDS[n]) for n in NAMES} | {"anon": ANON, "service": SERVICE}


@pytest.fixture(scope="module")
def world(fresh_db: Any) -> Iterator[tuple[psycopg.Connection[Any], dict[str, Persona]]]:
    with psycopg.connect(fresh_db(), autocommit=True) as conn:
        yield conn, build_world(conn)


def test_matrix_is_complete() -> None:
    assert {(c.table, c.action) for c in CELLS} == set(ACTIONS)
    assert {c.persona for c in CELLS} == {"anon", "A", "B", "L", "M", "S", "service"}


@pytest.mark.parametrize("cell", CELLS, ids=str)
def test_storage_rls_matrix(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]], cell: matrix.Cell
) -> None:
    conn, personas = world
    matrix.check(conn, cell, personas, ACTIONS)


def test_buckets_match_config_toml(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]],
) -> None:
    conn, _ = world
    rows = conn.execute(
        "select id, public, file_size_limit, allowed_mime_types from storage.buckets"
        " where id in ('avatars', 'attachments') order by id"
    ).fetchall()
    assert rows == [
        ("attachments", False, 10 * 1024 * 1024, ["image/webp", "application/pdf"]),
        ("avatars", True, 5 * 1024 * 1024, ["image/webp"]),
    ]


def test_the_only_policy_is_the_attachment_read(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]],
) -> None:
    conn, _ = world
    policies = conn.execute(
        "select policyname, cmd, roles::text[] from pg_catalog.pg_policies"
        " where schemaname = 'storage' and tablename = 'objects'"
    ).fetchall()
    assert policies == [("attachments_select_participant", "SELECT", ["authenticated"])]


def test_attachment_path_must_be_in_its_conversation(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]],
) -> None:
    conn, _ = world
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "insert into public.messages (conversation_id, sender_id, kind, attachment_path)"
            " values (%s, %s, 'attachment', %s)",
            (CONV["AL"], UIDS["A"], f"{CONV['BM']}/x.webp"),
        )
