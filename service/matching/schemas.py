"""What GET /api/v1/matches answers."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field


class LocalCard(BaseModel):
    """The public card of a local, exactly as the directory shows it."""

    profile_id: uuid.UUID
    full_name: str
    avatar_path: str | None = None
    headline: str | None = None
    city: str
    country_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    languages: list[str]
    expertise: list[str]
    hourly_rate_cents: int | None = None
    currency: str
    max_group_size: int
    accepting_requests: bool
    verified: bool
    rating_avg: float | None = None
    rating_count: int
    response_rate: float | None = None
    median_response_minutes: int | None = None
    last_active_on: date | None = None


class Matched(BaseModel):
    """What the traveler asked for that this local has, for "Speaks Spanish, loves food"."""

    languages: list[str]
    interests: list[str]
    open_requests: int


class Match(BaseModel):
    local: LocalCard
    score: float = Field(description="Sum of the reasons, rounded to 4 places")
    reasons: dict[str, float] = Field(
        description=(
            "Each signal's contribution to the score: interest, language, rating, "
            "response_rate, response_time, activity, reciprocal, new_local, and "
            "open_requests (zero or negative: damping for busy locals)"
        )
    )
    matched: Matched


class MatchPage(BaseModel):
    results: list[Match]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same query) for the next page; null at the end"
    )
