"""The Realtime join/send check against a small policy set it must read correctly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.harness.personas import ANON, user
from tests.harness.realtime import can_receive, can_send

ALICE = user("alice", uuid.UUID("00000000-0000-4000-8000-0000000000a1"))
BOB = user("bob", uuid.UUID("00000000-0000-4000-8000-0000000000b2"))


@pytest.fixture(scope="module")
def rt_db(fresh_db: Any) -> Iterator[psycopg.Connection[Any]]:
    """Own-room policies: `room:<uid>` readable by its user; only presence may be sent."""
    with psycopg.connect(fresh_db(), autocommit=True) as conn:
        conn.execute(
            """
            create policy room_receive on realtime.messages for select to authenticated
                using (
                    realtime.messages.extension in ('broadcast', 'presence')
                    and (select realtime.topic()) = 'room:' || (select auth.uid())::text
                );
            create policy room_presence on realtime.messages for insert to authenticated
                with check (
                    realtime.messages.extension = 'presence'
                    and (select realtime.topic()) = 'room:' || (select auth.uid())::text
                );
            """
        )
        yield conn


@pytest.mark.parametrize(
    ("persona", "topic", "extension", "receive", "send"),
    [
        (ALICE, f"room:{ALICE.uid}", "broadcast", True, False),
        (ALICE, f"room:{ALICE.uid}", "presence", True, True),
        (ALICE, f"room:{BOB.uid}", "broadcast", False, False),
        (ALICE, f"room:{BOB.uid}", "presence", False, False),
        (BOB, f"room:{BOB.uid}", "presence", True, True),
        (ANON, f"room:{ALICE.uid}", "broadcast", False, False),
    ],
    ids=str,
)
def test_join_and_send_checks(
    rt_db: psycopg.Connection[Any],
    persona: Any,
    topic: str,
    extension: Any,
    receive: bool,
    send: bool,
) -> None:
    assert can_receive(rt_db, persona, topic, extension) is receive
    assert can_send(rt_db, persona, topic, extension) is send


def test_probe_rows_never_persist(rt_db: psycopg.Connection[Any]) -> None:
    can_receive(rt_db, ALICE, f"room:{ALICE.uid}", "broadcast")
    can_send(rt_db, ALICE, f"room:{ALICE.uid}", "presence")
    row = rt_db.execute("select count(*) from realtime.messages").fetchone()
    assert row == (0,)


def test_send_from_trigger_runs_as_caller(rt_db: psycopg.Connection[Any]) -> None:
    # realtime.send is not security definer: a caller without an insert policy gets a
    # warning, not an error, and nothing is published.
    with rt_db.transaction(force_rollback=True):
        rt_db.execute("set local role authenticated")
        rt_db.execute(
            "select set_config('request.jwt.claims', %s, true)",
            (f'{{"sub": "{ALICE.uid}", "role": "authenticated"}}',),
        )
        rt_db.execute("select realtime.send('{}'::jsonb, 'ping', 'elsewhere')")
        rt_db.execute("reset role")
        row = rt_db.execute("select count(*) from realtime.messages").fetchone()
        assert row == (0,)
    with rt_db.transaction(force_rollback=True):
        rt_db.execute("select realtime.send('{\"a\": 1}'::jsonb, 'ping', 'room:x')")
        got = rt_db.execute(
            "select topic, event, extension, private, payload ? 'id', payload ->> 'a'"
            " from realtime.messages"
        ).fetchall()
        assert got == [("room:x", "ping", "broadcast", True, True, "1")]
