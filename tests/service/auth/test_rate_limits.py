"""Rate limits: per IP and per email, memory and real Redis, trusted proxies, failing open."""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from service.core.ratelimit import client_ip
from service.main import create_app
from tests.service.auth.conftest import PASSWORD, AuthSettings, new_email, signup
from tests.service.conftest import ServeApp

LOGIN = "/api/v1/auth/login"


def limited(**overrides: Any) -> dict[str, Any]:
    return {"RATE_LIMIT_ENABLED": True, **overrides}


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60


async def attempt(
    client: httpx.AsyncClient, email: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return await client.post(
        LOGIN, json={"email": email, "password": "wrong guess!"}, headers=headers
    )


async def test_login_is_limited_per_ip(auth_settings: AuthSettings, serve: ServeApp) -> None:
    app = create_app(auth_settings(**limited(RATE_LIMIT_LOGIN_IP="3/minute")))
    async with serve(app) as c:
        for _ in range(3):
            assert (await attempt(c, new_email())).status_code == 401
        assert_rate_limited(await attempt(c, new_email()))
        # Even a malformed body is counted against the address, before it is parsed.
        response = await c.post(LOGIN, content=b"{}", headers={"Content-Type": "application/json"})
        assert_rate_limited(response)


async def test_login_is_limited_per_email(auth_settings: AuthSettings, serve: ServeApp) -> None:
    app = create_app(auth_settings(**limited(RATE_LIMIT_LOGIN_EMAIL="2/minute")))
    async with serve(app) as c:
        target = new_email("target")
        assert (await attempt(c, target)).status_code == 401
        assert (await attempt(c, target.upper())).status_code == 401
        assert_rate_limited(await attempt(c, f"  {target}"))
        assert (await attempt(c, new_email())).status_code == 401


async def test_signup_and_refresh_are_limited(auth_settings: AuthSettings, serve: ServeApp) -> None:
    app = create_app(
        auth_settings(
            **limited(RATE_LIMIT_SIGNUP_IP="2/minute", RATE_LIMIT_REFRESH_TOKEN="1/minute")
        )
    )
    async with serve(app) as c:
        first = await signup(c)
        await signup(c)
        blocked = await c.post(
            "/api/v1/auth/signup",
            json={"email": new_email(), "password": PASSWORD, "full_name": "X", "role": "local"},
        )
        assert_rate_limited(blocked)
        token = {"refresh_token": first["refresh_token"]}
        assert (await c.post("/api/v1/auth/refresh", json=token)).status_code == 200
        assert_rate_limited(await c.post("/api/v1/auth/refresh", json=token))


async def test_signup_is_limited_per_email(auth_settings: AuthSettings, serve: ServeApp) -> None:
    app = create_app(auth_settings(**limited(RATE_LIMIT_SIGNUP_EMAIL="1/minute")))
    async with serve(app) as c:
        email = new_email()
        await signup(c, email=email)
        again = await c.post(
            "/api/v1/auth/signup",
            json={"email": email, "password": PASSWORD, "full_name": "X", "role": "local"},
        )
        assert_rate_limited(again)


async def test_forwarded_for_is_ignored_from_untrusted_peers(
    auth_settings: AuthSettings, serve: ServeApp
) -> None:
    app = create_app(auth_settings(**limited(RATE_LIMIT_LOGIN_IP="2/minute")))
    async with serve(app) as c:
        assert (await attempt(c, new_email(), "198.51.100.1")).status_code == 401
        assert (await attempt(c, new_email(), "198.51.100.2")).status_code == 401
        assert_rate_limited(await attempt(c, new_email(), "198.51.100.3"))


async def test_forwarded_for_is_honoured_from_trusted_proxies(
    auth_settings: AuthSettings, serve: ServeApp
) -> None:
    app = create_app(
        auth_settings(**limited(RATE_LIMIT_LOGIN_IP="2/minute", TRUSTED_PROXIES="127.0.0.0/8"))
    )
    async with serve(app) as c:
        for _ in range(2):
            assert (await attempt(c, new_email(), "198.51.100.1")).status_code == 401
        assert_rate_limited(await attempt(c, new_email(), "198.51.100.1"))
        # Another client behind the same proxy has its own budget; a spoofed left-most
        # entry does not help the first one.
        assert (await attempt(c, new_email(), "198.51.100.2")).status_code == 401
        assert_rate_limited(await attempt(c, new_email(), "203.0.113.9, 198.51.100.1"))


def fake_request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


TRUSTED = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("192.0.2.7", "198.51.100.1", "192.0.2.7"),  # untrusted peer: header ignored
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, 10.0.0.5", "198.51.100.1"),  # two of our proxies
        ("10.0.0.2", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # spoofed left part ignored
        ("10.0.0.2", "garbage, 10.0.0.9", "10.0.0.9"),  # malformed hop: stop at our last
        ("10.0.0.2", "10.0.0.3", "10.0.0.3"),  # all trusted: the furthest one
        ("::1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(peer: str, forwarded: str | None, expected: str) -> None:
    assert client_ip(fake_request(peer, forwarded), TRUSTED) == expected


def test_client_ip_without_trusted_proxies_is_the_peer() -> None:
    assert client_ip(fake_request("10.0.0.2", "198.51.100.1"), []) == "10.0.0.2"


async def test_limits_are_shared_through_redis(
    auth_settings: AuthSettings, serve: ServeApp, redis_url: str
) -> None:
    """Two app instances (two service processes, in effect) count in the same Redis."""
    prefix = f"lg-test-{uuid.uuid4().hex}"
    settings = auth_settings(
        **limited(REDIS_URL=redis_url, RATE_LIMIT_KEY_PREFIX=prefix, RATE_LIMIT_LOGIN_IP="3/minute")
    )
    async with serve(create_app(settings)) as one, serve(create_app(settings)) as two:
        assert (await attempt(one, new_email())).status_code == 401
        assert (await attempt(two, new_email())).status_code == 401
        assert (await attempt(one, new_email())).status_code == 401
        assert_rate_limited(await attempt(two, new_email()))
        assert_rate_limited(await attempt(one, new_email()))
    # The keys really are in Redis, under our prefix.
    import coredis  # noqa: PLC0415

    redis = coredis.Redis.from_url(redis_url)
    keys: list[str | bytes] = [key async for key in redis.scan_iter(match=f"{prefix}*")]
    assert keys, "expected rate-limit keys in Redis"
    await redis.delete(keys)


async def test_an_unreachable_redis_fails_open(
    auth_settings: AuthSettings, serve: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    settings = auth_settings(
        **limited(REDIS_URL="redis://127.0.0.1:1/0", RATE_LIMIT_LOGIN_IP="1/minute")
    )
    async with serve(create_app(settings)) as c:
        for _ in range(3):
            assert (await attempt(c, new_email())).status_code == 401
    assert any("fail open" in record.getMessage() for record in caplog.records)


async def test_a_silent_redis_fails_open_quickly(
    auth_settings: AuthSettings, serve: ServeApp, caplog: pytest.LogCaptureFixture
) -> None:
    """A Redis that accepts connections and never answers (a real listening socket that
    reads nothing) must not hang logins: each request waits STORAGE_TIMEOUT_S at most."""
    accepted: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = auth_settings(
        **limited(REDIS_URL=f"redis://127.0.0.1:{port}/0", RATE_LIMIT_LOGIN_IP="1/minute")
    )
    try:
        async with serve(create_app(settings)) as c:
            for _ in range(2):
                response = await asyncio.wait_for(attempt(c, new_email()), timeout=10)
                assert response.status_code == 401
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert accepted, "the service never connected to the silent Redis"
    assert any("fail open" in record.getMessage() for record in caplog.records)
