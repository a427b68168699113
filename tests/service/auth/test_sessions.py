"""Signed-in actions: /me, logout scopes, password change, account deletion."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from tests.service.auth.conftest import PASSWORD, bearer, error_code, signup

ME = "/api/v1/auth/me"
LOGOUT = "/api/v1/auth/logout"


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def sessions_of(client: httpx.AsyncClient, n: int) -> list[dict[str, Any]]:
    """One account signed in n times (n sessions)."""
    first = await signup(client)
    others = [(await login(client, first["user"]["email"])).json() for _ in range(n - 1)]
    return [first, *others]


async def alive(client: httpx.AsyncClient, session: dict[str, Any]) -> bool:
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    if response.status_code == 200:
        session.update(response.json())
        return True
    assert error_code(response) == "invalid_refresh_token"
    return False


async def test_me_returns_the_user_and_profile(client: httpx.AsyncClient) -> None:
    body = await signup(client, role="traveler", full_name="Tara")
    response = await client.get(ME, headers=bearer(body["access_token"]))
    assert response.status_code == 200
    me = response.json()
    assert me["user"] == body["user"]
    assert me["profile"]["id"] == body["user"]["id"]
    assert me["profile"]["full_name"] == "Tara"
    assert me["profile"]["languages"] == []
    assert me["local_profile"] is None


async def test_me_shows_a_locals_offer(client: httpx.AsyncClient) -> None:
    body = await signup(client, role="local")
    me = (await client.get(ME, headers=bearer(body["access_token"]))).json()
    assert me["local_profile"]["currency"] == "EUR"
    assert me["local_profile"]["verified"] is False


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("local", [False, True, True]),
        ("others", [True, False, False]),
        ("global", [False, False, False]),
    ],
)
async def test_logout_scopes(client: httpx.AsyncClient, scope: str, expected: list[bool]) -> None:
    sessions = await sessions_of(client, 3)
    response = await client.post(
        LOGOUT, json={"scope": scope}, headers=bearer(sessions[0]["access_token"])
    )
    assert response.status_code == 204
    assert [await alive(client, s) for s in sessions] == expected


async def test_logout_defaults_to_local_and_takes_the_scope_as_a_query(
    client: httpx.AsyncClient,
) -> None:
    sessions = await sessions_of(client, 2)
    response = await client.post(LOGOUT, headers=bearer(sessions[0]["access_token"]))
    assert response.status_code == 204
    assert [await alive(client, s) for s in sessions] == [False, True]
    response = await client.post(
        f"{LOGOUT}?scope=global", headers=bearer(sessions[1]["access_token"])
    )
    assert response.status_code == 204
    assert not await alive(client, sessions[1])


async def test_an_ended_session_can_no_longer_act(client: httpx.AsyncClient) -> None:
    sessions = await sessions_of(client, 2)
    token = sessions[0]["access_token"]
    assert (await client.post(LOGOUT, headers=bearer(token))).status_code == 204
    # Logging out again is harmless; acting for the account is not allowed any more.
    assert (await client.post(LOGOUT, headers=bearer(token))).status_code == 204
    assert error_code(await client.get(ME, headers=bearer(token))) == "invalid_token"
    others = await client.post(LOGOUT, json={"scope": "global"}, headers=bearer(token))
    assert others.status_code == 401
    assert await alive(client, sessions[1])


async def test_logout_needs_a_token_and_a_valid_scope(client: httpx.AsyncClient) -> None:
    assert error_code(await client.post(LOGOUT)) == "invalid_token"
    body = await signup(client)
    bad = await client.post(LOGOUT, json={"scope": "all"}, headers=bearer(body["access_token"]))
    assert bad.status_code == 422


async def test_password_change_revokes_the_other_sessions(client: httpx.AsyncClient) -> None:
    sessions = await sessions_of(client, 3)
    email = sessions[0]["user"]["email"]
    response = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=bearer(sessions[0]["access_token"]),
    )
    assert response.status_code == 204
    assert [await alive(client, s) for s in sessions] == [True, False, False]
    assert (await login(client, email)).status_code == 401
    assert (await login(client, email, "a brand new passphrase")).status_code == 200


async def test_password_change_errors(client: httpx.AsyncClient) -> None:
    body = await signup(client)
    headers = bearer(body["access_token"])
    wrong = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": "a brand new passphrase"},
        headers=headers,
    )
    assert wrong.status_code == 401
    assert error_code(wrong) == "invalid_credentials"
    weak = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "password1"},
        headers=headers,
    )
    assert weak.status_code == 422
    assert error_code(weak) == "weak_password"
    anonymous = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert error_code(anonymous) == "invalid_token"
    assert (await login(client, body["user"]["email"])).status_code == 200


async def test_account_deletion(client: httpx.AsyncClient, auth_db_url: str) -> None:
    body = await signup(client, role="local")
    uid = body["user"]["id"]
    headers = bearer(body["access_token"])
    other_session = (await login(client, body["user"]["email"])).json()
    wrong = await client.request(
        "DELETE", "/api/v1/auth/account", json={"password": "not my password"}, headers=headers
    )
    assert wrong.status_code == 401
    assert error_code(wrong) == "invalid_credentials"

    response = await client.request(
        "DELETE", "/api/v1/auth/account", json={"password": PASSWORD}, headers=headers
    )
    assert response.status_code == 204
    with psycopg.connect(auth_db_url) as conn:
        for table, column in [
            ("private.accounts", "id"),
            ("private.sessions", "account_id"),
            ("private.login_lockouts", "account_id"),
            ("public.profiles", "id"),
            ("public.local_profiles", "profile_id"),
        ]:
            row = conn.execute(
                f"select count(*) from {table} where {column} = %s".encode(), [uid]
            ).fetchone()
            assert row == (0,), table
    # Nothing the user held works any more.
    for token in (body["refresh_token"], other_session["refresh_token"]):
        refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert error_code(refreshed) == "invalid_refresh_token"
    assert error_code(await client.get(ME, headers=headers)) == "invalid_token"
    assert (await login(client, body["user"]["email"])).status_code == 401
    again = await client.request(
        "DELETE", "/api/v1/auth/account", json={"password": PASSWORD}, headers=headers
    )
    assert again.status_code == 401
    # The email is free again.
    await signup(client, email=body["user"]["email"])
