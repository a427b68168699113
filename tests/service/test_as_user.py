"""`as_user` makes a transaction look exactly like a PostgREST request, and nothing leaks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus

from service.core.config import Settings
from service.core.db import (
    Pool,
    as_service,
    as_user,
    create_pool,
    pipelined_read,
    postgrest_preamble,
)

USER_CLAIMS = {"role": "authenticated", "sub": "9b2f7c1e-0000-4000-8000-000000000001"}
PROBE = "select current_user as role, current_setting('request.jwt.claims') as claims"


class Boom(Exception):
    pass


@pytest.fixture(scope="module")
async def pool(service_settings: Settings) -> AsyncIterator[Pool]:
    pool = create_pool(service_settings)
    await pool.open(wait=True)
    yield pool
    await pool.close()


@pytest.mark.parametrize("claims", [{"role": "postgres"}, {"role": "authenticator"}, {"role": 1}])
def test_preamble_refuses_roles_outside_the_allow_list(claims: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="role"):
        postgrest_preamble(claims)


def test_preamble_defaults_to_anon_with_empty_claims() -> None:
    _, params = postgrest_preamble(None, "get", "/rest/v1/x")
    assert params == ["anon", "{}", "GET", "/rest/v1/x"]


def test_preamble_refuses_a_non_http_method() -> None:
    with pytest.raises(ValueError, match="method"):
        postgrest_preamble(None, "DROP")


def test_preamble_runs_on_a_sync_connection(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(*postgrest_preamble(USER_CLAIMS, "GET", "/profiles"))
        row = conn.execute("select current_user, current_setting('request.path')").fetchone()
        assert row == ("authenticated", "/profiles")


async def test_authenticated_claims_set_role_and_claims(pool: Pool) -> None:
    async with as_user(pool, USER_CLAIMS, method="PATCH", path="/me") as conn:
        row = await (await conn.execute(PROBE)).fetchone()
        extra = await conn.execute(
            "select current_setting('request.method') as method,"
            " current_setting('request.path') as path,"
            " current_setting('request.headers') as headers,"
            " current_setting('search_path') as search_path"
        )
        settings = await extra.fetchone()
    assert row is not None
    assert row["role"] == "authenticated"
    assert json.loads(row["claims"]) == USER_CLAIMS
    assert settings == {
        "method": "PATCH",
        "path": "/me",
        "headers": "{}",
        "search_path": "public, extensions",
    }


async def test_no_claims_means_anon(pool: Pool) -> None:
    async with as_user(pool, None) as conn:
        row = await (await conn.execute(PROBE)).fetchone()
    assert row == {"role": "anon", "claims": "{}"}


async def test_as_service_uses_service_role(pool: Pool) -> None:
    async with as_service(pool) as conn:
        row = await (await conn.execute(PROBE)).fetchone()
    assert row is not None
    assert row["role"] == "service_role"


async def test_read_only_transaction(pool: Pool) -> None:
    async with as_user(pool, USER_CLAIMS, read_only=True) as conn:
        row = await (await conn.execute("show transaction_read_only")).fetchone()
    assert row == {"transaction_read_only": "on"}


async def test_unknown_role_does_not_borrow_a_connection(pool: Pool) -> None:
    before = pool.get_stats().get("requests_num", 0)
    with pytest.raises(ValueError, match="role"):
        async with as_user(pool, {"role": "postgres"}):
            pass
    assert pool.get_stats().get("requests_num", 0) == before


async def set_probe_then_fail(conn: AsyncConnection[Any]) -> None:
    async with as_user(conn, USER_CLAIMS) as tx:
        await tx.execute("select set_config('localghost.probe', 'rolled-back', false)")
        raise Boom


async def test_commit_on_success_rollback_on_error_and_role_reset(database_url: str) -> None:
    # A session-level setting changed inside the block survives only if the block commits.
    probe = "select current_user as role, current_setting('localghost.probe', true) as probe"
    async with await AsyncConnection.connect(database_url, autocommit=True) as conn:
        with pytest.raises(Boom):
            await set_probe_then_fail(conn)
        row = await (await conn.execute(probe)).fetchone()
        assert row is not None
        assert row[1] in (None, "")
        assert row[0] != "authenticated"  # role was transaction-local

        async with as_user(conn, USER_CLAIMS) as tx:
            await tx.execute("select set_config('localghost.probe', 'committed', false)")
        row = await (await conn.execute(probe)).fetchone()
        assert row is not None
        assert row[1] == "committed"
        assert row[0] != "authenticated"


async def _fail_between_statements(conn: AsyncConnection[Any]) -> None:
    async with pipelined_read(conn):
        await conn.execute(*postgrest_preamble(USER_CLAIMS, "GET", "/me"))
        raise Boom


async def test_pipelined_read_is_one_read_only_transaction_that_ends_cleanly(pool: Pool) -> None:
    async with pool.connection() as conn:
        async with pipelined_read(conn):
            await conn.execute(*postgrest_preamble(USER_CLAIMS, "GET", "/me"))
            probe = await conn.execute(
                "select current_user as role, current_setting('transaction_read_only') as ro"
            )
        assert await probe.fetchone() == {"role": "authenticated", "ro": "on"}
        assert conn.info.transaction_status == TransactionStatus.IDLE
        # Nothing outlives the transaction on the pooled connection.
        after = await (await conn.execute("select current_user as role")).fetchone()
        assert after is not None
        assert after["role"] != "authenticated"

        # A write is refused (read only), and the failure leaves the connection idle.
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            async with pipelined_read(conn):
                await conn.execute("create temporary table lg_never (x int)")
        assert conn.info.transaction_status == TransactionStatus.IDLE
        # So does an error raised by the caller between statements.
        with pytest.raises(Boom):
            await _fail_between_statements(conn)
        assert conn.info.transaction_status == TransactionStatus.IDLE
        row = await (await conn.execute("select current_user as role")).fetchone()
        assert row == after


async def test_pipelined_read_needs_an_idle_connection(pool: Pool) -> None:
    async with pool.connection() as conn, conn.transaction():
        with pytest.raises(RuntimeError, match="idle"):
            async with pipelined_read(conn):
                pass
