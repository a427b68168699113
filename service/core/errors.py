"""One error shape for the whole API: `{"error": {"code", "message", "details"}}`.

Clients branch on `code` (stable snake_case), show `message`, and may read `details`. Nothing
internal (tracebacks, SQL, input values) ever reaches the body; it goes to the log instead,
tagged with the request id the client also sees.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import OperationalError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("localghost.errors")

# How long a client should wait before retrying when the database is away.
_DB_RETRY_AFTER_S = "5"


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class AppError(Exception):
    """Raise from any route to answer with the envelope; subclass per capability if useful."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers) if headers else None


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorEnvelope(error=ErrorBody(code=code, message=message, details=details))
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the envelope for the given status codes."""
    return {
        status: {"model": ErrorEnvelope, "description": HTTPStatus(status).phrase}
        for status in status_codes
    }


def _code_for_status(status_code: int) -> str:
    return {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
        status_code, f"http_{status_code}"
    )


async def _handle_app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


def _is_unparseable_json_body(exc: HTTPException) -> bool:
    # FastAPI answers a JSON body that is not valid JSON with a 422 (`json_invalid`), but any
    # other failure to parse it with a bare 400: bytes that are not text (UnicodeDecodeError),
    # a number past Python's digit limit (ValueError), nesting past the recursion limit
    # (RecursionError). All are the same client mistake, so all get the documented 422
    # `validation_error`. The cause says the 400 came from parsing the body.
    return exc.status_code == 400 and isinstance(exc.__cause__, (ValueError, RecursionError))


async def _handle_http_exception(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if _is_unparseable_json_body(exc):
        not_json = [{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}]
        return error_response(422, "validation_error", "Request validation failed", not_json)
    phrase = HTTPStatus(exc.status_code).phrase
    # A string detail is a message; anything richer is data for `details`.
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else phrase
    details = None if isinstance(exc.detail, str) else exc.detail
    code = _code_for_status(exc.status_code)
    return error_response(exc.status_code, code, message, details, exc.headers)


async def _handle_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Deliberately drop `input` and `ctx`: they echo what the client sent (maybe a password).
    details = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    return error_response(422, "validation_error", "Request validation failed", details)


async def _handle_database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    # PoolTimeout subclasses OperationalError, so an exhausted pool lands here too.
    logger.warning("database unavailable: %s", type(exc).__name__)
    return error_response(
        503,
        "database_unavailable",
        "The database is temporarily unavailable",
        headers={"Retry-After": _DB_RETRY_AFTER_S},
    )


def internal_error_response(exc: BaseException) -> JSONResponse:
    logger.error("unhandled exception", exc_info=exc)
    return error_response(500, "internal_error", "Internal server error")


async def _handle_unhandled(_: Request, exc: Exception) -> JSONResponse:
    return internal_error_response(exc)


class UnhandledErrorMiddleware:
    """Turn escaped exceptions into the 500 envelope *inside* the middleware stack.

    Starlette's own 500 handler runs outermost, so its response would miss the request id,
    security and CORS headers, and it re-raises into the server log a second time.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # Too late to change the status; let the server drop the connection.
                raise
            await internal_error_response(exc)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(HTTPException, _handle_http_exception)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(OperationalError, _handle_database_unavailable)
    # Last resort for anything raised outside UnhandledErrorMiddleware (an outer middleware).
    app.add_exception_handler(Exception, _handle_unhandled)
