"""Storage settings validate themselves; the upload routes document their body and errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from service.core.config import Settings
from service.storage import LocalStorage, S3Storage, build_storage
from tests.service.conftest import MakeSettings

S3_KEYS: dict[str, Any] = {
    "STORAGE_BACKEND": "s3",
    "STORAGE_S3_ACCESS_KEY_ID": "key-id",
    "STORAGE_S3_SECRET_ACCESS_KEY": "a-long-random-secret-access-key",
}


def test_defaults_are_local_with_the_issue_limits() -> None:
    settings = Settings(_env_file=None)
    assert settings.STORAGE_BACKEND == "local"
    assert settings.STORAGE_LOCAL_DIR == ".localghost/storage"
    assert settings.AVATAR_MAX_BYTES == 5 * 1024 * 1024
    assert settings.ATTACHMENT_MAX_BYTES == 10 * 1024 * 1024
    assert settings.IMAGE_MAX_PIXELS == 40_000_000
    assert settings.STORAGE_PUBLIC_URL == "http://127.0.0.1:8000/storage/v1/object/public"
    assert isinstance(build_storage(settings), LocalStorage)


def test_s3_needs_its_keys(make_settings: MakeSettings) -> None:
    with pytest.raises(ValidationError, match="STORAGE_S3_ACCESS_KEY_ID"):
        make_settings(STORAGE_BACKEND="s3")


def test_s3_urls_default_to_the_supabase_project(make_settings: MakeSettings) -> None:
    settings = make_settings(SUPABASE_URL="https://abc.supabase.co/", **S3_KEYS)
    assert settings.STORAGE_S3_ENDPOINT == "https://abc.supabase.co/storage/v1/s3"
    assert settings.STORAGE_PUBLIC_URL == "https://abc.supabase.co/storage/v1/object/public"
    assert isinstance(build_storage(settings), S3Storage)


def test_attachment_cap_cannot_exceed_the_bucket(make_settings: MakeSettings) -> None:
    with pytest.raises(ValidationError, match="ATTACHMENT_MAX_BYTES"):
        make_settings(ATTACHMENT_MAX_BYTES=11 * 1024 * 1024)


def test_local_storage_is_refused_in_production(make_settings: MakeSettings) -> None:
    assert build_storage(make_settings(ENV="production")) is None
    assert build_storage(make_settings(ENV="production", **S3_KEYS)) is not None


EXPECTED = {
    ("post", "/api/v1/uploads/avatar"): (
        "upload_avatar",
        {"401", "404", "413", "415", "422", "503"},
    ),
    ("post", "/api/v1/conversations/{conversation_id}/attachments"): (
        "upload_attachment",
        {"401", "403", "404", "413", "415", "422", "429", "503"},
    ),
}


async def test_upload_routes_are_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    for (method, path), (operation_id, errors) in EXPECTED.items():
        operation = spec["paths"][path][method]
        assert operation["operationId"] == operation_id
        assert operation["summary"]
        body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert body["properties"]["file"] == {"type": "string", "format": "binary"}
        assert errors <= set(operation["responses"])
        assert "201" in operation["responses"]
