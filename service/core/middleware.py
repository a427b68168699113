"""HTTP hardening applied to every response, and the order the middleware runs in."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.config import Settings
from service.core.errors import UnhandledErrorMiddleware, error_response
from service.core.logging import REQUEST_ID_HEADER, RequestIdMiddleware

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Only in production: HSTS on a dev box pins localhost to https for two years.
HSTS_HEADER = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")

CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_HEADERS = ["Authorization", "Content-Type", REQUEST_ID_HEADER]
CORS_EXPOSED = [REQUEST_ID_HEADER, "Retry-After"]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if hsts:
            self.headers[HSTS_HEADER[0]] = HSTS_HEADER[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class DeclaredBodyLimitMiddleware:
    """413 `body_too_large` for a request under `prefix` whose declared Content-Length is over
    `max_bytes`, before a byte of it is read. A body streamed without a length is cut off by
    the routes' own `max_body_size` (FastAPI), whose 413 reaches the same envelope; this
    covers the declared case, where Starlette would answer in plain text."""

    def __init__(self, app: ASGIApp, *, prefix: str, max_bytes: int) -> None:
        self.app = app
        self.prefix = prefix
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
                response = error_response(
                    413,
                    "body_too_large",
                    f"The request body is over {self.max_bytes // 1024} KB",
                    {"max_bytes": self.max_bytes},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install_middleware(
    app: FastAPI, settings: Settings, *, json_body_limit: tuple[str, int] | None = None
) -> None:
    """Outermost first: request id → security headers → CORS → 500 envelope → body limit →
    routes.

    Starlette wraps the *last added* middleware outermost, hence the reversed add order. Every
    response, including a 500 or a CORS preflight, thereby carries the id and the headers.
    """
    if json_body_limit is not None:
        prefix, max_bytes = json_body_limit
        app.add_middleware(DeclaredBodyLimitMiddleware, prefix=prefix, max_bytes=max_bytes)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.ALLOWED_ORIGINS,
        allow_credentials=True,
        allow_methods=CORS_METHODS,
        allow_headers=CORS_HEADERS,
        expose_headers=CORS_EXPOSED,
        max_age=600,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.ENV == "production")
    app.add_middleware(RequestIdMiddleware)
