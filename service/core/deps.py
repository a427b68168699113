"""Typed dependencies, declared once so route signatures read like sentences."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.core.config import Settings
from service.core.db import Pool


async def get_app_settings(request: Request) -> Settings:
    # async: a plain `def` dependency would hop to the thread pool on every request.
    # Per-app rather than `get_settings()`: a test app built with its own Settings sees them.
    settings: Settings = request.app.state.settings
    return settings


async def get_pool(request: Request) -> Pool:
    pool: Pool | None = getattr(request.app.state, "pool", None)
    if pool is None:
        raise RuntimeError("database pool is not open; was the app lifespan started?")
    return pool


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
PoolDep = Annotated[Pool, Depends(get_pool)]
