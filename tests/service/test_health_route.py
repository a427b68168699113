"""GET /api/v1/health reports the database honestly and quickly."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
from fastapi import FastAPI

from service.core.config import Settings
from service.main import create_app

ServeApp = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


async def test_health_ok_with_a_live_database(service_client: httpx.AsyncClient) -> None:
    response = await service_client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_degraded_quickly_when_database_is_down(
    make_settings: Callable[..., Settings], unreachable_database_url: str, serve: ServeApp
) -> None:
    app = create_app(make_settings(DATABASE_URL=unreachable_database_url))
    async with serve(app) as client:
        started = time.monotonic()
        response = await client.get("/api/v1/health")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "unavailable"}
    assert elapsed < 4


async def test_openapi_and_docs_are_served_under_api(service_client: httpx.AsyncClient) -> None:
    spec = (await service_client.get("/api/openapi.json")).json()
    operation = spec["paths"]["/api/v1/health"]["get"]
    assert operation["operationId"] == "get_health"
    assert {"200", "500", "503"} <= set(operation["responses"])
    assert (await service_client.get("/api/docs")).status_code == 200
