"""Account deletion: nothing personal left behind, the other party's conversation intact.

Through the real service: a traveler and a local sign up, talk (messages and an attachment),
the traveler uploads an avatar, blocks and reports someone, then deletes the account with
DELETE /api/v1/auth/account. Afterwards, by query over every table of every schema the
project owns: no row mentions the deleted id or email; the messages they wrote remain with
`sender_id` null; the local still reads the whole conversation through RLS.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from scripts.lib.fuzz import tiny_png
from scripts.lib.load import CHEAP_ARGON2, Service, serve_service
from tests.harness.personas import acting_as, user

PASSWORD = "data-safety-passphrase"
# Schemas whose rows the project writes (auth data lives in `private`, files in `storage`).
SCHEMAS = ("public", "private", "storage", "realtime", "supabase_migrations")


@dataclass
class Person:
    id: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Scene:
    service: Service
    db_url: str
    storage_root: Path
    traveler: Person
    local: Person
    bystander: Person
    conversation: str
    avatar_paths: list[str]
    attachment_path: str


def _signup(client: httpx.Client, role: str, tag: str) -> Person:
    email = f"{tag}-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": f"{tag} person", "role": role}
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 201, response.text
    tokens = response.json()
    return Person(tokens["user"]["id"], email, tokens["access_token"])


def _upload(client: httpx.Client, path: str, person: Person) -> dict[str, Any]:
    files = {"file": ("photo.png", tiny_png(), "image/png")}
    response = client.post(path, files=files, headers=person.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def scene(fresh_db: Callable[[], str]) -> Iterator[Scene]:
    db_url = fresh_db()
    with tempfile.TemporaryDirectory(prefix="lg-data-safety-") as tmp:
        root = Path(tmp) / "storage"
        env = {
            **CHEAP_ARGON2,
            "RATE_LIMIT_ENABLED": "false",
            "STORAGE_BACKEND": "local",
            "STORAGE_LOCAL_DIR": str(root),
        }
        with (
            serve_service(db_url, env=env, log_path=Path(tmp) / "service.log") as service,
            httpx.Client(base_url=service.base_url, timeout=15) as client,
        ):
            traveler = _signup(client, "traveler", "leaving")
            local = _signup(client, "local", "staying")
            bystander = _signup(client, "local", "bystander")
            with psycopg.connect(db_url, autocommit=True) as conn:
                row = conn.execute(
                    "insert into public.conversations (traveler_id, local_id)"
                    " values (%s, %s) returning id",
                    [traveler.id, local.id],
                ).fetchone()
                assert row is not None
                conversation = str(row[0])
                # Written as each person, through RLS, as supabase-js would.
                for person, body in ((traveler, "hi from the traveler"), (local, "welcome!")):
                    with acting_as(conn, user(person.email, person.id), commit=True) as cur:
                        cur.execute(
                            "insert into public.messages (conversation_id, body) values (%s, %s)",
                            [conversation, body],
                        )
                with acting_as(conn, user("t", traveler.id), commit=True) as cur:
                    cur.execute(
                        "insert into public.blocks (blocked_id) values (%s)", [bystander.id]
                    )
                    cur.execute(
                        "insert into public.reports (reported_id, reason) values (%s, 'spam')",
                        [bystander.id],
                    )
            avatar = _upload(client, "/api/v1/uploads/avatar", traveler)
            attachment = _upload(
                client, f"/api/v1/conversations/{conversation}/attachments", traveler
            )
            scene = Scene(
                service,
                db_url,
                root,
                traveler,
                local,
                bystander,
                conversation,
                [avatar["path"], avatar["thumbnail_path"]],
                attachment["attachment_path"],
            )
            assert _stored(scene, "avatars", avatar["path"])

            response = client.request(
                "DELETE",
                "/api/v1/auth/account",
                json={"password": PASSWORD},
                headers=traveler.auth,
            )
            assert response.status_code == 204, response.text
            yield scene


def _stored(scene: Scene, bucket: str, name: str) -> bool:
    return (scene.storage_root / bucket / name).is_file()


def _tables(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    rows = conn.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema = any(%s) and table_type = 'BASE TABLE'"
        " order by 1, 2",
        [list(SCHEMAS)],
    ).fetchall()
    return [(str(s), str(t)) for s, t in rows]


def _rows_mentioning(conn: psycopg.Connection[Any], needle: str) -> dict[str, list[str]]:
    """Every table whose rows, as text (every column), contain `needle`: up to 3 of them."""
    found = {}
    for table in _tables(conn):
        query = sql.SQL("select t::text from {} as t where strpos(lower(t::text), %s) > 0 limit 3")
        rows = conn.execute(query.format(sql.Identifier(*table)), [needle.lower()]).fetchall()
        if rows:
            found[".".join(table)] = [str(row[0])[:300] for row in rows]
    return found


# Known leftovers of a deleted id, each checked precisely below (anything else fails):
# - realtime.messages: the broadcast history (Realtime's own table; Supabase drops its daily
#   partitions after a few days), whose payloads name the sender of each message.
KNOWN_LEFTOVERS = {"realtime.messages"}


def test_no_row_anywhere_mentions_the_deleted_id(scene: Scene) -> None:
    deleted = scene.traveler.id
    with psycopg.connect(scene.db_url) as conn:
        assert len(_tables(conn)) > 20
        found = _rows_mentioning(conn, deleted)
        assert set(found) <= KNOWN_LEFTOVERS, found
        conversations = conn.execute(
            "select count(*) filter (where last_message_sender_id = %(id)s),"
            " count(*) filter (where %(id)s in (id, traveler_id, local_id))"
            " from public.conversations",
            {"id": deleted},
        ).fetchone()
        assert conversations is not None
        assert conversations[1] == 0
        assert conversations[0] == len(found.get("public.conversations", []))
        broadcasts = conn.execute(
            "select count(*) from realtime.messages"
            " where strpos(payload::text, %s) > 0 or strpos(topic, %s) > 0",
            [deleted, deleted],
        ).fetchone()
        assert broadcasts is not None
        assert broadcasts[0] > 0 or "realtime.messages" not in found
        # The other people are still there (the scan does find ids).
        assert _rows_mentioning(conn, scene.local.id)


def test_no_conversation_names_the_deleted_sender(scene: Scene) -> None:
    with psycopg.connect(scene.db_url) as conn:
        assert "public.conversations" not in _rows_mentioning(conn, scene.traveler.id)


def test_the_deleted_email_appears_nowhere(scene: Scene) -> None:
    with psycopg.connect(scene.db_url) as conn:
        assert _rows_mentioning(conn, scene.traveler.email) == {}
        assert _rows_mentioning(conn, scene.local.email)


def test_messages_they_wrote_remain_without_a_sender(scene: Scene) -> None:
    with psycopg.connect(scene.db_url) as conn:
        rows = conn.execute(
            "select body, sender_id from public.messages where conversation_id = %s"
            " and kind = 'text' order by created_at",
            [scene.conversation],
        ).fetchall()
    assert rows == [("hi from the traveler", None), ("welcome!", uuid.UUID(scene.local.id))]


def test_the_other_party_still_reads_the_conversation(scene: Scene) -> None:
    with (
        psycopg.connect(scene.db_url) as conn,
        acting_as(conn, user("local", scene.local.id), read_only=True) as cur,
    ):
        cur.execute(
            "select traveler_id, local_id from public.conversations where id = %s",
            [scene.conversation],
        )
        assert cur.fetchall() == [{"traveler_id": None, "local_id": uuid.UUID(scene.local.id)}]
        cur.execute(
            "select body, attachment_path from public.messages"
            " where conversation_id = %s order by created_at",
            [scene.conversation],
        )
        seen = cur.fetchall()
    bodies = [row["body"] for row in seen]
    assert "hi from the traveler" in bodies
    assert "welcome!" in bodies
    assert scene.attachment_path in [row["attachment_path"] for row in seen]
    # What they sent into the conversation is the other party's to keep reading.
    assert _stored(scene, "attachments", scene.attachment_path)


def test_their_session_is_gone(scene: Scene) -> None:
    response = httpx.get(
        scene.service.base_url + "/api/v1/auth/me", headers=scene.traveler.auth, timeout=10
    )
    assert response.status_code == 401


def test_no_avatar_object_is_left_in_storage(scene: Scene) -> None:
    leftovers = [name for name in scene.avatar_paths if _stored(scene, "avatars", name)]
    assert leftovers == []
    assert not (scene.storage_root / "avatars" / scene.traveler.id).exists()
