"""The two fast paths of `service.core.security`, checked against the slow ones they replace.

- Password hashes made by libsodium (PyNaCl) and by argon2-cffi are the same format: each
  library verifies the other's, wrong passwords and garbage fail closed, and a hash with
  other parameters (more lanes, as argon2-cffi's defaults use) still verifies and is upgraded.
- The verified-token cache never answers for a token it has not fully verified, and a cached
  token still expires on time.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
from argon2 import PasswordHasher, Type, extract_parameters, low_level
from nacl import pwhash

from service.core.config import Settings
from service.core.security import VERIFIED_CACHE_SIZE, InvalidToken, Passwords, TokenCodec

SECRET = "a-test-secret-that-is-long-enough-for-hs256-0123456789"
PASSWORD = "correct horse battery staple"


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENV": "test",
        "DATABASE_URL": "postgresql://unused@127.0.0.1:1/unused",
        "SUPABASE_JWT_SECRET": SECRET,
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_TIME_COST": 1,
        "ARGON2_PARALLELISM": 1,
        **overrides,
    }
    return Settings(_env_file=None, **values)


# --------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------


def test_libsodium_hashes_are_standard_argon2id_that_argon2_cffi_reads() -> None:
    passwords = Passwords(settings())
    stored = passwords.hash(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    parameters = extract_parameters(stored)
    assert (parameters.salt_len, parameters.hash_len) == (16, 32)
    # The other library agrees, both ways.
    other = PasswordHasher(memory_cost=1024, time_cost=1, parallelism=1, type=Type.ID)
    assert other.verify(stored, PASSWORD)
    assert not other.check_needs_rehash(stored)
    assert passwords.verify(other.hash(PASSWORD), PASSWORD) == (True, None)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext",
        "$argon2id$v=19$m=1024,t=1,p=1$bm90LWJhc2U2NA$",
        "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
        "$2b$12$abcdefghijklmnopqrstuuTnUY8dNDfjyBDSoHk5Q4bg7G5H4Ne3e",
    ],
)
def test_wrong_passwords_and_unreadable_hashes_fail_closed(stored: str) -> None:
    passwords = Passwords(settings())
    assert passwords.verify(stored, PASSWORD) == (False, None)
    assert passwords.verify(passwords.hash(PASSWORD), PASSWORD + "!") == (False, None)


def test_a_hash_with_more_lanes_verifies_and_is_upgraded_to_the_configured_cost() -> None:
    four_lanes = PasswordHasher(memory_cost=2048, time_cost=1, parallelism=4, type=Type.ID)
    stored = four_lanes.hash(PASSWORD)
    passwords = Passwords(settings())
    ok, upgraded = passwords.verify(stored, PASSWORD)
    assert ok
    assert upgraded is not None
    assert upgraded.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert passwords.verify(upgraded, PASSWORD) == (True, None)
    assert passwords.verify(stored, "not the password") == (False, None)


def test_an_argon2_version_1_0_hash_verifies_and_is_upgraded() -> None:
    old = low_level.hash_secret(
        PASSWORD.encode(),
        b"sixteen byte salt",
        time_cost=1,
        memory_cost=1024,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
        version=16,
    ).decode()
    assert old.startswith("$argon2id$v=16$")
    ok, upgraded = Passwords(settings()).verify(old, PASSWORD)
    assert ok
    assert upgraded is not None
    assert upgraded.startswith("$argon2id$v=19$m=1024,t=1,p=1$")


def test_a_multi_lane_setting_hashes_with_argon2_cffi() -> None:
    passwords = Passwords(settings(ARGON2_PARALLELISM=2, ARGON2_MEMORY_KIB=2048))
    stored = passwords.hash(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=2048,t=1,p=2$")
    assert passwords.verify(stored, PASSWORD) == (True, None)
    # A libsodium (one-lane) hash is readable, and upgraded to the two-lane setting.
    one_lane = pwhash.argon2id.str(PASSWORD.encode(), opslimit=1, memlimit=1024 * 1024)
    ok, upgraded = passwords.verify(one_lane.decode(), PASSWORD)
    assert ok
    assert upgraded is not None
    assert ",p=2$" in upgraded


# --------------------------------------------------------------------------------------
# Verified-token cache
# --------------------------------------------------------------------------------------


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": str(uuid.uuid4()),
        "role": "authenticated",
        "aud": "authenticated",
        "iss": settings().JWT_ISSUER,
        "iat": now,
        "exp": now + 3600,
        "session_id": str(uuid.uuid4()),
        **overrides,
    }
    return values


def sign(payload: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def test_a_cached_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = TokenCodec(settings(JWT_LEEWAY_S=0))
    token = sign(claims(exp=int(time.time()) + 60))
    first = codec.verify(token)
    assert codec.verify(token) == first  # from the cache
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidToken):
        codec.verify(token)


def test_a_cached_token_is_not_valid_before_its_nbf(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = TokenCodec(settings(JWT_LEEWAY_S=0))
    now = time.time()
    token = sign(claims(nbf=int(now) - 1, iat=int(now) - 1))
    assert codec.verify(token)["sub"]  # verified in full (PyJWT's own clock), then cached
    earlier = now - 60
    monkeypatch.setattr(time, "time", lambda: earlier)
    with pytest.raises(InvalidToken):
        codec.verify(token)


def test_only_fully_verified_tokens_are_cached() -> None:
    codec = TokenCodec(settings())
    good = sign(claims())
    codec.verify(good)
    forged = sign(jwt.decode(good, options={"verify_signature": False}), secret="x" * 40)
    for _ in range(2):  # the second time would be the cache's answer, if it had one
        with pytest.raises(InvalidToken):
            codec.verify(forged)
    # A token that differs from a cached one by a character is a different key.
    head, payload, signature = good.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(InvalidToken):
        codec.verify(f"{head}.{payload}.{flipped}")


def test_callers_get_a_copy_and_the_cache_is_bounded() -> None:
    codec = TokenCodec(settings())
    token = sign(claims())
    codec.verify(token)["role"] = "service_role"
    assert codec.verify(token)["role"] == "authenticated"
    for _ in range(VERIFIED_CACHE_SIZE + 10):
        codec.verify(sign(claims()))
    assert len(codec._verified) == VERIFIED_CACHE_SIZE
