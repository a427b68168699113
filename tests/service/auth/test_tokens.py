"""Access tokens: the claims Supabase expects, HS256/ES256 signing, JWKS, and the attack list."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from service.main import create_app
from tests.service.auth.conftest import AuthSettings, bearer, signup
from tests.service.conftest import ServeApp

ME = "/api/v1/auth/me"
KID = "lg-test-signing-key"

Signer = Callable[[dict[str, Any], dict[str, Any]], str]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


@pytest.fixture(scope="module")
def ec_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
async def es256_client(
    auth_settings: AuthSettings, serve: ServeApp, ec_private_key: ec.EllipticCurvePrivateKey
) -> AsyncIterator[httpx.AsyncClient]:
    jwk = {**ECAlgorithm.to_jwk(ec_private_key, as_dict=True), "kid": KID}
    app = create_app(auth_settings(JWT_SIGNING_KEY=json.dumps(jwk)))
    async with serve(app) as c:
        yield c


async def test_claims_are_exactly_what_supabase_expects(
    client: httpx.AsyncClient, strong_jwt_secret: str
) -> None:
    body = await signup(client, role="local", full_name="Lu Local")
    token = body["access_token"]
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    # Decoded exactly as PostgREST would: the project secret, aud `authenticated`.
    claims = jwt.decode(token, strong_jwt_secret, algorithms=["HS256"], audience="authenticated")
    session_id = claims.pop("session_id")
    uuid.UUID(session_id)
    iat, exp = claims.pop("iat"), claims.pop("exp")
    assert exp - iat == 3600
    assert abs(iat - time.time()) < 60
    assert body["expires_at"] == exp
    assert claims == {
        "iss": "http://127.0.0.1:54321/auth/v1",
        "aud": "authenticated",
        "sub": body["user"]["id"],
        "role": "authenticated",
        "email": body["user"]["email"],
        "is_anonymous": False,
        "aal": "aal1",
        "app_metadata": {"provider": "email", "providers": ["email"], "user_role": "local"},
        "user_metadata": {"full_name": "Lu Local"},
    }


async def test_issuer_and_lifetime_are_configurable(
    auth_settings: AuthSettings, serve: ServeApp, strong_jwt_secret: str
) -> None:
    app = create_app(auth_settings(JWT_ISSUER="https://auth.example.test", ACCESS_TOKEN_TTL_S=600))
    async with serve(app) as c:
        body = await signup(c)
        claims = jwt.decode(
            body["access_token"],
            strong_jwt_secret,
            algorithms=["HS256"],
            audience="authenticated",
            issuer="https://auth.example.test",
        )
        assert claims["exp"] - claims["iat"] == 600 == body["expires_in"]
        assert (await c.get(ME, headers=bearer(body["access_token"]))).status_code == 200


async def test_es256_tokens_carry_the_kid_and_verify_with_the_jwks(
    es256_client: httpx.AsyncClient,
) -> None:
    body = await signup(es256_client)
    token = body["access_token"]
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "typ": "JWT", "kid": KID}
    for path in ("/.well-known/jwks.json", "/api/v1/auth/.well-known/jwks.json"):
        response = await es256_client.get(path)
        assert response.status_code == 200
        keys = response.json()["keys"]
        assert len(keys) == 1
        assert keys[0]["kid"] == KID
        assert keys[0]["kty"] == "EC"
        assert keys[0]["crv"] == "P-256"
        assert keys[0]["alg"] == "ES256"
        assert "d" not in keys[0], "the private part must never be published"
        public = jwt.PyJWK(keys[0])
        claims = jwt.decode(token, public, algorithms=["ES256"], audience="authenticated")
        assert claims["sub"] == body["user"]["id"]
    assert (await es256_client.get(ME, headers=bearer(token))).status_code == 200


async def test_jwks_is_empty_with_a_shared_secret(client: httpx.AsyncClient) -> None:
    for path in ("/.well-known/jwks.json", "/api/v1/auth/.well-known/jwks.json"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {"keys": []}


# --------------------------------------------------------------------------------------
# The attack list: every one of these is 401 invalid_token.
# --------------------------------------------------------------------------------------


def good_claims(body: dict[str, Any], secret_or_key: Any, algorithm: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        body["access_token"],
        secret_or_key,
        algorithms=[algorithm],
        audience="authenticated",
    )
    return claims


async def assert_invalid_token(c: httpx.AsyncClient, token: str) -> None:
    response = await c.get(ME, headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def tamper(token: str, claims: dict[str, Any]) -> str:
    """The same header and signature over a different payload."""
    header, _, signature = token.split(".")
    return ".".join([header, b64(json.dumps(claims).encode()), signature])


def hs256(secret: str) -> Signer:
    def sign(claims: dict[str, Any], headers: dict[str, Any]) -> str:
        return jwt.encode(claims, secret, algorithm="HS256", headers=headers or None)

    return sign


HS_ATTACKS: dict[str, Callable[[dict[str, Any], Signer], str]] = {
    "alg none": lambda c, _: forge({"alg": "none", "typ": "JWT"}, c, lambda _: b""),
    "alg NONE": lambda c, _: forge({"alg": "NONE", "typ": "JWT"}, c, lambda _: b""),
    "tampered payload": lambda c, sign: tamper(sign(c, {}), {**c, "sub": str(uuid.uuid4())}),
    "expired": lambda c, sign: sign({**c, "exp": int(time.time()) - 3600}, {}),
    "nbf in the future": lambda c, sign: sign({**c, "nbf": int(time.time()) + 3600}, {}),
    "wrong aud": lambda c, sign: sign({**c, "aud": "service"}, {}),
    "no aud": lambda c, sign: sign({k: v for k, v in c.items() if k != "aud"}, {}),
    "wrong iss": lambda c, sign: sign({**c, "iss": "https://evil.example/auth/v1"}, {}),
    "unknown kid": lambda c, sign: sign(c, {"kid": "some-other-key"}),
    "missing role": lambda c, sign: sign({k: v for k, v in c.items() if k != "role"}, {}),
    "role anon": lambda c, sign: sign({**c, "role": "anon"}, {}),
    "role service_role": lambda c, sign: sign({**c, "role": "service_role"}, {}),
    "missing sub": lambda c, sign: sign({k: v for k, v in c.items() if k != "sub"}, {}),
    "non-UUID sub": lambda c, sign: sign({**c, "sub": "not-a-uuid"}, {}),
    "missing exp": lambda c, sign: sign({k: v for k, v in c.items() if k != "exp"}, {}),
    "missing iat": lambda c, sign: sign({k: v for k, v in c.items() if k != "iat"}, {}),
    "wrong secret": lambda c, _: jwt.encode(c, "another-secret-" * 4, algorithm="HS256"),
    "garbage": lambda c, _: "not.a.jwt",
}


@pytest.mark.parametrize("attack", sorted(HS_ATTACKS))
async def test_hs256_attacks_are_refused(
    client: httpx.AsyncClient, strong_jwt_secret: str, attack: str
) -> None:
    body = await signup(client)
    claims = good_claims(body, strong_jwt_secret, "HS256")
    sign = hs256(strong_jwt_secret)
    assert (await client.get(ME, headers=bearer(sign(claims, {})))).status_code == 200
    await assert_invalid_token(client, HS_ATTACKS[attack](claims, sign))


async def test_a_jku_header_pointing_elsewhere_is_ignored(
    client: httpx.AsyncClient,
    es256_client: httpx.AsyncClient,
    strong_jwt_secret: str,
    ec_private_key: ec.EllipticCurvePrivateKey,
) -> None:
    attacker = ec.generate_private_key(ec.SECP256R1())
    attacker_jwk = {**ECAlgorithm.to_jwk(attacker.public_key(), as_dict=True), "kid": KID}
    for c, body_claims in (
        (client, good_claims(await signup(client), strong_jwt_secret, "HS256")),
        (
            es256_client,
            good_claims(await signup(es256_client), ec_private_key.public_key(), "ES256"),
        ),
    ):
        for header in (
            {"kid": KID, "jku": "https://evil.example/jwks.json"},
            {"kid": KID, "x5u": "https://evil.example/cert.pem"},
            {"kid": KID, "jwk": attacker_jwk},
        ):
            token = jwt.encode(body_claims, attacker, algorithm="ES256", headers=header)
            await assert_invalid_token(c, token)


async def test_es256_attacks_are_refused(
    es256_client: httpx.AsyncClient, ec_private_key: ec.EllipticCurvePrivateKey
) -> None:
    body = await signup(es256_client)
    public = ec_private_key.public_key()
    claims = good_claims(body, public, "ES256")

    def es(c: dict[str, Any], headers: dict[str, Any]) -> str:
        return jwt.encode(c, ec_private_key, algorithm="ES256", headers={"kid": KID, **headers})

    assert (await es256_client.get(ME, headers=bearer(es(claims, {})))).status_code == 200
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk_json = json.dumps(ECAlgorithm.to_jwk(public, as_dict=True)).encode()
    attacks = [
        # HS256 signed with the public key (PEM, or the JWK), the classic confusion.
        forge(
            {"alg": "HS256", "typ": "JWT", "kid": KID},
            claims,
            lambda m: hmac.new(pem, m, hashlib.sha256).digest(),
        ),
        forge(
            {"alg": "HS256", "typ": "JWT", "kid": KID},
            claims,
            lambda m: hmac.new(jwk_json, m, hashlib.sha256).digest(),
        ),
        forge({"alg": "none", "typ": "JWT", "kid": KID}, claims, lambda _: b""),
        es(claims, {"kid": "unknown-kid"}),
        jwt.encode(claims, ec_private_key, algorithm="ES256"),  # no kid at all
        es({**claims, "exp": int(time.time()) - 3600}, {}),
        es({**claims, "nbf": int(time.time()) + 3600}, {}),
        es({**claims, "aud": "nope"}, {}),
        es({**claims, "iss": "https://evil.example"}, {}),
        es({k: v for k, v in claims.items() if k != "role"}, {}),
        es({k: v for k, v in claims.items() if k != "sub"}, {}),
        es({**claims, "sub": "12345"}, {}),
        jwt.encode(
            claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": KID}
        ),
    ]
    for token in attacks:
        await assert_invalid_token(es256_client, token)


async def test_an_hs256_token_is_refused_when_es256_is_configured(
    es256_client: httpx.AsyncClient, client: httpx.AsyncClient, strong_jwt_secret: str
) -> None:
    # Same secret, valid HS256 token: one verifier never accepts two algorithms.
    body = await signup(client)
    await assert_invalid_token(es256_client, body["access_token"])


async def test_missing_or_malformed_authorization(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        response = await client.get(ME, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
