"""A matching world for tests: locals with every signal set explicitly, and a way to rank.

Locals are written as the service writes them at signup (superuser, triggers on), so the
card, its masks and its availability come from the real triggers. `rank` calls
public.match_locals inside the PostgREST preamble as the given person.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from service.core.db import postgrest_preamble
from service.matching.routes import CARD_FIELDS, REASONS
from tests.harness.personas import Persona, acting_as, user

DEFAULT_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$invalid-hash-for-tests-only"
TODAY = date(2030, 6, 1)  # p_as_of in every test call: activity does not drift with the clock
TRIP = (date(2030, 7, 10), date(2030, 7, 14))

MATCH_SQL = (
    "select * from public.match_locals("
    "p_starts_on => %(starts_on)s, p_ends_on => %(ends_on)s, p_group_size => %(group_size)s,"
    " p_city => %(city)s, p_lat => %(lat)s, p_lon => %(lon)s, p_radius_km => %(radius_km)s,"
    " p_languages => %(languages)s, p_interests => %(interests)s, p_limit => %(limit)s,"
    " p_after_tier => %(after_tier)s, p_after_score => %(after_score)s,"
    " p_after_id => %(after_id)s, p_as_of => %(as_of)s)"
)


def _account(conn: psycopg.Connection[Any], uid: uuid.UUID) -> None:
    conn.execute(
        "insert into private.accounts (id, email, password_hash) values (%s, %s, %s)",
        (uid, f"{uid}@test.localghost.dev", DEFAULT_HASH),
    )


def make_traveler(
    conn: psycopg.Connection[Any], name: str = "Tess", languages: Sequence[str] = ("en",)
) -> Persona:
    uid = uuid.uuid4()
    _account(conn, uid)
    conn.execute(
        "insert into public.profiles (id, role, full_name, languages)"
        " values (%s, 'traveler', %s, %s)",
        (uid, name, list(languages)),
    )
    return user(name, uid)


def make_local(
    conn: psycopg.Connection[Any],
    *,
    name: str = "Lia",
    city: str = "Lisbon",
    lat: float = 38.72,
    lon: float = -9.14,
    languages: Sequence[str] = ("en",),
    expertise: Sequence[str] = ("food",),
    max_group_size: int = 4,
    accepting_requests: bool = True,
    rating_avg: float | None = 4.6,
    rating_count: int = 20,
    response_rate: float | None = 0.9,
    median_response_minutes: int | None = 30,
    last_active_days: int | None = 1,
    available: Sequence[tuple[date, date]] | None = None,
) -> uuid.UUID:
    """A listed local; available (half-open [from, to) windows) defaults to all of 2030."""
    uid = uuid.uuid4()
    _account(conn, uid)
    conn.execute(
        "insert into public.profiles (id, role, full_name, languages) values (%s, 'local', %s, %s)",
        (uid, name, list(languages)),
    )
    last_active = (
        None
        if last_active_days is None
        else datetime.combine(TODAY, datetime.min.time(), UTC)
        + timedelta(hours=12)
        - timedelta(days=last_active_days)
    )
    conn.execute(
        "insert into public.local_profiles (profile_id, city, country_code, latitude, longitude,"
        " expertise, max_group_size, accepting_requests, rating_avg, rating_count,"
        " response_rate, median_response_minutes, last_active_at)"
        " values (%s, %s, 'PT', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            uid,
            city,
            lat,
            lon,
            list(expertise),
            max_group_size,
            accepting_requests,
            rating_avg,
            rating_count,
            response_rate,
            median_response_minutes,
            last_active,
        ),
    )
    windows = available if available is not None else [(date(2030, 1, 1), date(2031, 1, 1))]
    for start, end in windows:
        conn.execute(
            "insert into public.local_availability (local_id, during)"
            " values (%s, daterange(%s, %s))",
            (uid, start, end),
        )
    return uid


def open_requests(
    conn: psycopg.Connection[Any],
    local_id: uuid.UUID,
    traveler: Persona,
    count: int,
    dates: tuple[date, date] = TRIP,
) -> None:
    """Open booking requests held by a local (conversation and triggers bypassed)."""
    conn.execute("set local session_replication_role = replica")
    for _ in range(count):
        conn.execute(
            "insert into public.booking_requests (conversation_id, traveler_id, local_id,"
            " starts_on, ends_on, group_size, status, expires_at)"
            " values (gen_random_uuid(), %s, %s, %s, %s, 1, 'requested',"
            " now() + interval '2 days')",
            (traveler.uid, local_id, dates[0], dates[1]),
        )
    conn.execute("set local session_replication_role = origin")
    sync_open_requests(conn, local_id)


def sync_open_requests(conn: psycopg.Connection[Any], local_id: uuid.UUID) -> None:
    """What the request triggers keep on the card, for requests written with them off."""
    conn.execute(
        "update public.local_cards set open_requests_until = private.open_requests_until(%s)"
        " where profile_id = %s",
        (local_id, local_id),
    )


def query(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "starts_on": TRIP[0],
        "ends_on": TRIP[1],
        "group_size": 1,
        "city": "Lisbon",
        "lat": None,
        "lon": None,
        "radius_km": None,
        "languages": [],
        "interests": [],
        "limit": 100,
        "after_tier": None,
        "after_score": None,
        "after_id": None,
        "as_of": TODAY,
    }
    params.update(overrides)
    return params


def shaped(row: dict[str, Any]) -> dict[str, Any]:
    """A ranked row with its reasons and its card gathered, as the service gathers them."""
    return {
        **row,
        "reasons": {name: row[f"reason_{name}"] for name in REASONS},
        "card": {name: row[name] for name in CARD_FIELDS},
    }


def rank_in_tx(
    conn: psycopg.Connection[Any], persona: Persona, **overrides: Any
) -> list[dict[str, Any]]:
    """Rank inside the caller's open transaction (so uncommitted test data is seen)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(*postgrest_preamble(persona.claims, "GET", "/api/v1/matches"))
        cur.execute(MATCH_SQL.encode(), query(**overrides))
        rows = cur.fetchall()
        cur.execute("select set_config('role', 'none', true)")
    return [shaped(r) for r in rows]


def rank(conn: psycopg.Connection[Any], persona: Persona, **overrides: Any) -> list[dict[str, Any]]:
    """Rank in a transaction of its own, rolled back."""
    with acting_as(conn, persona, read_only=True, method="GET") as cur:
        cur.execute(MATCH_SQL.encode(), query(**overrides))
        return [shaped(r) for r in cur.fetchall()]


def ids(rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
    return [r["profile_id"] for r in rows]
