"""Property tests: in random worlds of people, blocks and edits, RLS never leaks or yields.

Invariants, for every persona in every generated world:
- profiles: a person reads exactly their own profile (no conversations exist yet);
- local_profiles: a local reads exactly their own offer, a traveler none;
- local_cards: everyone, anon included, reads exactly the locals who have a city;
- blocks: a person reads exactly the blocks they made, never who blocked them;
- reports: no client reads any;
- edits: a protected field never changes through a client role, and an ordinary field
  changes only on the editor's own row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness.personas import ANON, Persona, acting_as, query
from tests.harness.world import block, create_person, delete_people

PROFILE_FIELDS = {
    "bio": "'edited'",
    "full_name": "'Edited'",
    "role": "'local'",
    "created_at": "now() - interval '1 day'",
}
LOCAL_FIELDS = {
    "headline": "'edited'",
    "verified": "not verified",
    "rating_avg": "4.5",
    "rating_count": "rating_count + 7",
    "response_rate": "0.5",
    "median_response_minutes": "3",
    "last_active_at": "now() - interval '1 day'",
}
PROTECTED = {
    "role",
    "created_at",
    "verified",
    "rating_avg",
    "rating_count",
    "response_rate",
    "median_response_minutes",
    "last_active_at",
}

people_st = st.lists(
    st.tuples(st.sampled_from(["traveler", "local"]), st.booleans()), min_size=2, max_size=5
)


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    people = draw(people_st)
    n = len(people)
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    blocks = draw(st.lists(pairs, max_size=4, unique=True))
    edits = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(0, n - 1),
                st.sampled_from(sorted(PROFILE_FIELDS) + sorted(LOCAL_FIELDS)),
            ),
            max_size=4,
        )
    )
    return {"people": people, "blocks": blocks, "edits": edits}


@pytest.fixture(scope="module")
def conn(fresh_db: Any) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(fresh_db(), autocommit=True) as c:
        yield c


def snapshot(conn: psycopg.Connection[Any], ids: list[Any]) -> dict[str, Any]:
    rows = conn.execute(
        "select p.id, to_jsonb(p) as profile, to_jsonb(lp) as local"
        " from public.profiles p left join public.local_profiles lp on lp.profile_id = p.id"
        " where p.id = any(%s)",
        (ids,),
    ).fetchall()
    return {str(r[0]): {"profile": r[1], "local": r[2]} for r in rows}


def ids_of(rows: list[dict[str, Any]], column: str) -> set[str]:
    return {str(r[column]) for r in rows}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_rls_invariants(conn: psycopg.Connection[Any], world: dict[str, Any]) -> None:
    people: list[Persona] = []
    listed: set[str] = set()
    try:
        for i, (role, has_city) in enumerate(world["people"]):
            city = "Lisbon" if has_city else None
            person = create_person(conn, role, f"P{i}", city=city)
            people.append(person)
            if role == "local" and has_city:
                listed.add(str(person.uid))
        for a, b in world["blocks"]:
            block(conn, people[a], people[b])
        uids = [p.uid for p in people]

        for i, person in enumerate(people):
            me = str(person.uid)
            role = world["people"][i][0]
            own = ids_of(query(conn, person, "select id from public.profiles"), "id")
            assert own == {me}
            offers = ids_of(
                query(conn, person, "select profile_id from public.local_profiles"), "profile_id"
            )
            assert offers == ({me} if role == "local" else set())
            seen_blocks = {
                (str(r["blocker_id"]), str(r["blocked_id"]))
                for r in query(conn, person, "select blocker_id, blocked_id from public.blocks")
            }
            made = {(me, str(people[b].uid)) for a, b in world["blocks"] if a == i}
            assert seen_blocks == made
        for viewer in [ANON, *people]:
            cards = ids_of(
                query(
                    conn,
                    viewer,
                    "select profile_id from public.local_cards where profile_id = any(%s)",
                    (uids,),
                ),
                "profile_id",
            )
            assert cards == listed

        before = snapshot(conn, uids)
        for actor_i, target_i, column in world["edits"]:
            actor, target = people[actor_i], people[target_i]
            table, key = (
                ("profiles", "id") if column in PROFILE_FIELDS else ("local_profiles", "profile_id")
            )
            value = (PROFILE_FIELDS | LOCAL_FIELDS)[column]
            try:
                with acting_as(conn, actor, commit=True) as cur:
                    cur.execute(
                        f"update public.{table} set {column} = {value} where {key} = %s".encode(),
                        (target.uid,),
                    )
            except psycopg.errors.InsufficientPrivilege:
                assert column in PROTECTED
        after = snapshot(conn, uids)
        for uid, rows in after.items():
            for part in ("profile", "local"):
                old, new = before[uid][part], rows[part]
                if old is None:
                    continue
                for column in PROTECTED & set(old):
                    assert new[column] == old[column], f"{column} changed through a client role"
                for column in ("bio", "full_name", "headline"):
                    if column in old and new[column] != old[column]:
                        editors = {
                            str(people[a].uid)
                            for a, t, c in world["edits"]
                            if c == column and str(people[t].uid) == uid
                        }
                        assert uid in editors, f"{column} of {uid} changed by someone else"
    finally:
        if people:
            delete_people(conn, *people)
