"""Trips behaviour through the persona harness: the booking state machine (every transition
x persona, through the RPCs and through direct PostgREST-style writes), expiry at the
boundary, masking lifted only by an accepted booking, itineraries shared and unshared,
blind reviews, ratings and response stats, and exactly what the triggers broadcast."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from tests.harness.personas import ANON, SERVICE, Persona, acting_as, query, rowcount
from tests.harness.world import block, create_person

Row = dict[str, Any]


@pytest.fixture(scope="module")
def conn(fresh_db: Any) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(fresh_db(), autocommit=True) as c:
        yield c


@dataclass(frozen=True)
class Trip:
    """A traveler, a local, the conversation between them, and a stranger to both."""

    traveler: Persona
    local: Persona
    stranger: Persona
    conv: uuid.UUID


def new_trip(conn: psycopg.Connection[Any], *, local: Persona | None = None) -> Trip:
    traveler = create_person(conn, "traveler", "Tara")
    local = local or create_person(conn, "local", "Luca", city="Lisbon")
    stranger = create_person(conn, "traveler", "Sam")
    with acting_as(conn, traveler, commit=True) as cur:
        cur.execute("select public.start_conversation(%s) as id", (local.uid,))
        row = cur.fetchone()
    assert row is not None
    return Trip(traveler, local, stranger, uuid.UUID(str(row["id"])))


def run(conn: psycopg.Connection[Any], who: Persona, sql: str, params: Any = None) -> list[Row]:
    """Run and commit as `who`; rows returned (if any)."""
    with acting_as(conn, who, commit=True) as cur:
        cur.execute(sql.encode(), params)
        return cur.fetchall() if cur.description else []


def failure(
    conn: psycopg.Connection[Any], who: Persona, sql: str, params: Any = None
) -> tuple[str | None, str | None]:
    """(SQLSTATE, detail) of a statement that must fail (rolled back)."""
    with pytest.raises(psycopg.Error) as info:
        query(conn, who, sql, params)
    return info.value.sqlstate, info.value.diag.message_detail


def day(offset: int) -> dt.date:
    return dt.date.today() + dt.timedelta(days=offset)


def request(
    conn: psycopg.Connection[Any],
    trip: Trip,
    *,
    start: int = 10,
    length: int = 1,
    group: int = 2,
    itinerary: uuid.UUID | None = None,
) -> Row:
    rows = run(
        conn,
        trip.traveler,
        "select * from public.request_booking(%s, %s, %s, %s, 'Hi!', %s)",
        (trip.conv, day(start), day(start + length - 1), group, itinerary),
    )
    return rows[0]


def offer(conn: psycopg.Connection[Any], trip: Trip, booking: uuid.UUID) -> Row:
    return run(
        conn,
        trip.local,
        "select * from public.make_offer(%s, 4500, 'EUR', 180, 'Praça do Comércio')",
        (booking,),
    )[0]


def status_of(conn: psycopg.Connection[Any], booking: uuid.UUID) -> str:
    row = conn.execute(
        "select status::text from public.booking_requests where id = %s", (booking,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def superuser(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> None:
    conn.execute(sql.encode(), params)


def booking_in(conn: psycopg.Connection[Any], state: str) -> tuple[Trip, uuid.UUID]:
    """A fresh trip whose booking has reached `state` the way real users get it there."""
    trip = new_trip(conn)
    bid = request(conn, trip)["id"]
    if state in ("stale_requested",):
        superuser(
            conn,
            "update public.booking_requests set expires_at = now() - interval '1 second'"
            " where id = %s",
            (bid,),
        )
    if state in ("offered", "stale_offered", "accepted", "ended", "completed", "cancelled"):
        offer(conn, trip, bid)
    if state == "stale_offered":
        superuser(
            conn,
            "update public.booking_requests set expires_at = now() - interval '1 second'"
            " where id = %s",
            (bid,),
        )
    if state in ("accepted", "ended", "completed", "cancelled"):
        run(conn, trip.traveler, "select public.accept_offer(%s)", (bid,))
    if state in ("ended", "completed"):
        superuser(
            conn,
            "update public.booking_requests"
            " set starts_on = current_date - 3, ends_on = current_date - 1 where id = %s",
            (bid,),
        )
    if state == "completed":
        run(conn, trip.local, "select public.complete_booking(%s)", (bid,))
    if state == "cancelled":
        run(conn, trip.local, "select public.cancel_booking(%s)", (bid,))
    if state == "declined":
        run(conn, trip.local, "select public.decline_booking(%s)", (bid,))
    if state == "withdrawn":
        run(conn, trip.traveler, "select public.withdraw_booking(%s)", (bid,))
    if state == "expired":
        superuser(
            conn,
            "update public.booking_requests set expires_at = now() - interval '1 second'"
            " where id = %s",
            (bid,),
        )
        superuser(conn, "select private.expire_bookings()")
    want = {"stale_requested": "requested", "stale_offered": "offered", "ended": "accepted"}
    assert status_of(conn, bid) == want.get(state, state)
    return trip, bid


# the state machine ---------------------------------------------------------------------

# from-state x action x persona. `ok` = the move happens; otherwise the error:
#   illegal    22023 illegal_transition      actor     42501 wrong_actor
#   expired    22023 booking_expired         started   22023 booking_started
#   unfinished 22023 booking_not_finished    hidden    the stranger cannot see the booking
#   deny       42501 (no grant to anon)
# `ended` = accepted, and its last day is behind us; `stale_*` = open but past expiry, not
# yet marked by any job.
TRANSITIONS = """
from             action    traveler    local       stranger  anon
requested        offer     actor       ok          hidden    deny
requested        decline   actor       ok          hidden    deny
requested        accept    illegal     illegal     hidden    deny
requested        withdraw  ok          actor       hidden    deny
requested        cancel    illegal     illegal     hidden    deny
requested        complete  illegal     illegal     hidden    deny
offered          offer     actor       ok          hidden    deny
offered          decline   actor       ok          hidden    deny
offered          accept    ok          actor       hidden    deny
offered          withdraw  ok          actor       hidden    deny
offered          cancel    illegal     illegal     hidden    deny
offered          complete  illegal     illegal     hidden    deny
stale_requested  offer     actor       expired     hidden    deny
stale_requested  decline   actor       expired     hidden    deny
stale_requested  accept    illegal     illegal     hidden    deny
stale_requested  withdraw  expired     actor       hidden    deny
stale_requested  cancel    illegal     illegal     hidden    deny
stale_requested  complete  illegal     illegal     hidden    deny
stale_offered    offer     actor       expired     hidden    deny
stale_offered    decline   actor       expired     hidden    deny
stale_offered    accept    expired     actor       hidden    deny
stale_offered    withdraw  expired     actor       hidden    deny
stale_offered    cancel    illegal     illegal     hidden    deny
stale_offered    complete  illegal     illegal     hidden    deny
accepted         offer     illegal     illegal     hidden    deny
accepted         decline   illegal     illegal     hidden    deny
accepted         accept    illegal     illegal     hidden    deny
accepted         withdraw  illegal     illegal     hidden    deny
accepted         cancel    ok          ok          hidden    deny
accepted         complete  unfinished  unfinished  hidden    deny
ended            offer     illegal     illegal     hidden    deny
ended            decline   illegal     illegal     hidden    deny
ended            accept    illegal     illegal     hidden    deny
ended            withdraw  illegal     illegal     hidden    deny
ended            cancel    started     started     hidden    deny
ended            complete  ok          ok          hidden    deny
declined         offer     illegal     illegal     hidden    deny
declined         decline   illegal     illegal     hidden    deny
declined         accept    illegal     illegal     hidden    deny
declined         withdraw  illegal     illegal     hidden    deny
declined         cancel    illegal     illegal     hidden    deny
declined         complete  illegal     illegal     hidden    deny
withdrawn        offer     illegal     illegal     hidden    deny
withdrawn        decline   illegal     illegal     hidden    deny
withdrawn        accept    illegal     illegal     hidden    deny
withdrawn        withdraw  illegal     illegal     hidden    deny
withdrawn        cancel    illegal     illegal     hidden    deny
withdrawn        complete  illegal     illegal     hidden    deny
expired          offer     illegal     illegal     hidden    deny
expired          decline   illegal     illegal     hidden    deny
expired          accept    illegal     illegal     hidden    deny
expired          withdraw  illegal     illegal     hidden    deny
expired          cancel    illegal     illegal     hidden    deny
expired          complete  illegal     illegal     hidden    deny
completed        offer     illegal     illegal     hidden    deny
completed        decline   illegal     illegal     hidden    deny
completed        accept    illegal     illegal     hidden    deny
completed        withdraw  illegal     illegal     hidden    deny
completed        cancel    illegal     illegal     hidden    deny
completed        complete  illegal     illegal     hidden    deny
cancelled        offer     illegal     illegal     hidden    deny
cancelled        decline   illegal     illegal     hidden    deny
cancelled        accept    illegal     illegal     hidden    deny
cancelled        withdraw  illegal     illegal     hidden    deny
cancelled        cancel    illegal     illegal     hidden    deny
cancelled        complete  illegal     illegal     hidden    deny
"""

TARGET = {
    "offer": "offered",
    "decline": "declined",
    "accept": "accepted",
    "withdraw": "withdrawn",
    "cancel": "cancelled",
    "complete": "completed",
}
RPC = {
    "offer": "select * from public.make_offer(%s, 5000, 'EUR', 120)",
    "decline": "select * from public.decline_booking(%s)",
    "accept": "select * from public.accept_offer(%s)",
    "withdraw": "select * from public.withdraw_booking(%s)",
    "cancel": "select * from public.cancel_booking(%s)",
    "complete": "select * from public.complete_booking(%s)",
}
# The same moves as a client would PATCH them through PostgREST.
DIRECT = {
    action: "update public.booking_requests set status = '"
    + target
    + "'"
    + (
        ", price_cents = 5000, currency = 'EUR', duration_minutes = 120"
        if action == "offer"
        else ""
    )
    + " where id = %s returning status::text"
    for action, target in TARGET.items()
}
ERRORS = {
    "illegal": ("22023", "illegal_transition"),
    "actor": ("42501", "wrong_actor"),
    "expired": ("22023", "booking_expired"),
    "started": ("22023", "booking_started"),
    "unfinished": ("22023", "booking_not_finished"),
    "deny": ("42501", None),
}


def transition_cases() -> list[tuple[str, str, str, str]]:
    lines = [ln.split() for ln in TRANSITIONS.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    return [
        (state, action, persona, expected)
        for state, action, *cells in rows
        for persona, expected in zip(header[2:], cells, strict=True)
    ]


def test_every_state_meets_every_action() -> None:
    states = {
        "requested", "offered", "stale_requested", "stale_offered", "accepted", "ended",
        "declined", "withdrawn", "expired", "completed", "cancelled",
    }  # fmt: skip
    cases = transition_cases()
    assert {(c[0], c[1]) for c in cases} == {(st, a) for st in states for a in TARGET}
    assert len(cases) == len(states) * len(TARGET) * 4


def test_transition_table_matches_the_database(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "select from_status::text, to_status::text, actor from private.booking_transitions"
    ).fetchall()
    assert sorted(rows) == sorted(
        [
            ("requested", "offered", "local"),
            ("requested", "declined", "local"),
            ("requested", "withdrawn", "traveler"),
            ("requested", "expired", "system"),
            ("offered", "offered", "local"),
            ("offered", "accepted", "traveler"),
            ("offered", "declined", "local"),
            ("offered", "withdrawn", "traveler"),
            ("offered", "expired", "system"),
            ("accepted", "cancelled", "local"),
            ("accepted", "cancelled", "system"),
            ("accepted", "cancelled", "traveler"),
            ("accepted", "completed", "local"),
            ("accepted", "completed", "system"),
            ("accepted", "completed", "traveler"),
        ]
    )


@pytest.mark.parametrize("via", ["rpc", "direct"])
@pytest.mark.parametrize(("state", "action", "persona", "expected"), transition_cases(), ids=str)
def test_transition(
    conn: psycopg.Connection[Any], via: str, state: str, action: str, persona: str, expected: str
) -> None:
    trip, bid = booking_in(conn, state)
    who = {"traveler": trip.traveler, "local": trip.local, "stranger": trip.stranger}.get(
        persona, ANON
    )
    sql = (RPC if via == "rpc" else DIRECT)[action]
    if expected == "ok":
        rows = run(conn, who, sql, (bid,))
        assert len(rows) == 1
        assert status_of(conn, bid) == TARGET[action]
        return
    if expected == "hidden":
        if via == "rpc":
            assert failure(conn, who, sql, (bid,)) == ("22023", "booking_not_found")
        else:
            assert query(conn, who, sql, (bid,)) == []
        return
    assert failure(conn, who, sql, (bid,)) == ERRORS[expected]
    assert status_of(conn, bid) == {"stale_requested": "requested", "stale_offered": "offered"}.get(
        state, "accepted" if state == "ended" else state
    )


def test_move_timestamps_and_who_cancelled(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "accepted")
    row = run(conn, trip.traveler, "select * from public.cancel_booking(%s)", (bid,))[0]
    assert row["cancelled_by"] == "traveler"
    assert row["offered_at"] is not None
    assert row["accepted_at"] is not None
    assert row["cancelled_at"] is not None
    assert row["completed_at"] is None


def test_local_may_revise_an_open_offer(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "offered")
    row = run(
        conn,
        trip.local,
        "select * from public.make_offer(%s, 3900, null, 150, 'Rossio', now() + interval '5 days')",
        (bid,),
    )[0]
    assert (row["status"], row["price_cents"], row["currency"], row["duration_minutes"]) == (
        "offered",
        3900,
        "EUR",
        150,
    )
    assert row["meeting_point"] == "Rossio"


def test_system_moves(conn: psycopg.Connection[Any]) -> None:
    """Server-side code acts as `system`: it may expire and complete, never accept."""
    _trip, bid = booking_in(conn, "offered")
    with pytest.raises(psycopg.Error) as info:
        superuser(
            conn, "update public.booking_requests set status = 'accepted' where id = %s", (bid,)
        )
    assert info.value.diag.message_detail == "wrong_actor"
    with pytest.raises(psycopg.Error) as info:
        superuser(
            conn, "update public.booking_requests set status = 'expired' where id = %s", (bid,)
        )
    assert info.value.diag.message_detail == "booking_not_expired"


# requests ----------------------------------------------------------------------------------


def test_request_takes_parties_from_the_conversation(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    row = request(conn, trip, group=3)
    assert (row["traveler_id"], row["local_id"]) == (trip.traveler.uid, trip.local.uid)
    assert row["status"] == "requested"
    assert row["price_cents"] is None
    ttl = row["expires_at"] - row["created_at"]
    assert abs(ttl - dt.timedelta(hours=72)) < dt.timedelta(seconds=5)


def test_request_ttl_is_a_setting(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    superuser(
        conn,
        "update private.app_settings set setting_value = '1'"
        " where setting_name = 'booking_request_ttl_hours'",
    )
    try:
        row = request(conn, trip)
    finally:
        superuser(
            conn,
            "update private.app_settings set setting_value = '72'"
            " where setting_name = 'booking_request_ttl_hours'",
        )
    assert abs(row["expires_at"] - row["created_at"] - dt.timedelta(hours=1)) < dt.timedelta(
        seconds=5
    )


REQUEST_SQL = (
    "insert into public.booking_requests (conversation_id, starts_on, ends_on, group_size)"
    " values (%s, %s, %s, %s)"
)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("by_local", ("42501", None)),
        ("by_stranger", ("42501", None)),
        ("past_dates", ("22023", "dates_in_past")),
        ("ends_before_start", ("23514", None)),
        ("too_long", ("23514", None)),
        ("group_too_large", ("22023", "group_too_large")),
        ("already_open", ("22023", "booking_already_open")),
        ("blocked", ("42501", "blocked")),
        ("not_accepting", ("22023", "local_not_accepting")),
        ("set_status", ("42501", None)),
        ("foreign_itinerary", ("42501", None)),
    ],
)
def test_request_refusals(
    conn: psycopg.Connection[Any], case: str, expected: tuple[str, str | None]
) -> None:
    trip = new_trip(conn)
    who, params = trip.traveler, [trip.conv, day(5), day(6), 2]
    sql = REQUEST_SQL
    if case == "by_local":
        who = trip.local
    if case == "by_stranger":
        who = trip.stranger
    if case == "past_dates":
        params[1:3] = [day(-1), day(1)]
    if case == "ends_before_start":
        params[1:3] = [day(6), day(5)]
    if case == "too_long":
        params[1:3] = [day(5), day(65)]
    if case == "group_too_large":
        params[3] = 5  # the default max_group_size is 4
    if case == "already_open":
        request(conn, trip)
    if case == "blocked":
        block(conn, trip.local, trip.traveler)
    if case == "not_accepting":
        superuser(
            conn,
            "update public.local_profiles set accepting_requests = false where profile_id = %s",
            (trip.local.uid,),
        )
    if case == "set_status":
        sql = (
            "insert into public.booking_requests"
            " (conversation_id, starts_on, ends_on, group_size, status)"
            " values (%s, %s, %s, %s, 'accepted')"
        )
    if case == "foreign_itinerary":
        itin = new_itinerary(conn, trip.stranger)
        sql = (
            "insert into public.booking_requests"
            " (conversation_id, starts_on, ends_on, group_size, itinerary_id)"
            " values (%s, %s, %s, %s, %s)"
        )
        params.append(itin)
    assert failure(conn, who, sql, params) == expected


def test_a_new_request_after_the_last_one_closed(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "declined")
    assert request(conn, trip)["id"] != bid


def test_offer_rules(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "requested")
    incomplete = (
        "update public.booking_requests set status = 'offered', price_cents = 10 where id = %s"
    )
    assert failure(conn, trip.local, incomplete, (bid,)) == ("22023", "offer_incomplete")
    # Terms change only with an offer: a request has none to edit.
    terms = "update public.booking_requests set price_cents = 10 where id = %s"
    assert failure(conn, trip.local, terms, (bid,)) == ("22023", "illegal_transition")
    for expiry in ("now() + interval '15 days'", "now() - interval '1 minute'"):
        sql = f"select public.make_offer(%s, 4500, 'EUR', 180, null, {expiry})"
        assert failure(conn, trip.local, sql, (bid,)) == ("22023", "offer_expiry_invalid")
    bad_currency = "select public.make_offer(%s, 4500, 'XXX', 180)"
    assert failure(conn, trip.local, bad_currency, (bid,))[0] == "23503"
    row = run(
        conn,
        trip.local,
        "select * from public.make_offer(%s, 4500, 'EUR', 180, null, now() + interval '14 days')",
        (bid,),
    )[0]
    assert row["expires_at"] - row["offered_at"] <= dt.timedelta(days=14)
    default = offer(conn, trip, bid)
    assert abs(default["expires_at"] - default["offered_at"] - dt.timedelta(hours=72)) < (
        dt.timedelta(seconds=5)
    )


@pytest.mark.parametrize(
    ("who", "sql", "expected"),
    [
        # Accepting while changing the price: the trigger refuses.
        (
            "traveler",
            "update public.booking_requests set status = 'accepted', price_cents = 1 where id = %s",
            ("42501", "protected_field"),
        ),
        # Offering while moving the dates: no column grant.
        (
            "local",
            "update public.booking_requests set status = 'offered', price_cents = 1,"
            " currency = 'EUR', duration_minutes = 60, starts_on = current_date where id = %s",
            ("42501", None),
        ),
        # Revising an offer is the local's move, not the traveler's.
        (
            "traveler",
            "update public.booking_requests set price_cents = 1 where id = %s",
            ("42501", "wrong_actor"),
        ),
    ],
)
def test_clients_change_only_the_move(
    conn: psycopg.Connection[Any], who: str, sql: str, expected: tuple[str, str | None]
) -> None:
    trip, bid = booking_in(conn, "offered")
    persona = trip.traveler if who == "traveler" else trip.local
    assert failure(conn, persona, sql, (bid,)) == expected


def test_blocks_stop_offers_and_acceptances_not_exits(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "requested")
    block(conn, trip.traveler, trip.local)
    assert failure(conn, trip.local, RPC["offer"], (bid,)) == ("42501", "blocked")
    run(conn, trip.traveler, RPC["withdraw"], (bid,))
    trip, bid = booking_in(conn, "offered")
    block(conn, trip.local, trip.traveler)
    assert failure(conn, trip.traveler, RPC["accept"], (bid,)) == ("42501", "blocked")
    run(conn, trip.local, RPC["decline"], (bid,))
    assert status_of(conn, bid) == "declined"


# expiry at the boundary --------------------------------------------------------------------


def test_offer_one_second_before_expiry_can_be_accepted(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "offered")
    superuser(
        conn,
        "update public.booking_requests set expires_at = now() + interval '1 second' where id = %s",
        (bid,),
    )
    run(conn, trip.traveler, RPC["accept"], (bid,))
    assert status_of(conn, bid) == "accepted"


def test_offer_one_second_after_expiry_cannot(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "offered")
    superuser(
        conn,
        "update public.booking_requests set expires_at = now() - interval '1 second' where id = %s",
        (bid,),
    )
    view = "select status::text, effective_status::text from public.bookings where id = %s"
    assert query(conn, trip.traveler, view, (bid,)) == [
        {"status": "offered", "effective_status": "expired"}
    ]
    assert failure(conn, trip.traveler, RPC["accept"], (bid,)) == ("22023", "booking_expired")
    # The job only writes down what every reader already saw.
    assert conn.execute("select private.expire_bookings()").fetchone() == (1,)
    assert query(conn, trip.local, view, (bid,)) == [
        {"status": "expired", "effective_status": "expired"}
    ]
    assert failure(conn, trip.traveler, RPC["accept"], (bid,)) == ("22023", "illegal_transition")


def test_expiry_at_exactly_now_is_expired(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "offered")
    with acting_as(conn, trip.traveler) as cur:
        # One transaction: now() is the same instant for the setter and the check.
        cur.execute("reset role")
        cur.execute("update public.booking_requests set expires_at = now() where id = %s", (bid,))
        cur.execute("set role authenticated")
        with pytest.raises(psycopg.Error) as info:
            cur.execute(RPC["accept"], (bid,))
    assert info.value.diag.message_detail == "booking_expired"


def test_view_shows_live_status_for_open_bookings(conn: psycopg.Connection[Any]) -> None:
    trip, _bid = booking_in(conn, "requested")
    rows = query(conn, trip.local, "select effective_status::text from public.bookings")
    assert rows == [{"effective_status": "requested"}]
    assert query(conn, trip.stranger, "select id from public.bookings") == []


# masking ---------------------------------------------------------------------------------


def say(conn: psycopg.Connection[Any], who: Persona, conv: uuid.UUID, body: str) -> Row:
    return run(
        conn,
        who,
        "insert into public.messages (conversation_id, body) values (%s, %s)"
        " returning body, masked",
        (conv, body),
    )[0]


CONTACT = "mail me at tara.t@example.com"


def test_masking_is_lifted_only_by_an_accepted_booking(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    other = new_trip(conn)
    other_conv = run(
        conn,
        trip.traveler,
        "select public.start_conversation(%s) as id",
        (other.local.uid,),
    )[0]["id"]
    assert say(conn, trip.traveler, trip.conv, CONTACT)["masked"] is True
    bid = request(conn, trip)["id"]
    assert say(conn, trip.traveler, trip.conv, CONTACT)["masked"] is True
    offer(conn, trip, bid)
    assert say(conn, trip.local, trip.conv, CONTACT)["masked"] is True
    run(conn, trip.traveler, RPC["accept"], (bid,))
    assert say(conn, trip.traveler, trip.conv, CONTACT) == {"body": CONTACT, "masked": False}
    assert say(conn, trip.local, trip.conv, CONTACT) == {"body": CONTACT, "masked": False}
    # The same traveler's other conversation is not unlocked.
    assert say(conn, trip.traveler, other_conv, CONTACT)["masked"] is True
    # Cancelling later does not lock contacts again: they were exchanged already.
    run(conn, trip.local, RPC["cancel"], (bid,))
    assert say(conn, trip.traveler, trip.conv, CONTACT)["masked"] is False


def test_booking_texts_are_masked_until_unlocked(conn: psycopg.Connection[Any]) -> None:
    """The request's message and the offer's meeting point and message reach the other side
    before anything is accepted: masked like chat messages."""
    trip = new_trip(conn)
    requested = run(
        conn,
        trip.traveler,
        "select * from public.request_booking(%s, %s, %s, 2, %s)",
        (trip.conv, day(10), day(11), f"Hi! {CONTACT}"),
    )[0]
    assert "example.com" not in requested["message"]
    assert requested["message"].startswith("Hi! ")
    offered = run(
        conn,
        trip.local,
        "select * from public.make_offer(%s, 4500, 'EUR', 180,"
        " p_meeting_point => 'call +351 912 345 678', p_message => %s)",
        (requested["id"], CONTACT),
    )[0]
    assert "912 345" not in offered["meeting_point"]
    assert "example.com" not in offered["offer_message"]
    # What the other side reads is what was stored.
    seen = query(
        conn,
        trip.traveler,
        "select message, meeting_point, offer_message from public.booking_requests where id = %s",
        (requested["id"],),
    )
    assert seen == [
        {
            "message": requested["message"],
            "meeting_point": offered["meeting_point"],
            "offer_message": offered["offer_message"],
        }
    ]
    # Server-side writers are not masked (the same rule as for messages).
    conn.execute(
        "update public.booking_requests set offer_message = %s where id = %s",
        (CONTACT, requested["id"]),
    )
    row = conn.execute(
        "select offer_message from public.booking_requests where id = %s", (requested["id"],)
    ).fetchone()
    assert row == (CONTACT,)


def test_accepting_posts_a_system_message(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    bid = request(conn, trip, start=10, length=3, group=2)["id"]
    offer(conn, trip, bid)
    run(conn, trip.traveler, RPC["accept"], (bid,))
    rows = query(
        conn,
        trip.local,
        "select kind::text, sender_id, body from public.messages where conversation_id = %s",
        (trip.conv,),
    )
    fmt = "%-d %b %Y"
    assert rows == [
        {
            "kind": "system",
            "sender_id": None,
            "body": f"Booking confirmed: {day(10).strftime(fmt)} \N{EN DASH} "
            f"{day(12).strftime(fmt)}, 2 people",
        }
    ]
    unlocked = query(
        conn,
        trip.traveler,
        "select contact_unlocked from public.inbox() where conversation_id = %s",
        (trip.conv,),
    )
    assert unlocked == [{"contact_unlocked": True}]


def test_one_person_system_message(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    bid = request(conn, trip, start=4, group=1)["id"]
    offer(conn, trip, bid)
    run(conn, trip.traveler, RPC["accept"], (bid,))
    rows = query(
        conn,
        trip.traveler,
        "select body from public.messages where conversation_id = %s",
        (trip.conv,),
    )
    assert rows == [{"body": f"Booking confirmed: {day(4).strftime('%-d %b %Y')}, 1 person"}]


# itineraries ---------------------------------------------------------------------------


def new_itinerary(
    conn: psycopg.Connection[Any], owner: Persona, *, days: int = 3, title: str = "Lisbon"
) -> uuid.UUID:
    rows = run(
        conn,
        owner,
        "insert into public.itineraries (title, city, starts_on, ends_on)"
        " values (%s, 'Lisbon', %s, %s) returning id",
        (title, day(20), day(20 + days - 1)),
    )
    return uuid.UUID(str(rows[0]["id"]))


def add_item(
    conn: psycopg.Connection[Any],
    who: Persona,
    itin: uuid.UUID,
    title: str,
    *,
    day_index: int = 0,
    position: Decimal | None = None,
) -> Row:
    return run(
        conn,
        who,
        "insert into public.itinerary_items (itinerary_id, day_index, title, position)"
        " values (%s, %s, %s, %s) returning *",
        (itin, day_index, title, position),
    )[0]


def share(conn: psycopg.Connection[Any], trip: Trip, itin: uuid.UUID) -> None:
    run(
        conn,
        trip.traveler,
        "insert into public.itinerary_shares (itinerary_id, local_id, conversation_id)"
        " values (%s, %s, %s)",
        (itin, trip.local.uid, trip.conv),
    )


def titles(conn: psycopg.Connection[Any], who: Persona, itin: uuid.UUID) -> list[str]:
    rows = query(
        conn,
        who,
        "select title from public.itinerary_items where itinerary_id = %s"
        " order by day_index, position, id",
        (itin,),
    )
    return [r["title"] for r in rows]


def test_sharing_lets_the_local_read_and_edit_and_unsharing_revokes(
    conn: psycopg.Connection[Any],
) -> None:
    trip = new_trip(conn)
    itin = new_itinerary(conn, trip.traveler)
    mine = add_item(conn, trip.traveler, itin, "Tram 28")
    see = "select title from public.itineraries where id = %s"
    assert query(conn, trip.local, see, (itin,)) == []
    assert titles(conn, trip.local, itin) == []

    share(conn, trip, itin)
    assert query(conn, trip.local, see, (itin,)) == [{"title": "Lisbon"}]
    theirs = add_item(conn, trip.local, itin, "Pastéis de Belém")
    assert (theirs["created_by"], theirs["updated_by"]) == (trip.local.uid, trip.local.uid)
    edited = run(
        conn,
        trip.local,
        "update public.itinerary_items set notes = 'go early' where id = %s"
        " returning created_by, updated_by",
        (mine["id"],),
    )
    assert edited == [{"created_by": trip.traveler.uid, "updated_by": trip.local.uid}]
    # The local deletes only what they created, and never touches the itinerary itself.
    delete = "delete from public.itinerary_items where id = %s"
    assert run(conn, trip.local, delete + " returning id", (mine["id"],)) == []
    rename = "update public.itineraries set title = 'x' where id = %s"
    assert rowcount(conn, trip.local, rename, (itin,)) == 0
    assert len(run(conn, trip.local, delete + " returning id", (theirs["id"],))) == 1
    assert titles(conn, trip.stranger, itin) == []

    run(conn, trip.traveler, "delete from public.itinerary_shares where itinerary_id = %s", (itin,))
    assert query(conn, trip.local, see, (itin,)) == []
    assert titles(conn, trip.local, itin) == []
    assert failure(
        conn,
        trip.local,
        "insert into public.itinerary_items (itinerary_id, day_index, title) values (%s, 0, 'x')",
        (itin,),
    ) == ("42501", None)


@pytest.mark.parametrize("case", ["other_local", "not_my_itinerary", "by_local", "blocked"])
def test_share_refusals(conn: psycopg.Connection[Any], case: str) -> None:
    trip = new_trip(conn)
    other = new_trip(conn)
    itin = new_itinerary(conn, trip.traveler)
    who, local, conv = trip.traveler, trip.local.uid, trip.conv
    if case == "other_local":
        local = other.local.uid  # the conversation does not link the owner with this local
    if case == "not_my_itinerary":
        itin = new_itinerary(conn, other.traveler)
    if case == "by_local":
        who = trip.local
    if case == "blocked":
        block(conn, trip.local, trip.traveler)
    sql = (
        "insert into public.itinerary_shares (itinerary_id, local_id, conversation_id)"
        " values (%s, %s, %s)"
    )
    assert failure(conn, who, sql, (itin, local, conv)) == ("42501", None)


def test_block_hides_a_shared_itinerary(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    itin = new_itinerary(conn, trip.traveler)
    share(conn, trip, itin)
    add_item(conn, trip.traveler, itin, "Alfama")
    assert titles(conn, trip.local, itin) == ["Alfama"]
    block(conn, trip.traveler, trip.local)
    assert titles(conn, trip.local, itin) == []


def test_positions_are_fractional(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    itin = new_itinerary(conn, trip.traveler)
    first = add_item(conn, trip.traveler, itin, "first")
    last = add_item(conn, trip.traveler, itin, "last")
    assert (first["position"], last["position"]) == (1, 2)
    middle = add_item(conn, trip.traveler, itin, "middle", position=Decimal("1.5"))
    add_item(conn, trip.traveler, itin, "between", position=Decimal("1.25"))
    add_item(conn, trip.traveler, itin, "next day", day_index=1)
    assert titles(conn, trip.traveler, itin) == ["first", "between", "middle", "last", "next day"]
    # Nothing else moved.
    rows = query(
        conn,
        trip.traveler,
        "select position from public.itinerary_items where id = any(%s) order by position",
        ([first["id"], middle["id"], last["id"]],),
    )
    assert [r["position"] for r in rows] == [1, Decimal("1.5"), 2]


def test_itinerary_rules(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    itin = new_itinerary(conn, trip.traveler, days=3)
    add_item(conn, trip.traveler, itin, "last day", day_index=2)
    outside = (
        "insert into public.itinerary_items (itinerary_id, day_index, title) values (%s, 3, 'x')"
    )
    assert failure(conn, trip.traveler, outside, (itin,)) == ("22023", "day_outside_trip")
    shrink = "update public.itineraries set ends_on = starts_on + 1 where id = %s"
    assert failure(conn, trip.traveler, shrink, (itin,)) == ("22023", "items_outside_trip")
    confirm = "update public.itineraries set status = 'confirmed' where id = %s"
    assert failure(conn, trip.traveler, confirm, (itin,)) == ("42501", "protected_field")
    for status in ("shared", "cancelled", "draft"):
        run(
            conn,
            trip.traveler,
            "update public.itineraries set status = %s where id = %s",
            (status, itin),
        )
    too_long = (
        "insert into public.itineraries (title, starts_on, ends_on)"
        " values ('x', current_date, current_date + 60)"
    )
    assert failure(conn, trip.traveler, too_long)[0] == "23514"
    by_local = (
        "insert into public.itineraries (title, starts_on, ends_on)"
        " values ('x', current_date, current_date)"
    )
    assert failure(conn, trip.local, by_local) == ("42501", None)
    forged = "update public.itinerary_items set created_by = %s where itinerary_id = %s"
    assert failure(conn, trip.traveler, forged, (trip.local.uid, itin)) == ("42501", None)


def test_booking_drives_the_itinerary_status(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    itin = new_itinerary(conn, trip.traveler)
    bid = request(conn, trip, itinerary=itin)["id"]
    # Requesting with an itinerary shares it with the local.
    assert query(conn, trip.local, "select id from public.itineraries") == [{"id": itin}]
    status = "select status::text from public.itineraries where id = %s"
    offer(conn, trip, bid)
    run(conn, trip.traveler, RPC["accept"], (bid,))
    assert query(conn, trip.local, status, (itin,)) == [{"status": "confirmed"}]
    run(conn, trip.traveler, RPC["cancel"], (bid,))
    assert query(conn, trip.traveler, status, (itin,)) == [{"status": "shared"}]

    bid = request(conn, trip, itinerary=itin)["id"]
    offer(conn, trip, bid)
    run(conn, trip.traveler, RPC["accept"], (bid,))
    superuser(
        conn,
        "update public.booking_requests"
        " set starts_on = current_date - 2, ends_on = current_date - 1 where id = %s",
        (bid,),
    )
    run(conn, trip.local, RPC["complete"], (bid,))
    assert query(conn, trip.traveler, status, (itin,)) == [{"status": "completed"}]


# reviews -----------------------------------------------------------------------------------


REVIEW = "insert into public.reviews (booking_id, rating, body) values (%s, %s, %s) returning id"
VISIBLE = "select rating from public.reviews where booking_id = %s order by rating"


def review(conn: psycopg.Connection[Any], who: Persona, bid: uuid.UUID, rating: int) -> uuid.UUID:
    return uuid.UUID(str(run(conn, who, REVIEW, (bid, rating, f"{rating} stars"))[0]["id"]))


def ratings(conn: psycopg.Connection[Any], who: Persona, bid: uuid.UUID) -> list[int]:
    return [r["rating"] for r in query(conn, who, VISIBLE, (bid,))]


def card(conn: psycopg.Connection[Any], local: Persona) -> tuple[Any, ...]:
    row = conn.execute(
        "select c.rating_avg, c.rating_count, lp.rating_avg, lp.rating_count"
        " from public.local_cards as c join public.local_profiles as lp using (profile_id)"
        " where c.profile_id = %s",
        (local.uid,),
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_reviews_are_blind_until_both_are_in(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "completed")
    review(conn, trip.traveler, bid, 5)  # of the local
    assert ratings(conn, trip.traveler, bid) == [5]
    for other in (trip.local, trip.stranger, ANON):
        assert ratings(conn, other, bid) == []
    assert card(conn, trip.local) == (None, 0, None, 0)

    review(conn, trip.local, bid, 4)  # of the traveler
    for reader in (trip.traveler, trip.local, trip.stranger):
        assert ratings(conn, reader, bid) == [4, 5]
    # Reviews of travelers are for signed-in users only.
    assert ratings(conn, ANON, bid) == [5]
    revealed = conn.execute(
        "select count(*) from public.reviews where booking_id = %s and revealed_at is not null",
        (bid,),
    ).fetchone()
    assert revealed == (2,)
    assert card(conn, trip.local) == (Decimal("5.00"), 1, Decimal("5.00"), 1)


def test_reviews_reveal_at_the_deadline_without_a_job(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "completed")
    review(conn, trip.traveler, bid, 3)
    move = "update public.booking_requests set completed_at = now() - %s::interval where id = %s"
    superuser(conn, move, ("14 days -1 second", bid))
    assert ratings(conn, trip.local, bid) == []
    assert ratings(conn, ANON, bid) == []
    superuser(conn, move, ("14 days 1 second", bid))
    assert ratings(conn, trip.local, bid) == [3]
    assert ratings(conn, ANON, bid) == [3]
    # Too late for the other side: its review could now answer the one it has read.
    assert failure(conn, trip.local, REVIEW, (bid, 1, "late")) == ("22023", "review_window_closed")
    # The rating moves only when the reveal is recorded.
    assert card(conn, trip.local)[1] == 0
    assert conn.execute("select private.reveal_due_reviews()").fetchone() == (1,)
    assert card(conn, trip.local) == (Decimal("3.00"), 1, Decimal("3.00"), 1)
    assert conn.execute("select private.reveal_due_reviews()").fetchone() == (0,)


def test_rating_aggregates_count_revealed_reviews_only(conn: psycopg.Connection[Any]) -> None:
    local = create_person(conn, "local", "Rated", city="Lisbon")
    first, b1 = booking_in_with(conn, local)
    review(conn, first.traveler, b1, 5)
    review(conn, first.local, b1, 5)
    assert card(conn, local)[:2] == (Decimal("5.00"), 1)
    second, b2 = booking_in_with(conn, local)
    review(conn, second.traveler, b2, 2)  # hidden: the average must not move
    assert card(conn, local)[:2] == (Decimal("5.00"), 1)
    review(conn, second.local, b2, 4)
    assert card(conn, local)[:2] == (Decimal("3.50"), 2)
    # Ratings of travelers never reach a local's card.
    third, b3 = booking_in_with(conn, local)
    review(conn, third.local, b3, 1)
    review(conn, third.traveler, b3, 5)
    assert card(conn, local)[:2] == (Decimal("4.00"), 3)


def booking_in_with(conn: psycopg.Connection[Any], local: Persona) -> tuple[Trip, uuid.UUID]:
    trip = new_trip(conn, local=local)
    bid = request(conn, trip)["id"]
    offer(conn, trip, bid)
    run(conn, trip.traveler, RPC["accept"], (bid,))
    superuser(
        conn,
        "update public.booking_requests"
        " set starts_on = current_date - 2, ends_on = current_date - 1 where id = %s",
        (bid,),
    )
    run(conn, trip.traveler, RPC["complete"], (bid,))
    return trip, bid


@pytest.mark.parametrize("case", ["not_completed", "stranger", "twice", "rating", "as_other"])
def test_review_refusals(conn: psycopg.Connection[Any], case: str) -> None:
    trip, bid = booking_in(conn, "accepted" if case == "not_completed" else "completed")
    who, sql = trip.traveler, REVIEW
    params: tuple[Any, ...] = (bid, 5, "great")
    expected: tuple[str | None, str | None] = ("22023", "booking_not_completed")
    if case == "stranger":
        who, expected = trip.stranger, ("42501", None)
    if case == "twice":
        review(conn, trip.traveler, bid, 5)
        expected = ("23505", "already_reviewed")
    if case == "rating":
        params, expected = (bid, 6, "too good"), ("23514", None)
    if case == "as_other":
        sql = "insert into public.reviews (booking_id, rating, author_id) values (%s, %s, %s)"
        params, expected = (bid, 5, trip.local.uid), ("42501", None)
    assert failure(conn, who, sql, params) == expected


def test_the_reviewed_side_replies_once_when_revealed(conn: psycopg.Connection[Any]) -> None:
    trip, bid = booking_in(conn, "completed")
    of_local = review(conn, trip.traveler, bid, 4)
    reply = "update public.reviews set reply = %s where id = %s returning replied_at"
    # Hidden from the local: nothing to reply to yet.
    assert query(conn, trip.local, reply, ("Thanks!", of_local)) == []
    review(conn, trip.local, bid, 5)
    # The author is not the one reviewed.
    assert query(conn, trip.traveler, reply, ("me too", of_local)) == []
    rows = run(conn, trip.local, reply, ("Thanks, come back soon!", of_local))
    assert rows[0]["replied_at"] is not None
    assert failure(conn, trip.local, reply, ("again", of_local)) == ("22023", "already_replied")
    changed = "update public.reviews set rating = 5 where id = %s"
    assert failure(conn, trip.local, changed, (of_local,)) == ("42501", None)
    public = query(conn, ANON, "select reply from public.reviews where id = %s", (of_local,))
    assert public == [{"reply": "Thanks, come back soon!"}]


# response stats ----------------------------------------------------------------------------


def stats(conn: psycopg.Connection[Any], local: Persona) -> tuple[Any, ...]:
    row = conn.execute(
        "select c.response_rate, c.median_response_minutes"
        " from public.local_cards as c where c.profile_id = %s",
        (local.uid,),
    ).fetchone()
    assert row is not None
    return tuple(row)


def age_first_message(conn: psycopg.Connection[Any], conv: uuid.UUID, interval: str) -> None:
    superuser(
        conn,
        "update private.response_times"
        " set first_traveler_message_at = first_traveler_message_at - %s::interval"
        " where conversation_id = %s",
        (interval, conv),
    )


def test_response_stats_come_from_first_replies(conn: psycopg.Connection[Any]) -> None:
    local = create_person(conn, "local", "Quick", city="Lisbon")
    quick, slow, fresh = (new_trip(conn, local=local) for _ in range(3))
    assert stats(conn, local) == (None, None)
    # The local writing first starts no clock.
    say(conn, local, quick.conv, "Olá! Welcome.")
    say(conn, quick.traveler, quick.conv, "Hi, are you free Saturday?")
    age_first_message(conn, quick.conv, "30 minutes")
    say(conn, local, quick.conv, "Yes!")
    say(conn, local, quick.conv, "Second replies do not count.")
    assert stats(conn, local) == (Decimal("1.000"), 30)

    say(conn, slow.traveler, slow.conv, "Hello?")
    age_first_message(conn, slow.conv, "30 hours")
    say(conn, fresh.traveler, fresh.conv, "Hi")  # within the window, unanswered: not counted
    # Nothing was sent that could tell: the job notices the unanswered conversation.
    assert stats(conn, local) == (Decimal("1.000"), 30)
    assert conn.execute("select private.refresh_response_stats() >= 1").fetchone() == (True,)
    assert stats(conn, local) == (Decimal("0.500"), 30)
    say(conn, local, slow.conv, "Sorry, I was away")
    assert stats(conn, local) == (Decimal("0.500"), 915)
    # Conversations older than the period drop out.
    age_first_message(conn, quick.conv, "91 days")
    conn.execute("select private.refresh_response_stats()")
    assert stats(conn, local) == (Decimal("0.000"), 1800)


def test_clients_cannot_write_the_figures(conn: psycopg.Connection[Any]) -> None:
    local = create_person(conn, "local", "Honest", city="Lisbon")
    for column in ("rating_avg", "response_rate"):
        sql = f"update public.local_profiles set {column} = 1 where profile_id = %s"
        assert failure(conn, local, sql, (local.uid,)) == ("42501", "protected_field")


# what the triggers broadcast -------------------------------------------------------------


def since(conn: psycopg.Connection[Any]) -> Any:
    row = conn.execute("select clock_timestamp()::timestamp").fetchone()
    assert row is not None
    return row[0]


def broadcasts(conn: psycopg.Connection[Any], after: Any) -> list[Row]:
    return query(
        conn,
        SERVICE,
        "select topic, event, extension, private, payload from realtime.messages"
        " where inserted_at >= %s order by inserted_at, topic, event",
        (after,),
    )


def test_booking_changes_are_broadcast(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    topic = f"conversation:{trip.conv}"
    t0 = since(conn)
    bid = request(conn, trip)["id"]
    rows = broadcasts(conn, t0)
    assert [(r["topic"], r["event"], r["extension"], r["private"]) for r in rows] == [
        (topic, "booking.updated", "broadcast", True)
    ]
    payload = rows[0]["payload"]
    assert (payload["id"], payload["status"], payload["operation"]) == (
        str(bid),
        "requested",
        "INSERT",
    )

    t1 = since(conn)
    offer(conn, trip, bid)
    rows = broadcasts(conn, t1)
    assert [(r["topic"], r["event"], r["payload"]["status"]) for r in rows] == [
        (topic, "booking.updated", "offered")
    ]
    assert rows[0]["payload"]["price_cents"] == 4500

    t2 = since(conn)
    run(conn, trip.traveler, RPC["accept"], (bid,))
    rows = broadcasts(conn, t2)
    assert sorted((r["topic"], r["event"]) for r in rows) == sorted(
        [
            (topic, "message.created"),
            (topic, "booking.updated"),
            (f"user:{trip.traveler.uid}", "inbox.updated"),
            (f"user:{trip.local.uid}", "inbox.updated"),
        ]
    )
    by_event = {r["event"]: r["payload"] for r in rows if r["topic"] == topic}
    assert by_event["booking.updated"]["status"] == "accepted"
    assert by_event["message.created"]["kind"] == "system"
    assert by_event["message.created"]["body"].startswith("Booking confirmed: ")


def itinerary_events(conn: psycopg.Connection[Any], after: Any) -> list[tuple[str, dict[str, Any]]]:
    rows = broadcasts(conn, after)
    assert all(r["event"] == "itinerary.updated" for r in rows), rows
    assert all((r["extension"], r["private"]) == ("broadcast", True) for r in rows)
    return [(r["topic"], {k: v for k, v in r["payload"].items() if k != "id"}) for r in rows]


def test_itinerary_changes_are_broadcast_to_every_share(conn: psycopg.Connection[Any]) -> None:
    trip = new_trip(conn)
    second = new_trip(conn)
    second_conv = run(
        conn, trip.traveler, "select public.start_conversation(%s) as id", (second.local.uid,)
    )[0]["id"]
    itin = new_itinerary(conn, trip.traveler)
    t0 = since(conn)
    item = add_item(conn, trip.traveler, itin, "Unshared yet")
    assert itinerary_events(conn, t0) == []

    t1 = since(conn)
    share(conn, trip, itin)
    topic = f"conversation:{trip.conv}"
    assert itinerary_events(conn, t1) == [
        (
            topic,
            {
                "itinerary_id": str(itin),
                "table": "itinerary_shares",
                "operation": "INSERT",
                "item_id": None,
            },
        )
    ]
    run(
        conn,
        trip.traveler,
        "insert into public.itinerary_shares (itinerary_id, local_id, conversation_id)"
        " values (%s, %s, %s)",
        (itin, second.local.uid, second_conv),
    )

    t2 = since(conn)
    run(
        conn,
        trip.local,
        "update public.itinerary_items set notes = 'x' where id = %s",
        (item["id"],),
    )
    expected = {
        "itinerary_id": str(itin),
        "table": "itinerary_items",
        "operation": "UPDATE",
        "item_id": str(item["id"]),
    }
    assert sorted(itinerary_events(conn, t2), key=lambda e: e[0]) == sorted(
        [(topic, expected), (f"conversation:{second_conv}", expected)], key=lambda e: e[0]
    )

    t3 = since(conn)
    run(conn, trip.traveler, "update public.itineraries set title = 'Porto' where id = %s", (itin,))
    events = itinerary_events(conn, t3)
    assert len(events) == 2
    assert {e[1]["table"] for e in events} == {"itineraries"}
    assert {e[1]["item_id"] for e in events} == {None}

    t4 = since(conn)
    run(
        conn,
        trip.traveler,
        "delete from public.itinerary_shares where itinerary_id = %s and local_id = %s",
        (itin, trip.local.uid),
    )
    assert itinerary_events(conn, t4) == [
        (
            topic,
            {
                "itinerary_id": str(itin),
                "table": "itinerary_shares",
                "operation": "DELETE",
                "item_id": None,
            },
        )
    ]

    t5 = since(conn)
    run(conn, trip.traveler, "delete from public.itinerary_items where id = %s", (item["id"],))
    assert itinerary_events(conn, t5) == [
        (
            f"conversation:{second_conv}",
            {
                "itinerary_id": str(itin),
                "table": "itinerary_items",
                "operation": "DELETE",
                "item_id": str(item["id"]),
            },
        )
    ]
