"""Settings boot in development with no environment, and refuse unsafe secrets elsewhere."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import ValidationError

from service.core.config import DEV_JWT_SECRET_PLACEHOLDER, Settings

STRONG = "k3V9q1z8W4tYbN0mR7sJ2xLp5cH6gF1dA9eU3oI8"


def build(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def ec_jwk(**overrides: Any) -> str:
    jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1())))
    jwk["kid"] = "test-key-1"
    jwk.update(overrides)
    return json.dumps({k: v for k, v in jwk.items() if v is not None})


def test_development_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENV", "SUPABASE_JWT_SECRET", "DATABASE_URL", "ALLOWED_ORIGINS"):
        monkeypatch.delenv(name, raising=False)
    settings = build()
    assert settings.ENV == "development"
    assert settings.SUPABASE_JWT_SECRET.get_secret_value() == DEV_JWT_SECRET_PLACEHOLDER
    assert settings.ALLOWED_ORIGINS == ["http://localhost:3000"]
    assert (settings.PORT, settings.DB_POOL_MIN_SIZE, settings.DB_POOL_MAX_SIZE) == (8000, 1, 10)
    assert settings.TRUSTED_PROXIES == []


@pytest.mark.parametrize("env", ["test", "production"])
@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("short-but-real-Zx81", id="short"),
        pytest.param("secret", id="secret"),
        pytest.param("your-super-secret-jwt-token-with-at-least-32-chars", id="your-"),
        pytest.param("please-change-me-this-is-at-least-32-bytes-long", id="change-me"),
        pytest.param("CHANGEME-CHANGEME-CHANGEME-CHANGEME-1", id="changeme"),
    ],
)
def test_unsafe_jwt_secret_is_refused_outside_development(env: str, secret: str | None) -> None:
    values: dict[str, Any] = {"ENV": env}
    if secret is not None:
        values["SUPABASE_JWT_SECRET"] = secret
    with pytest.raises(ValidationError, match="SUPABASE_JWT_SECRET"):
        build(**values)


def test_unsafe_jwt_secret_is_accepted_in_development() -> None:
    assert build(ENV="development", SUPABASE_JWT_SECRET="secret").ENV == "development"


@pytest.mark.parametrize("env", ["test", "production"])
def test_strong_jwt_secret_is_accepted(env: str) -> None:
    assert build(ENV=env, SUPABASE_JWT_SECRET=STRONG).SUPABASE_JWT_SECRET.get_secret_value()


def test_published_supabase_secret_is_refused_in_production_only() -> None:
    published = "super-secret-jwt-token-with-at-least-32-characters-long"
    assert build(ENV="test", SUPABASE_JWT_SECRET=published).ENV == "test"
    with pytest.raises(ValidationError, match="published default"):
        build(ENV="production", SUPABASE_JWT_SECRET=published)


def test_allowed_origins_accept_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example, https://b.example/")
    assert build().ALLOWED_ORIGINS == ["https://a.example", "https://b.example"]


def test_allowed_origins_accept_json_list_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", '["https://a.example"]')
    assert build().ALLOWED_ORIGINS == ["https://a.example"]


def test_wildcard_origin_is_refused() -> None:
    with pytest.raises(ValidationError, match="ALLOWED_ORIGINS"):
        build(ALLOWED_ORIGINS=["*"])


def test_trusted_proxies_parse_ips_and_cidrs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1, 172.16.0.0/12,::1")
    expected = [
        ipaddress.ip_network("10.0.0.1/32"),
        ipaddress.ip_network("172.16.0.0/12"),
        ipaddress.ip_network("::1/128"),
    ]
    proxies = build().TRUSTED_PROXIES
    assert proxies == expected


def test_valid_signing_key_is_accepted() -> None:
    assert build(ENV="production", SUPABASE_JWT_SECRET=STRONG, JWT_SIGNING_KEY=ec_jwk())


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        pytest.param("not json", "JSON", id="not-json"),
        pytest.param(json.dumps(["EC"]), "JSON object", id="not-object"),
        pytest.param("missing-kid", "kid", id="missing-kid"),
        pytest.param("public-only", '"d"', id="public-only"),
        pytest.param("wrong-curve", "P-256", id="wrong-curve"),
        pytest.param("rsa", "EC", id="rsa"),
    ],
)
def test_bad_signing_key_is_refused(key: str, reason: str) -> None:
    raw = {
        "missing-kid": lambda: ec_jwk(kid=None),
        "public-only": lambda: ec_jwk(d=None),
        "wrong-curve": lambda: ec_jwk(crv="P-384"),
        "rsa": lambda: RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048)),
    }.get(key, lambda: key)()
    with pytest.raises(ValidationError, match="JWT_SIGNING_KEY") as caught:
        build(JWT_SIGNING_KEY=raw)
    assert reason in str(caught.value)


def test_an_empty_storage_region_is_refused_at_startup() -> None:
    # A blank deploy prompt would otherwise sign every S3 request for region "" and fail
    # only when someone uploads.
    with pytest.raises(ValidationError, match="STORAGE_S3_REGION"):
        build(STORAGE_S3_REGION="")
    assert build().STORAGE_S3_REGION == "us-east-1"
