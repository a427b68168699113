"""AWS Signature Version 4 for the few S3 calls we make (PUT, GET, DELETE, presigned GET).

Why our own ~100 lines instead of boto3: the service is async (boto3 would need a thread per
call, aioboto3 drags aiohttp in beside httpx), we make four kinds of request, and the tests
check every signature against a real S3 server (SeaweedFS verifies them) rather than
against our own reading of the spec. Supabase Storage's S3 endpoint expects exactly this
(SigV4, path-style, service `s3`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    region: str
    service: str = "s3"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _uri_encode(text: str, *, keep_slash: bool) -> str:
    # RFC 3986 unreserved characters stay; everything else is %XX (upper case).
    return quote(text, safe="-_.~/" if keep_slash else "-_.~")


def _signing_key(creds: Credentials, day: str) -> bytes:
    key = _hmac(f"AWS4{creds.secret_access_key}".encode(), day)
    key = _hmac(key, creds.region)
    key = _hmac(key, creds.service)
    return _hmac(key, "aws4_request")


def _host(url: str) -> str:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def _canonical_query(params: Mapping[str, str]) -> str:
    pairs = sorted(
        (_uri_encode(k, keep_slash=False), _uri_encode(v, keep_slash=False))
        for k, v in params.items()
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def _signature(
    creds: Credentials,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    payload_hash: str,
    stamp: str,
) -> tuple[str, str]:
    """(signed header names, signature) for one request."""
    lowered = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    names = sorted(lowered)
    canonical = "\n".join(
        [
            method,
            _uri_encode(path or "/", keep_slash=True),
            query,
            "".join(f"{n}:{lowered[n]}\n" for n in names),
            ";".join(names),
            payload_hash,
        ]
    )
    day = stamp[:8]
    scope = f"{day}/{creds.region}/{creds.service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(_signing_key(creds, day), to_sign.encode(), hashlib.sha256).hexdigest()
    return ";".join(names), signature


def _stamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def sign_request(
    creds: Credentials,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    payload: bytes = b"",
    now: datetime | None = None,
) -> dict[str, str]:
    """Headers to send: the given ones plus host, x-amz-date, x-amz-content-sha256, authorization.

    The URL must carry no query string (none of our header-signed calls needs one).
    """
    parts = urlsplit(url)
    if parts.query:
        raise ValueError("sign_request signs URLs without a query string")
    stamp = _stamp(now)
    payload_hash = hashlib.sha256(payload).hexdigest() if payload else EMPTY_SHA256
    signed = {
        **(headers or {}),
        "host": _host(url),
        "x-amz-date": stamp,
        "x-amz-content-sha256": payload_hash,
    }
    names, signature = _signature(creds, method, parts.path, "", signed, payload_hash, stamp)
    scope = f"{stamp[:8]}/{creds.region}/{creds.service}/aws4_request"
    signed["authorization"] = (
        f"{ALGORITHM} Credential={creds.access_key_id}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return signed


def presign_url(
    creds: Credentials, method: str, url: str, expires_in: int, *, now: datetime | None = None
) -> str:
    """A URL carrying its own signature in the query (valid for `expires_in` seconds)."""
    if not 1 <= expires_in <= 7 * 86400:
        raise ValueError("a presigned URL lives between 1 second and 7 days")
    parts = urlsplit(url)
    stamp = _stamp(now)
    scope = f"{stamp[:8]}/{creds.region}/{creds.service}/aws4_request"
    params = {
        "X-Amz-Algorithm": ALGORITHM,
        "X-Amz-Credential": f"{creds.access_key_id}/{scope}",
        "X-Amz-Date": stamp,
        "X-Amz-Expires": str(expires_in),
        "X-Amz-SignedHeaders": "host",
    }
    query = _canonical_query(params)
    _, signature = _signature(
        creds, method, parts.path, query, {"host": _host(url)}, UNSIGNED_PAYLOAD, stamp
    )
    base = f"{parts.scheme}://{parts.netloc}{_uri_encode(parts.path, keep_slash=True)}"
    return f"{base}?{query}&X-Amz-Signature={signature}"
