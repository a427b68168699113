"""The RLS matrix for trips tables, and the advisor over the migrated database.

World: travelers A and B, locals L and M (listed, accepting). Conversations AL and BM.
Itineraries `iA` (A's, shared with L through AL), `iA2` (A's, not shared), `iB` (B's).
Items `a1` (by A in iA), `l1` (by L in iA), `a2` (by A in iA2), `b1` (by B in iB).
Bookings, named by their message: `done` and `hid` (AL, completed), `bm` (BM, requested).
Reviews, named by their body: `rA` (A about L on done) and `rL` (L about A on done), both
revealed; `hA` (A about L on hid), still blind. For service_role, "me" means A.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
import pytest

from scripts.lib.advisor import run_advisor
from tests.harness import matrix
from tests.harness.matrix import Action
from tests.harness.personas import ANON, SERVICE, Persona, user
from tests.harness.world import create_person

MATRIX = """
table     action               anon  A             B       L           M       service
itin      select               deny  {iA,iA2}      {iB}    {iA}        {}      {iA,iA2,iB}
itin      insert_own           deny  1             1       deny        deny    e23502
itin      insert_as_other      deny  deny          deny    deny        deny    1
itin      update_own           deny  2             1       zero        zero    2
itin      update_shared        deny  1             zero    zero        zero    1
itin      set_confirmed        deny  deny          zero    zero        zero    1
itin      delete_unshared      deny  1             zero    zero        zero    1
shares    select               deny  {iA:L}        {}      {iA:L}      {}      {iA:L}
shares    insert_linked        deny  1             deny    deny        deny    1
shares    insert_unlinked      deny  deny          deny    deny        deny    1
shares    delete               deny  1             zero    zero        zero    1
items     select               deny  {a1,a2,l1}    {b1}    {a1,l1}     {}      {a1,a2,b1,l1}
items     insert_shared        deny  1             deny    1           deny    1
items     insert_unshared      deny  1             deny    deny        deny    1
items     update_shared        deny  1             zero    1           zero    1
items     update_unshared      deny  zero          1       zero        zero    1
items     set_created_by       deny  deny          deny    deny        deny    1
items     delete_owner_item    deny  1             zero    zero        zero    1
items     delete_local_item    deny  1             zero    1           zero    1
bookings  select               deny  {done,hid}    {bm}    {done,hid}  {bm}    {bm,done,hid}
bookings  insert_own_conv      deny  1             e22023  deny        deny    1
bookings  insert_other_conv    deny  deny          deny    deny        deny    1
bookings  insert_with_status   deny  deny          deny    deny        deny    1
bookings  offer_bm             deny  zero          deny    zero        1       deny
bookings  withdraw_bm          deny  zero          1       zero        deny    deny
bookings  cancel_done          deny  e22023        zero    e22023      zero    e22023
bookings  set_parties          deny  deny          deny    deny        deny    1
bookings  delete               deny  deny          deny    deny        deny    1
view      select               deny  {done,hid}    {bm}    {done,hid}  {bm}    {bm,done,hid}
reviews   select               {rA}  {hA,rA,rL}    {rA,rL} {rA,rL}     {rA,rL} {hA,rA,rL}
reviews   insert_hid           deny  e23505        deny    1           deny    e23505
reviews   insert_as_other      deny  deny          deny    deny        deny    1
reviews   reply_revealed       deny  zero          zero    1           zero    1
reviews   reply_hidden         deny  zero          zero    zero        zero    1
reviews   change_rating        deny  deny          deny    deny        deny    1
reviews   delete               deny  deny          deny    deny        deny    1
"""

NAMES = "ABLM"
UIDS = {n: uuid.UUID(f"00000000-0000-4000-9300-{i:012d}") for i, n in enumerate(NAMES)}
CONV = {
    "AL": uuid.UUID("00000000-0000-4000-9400-000000000001"),
    "BM": uuid.UUID("00000000-0000-4000-9400-000000000002"),
}
ITIN = {
    "iA": uuid.UUID("00000000-0000-4000-9500-000000000001"),
    "iA2": uuid.UUID("00000000-0000-4000-9500-000000000002"),
    "iB": uuid.UUID("00000000-0000-4000-9500-000000000003"),
}
BOOKING = {
    "done": uuid.UUID("00000000-0000-4000-9600-000000000001"),
    "hid": uuid.UUID("00000000-0000-4000-9600-000000000002"),
    "bm": uuid.UUID("00000000-0000-4000-9600-000000000003"),
}
LETTER = {str(v): k for k, v in UIDS.items()}
ITIN_NAME = {str(v): k for k, v in ITIN.items()}
OWN_CONV = {"A": "AL", "B": "BM", "L": "AL", "M": "BM", "anon": "AL", "service": "AL"}
OTHER_CONV = {"A": "BM", "B": "AL", "L": "BM", "M": "AL", "anon": "BM", "service": "BM"}


def who(persona: Persona) -> str:
    return "service" if persona is SERVICE else persona.name


def params(persona: Persona) -> Mapping[str, Any]:
    name = who(persona)
    me = "A" if name in ("anon", "service") else name
    return {
        "me": UIDS[me],
        "l": UIDS["L"],
        "m": UIDS["M"],
        "own_conv": CONV[OWN_CONV[name]],
        "other_conv": CONV[OTHER_CONV[name]],
        "al": CONV["AL"],
        **ITIN,
        **BOOKING,
    }


def action(sql: str, key: Any = None) -> Action:
    return Action(sql, params, key)


ACTIONS: dict[tuple[str, str], Action] = {
    ("itin", "select"): action(
        "select id from public.itineraries", lambda r: ITIN_NAME[str(r["id"])]
    ),
    ("itin", "insert_own"): action(
        "insert into public.itineraries (title, starts_on, ends_on)"
        " values ('New', current_date, current_date + 1)"
    ),
    ("itin", "insert_as_other"): action(
        "insert into public.itineraries (owner_id, title, starts_on, ends_on)"
        " values (%(me)s, 'New', current_date, current_date + 1)"
    ),
    ("itin", "update_own"): action(
        "update public.itineraries set title = title || '!' where owner_id = %(me)s"
    ),
    ("itin", "update_shared"): action(
        "update public.itineraries set title = title || '!' where id = %(iA)s"
    ),
    ("itin", "set_confirmed"): action(
        "update public.itineraries set status = 'confirmed' where id = %(iA)s"
    ),
    ("itin", "delete_unshared"): action("delete from public.itineraries where id = %(iA2)s"),
    ("shares", "select"): action(
        "select itinerary_id, local_id from public.itinerary_shares",
        lambda r: f"{ITIN_NAME[str(r['itinerary_id'])]}:{LETTER[str(r['local_id'])]}",
    ),
    ("shares", "insert_linked"): action(
        "insert into public.itinerary_shares (itinerary_id, local_id, conversation_id)"
        " values (%(iA2)s, %(l)s, %(al)s)"
    ),
    ("shares", "insert_unlinked"): action(
        "insert into public.itinerary_shares (itinerary_id, local_id, conversation_id)"
        " values (%(iA2)s, %(m)s, %(al)s)"
    ),
    ("shares", "delete"): action("delete from public.itinerary_shares where itinerary_id = %(iA)s"),
    ("items", "select"): action(
        "select title from public.itinerary_items", lambda r: str(r["title"])
    ),
    ("items", "insert_shared"): action(
        "insert into public.itinerary_items (itinerary_id, day_index, title)"
        " values (%(iA)s, 0, 'new')"
    ),
    ("items", "insert_unshared"): action(
        "insert into public.itinerary_items (itinerary_id, day_index, title)"
        " values (%(iA2)s, 0, 'new')"
    ),
    ("items", "update_shared"): action(
        "update public.itinerary_items set notes = 'x' where title = 'a1'"
    ),
    ("items", "update_unshared"): action(
        "update public.itinerary_items set notes = 'x' where title = 'b1'"
    ),
    ("items", "set_created_by"): action(
        "update public.itinerary_items set created_by = %(me)s where title = 'a1'"
    ),
    ("items", "delete_owner_item"): action("delete from public.itinerary_items where title = 'a1'"),
    ("items", "delete_local_item"): action("delete from public.itinerary_items where title = 'l1'"),
    ("bookings", "select"): action(
        "select message from public.booking_requests", lambda r: str(r["message"])
    ),
    ("bookings", "insert_own_conv"): action(
        "insert into public.booking_requests (conversation_id, starts_on, ends_on, group_size)"
        " values (%(own_conv)s, current_date + 7, current_date + 7, 2)"
    ),
    ("bookings", "insert_other_conv"): action(
        "insert into public.booking_requests (conversation_id, starts_on, ends_on, group_size)"
        " values (%(other_conv)s, current_date + 7, current_date + 7, 2)"
    ),
    ("bookings", "insert_with_status"): action(
        "insert into public.booking_requests"
        " (conversation_id, starts_on, ends_on, group_size, status)"
        " values (%(own_conv)s, current_date + 7, current_date + 7, 2, 'accepted')"
    ),
    ("bookings", "offer_bm"): action(
        "update public.booking_requests set status = 'offered', price_cents = 100,"
        " currency = 'EUR', duration_minutes = 60 where id = %(bm)s"
    ),
    ("bookings", "withdraw_bm"): action(
        "update public.booking_requests set status = 'withdrawn' where id = %(bm)s"
    ),
    ("bookings", "cancel_done"): action(
        "update public.booking_requests set status = 'cancelled' where id = %(done)s"
    ),
    ("bookings", "set_parties"): action(
        "update public.booking_requests set traveler_id = %(me)s where id = %(bm)s"
    ),
    ("bookings", "delete"): action("delete from public.booking_requests where id = %(bm)s"),
    ("view", "select"): action("select message from public.bookings", lambda r: str(r["message"])),
    ("reviews", "select"): action("select body from public.reviews", lambda r: str(r["body"])),
    ("reviews", "insert_hid"): action(
        "insert into public.reviews (booking_id, rating) values (%(hid)s, 5)"
    ),
    ("reviews", "insert_as_other"): action(
        "insert into public.reviews (booking_id, rating, author_id) values (%(hid)s, 5, %(l)s)"
    ),
    ("reviews", "reply_revealed"): action(
        "update public.reviews set reply = 'thanks' where body = 'rA'"
    ),
    ("reviews", "reply_hidden"): action(
        "update public.reviews set reply = 'thanks' where body = 'hA'"
    ),
    ("reviews", "change_rating"): action("update public.reviews set rating = 1 where body = 'rA'"),
    ("reviews", "delete"): action("delete from public.reviews where body = 'rA'"),
}

CELLS = matrix.parse(MATRIX)


def build_world(conn: psycopg.Connection[Any]) -> dict[str, Persona]:
    for name, role in zip(NAMES, ["traveler", "traveler", "local", "local"], strict=True):
        create_person(conn, role, name, uid=UIDS[name], city="Lisbon" if role == "local" else None)
    for key, (t, loc) in {"AL": ("A", "L"), "BM": ("B", "M")}.items():
        conn.execute(
            "insert into public.conversations (id, traveler_id, local_id) values (%s, %s, %s)",
            (CONV[key], UIDS[t], UIDS[loc]),
        )
    for key, owner in (("iA", "A"), ("iA2", "A"), ("iB", "B")):
        conn.execute(
            "insert into public.itineraries (id, owner_id, title, starts_on, ends_on)"
            " values (%s, %s, %s, current_date + 20, current_date + 22)",
            (ITIN[key], UIDS[owner], key),
        )
    conn.execute(
        "insert into public.itinerary_shares (itinerary_id, local_id, conversation_id)"
        " values (%s, %s, %s)",
        (ITIN["iA"], UIDS["L"], CONV["AL"]),
    )
    for title, itin, author in (
        ("a1", "iA", "A"),
        ("l1", "iA", "L"),
        ("a2", "iA2", "A"),
        ("b1", "iB", "B"),
    ):
        conn.execute(
            "insert into public.itinerary_items (itinerary_id, day_index, title, created_by)"
            " values (%s, 0, %s, %s)",
            (ITIN[itin], title, UIDS[author]),
        )
    for key, conv, status in (
        ("done", "AL", "completed"),
        ("hid", "AL", "completed"),
        ("bm", "BM", "requested"),
    ):
        done = status == "completed"
        conn.execute(
            "insert into public.booking_requests (id, conversation_id, starts_on, ends_on,"
            " group_size, message, status, price_cents, currency, duration_minutes,"
            " completed_at)"
            " values (%s, %s, current_date + %s, current_date + %s, 2, %s, %s,"
            " %s, %s, %s, %s)",
            (
                BOOKING[key],
                CONV[conv],
                -3 if done else 7,
                -2 if done else 7,
                key,
                status,
                4500 if done else None,
                "EUR" if done else None,
                120 if done else None,
                "now" if done else None,
            ),
        )
    for body, booking, author in (("rA", "done", "A"), ("rL", "done", "L"), ("hA", "hid", "A")):
        conn.execute(
            "insert into public.reviews (booking_id, author_id, rating, body)"
            " values (%s, %s, 4, %s)",
            (BOOKING[booking], UIDS[author], body),
        )
    personas = {n: user(n, UIDS[n]) for n in NAMES}
    return personas | {"anon": ANON, "service": SERVICE}


@pytest.fixture(scope="module")
def world(fresh_db: Any) -> Iterator[tuple[psycopg.Connection[Any], dict[str, Persona]]]:
    with psycopg.connect(fresh_db(), autocommit=True) as conn:
        yield conn, build_world(conn)


def test_matrix_covers_every_table_and_persona() -> None:
    assert {(c.table, c.action) for c in CELLS} == set(ACTIONS)
    assert {c.persona for c in CELLS} == {"anon", "A", "B", "L", "M", "service"}
    for table in ("itin", "shares", "items", "bookings", "reviews"):
        verbs = {c.action.split("_")[0] for c in CELLS if c.table == table}
        assert {"select", "insert", "delete"} <= verbs, table


def test_world_is_as_described(world: tuple[psycopg.Connection[Any], dict[str, Persona]]) -> None:
    conn, _ = world
    rows = conn.execute(
        "select body, revealed_at is not null from public.reviews order by body"
    ).fetchall()
    assert rows == [("hA", False), ("rA", True), ("rL", True)]


@pytest.mark.parametrize("cell", CELLS, ids=str)
def test_trips_rls_matrix(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]], cell: matrix.Cell
) -> None:
    conn, personas = world
    matrix.check(conn, cell, personas, ACTIONS)


def test_advisor_has_no_errors_or_warnings(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]],
) -> None:
    conn, _ = world
    findings = [f for f in run_advisor(conn) if f.level in ("ERROR", "WARN")]
    assert findings == []


def test_every_trips_table_is_behind_rls(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]],
) -> None:
    conn, _ = world
    rows = conn.execute(
        "select c.relname, c.relrowsecurity from pg_catalog.pg_class as c"
        " where c.oid = any(array['public.itineraries', 'public.itinerary_shares',"
        " 'public.itinerary_items', 'public.booking_requests', 'public.reviews',"
        " 'private.booking_transitions', 'private.response_times']::regclass[])"
        " order by 1"
    ).fetchall()
    assert len(rows) == 7
    assert all(secure for _, secure in rows)
    view = conn.execute(
        "select reloptions from pg_catalog.pg_class where oid = 'public.bookings'::regclass"
    ).fetchone()
    assert view == (["security_invoker=true"],)
