"""Opaque keyset cursors: where the last page ended, bound to the query that produced it.

A cursor is base64url(JSON) of the last row's sort key (tier, score, profile id), the day
the first page was scored for, and a hash of the normalized query and caller. It is not a
secret: forging one only moves you within a ranking you may read anyway. The hash makes a
cursor from another query (or another person) fail loudly instead of paging nonsense.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

CURSOR_VERSION = 1
# How far a cursor's scoring day may lie from today: paging across midnight, or between two
# service instances either side of it.
MAX_CURSOR_DAY_DRIFT = 1


class InvalidCursor(ValueError):
    """The cursor is malformed or belongs to another query."""


@dataclass(frozen=True)
class Cursor:
    query_hash: str
    tier: int
    score: float
    profile_id: uuid.UUID
    as_of: date


def query_hash(normalized: dict[str, Any]) -> str:
    text = json.dumps(normalized, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def encode(cursor: Cursor) -> str:
    body = {
        "v": CURSOR_VERSION,
        "q": cursor.query_hash,
        "t": cursor.tier,
        # repr round-trips a double exactly, so the next page starts exactly here.
        "s": repr(cursor.score),
        "id": str(cursor.profile_id),
        "d": cursor.as_of.isoformat(),
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, expected_hash: str, *, today: date) -> Cursor:
    try:
        if len(token) > 512:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(raw)
        if not isinstance(body, dict) or body.get("v") != CURSOR_VERSION:
            raise ValueError("unknown cursor version")
        tier = body["t"]
        if not isinstance(tier, int) or isinstance(tier, bool) or tier not in (0, 1):
            raise ValueError("bad tier")
        score = float(body["s"])
        if not math.isfinite(score):
            raise ValueError("bad score")
        cursor = Cursor(
            query_hash=str(body["q"]),
            tier=tier,
            score=score,
            profile_id=uuid.UUID(str(body["id"])),
            as_of=date.fromisoformat(str(body["d"])),
        )
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this API issued") from exc
    if cursor.query_hash != expected_hash:
        raise InvalidCursor("the cursor belongs to a different query")
    # The day the first page was scored on, kept so later pages score the same way across
    # midnight. A cursor lives minutes: a day further from today is not one we issued (and a
    # far date would push the activity decay out of float range).
    if abs(cursor.as_of - today) > timedelta(days=MAX_CURSOR_DAY_DRIFT):
        raise InvalidCursor("the cursor has expired; start again from the first page")
    return cursor
