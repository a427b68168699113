"""Rate limits shared by every instance (Redis) or per process (memory), and the client's IP.

Limits are moving windows (`limits`): "60/minute" allows any 60 requests in any 60 seconds,
so there is no burst at a window boundary. With `REDIS_URL` set every instance counts in the
same Redis; otherwise each process counts alone (fine for one process and for tests).

When Redis is unreachable, or does not answer within STORAGE_TIMEOUT_S, the limiter fails
OPEN (allows the request and logs a warning).
The limits protect against volume, not against guessing one account's password: that is the
per-account lockout in Postgres, which still holds while Redis is down. Failing closed would
turn a Redis outage into a login outage for everyone.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from service.core.config import IPNetwork, Settings
from service.core.errors import AppError

logger = logging.getLogger("localghost.ratelimit")

# A Redis that accepts connections but never answers (overloaded, a half-open connection)
# must not hold a login for the client's whole timeout: a healthy Redis answers a hit in
# about a millisecond.
STORAGE_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class Limit:
    """One rule: the limits (e.g. "60/minute;1800/hour") applied to one kind of key."""

    name: str
    items: Sequence[RateLimitItem]

    @classmethod
    def parse(cls, name: str, spec: str) -> Limit:
        return cls(name, parse_many(spec))


class RateLimiter:
    def __init__(self, storage: Storage, *, enabled: bool = True, prefix: str = "") -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.enabled = enabled
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        storage: Storage
        if settings.REDIS_URL:
            uri = settings.REDIS_URL.replace("redis://", "async+redis://", 1)
            uri = uri.replace("rediss://", "async+rediss://", 1)
            storage = RedisStorage(
                uri, wrap_exceptions=True, key_prefix=settings.RATE_LIMIT_KEY_PREFIX
            )
        else:
            storage = MemoryStorage(wrap_exceptions=True)
        return cls(storage, enabled=settings.RATE_LIMIT_ENABLED)

    async def close(self) -> None:
        if isinstance(self.storage, MemoryStorage) and self.storage.timer is not None:
            # Its expiry task would otherwise outlive the event loop of a test app.
            self.storage.timer.cancel()

    async def check(self, limit: Limit, key: str) -> None:
        """Count one request against `limit` for `key`; 429 `rate_limited` when over."""
        if not self.enabled:
            return
        for item in limit.items:
            try:
                async with asyncio.timeout(STORAGE_TIMEOUT_S):
                    allowed = await self.strategy.hit(item, limit.name, key)
                    if allowed:
                        continue
                    stats = await self.strategy.get_window_stats(item, limit.name, key)
            except (StorageError, TimeoutError) as exc:
                cause = exc.storage_error if isinstance(exc, StorageError) else exc
                logger.warning(
                    "rate limit storage unavailable, allowing request (fail open)",
                    extra={"limit": limit.name, "error": type(cause).__name__},
                )
                return
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise AppError(
                429,
                "rate_limited",
                "Too many requests; try again later",
                {"retry_after": retry_after},
                headers={"Retry-After": str(retry_after)},
            )


def client_ip(request: Request, trusted_proxies: Sequence[IPNetwork]) -> str:
    """The address to rate-limit: the direct peer, unless it is a trusted proxy.

    Only then is `X-Forwarded-For` read, right to left, skipping our own proxies; the first
    address not in TRUSTED_PROXIES is the client. Anyone can send the header, so it is never
    believed from an untrusted peer, and a malformed entry ends the walk at the last hop we
    trust.
    """
    peer = request.client.host if request.client else "unknown"
    if not trusted_proxies or not _is_trusted(peer, trusted_proxies):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            break
        client = str(address)
        if not _is_trusted(client, trusted_proxies):
            break
    return client


def _is_trusted(host: str, trusted_proxies: Sequence[IPNetwork]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in trusted_proxies)
