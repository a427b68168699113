"""The one place routers are mounted. Everything here is served under `/api/v1`.

A new capability adds its package (`service/auth/`, `service/matching/`, `service/uploads/`)
with a `router`, and one `include_router` line below.
"""

from __future__ import annotations

from fastapi import APIRouter

from service import auth, health, matching, uploads
from service.core.errors import error_responses

API_PREFIX = "/api/v1"

# Every route can fail with the 500 envelope; say so once for the whole API.
api_router = APIRouter(responses=error_responses(500))
api_router.include_router(health.router)
api_router.include_router(auth.router)
api_router.include_router(matching.router)
api_router.include_router(uploads.router)
