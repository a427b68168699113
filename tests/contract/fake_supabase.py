"""Loopback stand-ins for Supabase's PostgREST, Storage and Realtime, for the smoke tests.

Neither server can run here, so these speak exactly the documented wire shapes and record
everything they receive; the tests then assert on the records. They implement nothing of
the real servers' logic beyond what the smoke check touches.

- `FakeSupabaseHttp`: a threaded HTTP server; the test gives it one `respond(request)`
  function that answers `/rest/v1/...` and `/storage/v1/...` requests.
- `FakeRealtime`: a websocket server at `/realtime/v1/websocket` speaking Phoenix JSON
  frames (`vsn=1.0.0`): it acknowledges `phx_join`, `heartbeat` and `phx_leave` with
  `phx_reply`, or refuses joins as Realtime does when the policies say no, and pushes
  `broadcast` frames to the sockets joined to a topic.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection, serve


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def bearer_claims(self) -> dict[str, Any]:
        """The JWT's claims, unverified (the fake only needs to know who is calling)."""
        token = self.headers.get("authorization", "").removeprefix("Bearer ")
        parts = token.split(".")
        if len(parts) != 3:
            return {}
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
        return claims


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-encoded unless bytes
    content_type: str = "application/json"


Responder = Callable[[Request], Response]


class FakeSupabaseHttp:
    def __init__(self, respond: Responder) -> None:
        self.requests: list[Request] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(
                    method=self.command,
                    path=url.path,
                    query=parse_qsl(url.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                fake.requests.append(request)
                try:
                    answer = respond(request)
                except Exception as exc:  # an assertion in the responder: fail the call
                    answer = Response(599, {"fake": f"{type(exc).__name__}: {exc}"})
                data = (
                    answer.body
                    if isinstance(answer.body, bytes)
                    else json.dumps(answer.body).encode()
                )
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSupabaseHttp:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class FakeRealtime:
    """Phoenix channels over a websocket, in a thread of its own."""

    refuse_joins: bool = False
    frames: list[dict[str, Any]] = field(default_factory=list)
    connect_paths: list[str] = field(default_factory=list)
    joined: dict[str, list[ServerConnection]] = field(default_factory=dict)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None

    async def _handler(self, ws: ServerConnection) -> None:
        self.connect_paths.append(ws.request.path if ws.request else "")
        async for raw in ws:
            frame = json.loads(raw)
            self.frames.append(frame)
            event, topic, ref = frame["event"], frame["topic"], frame.get("ref")
            if event == "phx_join" and self.refuse_joins:
                reply = {"status": "error", "response": {"reason": "Unauthorized"}}
            elif event == "phx_join":
                self.joined.setdefault(topic, []).append(ws)
                reply = {"status": "ok", "response": {"postgres_changes": []}}
            elif event in ("heartbeat", "phx_leave", "access_token"):
                reply = {"status": "ok", "response": {}}
            else:
                continue
            answer = {"event": "phx_reply", "topic": topic, "payload": reply, "ref": ref}
            await ws.send(json.dumps(answer))

    def broadcast(self, topic: str, event: str, payload: dict[str, Any]) -> None:
        """What Realtime pushes when the database inserts into realtime.messages."""
        frame = json.dumps(
            {
                "event": "broadcast",
                "topic": f"realtime:{topic}",
                "payload": {"event": event, "payload": payload, "type": "broadcast"},
                "ref": None,
            }
        )
        assert self._loop is not None
        for ws in self.joined.get(f"realtime:{topic}", []):
            asyncio.run_coroutine_threadsafe(ws.send(frame), self._loop).result(5)

    @contextmanager
    def running(self) -> Iterator[FakeRealtime]:
        ready = threading.Event()
        stop: asyncio.Future[None] | None = None

        async def main() -> None:
            nonlocal stop
            self._loop = asyncio.get_running_loop()
            stop = self._loop.create_future()
            async with serve(self._handler, "127.0.0.1", 0) as server:
                self.port = next(iter(server.sockets)).getsockname()[1]
                ready.set()
                await stop

        thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        thread.start()
        assert ready.wait(10)
        try:
            yield self
        finally:
            assert self._loop is not None
            assert stop is not None
            self._loop.call_soon_threadsafe(stop.set_result, None)
            thread.join(10)
