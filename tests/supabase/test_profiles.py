"""Profiles behaviour beyond the matrix: clear errors, the card read model, blocks, reports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.harness.personas import ANON, SERVICE, acting_as, query
from tests.harness.world import block, create_person


@pytest.fixture(scope="module")
def conn(fresh_db: Any) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(fresh_db(), autocommit=True) as c:
        yield c


def error_of(conn: psycopg.Connection[Any], persona: Any, sql: str, params: Any = None) -> Any:
    with pytest.raises(psycopg.Error) as info:
        query(conn, persona, sql, params)
    return info.value


def test_protected_field_error_names_the_field(conn: psycopg.Connection[Any]) -> None:
    local = create_person(conn, "local", "Lia", city="Lisbon")
    err = error_of(
        conn,
        local,
        "update public.local_profiles set rating_avg = 5 where profile_id = %s",
        (local.uid,),
    )
    assert err.sqlstate == "42501"
    assert err.diag.message_primary == (
        "local_profiles.rating_avg is managed by LocalGhost and cannot be changed"
    )
    assert err.diag.message_detail == "protected_field"
    err = error_of(
        conn, local, "update public.profiles set role = 'traveler' where id = %s", (local.uid,)
    )
    assert (
        err.diag.message_primary == "profiles.role is managed by LocalGhost and cannot be changed"
    )


def test_unchanged_protected_field_in_update_is_fine(conn: psycopg.Connection[Any]) -> None:
    # supabase-js sends whole objects: echoing a protected value back unchanged is allowed.
    local = create_person(conn, "local", "Leo", city="Lisbon")
    rows = query(
        conn,
        local,
        "update public.local_profiles set headline = 'Hi', verified = false"
        " where profile_id = %s returning headline",
        (local.uid,),
    )
    assert rows == [{"headline": "Hi"}]


def test_server_side_code_may_set_protected_fields(conn: psycopg.Connection[Any]) -> None:
    local = create_person(conn, "local", "Lu", city="Lisbon")
    rows = query(
        conn,
        SERVICE,
        "update public.local_profiles set verified = true where profile_id = %s returning verified",
        (local.uid,),
    )
    assert rows == [{"verified": True}]


@pytest.mark.parametrize(
    ("column", "value", "detail"),
    [
        ("languages", ["en", "xx"], "unknown_language"),
        ("languages", ["EN"], "unknown_language"),
        ("interests", ["food", "karaoke"], "unknown_interest"),
        # `x not in (...)` is null for a null x: a null entry must still be refused.
        ("languages", ["en", None], "unknown_language"),
        ("interests", [None], "unknown_interest"),
    ],
)
def test_vocabularies_are_enforced(
    conn: psycopg.Connection[Any], column: str, value: list[str], detail: str
) -> None:
    traveler = create_person(conn, "traveler", "Tom")
    err = error_of(
        conn,
        traveler,
        f"update public.profiles set {column} = %s where id = %s",
        (value, traveler.uid),
    )
    assert (err.sqlstate, err.diag.message_detail) == ("22023", detail)


def test_vocabulary_values_are_deduplicated_and_sorted(conn: psycopg.Connection[Any]) -> None:
    traveler = create_person(conn, "traveler", "Tia")
    rows = query(
        conn,
        traveler,
        "update public.profiles set languages = '{pt,en,pt}', interests = '{wine,food}'"
        " where id = %s returning languages, interests",
        (traveler.uid,),
    )
    assert rows == [{"languages": ["en", "pt"], "interests": ["food", "wine"]}]


def test_unknown_expertise_is_refused(conn: psycopg.Connection[Any]) -> None:
    local = create_person(conn, "local", "Lars", city="Lisbon")
    err = error_of(
        conn,
        local,
        "update public.local_profiles set expertise = '{food,astrology}' where profile_id = %s",
        (local.uid,),
    )
    assert err.diag.message_detail == "unknown_expertise"
    err = error_of(
        conn,
        local,
        "update public.local_profiles set expertise = array['food', null] where profile_id = %s",
        (local.uid,),
    )
    assert err.diag.message_detail == "unknown_expertise"


def test_avatar_path_must_be_in_own_folder(conn: psycopg.Connection[Any]) -> None:
    a = create_person(conn, "traveler", "Ann")
    b = create_person(conn, "traveler", "Bea")
    err = error_of(
        conn,
        a,
        "update public.profiles set avatar_path = %s where id = %s",
        (f"{b.uid}/x.webp", a.uid),
    )
    assert err.sqlstate == "23514"
    ok = query(
        conn,
        a,
        "update public.profiles set avatar_path = %s where id = %s returning id",
        (f"{a.uid}/x.webp", a.uid),
    )
    assert len(ok) == 1


def test_card_follows_profile_and_offer(conn: psycopg.Connection[Any]) -> None:
    local = create_person(conn, "local", "Lola")
    card_sql = (
        "select full_name, city, headline, latitude from public.local_cards where profile_id = %s"
    )
    # No city yet: not listed.
    assert query(conn, ANON, card_sql, (local.uid,)) == []
    with acting_as(conn, local, commit=True) as cur:
        cur.execute(
            "update public.local_profiles set city = 'Porto', country_code = 'PT',"
            " latitude = 41.157944, longitude = -8.629105, headline = 'Port wine walks'"
            " where profile_id = %s",
            (local.uid,),
        )
        cur.execute("update public.profiles set full_name = 'Lola P.' where id = %s", (local.uid,))
    assert query(conn, ANON, card_sql, (local.uid,)) == [
        {"full_name": "Lola P.", "city": "Porto", "headline": "Port wine walks", "latitude": 41.16}
    ]
    # Removing the city delists the local again.
    with acting_as(conn, local, commit=True) as cur:
        cur.execute(
            "update public.local_profiles set city = null, country_code = null"
            " where profile_id = %s",
            (local.uid,),
        )
    assert query(conn, ANON, card_sql, (local.uid,)) == []


def test_card_shows_no_private_columns(conn: psycopg.Connection[Any]) -> None:
    columns = {
        r["column_name"]
        for r in query(
            conn,
            SERVICE,
            "select column_name from information_schema.columns"
            " where table_schema = 'public' and table_name = 'local_cards'",
        )
    }
    assert not columns & {"bio", "home_city", "interests", "email", "last_active_at"}


def test_anon_cannot_read_profiles_at_all(conn: psycopg.Connection[Any]) -> None:
    err = error_of(conn, ANON, "select full_name from public.profiles")
    assert err.sqlstate == "42501"


def test_is_blocked_looks_both_ways(conn: psycopg.Connection[Any]) -> None:
    a = create_person(conn, "traveler", "Abe")
    b = create_person(conn, "local", "Bo", city="Lisbon")
    c = create_person(conn, "traveler", "Cy")
    block(conn, a, b)
    sql = "select private.is_blocked(%s, %s) as blocked"
    assert query(conn, c, sql, (a.uid, b.uid)) == [{"blocked": True}]
    assert query(conn, c, sql, (b.uid, a.uid)) == [{"blocked": True}]
    assert query(conn, c, sql, (a.uid, c.uid)) == [{"blocked": False}]


def test_cannot_block_yourself(conn: psycopg.Connection[Any]) -> None:
    a = create_person(conn, "traveler", "Ada")
    err = error_of(conn, a, "insert into public.blocks (blocked_id) values (%s)", (a.uid,))
    assert err.sqlstate == "23514"


def test_report_flood_guard(conn: psycopg.Connection[Any]) -> None:
    a = create_person(conn, "traveler", "Ari")
    b = create_person(conn, "local", "Ben", city="Lisbon")
    with acting_as(conn, a, commit=True) as cur:
        for _ in range(20):
            cur.execute(
                "insert into public.reports (reported_id, reason) values (%s, 'spam')", (b.uid,)
            )
    err = error_of(
        conn, a, "insert into public.reports (reported_id, reason) values (%s, 'spam')", (b.uid,)
    )
    assert (err.sqlstate, err.diag.message_detail) == ("PT429", "rate_limited")


def test_deleting_an_account_keeps_reports_as_evidence(conn: psycopg.Connection[Any]) -> None:
    a = create_person(conn, "traveler", "Al")
    b = create_person(conn, "local", "Bill", city="Lisbon")
    conn.execute(
        "insert into public.reports (reporter_id, reported_id, reason) values (%s, %s, 'scam')",
        (a.uid, b.uid),
    )
    conn.execute("delete from private.accounts where id = %s", (b.uid,))
    rows = query(
        conn,
        SERVICE,
        "select reported_id, reason from public.reports where reporter_id = %s",
        (a.uid,),
    )
    assert rows == [{"reported_id": None, "reason": "scam"}]
