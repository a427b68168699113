"""Contact masking (`private.mask_contact_details`): hides contact details, keeps travel talk.

Held to a shipped corpus (tests/supabase/masking_corpus.py): at least 95% of the disguised
contact attempts caught, not one ordinary message touched. Hypothesis then writes more of
both: contact details in random formats inside ordinary sentences must disappear, and
ordinary sentences full of prices, times, dates, counts and flight numbers must not change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness.personas import acting_as, user
from tests.supabase.masking_corpus import CONTACT_ATTEMPTS, ORDINARY

HIDDEN = "[contact hidden]"
PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def mask(conn: psycopg.Connection[Any], body: str) -> str:
    row = conn.execute("select private.mask_contact_details(%s)", (body,)).fetchone()
    assert row is not None
    return str(row[0])


def mask_all(conn: psycopg.Connection[Any], bodies: Sequence[str]) -> list[str]:
    rows = conn.execute(
        "select private.mask_contact_details(b) from unnest(%s::text[]) with ordinality as t(b, i)"
        " order by i",
        (list(bodies),),
    ).fetchall()
    return [str(r[0]) for r in rows]


def caught(body: str, masked: str, secret: str) -> bool:
    return masked != body and secret.lower() not in masked.lower()


# ---------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------


def test_corpus_is_large_enough() -> None:
    assert len(CONTACT_ATTEMPTS) >= 80
    assert len(ORDINARY) >= 80
    assert all(secret in body for body, secret in CONTACT_ATTEMPTS)


def test_catches_at_least_95_percent_of_contact_attempts(conn: psycopg.Connection[Any]) -> None:
    masked = mask_all(conn, [body for body, _ in CONTACT_ATTEMPTS])
    missed = [
        (body, out)
        for (body, secret), out in zip(CONTACT_ATTEMPTS, masked, strict=True)
        if not caught(body, out, secret)
    ]
    rate = 1 - len(missed) / len(CONTACT_ATTEMPTS)
    print(f"\ncontact masking catch rate: {rate:.1%} of {len(CONTACT_ATTEMPTS)} attempts")
    for body, out in missed:
        print(f"  missed: {body!r} -> {out!r}")
    assert rate >= 0.95, missed


@pytest.mark.parametrize("body", ORDINARY, ids=[f"{i:03d}" for i in range(len(ORDINARY))])
def test_ordinary_message_is_untouched(conn: psycopg.Connection[Any], body: str) -> None:
    assert mask(conn, body) == body


def test_no_false_positives_in_the_ordinary_corpus(conn: psycopg.Connection[Any]) -> None:
    offenders = [
        (body, out)
        for body, out in zip(ORDINARY, mask_all(conn, ORDINARY), strict=True)
        if out != body
    ]
    print(f"\ncontact masking false positives: {len(offenders)} of {len(ORDINARY)}")
    assert offenders == []


# ---------------------------------------------------------------------------------------
# Shape of the output
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Call me at +1 (555) 123-4567 tomorrow", f"Call me at {HIDDEN} tomorrow"),
        ("write to ana.silva@gmail.com, thanks!", f"write to {HIDDEN}, thanks!"),
        ("my site is www.lisbonwalks.com.", f"my site is {HIDDEN}."),
        ("follow @ana_lisboa for photos", f"follow {HIDDEN} for photos"),
        ("my instagram is ana_lisboa :)", f"my {HIDDEN} :)"),
        ("whatsapp me", f"{HIDDEN} me"),
        # neighbouring spans become one placeholder
        ("whatsapp: +351 912 345 678", HIDDEN),
        # separate spans stay separate
        (
            "mail ana@lisbonwalks.pt or call 912 345 678 after 6",
            f"mail {HIDDEN} or call {HIDDEN} after 6",
        ),
        ("no contact details here", "no contact details here"),
        ("", ""),
    ],
)
def test_placeholder_replaces_the_span_and_keeps_the_rest(
    conn: psycopg.Connection[Any], body: str, expected: str
) -> None:
    assert mask(conn, body) == expected


def test_masking_is_idempotent_on_the_corpus(conn: psycopg.Connection[Any]) -> None:
    bodies = [body for body, _ in CONTACT_ATTEMPTS] + ORDINARY
    once = mask_all(conn, bodies)
    assert mask_all(conn, once) == once


def test_has_contact_details_agrees_with_masking(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "select private.has_contact_details(%s), private.has_contact_details(%s),"
        " private.mask_contact_details(null) is null",
        ("ping me at +351 912 345 678", "see you at 10:30 on 14.06.2026"),
    ).fetchone()
    assert rows == (True, False, True)


def test_functions_are_callable_by_message_writers_only(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "select r, has_function_privilege(r, 'private.mask_contact_details(text)', 'execute'),"
        " has_function_privilege(r, 'private.has_contact_details(text)', 'execute')"
        " from unnest(array['anon', 'authenticated', 'service_role']) as r"
    ).fetchall()
    assert rows == [
        ("anon", False, False),
        ("authenticated", True, True),
        ("service_role", True, True),
    ]
    # A trigger running as the sender computes the same result.
    with acting_as(conn, user("traveler", uuid4())) as cur:
        cur.execute("select private.mask_contact_details('insta: @ana_lx') as m")
        assert cur.fetchone() == {"m": HIDDEN}


# ---------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------

MONTHS = ["January", "March", "June", "July", "September", "October", "December"]
PLACES = ["Alfama", "Belém", "Sintra", "the castle", "the market", "Praça do Comércio"]
STREETS = ["Rua Augusta", "Calle Mayor", "Rue de Rivoli", "Baker Street", "Av. da Liberdade"]


@st.composite
def prices(draw: st.DrawFn) -> str:
    amount = draw(st.integers(1, 2500))
    cents = draw(st.sampled_from(["", ".50", ",90", ".99"]))
    return draw(
        st.sampled_from(
            [
                f"€{amount}{cents}",
                f"{amount}{cents} EUR",
                f"${amount:,}",
                f"R$ {amount}",
                f"{amount * 1000:,} pesos".replace(",", "."),
                f"{amount} €",
                f"USD {amount}",
                f"{amount} euros",
            ]
        )
    )


@st.composite
def times(draw: st.DrawFn) -> str:
    hour, minute = draw(st.integers(0, 23)), draw(st.sampled_from([0, 5, 15, 30, 45]))
    return draw(
        st.sampled_from(
            [
                f"{hour}:{minute:02d}",
                f"{hour:02d}:{minute:02d}",
                f"{hour % 12 + 1}am",
                f"{hour % 12 + 1}pm",
                f"{hour}h{minute:02d}",
                f"{hour}h",
                f"{hour}.{minute:02d}",
            ]
        )
    )


@st.composite
def dates(draw: st.DrawFn) -> str:
    year, month, day = (
        draw(st.integers(2024, 2030)),
        draw(st.integers(1, 12)),
        draw(st.integers(1, 28)),
    )
    return draw(
        st.sampled_from(
            [
                f"{day:02d}/{month:02d}",
                f"{day}/{month}",
                f"{year}-{month:02d}-{day:02d}",
                f"{day:02d}.{month:02d}.{year}",
                f"{day}/{month}/{year}",
                f"{month}/{day}/{year % 100:02d}",
                f"{MONTHS[month % len(MONTHS)]} {day}th",
                f"{day} {MONTHS[month % len(MONTHS)]} {year}",
            ]
        )
    )


flights = st.builds(
    lambda code, number, space: f"{code}{' ' if space else ''}{number}",
    st.sampled_from(["TP", "LH", "BA", "IB", "FR", "U2", "AF"]),
    st.integers(1, 9999),
    st.booleans(),
)
counts = st.integers(1, 12)
house_numbers = st.builds(
    lambda street, number, suffix: f"{street} {number}{suffix}",
    st.sampled_from(STREETS),
    st.integers(1, 400),
    st.sampled_from(["", "B", ", 2nd floor", ", 1º esq"]),
)

TEMPLATES = [
    "The tour costs {price} per person.",
    "We are {count} people arriving on {date} at {time}.",
    "My flight {flight} lands at {time} on {date}.",
    "Meet me at {house} at {time}, ok?",
    "Can we do {date} {time} for {count} adults and {count2} kids?",
    "Is {price} for {count} hours fine? We land {date}.",
    "Train {count}{count2} leaves from platform {count2} at {time}.",
    "Dinner at {place} was {price}, see you @ {time}!",
    "We stay at {house}, gate {count} then {place} at {time}.",
    "Let's eat at Time Out Market on {date}, around {time}.",
    "Budget {price} to {price2}, {count} people, {date} to {date2}.",
    "I'm {age} and my son is {count}; we loved {place}.",
    "The {year} earthquake museum opens at {time}, tickets {price}.",
    "Your tour has 4.{count2} stars and a {count}% discount!",
    "Flight {flight} at {time}, then {flight2} on {date}.",
    "Open {time}-{time2}, {date} to {date2}.",
    "From {date} {time} - {date2} {time2}, room {room}.",
    "Our address: {house}, {postal} Lisboa.",
    "Between {year}-{year2} the city grew; {count} {place} tours.",
    "Rooms {count}, {count2} and {room}; floors {count2}-{count}, {price}-{price2}.",
]


@st.composite
def ordinary_sentences(draw: st.DrawFn) -> str:
    template = draw(st.sampled_from(TEMPLATES))
    return template.format(
        price=draw(prices()),
        price2=draw(prices()),
        time=draw(times()),
        time2=draw(times()),
        date=draw(dates()),
        date2=draw(dates()),
        count=draw(counts),
        count2=draw(st.integers(1, 9)),
        flight=draw(flights),
        flight2=draw(flights),
        house=draw(house_numbers),
        place=draw(st.sampled_from(PLACES)),
        age=draw(st.integers(18, 90)),
        year=draw(st.integers(1500, 2025)),
        year2=draw(st.integers(1500, 2025)),
        room=draw(st.integers(100, 999)),
        postal=f"{draw(st.integers(1000, 9999))}-{draw(st.integers(100, 999))}",
    )


NUMBER_WORDS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
    "pt": ["zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove"],
    "fr": ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"],
}


@st.composite
def phone_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A phone number in some format, and the digits that must not survive masking."""
    national = draw(st.text("0123456789", min_size=8, max_size=10))
    if draw(st.booleans()):
        words = NUMBER_WORDS[draw(st.sampled_from(sorted(NUMBER_WORDS)))]
        sep = draw(st.sampled_from([" ", "-", ", ", " "]))
        spelled = sep.join(words[int(d)] for d in national)
        return spelled, spelled
    groups: list[str] = []
    rest = national
    while rest:
        size = draw(st.integers(2, 4))
        groups.append(rest[:size])
        rest = rest[size:]
    sep = draw(st.sampled_from([" ", "-", ".", "", " - ", "/", "  "]))
    if draw(st.booleans()) and len(groups) > 2:
        body = f"({groups[0]}) " + sep.join(groups[1:])
    else:
        body = sep.join(groups)
    prefix = draw(st.sampled_from(["", "+351 ", "+1 ", "+44 ", "0044 ", "+33 "]))
    return prefix + body, national


handles = st.from_regex(r"[a-z]{2,8}[_.0-9][a-z0-9_]{1,8}[a-z0-9]", fullmatch=True)


@st.composite
def social_handles(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(handles)
    template = draw(
        st.sampled_from(
            [
                "insta: @{h}",
                "ig @{h}",
                "my instagram is {h}",
                "find me on telegram: {h}",
                "snap: {h}",
                "wechat: {h}",
                "@{h}",
                "add me on insta {h}",
                "skype: live:{h}",
                "line id: {h}",
                "t.me/{h}",
                "fb.com/{h}",
                "tiktok @{h}",
                "my snapchat is {h}",
            ]
        )
    )
    return template.format(h=name), name


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.from_regex(r"[a-z][a-z0-9-]{2,12}[a-z0-9]", fullmatch=True))
    tld = draw(st.sampled_from(["com", "pt", "net", "org", "io", "co.uk", "com.br", "fr"]))
    path = draw(st.from_regex(r"[a-zA-Z0-9_-]{1,10}", fullmatch=True))
    template = draw(
        st.sampled_from(
            [
                "https://{n}.{t}/{p}",
                "http://www.{n}.{t}",
                "www.{n}.{t}",
                "{n}.{t}",
                "{n}.{t}/{p}",
                "{n} dot {t}",
                "{n}(dot){t}",
                "bit.ly/{n}",
                "wa.me/{n}",
            ]
        )
    )
    contact = template.format(n=name, t=tld, p=path)
    return contact, contact


MAIL_DOMAINS = [
    "gmail.com",
    "hotmail.pt",
    "yahoo.es",
    "outlook.fr",
    "sapo.pt",
    "icloud.com",
    "lisbonwalks.pt",
    "proton.me",
    "tours-lx.co.uk",
]


@st.composite
def emails(draw: st.DrawFn) -> tuple[str, str]:
    """Any RFC 5322 address in plain form, or a realistic one disguised."""
    if draw(st.booleans()):
        address = draw(st.emails())
        return address, address
    local = draw(st.from_regex(r"[a-z][a-z0-9._]{2,12}[a-z0-9]", fullmatch=True))
    domain = draw(st.sampled_from(MAIL_DOMAINS))
    disguised = draw(
        st.sampled_from(
            [
                f"{local}@{domain}",
                f"{local} at {domain.replace('.', ' dot ')}",
                f"{local}(at){domain.replace('.', '(dot)')}",
                f"{local} [at] {domain}",
                f"{local} @ {domain}",
                f"{local} arroba {domain.replace('.', ' punto ')}",
            ]
        )
    )
    return disguised, local


def digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


@PROPERTY_SETTINGS
@given(
    before=ordinary_sentences(),
    after=ordinary_sentences(),
    contact=st.one_of(phone_numbers(), social_handles(), urls(), emails()),
    glue=st.sampled_from([" ", " call me: ", " my contact: ", "\n", " - "]),
)
def test_generated_contact_details_are_masked(
    conn: psycopg.Connection[Any], before: str, after: str, contact: tuple[str, str], glue: str
) -> None:
    text, secret = contact
    body = f"{before}{glue}{text} {after}"
    masked = mask(conn, body)
    assert HIDDEN in masked
    assert text not in masked
    if secret.isdigit():
        # Look where the number was: the sentences around it hold digits of their own.
        middle = masked.removeprefix(before).removesuffix(after)
        assert secret[-7:] not in digits(middle)
    elif secret.lower() not in f"{before} {after}".lower():
        assert secret.lower() not in masked.lower()
    assert mask(conn, masked) == masked


@PROPERTY_SETTINGS
@given(sentences=st.lists(ordinary_sentences(), min_size=1, max_size=3))
def test_generated_ordinary_messages_are_unchanged(
    conn: psycopg.Connection[Any], sentences: list[str]
) -> None:
    body = " ".join(sentences)
    assert mask(conn, body) == body
