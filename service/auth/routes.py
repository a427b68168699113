"""The auth API under `/api/v1/auth`, plus the JWKS document (also served at the root)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from service.auth import accounts
from service.auth.deps import AuthKitDep, ClientIP, CurrentUser, RateLimiterDep
from service.auth.schemas import (
    DeleteAccountRequest,
    JsonWebKeySet,
    LoginRequest,
    LogoutRequest,
    MeResponse,
    PasswordChangeRequest,
    RefreshRequest,
    SignupRequest,
    TokenResponse,
)
from service.auth.sessions import LogoutScope, rotate_refresh_token
from service.core.deps import PoolDep, SettingsDep
from service.core.errors import error_responses
from service.core.ratelimit import Limit
from service.storage.avatars import forget_avatar

router = APIRouter(prefix="/auth", tags=["auth"])

JWKS_PATH = "/.well-known/jwks.json"


@lru_cache(maxsize=64)
def _limit(name: str, spec: str) -> Limit:
    return Limit.parse(name, spec)


async def _limit_signup_ip(settings: SettingsDep, limiter: RateLimiterDep, ip: ClientIP) -> None:
    await limiter.check(_limit("signup_ip", settings.RATE_LIMIT_SIGNUP_IP), ip)


async def _limit_login_ip(settings: SettingsDep, limiter: RateLimiterDep, ip: ClientIP) -> None:
    await limiter.check(_limit("login_ip", settings.RATE_LIMIT_LOGIN_IP), ip)


async def _limit_refresh_ip(settings: SettingsDep, limiter: RateLimiterDep, ip: ClientIP) -> None:
    await limiter.check(_limit("refresh_ip", settings.RATE_LIMIT_REFRESH_IP), ip)


@router.post(
    "/signup",
    operation_id="auth_signup",
    summary="Create an account and its profile; returns a session",
    status_code=201,
    response_model=TokenResponse,
    dependencies=[Depends(_limit_signup_ip)],
    responses=error_responses(409, 422, 429),
)
async def signup(
    body: SignupRequest,
    pool: PoolDep,
    kit: AuthKitDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> TokenResponse:
    await limiter.check(_limit("signup_email", settings.RATE_LIMIT_SIGNUP_EMAIL), body.email)
    return await accounts.signup(pool, kit, body)


@router.post(
    "/login",
    operation_id="auth_login",
    summary="Sign in with email and password",
    response_model=TokenResponse,
    dependencies=[Depends(_limit_login_ip)],
    responses=error_responses(401, 422, 429),
)
async def login(
    body: LoginRequest,
    pool: PoolDep,
    kit: AuthKitDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> TokenResponse:
    await limiter.check(_limit("login_email", settings.RATE_LIMIT_LOGIN_EMAIL), body.email)
    return await accounts.login(pool, kit, body.email, body.password)


@router.post(
    "/refresh",
    operation_id="auth_refresh",
    summary="Exchange a refresh token for a new token pair (rotation)",
    response_model=TokenResponse,
    dependencies=[Depends(_limit_refresh_ip)],
    responses=error_responses(401, 422, 429),
)
async def refresh(
    body: RefreshRequest,
    pool: PoolDep,
    kit: AuthKitDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> TokenResponse:
    token_key = hashlib.sha256(body.refresh_token.encode()).hexdigest()[:32]
    await limiter.check(_limit("refresh_token", settings.RATE_LIMIT_REFRESH_TOKEN), token_key)
    rotation = await rotate_refresh_token(
        pool,
        body.refresh_token,
        kit.refresh_chain,
        ttl_days=settings.REFRESH_TOKEN_TTL_DAYS,
        grace_s=settings.REFRESH_REUSE_INTERVAL_S,
    )
    identity = await accounts.identity_for_session(pool, rotation.account_id, rotation.session_id)
    return accounts.token_response(kit, identity, rotation.refresh_token)


@router.post(
    "/logout",
    operation_id="auth_logout",
    summary="End this session (local), the other sessions (others) or all of them (global)",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 422),
)
async def logout(
    user: CurrentUser,
    pool: PoolDep,
    body: Annotated[LogoutRequest | None, Body()] = None,
    scope: Annotated[LogoutScope | None, Query(description="Overrides the body's scope")] = None,
) -> Response:
    await accounts.logout(pool, user, scope or (body or LogoutRequest()).scope)
    return Response(status_code=204)


@router.get(
    "/me",
    operation_id="auth_me",
    summary="The signed-in user and their profile",
    response_model=MeResponse,
    responses=error_responses(401),
)
async def me(user: CurrentUser, pool: PoolDep) -> MeResponse:
    return await accounts.me(pool, user)


@router.post(
    "/password",
    operation_id="auth_change_password",
    summary="Change the password; ends every other session",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 422),
)
async def change_password(
    body: PasswordChangeRequest, user: CurrentUser, pool: PoolDep, kit: AuthKitDep
) -> Response:
    await accounts.change_password(pool, kit, user, body.current_password, body.new_password)
    return Response(status_code=204)


@router.delete(
    "/account",
    operation_id="auth_delete_account",
    summary="Delete the account, its sessions and its profile",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 422),
)
async def delete_account(
    request: Request, body: DeleteAccountRequest, user: CurrentUser, pool: PoolDep, kit: AuthKitDep
) -> Response:
    avatar_path = await accounts.delete_account(pool, kit, user, body.password)
    # After the rows are gone, so a failure here can leave an orphaned file but never a
    # profile pointing at a missing one.
    storage = getattr(request.app.state, "storage", None)
    if avatar_path and storage is not None:
        await forget_avatar(storage, user.id, avatar_path)
    return Response(status_code=204)


def jwks_router(operation_id: str) -> APIRouter:
    """The JWKS route; mounted twice (root and /api/v1/auth), so each gets its own id."""
    jwks = APIRouter(tags=["auth"])

    @jwks.get(
        JWKS_PATH,
        operation_id=operation_id,
        summary="Public keys that verify our access tokens (empty with a shared secret)",
        response_model=JsonWebKeySet,
    )
    async def get_jwks(kit: AuthKitDep, response: Response) -> dict[str, Any]:
        response.headers["Cache-Control"] = "public, max-age=600"
        return kit.tokens.jwks()

    return jwks


router.include_router(jwks_router("auth_get_jwks"))
