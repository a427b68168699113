"""Request ids, security headers, CORS and the JSON access log."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from fastapi import FastAPI

from service.core.config import Settings
from service.core.logging import JsonFormatter, request_id_var
from service.main import create_app

ServeApp = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
ALLOWED = "http://localhost:3000"


async def test_sane_request_id_is_echoed(service_client: httpx.AsyncClient) -> None:
    response = await service_client.get("/api/v1/health", headers={"X-Request-ID": "abc.DEF-1_2"})
    assert response.headers["X-Request-ID"] == "abc.DEF-1_2"


async def test_request_id_is_generated_when_absent(service_client: httpx.AsyncClient) -> None:
    first = (await service_client.get("/api/v1/health")).headers["X-Request-ID"]
    second = (await service_client.get("/api/v1/health")).headers["X-Request-ID"]
    assert len(first) == 32
    assert first != second


@pytest.mark.parametrize("bad", ["a" * 65, "has space", 'quote"d', "new\\nline", "ünï"])
async def test_insane_request_id_is_replaced(service_client: httpx.AsyncClient, bad: str) -> None:
    headers = [(b"X-Request-ID", bad.encode())]
    response = await service_client.get("/api/v1/health", headers=headers)
    echoed = response.headers["X-Request-ID"]
    assert echoed != bad
    assert len(echoed) == 32


async def test_security_headers_without_hsts_outside_production(
    service_client: httpx.AsyncClient,
) -> None:
    headers = (await service_client.get("/api/v1/nowhere")).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers


async def test_hsts_in_production(make_settings: Callable[..., Settings], serve: ServeApp) -> None:
    async with serve(create_app(make_settings(ENV="production"))) as client:
        headers = (await client.get("/api/v1/health")).headers
    assert headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"


async def test_cors_preflight_allows_configured_origin(service_client: httpx.AsyncClient) -> None:
    response = await service_client.options(
        "/api/v1/health",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_cors_preflight_refuses_other_origin(service_client: httpx.AsyncClient) -> None:
    response = await service_client.options(
        "/api/v1/health",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_cors_exposes_request_id(service_client: httpx.AsyncClient) -> None:
    response = await service_client.get("/api/v1/health", headers={"Origin": ALLOWED})
    exposed = response.headers["Access-Control-Expose-Headers"].lower()
    assert "x-request-id" in exposed
    assert "retry-after" in exposed


async def test_access_log_is_one_json_line_with_request_id(
    service_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="localghost.access")
    await service_client.get("/api/v1/health?token=leak", headers={"X-Request-ID": "log-me-1"})
    records = [r for r in caplog.records if getattr(r, "request_id", None) == "log-me-1"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "log-me-1"
    assert entry["logger"] == "localghost.access"
    assert entry["level"] == "INFO"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/api/v1/health", 200)
    assert isinstance(entry["duration_ms"], float)
    assert "leak" not in line
    assert {"ts", "msg"} <= set(entry)


def test_formatter_reads_request_id_from_context() -> None:
    token = request_id_var.set("ctx-42")
    try:
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hi %s", ("there",), None)
        entry = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert (entry["msg"], entry["request_id"], entry["level"]) == ("hi there", "ctx-42", "WARNING")
