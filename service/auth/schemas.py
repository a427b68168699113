"""Request and response bodies of the auth API (Supabase Auth's shapes where it has one)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from service.core.text import is_unstorable

UserRole = Literal["traveler", "local"]
MAX_EMAIL_CHARS = 254
# Generous bound on what a login/current password field may carry: enough for any password
# we accept (128), small enough that nobody makes us hash a megabyte.
MAX_PASSWORD_INPUT_CHARS = 1024


def _normalise_email(value: str) -> str:
    """Trimmed, validated (syntax only, no DNS), lower-cased: one spelling per mailbox."""
    candidate = value.strip()
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    email = checked.normalized.lower()
    if len(email) > MAX_EMAIL_CHARS:
        raise ValueError(f"email must be at most {MAX_EMAIL_CHARS} characters")
    return email


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _printable(value: str) -> str:
    if is_unstorable(value):
        raise ValueError("must not contain control characters or lone surrogates")
    return value


Email = Annotated[str, Field(max_length=320), AfterValidator(_normalise_email)]
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_INPUT_CHARS)]
FullName = Annotated[
    str, BeforeValidator(_strip), Field(min_length=1, max_length=100), AfterValidator(_printable)
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupRequest(_Body):
    email: Email
    password: Password
    full_name: FullName
    role: UserRole


class LoginRequest(_Body):
    email: Email
    password: Password


class RefreshRequest(_Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=256)]


class LogoutRequest(_Body):
    scope: Literal["local", "others", "global"] = "local"


class PasswordChangeRequest(_Body):
    current_password: Password
    new_password: Password


class DeleteAccountRequest(_Body):
    password: Password


class AuthUser(BaseModel):
    id: UUID
    email: str
    role: UserRole
    full_name: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
    expires_at: int
    refresh_token: str
    user: AuthUser


class Profile(BaseModel):
    id: UUID
    role: UserRole
    full_name: str
    bio: str | None
    avatar_path: str | None
    home_city: str | None
    languages: list[str]
    interests: list[str]
    created_at: datetime
    updated_at: datetime


class LocalProfile(BaseModel):
    city: str | None
    country_code: str | None
    latitude: float | None
    longitude: float | None
    headline: str | None
    expertise: list[str]
    hourly_rate_cents: int | None
    currency: str
    max_group_size: int
    accepting_requests: bool
    verified: bool
    rating_avg: float | None
    rating_count: int
    response_rate: float | None
    median_response_minutes: int | None


class MeResponse(BaseModel):
    user: AuthUser
    profile: Profile
    local_profile: LocalProfile | None


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, str]]
