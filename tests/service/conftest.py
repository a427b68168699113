"""Fixtures for the edge service tests.

`database_url` (a migrated database, superuser connection, roles anon/authenticated/
service_role present) comes from tests/conftest.py.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.core.config import Settings
from service.main import create_app

ServeApp = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
MakeSettings = Callable[..., Settings]


@pytest.fixture(scope="session")
def unreachable_database_url() -> str:
    # Nothing listens on port 1: connections are refused at once, like a database that is down.
    return "postgresql://postgres@127.0.0.1:1/postgres"


@pytest.fixture(scope="session")
def strong_jwt_secret() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def make_settings(database_url: str, strong_jwt_secret: str) -> MakeSettings:
    """Settings for ENV=test with a real secret; keyword overrides win. Ignores any `.env`."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "ENV": "test",
            "DATABASE_URL": database_url,
            "SUPABASE_JWT_SECRET": strong_jwt_secret,
            "ALLOWED_ORIGINS": ["http://localhost:3000"],
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture(scope="session")
def service_settings(make_settings: MakeSettings) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def serve() -> ServeApp:
    """`async with serve(app) as client:` runs the app's lifespan around an httpx client."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield c

    return run


@pytest.fixture(scope="session")
def service_app(service_settings: Settings) -> FastAPI:
    return create_app(service_settings)


@pytest.fixture(scope="session")
async def service_client(service_app: FastAPI, serve: ServeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(service_app) as client:
        yield client
