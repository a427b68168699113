"""The RLS matrix for chat tables and the Realtime topic matrix.

World: travelers A and B, locals L and M (listed, accepting), local N (listed, accepting,
blocked B), local R (listed, not accepting). Conversations AL (A with L) and BM (B with
M); M blocked B after they started talking, so BM is frozen (B can no longer edit `b1`). Messages: `a1` (A in AL),
`l1` (L in AL), `b1` (B in BM). For service_role, "own" means A.
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
from tests.harness.realtime import can_receive, can_send
from tests.harness.world import block, create_person

MATRIX = """
table          action                anon   A        B        L        M        service
conversations  select                deny   {AL}     {BM}     {AL}     {BM}     {AL,BM}
conversations  insert_new            deny   1        deny     deny     deny     1
conversations  insert_as_other       deny   deny     deny     deny     deny     1
conversations  insert_not_accepting  deny   deny     deny     deny     deny     1
conversations  update                deny   deny     deny     deny     deny     2
conversations  delete                deny   deny     deny     deny     deny     1
participants   select                deny   {AL:A,AL:L} {BM:B,BM:M} {AL:A,AL:L} {BM:B,BM:M} {AL:A,AL:L,BM:B,BM:M}
participants   update_own            deny   1        1        1        1        1
participants   update_other          deny   zero     zero     zero     zero     1
participants   insert                deny   deny     deny     deny     deny     1
participants   delete                deny   deny     deny     deny     deny     1
messages       select                deny   {a1,l1}  {b1}     {a1,l1}  {b1}     {a1,b1,l1}
messages       insert_own_conv       deny   1        deny     1        deny     1
messages       insert_other_conv     deny   deny     deny     deny     deny     1
messages       insert_as_other       deny   deny     deny     deny     deny     1
messages       insert_system_kind    deny   deny     deny     deny     deny     1
messages       update_own            deny   1        deny     1        zero     1
messages       update_other          deny   zero     zero     zero     zero     1
messages       delete                deny   deny     deny     deny     deny     1
"""

# topic x extension x operation -> may each persona do it (Realtime's join/send checks).
REALTIME = """
topic     extension  op       anon  A  B  L  M
conv:AL   broadcast  receive  -     y  -  y  -
conv:AL   broadcast  send     -     y  -  y  -
conv:AL   presence   receive  -     y  -  y  -
conv:AL   presence   send     -     y  -  y  -
conv:BM   broadcast  receive  -     -  -  -  -
conv:BM   broadcast  send     -     -  -  -  -
conv:BM   presence   receive  -     -  -  -  -
conv:BM   presence   send     -     -  -  -  -
user:A    broadcast  receive  -     y  -  -  -
user:A    broadcast  send     -     -  -  -  -
user:A    presence   receive  -     y  -  -  -
user:L    broadcast  receive  -     -  -  y  -
user:L    broadcast  send     -     -  -  -  -
conv:bad  broadcast  receive  -     -  -  -  -
"""

NAMES = "ABLMNR"
UIDS = {n: uuid.UUID(f"00000000-0000-4000-9100-{i:012d}") for i, n in enumerate(NAMES)}
CONV = {
    "AL": uuid.UUID("00000000-0000-4000-9200-000000000001"),
    "BM": uuid.UUID("00000000-0000-4000-9200-000000000002"),
}
LETTER = {str(v): k for k, v in UIDS.items()}
CONV_NAME = {str(v): k for k, v in CONV.items()}
OWN_CONV = {"A": "AL", "B": "BM", "L": "AL", "M": "BM", "anon": "AL", "service": "AL"}
OTHER_CONV = {"A": "BM", "B": "AL", "L": "BM", "M": "AL", "anon": "BM", "service": "BM"}
PARTNER = {"A": "L", "L": "A", "B": "M", "M": "B", "anon": "A", "service": "L"}
OWN_MESSAGE = {"A": "a1", "L": "l1", "B": "b1", "M": "none", "anon": "a1", "service": "a1"}
OTHER_MESSAGE = {"A": "l1", "L": "a1", "B": "a1", "M": "b1", "anon": "l1", "service": "b1"}


def who(persona: Persona) -> str:
    return "service" if persona is SERVICE else persona.name


def params(persona: Persona) -> Mapping[str, Any]:
    name = who(persona)
    me = "A" if name in ("anon", "service") else name
    return {
        "me": UIDS[me],
        "partner": UIDS[PARTNER[name]],
        "other_traveler": UIDS["B" if me == "A" else "A"],
        "n": UIDS["N"],
        "r": UIDS["R"],
        "m": UIDS["M"],
        "own_conv": CONV[OWN_CONV[name]],
        "other_conv": CONV[OTHER_CONV[name]],
        "al": CONV["AL"],
        "own_msg": OWN_MESSAGE[name],
        "other_msg": OTHER_MESSAGE[name],
    }


ACTIONS: dict[tuple[str, str], Action] = {
    ("conversations", "select"): Action(
        "select id from public.conversations", key=lambda r: CONV_NAME[str(r["id"])]
    ),
    ("conversations", "insert_new"): Action(
        "insert into public.conversations (traveler_id, local_id) values (%(me)s, %(n)s)", params
    ),
    ("conversations", "insert_as_other"): Action(
        "insert into public.conversations (traveler_id, local_id)"
        " values (%(other_traveler)s, %(r)s)"
        " on conflict do nothing",
        lambda p: {**params(p), "r": UIDS["N"]} if who(p) == "service" else params(p),
    ),
    ("conversations", "insert_not_accepting"): Action(
        "insert into public.conversations (traveler_id, local_id) values (%(me)s, %(r)s)", params
    ),
    ("conversations", "update"): Action(
        "update public.conversations set contact_unlocked_at = now()"
    ),
    ("conversations", "delete"): Action(
        "delete from public.conversations where id = %(al)s", params
    ),
    ("participants", "select"): Action(
        "select conversation_id, profile_id from public.conversation_participants",
        key=lambda r: f"{CONV_NAME[str(r['conversation_id'])]}:{LETTER[str(r['profile_id'])]}",
    ),
    ("participants", "update_own"): Action(
        "update public.conversation_participants set last_read_at = now()"
        " where profile_id = %(me)s",
        params,
    ),
    ("participants", "update_other"): Action(
        "update public.conversation_participants set last_read_at = now()"
        " where profile_id = %(partner)s",
        params,
    ),
    ("participants", "insert"): Action(
        "insert into public.conversation_participants (conversation_id, profile_id)"
        " values (%(al)s, %(m)s)",
        params,
    ),
    ("participants", "delete"): Action(
        "delete from public.conversation_participants where profile_id = %(me)s", params
    ),
    ("messages", "select"): Action("select body from public.messages", key=lambda r: r["body"]),
    ("messages", "insert_own_conv"): Action(
        "insert into public.messages (conversation_id, sender_id, body)"
        " values (%(own_conv)s, %(me)s, 'hello')",
        params,
    ),
    ("messages", "insert_other_conv"): Action(
        "insert into public.messages (conversation_id, sender_id, body)"
        " values (%(other_conv)s, %(me)s, 'hello')",
        lambda p: {**params(p), "me": UIDS["B"]} if who(p) == "service" else params(p),
    ),
    ("messages", "insert_as_other"): Action(
        "insert into public.messages (conversation_id, sender_id, body)"
        " values (%(own_conv)s, %(partner)s, 'hello')",
        params,
    ),
    ("messages", "insert_system_kind"): Action(
        "insert into public.messages (conversation_id, sender_id, body, kind)"
        " values (%(own_conv)s, %(me)s, 'hello', 'system')",
        params,
    ),
    ("messages", "update_own"): Action(
        "update public.messages set body = body || '!' where body = %(own_msg)s", params
    ),
    ("messages", "update_other"): Action(
        "update public.messages set body = body || '!' where body = %(other_msg)s", params
    ),
    ("messages", "delete"): Action("delete from public.messages where body = 'a1'"),
}

CELLS = matrix.parse(MATRIX)


def build_world(conn: psycopg.Connection[Any]) -> dict[str, Persona]:
    roles = ["traveler", "traveler", "local", "local", "local", "local"]
    for name, role in zip(NAMES, roles, strict=True):
        create_person(
            conn,
            role,
            name,
            uid=UIDS[name],
            city="Lisbon" if role == "local" else None,
            accepting_requests=name != "R",
        )
    for key, (t, loc) in {"AL": ("A", "L"), "BM": ("B", "M")}.items():
        conn.execute(
            "insert into public.conversations (id, traveler_id, local_id) values (%s, %s, %s)",
            (CONV[key], UIDS[t], UIDS[loc]),
        )
    for conv, sender, body in (("AL", "A", "a1"), ("AL", "L", "l1"), ("BM", "B", "b1")):
        conn.execute(
            "insert into public.messages (conversation_id, sender_id, body) values (%s, %s, %s)",
            (CONV[conv], UIDS[sender], body),
        )
    personas = {n: user(n, UIDS[n]) for n in NAMES}
    block(conn, personas["M"], personas["B"])
    block(conn, personas["N"], personas["B"])
    return personas | {"anon": ANON, "service": SERVICE}


@pytest.fixture(scope="module")
def world(fresh_db: Any) -> Iterator[tuple[psycopg.Connection[Any], dict[str, Persona]]]:
    with psycopg.connect(fresh_db(), autocommit=True) as conn:
        yield conn, build_world(conn)


def test_matrix_is_complete() -> None:
    assert {(c.table, c.action) for c in CELLS} == set(ACTIONS)
    assert {c.persona for c in CELLS} == {"anon", "A", "B", "L", "M", "service"}


@pytest.mark.parametrize("cell", CELLS, ids=str)
def test_chat_rls_matrix(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]], cell: matrix.Cell
) -> None:
    conn, personas = world
    matrix.check(conn, cell, personas, ACTIONS)


def realtime_cells() -> list[tuple[str, str, str, str, bool]]:
    lines = [ln.split() for ln in REALTIME.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    cells = []
    for topic, extension, op, *marks in rows:
        for persona, mark in zip(header[3:], marks, strict=True):
            cells.append((topic, extension, op, persona, mark == "y"))
    return cells


def real_topic(topic: str) -> str:
    kind, _, name = topic.partition(":")
    if kind == "user":
        return f"user:{UIDS[name]}"
    if name == "bad":
        return "conversation:not-a-uuid"
    return f"conversation:{CONV[name]}"


@pytest.mark.parametrize(
    ("topic", "extension", "op", "persona", "allowed"),
    realtime_cells(),
    ids=str,
)
def test_realtime_matrix(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]],
    topic: str,
    extension: Any,
    op: str,
    persona: str,
    allowed: bool,
) -> None:
    conn, personas = world
    check = can_receive if op == "receive" else can_send
    assert check(conn, personas[persona], real_topic(topic), extension) is allowed
