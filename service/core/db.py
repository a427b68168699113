"""Database access: one async pool, and transactions opened *as* a PostgREST request would.

Authorization lives in Postgres (RLS). The service never decides who may see a row; it opens a
transaction carrying the caller's role and JWT claims, exactly as PostgREST does, and lets the
policies answer. `postgrest_preamble` is the single source of that statement so the SQL test
harness and the service cannot drift apart.
"""

from __future__ import annotations

import contextlib
import json
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, LiteralString, TypeAlias

import psycopg
from psycopg import AsyncConnection
from psycopg.pq import PipelineStatus, TransactionStatus
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from service.core.config import Settings

Pool: TypeAlias = AsyncConnectionPool[AsyncConnection[DictRow]]

# The only roles a request may assume. Anything else (postgres, authenticator, a typo) is refused
# before it reaches SQL, so a forged `role` claim cannot escalate.
REQUEST_ROLES = frozenset({"anon", "authenticated", "service_role"})
SERVICE_CLAIMS: Mapping[str, Any] = {"role": "service_role"}
_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# A dead database should surface as a 503 quickly, not after psycopg's 5-minute default.
_RECONNECT_TIMEOUT_S = 5.0
_CONNECT_TIMEOUT_S = 3
_POOL_WAIT_TIMEOUT_S = 5.0

# Same statement, same order, as PostgREST's per-request preamble; everything is `is_local`
# so it dies with the transaction and can never leak to the next user of a pooled connection.
_PREAMBLE_SQL: LiteralString = (
    "select set_config('search_path', 'public, extensions', true),"
    " set_config('role', %s, true),"
    " set_config('request.jwt.claims', %s, true),"
    " set_config('request.method', %s, true),"
    " set_config('request.path', %s, true),"
    " set_config('request.headers', '{}', true)"
)


def create_pool(settings: Settings) -> Pool:
    """A closed pool; the app lifespan opens it (`await pool.open()`) and closes it."""
    return AsyncConnectionPool(
        settings.DATABASE_URL,
        connection_class=AsyncConnection[DictRow],
        # autocommit: every transaction is explicit (`as_user`), none is opened by accident.
        kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": _CONNECT_TIMEOUT_S},
        min_size=settings.DB_POOL_MIN_SIZE,
        max_size=settings.DB_POOL_MAX_SIZE,
        open=False,
        # No check on checkout: it costs a round trip on every request (measured with
        # `scripts/bench auth --quick`: /health went from 1,310 to 1,790 req/s without it).
        # A connection killed by a database restart fails its request with 503 and the pool,
        # seeing it broken, replaces it; idle ones are recycled after max_idle.
        max_idle=60,
        timeout=_POOL_WAIT_TIMEOUT_S,
        reconnect_timeout=_RECONNECT_TIMEOUT_S,
        name="localghost",
    )


def request_role(claims: Mapping[str, Any] | None) -> str:
    role = claims.get("role", "anon") if claims else "anon"
    if not isinstance(role, str) or role not in REQUEST_ROLES:
        raise ValueError(f"role {role!r} is not one of {sorted(REQUEST_ROLES)}")
    return role


def postgrest_preamble(
    claims: Mapping[str, Any] | None, method: str = "POST", path: str = "/"
) -> tuple[LiteralString, list[Any]]:
    """The statement (and its parameters) that makes a transaction look like a PostgREST request.

    Works with sync and async psycopg alike: `cur.execute(*postgrest_preamble(claims))`.
    """
    upper_method = method.upper()
    if upper_method not in _HTTP_METHODS:
        raise ValueError(f"method {method!r} is not an HTTP method")
    claims_json = json.dumps(dict(claims) if claims else {}, separators=(",", ":"))
    return _PREAMBLE_SQL, [request_role(claims), claims_json, upper_method, path]


@asynccontextmanager
async def as_user(
    pool_or_conn: Pool | AsyncConnection[Any],
    claims: Mapping[str, Any] | None,
    *,
    read_only: bool = False,
    method: str = "POST",
    path: str = "/",
) -> AsyncIterator[AsyncConnection[DictRow]]:
    """Run the body in one transaction as the caller: commit on success, roll back on error.

    A connection passed in must be idle (not inside a transaction), or the settings would
    outlive the block until the caller's own transaction ends.
    """
    # Validate first: a bad role must not even borrow a connection.
    statement, params = postgrest_preamble(claims, method, path)
    if isinstance(pool_or_conn, AsyncConnection):
        async with _transaction(pool_or_conn, statement, params, read_only) as conn:
            yield conn
    else:
        async with (
            pool_or_conn.connection() as pooled,
            _transaction(pooled, statement, params, read_only) as conn,
        ):
            yield conn


@asynccontextmanager
async def as_service(
    pool_or_conn: Pool | AsyncConnection[Any], *, read_only: bool = False
) -> AsyncIterator[AsyncConnection[DictRow]]:
    """`as_user` for the service itself (role service_role, which bypasses RLS)."""
    async with as_user(pool_or_conn, SERVICE_CLAIMS, read_only=read_only) as conn:
        yield conn


@asynccontextmanager
async def _transaction(
    conn: AsyncConnection[Any], statement: LiteralString, params: list[Any], read_only: bool
) -> AsyncIterator[AsyncConnection[DictRow]]:
    previous_factory = conn.row_factory
    conn.row_factory = dict_row
    try:
        async with conn.transaction():
            if read_only:
                # Must be the first statement of the transaction to take effect.
                await conn.execute("set transaction read only")
            await conn.execute(statement, params)
            yield conn
    finally:
        conn.row_factory = previous_factory


# Connections inside pipelined_read's transaction (see acting_as).
_PIPELINED_READS: weakref.WeakSet[AsyncConnection[Any]] = weakref.WeakSet()


@asynccontextmanager
async def pipelined_read(conn: AsyncConnection[Any]) -> AsyncIterator[AsyncConnection[Any]]:
    """A read-only transaction whose statements all travel in one round trip.

    `begin`, the body's statements and `commit` are queued in pipeline mode and sent
    together; read the body's cursors after the block. Explicit statements rather than
    `conn.transaction()`, which in pipeline mode costs about a third more client CPU for
    the same wire traffic (measured for `GET /me`). Read-only, as PostgREST runs a GET.
    On any error the transaction is rolled back before the connection goes back to the pool.
    """
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("pipelined_read needs an idle connection")
    try:
        async with conn.pipeline():
            await conn.execute("begin read only")
            _PIPELINED_READS.add(conn)
            try:
                yield conn
            finally:
                _PIPELINED_READS.discard(conn)
            await conn.execute("commit")
    except BaseException:
        if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
            # A broken connection cannot roll back; the pool discards it, and the error
            # that got us here is the one to report.
            with contextlib.suppress(psycopg.Error):
                await conn.rollback()
        raise


# Undoes the preamble inside the same transaction: back to the connection's own login role,
# with no claims left behind for the statements that follow.
_UNDO_PREAMBLE_SQL: LiteralString = (
    "select set_config('role', 'none', true), set_config('request.jwt.claims', '', true)"
)


@asynccontextmanager
async def acting_as(
    conn: AsyncConnection[Any],
    claims: Mapping[str, Any] | None,
    *,
    method: str = "POST",
    path: str = "/",
) -> AsyncIterator[AsyncConnection[Any]]:
    """Within a transaction the caller already opened, run the body as `claims`.

    For the auth server, which writes its own `private` tables and a user's public rows in
    one transaction: private statements before or after the block, public ones inside it,
    so RLS and grants still decide the public part. The role is restored on normal exit; on
    an error the caller's transaction rolls back, which discards the settings anyway.
    """
    status = conn.info.transaction_status
    if conn.info.pipeline_status == PipelineStatus.OFF:
        in_transaction = status == TransactionStatus.INTRANS
    else:
        # libpq's status is not reliable in pipeline mode: ACTIVE while statements are in
        # flight, and IDLE after a mid-pipeline fetch even with a `begin` still open (seen
        # here). pipelined_read says for itself that its transaction is open.
        in_transaction = status == TransactionStatus.ACTIVE or conn in _PIPELINED_READS
    if not in_transaction:
        raise RuntimeError("acting_as needs an open transaction (use `conn.transaction()`)")
    await conn.execute(*postgrest_preamble(claims, method, path))
    yield conn
    await conn.execute(_UNDO_PREAMBLE_SQL)
