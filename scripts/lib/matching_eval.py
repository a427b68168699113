"""Offline quality of the matching: NDCG@10 of our ranking, sort-by-rating and random.

    python -m scripts.lib.matching_eval --db-url URL [--size full|quick|tiny]  (migrated db)

The world comes from a generator that knows nothing of the scoring code (it imports none of
it and reads no weight). It draws hidden truths first and derives what the site shows from
them, with the noise real marketplaces have:

- Each local has hidden specialties (1-3 tags, popular ones more common), a true quality,
  a responsiveness, an engagement, a capacity and a current load. The card shows listed
  expertise (the specialties, plus sometimes a tag they are not good at), an average of a
  random number of noisy reviews (few reviews => a noisy average), a response rate
  estimated from a handful of conversations, a median answer time, a last-active day that
  engaged locals refresh more often, and the open requests that make up the load.
- Each traveler has hidden tastes: one to three loved tags carrying most of the weight,
  the rest spread thin, and a sensitivity to quality. They state their interests
  imperfectly (sometimes one loved tag is left out, sometimes an idle one is added), their
  languages and group size.
- Labels = what the traveler would book. The traveler's value for a local is
  3 * (taste mass on the local's true specialties) + 1.2 * sensitivity * (true quality - 4.2)
  + noise; a local accepts with a probability that falls with load and with the group
  filling their capacity, and rises with responsiveness and engagement. Over 40 simulated
  rounds the traveler books the best local who accepted; a local's label is the share of
  rounds in which they were booked.

Every ranking is scored over the same candidates (those passing the hard filters), with
NDCG@10 (gain = label, log2 discount), averaged over travelers.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from service.core.db import postgrest_preamble

TAGS = (
    "food", "history", "art", "nightlife", "nature", "architecture", "shopping",
    "photography", "family", "sports", "music", "wine", "coffee", "hiking", "markets",
    "street_art", "museums", "beaches", "cycling", "literature", "film", "design",
    "local_life", "lgbtq",
)  # fmt: skip
CITY_LANGS = ("es", "fr", "de", "it", "pt", "ja", "nl", "el")
TRIP_START = date(2031, 5, 10)
AS_OF = date(2031, 5, 1)
ROUNDS = 40


@dataclass
class HiddenLocal:
    id: uuid.UUID
    city: str
    specialties: list[str]
    quality: float
    responsiveness: float
    engagement: float
    capacity: int
    load: int


@dataclass
class HiddenTraveler:
    id: uuid.UUID
    city: str
    taste: dict[str, float]
    sensitivity: float
    stated_interests: list[str]
    languages: list[str]
    group_size: int
    trip_days: int


def _tag(rng: random.Random) -> str:
    return TAGS[min(len(TAGS) - 1, int(rng.random() ** 1.8 * len(TAGS)))]


def make_locals(
    rng: random.Random, cities: Sequence[tuple[str, str]], per_city: int
) -> list[tuple[HiddenLocal, dict[str, Any]]]:
    """Hidden truth and the card-facing fields derived from it, for every local."""
    out = []
    for city, lang in cities:
        for _ in range(per_city):
            specialties = sorted({_tag(rng) for _ in range(rng.randint(1, 3))})
            listed = set(specialties)
            if rng.random() < 0.3:
                listed.add(_tag(rng))
            hidden = HiddenLocal(
                id=uuid.uuid4(),
                city=city,
                specialties=specialties,
                quality=3.3 + 1.7 * rng.betavariate(5, 2),
                responsiveness=rng.uniform(0.3, 1.0),
                engagement=rng.random(),
                capacity=rng.randint(1, 10),
                load=min(6, int(rng.expovariate(1.2))) if rng.random() < 0.35 else 0,
            )
            n_reviews = int(rng.expovariate(1 / 15))
            reviews = [rng.gauss(hidden.quality, 0.8) for _ in range(n_reviews)]
            asked = rng.randint(0, 30)
            answered = sum(rng.random() < hidden.responsiveness for _ in range(asked))
            languages = {lang} | ({"en"} if rng.random() < 0.7 else set())
            if rng.random() < 0.2:
                languages.add(rng.choice(CITY_LANGS))
            idle = int(rng.expovariate(1 / (2 + 60 * (1 - hidden.engagement))))
            card = {
                "languages": sorted(languages),
                "expertise": sorted(listed),
                "max_group_size": hidden.capacity,
                "rating_avg": round(min(5.0, max(1.0, sum(reviews) / n_reviews)), 2)
                if n_reviews
                else None,
                "rating_count": n_reviews,
                "response_rate": round(answered / asked, 3) if asked else None,
                "median_response_minutes": int(
                    math.exp(rng.gauss(5.5 - 3.5 * hidden.responsiveness, 0.6))
                )
                if asked
                else None,
                "last_active_at": datetime.combine(AS_OF, datetime.min.time(), UTC)
                - timedelta(days=idle, hours=rng.randint(0, 20)),
            }
            out.append((hidden, card))
    return out


def make_travelers(
    rng: random.Random, cities: Sequence[tuple[str, str]], count: int
) -> list[HiddenTraveler]:
    travelers = []
    for _ in range(count):
        city, lang = rng.choice(cities)
        loved = sorted({_tag(rng) for _ in range(rng.randint(1, 3))})
        taste = {t: 0.15 / len(TAGS) for t in TAGS}
        for t in loved:
            taste[t] += 0.85 / len(loved)
        stated = list(loved)
        if len(stated) > 1 and rng.random() < 0.25:
            stated.remove(rng.choice(stated))
        if rng.random() < 0.2:
            stated.append(rng.choice(TAGS))
        languages = ["en"] if rng.random() < 0.6 else [lang]
        travelers.append(
            HiddenTraveler(
                id=uuid.uuid4(),
                city=city,
                taste=taste,
                sensitivity=rng.uniform(0.5, 1.5),
                stated_interests=sorted(set(stated)),
                languages=languages,
                group_size=rng.choices([1, 2, 3, 4, 6], weights=[25, 40, 15, 12, 8])[0],
                trip_days=rng.randint(1, 7),
            )
        )
    return travelers


def would_book(
    rng: random.Random, traveler: HiddenTraveler, candidates: Sequence[HiddenLocal]
) -> dict[uuid.UUID, float]:
    """Share of simulated rounds in which the traveler books each candidate."""
    booked: dict[uuid.UUID, int] = {}
    accept = {}
    value = {}
    for c in candidates:
        fill = traveler.group_size / c.capacity
        logit = -0.5 + 2.0 * c.responsiveness + 1.2 * c.engagement - 0.6 * c.load - 1.5 * fill
        accept[c.id] = 1 / (1 + math.exp(-logit))
        value[c.id] = 3.0 * sum(traveler.taste[t] for t in c.specialties) + (
            1.2 * traveler.sensitivity * (c.quality - 4.2)
        )
    for _ in range(ROUNDS):
        best, best_value = None, -math.inf
        for c in candidates:
            if rng.random() >= accept[c.id]:
                continue
            v = value[c.id] + rng.gauss(0, 0.35)
            if v > best_value:
                best, best_value = c.id, v
        if best is not None:
            booked[best] = booked.get(best, 0) + 1
    return {k: n / ROUNDS for k, n in booked.items()}


def ndcg_at(ranking: Sequence[Hashable], labels: Mapping[Any, float], k: int = 10) -> float:
    dcg = sum(labels.get(uid, 0.0) / math.log2(i + 2) for i, uid in enumerate(ranking[:k]))
    ideal = sorted(labels.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


# --------------------------------------------------------------------------------------
# Database
# --------------------------------------------------------------------------------------


def load_world(
    conn: psycopg.Connection[Any], world: Sequence[tuple[HiddenLocal, dict[str, Any]]]
) -> None:
    """Write the locals as signup does (triggers on), plus their open requests."""
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "insert into private.accounts (id, email, password_hash) values (%s, %s, 'eval')",
            [(h.id, f"{h.id}@eval.localghost.dev") for h, _ in world],
        )
        cur.executemany(
            "insert into public.profiles (id, role, full_name, languages)"
            " values (%s, 'local', 'Eval local', %s)",
            [(h.id, card["languages"]) for h, card in world],
        )
        cur.executemany(
            "insert into public.local_profiles (profile_id, city, latitude, longitude, expertise,"
            " max_group_size, rating_avg, rating_count, response_rate, median_response_minutes,"
            " last_active_at) values (%s, %s, 0, 0, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    h.id,
                    h.city,
                    c["expertise"],
                    c["max_group_size"],
                    c["rating_avg"],
                    c["rating_count"],
                    c["response_rate"],
                    c["median_response_minutes"],
                    c["last_active_at"],
                )
                for h, c in world
            ],
        )
        cur.execute(
            "insert into public.local_availability (local_id, during)"
            " select unnest(%s::uuid[]), daterange(%s, %s)",
            ([h.id for h, _ in world], TRIP_START - timedelta(days=30), TRIP_START + timedelta(60)),
        )
        requester = world[0][0].id
        cur.execute("set local session_replication_role = replica")
        cur.executemany(
            "insert into public.booking_requests (conversation_id, traveler_id, local_id,"
            " starts_on, ends_on, group_size, status, expires_at)"
            " values (gen_random_uuid(), %s, %s, %s, %s, 1, 'requested',"
            " now() + interval '3 days')",
            [
                (requester, h.id, TRIP_START, TRIP_START + timedelta(days=9))
                for h, _ in world
                for _ in range(h.load)
            ],
        )
        cur.execute("set local session_replication_role = origin")
        # What the request triggers (off above) keep on each card.
        cur.execute("select private.recount_open_requests_until()")
    conn.execute("analyze")


def our_ranking(conn: psycopg.Connection[Any], traveler: HiddenTraveler) -> list[dict[str, Any]]:
    """Every candidate, in our order (paged through match_locals as the traveler)."""
    claims = {"sub": str(traveler.id), "role": "authenticated", "aud": "authenticated"}
    rows: list[dict[str, Any]] = []
    after: tuple[Any, Any, Any] = (None, None, None)
    while True:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(*postgrest_preamble(claims, "GET", "/api/v1/matches"))
            cur.execute(
                "select profile_id, score, tier, rating_avg, rating_count from public.match_locals("
                " %s, %s, %s, %s, p_languages => %s, p_interests => %s, p_limit => 100,"
                " p_after_tier => %s, p_after_score => %s, p_after_id => %s, p_as_of => %s)",
                (
                    TRIP_START,
                    TRIP_START + timedelta(days=traveler.trip_days - 1),
                    traveler.group_size,
                    traveler.city,
                    traveler.languages,
                    traveler.stated_interests,
                    *after,
                    AS_OF,
                ),
            )
            page = cur.fetchall()
        if not page:
            return rows
        rows += page
        after = (page[-1]["tier"], page[-1]["score"], page[-1]["profile_id"])


# (cities, locals per city, travelers)
SIZES = {"full": (10, 150, 200), "quick": (4, 80, 60), "tiny": (2, 15, 6)}


def run_eval(url: str, *, size: str = "full", seed: int = 2031) -> dict[str, Any]:
    started = time.perf_counter()
    rng = random.Random(seed)
    n_cities, per_city, n_travelers = SIZES[size]
    cities = [
        (f"Eval City {i:02d} {seed}", CITY_LANGS[i % len(CITY_LANGS)]) for i in range(n_cities)
    ]
    world = make_locals(rng, cities, per_city)
    hidden = {h.id: h for h, _ in world}
    travelers = make_travelers(rng, cities, n_travelers)
    sums = {"ours": 0.0, "by_rating": 0.0, "random": 0.0}
    judged = 0
    with psycopg.connect(url, autocommit=True) as conn:
        load_world(conn, world)
        for traveler in travelers:
            rows = our_ranking(conn, traveler)
            candidates = [hidden[r["profile_id"]] for r in rows]
            labels = would_book(rng, traveler, candidates)
            if not labels:
                continue
            judged += 1
            ours = [r["profile_id"] for r in rows]
            by_rating = [
                r["profile_id"]
                for r in sorted(
                    rows,
                    key=lambda r: (
                        -(r["rating_avg"] or 0),
                        -r["rating_count"],
                        str(r["profile_id"]),
                    ),
                )
            ]
            shuffled = list(ours)
            rng.shuffle(shuffled)
            sums["ours"] += ndcg_at(ours, labels)
            sums["by_rating"] += ndcg_at(by_rating, labels)
            sums["random"] += ndcg_at(shuffled, labels)
    mean = {k: round(v / judged, 4) if judged else 0.0 for k, v in sums.items()}
    return {
        "locals": len(world),
        "travelers": n_travelers,
        "judged_travelers": judged,
        "ndcg_at_10": {
            **mean,
            "ratio_vs_rating": round(mean["ours"] / mean["by_rating"], 2)
            if mean["by_rating"]
            else None,
        },
        "goal_ratio_vs_rating": 1.3,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db-url", required=True, help="a migrated database (superuser)")
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--seed", type=int, default=2031)
    args = parser.parse_args(argv)
    print(json.dumps(run_eval(args.db_url, size=args.size, seed=args.seed), sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
