"""`acting_as`: the auth server's private writes and the user's public ones, one transaction."""

from __future__ import annotations

import pytest
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from service.core.db import SERVICE_CLAIMS, acting_as, pipelined_read


async def test_acting_as_switches_role_and_back(auth_db_url: str) -> None:
    async with (
        await AsyncConnection.connect(auth_db_url, autocommit=True, row_factory=dict_row) as conn,
        conn.transaction(),
    ):
        async with acting_as(conn, SERVICE_CLAIMS):
            row = await (await conn.execute("select current_user as who")).fetchone()
            assert row == {"who": "service_role"}
        row = await (
            await conn.execute(
                "select current_user as who,"
                " coalesce(current_setting('request.jwt.claims', true), '') as claims"
            )
        ).fetchone()
        assert row == {"who": "postgres", "claims": ""}


async def test_acting_as_needs_an_open_transaction(auth_db_url: str) -> None:
    async with await AsyncConnection.connect(auth_db_url, autocommit=True) as conn:
        with pytest.raises(RuntimeError, match="transaction"):
            async with acting_as(conn, SERVICE_CLAIMS):
                pass


async def test_in_pipeline_mode_it_still_needs_a_transaction(auth_db_url: str) -> None:
    """libpq's status is unreliable in pipeline mode, so the check takes other evidence."""
    async with await AsyncConnection.connect(
        auth_db_url, autocommit=True, row_factory=dict_row
    ) as conn:
        async with conn.pipeline():
            with pytest.raises(RuntimeError, match="transaction"):
                async with acting_as(conn, SERVICE_CLAIMS):
                    pass
        # Inside pipelined_read, even after a mid-pipeline fetch (libpq then says IDLE).
        async with pipelined_read(conn):
            await (await conn.execute("select 1")).fetchone()
            async with acting_as(conn, SERVICE_CLAIMS):
                who = await conn.execute("select current_user as who")
            assert await who.fetchone() == {"who": "service_role"}
        # And with conn.transaction() in a pipeline, while statements are in flight.
        async with conn.pipeline(), conn.transaction():
            await conn.execute("select 1")
            async with acting_as(conn, SERVICE_CLAIMS):
                who = await conn.execute("select current_user as who")
        assert await who.fetchone() == {"who": "service_role"}
