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
from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "test", "production"]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Deliberately recognisable, and refused by the validator anywhere but development.
DEV_JWT_SECRET_PLACEHOLDER = "dev-only-placeholder-jwt-secret-change-me-0000"  # noqa: S105
MIN_SECRET_BYTES = 32

# Substrings that only ever appear in copied-from-the-docs values.
_PLACEHOLDER_MARKERS = ("placeholder", "change-me", "changeme", "change_me", "your-", "your_")
# Whole values people type when they just want the thing to boot.
_PLACEHOLDER_VALUES = frozenset({"secret", "password", "jwt-secret", "jwt_secret", "changeit"})
# Published defaults (Supabase CLI's local secret): fine for a local stack, fatal in production.
_PUBLISHED_SECRETS = frozenset({"super-secret-jwt-token-with-at-least-32-characters-long"})


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


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own `Settings(...)` instead."""
    return Settings()
