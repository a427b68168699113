"""Credentials and tokens: argon2id password hashes, signed access tokens, opaque refresh tokens.

Access tokens are the JWTs Supabase's servers (PostgREST, Realtime, Storage) accept: HS256 with
the project's JWT secret, or ES256 with an imported signing key (`kid` in the header). The
verifier trusts exactly the configured algorithm and key; nothing in a token's header (`jku`,
`jwk`, `x5u`, an unknown `kid`) can make it pick another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from jwt.algorithms import ECAlgorithm
from nacl import pwhash
from nacl.exceptions import CryptoError

from service.core.config import Settings

AUDIENCE = "authenticated"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "aud", "iss", "role")
# Tokens verified recently, by their exact text. A client sends the same token with every
# request for up to an hour, and a full verification (base64, JSON, HMAC or ECDSA, claim
# checks) was about a tenth of a `GET /me`. Bounded, so a flood of distinct valid tokens
# costs at most this many entries.
VERIFIED_CACHE_SIZE = 4096

# --------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------


class Passwords:
    """argon2id with the configured cost; `verify` says when a stored hash needs upgrading.

    With one lane (p = 1, the default and libsodium's only setting) hashes are made and
    checked by libsodium through PyNaCl: the same algorithm, parameters and PHC string as
    argon2-cffi, which reads them interchangeably, but libsodium's SIMD code does the work in
    about half the time on x86-64 (15 vs 29 ms per check at m = 19 MiB, t = 2, measured
    here). Any other hash (more lanes, another variant) goes through argon2-cffi, which also
    decides, from a hash's parameters, whether it needs upgrading.
    """

    def __init__(self, settings: Settings) -> None:
        self.hasher = PasswordHasher(
            time_cost=settings.ARGON2_TIME_COST,
            memory_cost=settings.ARGON2_MEMORY_KIB,
            parallelism=settings.ARGON2_PARALLELISM,
            type=Type.ID,
        )
        self._sodium = settings.ARGON2_PARALLELISM == 1
        self._opslimit = settings.ARGON2_TIME_COST
        self._memlimit = settings.ARGON2_MEMORY_KIB * 1024
        # Made up front, so even the first unknown-email login costs exactly one verify.
        self._dummy_hash = self.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        if self._sodium:
            encoded = pwhash.argon2id.str(
                password.encode(), opslimit=self._opslimit, memlimit=self._memlimit
            )
            return encoded.decode("ascii")
        return self.hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one used other parameters, else None)."""
        try:
            parameters = extract_parameters(stored_hash)
            # libsodium reads argon2id version 1.3 (v=19) with one lane; argon2-cffi the rest.
            if (
                parameters.type is Type.ID
                and parameters.version == 19
                and parameters.parallelism == 1
            ):
                pwhash.argon2id.verify(stored_hash.encode("ascii"), password.encode())
            else:
                self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError, CryptoError, ValueError):
            return False, None
        if self.hasher.check_needs_rehash(stored_hash):
            return True, self.hash(password)
        return True, None

    def dummy_verify(self, password: str) -> None:
        """The same work as a real check, for callers who have no hash to check against.

        Login runs this for an unknown email, so "no such user" costs what "wrong password"
        costs and timing does not reveal which accounts exist.
        """
        self.verify(self._dummy_hash, password)


# --------------------------------------------------------------------------------------
# Access tokens
# --------------------------------------------------------------------------------------


class InvalidToken(Exception):
    """Any reason a bearer token is refused; the message is for logs, never for clients."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    expires_at: int


class TokenCodec:
    """Signs and verifies access tokens with the one configured algorithm and key."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.JWT_ISSUER
        self.ttl_s = settings.ACCESS_TOKEN_TTL_S
        self.leeway_s = settings.JWT_LEEWAY_S
        self.algorithm: Literal["HS256", "ES256"]
        self._public_jwk: dict[str, Any] | None = None
        signing = settings.JWT_SIGNING_KEY
        if signing is not None:
            jwk = json.loads(signing.get_secret_value())
            private_key = ECAlgorithm.from_jwk(jwk)
            assert isinstance(private_key, EllipticCurvePrivateKey)  # checked by Settings
            self.algorithm = "ES256"
            self.kid: str | None = str(jwk["kid"])
            self._signing_key: Any = private_key
            self._verifying_key: Any = private_key.public_key()
            public = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
            self._public_jwk = {**public, "kid": self.kid, "alg": "ES256", "use": "sig"}
        else:
            secret = settings.SUPABASE_JWT_SECRET.get_secret_value().encode()
            self.algorithm = "HS256"
            self.kid = None
            self._signing_key = secret
            self._verifying_key = secret
        # token text -> (claims, not-before, expiry); only ever filled after a full verify.
        self._verified: dict[str, tuple[dict[str, Any], float, float]] = {}

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """Public keys for `/.well-known/jwks.json`: none when the key is a shared secret."""
        return {"keys": [dict(self._public_jwk)] if self._public_jwk else []}

    def issue(self, claims: Mapping[str, Any], *, now: int | None = None) -> IssuedToken:
        issued_at = int(time.time()) if now is None else now
        expires_at = issued_at + self.ttl_s
        payload = {
            **claims,
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": issued_at,
            "exp": expires_at,
        }
        headers = {"kid": self.kid} if self.kid else None
        token = jwt.encode(payload, self._signing_key, algorithm=self.algorithm, headers=headers)
        return IssuedToken(token=token, expires_in=self.ttl_s, expires_at=expires_at)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token we would have issued; raises InvalidToken otherwise.

        A token that passed every check before is only re-checked for time (`exp`, `nbf`,
        with the same leeway): the signature and every other claim are facts of its text,
        which is the cache key, so they cannot have changed.
        """
        cached = self._verified.get(token)
        if cached is not None:
            claims, not_before, expires_at = cached
            now = time.time()
            if not_before - self.leeway_s <= now < expires_at + self.leeway_s:
                return dict(claims)
            del self._verified[token]
            raise InvalidToken("token is expired or not yet valid")
        claims = self._verify_fully(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            # Oldest first (dicts keep insertion order): tokens are refreshed hourly.
            del self._verified[next(iter(self._verified))]
        nbf = claims.get("nbf")
        not_before = float(nbf) if isinstance(nbf, int | float) else float("-inf")
        self._verified[token] = (claims, not_before, float(claims["exp"]))
        return dict(claims)

    def _verify_fully(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        # kid only selects among configured keys; one key is configured, so it must match.
        if header.get("kid") != self.kid:
            raise InvalidToken("unknown kid")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self.algorithm],
                audience=AUDIENCE,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": list(REQUIRED_CLAIMS), "verify_signature": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("role") != "authenticated":
            raise InvalidToken("role must be authenticated")
        try:
            uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise InvalidToken("sub is not a UUID") from exc
        return claims


# --------------------------------------------------------------------------------------
# Refresh tokens
# --------------------------------------------------------------------------------------


def new_refresh_token() -> str:
    """The first token of a session: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def refresh_token_digest(token: str) -> bytes:
    """What the database stores instead of the token."""
    return hashlib.sha256(token.encode()).digest()


class RefreshTokenDeriver:
    """Derives a refresh token's child as HMAC(server key, parent).

    Only digests are stored, yet the grace rule must hand a retrying client the very child
    its first (lost) request received. Deriving the child from the parent lets the service
    recompute it from what the client presents; without the server key (derived from the
    JWT secret, never stored) a parent reveals nothing about its child.
    """

    def __init__(self, settings: Settings) -> None:
        root = settings.SUPABASE_JWT_SECRET.get_secret_value().encode()
        self._key = hmac.new(root, b"localghost refresh token chain v1", hashlib.sha256).digest()

    def child_of(self, parent: str) -> str:
        mac = hmac.new(self._key, parent.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
