"""POST /signup: the seed's own example, the account + profile transaction, and bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.service.auth.conftest import PASSWORD, error_code, new_email, signup

SIGNUP = "/api/v1/auth/signup"


async def test_the_seed_example_works_exactly(client: httpx.AsyncClient) -> None:
    response = await client.post(
        SIGNUP,
        json={
            "email": "test@example.com",
            "password": "testpass123",
            "full_name": "Test User",
            "role": "traveler",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["access_token"]
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert isinstance(body["expires_at"], int)
    assert isinstance(body["refresh_token"], str)
    assert len(body["refresh_token"]) >= 43
    assert body["user"]["email"] == "test@example.com"
    assert body["user"]["role"] == "traveler"
    assert body["user"]["full_name"] == "Test User"


async def test_account_and_profile_are_created_together(
    client: httpx.AsyncClient, auth_db_url: str
) -> None:
    body = await signup(client, role="traveler", full_name="  Tess  ")
    uid = body["user"]["id"]
    with psycopg.connect(auth_db_url) as conn:
        account = conn.execute(
            "select email, password_hash from private.accounts where id = %s", [uid]
        ).fetchone()
        profile = conn.execute(
            "select role::text, full_name from public.profiles where id = %s", [uid]
        ).fetchone()
        local = conn.execute(
            "select 1 from public.local_profiles where profile_id = %s", [uid]
        ).fetchone()
    assert account is not None
    assert account[0] == body["user"]["email"]
    assert account[1].startswith("$argon2id$")
    assert PASSWORD not in account[1]
    assert profile == ("traveler", "Tess")
    assert local is None


async def test_a_local_gets_an_empty_local_profile(
    client: httpx.AsyncClient, auth_db_url: str
) -> None:
    body = await signup(client, role="local")
    with psycopg.connect(auth_db_url) as conn:
        row = conn.execute(
            "select city, accepting_requests from public.local_profiles where profile_id = %s",
            [body["user"]["id"]],
        ).fetchone()
    assert row == (None, True)


async def test_email_is_trimmed_lower_cased_and_unique_regardless_of_case(
    client: httpx.AsyncClient,
) -> None:
    email = new_email("Case")
    body = await signup(client, email=f"  {email.upper()}  ")
    assert body["user"]["email"] == email.lower()
    again = await client.post(
        SIGNUP,
        json={"email": email.lower(), "password": PASSWORD, "full_name": "X", "role": "local"},
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"


async def test_a_failed_signup_leaves_nothing_behind(
    client: httpx.AsyncClient, auth_db_url: str
) -> None:
    email = new_email()
    await signup(client, email=email)
    with psycopg.connect(auth_db_url) as conn:
        before = conn.execute("select count(*) from public.profiles").fetchone()
    response = await client.post(
        SIGNUP, json={"email": email, "password": PASSWORD, "full_name": "Dup", "role": "local"}
    )
    assert response.status_code == 409
    with psycopg.connect(auth_db_url) as conn:
        after = conn.execute("select count(*) from public.profiles").fetchone()
    assert before == after


@pytest.mark.parametrize(
    "password",
    [
        "short7!",  # 7 characters
        "x" * 129,  # longer than 128
        "password1",  # common
        "Password1",  # common, whatever the case
        "qwertyuiop",  # common
        "iloveyou1",  # common
    ],
)
async def test_weak_passwords_are_refused(client: httpx.AsyncClient, password: str) -> None:
    response = await client.post(
        SIGNUP,
        json={"email": new_email(), "password": password, "full_name": "W", "role": "traveler"},
    )
    assert response.status_code == 422
    assert error_code(response) == "weak_password"
    assert password not in response.text


@pytest.mark.parametrize("password", ["abcdefgh-ok", "é" * 8, "p" * 64 + "Q" * 64])
async def test_passwords_of_8_to_128_characters_are_accepted(
    client: httpx.AsyncClient, password: str
) -> None:
    body = await signup(client, password=password)
    login = await client.post(
        "/api/v1/auth/login", json={"email": body["user"]["email"], "password": password}
    )
    assert login.status_code == 200


async def test_a_128_character_password_is_not_truncated(client: httpx.AsyncClient) -> None:
    password = "a" * 127 + "b"
    body = await signup(client, password=password)
    wrong = await client.post(
        "/api/v1/auth/login",
        json={"email": body["user"]["email"], "password": "a" * 127 + "c"},
    )
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "not-an-email", "password": PASSWORD, "full_name": "A", "role": "traveler"},
        {"email": "a@b", "password": PASSWORD, "full_name": "A", "role": "traveler"},
        {
            "email": "x" * 250 + "@example.com",
            "password": PASSWORD,
            "full_name": "A",
            "role": "traveler",
        },
        {"email": new_email(), "password": PASSWORD, "full_name": "A", "role": "admin"},
        {"email": new_email(), "password": PASSWORD, "full_name": "   ", "role": "local"},
        {"email": new_email(), "password": PASSWORD, "full_name": "x" * 101, "role": "local"},
        {"email": new_email(), "password": PASSWORD, "full_name": "Nul\x00l", "role": "local"},
        # A lone surrogate (a JSON escape) cannot be stored as UTF-8.
        {"email": new_email(), "password": PASSWORD, "full_name": "A\udc00", "role": "local"},
        {
            "email": new_email(),
            "password": PASSWORD,
            "full_name": "A",
            "role": "local",
            "is_admin": True,
        },
        {"email": new_email(), "password": PASSWORD, "role": "local"},
        {"email": new_email(), "password": 12345678, "full_name": "A", "role": "local"},
        {"email": "nul\x00@example.com", "password": PASSWORD, "full_name": "A", "role": "local"},
        {"email": new_email(), "password": "p" * 5000, "full_name": "A", "role": "local"},
    ],
)
async def test_bad_input_is_a_422_never_a_500(
    client: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    # json.dumps escapes what httpx's own encoder refuses (a lone surrogate).
    response = await client.post(
        SIGNUP, content=json.dumps(payload), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"email": null}',
        b"\xff\xfe{}",
        # Past the recursion limit, and past Python's limit on digits in an integer: the
        # parser raises something other than a JSON decode error.
        b"[" * 4000 + b"]" * 4000,
        b'{"email": 1' + b"0" * 5000 + b"}",
    ],
)
async def test_malformed_bodies_are_a_422(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(SIGNUP, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert error_code(response) == "validation_error"


async def test_an_oversized_body_is_refused_before_parsing(client: httpx.AsyncClient) -> None:
    padding = "x" * (70 * 1024)
    response = await client.post(
        SIGNUP,
        content=json.dumps({"email": new_email(), "password": PASSWORD, "full_name": padding}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert error_code(response) == "body_too_large"

    # The same body streamed without a declared length is cut off as it arrives.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(80):
            yield b"x" * 1024

    streamed = await client.post(
        SIGNUP, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413, streamed.text
    assert error_code(streamed) == "body_too_large"
    # A normal body on the same route is unaffected.
    ok = await client.post(
        SIGNUP,
        json={"email": new_email(), "password": PASSWORD, "full_name": "Ana", "role": "local"},
    )
    assert ok.status_code == 201, ok.text
