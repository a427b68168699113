"""The one place routers are mounted. Everything here is served under `/api/v1`.

A new capability adds its package (`service/auth/`, `service/matching/`, `service/uploads/`)
with a `router`, and one `include_router` line below.
"""

from __future__ import annotations

from fastapi import APIRouter

from service import auth, health, matching, uploads
from service.core.errors import error_responses

API_PREFIX = "/api/v1"

# The auth routes take small JSON bodies (an email, a password, a name: well under 2 KB).
# Anything past this is refused (413 body_too_large) as it streams in, before it is parsed
# or counted against a rate limit: a 400 MB login body used to take 1.3 GB of memory.
# Uploads stream their bodies with their own per-kind limits (service/uploads/body.py).
JSON_BODY_LIMIT_BYTES = 64 * 1024
AUTH_PATH_PREFIX = f"{API_PREFIX}{auth.router.prefix}/"

# Every route can fail with the 500 envelope; say so once for the whole API.
api_router = APIRouter(responses=error_responses(500))
api_router.include_router(health.router)
api_router.include_router(auth.router, max_body_size=JSON_BODY_LIMIT_BYTES)
api_router.include_router(matching.router)
api_router.include_router(uploads.router)
