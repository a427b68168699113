"""The body is read under a cap: declared sizes are checked first, received bytes are counted.

These drive the app at the ASGI level, so the test controls exactly what the "client" sends
(a Content-Length that lies, an endless chunked body) and counts how much the app read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from starlette.types import Message

from tests.service.uploads.conftest import MintToken, bearer, make_pair, make_person
from tests.service.uploads.corpus import jpeg_bytes

CHUNK = 64 * 1024
BOUNDARY = "lgboundary"
AVATAR_CAP = 5 * 1024 * 1024


def multipart_prefix(name: str = "file") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()


class Sender:
    """An ASGI client: sends `total` bytes of body in chunks, records how many were taken."""

    def __init__(self, body: Iterator[bytes]) -> None:
        self.body = body
        self.consumed = 0
        self.status: int | None = None
        self.response = b""

    async def receive(self) -> Message:
        chunk = next(self.body, b"")
        self.consumed += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.response += message.get("body", b"")


def endless_file(total: int) -> Iterator[bytes]:
    yield multipart_prefix() + b"\xff\xd8\xff\xe0"
    sent = 0
    while sent < total:
        sent += CHUNK
        yield b"\x00" * CHUNK


async def call(app: FastAPI, path: str, headers: dict[str, str], body: Iterator[bytes]) -> Sender:
    sender = Sender(body)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        # Latin-1, as Starlette decodes header bytes (a server passes them through as sent).
        "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    await app(scope, sender.receive, sender.send)
    return sender


@pytest.fixture
def avatar_headers(db: psycopg.Connection[Any], mint: MintToken) -> dict[str, str]:
    person = make_person(db)
    assert person.uid is not None
    return {
        **bearer(mint(person.uid)),
        "content-type": f"multipart/form-data; boundary={BOUNDARY}",
    }


async def test_lying_content_length_stops_at_the_cap(
    uploads_app: FastAPI, client: httpx.AsyncClient, avatar_headers: dict[str, str]
) -> None:
    # Claims 1 KB, sends 40 MB: reading stops just past the 5 MB cap.
    sender = await call(
        uploads_app,
        "/api/v1/uploads/avatar",
        {**avatar_headers, "content-length": "1000"},
        endless_file(40 * 1024 * 1024),
    )
    assert sender.status == 413
    assert b'"file_too_large"' in sender.response
    assert AVATAR_CAP < sender.consumed <= AVATAR_CAP + 2 * CHUNK


async def test_chunked_body_without_length_stops_at_the_cap(
    uploads_app: FastAPI, client: httpx.AsyncClient, avatar_headers: dict[str, str]
) -> None:
    sender = await call(
        uploads_app,
        "/api/v1/uploads/avatar",
        {**avatar_headers, "transfer-encoding": "chunked"},
        endless_file(40 * 1024 * 1024),
    )
    assert sender.status == 413
    assert sender.consumed <= AVATAR_CAP + 2 * CHUNK


async def test_declared_oversize_is_refused_before_reading(
    uploads_app: FastAPI, client: httpx.AsyncClient, avatar_headers: dict[str, str]
) -> None:
    sender = await call(
        uploads_app,
        "/api/v1/uploads/avatar",
        {**avatar_headers, "content-length": str(50 * 1024 * 1024)},
        endless_file(50 * 1024 * 1024),
    )
    assert sender.status == 413
    assert sender.consumed == 0
    assert b"5 MB" in sender.response


@pytest.mark.parametrize("declared", ["12x", "\u00b2", "1\u00b9"])
async def test_a_content_length_that_is_not_a_number_is_400(
    uploads_app: FastAPI, client: httpx.AsyncClient, avatar_headers: dict[str, str], declared: str
) -> None:
    # Unicode digits pass str.isdigit() but not int(): a 500 before.
    sender = await call(
        uploads_app,
        "/api/v1/uploads/avatar",
        {**avatar_headers, "content-length": declared},
        endless_file(1024),
    )
    assert sender.status == 400
    assert b"bad_request" in sender.response


async def test_no_token_is_refused_before_reading(
    uploads_app: FastAPI, client: httpx.AsyncClient
) -> None:
    sender = await call(
        uploads_app,
        "/api/v1/uploads/avatar",
        {"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        endless_file(1024 * 1024),
    )
    assert sender.status == 401
    assert sender.consumed == 0


async def test_a_strangers_attachment_is_refused_before_reading(
    uploads_app: FastAPI,
    client: httpx.AsyncClient,
    db: psycopg.Connection[Any],
    mint: MintToken,
) -> None:
    pair, stranger = make_pair(db), make_person(db)
    assert stranger.uid is not None
    sender = await call(
        uploads_app,
        f"/api/v1/conversations/{pair.conversation}/attachments",
        {
            **bearer(mint(stranger.uid)),
            "content-type": f"multipart/form-data; boundary={BOUNDARY}",
        },
        endless_file(1024 * 1024),
    )
    assert sender.status == 404
    assert b"conversation_not_found" in sender.response
    assert sender.consumed == 0


async def test_attachment_cap_is_ten_megabytes(
    client: httpx.AsyncClient, db: psycopg.Connection[Any], mint: MintToken
) -> None:
    pair = make_pair(db)
    assert pair.local.uid is not None
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (10 * 1024 * 1024)
    response = await client.post(
        f"/api/v1/conversations/{pair.conversation}/attachments",
        files={"file": ("big.jpg", big, "image/jpeg")},
        headers=bearer(mint(pair.local.uid)),
    )
    assert response.status_code == 413
    assert response.json()["error"]["details"] == {"max_bytes": 10 * 1024 * 1024}


@pytest.fixture
def token(db: psycopg.Connection[Any], mint: MintToken) -> str:
    person = make_person(db)
    assert person.uid is not None
    return mint(person.uid)


async def test_not_multipart_is_415(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        "/api/v1/uploads/avatar",
        content=jpeg_bytes(),
        headers={**bearer(token), "content-type": "image/jpeg"},
    )
    assert response.status_code == 415
    assert response.json()["error"]["details"] == {"reason": "not_multipart"}


async def test_missing_file_field_is_422(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        "/api/v1/uploads/avatar",
        files={"photo": ("a.jpg", jpeg_bytes(), "image/jpeg")},
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "file"]


async def test_cut_off_multipart_is_422(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        "/api/v1/uploads/avatar",
        content=multipart_prefix() + jpeg_bytes(),
        headers={**bearer(token), "content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_first_file_part_wins_and_other_fields_are_ignored(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.post(
        "/api/v1/uploads/avatar",
        data={"caption": "hello"},
        files=[
            ("file", ("a.jpg", jpeg_bytes(color=(255, 0, 0)), "image/jpeg")),
            ("file", ("b.svg", b"<svg/>", "image/svg+xml")),
        ],
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text


async def test_unknown_conversation_is_404(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(
        f"/api/v1/conversations/{uuid.uuid4()}/attachments",
        files={"file": ("a.jpg", jpeg_bytes(), "image/jpeg")},
        headers=bearer(token),
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "conversation_not_found"
