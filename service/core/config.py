"""Settings read from the environment (and an optional `.env` file).

Defaults are chosen so `uvicorn service.main:app` starts on a laptop with no environment at
all (ENV=development). Anywhere else the settings validate themselves and refuse to start with
a placeholder secret, because a forgotten variable should be a crash, not a forgeable JWT.
"""

from __future__ import annotations

import ipaddress
import json
from functools import lru_cache
from typing import Annotated, Any, Literal

from jwt.algorithms import ECAlgorithm
from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "test", "production"]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Deliberately recognisable, and refused by the validator anywhere but development.
DEV_JWT_SECRET_PLACEHOLDER = "dev-only-placeholder-jwt-secret-change-me-0000"  # noqa: S105
MIN_SECRET_BYTES = 32
MIB = 1024 * 1024
# The `attachments` bucket's file_size_limit (storage migration, supabase/config.toml): PDFs
# are stored as sent, so the upload cap may not exceed what the bucket accepts.
ATTACHMENTS_BUCKET_LIMIT_BYTES = 10 * MIB

# Substrings that only ever appear in copied-from-the-docs values.
_PLACEHOLDER_MARKERS = ("placeholder", "change-me", "changeme", "change_me", "your-", "your_")
# Whole values people type when they just want the thing to boot.
_PLACEHOLDER_VALUES = frozenset({"secret", "password", "jwt-secret", "jwt_secret", "changeit"})
# Published defaults (Supabase CLI's local secret): fine for a local stack, fatal in production.
_PUBLISHED_SECRETS = frozenset({"super-secret-jwt-token-with-at-least-32-characters-long"})


_RATE_LIMIT_FIELDS = (
    "RATE_LIMIT_SIGNUP_IP",
    "RATE_LIMIT_SIGNUP_EMAIL",
    "RATE_LIMIT_LOGIN_IP",
    "RATE_LIMIT_LOGIN_EMAIL",
    "RATE_LIMIT_REFRESH_IP",
    "RATE_LIMIT_REFRESH_TOKEN",
)


def _looks_like_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in _PLACEHOLDER_VALUES or any(m in lowered for m in _PLACEHOLDER_MARKERS)


def _split_list(value: Any) -> Any:
    """Accept `a,b` or a JSON list from the environment; leave real lists alone."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]


def _check_signing_jwk(raw: str) -> None:
    """Our own tokens are ES256; a key that cannot sign them must stop the boot."""
    try:
        jwk = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError("JWT_SIGNING_KEY must be a private JWK encoded as JSON") from exc
    if not isinstance(jwk, dict):
        raise ValueError("JWT_SIGNING_KEY must be a JSON object (a private JWK)")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError('JWT_SIGNING_KEY must be an EC key with "crv": "P-256" (ES256)')
    if not jwk.get("d"):
        raise ValueError('JWT_SIGNING_KEY must be a private key (the "d" member is missing)')
    if not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
        raise ValueError('JWT_SIGNING_KEY must carry a "kid" so verifiers can pick the key')
    try:
        ECAlgorithm.from_jwk(jwk)
    except Exception as exc:
        raise ValueError("JWT_SIGNING_KEY does not hold a usable P-256 private key") from exc


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    ENV: Environment = "development"
    DATABASE_URL: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    SUPABASE_URL: str = "http://127.0.0.1:54321"
    SUPABASE_JWT_SECRET: SecretStr = SecretStr(DEV_JWT_SECRET_PLACEHOLDER)
    JWT_SIGNING_KEY: SecretStr | None = None
    SUPABASE_SERVICE_ROLE_KEY: SecretStr | None = None
    REDIS_URL: str | None = None
    # NoDecode: pydantic-settings would otherwise insist on JSON and reject `a,b`.
    ALLOWED_ORIGINS: Annotated[list[str], NoDecode] = ["http://localhost:3000"]
    PORT: int = 8000
    DB_POOL_MIN_SIZE: int = 1
    DB_POOL_MAX_SIZE: int = 10
    LOG_LEVEL: str = "INFO"
    TRUSTED_PROXIES: Annotated[list[IPNetwork], NoDecode] = []

    # --- Auth: tokens -------------------------------------------------------------------
    # Empty means `<SUPABASE_URL>/auth/v1`, the issuer Supabase Auth itself uses.
    JWT_ISSUER: str = ""
    ACCESS_TOKEN_TTL_S: int = Field(default=3600, ge=60, le=86400)
    # Clock skew tolerated on exp/iat/nbf when verifying (PostgREST allows 30 s).
    JWT_LEEWAY_S: int = Field(default=30, ge=0, le=300)
    REFRESH_TOKEN_TTL_DAYS: int = Field(default=30, ge=1, le=365)
    # A just-rotated refresh token presented again within this many seconds is a client
    # retry (answered with its child), not theft. Supabase's default is 10 s.
    REFRESH_REUSE_INTERVAL_S: int = Field(default=10, ge=0, le=300)

    # --- Auth: passwords (argon2id; OWASP's minimum is m=19 MiB, t=2, p=1) ----------------
    ARGON2_MEMORY_KIB: int = Field(default=19456, ge=8, le=4_194_304)
    ARGON2_TIME_COST: int = Field(default=2, ge=1, le=50)
    ARGON2_PARALLELISM: int = Field(default=1, ge=1, le=64)

    # --- Auth: lockout after repeated failed logins (per account, in Postgres) ------------
    LOGIN_LOCKOUT_THRESHOLD: int = Field(default=5, ge=1)
    LOGIN_LOCKOUT_BASE_S: int = Field(default=15, ge=1)
    LOGIN_LOCKOUT_MAX_S: int = Field(default=900, ge=1)
    # Failures older than this (counted from the last one) are forgotten.
    LOGIN_FAILURE_WINDOW_S: int = Field(default=3600, ge=1)

    # --- Rate limits (`limits` notation: "N/period", several separated by ";") ------------
    RATE_LIMIT_ENABLED: bool = True
    RATE_LIMIT_KEY_PREFIX: str = "localghost-rl"
    RATE_LIMIT_SIGNUP_IP: str = "30/5minutes"
    RATE_LIMIT_SIGNUP_EMAIL: str = "5/hour"
    RATE_LIMIT_LOGIN_IP: str = "60/minute;1800/hour"
    RATE_LIMIT_LOGIN_EMAIL: str = "10/minute;100/hour"
    RATE_LIMIT_REFRESH_IP: str = "120/minute;1800/hour"
    RATE_LIMIT_REFRESH_TOKEN: str = "10/minute"  # noqa: S105

    # --- Uploads and storage ----------------------------------------------------------------
    # `local`: files under STORAGE_LOCAL_DIR, served by the service itself in development.
    # `s3`: Supabase Storage's S3-compatible endpoint (or any S3 server), path-style.
    # With ENV=production the local backend is refused at startup (the upload routes answer
    # 503 and the log says why): an instance's disk is not storage, and nothing serves it.
    STORAGE_BACKEND: Literal["local", "s3"] = "local"
    STORAGE_LOCAL_DIR: str = ".localghost/storage"
    # Empty means `<SUPABASE_URL>/storage/v1/s3`, the project's S3 endpoint.
    STORAGE_S3_ENDPOINT: str = ""
    # The project's region (SigV4 signs with it); empty is refused at startup, not at upload.
    STORAGE_S3_REGION: str = Field(default="us-east-1", min_length=1)
    STORAGE_S3_ACCESS_KEY_ID: SecretStr | None = None
    STORAGE_S3_SECRET_ACCESS_KEY: SecretStr | None = None
    # Where public objects (avatars) are read: `<base>/<bucket>/<path>`. Empty means
    # `<SUPABASE_URL>/storage/v1/object/public` for s3, and this service's own dev route
    # (`http://127.0.0.1:<PORT>/storage/v1/object/public`) for local.
    STORAGE_PUBLIC_URL: str = ""
    # How long a signed URL to a private object (an attachment) stays valid.
    STORAGE_SIGNED_URL_TTL_S: int = Field(default=3600, ge=60, le=7 * 86400)
    # Caps on the upload itself, checked before and while the body is read.
    AVATAR_MAX_BYTES: int = Field(default=5 * MIB, ge=1024, le=50 * MIB)
    ATTACHMENT_MAX_BYTES: int = Field(default=10 * MIB, ge=1024, le=ATTACHMENTS_BUCKET_LIMIT_BYTES)
    # Decoded size cap: larger images are refused from their header, before any pixel is decoded.
    IMAGE_MAX_PIXELS: int = Field(default=40_000_000, ge=1_000_000, le=200_000_000)
    PDF_MAX_PAGES: int = Field(default=50, ge=1, le=2000)

    @field_validator("ALLOWED_ORIGINS", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("ALLOWED_ORIGINS")
    @classmethod
    def _no_wildcard_origin(cls, value: list[str]) -> list[str]:
        # Credentials are allowed, and Starlette answers "*" by echoing any origin back.
        if "*" in value:
            raise ValueError("ALLOWED_ORIGINS must list explicit origins, not '*'")
        return [origin.rstrip("/") for origin in value]

    @field_validator("TRUSTED_PROXIES", mode="before")
    @classmethod
    def _parse_proxies(cls, value: Any) -> Any:
        items = _split_list(value)
        if not isinstance(items, list):
            return items
        # strict=False: "10.0.0.1/8" means the 10/8 network, not an error.
        return [ipaddress.ip_network(str(item), strict=False) for item in items]

    @field_validator("LOG_LEVEL")
    @classmethod
    def _upper_log_level(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _refuse_unsafe_secrets(self) -> Settings:
        if not 0 <= self.DB_POOL_MIN_SIZE <= self.DB_POOL_MAX_SIZE or self.DB_POOL_MAX_SIZE < 1:
            raise ValueError(
                "need 0 <= DB_POOL_MIN_SIZE <= DB_POOL_MAX_SIZE and DB_POOL_MAX_SIZE >= 1"
            )
        if self.JWT_SIGNING_KEY is not None:
            _check_signing_jwk(self.JWT_SIGNING_KEY.get_secret_value())
        if not self.JWT_ISSUER:
            self.JWT_ISSUER = f"{self.SUPABASE_URL.rstrip('/')}/auth/v1"
        if self.ARGON2_MEMORY_KIB < 8 * self.ARGON2_PARALLELISM:
            raise ValueError("ARGON2_MEMORY_KIB must be at least 8 x ARGON2_PARALLELISM")
        if self.LOGIN_LOCKOUT_MAX_S < self.LOGIN_LOCKOUT_BASE_S:
            raise ValueError("LOGIN_LOCKOUT_MAX_S must be at least LOGIN_LOCKOUT_BASE_S")
        self._check_storage()
        for name in _RATE_LIMIT_FIELDS:
            try:
                parse_many(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name} is not a rate limit such as '10/minute'") from exc
        if self.ENV == "development":
            return self
        secret = self.SUPABASE_JWT_SECRET.get_secret_value()
        if not secret.strip():
            raise ValueError(f"SUPABASE_JWT_SECRET must be set when ENV={self.ENV}")
        if _looks_like_placeholder(secret):
            raise ValueError(
                f"SUPABASE_JWT_SECRET is a placeholder; set a real secret when ENV={self.ENV}"
            )
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"SUPABASE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes when ENV={self.ENV}"
            )
        if self.ENV == "production" and secret in _PUBLISHED_SECRETS:
            raise ValueError("SUPABASE_JWT_SECRET is a published default; rotate it for production")
        return self

    def _check_storage(self) -> None:
        if self.STORAGE_BACKEND == "s3":
            if self.STORAGE_S3_ACCESS_KEY_ID is None or self.STORAGE_S3_SECRET_ACCESS_KEY is None:
                raise ValueError(
                    "STORAGE_BACKEND=s3 needs STORAGE_S3_ACCESS_KEY_ID and"
                    " STORAGE_S3_SECRET_ACCESS_KEY (Storage settings > S3 access keys)"
                )
            if not self.STORAGE_S3_ENDPOINT:
                self.STORAGE_S3_ENDPOINT = f"{self.SUPABASE_URL.rstrip('/')}/storage/v1/s3"
            if not self.STORAGE_PUBLIC_URL:
                base = self.SUPABASE_URL.rstrip("/")
                self.STORAGE_PUBLIC_URL = f"{base}/storage/v1/object/public"
        elif not self.STORAGE_PUBLIC_URL:
            self.STORAGE_PUBLIC_URL = f"http://127.0.0.1:{self.PORT}/storage/v1/object/public"
        self.STORAGE_S3_ENDPOINT = self.STORAGE_S3_ENDPOINT.rstrip("/")
        self.STORAGE_PUBLIC_URL = self.STORAGE_PUBLIC_URL.rstrip("/")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()
