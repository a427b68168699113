"""Realtime's authorization check for private channels, performed the way Realtime does it.

At join, Realtime (as its own database login) inserts one probe row per extension into
`realtime.messages` for the topic, switches to the caller's role and claims, selects the
probe rows back, and rolls back: a probe row that comes back means "may receive". The
write check (first client broadcast or presence track) inserts as the caller inside a
savepoint: success means "may send", 42501 means no. Policies on `realtime.messages`
decide both, so these helpers answer exactly what a Realtime server would.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

import psycopg

from tests.harness.personas import Persona

Extension = Literal["broadcast", "presence"]

_SETTINGS_SQL = """
select set_config('role', %(role)s, true),
       set_config('realtime.topic', %(topic)s, true),
       set_config('request.jwt.claims', %(claims)s, true),
       set_config('request.jwt.claim.sub', %(sub)s, true),
       set_config('request.jwt.claim.role', %(role)s, true),
       set_config('request.headers', '{}', true)
"""


def _settings(persona: Persona, topic: str) -> dict[str, Any]:
    claims = dict(persona.claims or {})
    return {
        "role": claims.get("role", "anon"),
        "topic": topic,
        "claims": json.dumps(claims),
        "sub": str(claims.get("sub", "")),
    }


def can_receive(
    conn: psycopg.Connection[Any], persona: Persona, topic: str, extension: Extension
) -> bool:
    """Realtime's read check: may `persona` join `topic` and receive `extension` messages?"""
    probe = uuid.uuid4()
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute(
            "insert into realtime.messages (id, topic, extension, inserted_at, updated_at)"
            " values (%s, %s, %s, now(), now())",
            (probe, topic, extension),
        )
        cur.execute(_SETTINGS_SQL, _settings(persona, topic))
        cur.execute("select id from realtime.messages where id = any(%s)", ([probe],))
        return cur.fetchone() is not None


def can_send(
    conn: psycopg.Connection[Any], persona: Persona, topic: str, extension: Extension
) -> bool:
    """Realtime's write check: may `persona` broadcast or track presence on `topic`?"""
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute(_SETTINGS_SQL, _settings(persona, topic))
        try:
            with conn.transaction():
                cur.execute(
                    "insert into realtime.messages (topic, extension, inserted_at, updated_at)"
                    " values (%s, %s, now(), now())",
                    (topic, extension),
                )
        except psycopg.errors.InsufficientPrivilege:
            return False
        return True
