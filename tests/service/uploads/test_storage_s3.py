"""The S3 adapter against a real S3 server (SeaweedFS, which verifies every signature), and
our SigV4 signer against the worked examples in AWS's documentation.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from service.main import create_app
from service.storage import S3Storage, StorageError
from service.storage.port import InvalidObjectName
from service.storage.sigv4 import Credentials, presign_url, sign_request
from tests.service.conftest import ServeApp
from tests.service.uploads.conftest import (
    MintToken,
    S3Server,
    UploadSettings,
    bearer,
    make_person,
    running_s3,
)
from tests.service.uploads.corpus import jpeg_bytes

# AWS Signature Version 4 examples ("Signature Calculations for the Authorization Header"
# and "Query String Authentication") for the bucket `examplebucket`.
AWS_EXAMPLE = Credentials(
    access_key_id="AKIAIOSFODNN7EXAMPLE",
    secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    region="us-east-1",
)
AWS_EXAMPLE_TIME = datetime(2013, 5, 24, tzinfo=UTC)


def test_header_signature_matches_the_aws_get_object_example() -> None:
    headers = sign_request(
        AWS_EXAMPLE,
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt",
        headers={"range": "bytes=0-9"},
        now=AWS_EXAMPLE_TIME,
    )
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_presigned_url_matches_the_aws_query_string_example() -> None:
    url = presign_url(
        AWS_EXAMPLE,
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt",
        86400,
        now=AWS_EXAMPLE_TIME,
    )
    assert url.endswith(
        "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )


def adapter(server: S3Server, credentials: Credentials | None = None) -> S3Storage:
    return S3Storage(
        server.endpoint,
        credentials or server.credentials,
        public_base="https://project.supabase.co/storage/v1/object/public",
    )


async def test_put_get_delete_round_trip(s3_server: S3Server) -> None:
    storage = adapter(s3_server)
    name = f"{uuid.uuid4()}/{uuid.uuid4()}.webp"
    try:
        assert await storage.get("avatars", name) is None
        await storage.put("avatars", name, b"RIFF-bytes", "image/webp")
        assert await storage.get("avatars", name) == b"RIFF-bytes"
        await storage.put("avatars", name, b"replaced", "image/webp")
        assert await storage.get("avatars", name) == b"replaced"
        await storage.delete("avatars", [name, f"{uuid.uuid4()}/missing.webp"])
        assert await storage.get("avatars", name) is None
    finally:
        await storage.aclose()


async def test_presigned_url_reads_the_object_and_expires_in_the_signature(
    s3_server: S3Server,
) -> None:
    storage = adapter(s3_server)
    name = f"{uuid.uuid4()}/{uuid.uuid4()}.pdf"
    try:
        await storage.put("attachments", name, b"%PDF-1.7 test", "application/pdf")
        url = storage.signed_url("attachments", name, 60)
        async with httpx.AsyncClient() as plain:
            ok = await plain.get(url)
            assert ok.status_code == 200
            assert ok.content == b"%PDF-1.7 test"
            assert ok.headers["content-type"] == "application/pdf"
            # Anonymous reads of the private object, and a tampered signature, are refused.
            unsigned = await plain.get(url.split("?")[0])
            assert unsigned.status_code == 403
            tampered = await plain.get(url.replace("X-Amz-Expires=60", "X-Amz-Expires=61"))
            assert tampered.status_code == 403
    finally:
        await storage.aclose()


async def test_wrong_secret_is_a_storage_error(s3_server: S3Server) -> None:
    wrong = Credentials(s3_server.credentials.access_key_id, "not-the-secret", "us-east-1")
    storage = adapter(s3_server, wrong)
    try:
        with pytest.raises(StorageError, match="HTTP 403"):
            await storage.put("avatars", "a/b.webp", b"x", "image/webp")
    finally:
        await storage.aclose()


async def test_unreachable_server_is_a_storage_error() -> None:
    storage = S3Storage(
        "http://127.0.0.1:1", AWS_EXAMPLE, public_base="http://example.invalid/public"
    )
    try:
        with pytest.raises(StorageError):
            await storage.put("avatars", "a/b.webp", b"x", "image/webp")
    finally:
        await storage.aclose()


@pytest.mark.parametrize("name", ["../etc/passwd", "a//b", ".hidden/x", "a/../b", "a b/c", ""])
def test_names_are_checked_before_any_request(name: str) -> None:
    storage = S3Storage("http://127.0.0.1:1", AWS_EXAMPLE, public_base="http://x/public")
    with pytest.raises(InvalidObjectName):
        storage.signed_url("attachments", name, 60)


def test_public_url_is_supabase_storage_shaped() -> None:
    base = "https://p.supabase.co/storage/v1/object/public"
    storage = S3Storage("http://s3", AWS_EXAMPLE, public_base=base)
    assert storage.public_url("avatars", "u/x.webp") == (
        "https://p.supabase.co/storage/v1/object/public/avatars/u/x.webp"
    )


async def test_avatar_upload_end_to_end_through_s3(
    s3_server: S3Server,
    upload_settings: UploadSettings,
    serve: ServeApp,
    mint: MintToken,
    db: psycopg.Connection[Any],
) -> None:
    settings = upload_settings(
        STORAGE_BACKEND="s3",
        STORAGE_S3_ENDPOINT=s3_server.endpoint,
        STORAGE_S3_ACCESS_KEY_ID=s3_server.credentials.access_key_id,
        STORAGE_S3_SECRET_ACCESS_KEY=s3_server.credentials.secret_access_key,
        STORAGE_PUBLIC_URL="https://project.supabase.co/storage/v1/object/public",
    )
    app = create_app(settings)
    person = make_person(db)
    assert person.uid is not None
    async with serve(app) as client:
        response = await client.post(
            "/api/v1/uploads/avatar",
            files={"file": ("me.jpg", jpeg_bytes(), "image/jpeg")},
            headers=bearer(mint(person.uid)),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["url"] == (
            f"https://project.supabase.co/storage/v1/object/public/avatars/{body['path']}"
        )
        stored = await app.state.storage.get("avatars", body["path"])
        thumb = await app.state.storage.get("avatars", body["thumbnail_path"])
    assert stored is not None
    assert stored.startswith(b"RIFF")
    assert thumb is not None
    assert thumb.startswith(b"RIFF")
    assert len(stored) == body["bytes"]


async def test_s3_server_down_is_503_and_nothing_half_written(
    tmp_path: Any,
    upload_settings: UploadSettings,
    serve: ServeApp,
    mint: MintToken,
    db: psycopg.Connection[Any],
) -> None:
    # Its own SeaweedFS, killed mid-test: the real adapter against a real outage.
    person = make_person(db)
    assert person.uid is not None
    with running_s3(tmp_path) as server:
        settings = upload_settings(
            STORAGE_BACKEND="s3",
            STORAGE_S3_ENDPOINT=server.endpoint,
            STORAGE_S3_ACCESS_KEY_ID=server.credentials.access_key_id,
            STORAGE_S3_SECRET_ACCESS_KEY=server.credentials.secret_access_key,
        )
        app = create_app(settings)
        async with serve(app) as client:
            first = await client.post(
                "/api/v1/uploads/avatar",
                files={"file": ("me.jpg", jpeg_bytes(), "image/jpeg")},
                headers=bearer(mint(person.uid)),
            )
            assert first.status_code == 201, first.text
            server.stop()
            second = await client.post(
                "/api/v1/uploads/avatar",
                files={"file": ("me.jpg", jpeg_bytes(), "image/jpeg")},
                headers=bearer(mint(person.uid)),
            )
    assert second.status_code == 503
    assert second.json()["error"]["code"] == "storage_unavailable"
    # The profile still points at the avatar that was stored, not at one that never was.
    row = db.execute("select avatar_path from public.profiles where id = %s", (person.uid,))
    assert row.fetchone() == (first.json()["path"],)
