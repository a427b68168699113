"""`acting_as`: the auth server's private writes and the user's public ones, one transaction."""

from __future__ import annotations

import pytest
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from service.core.db import SERVICE_CLAIMS, acting_as


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
