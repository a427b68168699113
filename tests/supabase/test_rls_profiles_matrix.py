"""The RLS matrix for profiles, the directory, blocks and reports.

World: travelers A and B, locals L and M (listed in Lisbon), local N (no city yet, so not
listed). A blocked L, M blocked B, A reported M. Account X has no profile yet and local
P has no local profile yet (for the service's inserts). "own"/"other" in an action name
refer to the acting persona; for service_role, "own" means A (or L for local tables).
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
from tests.harness.world import block, create_person

MATRIX = """
table               action               anon   A       B       L       M       service
profiles            select               deny   {A}     {B}     {L}     {M}     {A,B,L,M,N,P}
profiles            insert               deny   deny    deny    deny    deny    1
profiles            update_own           deny   1       1       1       1       1
profiles            update_other         deny   zero    zero    zero    zero    1
profiles            update_role_own      deny   deny    deny    deny    deny    1
profiles            delete_own           deny   deny    deny    deny    deny    1
local_profiles      select               deny   {}      {}      {L}     {M}     {L,M,N}
local_profiles      insert               deny   deny    deny    deny    deny    1
local_profiles      update_own           deny   zero    zero    1       1       1
local_profiles      update_other         deny   zero    zero    zero    zero    1
local_profiles      update_verified_own  deny   zero    zero    deny    deny    1
local_profiles      delete_own           deny   deny    deny    deny    deny    1
local_availability  select               {L,M}  {L,M}   {L,M}   {L,M}   {L,M}   {L,M}
local_availability  insert_own           deny   e23503  e23503  1       1       1
local_availability  insert_other         deny   deny    deny    deny    deny    1
local_availability  update_own           deny   zero    zero    1       1       1
local_availability  update_other         deny   zero    zero    zero    zero    1
local_availability  delete_own           deny   zero    zero    1       1       1
local_availability  delete_other         deny   zero    zero    zero    zero    1
local_cards         select               {L,M}  {L,M}   {L,M}   {L,M}   {L,M}   {L,M}
local_cards         insert               deny   deny    deny    deny    deny    1
local_cards         update               deny   deny    deny    deny    deny    1
local_cards         delete               deny   deny    deny    deny    deny    1
blocks              select               deny   {A>L}   {}      {}      {M>B}   {A>L,M>B}
blocks              insert_own           deny   1       1       1       1       1
blocks              insert_as_other      deny   deny    deny    deny    deny    1
blocks              update               deny   deny    deny    deny    deny    2
blocks              delete_own           deny   1       zero    zero    1       1
blocks              delete_other         deny   zero    zero    zero    zero    1
reports             select               deny   deny    deny    deny    deny    {A>M}
reports             insert_own           deny   1       1       1       1       1
reports             insert_as_other      deny   deny    deny    deny    deny    1
reports             update               deny   deny    deny    deny    deny    1
reports             delete               deny   deny    deny    deny    deny    1
languages           select               {any}  {any}   {any}   {any}   {any}   {any}
languages           insert               deny   deny    deny    deny    deny    1
currencies          select               {any}  {any}   {any}   {any}   {any}   {any}
currencies          insert               deny   deny    deny    deny    deny    1
expertise_tags      select               {any}  {any}   {any}   {any}   {any}   {any}
expertise_tags      insert               deny   deny    deny    deny    deny    1
"""

UIDS = {name: uuid.UUID(f"00000000-0000-4000-9000-{i:012d}") for i, name in enumerate("ABLMNPX")}
LETTER = {str(uid): name for name, uid in UIDS.items()}
# Whom "other" means for each persona (service acts on B / M).
OTHER = {"anon": "A", "A": "B", "B": "A", "L": "M", "M": "L", "service": "B"}
OTHER_LOCAL = {"anon": "L", "A": "L", "B": "M", "L": "M", "M": "L", "service": "M"}
OWN = {"anon": "A", "service": "A"}
OWN_LOCAL = {"anon": "L", "A": "A", "B": "B", "L": "L", "M": "M", "service": "L"}


def letter(value: Any) -> str:
    return LETTER[str(value)]


def who(persona: Persona) -> str:
    return "service" if persona is SERVICE else persona.name


def params(persona: Persona) -> Mapping[str, Any]:
    name = who(persona)
    return {
        "me": UIDS[OWN.get(name, name)],
        "me_local": UIDS[OWN_LOCAL[name]],
        "other": UIDS[OTHER[name]],
        "other_local": UIDS[OTHER_LOCAL[name]],
        "x": UIDS["X"],
        "p": UIDS["P"],
        "n": UIDS["N"],
        "l": UIDS["L"],
    }


def by_id(column: str) -> Any:
    return lambda row: letter(row[column])


def pair(a: str, b: str) -> Any:
    return lambda row: f"{letter(row[a])}>{letter(row[b])}"


def any_row(_row: Mapping[str, Any]) -> str:
    return "any"


SOON = "daterange(current_date + 100, current_date + 110)"
ACTIONS: dict[tuple[str, str], Action] = {
    ("profiles", "select"): Action("select id from public.profiles", key=by_id("id")),
    ("profiles", "insert"): Action(
        "insert into public.profiles (id, role, full_name) values (%(x)s, 'traveler', 'X')",
        params,
    ),
    ("profiles", "update_own"): Action(
        "update public.profiles set bio = 'hello' where id = %(me)s", params
    ),
    ("profiles", "update_other"): Action(
        "update public.profiles set bio = 'hello' where id = %(other)s", params
    ),
    ("profiles", "update_role_own"): Action(
        "update public.profiles set role = case role when 'local' then 'traveler'::public.user_role"
        " else 'local' end where id = %(me)s",
        params,
    ),
    ("profiles", "delete_own"): Action("delete from public.profiles where id = %(me)s", params),
    ("local_profiles", "select"): Action(
        "select profile_id from public.local_profiles", key=by_id("profile_id")
    ),
    ("local_profiles", "insert"): Action(
        "insert into public.local_profiles (profile_id) values (%(p)s)", params
    ),
    ("local_profiles", "update_own"): Action(
        "update public.local_profiles set headline = 'Hi' where profile_id = %(me_local)s", params
    ),
    ("local_profiles", "update_other"): Action(
        "update public.local_profiles set headline = 'Hi' where profile_id = %(other_local)s",
        params,
    ),
    ("local_profiles", "update_verified_own"): Action(
        "update public.local_profiles set verified = true where profile_id = %(me_local)s", params
    ),
    ("local_profiles", "delete_own"): Action(
        "delete from public.local_profiles where profile_id = %(me_local)s", params
    ),
    ("local_availability", "select"): Action(
        "select local_id from public.local_availability", key=by_id("local_id")
    ),
    ("local_availability", "insert_own"): Action(
        f"insert into public.local_availability (local_id, during) values (%(me_local)s, {SOON})",
        params,
    ),
    ("local_availability", "insert_other"): Action(
        "insert into public.local_availability (local_id, during)"
        f" values (%(other_local)s, {SOON})",
        params,
    ),
    ("local_availability", "update_own"): Action(
        f"update public.local_availability set during = {SOON} where local_id = %(me_local)s",
        params,
    ),
    ("local_availability", "update_other"): Action(
        f"update public.local_availability set during = {SOON} where local_id = %(other_local)s",
        params,
    ),
    ("local_availability", "delete_own"): Action(
        "delete from public.local_availability where local_id = %(me_local)s", params
    ),
    ("local_availability", "delete_other"): Action(
        "delete from public.local_availability where local_id = %(other_local)s", params
    ),
    ("local_cards", "select"): Action(
        "select profile_id from public.local_cards", key=by_id("profile_id")
    ),
    ("local_cards", "insert"): Action(
        "insert into public.local_cards (profile_id, full_name, city, languages, expertise,"
        " currency, max_group_size, accepting_requests, verified, rating_count)"
        " values (%(n)s, 'N', 'Porto', '{}', '{}', 'EUR', 2, true, false, 0)"
        " on conflict do nothing",
        params,
    ),
    ("local_cards", "update"): Action(
        "update public.local_cards set verified = true where profile_id = %(l)s", params
    ),
    ("local_cards", "delete"): Action(
        "delete from public.local_cards where profile_id = %(l)s", params
    ),
    ("blocks", "select"): Action(
        "select blocker_id, blocked_id from public.blocks", key=pair("blocker_id", "blocked_id")
    ),
    ("blocks", "insert_own"): Action(
        "insert into public.blocks (blocker_id, blocked_id) values (%(me)s, %(other)s)", params
    ),
    ("blocks", "insert_as_other"): Action(
        "insert into public.blocks (blocker_id, blocked_id) values (%(other)s, %(me)s)", params
    ),
    ("blocks", "update"): Action("update public.blocks set created_at = now()"),
    ("blocks", "delete_own"): Action("delete from public.blocks where blocker_id = %(me)s", params),
    ("blocks", "delete_other"): Action(
        "delete from public.blocks where blocker_id <> %(me)s", params
    ),
    ("reports", "select"): Action(
        "select reporter_id, reported_id from public.reports",
        key=pair("reporter_id", "reported_id"),
    ),
    ("reports", "insert_own"): Action(
        "insert into public.reports (reported_id, reason) values (%(other)s, 'spam')", params
    ),
    ("reports", "insert_as_other"): Action(
        "insert into public.reports (reporter_id, reported_id, reason)"
        " values (%(other)s, %(me)s, 'spam')",
        params,
    ),
    ("reports", "update"): Action("update public.reports set status = 'dismissed'"),
    ("reports", "delete"): Action("delete from public.reports"),
    ("languages", "select"): Action("select code from public.languages limit 3", key=any_row),
    ("languages", "insert"): Action("insert into public.languages (code) values ('qq')"),
    ("currencies", "select"): Action("select code from public.currencies limit 3", key=any_row),
    ("currencies", "insert"): Action("insert into public.currencies (code) values ('QQQ')"),
    ("expertise_tags", "select"): Action(
        "select tag from public.expertise_tags limit 3", key=any_row
    ),
    ("expertise_tags", "insert"): Action(
        "insert into public.expertise_tags (tag, display_name) values ('quiz', 'Quiz')"
    ),
}

CELLS = matrix.parse(MATRIX)


@pytest.fixture(scope="module")
def world(fresh_db: Any) -> Iterator[tuple[psycopg.Connection[Any], dict[str, Persona]]]:
    with psycopg.connect(fresh_db(), autocommit=True) as conn:
        people = {
            "A": create_person(conn, "traveler", "A", uid=UIDS["A"]),
            "B": create_person(conn, "traveler", "B", uid=UIDS["B"]),
            "L": create_person(conn, "local", "L", uid=UIDS["L"], city="Lisbon"),
            "M": create_person(conn, "local", "M", uid=UIDS["M"], city="Lisbon"),
            "N": create_person(conn, "local", "N", uid=UIDS["N"]),
        }
        conn.execute(
            "insert into private.accounts (id, email, password_hash) values"
            " (%s, 'x@test.localghost.dev', 'h'), (%s, 'p@test.localghost.dev', 'h')",
            (UIDS["X"], UIDS["P"]),
        )
        conn.execute(
            "insert into public.profiles (id, role, full_name) values (%s, 'local', 'P')",
            (UIDS["P"],),
        )
        block(conn, people["A"], people["L"])
        block(conn, people["M"], people["B"])
        conn.execute(
            "insert into public.reports (reporter_id, reported_id, reason) values (%s, %s, 'scam')",
            (UIDS["A"], UIDS["M"]),
        )
        for local in ("L", "M"):
            conn.execute(
                "insert into public.local_availability (local_id, during)"
                " values (%s, daterange(current_date + 10, current_date + 20))",
                (UIDS[local],),
            )
        personas = {name: user(name, UIDS[name]) for name in "ABLM"}
        personas |= {"anon": ANON, "service": SERVICE}
        yield conn, personas


def test_matrix_covers_every_table_and_persona() -> None:
    tables = {c.table for c in CELLS}
    assert tables == {
        "profiles",
        "local_profiles",
        "local_availability",
        "local_cards",
        "blocks",
        "reports",
        "languages",
        "currencies",
        "expertise_tags",
    }
    for table in tables:
        verbs = {c.action.split("_")[0] for c in CELLS if c.table == table}
        assert {"select", "insert"} <= verbs, table
    assert {(c.table, c.action) for c in CELLS} == set(ACTIONS)


@pytest.mark.parametrize("cell", CELLS, ids=str)
def test_rls_matrix(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]], cell: matrix.Cell
) -> None:
    conn, personas = world
    matrix.check(conn, cell, personas, ACTIONS)
