"""Post-deploy smoke check: a deployed service and Supabase project work together end to end.

    scripts/smoke --supabase-url URL --anon-key KEY --service-url URL

Steps, each a function below, run in order; the test users are deleted at the end whatever
happened:

1. sign up a traveler and a local through the service (`POST /api/v1/auth/signup`);
2. the local completes their listing through PostgREST (`PATCH /rest/v1/local_profiles`);
3. read the directory anonymously with the `supabase` client (`GET /rest/v1/local_cards`);
4. read the traveler's own profile through `postgrest` with the service's token;
5. start a conversation (`POST /rest/v1/rpc/start_conversation`);
6. the local joins the private channel `conversation:<id>` with `realtime`, the traveler
   sends a message through PostgREST, and the local must receive `message.created`;
7. upload an avatar through the service (`POST /api/v1/uploads/avatar`), then fetch it
   from Storage at the public URL `storage3` builds;
8. delete both users through the service (`DELETE /api/v1/auth/account`).

What the tests (tests/contract/test_smoke.py) run for real and what they fake: the service
is the real app on a loopback port over a real migrated PostgreSQL, so signup, upload and
deletion are exercised end to end. PostgREST, Realtime and Storage cannot run on our
machines (no Docker, no package ships them), so the tests put a fake HTTP server and a fake
Phoenix websocket server on loopback in their place. The fakes assert exactly what
Supabase documents these servers receive (paths, `apikey` and `Authorization: Bearer`
headers, PostgREST query strings and `Prefer` headers, the Phoenix `phx_join` frame with
`private: true` and the access token) and answer with the documented shapes (JSON rows,
`phx_reply` ok, a `broadcast` frame). They prove our client calls are right; whether the
real servers behave as documented is what running this script after a deploy proves.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import secrets
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import httpx
from PIL import Image
from postgrest import AsyncPostgrestClient, SyncPostgrestClient
from realtime import AsyncRealtimeClient, RealtimeSubscribeStates
from realtime.types import RealtimeChannelOptions
from storage3 import SyncStorageClient

from supabase import create_client

Role = Literal["traveler", "local"]
DEFAULT_TIMEOUT_S = 20.0


class SmokeFailure(Exception):
    """A step did not see what a working deployment shows."""


@dataclass(frozen=True)
class Target:
    supabase_url: str
    anon_key: str
    service_url: str
    timeout: float = DEFAULT_TIMEOUT_S
    email_domain: str = "example.com"
    # Supabase serves Realtime under the project URL; only the tests' fake lives elsewhere.
    realtime_base: str | None = None

    @property
    def rest_url(self) -> str:
        return f"{self.supabase_url.rstrip('/')}/rest/v1"

    @property
    def storage_url(self) -> str:
        return f"{self.supabase_url.rstrip('/')}/storage/v1/"

    @property
    def realtime_url(self) -> str:
        return f"{(self.realtime_base or self.supabase_url).rstrip('/')}/realtime/v1"

    def api(self, path: str) -> str:
        return f"{self.service_url.rstrip('/')}/api/v1{path}"

    def headers(self, token: str | None = None) -> dict[str, str]:
        """What Supabase's gateway wants: the project key, and the user's JWT when signed in."""
        return {"apikey": self.anon_key, "Authorization": f"Bearer {token or self.anon_key}"}


@dataclass
class SmokeUser:
    role: Role
    email: str
    password: str
    user_id: str
    access_token: str


@dataclass
class Report:
    steps: list[tuple[str, bool, float, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(passed for _, passed, _, _ in self.steps)


def _expect(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SmokeFailure(
            f"{what}: HTTP {response.status_code}, expected {status}: {response.text}"
        )
    return response.json() if response.content else None


# --------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------


def sign_up(http: httpx.Client, target: Target, role: Role) -> SmokeUser:
    email = f"smoke-{role}-{uuid.uuid4().hex[:12]}@{target.email_domain}"
    password = f"smoke {secrets.token_urlsafe(18)} check"
    body = _expect(
        http.post(
            target.api("/auth/signup"),
            json={"email": email, "password": password, "full_name": f"Smoke {role}", "role": role},
        ),
        201,
        f"sign up a {role}",
    )
    return SmokeUser(role, email, password, body["user"]["id"], body["access_token"])


def list_local(target: Target, local: SmokeUser) -> dict[str, Any]:
    """The local says where they are, so the directory lists them (a PATCH as the local)."""
    with SyncPostgrestClient(target.rest_url, headers=target.headers(local.access_token)) as rest:
        result = (
            rest.from_("local_profiles")
            .update({"city": "Smoketown", "headline": "Smoke check", "accepting_requests": True})
            .eq("profile_id", local.user_id)
            .execute()
        )
    if len(result.data) != 1:
        raise SmokeFailure(f"updating the local's profile changed {len(result.data)} rows")
    return cast(dict[str, Any], result.data[0])


def read_directory(target: Target, local: SmokeUser) -> list[dict[str, Any]]:
    """Anyone may read the directory: the anonymous `supabase` client finds the new local."""
    with warnings.catch_warnings():
        # supabase-py passes its own deprecated arguments to postgrest; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        client = create_client(target.supabase_url, target.anon_key)
        result = (
            client.table("local_cards")
            .select("profile_id,full_name,city")
            .eq("profile_id", local.user_id)
            .execute()
        )
    rows = cast(list[dict[str, Any]], result.data)
    if [row["profile_id"] for row in rows] != [local.user_id]:
        raise SmokeFailure(f"the directory does not list the new local: {rows}")
    return rows


def read_own_profile(target: Target, user: SmokeUser) -> dict[str, Any]:
    with SyncPostgrestClient(target.rest_url, headers=target.headers(user.access_token)) as rest:
        result = (
            rest.from_("profiles")
            .select("id,role,full_name")
            .eq("id", user.user_id)
            .single()
            .execute()
        )
    row = cast(dict[str, Any], result.data)
    if row.get("id") != user.user_id or row.get("role") != user.role:
        raise SmokeFailure(f"own profile reads back wrong: {row}")
    return row


def start_conversation(target: Target, traveler: SmokeUser, local: SmokeUser) -> str:
    with SyncPostgrestClient(
        target.rest_url, headers=target.headers(traveler.access_token)
    ) as rest:
        result = rest.rpc("start_conversation", {"p_local_id": local.user_id}).execute()
    conversation_id = result.data
    if not isinstance(conversation_id, str):
        raise SmokeFailure(f"start_conversation returned {conversation_id!r}")
    uuid.UUID(conversation_id)
    return conversation_id


async def receive_message(
    target: Target, sender: SmokeUser, receiver: SmokeUser, conversation_id: str
) -> dict[str, Any]:
    """The receiver joins `conversation:<id>` privately; a message the sender stores arrives."""
    socket = AsyncRealtimeClient(
        target.realtime_url, token=target.anon_key, auto_reconnect=False, max_retries=1
    )
    await socket.set_auth(receiver.access_token)
    loop = asyncio.get_running_loop()
    arrived: asyncio.Future[dict[str, Any]] = loop.create_future()
    states: list[tuple[RealtimeSubscribeStates, Exception | None]] = []

    def on_message(broadcast: Any) -> None:
        if not arrived.done():
            arrived.set_result(dict(broadcast["payload"]))

    options = cast(
        RealtimeChannelOptions,
        {"config": {"private": True, "broadcast": {"self": False, "ack": False}}},
    )
    channel = socket.channel(f"conversation:{conversation_id}", options)
    channel.on_broadcast("message.created", on_message)
    try:
        async with asyncio.timeout(target.timeout):
            await channel.subscribe(lambda state, error: states.append((state, error)))
        if not states or states[-1][0] != RealtimeSubscribeStates.SUBSCRIBED:
            raise SmokeFailure(f"joining conversation:{conversation_id} failed: {states}")
        body = f"smoke check {uuid.uuid4().hex[:8]}"
        async with AsyncPostgrestClient(
            target.rest_url, headers=target.headers(sender.access_token)
        ) as rest:
            stored = (
                await rest.from_("messages")
                .insert({"conversation_id": conversation_id, "body": body})
                .execute()
            )
        rows = cast(list[dict[str, Any]], stored.data)
        stored_id = rows[0]["id"]
        try:
            message = await asyncio.wait_for(arrived, target.timeout)
        except TimeoutError:
            raise SmokeFailure("no message.created broadcast arrived") from None
        if message.get("id") != stored_id or message.get("body") != body:
            raise SmokeFailure(f"the broadcast is not the stored message: {message}")
        return message
    finally:
        await socket.close()


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (32, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload_avatar(http: httpx.Client, target: Target, user: SmokeUser) -> dict[str, Any]:
    body = _expect(
        http.post(
            target.api("/uploads/avatar"),
            headers={"Authorization": f"Bearer {user.access_token}"},
            files={"file": ("smoke.png", tiny_png(), "image/png")},
        ),
        201,
        "upload an avatar",
    )
    if not str(body.get("path", "")).startswith(f"{user.user_id}/"):
        raise SmokeFailure(f"the avatar is not in the user's folder: {body}")
    return cast(dict[str, Any], body)


def fetch_avatar(http: httpx.Client, target: Target, path: str) -> bytes:
    """Avatars are public: the URL storage3 builds serves the stored WebP to anyone."""
    storage = SyncStorageClient(target.storage_url, headers=target.headers())
    url = storage.from_("avatars").get_public_url(path)
    response = http.get(url)
    if response.status_code != 200:
        raise SmokeFailure(f"GET {url}: HTTP {response.status_code}")
    data = response.content
    if not (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        raise SmokeFailure(f"the avatar is not a WebP image ({data[:12]!r})")
    return data


def delete_user(http: httpx.Client, target: Target, user: SmokeUser) -> None:
    _expect(
        http.request(
            "DELETE",
            target.api("/auth/account"),
            headers={"Authorization": f"Bearer {user.access_token}"},
            json={"password": user.password},
        ),
        204,
        f"delete the {user.role}",
    )


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------


def _deleter(http: httpx.Client, target: Target, user: SmokeUser) -> Callable[[], None]:
    return lambda: delete_user(http, target, user)


def run(target: Target, *, say: Callable[[str], None] = print) -> Report:
    report = Report()
    users: list[SmokeUser] = []

    def step(name: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            value = fn()
        except Exception as exc:
            elapsed = time.perf_counter() - started
            report.steps.append((name, False, elapsed, f"{type(exc).__name__}: {exc}"))
            say(f"FAIL {name} ({elapsed * 1000:.0f} ms): {type(exc).__name__}: {exc}")
            raise
        elapsed = time.perf_counter() - started
        report.steps.append((name, True, elapsed, ""))
        say(f"ok   {name} ({elapsed * 1000:.0f} ms)")
        return value

    with httpx.Client(timeout=target.timeout) as http:
        try:
            traveler = step("sign up a traveler", lambda: sign_up(http, target, "traveler"))
            users.append(traveler)
            local = step("sign up a local", lambda: sign_up(http, target, "local"))
            users.append(local)
            step("list the local", lambda: list_local(target, local))
            step("read the directory", lambda: read_directory(target, local))
            step("read own profile", lambda: read_own_profile(target, traveler))
            conversation = step(
                "start a conversation", lambda: start_conversation(target, traveler, local)
            )
            step(
                "receive a message over Realtime",
                lambda: asyncio.run(receive_message(target, traveler, local, conversation)),
            )
            avatar = step("upload an avatar", lambda: upload_avatar(http, target, traveler))
            step(
                "fetch the avatar from Storage", lambda: fetch_avatar(http, target, avatar["path"])
            )
        except Exception:  # noqa: S110 - already reported; clean up below
            pass
        finally:
            for user in reversed(users):
                try:
                    step(f"delete the {user.role}", _deleter(http, target, user))
                except Exception:  # noqa: S112 - reported; try the next user
                    continue
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--supabase-url", required=True, help="https://<ref>.supabase.co")
    parser.add_argument("--anon-key", required=True, help="the project's publishable (anon) key")
    parser.add_argument("--service-url", required=True, help="where the service is deployed")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S)
    parser.add_argument("--email-domain", default="example.com")
    args = parser.parse_args(argv)
    target = Target(
        args.supabase_url, args.anon_key, args.service_url, args.timeout, args.email_domain
    )
    report = run(target, say=lambda line: print(line, file=sys.stderr, flush=True))
    passed = sum(1 for _, ok, _, _ in report.steps if ok)
    print(
        json.dumps(
            {
                "smoke": "ok" if report.ok else "failed",
                "passed": passed,
                "failed": len(report.steps) - passed,
            }
        )
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
