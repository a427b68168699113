"""POST /api/v1/uploads/avatar and POST /api/v1/conversations/{id}/attachments.

Each request: verify the bearer token, (attachments) ask Postgres as the caller whether they
take part in the conversation, read the body under its cap, sniff and sanitize in a worker
thread, store the object, then commit the database change. Nothing is left half-written: if
the database step fails, the new object is deleted again; the previous avatar is deleted
only after the profile points at the new one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated, Any, LiteralString, TypeVar

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Request

from service.auth.deps import AuthUser, CurrentUser
from service.core.db import SERVICE_CLAIMS, Pool, acting_as, as_user
from service.core.deps import PoolDep, SettingsDep
from service.core.errors import AppError, error_responses
from service.storage import ObjectStorage, StorageError
from service.storage.avatars import (
    AVATAR_THUMBNAIL_EDGE,
    AVATARS,
    discard,
    is_generated_avatar,
    thumbnail_name,
)
from service.uploads import errors
from service.uploads.body import read_upload
from service.uploads.images import sanitize_image
from service.uploads.pdf import check_pdf
from service.uploads.schemas import MULTIPART_FILE_BODY, Attachment, AttachmentMessage, Avatar
from service.uploads.sniff import IMAGE_KINDS, SNIFF_BYTES, Kind, sniff

logger = logging.getLogger("localghost.uploads")
router = APIRouter(tags=["uploads"])

ATTACHMENTS = "attachments"
AVATAR_EDGE = 1024
ATTACHMENT_EDGE = 2048
# Image work is CPU and memory heavy: at most this many decodes at once per process.
CONCURRENT_DECODES = 2
IMAGES = "a JPEG, PNG, WebP or HEIC photo"
IMAGES_OR_PDF = "a JPEG, PNG, WebP or HEIC photo, or a PDF"

T = TypeVar("T")


async def get_storage(request: Request) -> ObjectStorage:
    storage: ObjectStorage | None = getattr(request.app.state, "storage", None)
    if storage is None:
        raise AppError(
            503, "storage_unavailable", "Uploads are not available right now. Try again later."
        )
    return storage


StorageDep = Annotated[ObjectStorage, Depends(get_storage)]


async def in_worker(request: Request, func: Callable[[], T]) -> T:
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "decode_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(CONCURRENT_DECODES)
        request.app.state.decode_limiter = limiter
    return await anyio.to_thread.run_sync(func, limiter=limiter)


async def store(
    storage: ObjectStorage, bucket: str, objects: Sequence[tuple[str, bytes, str]]
) -> None:
    """Put every object or none (what was written is deleted again on failure)."""
    written: list[str] = []
    try:
        for name, data, content_type in objects:
            await storage.put(bucket, name, data, content_type)
            written.append(name)
    except StorageError:
        logger.exception("storage refused an upload", extra={"bucket": bucket})
        await discard(storage, bucket, written)
        raise AppError(
            503, "storage_unavailable", "We couldn't save the file. Try again in a moment."
        ) from None


# --------------------------------------------------------------------------------------
# Avatar
# --------------------------------------------------------------------------------------

_LOCK_PROFILE_SQL: LiteralString = (
    "select avatar_path from public.profiles where id = (select auth.uid()) for update"
)
_SET_AVATAR_SQL: LiteralString = (
    "update public.profiles set avatar_path = %s where id = (select auth.uid())"
)


@router.post(
    "/uploads/avatar",
    operation_id="upload_avatar",
    summary="Set my profile photo (re-encoded as WebP, metadata removed)",
    status_code=201,
    response_model=Avatar,
    responses=error_responses(401, 404, 413, 415, 422, 503),
    openapi_extra=MULTIPART_FILE_BODY,
)
async def upload_avatar(
    request: Request,
    user: CurrentUser,
    pool: PoolDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> Avatar:
    upload = await read_upload(request, max_bytes=settings.AVATAR_MAX_BYTES, accepted=IMAGES)
    kind = _sniff(upload.data, IMAGES)
    if kind not in IMAGE_KINDS:
        raise errors.unsupported_media_type(IMAGES)
    result = await in_worker(
        request,
        partial(
            sanitize_image,
            upload.data,
            kind,
            max_pixels=settings.IMAGE_MAX_PIXELS,
            max_edge=AVATAR_EDGE,
            thumbnail_edge=AVATAR_THUMBNAIL_EDGE,
        ),
    )
    assert result.thumbnail is not None
    name = f"{user.id}/{uuid.uuid4()}.webp"
    thumb = thumbnail_name(name)
    await store(
        storage,
        AVATARS,
        [
            (name, result.image.data, result.image.content_type),
            (thumb, result.thumbnail.data, result.thumbnail.content_type),
        ],
    )
    try:
        previous = await _point_profile_at(pool, user, name)
    except BaseException:
        await discard(storage, AVATARS, [name, thumb])
        raise
    if previous and previous != name and is_generated_avatar(previous, user.id):
        await discard(storage, AVATARS, [previous, thumbnail_name(previous)])
    logger.info("avatar stored", extra={"kind": kind.value, "bytes": len(result.image.data)})
    return Avatar(
        path=name,
        url=storage.public_url(AVATARS, name),
        width=result.image.width,
        height=result.image.height,
        bytes=len(result.image.data),
        thumbnail_path=thumb,
        thumbnail_url=storage.public_url(AVATARS, thumb),
    )


async def _point_profile_at(pool: Pool, user: AuthUser, name: str) -> str | None:
    """Set avatar_path as the caller (RLS: own row only); returns the previous path."""
    async with as_user(pool, user.claims, path="/api/v1/uploads/avatar") as conn:
        row = await (await conn.execute(_LOCK_PROFILE_SQL)).fetchone()
        cur = await conn.execute(_SET_AVATAR_SQL, (name,))
        if row is None or cur.rowcount != 1:
            raise AppError(404, "profile_not_found", "Your profile no longer exists.")
    previous = row["avatar_path"]
    return previous if isinstance(previous, str) else None


# --------------------------------------------------------------------------------------
# Chat attachment
# --------------------------------------------------------------------------------------

# As the caller: RLS shows the conversation only to its participants; may_post adds the
# chat capability's block rule. The message itself is inserted by the service (clients may
# not write `kind` or `attachment_path`), which the chat trigger's client-only flood guard
# would not count, so the insert transaction counts it explicitly, as the caller.
_GATE_SQL: LiteralString = (
    "select private.may_post(c.id, (select auth.uid())) as may_post, false as flooding"
    " from public.conversations as c where c.id = %s"
)
_GATE_AND_COUNT_SQL: LiteralString = (
    "select private.may_post(c.id, (select auth.uid())) as may_post,"
    " private.over_message_rate((select auth.uid())) as flooding"
    " from public.conversations as c where c.id = %s"
)
# As the service: clients may not write `kind` or `attachment_path` (column grants).
_INSERT_SQL: LiteralString = (
    "insert into public.messages (conversation_id, sender_id, kind, attachment_path)"
    " values (%s, %s, 'attachment', %s)"
    " returning id, conversation_id, sender_id, kind::text as kind, body, attachment_path,"
    " created_at, masked"
)


def _check_gate(row: dict[str, Any] | None) -> None:
    if row is None:
        raise AppError(404, "conversation_not_found", "Conversation not found.")
    if not row["may_post"]:
        raise AppError(403, "blocked", "You can't send messages in this conversation.")
    if row["flooding"]:
        raise AppError(429, "rate_limited", "You are sending messages too quickly; wait a moment.")


@router.post(
    "/conversations/{conversation_id}/attachments",
    operation_id="upload_attachment",
    summary="Send a photo or a PDF in a conversation",
    status_code=201,
    response_model=AttachmentMessage,
    responses=error_responses(401, 403, 404, 413, 415, 422, 429, 503),
    openapi_extra=MULTIPART_FILE_BODY,
)
async def upload_attachment(
    conversation_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    pool: PoolDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> AttachmentMessage:
    path = f"/api/v1/conversations/{conversation_id}/attachments"
    # Before reading a byte of the body: a stranger's upload is not worth decoding.
    async with as_user(pool, user.claims, read_only=True, path=path) as conn:
        _check_gate(await (await conn.execute(_GATE_SQL, (conversation_id,))).fetchone())

    upload = await read_upload(
        request, max_bytes=settings.ATTACHMENT_MAX_BYTES, accepted=IMAGES_OR_PDF
    )
    kind = _sniff(upload.data, IMAGES_OR_PDF)
    width = height = pages = None
    if kind is Kind.PDF:
        pdf = await in_worker(
            request, partial(check_pdf, upload.data, max_pages=settings.PDF_MAX_PAGES)
        )
        data, content_type, ext, pages = pdf.data, pdf.content_type, "pdf", pdf.pages
    else:
        result = await in_worker(
            request,
            partial(
                sanitize_image,
                upload.data,
                kind,
                max_pixels=settings.IMAGE_MAX_PIXELS,
                max_edge=ATTACHMENT_EDGE,
            ),
        )
        data, content_type, ext = result.image.data, result.image.content_type, "webp"
        width, height = result.image.width, result.image.height

    name = f"{conversation_id}/{uuid.uuid4()}.{ext}"
    await store(storage, ATTACHMENTS, [(name, data, content_type)])
    try:
        async with as_user(pool, user.claims, path=path) as conn:
            # Again, now that the object exists: a block may have landed meanwhile.
            gate = await conn.execute(_GATE_AND_COUNT_SQL, (conversation_id,))
            _check_gate(await gate.fetchone())
            async with acting_as(conn, SERVICE_CLAIMS, path=path):
                row = await (
                    await conn.execute(_INSERT_SQL, (conversation_id, user.id, name))
                ).fetchone()
    except BaseException:
        await discard(storage, ATTACHMENTS, [name])
        raise
    assert row is not None
    ttl = settings.STORAGE_SIGNED_URL_TTL_S
    logger.info("attachment stored", extra={"kind": kind.value, "bytes": len(data)})
    return AttachmentMessage(
        **row,
        attachment=Attachment(
            content_type=content_type,
            bytes=len(data),
            width=width,
            height=height,
            pages=pages,
            url=storage.signed_url(ATTACHMENTS, name, ttl),
            url_expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
        ),
    )


def _sniff(data: bytes, accepted: str) -> Kind:
    if not data:
        raise errors.empty_file()
    kind = sniff(data[:SNIFF_BYTES])
    if kind is None:
        raise errors.unsupported_media_type(accepted)
    return kind
