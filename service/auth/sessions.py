"""Sessions and their refresh-token chains, in `private` on the service's own connection.

A session starts with one random refresh token. Each refresh uses the presented token up and
issues its child, derived from it (see `RefreshTokenDeriver`), so only digests are stored and
a retry can still be answered with the same child. The token row is locked (`for update`)
while it rotates: of two concurrent refreshes one rotates, the other waits, then finds the
token just used and gets the grace answer, the same child.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal, LiteralString

from psycopg import AsyncConnection

from service.core.db import Pool
from service.core.errors import AppError
from service.core.security import RefreshTokenDeriver, new_refresh_token, refresh_token_digest

LogoutScope = Literal["local", "others", "global"]


@dataclass(frozen=True)
class Rotation:
    account_id: uuid.UUID
    session_id: uuid.UUID
    refresh_token: str
    grace: bool


def invalid_refresh_token() -> AppError:
    return AppError(401, "invalid_refresh_token", "The refresh token is invalid or expired")


async def start_session(conn: AsyncConnection[Any], account_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    """A new session and its first refresh token (call inside the caller's transaction).

    The id is made here rather than by the column default, so nothing needs reading back and
    the statements can travel in the caller's pipeline.
    """
    session_id = uuid.uuid4()
    token = new_refresh_token()
    await conn.execute(
        "insert into private.sessions (id, account_id) values (%s, %s)", [session_id, account_id]
    )
    await conn.execute(
        "insert into private.refresh_tokens (session_id, token_hash) values (%s, %s)",
        [session_id, refresh_token_digest(token)],
    )
    return session_id, token


_SELECT_FOR_ROTATION = """
select
    t.id,
    t.used_at,
    s.id as session_id,
    s.account_id,
    s.revoked_at is not null as revoked,
    t.created_at < now() - make_interval(days => %(ttl_days)s) as expired,
    t.used_at > now() - make_interval(secs => %(grace_s)s) as within_grace
from private.refresh_tokens as t
inner join private.sessions as s on t.session_id = s.id
where t.token_hash = %(digest)s
for update of t
"""


async def rotate_refresh_token(
    pool: Pool,
    token: str,
    chain: RefreshTokenDeriver,
    *,
    ttl_days: int,
    grace_s: int,
) -> Rotation:
    """Use `token` up and return its child; raise 401 when it cannot be used.

    Reuse of anything but the just-rotated parent within the grace interval (an older token,
    a parent whose child was used already, or the parent after the interval) is treated as
    theft: the whole session is revoked, committed, and 401 `refresh_token_reused` raised.
    """
    child = chain.child_of(token)
    child_digest = refresh_token_digest(child)
    params = {"digest": refresh_token_digest(token), "ttl_days": ttl_days, "grace_s": grace_s}
    outcome: Rotation | Literal["invalid", "reused"]
    async with pool.connection() as conn, conn.transaction():
        row = await (await conn.execute(_SELECT_FOR_ROTATION, params)).fetchone()
        if row is None or row["revoked"] or row["expired"]:
            outcome = "invalid"
        elif row["used_at"] is None:
            # The three writes travel together (one round trip, then the commit).
            async with conn.pipeline():
                await conn.execute(
                    "update private.refresh_tokens set used_at = now() where id = %s", [row["id"]]
                )
                await conn.execute(
                    "insert into private.refresh_tokens (session_id, parent_id, token_hash)"
                    " values (%s, %s, %s)",
                    [row["session_id"], row["id"], child_digest],
                )
                await conn.execute(
                    "update private.sessions set refreshed_at = now() where id = %s",
                    [row["session_id"]],
                )
            outcome = Rotation(row["account_id"], row["session_id"], child, grace=False)
        else:
            current = await (
                await conn.execute(
                    "select token_hash, used_at from private.refresh_tokens where parent_id = %s",
                    [row["id"]],
                )
            ).fetchone()
            if (
                row["within_grace"]
                and current is not None
                and current["used_at"] is None
                and bytes(current["token_hash"]) == child_digest
            ):
                outcome = Rotation(row["account_id"], row["session_id"], child, grace=True)
            else:
                await conn.execute(
                    "update private.sessions"
                    " set revoked_at = now(), revoked_reason = 'refresh_token_reused'"
                    " where id = %s",
                    [row["session_id"]],
                )
                outcome = "reused"
    if outcome == "invalid":
        raise invalid_refresh_token()
    if outcome == "reused":
        raise AppError(
            401,
            "refresh_token_reused",
            "This refresh token was already used; the session has been ended",
        )
    return outcome


_REVOKE_BASE = (
    "update private.sessions set revoked_at = now(), revoked_reason = %(reason)s"
    " where account_id = %(account)s and revoked_at is null"
)
_REVOKE_SQL: dict[LogoutScope, LiteralString] = {
    "local": _REVOKE_BASE + " and id = %(current)s",
    "others": _REVOKE_BASE + " and id is distinct from %(current)s",
    "global": _REVOKE_BASE,
}


async def revoke_sessions(
    conn: AsyncConnection[Any],
    account_id: uuid.UUID,
    current_session: uuid.UUID | None,
    scope: LogoutScope,
    reason: str,
) -> int:
    """End sessions of `account_id`: this one (local), all but this one (others), or all."""
    cur = await conn.execute(
        _REVOKE_SQL[scope],
        {"reason": reason, "account": account_id, "current": current_session},
    )
    return cur.rowcount


async def live_session_account(
    conn: AsyncConnection[Any], account_id: uuid.UUID, session_id: uuid.UUID | None
) -> dict[str, Any] | None:
    """The account behind a session that has not ended (email, password hash, lock state)."""
    if session_id is None:
        return None
    cur = await conn.execute(
        "select a.id, a.email, a.password_hash,"
        " coalesce(l.locked_until > now(), false) as locked"
        " from private.sessions as s"
        " inner join private.accounts as a on s.account_id = a.id"
        " left join private.login_lockouts as l on l.account_id = a.id"
        " where s.id = %s and s.account_id = %s and s.revoked_at is null",
        [session_id, account_id],
    )
    row: dict[str, Any] | None = await cur.fetchone()
    return row
