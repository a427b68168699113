"""POST /login: one answer for every failure, the dummy hash, rehash, and the lockout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from argon2 import PasswordHasher

from service.auth.accounts import lockout_seconds
from service.core.security import Passwords
from service.main import create_app
from tests.service.auth.conftest import (
    PASSWORD,
    AuthSettings,
    bearer,
    new_email,
    signup,
)
from tests.service.conftest import ServeApp

LOGIN = "/api/v1/auth/login"


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


async def test_login_returns_a_fresh_session(client: httpx.AsyncClient) -> None:
    first = await signup(client)
    response = await login(client, first["user"]["email"], PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "expires_at",
        "refresh_token",
        "user",
    }
    assert body["user"] == first["user"]
    assert body["refresh_token"] != first["refresh_token"]
    me = await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200


async def test_email_is_matched_whatever_its_case_and_spacing(client: httpx.AsyncClient) -> None:
    first = await signup(client)
    response = await login(client, f" {first['user']['email'].upper()} ", PASSWORD)
    assert response.status_code == 200


async def test_every_failure_gets_the_same_answer(client: httpx.AsyncClient) -> None:
    known = await signup(client)
    wrong_password = await login(client, known["user"]["email"], "not the password")
    unknown_email = await login(client, new_email("ghost"), PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert (
        wrong_password.json()
        == unknown_email.json()
        == {
            "error": {
                "code": "invalid_credentials",
                "message": "Invalid login credentials",
                "details": None,
            }
        }
    )


async def test_unknown_users_cost_a_dummy_hash_check(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = Passwords.dummy_verify

    def spy(self: Passwords, password: str) -> None:
        calls.append(password)
        original(self, password)

    monkeypatch.setattr(Passwords, "dummy_verify", spy)
    response = await login(client, new_email("nobody"), "some password")
    assert response.status_code == 401
    assert calls == ["some password"]
    known = await signup(client)
    await login(client, known["user"]["email"], "wrong password!")
    assert calls == ["some password"], "a known user is checked against their own hash"


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "nope", "password": "x"},
        {"email": new_email()},
        {"email": new_email(), "password": ""},
        {"email": new_email(), "password": "p" * 2000},
        {"email": new_email(), "password": PASSWORD, "extra": 1},
    ],
)
async def test_malformed_logins_are_422(client: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    response = await client.post(LOGIN, json=payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_default_argon2_parameters_are_owasps_minimum(make_settings: Any) -> None:
    settings = make_settings()
    assert (settings.ARGON2_MEMORY_KIB, settings.ARGON2_TIME_COST, settings.ARGON2_PARALLELISM) == (
        19456,
        2,
        1,
    )
    stored = Passwords(settings).hash("testpass123")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_login_rehashes_when_the_parameters_change(
    client: httpx.AsyncClient,
    auth_settings: AuthSettings,
    serve: ServeApp,
    auth_db_url: str,
) -> None:
    body = await signup(client)
    uid = body["user"]["id"]

    def stored_hash() -> str:
        with psycopg.connect(auth_db_url) as conn:
            row = conn.execute(
                "select password_hash from private.accounts where id = %s", [uid]
            ).fetchone()
        assert row is not None
        return str(row[0])

    assert stored_hash().startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    stronger = create_app(auth_settings(ARGON2_MEMORY_KIB=2048, ARGON2_TIME_COST=2))
    async with serve(stronger) as other:
        assert (await login(other, body["user"]["email"], PASSWORD)).status_code == 200
        assert stored_hash().startswith("$argon2id$v=19$m=2048,t=2,p=1$")
        # The upgraded hash keeps working, and is not rewritten again.
        before = stored_hash()
        assert (await login(other, body["user"]["email"], PASSWORD)).status_code == 200
        assert stored_hash() == before
    PasswordHasher().verify(stored_hash(), PASSWORD)


def test_lockout_backoff_doubles_and_is_capped(make_settings: Any) -> None:
    settings = make_settings(
        LOGIN_LOCKOUT_THRESHOLD=5, LOGIN_LOCKOUT_BASE_S=15, LOGIN_LOCKOUT_MAX_S=900
    )
    assert [lockout_seconds(n, settings) for n in range(1, 13)] == [
        None,
        None,
        None,
        None,
        15,
        30,
        60,
        120,
        240,
        480,
        900,
        900,
    ]
    assert lockout_seconds(10_000, settings) == 900


@pytest.fixture(scope="module")
async def locking_client(
    auth_settings: AuthSettings, serve: ServeApp
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        auth_settings(LOGIN_LOCKOUT_THRESHOLD=3, LOGIN_LOCKOUT_BASE_S=1, LOGIN_LOCKOUT_MAX_S=2)
    )
    async with serve(app) as c:
        yield c


def lock_state(url: str, uid: str) -> tuple[int, Any] | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select failed_count, locked_until from private.login_lockouts where account_id = %s",
            [uid],
        ).fetchone()
    return (row[0], row[1]) if row else None


async def test_lockout_refuses_even_the_right_password_then_lets_it_in(
    locking_client: httpx.AsyncClient, auth_db_url: str
) -> None:
    body = await signup(locking_client)
    email, uid = body["user"]["email"], body["user"]["id"]
    for _ in range(3):
        assert (await login(locking_client, email, "wrong guess!")).status_code == 401
    state = lock_state(auth_db_url, uid)
    assert state is not None
    assert state[0] == 3
    assert state[1] is not None
    locked = await login(locking_client, email, PASSWORD)
    assert locked.status_code == 401
    assert locked.json()["error"]["code"] == "invalid_credentials"
    # Guesses during the lock are not counted and do not extend it.
    assert (await login(locking_client, email, "another guess")).status_code == 401
    assert lock_state(auth_db_url, uid) == state
    await asyncio.sleep(1.2)
    assert (await login(locking_client, email, PASSWORD)).status_code == 200
    assert lock_state(auth_db_url, uid) is None


async def test_the_lock_never_exceeds_the_cap(
    locking_client: httpx.AsyncClient, auth_db_url: str
) -> None:
    body = await signup(locking_client)
    email, uid = body["user"]["email"], body["user"]["id"]
    for _ in range(3):
        await login(locking_client, email, "wrong guess!")
    for _ in range(3):  # each new failure right after a lock ends doubles it, up to the cap
        await asyncio.sleep(2.1)
        await login(locking_client, email, "wrong guess!")
    with psycopg.connect(auth_db_url) as conn:
        row = conn.execute(
            "select extract(epoch from locked_until - last_failed_at)"
            " from private.login_lockouts where account_id = %s",
            [uid],
        ).fetchone()
    assert row is not None
    assert float(row[0]) == pytest.approx(2.0)
    await asyncio.sleep(2.1)
    assert (await login(locking_client, email, PASSWORD)).status_code == 200


async def test_existing_sessions_keep_working_during_a_lock(
    locking_client: httpx.AsyncClient,
) -> None:
    body = await signup(locking_client)
    for _ in range(3):
        await login(locking_client, body["user"]["email"], "wrong guess!")
    refreshed = await locking_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200
