"""Who is calling: `CurrentUser` for any route that needs a signed-in person.

`CurrentUser` only verifies the bearer token (signature, algorithm, exp/nbf, aud, iss, role,
sub), exactly what PostgREST does, so every capability can use it without a database round
trip. Routes that act on the session itself (logout, password, account, /me) additionally
check in Postgres that the session is still alive.

Dependencies are `async def` on purpose: FastAPI runs plain `def` ones in a thread pool,
which costs more than the little work they do.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.core.config import Settings
from service.core.deps import SettingsDep
from service.core.errors import AppError
from service.core.ratelimit import RateLimiter, client_ip
from service.core.security import InvalidToken, Passwords, RefreshTokenDeriver, TokenCodec

logger = logging.getLogger("localghost.auth")

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/login")


@dataclass(frozen=True)
class AuthUser:
    """A verified caller: the user's id, their session and the claims RLS will see."""

    id: uuid.UUID
    session_id: uuid.UUID | None
    claims: dict[str, Any] = field(repr=False)

    @property
    def email(self) -> str | None:
        email = self.claims.get("email")
        return email if isinstance(email, str) else None


class AuthKit:
    """The per-app auth machinery built from its settings (keys, hasher, refresh chain)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tokens = TokenCodec(settings)
        self.passwords = Passwords(settings)
        self.refresh_chain = RefreshTokenDeriver(settings)


async def get_auth_kit(request: Request, settings: SettingsDep) -> AuthKit:
    kit: AuthKit | None = getattr(request.app.state, "auth_kit", None)
    if kit is None or kit.settings is not settings:
        kit = AuthKit(settings)
        request.app.state.auth_kit = kit
    return kit


async def get_rate_limiter(request: Request, settings: SettingsDep) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        # Apps run without their lifespan (some tests) still get a working, per-process one.
        limiter = RateLimiter.from_settings(settings)
        request.app.state.rate_limiter = limiter
    return limiter


async def get_client_ip(request: Request, settings: SettingsDep) -> str:
    return client_ip(request, settings.TRUSTED_PROXIES)


AuthKitDep = Annotated[AuthKit, Depends(get_auth_kit)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
ClientIP = Annotated[str, Depends(get_client_ip)]


def invalid_token(message: str = "The access token is missing, invalid or expired") -> AppError:
    return AppError(
        401, "invalid_token", message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


async def get_current_user(
    kit: AuthKitDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AuthUser:
    if credentials is None:
        raise AppError(
            401,
            "invalid_token",
            "A bearer access token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        claims = kit.tokens.verify(credentials.credentials)
    except InvalidToken as exc:
        logger.info("bearer token refused", extra={"reason": str(exc)})
        raise invalid_token() from None
    session_id: uuid.UUID | None = None
    raw_session = claims.get("session_id")
    if raw_session is not None:
        try:
            session_id = uuid.UUID(str(raw_session))
        except ValueError:
            raise invalid_token() from None
    return AuthUser(id=uuid.UUID(str(claims["sub"])), session_id=session_id, claims=claims)


CurrentUser = Annotated[AuthUser, Depends(get_current_user)]
