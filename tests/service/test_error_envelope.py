"""Every failure, expected or not, answers with `{"error": {code, message, details}}`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from psycopg_pool import PoolTimeout
from pydantic import BaseModel

from service.core.config import Settings
from service.core.errors import AppError
from service.main import create_app

ServeApp = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
SECRET_INPUT = "hunter2-do-not-echo"


class Signup(BaseModel):
    email: str
    age: int


probe = APIRouter(prefix="/probe")


@probe.post("/signup")
async def signup(body: Signup) -> Signup:
    return body


@probe.get("/teapot")
async def teapot() -> None:
    raise AppError(418, "im_a_teapot", "Short and stout", {"spout": True})


@probe.get("/crash")
async def crash() -> None:
    raise RuntimeError("secret internals: password=hunter2")


@probe.get("/db-down")
async def db_down() -> None:
    raise PoolTimeout("couldn't get a connection after 5.00 sec")


@pytest.fixture(scope="module")
async def client(service_settings: Settings, serve: ServeApp) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service_settings)
    app.include_router(probe, prefix="/api/v1")
    async with serve(app) as client:
        yield client


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    error: dict[str, object] = body["error"]
    return error


async def test_unknown_path_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


async def test_wrong_method_is_method_not_allowed(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/health")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


async def test_validation_error_lists_fields_without_echoing_input(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/probe/signup", json={"email": SECRET_INPUT, "age": "x"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["details"] == [
        {
            "loc": ["body", "age"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
        }
    ]
    assert SECRET_INPUT not in response.text


async def test_app_error_keeps_its_status_code_and_details(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/probe/teapot")
    assert response.status_code == 418
    assert error_of(response) == {
        "code": "im_a_teapot",
        "message": "Short and stout",
        "details": {"spout": True},
    }


async def test_unhandled_exception_is_an_opaque_500_with_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/api/v1/probe/crash", headers={"X-Request-ID": "crash-1"})
    assert response.status_code == 500
    assert error_of(response) == {
        "code": "internal_error",
        "message": "Internal server error",
        "details": None,
    }
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    # Outer middleware still ran: the client can quote the id, and headers are present.
    assert response.headers["X-Request-ID"] == "crash-1"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    logged = [r for r in caplog.records if r.name == "localghost.errors"]
    assert logged
    assert logged[-1].exc_info is not None


async def test_database_unavailable_is_503(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/probe/db-down")
    assert response.status_code == 503
    assert error_of(response)["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "5"
