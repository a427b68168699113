"""Development only: serve the local adapter's files read-only, at Supabase Storage's paths.

So the URLs the upload endpoints return work on a laptop: public buckets at
`/storage/v1/object/public/<bucket>/<name>`, private ones at
`/storage/v1/object/sign/<bucket>/<name>?token=...`. `service.main` mounts this router only
when ENV=development and the backend is local; in production Supabase Storage serves them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from service.core.errors import AppError
from service.storage.local import LocalStorage
from service.storage.port import InvalidObjectName

router = APIRouter(prefix="/storage/v1/object", include_in_schema=False)

# What the upload endpoints store, by the extension they give it; nothing else is served.
_CONTENT_TYPES = {".webp": "image/webp", ".pdf": "application/pdf"}
PUBLIC_BUCKETS = frozenset({"avatars"})


def _not_found() -> AppError:
    return AppError(404, "object_not_found", "No such object")


async def _serve(request: Request, bucket: str, name: str) -> Response:
    storage = request.app.state.storage
    if not isinstance(storage, LocalStorage):
        raise _not_found()
    content_type = next((ct for ext, ct in _CONTENT_TYPES.items() if name.endswith(ext)), None)
    try:
        data = await storage.get(bucket, name) if content_type else None
    except InvalidObjectName:
        data = None
    if data is None or content_type is None:
        raise _not_found()
    return Response(
        data,
        media_type=content_type,
        headers={
            "Cache-Control": "no-store",
            # Same stance as Supabase Storage's responses: never run as a page here.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@router.get("/public/{bucket}/{name:path}")
async def read_public(request: Request, bucket: str, name: str) -> Response:
    if bucket not in PUBLIC_BUCKETS:
        raise _not_found()
    return await _serve(request, bucket, name)


@router.get("/sign/{bucket}/{name:path}")
async def read_signed(
    request: Request, bucket: str, name: str, token: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    storage = request.app.state.storage
    if not isinstance(storage, LocalStorage) or not storage.token_is_valid(bucket, name, token):
        raise AppError(400, "invalid_signature", "The link is invalid or has expired")
    return await _serve(request, bucket, name)
