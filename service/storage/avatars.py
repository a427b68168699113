"""Avatar objects: the names the upload endpoint generates, and removing them.

Shared by uploads (replacing an avatar) and auth (deleting an account); it lives with the
storage port so neither capability imports the other.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from service.storage.port import ObjectStorage

logger = logging.getLogger("localghost.storage")

AVATARS = "avatars"
AVATAR_THUMBNAIL_EDGE = 256


async def discard(storage: ObjectStorage, bucket: str, names: Sequence[str]) -> None:
    """Best-effort delete: an orphaned object is a leak, not a reason to fail the request."""
    try:
        await storage.delete(bucket, names)
    except Exception:
        logger.warning("could not delete objects", extra={"bucket": bucket, "names": names})


def thumbnail_name(avatar_path: str) -> str:
    return avatar_path.removesuffix(".webp") + f"-{AVATAR_THUMBNAIL_EDGE}.webp"


async def forget_avatar(storage: ObjectStorage, owner: uuid.UUID, avatar_path: str) -> None:
    """Remove an avatar and its thumbnail (account deletion), if this service made them."""
    if is_generated_avatar(avatar_path, owner):
        await discard(storage, AVATARS, [avatar_path, thumbnail_name(avatar_path)])


def is_generated_avatar(path: str, owner: uuid.UUID) -> bool:
    """A name this endpoint generated: `<owner>/<uuid>.webp`. The owner can write any
    `<owner>/...` into avatar_path through the Data API, so only these are ever deleted."""
    folder, _, file = path.partition("/")
    stem = file.removesuffix(".webp")
    if folder != str(owner) or stem == file:
        return False
    try:
        return str(uuid.UUID(stem)) == stem
    except ValueError:
        return False
