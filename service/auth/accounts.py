"""Accounts: signup, login (with lockout), password change, deletion, and what /me shows.

Credentials and sessions are `private` and written on the service's own connection; the
person's public rows are written or read in the same transaction through `acting_as`, as the
service role (signup, deletion) or as the user (login, /me), so RLS stays the authority.

Lockout (per account, in Postgres so every instance agrees): after LOGIN_LOCKOUT_THRESHOLD
failures within LOGIN_FAILURE_WINDOW_S, logins are refused for
    min(LOGIN_LOCKOUT_BASE_S * 2 ** (failures - threshold), LOGIN_LOCKOUT_MAX_S) seconds
(defaults: 5 failures, then 15 s, 30 s, 60 s ... capped at 15 min). An attacker cannot lock a
user out indefinitely: a lock never lasts longer than the cap, attempts made while locked are
not counted and cannot extend it, the count is forgotten after the failure window, a correct
password once the window has passed clears it, and existing sessions keep refreshing
throughout (the lock only gates password checks). The price for an attacker is one guess per
lock period. During a lock the answer is the usual 401 `invalid_credentials`, after the same
password hashing work, so a lock reveals nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation

from service.auth.deps import AuthKit, AuthUser, invalid_token
from service.auth.passwords import check_new_password
from service.auth.schemas import AuthUser as AuthUserOut
from service.auth.schemas import (
    LocalProfile,
    MeResponse,
    Profile,
    SignupRequest,
    TokenResponse,
)
from service.auth.sessions import (
    LogoutScope,
    live_session_account,
    revoke_sessions,
    start_session,
)
from service.core.config import Settings
from service.core.db import SERVICE_CLAIMS, Pool, acting_as, pipelined_read, postgrest_preamble
from service.core.errors import AppError


def invalid_credentials() -> AppError:
    # One message for unknown email, wrong password and locked account (Supabase's wording).
    return AppError(401, "invalid_credentials", "Invalid login credentials")


@dataclass(frozen=True)
class Identity:
    account_id: uuid.UUID
    session_id: uuid.UUID
    email: str
    role: str
    full_name: str


def base_claims(account_id: uuid.UUID, session_id: uuid.UUID, email: str) -> dict[str, Any]:
    return {
        "sub": str(account_id),
        "role": "authenticated",
        "aud": "authenticated",
        "session_id": str(session_id),
        "email": email,
    }


def token_response(kit: AuthKit, identity: Identity, refresh_token: str) -> TokenResponse:
    claims = {
        **base_claims(identity.account_id, identity.session_id, identity.email),
        "is_anonymous": False,
        "aal": "aal1",
        "app_metadata": {
            "provider": "email",
            "providers": ["email"],
            "user_role": identity.role,
        },
        "user_metadata": {"full_name": identity.full_name},
    }
    claims.pop("aud")  # the codec sets iss/aud/iat/exp itself
    issued = kit.tokens.issue(claims)
    return TokenResponse(
        access_token=issued.token,
        expires_in=issued.expires_in,
        expires_at=issued.expires_at,
        refresh_token=refresh_token,
        user=AuthUserOut(
            id=identity.account_id,
            email=identity.email,
            role=identity.role,
            full_name=identity.full_name,
        ),
    )


async def _read_identity(
    conn: AsyncConnection[Any], account_id: uuid.UUID, session_id: uuid.UUID, email: str
) -> Identity | None:
    """The profile fields a token carries, read as the user through RLS."""
    async with acting_as(conn, base_claims(account_id, session_id, email)):
        cur = await conn.execute(
            "select role::text as role, full_name from public.profiles where id = %s",
            [account_id],
        )
        row = await cur.fetchone()
    if row is None:
        return None
    return Identity(account_id, session_id, email, row["role"], row["full_name"])


# --------------------------------------------------------------------------------------
# Signup and login
# --------------------------------------------------------------------------------------


async def signup(pool: Pool, kit: AuthKit, body: SignupRequest) -> TokenResponse:
    check_new_password(body.password)
    password_hash = await asyncio.to_thread(kit.passwords.hash, body.password)
    try:
        async with pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "insert into private.accounts (email, password_hash) values (%s, %s) returning id",
                [body.email, password_hash],
            )
            row = await cur.fetchone()
            assert row is not None
            account_id: uuid.UUID = row["id"]
            async with acting_as(conn, SERVICE_CLAIMS, path="/signup"):
                await conn.execute(
                    "insert into public.profiles (id, role, full_name) values (%s, %s, %s)",
                    [account_id, body.role, body.full_name],
                )
                if body.role == "local":
                    await conn.execute(
                        "insert into public.local_profiles (profile_id) values (%s)",
                        [account_id],
                    )
            session_id, refresh_token = await start_session(conn, account_id)
    except UniqueViolation:
        raise AppError(409, "email_taken", "An account with this email already exists") from None
    identity = Identity(account_id, session_id, body.email, body.role, body.full_name)
    return token_response(kit, identity, refresh_token)


_ACCOUNT_BY_EMAIL = """
select
    a.id,
    a.email,
    a.password_hash,
    coalesce(l.locked_until > now(), false) as locked,
    l.account_id is not null as has_failures
from private.accounts as a
left join private.login_lockouts as l on a.id = l.account_id
where lower(a.email) = lower(%s)
"""


async def login(pool: Pool, kit: AuthKit, email: str, password: str) -> TokenResponse:
    async with pool.connection() as conn:
        account = await (await conn.execute(_ACCOUNT_BY_EMAIL, [email])).fetchone()
    if account is None:
        await asyncio.to_thread(kit.passwords.dummy_verify, password)
        raise invalid_credentials()
    ok, new_hash = await asyncio.to_thread(kit.passwords.verify, account["password_hash"], password)
    if account["locked"]:
        raise invalid_credentials()
    if not ok:
        await record_failed_login(pool, account["id"], kit.settings)
        raise invalid_credentials()
    # One pipeline: the writes and the identity read cost two round trips, not eight.
    async with pool.connection() as conn, conn.pipeline(), conn.transaction():
        if account["has_failures"]:
            await conn.execute(
                "delete from private.login_lockouts where account_id = %s", [account["id"]]
            )
        if new_hash is not None:
            await conn.execute(
                "update private.accounts set password_hash = %s where id = %s",
                [new_hash, account["id"]],
            )
        session_id, refresh_token = await start_session(conn, account["id"])
        identity = await _read_identity(conn, account["id"], session_id, account["email"])
        if identity is None:  # An account without a profile cannot sign in.
            raise invalid_credentials()
    return token_response(kit, identity, refresh_token)


async def identity_for_session(
    pool: Pool, account_id: uuid.UUID, session_id: uuid.UUID
) -> Identity:
    """What a refreshed access token should say about the session's owner.

    Read-only and pipelined: three round trips (the email, the profile as the user, the
    commit) where a plain transaction takes six.
    """
    async with pool.connection() as conn, pipelined_read(conn):
        cur = await conn.execute("select email from private.accounts where id = %s", [account_id])
        row = await cur.fetchone()
        identity = None
        if row is not None:
            identity = await _read_identity(conn, account_id, session_id, row["email"])
    if identity is None:
        raise AppError(401, "invalid_refresh_token", "The refresh token is invalid or expired")
    return identity


def lockout_seconds(failures: int, settings: Settings) -> int | None:
    """How long the account locks after `failures` consecutive failures (None: no lock)."""
    if failures < settings.LOGIN_LOCKOUT_THRESHOLD:
        return None
    exponent = min(failures - settings.LOGIN_LOCKOUT_THRESHOLD, 32)
    return int(min(settings.LOGIN_LOCKOUT_BASE_S * 2**exponent, settings.LOGIN_LOCKOUT_MAX_S))


async def record_failed_login(pool: Pool, account_id: uuid.UUID, settings: Settings) -> None:
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            "insert into private.login_lockouts (account_id) values (%s)"
            " on conflict (account_id) do nothing",
            [account_id],
        )
        cur = await conn.execute(
            "select failed_count, last_failed_at, locked_until, now() as now"
            " from private.login_lockouts where account_id = %s for update",
            [account_id],
        )
        state = await cur.fetchone()
        assert state is not None
        now: datetime = state["now"]
        if state["locked_until"] is not None and state["locked_until"] > now:
            return  # Attempts during a lock do not count (they must not extend it).
        window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_S)
        last: datetime | None = state["last_failed_at"]
        failures = 1 if last is None or now - last > window else state["failed_count"] + 1
        seconds = lockout_seconds(failures, settings)
        locked_until = now + timedelta(seconds=seconds) if seconds else None
        await conn.execute(
            "update private.login_lockouts"
            " set failed_count = %s, last_failed_at = %s, locked_until = %s"
            " where account_id = %s",
            [failures, now, locked_until, account_id],
        )


# --------------------------------------------------------------------------------------
# Signed-in actions
# --------------------------------------------------------------------------------------


async def _verified_account(
    pool: Pool, kit: AuthKit, user: AuthUser, password: str
) -> dict[str, Any]:
    """The caller's live account, after checking `password` (with lockout) against it."""
    async with pool.connection() as conn:
        account = await live_session_account(conn, user.id, user.session_id)
    if account is None:
        raise invalid_token("The session has ended; sign in again")
    ok, _ = await asyncio.to_thread(kit.passwords.verify, account["password_hash"], password)
    if account["locked"]:
        raise invalid_credentials()
    if not ok:
        await record_failed_login(pool, user.id, kit.settings)
        raise invalid_credentials()
    return account


async def change_password(
    pool: Pool, kit: AuthKit, user: AuthUser, current_password: str, new_password: str
) -> None:
    check_new_password(new_password, field="new_password")
    await _verified_account(pool, kit, user, current_password)
    new_hash = await asyncio.to_thread(kit.passwords.hash, new_password)
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            "update private.accounts set password_hash = %s where id = %s", [new_hash, user.id]
        )
        await conn.execute("delete from private.login_lockouts where account_id = %s", [user.id])
        await revoke_sessions(conn, user.id, user.session_id, "others", "password_change")


async def delete_account(pool: Pool, kit: AuthKit, user: AuthUser, password: str) -> str | None:
    """Delete the account; returns the avatar path the profile pointed at (the caller
    removes the stored object once the rows are gone)."""
    await _verified_account(pool, kit, user, password)
    async with pool.connection() as conn, conn.transaction():
        # The public side first, as the service role: profile, local profile, card and
        # calendar go (cascade); content others see survives via `on delete set null`.
        async with acting_as(conn, SERVICE_CLAIMS, method="DELETE", path="/account"):
            cur = await conn.execute(
                "delete from public.profiles where id = %s returning avatar_path", [user.id]
            )
            row = await cur.fetchone()
        # Then the credentials; sessions, refresh tokens and lockout state cascade.
        await conn.execute("delete from private.accounts where id = %s", [user.id])
    return row["avatar_path"] if row else None


async def logout(pool: Pool, user: AuthUser, scope: LogoutScope) -> None:
    async with pool.connection() as conn, conn.transaction():
        # Ending other sessions needs a live one: a token of an ended session may not.
        if scope != "local" and (
            await live_session_account(conn, user.id, user.session_id) is None
        ):
            raise invalid_token("The session has ended; sign in again")
        await revoke_sessions(conn, user.id, user.session_id, scope, "logout")


# Text, not jsonb: pydantic parses it in one pass (`model_validate_json`), with no Python
# dicts built in between.
_ME_PROFILE = """
select
    to_jsonb(p)::text as profile,
    to_jsonb(lp)::text as local_profile
from public.profiles as p
left join public.local_profiles as lp on p.id = lp.profile_id
where p.id = %s
"""


_LIVE_SESSION_EMAIL = """
select a.email
from private.sessions as s
inner join private.accounts as a on s.account_id = a.id
where s.id = %s and s.account_id = %s and s.revoked_at is null
"""


async def me(pool: Pool, user: AuthUser) -> MeResponse:
    if user.session_id is None:
        raise invalid_token("The session has ended; sign in again")
    # The hottest read of the API: the session check (private, as the auth server), the
    # preamble and the profile read (as the user, through RLS) in one read-only transaction
    # and one round trip. The preamble is the transaction's last setting, so nothing after
    # it runs as anyone but the user.
    preamble, params = postgrest_preamble(user.claims, "GET", "/me")
    async with pool.connection() as conn:
        async with pipelined_read(conn):
            session_cur = await conn.execute(_LIVE_SESSION_EMAIL, [user.session_id, user.id])
            await conn.execute(preamble, params)
            profile_cur = await conn.execute(_ME_PROFILE, [user.id])
        account = await session_cur.fetchone()
        row = await profile_cur.fetchone()
    if account is None:
        raise invalid_token("The session has ended; sign in again")
    if row is None:
        raise invalid_token("The account no longer exists")
    profile = Profile.model_validate_json(row["profile"])
    local = row["local_profile"]
    return MeResponse(
        user=AuthUserOut(
            id=user.id, email=account["email"], role=profile.role, full_name=profile.full_name
        ),
        profile=profile,
        local_profile=LocalProfile.model_validate_json(local) if local else None,
    )
