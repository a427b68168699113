"""POST /refresh: rotation, the grace rule, reuse detection, and concurrent refreshes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import psycopg
import pytest

from service.core.security import refresh_token_digest
from service.main import create_app
from tests.service.auth.conftest import AuthSettings, bearer, signup
from tests.service.conftest import ServeApp

REFRESH = "/api/v1/auth/refresh"


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": token})


def chain(url: str, session_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(
            "select id, parent_id, token_hash, used_at from private.refresh_tokens"
            " where session_id = %s order by id",
            [session_id],
        )
        return cur.fetchall()


def session_of(body: dict[str, Any]) -> str:
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    return str(claims["session_id"])


async def test_refresh_rotates_within_the_same_session(
    client: httpx.AsyncClient, auth_db_url: str
) -> None:
    body = await signup(client)
    response = await refresh(client, body["refresh_token"])
    assert response.status_code == 200
    new = response.json()
    assert new["refresh_token"] != body["refresh_token"]
    assert new["user"] == body["user"]
    assert session_of(new) == session_of(body)
    rows = chain(auth_db_url, session_of(body))
    assert len(rows) == 2
    assert rows[0]["used_at"] is not None
    assert rows[1]["parent_id"] == rows[0]["id"]
    # Only digests are stored.
    assert bytes(rows[1]["token_hash"]) == refresh_token_digest(new["refresh_token"])
    assert (await client.get("/api/v1/auth/me", headers=bearer(new["access_token"]))).is_success
    # The child rotates in turn.
    assert (await refresh(client, new["refresh_token"])).status_code == 200


async def test_retrying_the_just_rotated_parent_returns_the_current_child(
    client: httpx.AsyncClient, auth_db_url: str
) -> None:
    body = await signup(client)
    first = (await refresh(client, body["refresh_token"])).json()
    retry = await refresh(client, body["refresh_token"])
    assert retry.status_code == 200
    assert retry.json()["refresh_token"] == first["refresh_token"]
    assert len(chain(auth_db_url, session_of(body))) == 2, "a retry does not grow the chain"
    assert (await refresh(client, first["refresh_token"])).status_code == 200


async def test_reusing_an_older_token_revokes_the_whole_session(
    client: httpx.AsyncClient,
) -> None:
    body = await signup(client)
    child = (await refresh(client, body["refresh_token"])).json()
    grandchild = (await refresh(client, child["refresh_token"])).json()
    reused = await refresh(client, body["refresh_token"])
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "refresh_token_reused"
    # Every token of the session is dead now, the newest one included.
    dead = await refresh(client, grandchild["refresh_token"])
    assert dead.status_code == 401
    assert dead.json()["error"]["code"] == "invalid_refresh_token"
    me = await client.get("/api/v1/auth/me", headers=bearer(grandchild["access_token"]))
    assert me.status_code == 401


async def test_the_grace_rule_covers_only_the_latest_rotation(client: httpx.AsyncClient) -> None:
    body = await signup(client)
    child = (await refresh(client, body["refresh_token"])).json()
    grandchild = (await refresh(client, child["refresh_token"])).json()
    # `child` just rotated and its own child is unused: a retry, answered with it.
    retry = await refresh(client, child["refresh_token"])
    assert retry.json()["refresh_token"] == grandchild["refresh_token"]
    # The first token's child has been used: presenting it again is theft.
    reused = await refresh(client, body["refresh_token"])
    assert reused.json()["error"]["code"] == "refresh_token_reused"


@pytest.fixture(scope="module")
async def no_grace_client(
    auth_settings: AuthSettings, serve: ServeApp
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(auth_settings(REFRESH_REUSE_INTERVAL_S=1))) as c:
        yield c


async def test_reuse_after_the_grace_interval_revokes_the_session(
    no_grace_client: httpx.AsyncClient,
) -> None:
    body = await signup(no_grace_client)
    child = (await refresh(no_grace_client, body["refresh_token"])).json()
    await asyncio.sleep(1.2)
    reused = await refresh(no_grace_client, body["refresh_token"])
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "refresh_token_reused"
    assert (await refresh(no_grace_client, child["refresh_token"])).status_code == 401


@pytest.mark.parametrize("token", ["x", "A" * 43, "not even base64 !!", "🙂" * 10])
async def test_unknown_tokens_are_invalid(client: httpx.AsyncClient, token: str) -> None:
    response = await refresh(client, token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_refresh_token"


@pytest.mark.parametrize("payload", [{}, {"refresh_token": ""}, {"refresh_token": "x" * 300}])
async def test_malformed_refresh_requests_are_422(
    client: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    response = await client.post(REFRESH, json=payload)
    assert response.status_code == 422


async def test_an_expired_refresh_token_is_invalid(
    client: httpx.AsyncClient, auth_db_url: str
) -> None:
    body = await signup(client)
    with psycopg.connect(auth_db_url) as conn:
        conn.execute(
            "update private.refresh_tokens set created_at = now() - interval '31 days'"
            " where session_id = %s",
            [session_of(body)],
        )
    response = await refresh(client, body["refresh_token"])
    assert response.json()["error"]["code"] == "invalid_refresh_token"


async def test_concurrent_refreshes_rotate_exactly_once(
    client: httpx.AsyncClient, auth_db_url: str
) -> None:
    for _ in range(5):
        body = await signup(client)
        first, second = await asyncio.gather(
            refresh(client, body["refresh_token"]), refresh(client, body["refresh_token"])
        )
        assert first.status_code == second.status_code == 200, (first.text, second.text)
        # One rotation: both callers hold the same (current) child.
        assert first.json()["refresh_token"] == second.json()["refresh_token"]
        rows = chain(auth_db_url, session_of(body))
        assert len(rows) == 2
        assert rows[1]["parent_id"] == rows[0]["id"]
        assert rows[1]["used_at"] is None
        # And that child is a perfectly good token.
        assert (await refresh(client, first.json()["refresh_token"])).status_code == 200
