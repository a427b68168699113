"""The OpenAPI document, completed with what FastAPI cannot derive from the routes.

Routes declare their models and which statuses can fail. This module adds, per operation
id: an example of every JSON request and response body, and for every error status the
stable codes a client may see there (each an example of the error envelope). It is merged
into the generated document once, when `/api/openapi.json` is first served.

`tests/contract/test_openapi.py` walks the document: every operation must appear here, every
example must validate against the route's own models, and every code must be one the
service or our SQL really raises. A new route therefore lands with its examples and codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

# --------------------------------------------------------------------------------------
# Error codes per operation (status -> codes). 500 internal_error is added to every
# operation the document already says can fail with 500.
# --------------------------------------------------------------------------------------

_BEARER: dict[int, tuple[str, ...]] = {401: ("invalid_token",)}
_DB: dict[int, tuple[str, ...]] = {503: ("database_unavailable",)}

# What public.match_locals raises for the caller to fix (service/matching/routes.py).
MATCH_INPUT_CODES = (
    "missing_location",
    "invalid_location",
    "radius_out_of_range",
    "invalid_dates",
    "trip_too_long",
    "invalid_group_size",
    "invalid_limit",
    "unknown_language",
    "unknown_interest",
)

ERROR_CODES: dict[str, dict[int, tuple[str, ...]]] = {
    "get_health": {},
    "get_jwks": {},
    "auth_get_jwks": {},
    "auth_signup": {
        409: ("email_taken",),
        422: ("validation_error", "weak_password"),
        429: ("rate_limited",),
        **_DB,
    },
    "auth_login": {
        401: ("invalid_credentials",),
        422: ("validation_error",),
        429: ("rate_limited",),
        **_DB,
    },
    "auth_refresh": {
        401: ("invalid_refresh_token", "refresh_token_reused"),
        422: ("validation_error",),
        429: ("rate_limited",),
        **_DB,
    },
    "auth_logout": {**_BEARER, 422: ("validation_error",), **_DB},
    "auth_me": {**_BEARER, **_DB},
    "auth_change_password": {
        401: ("invalid_token", "invalid_credentials"),
        422: ("validation_error", "weak_password"),
        **_DB,
    },
    "auth_delete_account": {
        401: ("invalid_token", "invalid_credentials"),
        422: ("validation_error",),
        **_DB,
    },
    "list_matches": {
        **_BEARER,
        422: ("validation_error", "invalid_cursor", *MATCH_INPUT_CODES),
        **_DB,
    },
    "upload_avatar": {
        **_BEARER,
        400: ("bad_request",),
        404: ("profile_not_found",),
        413: ("file_too_large",),
        415: ("unsupported_media_type",),
        422: ("validation_error", "corrupt_file", "image_too_large"),
        503: ("storage_unavailable", "database_unavailable"),
    },
    "upload_attachment": {
        **_BEARER,
        400: ("bad_request",),
        403: ("blocked",),
        404: ("conversation_not_found",),
        413: ("file_too_large",),
        415: ("unsupported_media_type",),
        422: ("validation_error", "corrupt_file", "image_too_large", "too_many_pages"),
        429: ("rate_limited",),
        503: ("storage_unavailable", "database_unavailable"),
    },
}

# A representative message per code (the real one may name the limit or the field).
MESSAGES: dict[str, str] = {
    "internal_error": "Internal server error",
    "database_unavailable": "The database is temporarily unavailable",
    "storage_unavailable": "Uploads are not available right now. Try again later.",
    "invalid_token": "The access token is missing, invalid or expired",
    "invalid_credentials": "Invalid login credentials",
    "invalid_refresh_token": "The refresh token is invalid or expired",
    "refresh_token_reused": "This refresh token was already used; the session has been ended",
    "email_taken": "An account with this email already exists",
    "weak_password": "The password is too short (at least 8 characters)",
    "validation_error": "Request validation failed",
    "rate_limited": "Too many requests; try again later",
    "invalid_cursor": "The cursor belongs to another query",
    "bad_request": "Content-Length is not a number",
    "profile_not_found": "Your profile no longer exists.",
    "conversation_not_found": "Conversation not found.",
    "blocked": "You can't send messages in this conversation.",
    "file_too_large": "The file is too large. The largest file you can upload here is 5 MB.",
    "unsupported_media_type": "This kind of file can't be uploaded here.",
    "corrupt_file": "The file is damaged or incomplete, so we couldn't read it.",
    "image_too_large": "The image is too large (20000 x 20000 pixels).",
    "too_many_pages": "The PDF has 120 pages; documents can have at most 50.",
    "missing_location": "give a city or coordinates",
    "invalid_location": "give either a city or coordinates, not both",
    "radius_out_of_range": "radius_km must be between 1 and 200",
    "invalid_dates": "ends_on must not be before starts_on",
    "trip_too_long": "a trip can last at most 60 days",
    "invalid_group_size": "group size must be between 1 and 50",
    "invalid_limit": "limit must be between 1 and 50",
    "unknown_language": "unknown language code: xx",
    "unknown_interest": "unknown interest: yodelling",
}

_DETAILS: dict[str, Any] = {
    "validation_error": [{"loc": ["body", "email"], "msg": "Field required", "type": "missing"}],
    "weak_password": [
        {"loc": ["body", "password"], "msg": "is too short", "type": "weak_password"}
    ],
    "rate_limited": {"retry_after": 42},
    "file_too_large": {"max_bytes": 5242880},
    "unsupported_media_type": {"reason": "unsupported_format"},
    "corrupt_file": {"reason": "truncated"},
    "image_too_large": {"width": 20000, "height": 20000, "max_pixels": 40000000},
    "too_many_pages": {"pages": 120, "max_pages": 50},
}


def error_example(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": MESSAGES[code], "details": _DETAILS.get(code)}}


# --------------------------------------------------------------------------------------
# Body examples per operation
# --------------------------------------------------------------------------------------

_USER_ID = "6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b"
_LOCAL_ID = "0b7e4a52-9c1d-4f3e-8a6b-5d4c3b2a1f0e"
_CONVERSATION_ID = "3c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f"
_TOKENS = {
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2ZjFjIn0.c2lnbmF0dXJl",
    "token_type": "bearer",
    "expires_in": 3600,
    "expires_at": 1795000000,
    "refresh_token": "q3Vt8mZ0bH1xR2yT5uW7aC9dF4gJ6kL8nP0sE2vB4xY",
    "user": {
        "id": _USER_ID,
        "email": "ana@example.com",
        "role": "traveler",
        "full_name": "Ana Souza",
    },
}
_CARD = {
    "profile_id": _LOCAL_ID,
    "full_name": "Marta Ribeiro",
    "avatar_path": f"{_LOCAL_ID}/5f0c1e2d-avatar.webp",
    "headline": "Food walks in Alfama and Mouraria",
    "city": "Lisbon",
    "country_code": "PT",
    "latitude": 38.71,
    "longitude": -9.13,
    "languages": ["en", "es", "pt"],
    "expertise": ["food", "history"],
    "hourly_rate_cents": 3500,
    "currency": "EUR",
    "max_group_size": 6,
    "accepting_requests": True,
    "verified": True,
    "rating_avg": 4.8,
    "rating_count": 37,
    "response_rate": 0.95,
    "median_response_minutes": 25,
    "last_active_on": "2026-11-20",
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "get_health": {"response": {"status": "ok", "database": "ok"}},
    "auth_signup": {
        "request": {
            "email": "ana@example.com",
            "password": "correct horse battery staple",
            "full_name": "Ana Souza",
            "role": "traveler",
        },
        "response": _TOKENS,
    },
    "auth_login": {
        "request": {"email": "ana@example.com", "password": "correct horse battery staple"},
        "response": _TOKENS,
    },
    "auth_refresh": {
        "request": {"refresh_token": "q3Vt8mZ0bH1xR2yT5uW7aC9dF4gJ6kL8nP0sE2vB4xY"},
        "response": _TOKENS,
    },
    "auth_logout": {"request": {"scope": "local"}},
    "auth_change_password": {
        "request": {
            "current_password": "correct horse battery staple",
            "new_password": "a longer and better passphrase",
        }
    },
    "auth_delete_account": {"request": {"password": "correct horse battery staple"}},
    "auth_me": {
        "response": {
            "user": _TOKENS["user"],
            "profile": {
                "id": _USER_ID,
                "role": "traveler",
                "full_name": "Ana Souza",
                "bio": "Slow travel, street food, long walks.",
                "avatar_path": None,
                "home_city": "Porto Alegre",
                "languages": ["en", "pt"],
                "interests": ["food", "markets"],
                "created_at": "2026-11-01T10:00:00Z",
                "updated_at": "2026-11-02T09:30:00Z",
            },
            "local_profile": None,
        }
    },
    "get_jwks": {
        "response": {
            "keys": [
                {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
                    "kid": "5c1e9a62-7f0b-4d0e-9a58-2f4c1b7d3e60",
                    "alg": "ES256",
                    "use": "sig",
                }
            ]
        }
    },
    "list_matches": {
        "response": {
            "results": [
                {
                    "local": _CARD,
                    "score": 0.8125,
                    "reasons": {"interest": 0.3, "language": 0.2, "rating": 0.19},
                    "matched": {"languages": ["es"], "interests": ["food"], "open_requests": 0},
                }
            ],
            "next_cursor": "eyJoIjoiOWYxZSIsInQiOjEsInMiOjAuODEyNX0",
        }
    },
    "upload_avatar": {
        "response": {
            "path": f"{_USER_ID}/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d.webp",
            "url": "https://your-project-ref.supabase.co/storage/v1/object/public/avatars/"
            f"{_USER_ID}/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d.webp",
            "width": 1024,
            "height": 1024,
            "bytes": 84512,
            "thumbnail_path": f"{_USER_ID}/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d.thumb.webp",
            "thumbnail_url": "https://your-project-ref.supabase.co/storage/v1/object/public/"
            f"avatars/{_USER_ID}/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d.thumb.webp",
        }
    },
    "upload_attachment": {
        "response": {
            "id": "7d6c5b4a-3f2e-4d1c-9b0a-8f7e6d5c4b3a",
            "conversation_id": _CONVERSATION_ID,
            "sender_id": _USER_ID,
            "kind": "attachment",
            "body": None,
            "attachment_path": f"{_CONVERSATION_ID}/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d.webp",
            "created_at": "2026-11-26T14:03:00Z",
            "masked": False,
            "attachment": {
                "content_type": "image/webp",
                "bytes": 201344,
                "width": 2048,
                "height": 1536,
                "pages": None,
                "url": "https://your-project-ref.supabase.co/storage/v1/object/sign/attachments/"
                f"{_CONVERSATION_ID}/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d.webp?token=eyJ",
                "url_expires_at": "2026-11-26T15:03:00Z",
            },
        }
    },
}
EXAMPLES["auth_get_jwks"] = EXAMPLES["get_jwks"]


# --------------------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------------------

_ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"


def _json(content: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not content:
        return None
    media: dict[str, Any] | None = content.get("application/json")
    return media


def _document_errors(operation: dict[str, Any], codes: Mapping[int, tuple[str, ...]]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    merged: dict[int, tuple[str, ...]] = dict(codes)
    if "500" in responses:
        merged.setdefault(500, ("internal_error",))
    for status, status_codes in sorted(merged.items()):
        response = responses.setdefault(
            str(status),
            {"description": "Error", "content": {"application/json": {}}},
        )
        media = response.setdefault("content", {}).setdefault("application/json", {})
        media.setdefault("schema", {"$ref": _ENVELOPE_REF})
        media["examples"] = {
            code: {"summary": code, "value": error_example(code)} for code in status_codes
        }
        listed = ", ".join(f"`{code}`" for code in status_codes)
        response["description"] = f"{response.get('description', 'Error')}: {listed}"


def _add_examples(operation: dict[str, Any], examples: Mapping[str, Any]) -> None:
    if "request" in examples:
        media = _json(operation.get("requestBody", {}).get("content"))
        if media is not None:
            media["example"] = examples["request"]
    if "response" in examples:
        for status, response in operation.get("responses", {}).items():
            media = _json(response.get("content"))
            if status.startswith("2") and media is not None:
                media["example"] = examples["response"]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Add the examples and error codes above to a generated document (in place)."""
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            operation_id = operation.get("operationId")
            if operation_id in ERROR_CODES:
                _document_errors(operation, ERROR_CODES[operation_id])
            if operation_id in EXAMPLES:
                _add_examples(operation, EXAMPLES[operation_id])
    envelope = document.get("components", {}).get("schemas", {}).get("ErrorEnvelope")
    if envelope is not None:
        envelope["description"] = (
            "Every error the service returns. Branch on `error.code` (stable snake_case),"
            " show `error.message`; `error.details` carries data such as the failing fields."
        )
        envelope["examples"] = [error_example("invalid_credentials")]
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at the app's openapi_url."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
