"""The storage port: what the service needs from an object store, and nothing more.

Two adapters implement it: `LocalStorage` (files under a git-ignored folder, for development
and tests) and `S3Storage` (Supabase Storage's S3-compatible endpoint in production). The
service only ever writes names it generated itself, but names also come back from the
database (a profile's previous `avatar_path`, which its owner may edit), so every adapter
checks a name before touching anything: no `..`, no empty segments, no odd characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import quote

# Supabase bucket ids are lower-case; ours are `avatars` and `attachments`.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
# One path segment: starts with a letter or digit, so `.`/`..` and hidden files are out.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_NAME_LENGTH = 300
MAX_SEGMENTS = 8


class StorageError(Exception):
    """The object store failed or refused: unreachable, misconfigured, or an error status."""


class InvalidObjectName(ValueError):
    """A bucket or object name the port refuses to touch."""


def check_name(bucket: str, name: str) -> None:
    if not _BUCKET.fullmatch(bucket):
        raise InvalidObjectName(f"invalid bucket name {bucket!r}")
    segments = name.split("/")
    if (
        len(name) > MAX_NAME_LENGTH
        or len(segments) > MAX_SEGMENTS
        or not all(_SEGMENT.fullmatch(s) for s in segments)
    ):
        raise InvalidObjectName(f"invalid object name {name!r}")


def object_url(base: str, bucket: str, name: str) -> str:
    """`<base>/<bucket>/<name>`, each segment percent-encoded (a no-op for checked names)."""
    check_name(bucket, name)
    return f"{base}/{bucket}/{quote(name, safe='/')}"


class ObjectStorage(Protocol):
    """Put, read and delete whole objects; hand out URLs to them."""

    async def put(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        """Store `data` under `bucket/name`, replacing any object of that name."""

    async def get(self, bucket: str, name: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""

    async def delete(self, bucket: str, names: Sequence[str]) -> None:
        """Remove the objects; a name that does not exist is not an error."""

    def public_url(self, bucket: str, name: str) -> str:
        """Where anyone reads an object of a public bucket."""

    def signed_url(self, bucket: str, name: str, expires_in: int) -> str:
        """A URL that reads a private object for `expires_in` seconds, without a token."""

    async def aclose(self) -> None:
        """Release connections (the app lifespan calls it once)."""
