"""POST /api/v1/conversations/{id}/attachments: only participants, as an `attachment`
message from the caller, through the chat capability's rules (blocks, flood guard).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from service.main import create_app
from service.storage import LocalStorage
from tests.harness.world import block
from tests.service.conftest import ServeApp
from tests.service.uploads.conftest import (
    MintToken,
    Pair,
    UploadSettings,
    bearer,
    error_code,
    make_pair,
)
from tests.service.uploads.corpus import jpeg_bytes, pdf_bytes


def url_of(pair: Pair) -> str:
    return f"/api/v1/conversations/{pair.conversation}/attachments"


def photo() -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("IMG_0001.HEIC", jpeg_bytes((3000, 2000)), "image/heic")}


def stored_names(storage: LocalStorage, pair: Pair) -> list[str]:
    path = storage.root / "attachments" / str(pair.conversation)
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


async def test_a_photo_becomes_an_attachment_message(
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
    local_storage: LocalStorage,
) -> None:
    pair = make_pair(db)
    assert pair.traveler.uid is not None
    response = await client.post(
        url_of(pair), files=photo(), headers=bearer(mint(pair.traveler.uid))
    )

    assert response.status_code == 201, response.text
    message = response.json()
    assert message["kind"] == "attachment"
    assert message["sender_id"] == str(pair.traveler.uid)
    assert message["conversation_id"] == str(pair.conversation)
    assert message["body"] is None
    assert message["attachment_path"].startswith(f"{pair.conversation}/")
    assert message["attachment_path"].endswith(".webp")
    attachment = message["attachment"]
    assert attachment["content_type"] == "image/webp"
    assert (attachment["width"], attachment["height"]) == (2048, 1365)

    row = db.execute(
        "select kind::text, sender_id, attachment_path from public.messages where id = %s",
        (message["id"],),
    ).fetchone()
    assert row == ("attachment", pair.traveler.uid, message["attachment_path"])
    inbox = db.execute(
        "select c.last_message_preview, cp.unread_count from public.conversations as c"
        " join public.conversation_participants as cp on cp.conversation_id = c.id"
        " where c.id = %s and cp.profile_id = %s",
        (pair.conversation, pair.local.uid),
    ).fetchone()
    assert inbox == ("Attachment", 1)
    # The signed URL is for this very object (dev route shape, valid token).
    url = urlsplit(attachment["url"])
    name = url.path.split("/attachments/", 1)[1]
    assert name == message["attachment_path"]
    token = parse_qs(url.query)["token"][0]
    assert local_storage.token_is_valid("attachments", name, token)
    assert await local_storage.get("attachments", name) is not None


async def test_the_local_can_send_a_pdf(
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
    local_storage: LocalStorage,
) -> None:
    pair = make_pair(db)
    assert pair.local.uid is not None
    data = pdf_bytes(pages=2)
    response = await client.post(
        url_of(pair),
        files={"file": ("itinerary.pdf", data, "application/pdf")},
        headers=bearer(mint(pair.local.uid)),
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["attachment"]["pages"] == 2
    assert message["attachment_path"].endswith(".pdf")
    assert await local_storage.get("attachments", message["attachment_path"]) == data


async def test_blocked_conversation_is_403_and_stores_nothing(
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
    local_storage: LocalStorage,
) -> None:
    pair = make_pair(db)
    assert pair.traveler.uid is not None
    block(db, pair.local, pair.traveler)
    response = await client.post(
        url_of(pair), files=photo(), headers=bearer(mint(pair.traveler.uid))
    )
    assert response.status_code == 403
    assert error_code(response) == "blocked"
    assert stored_names(local_storage, pair) == []


@pytest.fixture
def flood_limit_zero(db: psycopg.Connection[Any]) -> Any:
    db.execute(
        "update private.app_settings set setting_value = '0'"
        " where setting_name = 'chat_messages_per_minute'"
    )
    yield
    db.execute(
        "update private.app_settings set setting_value = '30'"
        " where setting_name = 'chat_messages_per_minute'"
    )


async def test_the_flood_guard_counts_attachments(
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
    local_storage: LocalStorage,
    flood_limit_zero: None,
) -> None:
    pair = make_pair(db)
    assert pair.traveler.uid is not None
    response = await client.post(
        url_of(pair), files=photo(), headers=bearer(mint(pair.traveler.uid))
    )
    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    # The file had been stored before the insert was refused; it is gone again.
    assert stored_names(local_storage, pair) == []
    count = db.execute(
        "select count(*) from public.messages where conversation_id = %s", (pair.conversation,)
    ).fetchone()
    assert count == (0,)


class BlockingStorage(LocalStorage):
    """Storage that runs a callback after each put: the world changing mid-upload."""

    after_put: Callable[[], None] | None = None

    async def put(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        await super().put(bucket, name, data, content_type)
        if self.after_put:
            self.after_put()


@pytest.fixture
async def racing_app(
    upload_settings: UploadSettings, serve: ServeApp
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(upload_settings())
    async with serve(app) as client:
        real = app.state.storage
        assert isinstance(real, LocalStorage)
        app.state.storage = BlockingStorage(
            real.root,
            public_base=real.public_base,
            signed_base=real.signed_base,
            signing_key=b"k" * 32,
        )
        yield app, client


async def test_a_block_landing_mid_upload_leaves_nothing(
    racing_app: tuple[FastAPI, httpx.AsyncClient],
    db: psycopg.Connection[Any],
    mint: MintToken,
) -> None:
    app, client = racing_app
    storage: BlockingStorage = app.state.storage
    pair = make_pair(db)
    assert pair.traveler.uid is not None
    storage.after_put = lambda: block(db, pair.local, pair.traveler)
    response = await client.post(
        url_of(pair), files=photo(), headers=bearer(mint(pair.traveler.uid))
    )
    assert response.status_code == 403
    assert stored_names(storage, pair) == []
