"""Build the people a data test needs, directly in the database (as the superuser).

Tests describe a world (travelers, locals, blocks) and then act in it through the persona
harness. Creating the world bypasses RLS on purpose: it stands in for what the service
does at signup, not for what a client may do.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from tests.harness.personas import Persona, user

DEFAULT_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$invalid-hash-for-tests-only"


def create_person(
    conn: psycopg.Connection[Any],
    role: str,
    name: str,
    *,
    city: str | None = None,
    uid: uuid.UUID | None = None,
    languages: tuple[str, ...] = ("en",),
    accepting_requests: bool = True,
) -> Persona:
    """An account + profile (+ local profile for locals; listed when `city` is given)."""
    uid = uid or uuid.uuid4()
    conn.execute(
        "insert into private.accounts (id, email, password_hash) values (%s, %s, %s)",
        (uid, f"{uid}@test.localghost.dev", DEFAULT_HASH),
    )
    conn.execute(
        "insert into public.profiles (id, role, full_name, languages) values (%s, %s, %s, %s)",
        (uid, role, name, list(languages)),
    )
    if role == "local":
        conn.execute(
            "insert into public.local_profiles"
            " (profile_id, city, country_code, latitude, longitude, accepting_requests)"
            " values (%s, %s, %s, %s, %s, %s)",
            (
                uid,
                city,
                "PT" if city else None,
                38.72 if city else None,
                -9.14 if city else None,
                accepting_requests,
            ),
        )
    return user(name, uid, app_metadata={"user_role": role})


def block(conn: psycopg.Connection[Any], blocker: Persona, blocked: Persona) -> None:
    conn.execute(
        "insert into public.blocks (blocker_id, blocked_id) values (%s, %s)",
        (blocker.uid, blocked.uid),
    )


def delete_people(conn: psycopg.Connection[Any], *people: Persona) -> None:
    """Remove accounts (profiles and everything owned cascade)."""
    conn.execute(
        "delete from private.accounts where id = any(%s)",
        ([p.uid for p in people],),
    )
