"""Object storage: a small port (`ObjectStorage`) and its two adapters, chosen by settings."""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path

from service.core.config import Settings
from service.storage.local import LocalStorage
from service.storage.port import InvalidObjectName, ObjectStorage, StorageError
from service.storage.s3 import S3Storage
from service.storage.sigv4 import Credentials

__all__ = [
    "InvalidObjectName",
    "LocalStorage",
    "ObjectStorage",
    "S3Storage",
    "StorageError",
    "build_storage",
]

logger = logging.getLogger("localghost.storage")


def build_storage(settings: Settings) -> ObjectStorage | None:
    """The adapter the settings ask for; None (uploads answer 503) for local in production."""
    if settings.STORAGE_BACKEND == "s3":
        key_id, secret = settings.STORAGE_S3_ACCESS_KEY_ID, settings.STORAGE_S3_SECRET_ACCESS_KEY
        if key_id is None or secret is None:  # Settings refuses this; keeps mypy honest.
            raise ValueError("S3 storage needs an access key id and a secret access key")
        return S3Storage(
            settings.STORAGE_S3_ENDPOINT,
            Credentials(
                access_key_id=key_id.get_secret_value(),
                secret_access_key=secret.get_secret_value(),
                region=settings.STORAGE_S3_REGION,
            ),
            public_base=settings.STORAGE_PUBLIC_URL,
        )
    if settings.ENV == "production":
        # An instance's disk is not storage: files would vanish on redeploy and nothing
        # serves them. Refuse loudly, but keep the rest of the API up.
        logger.error("STORAGE_BACKEND=local is refused in production; uploads are disabled")
        return None
    public = settings.STORAGE_PUBLIC_URL
    # Signed-URL tokens for the dev route: a key derived from the project secret, so links
    # survive a restart without another setting.
    key = hmac.new(
        settings.SUPABASE_JWT_SECRET.get_secret_value().encode(),
        b"localghost local storage signed urls",
        hashlib.sha256,
    ).digest()
    return LocalStorage(
        Path(settings.STORAGE_LOCAL_DIR),
        public_base=public,
        signed_base=public.removesuffix("/public") + "/sign",
        signing_key=key,
    )
