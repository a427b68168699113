"""Fixtures for the auth tests: a fresh migrated database per module, cheap argon2, Redis.

Argon2 cost is lowered here ONLY through settings (1 MiB, t=1), so hundreds of signups stay
fast; `test_passwords.py` proves the defaults are OWASP's.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from scripts.lib.pgcluster import ensure_debian_packages, free_port
from service.core.config import Settings
from service.main import create_app
from tests.service.conftest import MakeSettings, ServeApp

PASSWORD = "correct horse battery"
CHEAP_ARGON2: dict[str, Any] = {"ARGON2_MEMORY_KIB": 1024, "ARGON2_TIME_COST": 1}

AuthSettings = Callable[..., Settings]


@pytest.fixture(scope="module")
def auth_db_url(fresh_db: Callable[[], str]) -> str:
    """A migrated database of this module's own, so emails and counts never collide."""
    return fresh_db()


@pytest.fixture(scope="module")
def auth_settings(make_settings: MakeSettings, auth_db_url: str) -> AuthSettings:
    """Settings for an auth app: cheap argon2, no rate limits unless a test asks for them."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "DATABASE_URL": auth_db_url,
            "RATE_LIMIT_ENABLED": False,
            "RATE_LIMIT_KEY_PREFIX": f"lg-test-{uuid.uuid4().hex[:12]}",
            "REDIS_URL": None,
            **CHEAP_ARGON2,
        }
        values.update(overrides)
        return make_settings(**values)

    return build


@pytest.fixture(scope="module")
def auth_app(auth_settings: AuthSettings) -> FastAPI:
    return create_app(auth_settings())


@pytest.fixture(scope="module")
async def client(auth_app: FastAPI, serve: ServeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(auth_app) as c:
        yield c


def new_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


async def signup(
    client: httpx.AsyncClient,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    role: str = "traveler",
    full_name: str = "Test Person",
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/signup",
        json={
            "email": email or new_email(),
            "password": password,
            "full_name": full_name,
            "role": role,
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


# --------------------------------------------------------------------------------------
# Redis: the real server. REDIS_URL when given, else our own redis-server on a free port.
# --------------------------------------------------------------------------------------


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    if shutil.which("redis-server") is None:
        ensure_debian_packages(["redis-server"])
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
