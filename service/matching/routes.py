"""GET /api/v1/matches: locals for a trip, best first, with the reasons.

The route validates types, runs `public.match_locals` as the caller (RLS and blocks apply
there) and turns its stable error codes into 422s. Every other rule, including which
inputs are invalid, is the SQL function's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, LiteralString

from fastapi import APIRouter, Query
from psycopg import errors as pg_errors

from service.auth.deps import CurrentUser
from service.core.db import pipelined_read, postgrest_preamble
from service.core.deps import PoolDep
from service.core.errors import AppError, error_responses
from service.core.text import is_unstorable
from service.matching import cursor as cursors
from service.matching.schemas import LocalCard, Match, Matched, MatchPage

router = APIRouter(tags=["matching"])

MAX_LIST_ITEMS = 30
# The codes public.match_locals raises (SQLSTATE 22023, code in DETAIL) that are the
# client's to fix.
CLIENT_ERROR_CODES = frozenset(
    {
        "missing_location",
        "invalid_location",
        "radius_out_of_range",
        "invalid_dates",
        "trip_too_long",
        "invalid_group_size",
        "invalid_limit",
        "unknown_language",
        "unknown_interest",
    }
)

# The signals, in the order the reasons list them; each is a `reason_<name>` column.
REASONS = (
    "interest",
    "language",
    "rating",
    "response_rate",
    "response_time",
    "activity",
    "reciprocal",
    "new_local",
    "open_requests",
)
CARD_FIELDS = tuple(LocalCard.model_fields)

_MATCH_SQL: LiteralString = (
    "select * from public.match_locals("
    "p_starts_on => %(starts_on)s, p_ends_on => %(ends_on)s, p_group_size => %(group_size)s,"
    " p_city => %(city)s, p_lat => %(lat)s, p_lon => %(lon)s, p_radius_km => %(radius_km)s,"
    " p_languages => %(languages)s, p_interests => %(interests)s, p_limit => %(limit)s,"
    " p_after_tier => %(after_tier)s, p_after_score => %(after_score)s,"
    " p_after_id => %(after_id)s, p_as_of => %(as_of)s)"
)


def to_match(row: Mapping[str, Any], languages: list[str], interests: list[str]) -> Match:
    """One ranked row (plain columns) as the API shows it: the card, the score and each
    reason rounded to 4 places, and which of the requested languages and interests the
    local has."""
    local = LocalCard.model_validate({name: row[name] for name in CARD_FIELDS})
    return Match(
        local=local,
        score=round(float(row["score"]), 4),
        reasons={name: round(float(row[f"reason_{name}"]), 4) for name in REASONS},
        matched=Matched(
            languages=sorted(set(local.languages).intersection(languages)),
            interests=sorted(set(local.expertise).intersection(interests)),
            open_requests=int(row["open_requests"]),
        ),
    )


def refuse_unprintable(name: str, value: str) -> None:
    """422 `validation_error` naming the query parameter when its value is unstorable."""
    if is_unstorable(value):
        raise AppError(
            422,
            "validation_error",
            "Request validation failed",
            [
                {
                    "loc": ["query", name],
                    "msg": "must not contain control characters",
                    "type": "string_pattern_mismatch",
                }
            ],
        )


def split_list(name: str, values: list[str] | None) -> list[str]:
    """`?languages=es&languages=en` and `?languages=es,en` alike; trimmed, lower-cased."""
    for value in values or []:
        refuse_unprintable(name, value)
    items = [part.strip().lower() for value in values or [] for part in value.split(",")]
    items = sorted({item for item in items if item})
    if len(items) > MAX_LIST_ITEMS:
        raise AppError(
            422,
            "validation_error",
            "Request validation failed",
            [{"loc": ["query"], "msg": f"at most {MAX_LIST_ITEMS} items", "type": "too_long"}],
        )
    return items


@router.get(
    "/matches",
    operation_id="list_matches",
    summary="Locals for a trip, best first, with the reasons",
    response_model=MatchPage,
    responses=error_responses(401, 422, 503),
)
async def list_matches(
    user: CurrentUser,
    pool: PoolDep,
    starts_on: date,
    ends_on: date,
    city: Annotated[str | None, Query(max_length=100)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float | None, Query(description="Default 25 with lat/lon")] = None,
    group_size: Annotated[int, Query(ge=1, le=50)] = 1,
    languages: Annotated[
        list[str] | None, Query(description="ISO 639-1, repeated or comma separated")
    ] = None,
    interests: Annotated[
        list[str] | None, Query(description="From the expertise vocabulary")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> MatchPage:
    langs = split_list("languages", languages)
    tags = split_list("interests", interests)
    if city is not None:
        refuse_unprintable("city", city)
    normalized_city = city.strip().lower() if city and city.strip() else None
    fingerprint = cursors.query_hash(
        {
            "user": str(user.id),
            "city": normalized_city,
            "lat": lat,
            "lon": lon,
            "radius_km": radius_km,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "group_size": group_size,
            "languages": langs,
            "interests": tags,
        }
    )
    after: cursors.Cursor | None = None
    if cursor is not None:
        try:
            after = cursors.decode(cursor, fingerprint, today=date.today())
        except cursors.InvalidCursor as exc:
            raise AppError(422, "invalid_cursor", str(exc)) from None
    as_of = after.as_of if after else date.today()
    params: dict[str, Any] = {
        "starts_on": starts_on,
        "ends_on": ends_on,
        "group_size": group_size,
        "city": normalized_city,
        "lat": lat,
        "lon": lon,
        "radius_km": radius_km,
        "languages": langs,
        "interests": tags,
        # One more than asked: whether it comes back says if there is a next page.
        "limit": limit + 1,
        "after_tier": after.tier if after else None,
        "after_score": after.score if after else None,
        "after_id": after.profile_id if after else None,
        "as_of": as_of,
    }
    try:
        # One round trip: begin (read only, as PostgREST runs a GET), the caller's preamble,
        # the ranking, commit.
        preamble, preamble_params = postgrest_preamble(user.claims, "GET", "/api/v1/matches")
        async with pool.connection() as conn:
            async with pipelined_read(conn):
                await conn.execute(preamble, preamble_params)
                ranked = await conn.execute(_MATCH_SQL, params)
            rows = await ranked.fetchall()
    except pg_errors.InvalidParameterValue as exc:
        code = exc.diag.message_detail
        if code not in CLIENT_ERROR_CODES:
            raise
        raise AppError(422, code, exc.diag.message_primary or code) from None

    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more and page:
        last = page[-1]
        next_cursor = cursors.encode(
            cursors.Cursor(
                query_hash=fingerprint,
                tier=int(last["tier"]),
                score=float(last["score"]),
                profile_id=uuid.UUID(str(last["profile_id"])),
                as_of=as_of,
            )
        )
    return MatchPage(
        results=[to_match(row, langs, tags) for row in page],
        next_cursor=next_cursor,
    )
