"""A token from /login drives the database exactly as PostgREST would run it.

Decode the access token as PostgREST does (the project secret, aud `authenticated`), hand
its claims to the persona harness (the same preamble PostgREST runs), and let RLS decide.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import psycopg

from tests.harness.personas import Persona, assert_denied, assert_filtered, query
from tests.service.auth.conftest import PASSWORD, signup


async def login_claims(client: httpx.AsyncClient, email: str, secret: str) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    claims: dict[str, Any] = jwt.decode(
        response.json()["access_token"],
        secret,
        algorithms=["HS256"],
        audience="authenticated",
        options={"require": ["exp", "sub", "role"]},
    )
    return claims


async def test_a_login_token_reads_its_own_profile_and_not_anothers(
    client: httpx.AsyncClient, auth_db_url: str, strong_jwt_secret: str
) -> None:
    alice = await signup(client, role="traveler", full_name="Alice")
    bob = await signup(client, role="local", full_name="Bob")
    as_alice = Persona(
        "alice", await login_claims(client, alice["user"]["email"], strong_jwt_secret)
    )
    as_bob = Persona("bob", await login_claims(client, bob["user"]["email"], strong_jwt_secret))

    with psycopg.connect(auth_db_url, autocommit=True) as conn:
        # Alice reads her own profile through RLS, as role `authenticated`.
        rows = query(
            conn,
            as_alice,
            "select id::text, full_name, current_user as db_role, auth.uid()::text as uid"
            " from public.profiles",
        )
        assert rows == [
            {
                "id": alice["user"]["id"],
                "full_name": "Alice",
                "db_role": "authenticated",
                "uid": alice["user"]["id"],
            }
        ]
        # Bob's profile and local offer are filtered out for her, not an error.
        assert_filtered(
            conn, as_alice, "select * from public.profiles where id = %s", [bob["user"]["id"]]
        )
        assert_filtered(
            conn,
            as_alice,
            "select * from public.local_profiles where profile_id = %s",
            [bob["user"]["id"]],
        )
        assert_filtered(
            conn,
            as_alice,
            "update public.profiles set full_name = 'Mallory' where id = %s",
            [bob["user"]["id"]],
        )
        # Bob sees his own offer; he may edit his name but not his role.
        assert len(query(conn, as_bob, "select * from public.local_profiles")) == 1
        assert query(
            conn, as_bob, "update public.profiles set full_name = 'Bobby' returning full_name"
        ) == [{"full_name": "Bobby"}]
        assert_denied(conn, as_bob, "update public.profiles set role = 'traveler'")
        # And neither token reaches the credentials.
        assert_denied(conn, as_alice, "select * from private.accounts")
        assert_denied(conn, as_alice, "select * from private.sessions")
        assert_denied(conn, as_alice, "select * from private.refresh_tokens")
        assert_denied(conn, as_bob, "select * from private.login_lockouts")
