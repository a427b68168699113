"""GET /api/v1/matches end to end: real app, real migrated database, real tokens."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date
from typing import Any

import httpx
import psycopg
import pytest

from tests.harness.world import block
from tests.service.matching.conftest import MintToken
from tests.service.matching.world import make_local, make_traveler

PATH = "/api/v1/matches"
TRIP = {"starts_on": "2030-07-10", "ends_on": "2030-07-14"}


def city() -> str:
    return f"Api City {uuid.uuid4().hex[:8]}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get(client: httpx.AsyncClient, token: str | None, params: Any) -> httpx.Response:
    headers = auth(token) if token else {}
    return await client.get(PATH, params=params, headers=headers)


async def test_anonymous_and_bad_tokens_get_401(client: httpx.AsyncClient) -> None:
    for headers in ({}, auth("not-a-jwt")):
        response = await client.get(PATH, params={"city": "Lisbon", **TRIP}, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"
    # Even with invalid input, anonymous is 401 first.
    response = await client.get(PATH, params={"group_size": "many"})
    assert response.status_code == 401


async def test_a_match_explains_itself(
    client: httpx.AsyncClient, world_conn: psycopg.Connection[Any], mint: MintToken
) -> None:
    c = city()
    me = make_traveler(world_conn)
    lia = make_local(
        world_conn,
        city=c,
        name="Lia",
        languages=["en", "es"],
        expertise=["food", "wine"],
        rating_avg=4.9,
        rating_count=120,
    )
    assert me.uid is not None
    response = await get(
        client,
        mint(me.uid),
        {"city": c, **TRIP, "languages": "es", "interests": ["food", "history"], "group_size": 2},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    [match] = body["results"]
    assert match["local"]["profile_id"] == str(lia)
    assert match["local"]["full_name"] == "Lia"
    assert match["local"]["rating_avg"] == 4.9
    assert match["local"]["rating_count"] == 120
    assert match["matched"] == {"languages": ["es"], "interests": ["food"], "open_requests": 0}
    reasons = match["reasons"]
    assert min(reasons["interest"], reasons["language"], reasons["rating"]) > 0
    assert sum(reasons.values()) == pytest.approx(match["score"], abs=1e-3)
    # Nothing beyond the public card leaks into `local`.
    assert not {"languages_mask", "available"} & set(match["local"])


async def test_languages_repeated_or_comma_separated(
    client: httpx.AsyncClient, world_conn: psycopg.Connection[Any], mint: MintToken
) -> None:
    c = city()
    me = make_traveler(world_conn)
    assert me.uid is not None
    make_local(world_conn, city=c, languages=["pt"])
    make_local(world_conn, city=c, languages=["fr"])
    token = mint(me.uid)
    repeated = await get(
        client, token, [("city", c), *TRIP.items(), ("languages", "pt"), ("languages", "fr")]
    )
    comma = await get(client, token, {"city": c, **TRIP, "languages": " PT, fr "})
    assert repeated.status_code == comma.status_code == 200
    assert len(repeated.json()["results"]) == len(comma.json()["results"]) == 2
    only_pt = await get(client, token, {"city": c, **TRIP, "languages": "pt"})
    assert len(only_pt.json()["results"]) == 1


async def test_blocked_locals_are_not_offered(
    client: httpx.AsyncClient, world_conn: psycopg.Connection[Any], mint: MintToken
) -> None:
    from tests.harness.personas import user  # noqa: PLC0415

    c = city()
    me = make_traveler(world_conn)
    assert me.uid is not None
    mine = make_local(world_conn, city=c, name="Mine")
    theirs = make_local(world_conn, city=c, name="Theirs")
    ok = make_local(world_conn, city=c, name="Ok")
    block(world_conn, me, user("mine", mine))
    block(world_conn, user("theirs", theirs), me)
    body = (await get(client, mint(me.uid), {"city": c, **TRIP})).json()
    assert [m["local"]["profile_id"] for m in body["results"]] == [str(ok)]


async def test_cursor_pages_cover_everything_once(
    client: httpx.AsyncClient, world_conn: psycopg.Connection[Any], mint: MintToken
) -> None:
    c = city()
    me = make_traveler(world_conn)
    assert me.uid is not None
    for i in range(13):
        make_local(
            world_conn,
            city=c,
            expertise=[["food", "art", "music"][i % 3]],
            rating_avg=3 + (i % 5) / 3,
        )
    token = mint(me.uid)
    query = {"city": c, **TRIP, "interests": "food"}
    full = (await get(client, token, {**query, "limit": 50})).json()["results"]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {**query, "limit": 4, **({"cursor": cursor} if cursor else {})}
        body = (await get(client, token, params)).json()
        seen += [m["local"]["profile_id"] for m in body["results"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert len(full) == 13
    assert seen == [m["local"]["profile_id"] for m in full]
    # Page size may change between pages; the query may not.
    first = (await get(client, token, {**query, "limit": 4})).json()
    bigger = await get(client, token, {**query, "limit": 20, "cursor": first["next_cursor"]})
    assert [m["local"]["profile_id"] for m in bigger.json()["results"]] == seen[4:]
    other_query = await get(
        client, token, {**query, "interests": "art", "cursor": first["next_cursor"]}
    )
    assert other_query.status_code == 422
    assert other_query.json()["error"]["code"] == "invalid_cursor"
    someone_else = make_traveler(world_conn)
    assert someone_else.uid is not None
    stolen = await get(client, mint(someone_else.uid), {**query, "cursor": first["next_cursor"]})
    assert stolen.json()["error"]["code"] == "invalid_cursor"
    # The cursor's own query with its scoring day moved: only a day either side is accepted
    # (a far date pushed the activity decay out of float range: a 500).
    issued = first["next_cursor"]
    token_body = json.loads(base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4)))
    for day, status in (("9999-12-31", 422), ("0001-01-01", 422), (str(date.today()), 200)):
        moved = _forged(**{**token_body, "d": day})
        response = await get(client, token, {**query, "cursor": moved})
        assert response.status_code == status, response.text


def _forged(**body: Any) -> str:
    raw = json.dumps(body).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"city": "Lisbon", "languages": "en,xx"}, "unknown_language"),
        ({"city": "Lisbon", "interests": "food,skydiving"}, "unknown_interest"),
        ({"city": "Lisbon", "starts_on": "2030-07-10", "ends_on": "2030-07-09"}, "invalid_dates"),
        ({"city": "Lisbon", "starts_on": "2030-07-01", "ends_on": "2030-08-30"}, "trip_too_long"),
        ({"lat": 38.7, "lon": -9.1, "radius_km": 0}, "radius_out_of_range"),
        ({"lat": 38.7, "lon": -9.1, "radius_km": 500}, "radius_out_of_range"),
        ({"lat": 38.7, "lon": -9.1, "radius_km": "nan"}, "radius_out_of_range"),
        ({"lat": 38.7, "lon": -9.1, "radius_km": "5e-324"}, "radius_out_of_range"),
        ({"lat": 38.7, "lon": -9.1, "radius_km": "-1.7976931348623155e308"}, "radius_out_of_range"),
        ({}, "missing_location"),
        ({"city": "  "}, "missing_location"),
        ({"lat": 38.7}, "missing_location"),
        ({"city": "Lisbon", "cursor": "%%%"}, "invalid_cursor"),
        (
            {
                "city": "Lisbon",
                "cursor": _forged(v=1, q="x", t=0, s="0.5", id="nope", d="2030-01-01"),
            },
            "invalid_cursor",
        ),
        (
            {
                "city": "Lisbon",
                "cursor": _forged(v=1, q="x", t=0, s="0.5", id=str(uuid.uuid4()), d="2030-01-01"),
            },
            "invalid_cursor",
        ),
        ({"city": "Lisbon", "cursor": "x" * 600}, "validation_error"),
        ({"city": "Lisbon", "group_size": "many"}, "validation_error"),
        ({"city": "Lisbon", "group_size": 0}, "validation_error"),
        ({"city": "Lisbon", "group_size": 51}, "validation_error"),
        ({"city": "Lisbon", "limit": 0}, "validation_error"),
        ({"city": "Lisbon", "limit": 51}, "validation_error"),
        ({"lat": 91, "lon": 0}, "validation_error"),
        ({"city": "Lisbon", "starts_on": "next week"}, "validation_error"),
        # Postgres text cannot hold NUL; no name or code holds a control character.
        ({"city": "Lis\x00bon"}, "validation_error"),
        ({"city": "Lisbon", "languages": "e\x00n"}, "validation_error"),
        ({"city": "Lisbon", "interests": "fo\x00od,art"}, "validation_error"),
        ({"city": "Lisbon\x1b"}, "validation_error"),
        (
            {"city": "Lisbon", "languages": ",".join(["en"] * 5 + [f"l{i}" for i in range(40)])},
            "validation_error",
        ),
    ],
)
async def test_invalid_input_is_422_with_a_stable_code(
    client: httpx.AsyncClient, mint: MintToken, params: dict[str, Any], code: str
) -> None:
    response = await get(client, mint(uuid.uuid4()), {**TRIP, **params})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


async def test_missing_dates_are_a_validation_error(
    client: httpx.AsyncClient, mint: MintToken
) -> None:
    response = await get(client, mint(uuid.uuid4()), {"city": "Lisbon"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_radius_search_and_openapi(
    client: httpx.AsyncClient, world_conn: psycopg.Connection[Any], mint: MintToken
) -> None:
    me = make_traveler(world_conn)
    assert me.uid is not None
    near = make_local(world_conn, city=city(), lat=-33.45, lon=151.2)
    body = (
        await get(client, mint(me.uid), {"lat": -33.46, "lon": 151.21, "radius_km": 5, **TRIP})
    ).json()
    assert [m["local"]["profile_id"] for m in body["results"]] == [str(near)]
    spec = (await client.get("/api/openapi.json")).json()
    assert "/api/v1/matches" in spec["paths"]
