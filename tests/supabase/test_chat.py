"""Chat behaviour through the persona harness: starting, writing, editing, reading, inbox,
history, flood guard, masking, deletion, and exactly what the triggers broadcast."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.harness.personas import ANON, SERVICE, Persona, acting_as, query
from tests.harness.world import block, create_person


@pytest.fixture(scope="module")
def conn(fresh_db: Any) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(fresh_db(), autocommit=True) as c:
        yield c


@pytest.fixture
def pair(conn: psycopg.Connection[Any]) -> tuple[Persona, Persona, uuid.UUID]:
    """A traveler, a local, and the conversation the traveler started with them."""
    traveler = create_person(conn, "traveler", "Tara")
    local = create_person(conn, "local", "Luca", city="Lisbon")
    return traveler, local, start(conn, traveler, local)


def start(conn: psycopg.Connection[Any], traveler: Persona, local: Persona) -> uuid.UUID:
    with acting_as(conn, traveler, commit=True) as cur:
        cur.execute("select public.start_conversation(%s) as id", (local.uid,))
        row = cur.fetchone()
    assert row is not None
    return uuid.UUID(str(row["id"]))


def send(conn: psycopg.Connection[Any], who: Persona, conv: uuid.UUID, body: str) -> dict[str, Any]:
    with acting_as(conn, who, commit=True) as cur:
        cur.execute(
            "insert into public.messages (conversation_id, body) values (%s, %s)"
            " returning id, body, masked, sender_id, created_at",
            (conv, body),
        )
        row = cur.fetchone()
    assert row is not None
    return row


def error_of(conn: psycopg.Connection[Any], persona: Persona, sql: str, params: Any) -> Any:
    with pytest.raises(psycopg.Error) as info:
        query(conn, persona, sql, params)
    return info.value


def age_message(conn: psycopg.Connection[Any], message_id: Any, interval: str) -> None:
    conn.execute(
        "alter table public.messages disable trigger messages_prepare;"
        f" update public.messages set created_at = now() - interval '{interval}'"
        f" where id = '{message_id}';"
        " alter table public.messages enable trigger messages_prepare".encode()
    )


# start_conversation ------------------------------------------------------------


def test_start_conversation_is_idempotent(conn: psycopg.Connection[Any]) -> None:
    traveler = create_person(conn, "traveler", "T")
    local = create_person(conn, "local", "L", city="Lisbon")
    first = start(conn, traveler, local)
    assert start(conn, traveler, local) == first
    rows = query(
        conn,
        SERVICE,
        "select profile_id from public.conversation_participants where conversation_id = %s",
        (first,),
    )
    assert {r["profile_id"] for r in rows} == {traveler.uid, local.uid}


@pytest.mark.parametrize(
    ("case", "detail"),
    [
        ("local_caller", "not_a_traveler"),
        ("not_accepting", "local_not_accepting"),
        ("unlisted", "local_not_accepting"),
        ("blocked", "blocked"),
        ("blocked_by_me", "blocked"),
    ],
)
def test_start_conversation_refusals(conn: psycopg.Connection[Any], case: str, detail: str) -> None:
    traveler = create_person(conn, "traveler", "T")
    local = create_person(
        conn,
        "local",
        "L",
        city=None if case == "unlisted" else "Lisbon",
        accepting_requests=case != "not_accepting",
    )
    caller = traveler
    if case == "local_caller":
        caller = create_person(conn, "local", "Other", city="Lisbon")
    if case == "blocked":
        block(conn, local, traveler)
    if case == "blocked_by_me":
        block(conn, traveler, local)
    err = error_of(conn, caller, "select public.start_conversation(%s)", (local.uid,))
    assert err.diag.message_detail == detail


def test_anon_cannot_call_chat_rpcs(conn: psycopg.Connection[Any]) -> None:
    err = error_of(conn, ANON, "select public.start_conversation(%s)", (uuid.uuid4(),))
    assert err.sqlstate == "42501"


# writing, editing, unsending --------------------------------------------------------


def test_message_defaults_to_the_caller(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, _local, conv = pair
    row = send(conn, traveler, conv, "Hi! Are you free on Saturday?")
    assert row["sender_id"] == traveler.uid
    assert row["masked"] is False


@pytest.mark.parametrize("body", ["", "x" * 4001])
def test_body_length_is_checked(conn: psycopg.Connection[Any], pair: Any, body: str) -> None:
    traveler, _local, conv = pair
    err = error_of(
        conn,
        traveler,
        "insert into public.messages (conversation_id, body) values (%s, %s)",
        (conv, body),
    )
    assert err.sqlstate == "23514"


def test_edit_within_window_sets_edited_at(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, _local, conv = pair
    msg = send(conn, traveler, conv, "See you at 10")
    rows = query(
        conn,
        traveler,
        "update public.messages set body = 'See you at 11' where id = %s"
        " returning body, edited_at is not null as edited",
        (msg["id"],),
    )
    assert rows == [{"body": "See you at 11", "edited": True}]


def test_edit_after_window_is_refused(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, _local, conv = pair
    msg = send(conn, traveler, conv, "Old words")
    age_message(conn, msg["id"], "16 minutes")
    err = error_of(
        conn, traveler, "update public.messages set body = 'New words' where id = %s", (msg["id"],)
    )
    assert (err.sqlstate, err.diag.message_detail) == ("22023", "edit_window_expired")


def test_unsend_clears_the_text(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, local, conv = pair
    msg = send(conn, traveler, conv, "Oops, wrong chat")
    with acting_as(conn, traveler, commit=True) as cur:
        cur.execute("update public.messages set deleted_at = now() where id = %s", (msg["id"],))
    rows = query(
        conn,
        local,
        "select body, deleted_at is not null as gone from public.messages where id = %s",
        (msg["id"],),
    )
    assert rows == [{"body": None, "gone": True}]
    err = error_of(
        conn, traveler, "update public.messages set body = 'back' where id = %s", (msg["id"],)
    )
    assert err.diag.message_detail == "message_deleted"


def test_unsend_after_window_is_refused(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, _local, conv = pair
    msg = send(conn, traveler, conv, "Yesterday's news")
    age_message(conn, msg["id"], "25 hours")
    err = error_of(
        conn,
        traveler,
        "update public.messages set deleted_at = now() where id = %s",
        (msg["id"],),
    )
    assert err.diag.message_detail == "unsend_window_expired"


def test_users_cannot_hard_delete(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, _local, conv = pair
    msg = send(conn, traveler, conv, "Permanent")
    err = error_of(conn, traveler, "delete from public.messages where id = %s", (msg["id"],))
    assert err.sqlstate == "42501"


def test_block_stops_messages_both_ways(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, local, conv = pair
    send(conn, traveler, conv, "Before the block")
    block(conn, local, traveler)
    for who in (traveler, local):
        err = error_of(
            conn,
            who,
            "insert into public.messages (conversation_id, body) values (%s, 'hi')",
            (conv,),
        )
        assert err.sqlstate == "42501"
    # History stays readable.
    assert (
        len(
            query(
                conn, traveler, "select id from public.messages where conversation_id = %s", (conv,)
            )
        )
        == 1
    )


def test_a_block_stops_edits_but_not_unsending(conn: psycopg.Connection[Any], pair: Any) -> None:
    """An edit reaches the other side (it is broadcast), so a block stops it; unsending only
    takes a message away, so it stays allowed."""
    traveler, local, conv = pair
    first = send(conn, local, conv, "hello")
    second = send(conn, local, conv, "hello again")
    block(conn, traveler, local)
    err = error_of(
        conn,
        local,
        "update public.messages set body = 'you cannot escape me' where id = %s",
        (first["id"],),
    )
    assert err.sqlstate == "42501"
    rows = query(
        conn,
        local,
        "update public.messages set deleted_at = now() where id = %s returning body",
        (second["id"],),
    )
    assert rows == [{"body": None}]
    stored = conn.execute(
        "select body from public.messages where id = %s", (first["id"],)
    ).fetchone()
    assert stored == ("hello",)


def test_flood_guard(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, _local, conv = pair
    conn.execute(
        "update private.app_settings set setting_value = '3'"
        " where setting_name = 'chat_messages_per_minute'"
    )
    try:
        for i in range(3):
            send(conn, traveler, conv, f"message {i}")
        err = error_of(
            conn,
            traveler,
            "insert into public.messages (conversation_id, body) values (%s, 'one more')",
            (conv,),
        )
        assert (err.sqlstate, err.diag.message_detail) == ("PT429", "rate_limited")
    finally:
        conn.execute(
            "update private.app_settings set setting_value = '30'"
            " where setting_name = 'chat_messages_per_minute'"
        )


# masking -----------------------------------------------------------------------------


def test_contacts_are_masked_until_unlocked(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, _local, conv = pair
    row = send(conn, traveler, conv, "write me at tara.t@example.com please")
    assert row["masked"] is True
    assert "example.com" not in row["body"]
    assert "[contact hidden]" in row["body"]
    conn.execute(
        "update public.conversations set contact_unlocked_at = now() where id = %s", (conv,)
    )
    row = send(conn, traveler, conv, "write me at tara.t@example.com please")
    assert row == row | {"masked": False, "body": "write me at tara.t@example.com please"}


def test_editing_cannot_smuggle_contacts(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, _local, conv = pair
    msg = send(conn, traveler, conv, "hello")
    rows = query(
        conn,
        traveler,
        "update public.messages set body = 'mail tara.t@example.com' where id = %s"
        " returning masked, body",
        (msg["id"],),
    )
    assert rows[0]["masked"] is True
    assert "example.com" not in rows[0]["body"]


def test_attachment_text_is_masked_like_any_message(
    conn: psycopg.Connection[Any], pair: Any
) -> None:
    """An attachment message (written by the service, without text) can be given text by its
    author; that text is masked exactly as a text message's."""
    traveler, _local, conv = pair
    (msg_id,) = conn.execute(
        "insert into public.messages (conversation_id, sender_id, kind, attachment_path)"
        " values (%s, %s, 'attachment', %s) returning id",
        (conv, traveler.uid, f"{conv}/a.webp"),
    ).fetchone() or (None,)
    rows = query(
        conn,
        traveler,
        "update public.messages set body = 'whatsapp +351 912 345 678 / tina@gmail.com'"
        " where id = %s returning kind, masked, body",
        (msg_id,),
    )
    assert rows[0]["kind"] == "attachment"
    assert rows[0]["masked"] is True
    assert "912" not in rows[0]["body"]
    assert "gmail" not in rows[0]["body"]
    preview = conn.execute(
        "select last_message_preview from public.conversations where id = %s", (conv,)
    ).fetchone()
    assert preview is not None
    assert "gmail" not in preview[0]


# inbox, history, read state ------------------------------------------------------------


def test_inbox_unread_and_mark_read(conn: psycopg.Connection[Any]) -> None:
    local = create_person(conn, "local", "Busy Local", city="Lisbon")
    travelers = [create_person(conn, "traveler", f"T{i}") for i in range(3)]
    convs = [start(conn, t, local) for t in travelers]
    for i, (t, c) in enumerate(zip(travelers, convs, strict=True)):
        for j in range(i + 1):
            send(conn, t, c, f"hello {j} from {i}")
    inbox = query(conn, local, "select * from public.inbox()")
    assert [r["conversation_id"] for r in inbox] == list(reversed(convs))
    assert [r["unread_count"] for r in inbox] == [3, 2, 1]
    assert inbox[0]["other_party_name"] == "T2"
    assert inbox[0]["last_message_preview"] == "hello 2 from 2"
    assert query(conn, local, "select public.unread_total() as n") == [{"n": 6}]
    with acting_as(conn, local, commit=True) as cur:
        cur.execute("select public.mark_read(%s) as left", (convs[2],))
        assert cur.fetchone() == {"left": 0}
    assert query(conn, local, "select public.unread_total() as n") == [{"n": 3}]
    # The sender's own messages never count as unread for them.
    assert query(conn, travelers[2], "select public.unread_total() as n") == [{"n": 0}]
    # Keyset pagination: two pages of the inbox cover it exactly once.
    first = query(conn, local, "select * from public.inbox(2)")
    last = first[-1]
    second = query(
        conn,
        local,
        "select * from public.inbox(2, %s, %s)",
        (last["last_activity_at"], last["conversation_id"]),
    )
    assert [r["conversation_id"] for r in first + second] == [r["conversation_id"] for r in inbox]


def test_travelers_profile_visible_to_their_local_only(
    conn: psycopg.Connection[Any], pair: Any
) -> None:
    traveler, local, _conv = pair
    stranger = create_person(conn, "local", "Stranger", city="Lisbon")
    sql = "select full_name from public.profiles where id = %s"
    assert query(conn, local, sql, (traveler.uid,)) == [{"full_name": "Tara"}]
    assert query(conn, stranger, sql, (traveler.uid,)) == []


def test_history_pages_are_stable(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, local, conv = pair
    conn.execute(
        "insert into public.messages (conversation_id, sender_id, body, created_at)"
        " select %s, %s, 'm' || i, '2026-01-01'::timestamptz + (i / 3) * interval '1 second'"
        " from generate_series(1, 25) as i",
        (conv, traveler.uid),
    )
    seen: list[Any] = []
    before: tuple[Any, Any] = (None, None)
    while True:
        page = query(
            conn, local, "select * from public.message_history(%s, %s, %s, 10)", (conv, *before)
        )
        if not page:
            break
        seen += [r["id"] for r in page]
        before = (page[-1]["created_at"], page[-1]["id"])
    everything = query(
        conn,
        SERVICE,
        "select id from public.messages where conversation_id = %s"
        " order by created_at desc, id desc",
        (conv,),
    )
    assert seen == [r["id"] for r in everything]


def test_account_deletion_keeps_the_other_side_readable(
    conn: psycopg.Connection[Any], pair: Any
) -> None:
    traveler, local, conv = pair
    send(conn, local, conv, "Welcome to Lisbon!")
    send(conn, traveler, conv, "Thanks!")
    conn.execute("delete from private.accounts where id = %s", (local.uid,))
    rows = query(
        conn,
        traveler,
        "select sender_id, body from public.messages where conversation_id = %s"
        " order by created_at",
        (conv,),
    )
    assert rows == [
        {"sender_id": None, "body": "Welcome to Lisbon!"},
        {"sender_id": traveler.uid, "body": "Thanks!"},
    ]
    inbox = query(conn, traveler, "select other_party_name from public.inbox()")
    assert inbox == [{"other_party_name": "Deleted user"}]


# what the triggers broadcast -----------------------------------------------------------


def broadcasts(conn: psycopg.Connection[Any], since: Any) -> list[dict[str, Any]]:
    return query(
        conn,
        SERVICE,
        "select topic, event, extension, private, payload from realtime.messages"
        " where inserted_at >= %s order by inserted_at, topic",
        (since,),
    )


def test_triggers_broadcast_exactly(conn: psycopg.Connection[Any], pair: Any) -> None:
    traveler, local, conv = pair
    since = conn.execute("select now()::timestamp").fetchone()[0]  # type: ignore[index]
    msg = send(conn, traveler, conv, "Hi, call me at +351 912 345 678")
    rows = broadcasts(conn, since)
    topic = f"conversation:{conv}"
    created = [r for r in rows if r["topic"] == topic]
    assert len(created) == 1
    assert created[0]["event"] == "message.created"
    assert (created[0]["extension"], created[0]["private"]) == ("broadcast", True)
    payload = created[0]["payload"]
    assert payload["id"] == str(msg["id"])
    assert payload["body"] == msg["body"]
    assert "912 345 678" not in payload["body"]
    assert set(payload) == {
        "id",
        "conversation_id",
        "sender_id",
        "kind",
        "body",
        "attachment_path",
        "created_at",
        "edited_at",
        "deleted_at",
        "masked",
    }
    inbox = {r["topic"]: r["payload"] for r in rows if r["topic"].startswith("user:")}
    assert set(inbox) == {f"user:{traveler.uid}", f"user:{local.uid}"}
    assert inbox[f"user:{local.uid}"]["unread_count"] == 1
    assert inbox[f"user:{traveler.uid}"]["unread_count"] == 0
    assert inbox[f"user:{local.uid}"]["preview"] == msg["body"]
    assert all(r["event"] == "inbox.updated" for r in rows if r["topic"].startswith("user:"))

    since = conn.execute("select clock_timestamp()::timestamp").fetchone()[0]  # type: ignore[index]
    with acting_as(conn, traveler, commit=True) as cur:
        cur.execute("update public.messages set deleted_at = now() where id = %s", (msg["id"],))
    rows = broadcasts(conn, since)
    conv_rows = [r for r in rows if r["topic"] == topic]
    assert [r["event"] for r in conv_rows] == ["message.deleted"]
    assert conv_rows[0]["payload"]["body"] is None

    since = conn.execute("select clock_timestamp()::timestamp").fetchone()[0]  # type: ignore[index]
    with acting_as(conn, local, commit=True) as cur:
        cur.execute("select public.mark_read(%s)", (conv,))
    rows = broadcasts(conn, since)
    assert {(r["topic"], r["event"]) for r in rows} == {
        (topic, "conversation.read"),
        (f"user:{local.uid}", "inbox.updated"),
    }
