"""scripts/smoke, step by step: the service for real, Supabase's servers at the wire.

The service runs on a loopback port over a real migrated database (signup, upload and
account deletion happen for real). PostgREST, Storage and Realtime are the fakes in
fake_supabase.py; they check every request against the documented shapes, and these tests
assert on what they recorded.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn

from scripts.lib import smoke
from scripts.lib.pgcluster import free_port
from service.core.config import Settings
from service.main import create_app
from tests.contract.fake_supabase import FakeRealtime, FakeSupabaseHttp, Request, Response

ANON_KEY = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiJ9.ZmFrZS1hbm9uLWtleQ"
OBJECT_JSON = "application/vnd.pgrst.object+json"


@pytest.fixture(scope="module")
def storage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("smoke-storage")


@pytest.fixture(scope="module")
def smoke_db(fresh_db: Callable[[], str]) -> str:
    return fresh_db()


@pytest.fixture(scope="module")
def service_url(smoke_db: str, storage_dir: Path) -> Iterator[str]:
    """The real app under uvicorn on a loopback port (the smoke check speaks plain HTTP)."""
    settings = Settings(
        _env_file=None,
        ENV="test",
        SUPABASE_JWT_SECRET=secrets.token_urlsafe(48),
        DATABASE_URL=smoke_db,
        RATE_LIMIT_ENABLED=False,
        REDIS_URL=None,
        ARGON2_MEMORY_KIB=1024,
        ARGON2_TIME_COST=1,
        STORAGE_BACKEND="local",
        STORAGE_LOCAL_DIR=str(storage_dir),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class FakeProject:
    """A responder for FakeSupabaseHttp: answers the smoke check's calls as Supabase would.

    Every request must carry the project key as `apikey` and a bearer token; user calls
    carry the token the service issued to that user. Answers come from a small in-memory
    picture of the rows the real database would return.
    """

    def __init__(self, realtime: FakeRealtime, storage_dir: Path) -> None:
        self.realtime = realtime
        self.storage_dir = storage_dir
        self.conversation_id = str(uuid.uuid4())
        self.roles: dict[str, str] = {}

    def respond(self, request: Request) -> Response:
        if request.path.startswith("/storage/v1/object/public/"):
            name = request.path.removeprefix("/storage/v1/object/public/")
            data = (self.storage_dir / name).read_bytes()
            return Response(200, data, "image/webp")
        assert request.headers["apikey"] == ANON_KEY
        assert request.headers["authorization"].startswith("Bearer ")
        claims = request.bearer_claims
        query = dict(request.query)
        route = (request.method, request.path)
        if route == ("PATCH", "/rest/v1/local_profiles"):
            uid = claims["sub"]
            assert query == {"profile_id": f"eq.{uid}"}
            assert "return=representation" in request.headers["prefer"]
            self.roles[uid] = "local"
            return Response(200, [{"profile_id": uid, **request.json()}])
        if route == ("GET", "/rest/v1/local_cards"):
            assert request.headers["authorization"] == f"Bearer {ANON_KEY}"  # anonymous read
            local_id = query["profile_id"].removeprefix("eq.")
            assert query == {"select": "profile_id,full_name,city", "profile_id": f"eq.{local_id}"}
            return Response(
                200, [{"profile_id": local_id, "full_name": "Smoke local", "city": "Smoketown"}]
            )
        if route == ("GET", "/rest/v1/profiles"):
            uid = claims["sub"]
            assert query == {"select": "id,role,full_name", "id": f"eq.{uid}"}
            assert request.headers["accept"] == OBJECT_JSON
            return Response(200, {"id": uid, "role": "traveler", "full_name": "Smoke traveler"})
        if route == ("POST", "/rest/v1/rpc/start_conversation"):
            assert claims["role"] == "authenticated"
            assert set(request.json()) == {"p_local_id"}
            return Response(200, self.conversation_id)
        if route == ("POST", "/rest/v1/messages"):
            body = request.json()
            assert body["conversation_id"] == self.conversation_id
            assert "return=representation" in request.headers["prefer"]
            row = {
                "id": str(uuid.uuid4()),
                "sender_id": claims["sub"],
                "kind": "text",
                "masked": False,
                "created_at": "2026-11-26T12:00:00+00:00",
                **body,
            }
            # What the messages trigger makes Realtime push to the conversation topic.
            self.realtime.broadcast(f"conversation:{self.conversation_id}", "message.created", row)
            return Response(201, [row])
        raise AssertionError(f"unexpected {request.method} {request.path}")


@pytest.fixture
def project(storage_dir: Path) -> Iterator[tuple[FakeProject, FakeSupabaseHttp, FakeRealtime]]:
    realtime = FakeRealtime()
    with realtime.running():
        fake = FakeProject(realtime, storage_dir)
        with FakeSupabaseHttp(fake.respond) as http:
            yield fake, http, realtime


def target_for(http: FakeSupabaseHttp, realtime: FakeRealtime, service_url: str) -> smoke.Target:
    return smoke.Target(
        supabase_url=http.url,
        anon_key=ANON_KEY,
        service_url=service_url,
        timeout=10,
        realtime_base=f"http://127.0.0.1:{realtime.port}",
    )


def accounts_like(db_url: str, pattern: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select count(*) from private.accounts where email like %s", [pattern]
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_the_whole_check_passes_and_leaves_no_user_behind(
    project: tuple[FakeProject, FakeSupabaseHttp, FakeRealtime], service_url: str, smoke_db: str
) -> None:
    fake, http, realtime = project
    lines: list[str] = []
    report = smoke.run(target_for(http, realtime, service_url), say=lines.append)
    assert report.ok, lines
    assert [name for name, *_ in report.steps] == [
        "sign up a traveler",
        "sign up a local",
        "list the local",
        "read the directory",
        "read own profile",
        "start a conversation",
        "receive a message over Realtime",
        "upload an avatar",
        "fetch the avatar from Storage",
        "delete the local",
        "delete the traveler",
    ]
    # Every PostgREST call went where PostgREST serves it, in this order.
    assert [(r.method, r.path) for r in http.requests] == [
        ("PATCH", "/rest/v1/local_profiles"),
        ("GET", "/rest/v1/local_cards"),
        ("GET", "/rest/v1/profiles"),
        ("POST", "/rest/v1/rpc/start_conversation"),
        ("POST", "/rest/v1/messages"),
        ("GET", http.requests[-1].path),
    ]
    assert http.requests[-1].path.startswith("/storage/v1/object/public/avatars/")
    # The service really created and really deleted both accounts.
    assert accounts_like(smoke_db, "smoke-%") == 0
    assert fake.roles  # the local's listing went through as the local


def test_realtime_join_is_private_and_carries_the_users_token(
    project: tuple[FakeProject, FakeSupabaseHttp, FakeRealtime], service_url: str
) -> None:
    _, http, realtime = project
    target = target_for(http, realtime, service_url)
    with httpx.Client() as client:
        traveler = smoke.sign_up(client, target, "traveler")
        local = smoke.sign_up(client, target, "local")
        try:
            conversation = smoke.start_conversation(target, traveler, local)
            message = asyncio.run(smoke.receive_message(target, traveler, local, conversation))
        finally:
            smoke.delete_user(client, target, traveler)
            smoke.delete_user(client, target, local)
    assert message["sender_id"] == traveler.user_id
    path = realtime.connect_paths[0]
    assert path.startswith("/realtime/v1/websocket?")
    assert dict(part.split("=", 1) for part in path.split("?", 1)[1].split("&")) == {
        "apikey": ANON_KEY,
        "vsn": "1.0.0",
    }
    join = next(f for f in realtime.frames if f["event"] == "phx_join")
    assert join["topic"] == f"realtime:conversation:{conversation}"
    assert join["payload"]["config"]["private"] is True
    assert join["payload"]["access_token"] == local.access_token


def test_a_refused_join_fails_the_step_and_still_deletes_the_users(
    project: tuple[FakeProject, FakeSupabaseHttp, FakeRealtime], service_url: str, smoke_db: str
) -> None:
    _, http, realtime = project
    realtime.refuse_joins = True
    report = smoke.run(target_for(http, realtime, service_url), say=lambda _: None)
    assert not report.ok
    outcome = {name: passed for name, passed, *_ in report.steps}
    assert outcome["receive a message over Realtime"] is False
    assert "upload an avatar" not in outcome
    assert outcome["delete the traveler"]
    assert outcome["delete the local"]
    assert accounts_like(smoke_db, "smoke-%") == 0


def test_a_wrong_status_is_a_clear_failure(service_url: str) -> None:
    target = smoke.Target("http://127.0.0.1:1", ANON_KEY, service_url)
    user = smoke.SmokeUser("traveler", "nobody@example.com", "x", str(uuid.uuid4()), "bad.token")
    with httpx.Client() as client, pytest.raises(smoke.SmokeFailure, match="HTTP 401"):
        smoke.delete_user(client, target, user)


def test_main_prints_a_json_summary(
    project: tuple[FakeProject, FakeSupabaseHttp, FakeRealtime],
    service_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, http, realtime = project
    original = smoke.Target

    def with_fake_realtime(
        url: str, key: str, service: str, timeout: float, domain: str
    ) -> smoke.Target:
        realtime_base = f"http://127.0.0.1:{realtime.port}"
        return original(url, key, service, timeout, domain, realtime_base=realtime_base)

    monkeypatch.setattr(smoke, "Target", with_fake_realtime)
    code = smoke.main(
        ["--supabase-url", http.url, "--anon-key", ANON_KEY, "--service-url", service_url]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == '{"smoke": "ok", "passed": 11, "failed": 0}'
