"""In development the service serves the local adapter read-only, so returned URLs work;
anywhere else those routes don't exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from service.main import create_app
from tests.service.conftest import ServeApp
from tests.service.uploads.conftest import (
    MintToken,
    UploadSettings,
    bearer,
    make_pair,
    make_person,
)
from tests.service.uploads.corpus import jpeg_bytes, pdf_bytes


@pytest.fixture(scope="module")
async def dev_client(
    upload_settings: UploadSettings, serve: ServeApp
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(upload_settings(ENV="development"))) as client:
        yield client


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def test_avatar_url_serves_the_stored_webp(
    dev_client: httpx.AsyncClient, db: psycopg.Connection[Any], mint: MintToken
) -> None:
    person = make_person(db)
    assert person.uid is not None
    body = (
        await dev_client.post(
            "/api/v1/uploads/avatar",
            files={"file": ("a.jpg", jpeg_bytes(), "image/jpeg")},
            headers=bearer(mint(person.uid)),
        )
    ).json()
    for key in ("url", "thumbnail_url"):
        response = await dev_client.get(local_path(body[key]))
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        assert response.content.startswith(b"RIFF")
        assert "sandbox" in response.headers["content-security-policy"]
    assert len((await dev_client.get(local_path(body["url"]))).content) == body["bytes"]


async def test_attachment_needs_a_valid_signature(
    dev_client: httpx.AsyncClient, db: psycopg.Connection[Any], mint: MintToken
) -> None:
    pair = make_pair(db)
    assert pair.traveler.uid is not None
    message = (
        await dev_client.post(
            f"/api/v1/conversations/{pair.conversation}/attachments",
            files={"file": ("a.pdf", pdf_bytes(), "application/pdf")},
            headers=bearer(mint(pair.traveler.uid)),
        )
    ).json()
    signed = local_path(message["attachment"]["url"])
    ok = await dev_client.get(signed)
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/pdf"

    tampered = signed[:-4] + ("0000" if not signed.endswith("0000") else "1111")
    assert (await dev_client.get(tampered)).status_code == 400
    unsigned = signed.split("?")[0]
    assert (await dev_client.get(unsigned)).status_code == 400
    # A private bucket is never served by the public route.
    public = unsigned.replace("/object/sign/", "/object/public/")
    assert (await dev_client.get(public)).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/storage/v1/object/public/avatars/../attachments/x.pdf",
        "/storage/v1/object/public/avatars/%2e%2e/%2e%2e/etc/passwd.webp",
        "/storage/v1/object/public/avatars/nobody/none.webp",
        "/storage/v1/object/public/avatars/x/secret.txt",
    ],
)
async def test_nothing_else_is_served(dev_client: httpx.AsyncClient, path: str) -> None:
    assert (await dev_client.get(path)).status_code == 404


async def test_outside_development_the_routes_do_not_exist(client: httpx.AsyncClient) -> None:
    response = await client.get("/storage/v1/object/public/avatars/a/b.webp")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
