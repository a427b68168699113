"""Response bodies of the upload endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Avatar(BaseModel):
    path: str = Field(description="Object name in the `avatars` bucket (= profiles.avatar_path)")
    url: str = Field(description="Public URL of the avatar (WebP, longest edge at most 1024 px)")
    width: int
    height: int
    bytes: int
    thumbnail_path: str = Field(description="Object name of the 256 x 256 square thumbnail")
    thumbnail_url: str


class Attachment(BaseModel):
    content_type: Literal["image/webp", "application/pdf"]
    bytes: int
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    url: str = Field(description="Signed URL to read the attachment; expires at `url_expires_at`")
    url_expires_at: datetime


class AttachmentMessage(BaseModel):
    """The `attachment` message as stored in public.messages, plus what was stored."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    sender_id: uuid.UUID | None
    kind: Literal["attachment"]
    body: str | None
    attachment_path: str = Field(description="Object name in the `attachments` bucket")
    created_at: datetime
    masked: bool
    attachment: Attachment


# The request body, for the OpenAPI document: the routes parse it themselves (see body.py).
MULTIPART_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
