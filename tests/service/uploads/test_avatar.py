"""POST /api/v1/uploads/avatar: stored, recorded as the caller, old files cleaned up, and
nothing half-written when storage or the database fails.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from service.main import create_app
from service.storage import LocalStorage, StorageError
from tests.harness.personas import Persona
from tests.service.conftest import ServeApp
from tests.service.uploads.conftest import (
    MintToken,
    UploadSettings,
    bearer,
    error_code,
    make_person,
)
from tests.service.uploads.corpus import jpeg_bytes, png_bytes, webp_report

AVATAR = "/api/v1/uploads/avatar"


def files(data: bytes | None = None) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("me.jpg", data or jpeg_bytes((2048, 1536)), "image/jpeg")}


def avatar_path(db: psycopg.Connection[Any], person: Persona) -> str | None:
    row = db.execute("select avatar_path from public.profiles where id = %s", (person.uid,))
    found = row.fetchone()
    return None if found is None else found[0]


def folder(storage: LocalStorage, person: Persona) -> list[str]:
    path = storage.root / "avatars" / str(person.uid)
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


async def test_avatar_is_stored_and_recorded(
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
    local_storage: LocalStorage,
) -> None:
    person = make_person(db, "local")
    assert person.uid is not None
    response = await client.post(AVATAR, files=files(), headers=bearer(mint(person.uid)))

    assert response.status_code == 201, response.text
    body = response.json()
    stem = body["path"].removeprefix(f"{person.uid}/").removesuffix(".webp")
    assert str(uuid.UUID(stem)) == stem
    assert body["thumbnail_path"] == f"{person.uid}/{stem}-256.webp"
    assert (body["width"], body["height"]) == (1024, 768)
    assert body["url"] == f"http://127.0.0.1:8000/storage/v1/object/public/avatars/{body['path']}"
    stored = await local_storage.get("avatars", body["path"])
    assert stored is not None
    assert len(stored) == body["bytes"]
    assert webp_report(stored).image.size == (1024, 768)
    assert avatar_path(db, person) == body["path"]
    # A local's public card follows the profile (the card trigger runs as for any edit).
    card = db.execute(
        "select avatar_path from public.local_cards where profile_id = %s", (person.uid,)
    ).fetchone()
    assert card == (body["path"],)


async def test_a_new_avatar_replaces_the_old_files(
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
    local_storage: LocalStorage,
) -> None:
    person = make_person(db)
    assert person.uid is not None
    first = await client.post(AVATAR, files=files(), headers=bearer(mint(person.uid)))
    second = await client.post(AVATAR, files=files(png_bytes()), headers=bearer(mint(person.uid)))
    assert first.status_code == second.status_code == 201
    new = second.json()
    assert folder(local_storage, person) == sorted(
        [new["path"].split("/")[1], new["thumbnail_path"].split("/")[1]]
    )
    assert avatar_path(db, person) == new["path"]


async def test_a_path_the_owner_wrote_is_never_deleted(
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
    local_storage: LocalStorage,
) -> None:
    # Owners may write any `<uid>/...` into avatar_path through the Data API; only names
    # this endpoint generated are cleaned up.
    person = make_person(db)
    assert person.uid is not None
    await local_storage.put("avatars", f"{person.uid}/keep.webp", b"mine", "image/webp")
    db.execute(
        "update public.profiles set avatar_path = %s where id = %s",
        (f"{person.uid}/keep.webp", person.uid),
    )
    response = await client.post(AVATAR, files=files(), headers=bearer(mint(person.uid)))
    assert response.status_code == 201
    assert await local_storage.get("avatars", f"{person.uid}/keep.webp") == b"mine"


async def test_anonymous_upload_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(AVATAR, files=files())
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


async def test_deleted_profile_leaves_no_object(
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
    local_storage: LocalStorage,
) -> None:
    # A valid token whose profile is gone: RLS updates zero rows, and the stored files go.
    person = make_person(db)
    assert person.uid is not None
    db.execute("delete from private.accounts where id = %s", (person.uid,))
    response = await client.post(AVATAR, files=files(), headers=bearer(mint(person.uid)))
    assert response.status_code == 404
    assert error_code(response) == "profile_not_found"
    assert folder(local_storage, person) == []


class FlakyStorage(LocalStorage):
    """Local storage that refuses the n-th put, or fails on delete."""

    fail_put_at: int | None = None
    puts = 0

    async def put(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        self.puts += 1
        if self.puts == self.fail_put_at:
            raise StorageError("simulated outage")
        await super().put(bucket, name, data, content_type)

    async def delete(self, bucket: str, names: Sequence[str]) -> None:
        await super().delete(bucket, names)


@pytest.fixture
async def flaky(
    upload_settings: UploadSettings, serve: ServeApp
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(upload_settings())
    async with serve(app) as client:
        real = app.state.storage
        assert isinstance(real, LocalStorage)
        app.state.storage = FlakyStorage(
            real.root,
            public_base=real.public_base,
            signed_base=real.signed_base,
            signing_key=b"k" * 32,
        )
        yield app, client


async def test_storage_outage_is_503_and_changes_nothing(
    flaky: tuple[FastAPI, httpx.AsyncClient],
    db: psycopg.Connection[Any],
    mint: MintToken,
) -> None:
    app, client = flaky
    storage: FlakyStorage = app.state.storage
    storage.fail_put_at = 2  # the thumbnail
    person = make_person(db)
    assert person.uid is not None
    response = await client.post(AVATAR, files=files(), headers=bearer(mint(person.uid)))
    assert response.status_code == 503
    assert error_code(response) == "storage_unavailable"
    assert folder(storage, person) == []
    assert avatar_path(db, person) is None


async def test_production_without_s3_refuses_uploads(
    upload_settings: UploadSettings, serve: ServeApp, db: psycopg.Connection[Any], mint: MintToken
) -> None:
    person = make_person(db)
    assert person.uid is not None
    async with serve(create_app(upload_settings(ENV="production"))) as client:
        response = await client.post(AVATAR, files=files(), headers=bearer(mint(person.uid)))
        health = await client.get("/api/v1/health")
    assert response.status_code == 503
    assert error_code(response) == "storage_unavailable"
    assert health.status_code == 200
