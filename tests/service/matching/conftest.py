"""Fixtures for the matches endpoint: a migrated database of this package's own, the app
on it, and access tokens minted the way our auth server mints them (HS256, project secret).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from fastapi import FastAPI

from service.core.config import Settings
from service.main import create_app
from tests.service.conftest import MakeSettings, ServeApp

MintToken = Callable[[uuid.UUID], str]


@pytest.fixture(scope="module")
def matching_db_url(fresh_db: Callable[[], str]) -> str:
    return fresh_db()


@pytest.fixture(scope="module")
def matching_settings(make_settings: MakeSettings, matching_db_url: str) -> Settings:
    return make_settings(DATABASE_URL=matching_db_url, RATE_LIMIT_ENABLED=False, REDIS_URL=None)


@pytest.fixture(scope="module")
def matching_app(matching_settings: Settings) -> FastAPI:
    return create_app(matching_settings)


@pytest.fixture(scope="module")
async def client(matching_app: FastAPI, serve: ServeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(matching_app) as c:
        yield c


@pytest.fixture(scope="module")
def world_conn(matching_db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """Superuser connection that builds committed worlds (each test in a city of its own)."""
    with psycopg.connect(matching_db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def mint(matching_settings: Settings) -> MintToken:
    def token(sub: uuid.UUID) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(sub),
            "role": "authenticated",
            "aud": "authenticated",
            "iss": matching_settings.JWT_ISSUER,
            "iat": now,
            "exp": now + 600,
            "session_id": str(uuid.uuid4()),
        }
        secret = matching_settings.SUPABASE_JWT_SECRET.get_secret_value()
        return jwt.encode(claims, secret, algorithm="HS256")

    return token
