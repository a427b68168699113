"""App factory. `uvicorn service.main:app` runs with no environment (ENV=development)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api import API_PREFIX, AUTH_PATH_PREFIX, JSON_BODY_LIMIT_BYTES, api_router
from service.auth import jwks_router
from service.core.config import Settings, get_settings
from service.core.db import create_pool
from service.core.errors import install_error_handlers
from service.core.logging import configure_logging
from service.core.middleware import install_middleware
from service.core.ratelimit import RateLimiter
from service.openapi import install_openapi
from service.storage import build_storage
from service.storage import dev_routes as storage_dev_routes

# Spread connections across uvicorn workers. The workers share one listening socket, and
# libuv (under uvloop) accepts every pending connection in one go, so a burst of keep-alive
# clients all lands on one worker while the other idles (measured with `scripts/bench auth`:
# one worker at 92% CPU, the other at 0%). With this set, a worker accepts one connection
# at a time and yields, so the next goes to whichever worker is waiting. Read by libuv when
# the worker starts listening, which is after this import.
os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.LOG_LEVEL)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # open() does not wait for connections: the app starts while the database is down and
        # /health reports it, rather than crash-looping.
        pool = create_pool(settings)
        await pool.open()
        app.state.pool = pool
        app.state.rate_limiter = RateLimiter.from_settings(settings)
        app.state.storage = build_storage(settings)
        try:
            yield
        finally:
            if app.state.storage is not None:
                await app.state.storage.aclose()
            app.state.storage = None
            app.state.pool = None
            await app.state.rate_limiter.close()
            app.state.rate_limiter = None
            await pool.close()

    app = FastAPI(
        title="LocalGhost",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.pool = None
    app.state.storage = None
    install_error_handlers(app)
    install_middleware(app, settings, json_body_limit=(AUTH_PATH_PREFIX, JSON_BODY_LIMIT_BYTES))
    app.include_router(api_router, prefix=API_PREFIX)
    # Where JWKS clients look first (Supabase serves it under /auth/v1 as well).
    app.include_router(jwks_router("get_jwks"))
    if settings.ENV == "development" and settings.STORAGE_BACKEND == "local":
        # Read-only, so the URLs the upload endpoints return work on a laptop.
        app.include_router(storage_dev_routes.router)
    install_openapi(app)
    return app


app = create_app()
