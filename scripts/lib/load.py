"""`scripts/load`: 200 concurrent clients for 60 s over a realistic mix, from another process.

    scripts/load [--quick] [--clients 200] [--seconds 60] [--think-ms 1000] [--workers 2]

Starts a throwaway migrated and seeded database and the service (`uvicorn --workers 2`, the
production settings: OWASP argon2, rate limits on), then drives it over loopback from this
process. Each virtual client is one demo account (supabase/seed.sql) with a loopback source
address of its own (127.42.x.y), so per-IP rate limits see 200 people, not one. A client
signs in, then loops: pick an operation by weight, send it, wait a think time (uniform, mean
`--think-ms`; 0 makes it a closed-loop saturation run):

    me 55 · matches 30 · refresh 10 · login 3 · avatar 2 (only when the OpenAPI has it)

Bounded by time and by a request budget. Reports throughput, p50/p95/p99 per operation and
errors (anything that is not a 2xx, and failed connections); the last line is one JSON object.

The module also holds `serve_service`, the real service in a subprocess, which `scripts/fuzz`
and tests/hardening use too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import ipaddress
import json
import math
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from PIL import Image

from scripts.lib.bench import bench_database
from scripts.lib.migrate import apply_seed
from scripts.lib.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[2]
HEALTH_PATH = "/api/v1/health"
# Cheap argon2 (1 MiB, t=1) for runs that sign up many accounts; the defaults stay OWASP's.
CHEAP_ARGON2 = {"ARGON2_MEMORY_KIB": "1024", "ARGON2_TIME_COST": "1"}


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    secret: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def service_env(database_url: str, secret: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # Nothing from the caller's shell or a .env may change what is being tested.
        if not key.startswith(("DB_", "RATE_LIMIT_", "ARGON2_", "STORAGE_", "LOGIN_"))
        and key not in {"REDIS_URL", "DATABASE_URL", "SUPABASE_JWT_SECRET", "JWT_SIGNING_KEY"}
    }
    env.update(
        {
            "ENV": "test",
            "DATABASE_URL": database_url,
            "SUPABASE_JWT_SECRET": secret,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def wait_healthy(service: Service, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"the service exited during startup:\n{service.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(service.base_url + HEALTH_PATH, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the service did not become healthy:\n{service.log_tail()}")


@contextlib.contextmanager
def serve_service(
    database_url: str,
    *,
    env: Mapping[str, str] | None = None,
    workers: int = 1,
    log_path: Path | None = None,
    secret: str | None = None,
    wait: bool = True,
    startup_timeout_s: float = 30.0,
) -> Iterator[Service]:
    """Start the service, wait for health 200 (unless `wait=False`), stop it afterwards."""
    secret = secret or secrets.token_urlsafe(48)
    port = free_port()
    if log_path is None:
        log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"lg-service-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
        ],
        env=service_env(database_url, secret, env),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    service = Service(process, port, log_path, secret)
    try:
        if wait:
            wait_healthy(service, startup_timeout_s)
        yield service
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# --------------------------------------------------------------------------------------
# The load generator
# --------------------------------------------------------------------------------------

DEMO_PASSWORD = "localghost-demo"  # noqa: S105  (published with the seed)
OPENAPI_PATH = "/api/openapi.json"
AVATAR_PATH = "/api/v1/uploads/avatar"
# Avatar uploads are rare in a session and by far the most expensive call (a decode and two
# WebP encodes, ~150 ms of CPU); logins are once per session (sessions refresh).
WEIGHTS = {"me": 55, "matches": 30, "refresh": 10, "login": 3, "avatar": 2}
# Clients signing in before the measured window, at most this many at once.
WARMUP_CONCURRENCY = 8
UPLOADS = frozenset({"avatar"})
GOAL_P99_MS = 200.0
# One request may take this long before it counts as an error (and the client reconnects).
REQUEST_TIMEOUT_S = 30.0


def say(line: str) -> None:
    print(line, flush=True)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection from a fixed loopback source address."""

    def __init__(self, host: str, port: int, source: str) -> None:
        self.host, self.port, self.source = host, port, source
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, local_addr=(self.source, 0)
        )

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Answer:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in {"POST", "PUT", "PATCH", "DELETE"}:
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        for attempt in range(2):
            fresh = self.writer is None
            if fresh:
                await self._open()
            assert self.reader is not None
            assert self.writer is not None
            try:
                self.writer.write(raw)
                return await asyncio.wait_for(self._read(self.reader), REQUEST_TIMEOUT_S)
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server closed an idle keep-alive connection: reconnect and resend once.
                self.close()
                if fresh or attempt:
                    raise
            except BaseException:
                self.close()
                raise
        raise AssertionError("unreachable")

    async def _read(self, reader: asyncio.StreamReader) -> Answer:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Answer(status, headers, body)


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    budget: int = 0
    warmup_errors: int = 0

    def record(self, op: str, seconds: float, status: int, error: str | None = None) -> None:
        self.latencies.setdefault(op, []).append(seconds)
        counts = self.statuses.setdefault(op, {})
        counts[status] = counts.get(status, 0) + 1
        if error is not None:
            self.errors.setdefault(op, []).append(error)

    def take(self, deadline: float) -> bool:
        if self.budget <= 0 or time.monotonic() >= deadline:
            return False
        self.budget -= 1
        return True


def percentile(ordered: Sequence[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Plan:
    host: str
    port: int
    accounts: list[tuple[str, str]]  # (email, role)
    cities: list[str]
    seconds: float
    max_requests: int
    think_ms: float
    weights: dict[str, int]
    avatar: bytes | None
    seed: int = 0


def jpeg_avatar(edge: int = 800) -> bytes:
    """A photo-like JPEG (smooth colour gradients, a little grain), ~50 KB."""
    red = Image.linear_gradient("L").resize((edge, edge))
    green = red.rotate(90)
    blue = Image.radial_gradient("L").resize((edge, edge))
    image = Image.merge("RGB", (red, green, blue))
    grain = Image.effect_noise((edge, edge), 12).convert("RGB")
    image = Image.blend(image, grain, 0.08)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def multipart(data: bytes, filename: str, content_type: str) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
        f"\r\nContent-Type: {content_type}\r\n\r\n"
    ).encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def source_address(index: int) -> str:
    return f"127.42.{index // 250}.{index % 250 + 1}"


class Client:
    def __init__(self, index: int, plan: Plan, stats: Stats, deadline: float) -> None:
        self.plan, self.stats, self.deadline = plan, stats, deadline
        self.email, self.role = plan.accounts[index % len(plan.accounts)]
        self.rng = random.Random(plan.seed * 100_003 + index)
        self.conn = Connection(plan.host, plan.port, source_address(index))
        self.access = ""
        self.refresh = ""

    async def call(
        self,
        op: str,
        method: str,
        path: str,
        body: bytes = b"",
        content_type: str = "application/json",
        auth: bool = True,
    ) -> Answer | None:
        headers = {"Accept": "application/json"}
        if body:
            headers["Content-Type"] = content_type
        if auth:
            headers["Authorization"] = f"Bearer {self.access}"
        started = time.perf_counter()
        try:
            answer = await self.conn.request(method, path, headers, body)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            self.stats.record(op, time.perf_counter() - started, 0, type(exc).__name__)
            return None
        elapsed = time.perf_counter() - started
        error = None
        if not 200 <= answer.status < 300:
            error = f"{answer.status} {answer.body[:200].decode(errors='replace')}"
        self.stats.record(op, elapsed, answer.status, error)
        return answer if error is None else None

    def _keep_tokens(self, answer: Answer | None) -> None:
        if answer is not None:
            tokens = answer.json()
            self.access, self.refresh = tokens["access_token"], tokens["refresh_token"]

    async def login(self) -> None:
        body = json.dumps({"email": self.email, "password": DEMO_PASSWORD}).encode()
        self._keep_tokens(await self.call("login", "POST", "/api/v1/auth/login", body, auth=False))

    async def do_refresh(self) -> None:
        body = json.dumps({"refresh_token": self.refresh}).encode()
        answer = await self.call("refresh", "POST", "/api/v1/auth/refresh", body, auth=False)
        self._keep_tokens(answer)

    async def matches(self) -> None:
        starts = date.today() + timedelta(days=self.rng.randrange(7, 120))
        ends = starts + timedelta(days=self.rng.randrange(0, 7))
        city = self.rng.choice(self.plan.cities)
        query = f"starts_on={starts}&ends_on={ends}&city={city.replace(' ', '%20')}"
        if self.rng.random() < 0.5:
            query += "&languages=en"
        await self.call("matches", "GET", f"/api/v1/matches?{query}")

    async def avatar(self) -> None:
        assert self.plan.avatar is not None
        content_type, body = multipart(self.plan.avatar, "me.jpg", "image/jpeg")
        await self.call("avatar", "POST", AVATAR_PATH, body, content_type)

    async def sign_in(self, gate: asyncio.Semaphore) -> None:
        """Before the measured window: a user of the app already holds a session."""
        async with gate:
            await self.login()

    async def run(self) -> None:
        ops = list(self.plan.weights)
        weights = [self.plan.weights[op] for op in ops]
        try:
            # Spread the clients' first requests over one think time, not the same instant.
            await asyncio.sleep(self.rng.uniform(0, self.plan.think_ms / 1000))
            while self.stats.take(self.deadline):
                if not self.access:
                    await self.login()
                else:
                    op = self.rng.choices(ops, weights)[0]
                    if op == "me":
                        await self.call("me", "GET", "/api/v1/auth/me")
                    elif op == "matches":
                        await self.matches()
                    elif op == "refresh":
                        await self.do_refresh()
                    elif op == "login":
                        await self.login()
                    else:
                        await self.avatar()
                if self.plan.think_ms:
                    pause = self.rng.uniform(0, 2 * self.plan.think_ms) / 1000
                    await asyncio.sleep(min(pause, max(0.0, self.deadline - time.monotonic())))
        finally:
            self.conn.close()


async def drive(plan: Plan, clients: int) -> tuple[Stats, float]:
    if not ipaddress.ip_address(plan.host).is_loopback:
        raise SystemExit("the load generator only targets loopback addresses")
    warmup = Stats(budget=clients)
    population = [Client(i, plan, warmup, math.inf) for i in range(clients)]
    gate = asyncio.Semaphore(WARMUP_CONCURRENCY)
    await asyncio.gather(*(client.sign_in(gate) for client in population))
    stats = Stats(budget=plan.max_requests)
    started = time.monotonic()
    for client in population:
        client.stats, client.deadline = stats, started + plan.seconds
    await asyncio.gather(*(client.run() for client in population))
    stats.warmup_errors = sum(len(e) for e in warmup.errors.values())
    return stats, time.monotonic() - started


def summarize(stats: Stats, elapsed: float) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for op, values in sorted(stats.latencies.items()):
        ordered = sorted(values)
        errors = stats.errors.get(op, [])
        operations[op] = {
            "requests": len(ordered),
            "errors": len(errors),
            "rps": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
            "p95_ms": round(percentile(ordered, 0.95) * 1000, 1),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1) if ordered else 0.0,
            "statuses": {str(k): v for k, v in sorted(stats.statuses.get(op, {}).items())},
            "error_samples": sorted(set(errors))[:3],
        }
    total = sum(o["requests"] for o in operations.values())
    errors = sum(o["errors"] for o in operations.values())
    non_upload = [v for op, vs in stats.latencies.items() if op not in UPLOADS for v in vs]
    p99_non_upload = round(percentile(sorted(non_upload), 0.99) * 1000, 1)
    return {
        "seconds": round(elapsed, 2),
        "requests": total,
        "errors": errors,
        "warmup_errors": stats.warmup_errors,
        "rps": round(total / elapsed, 1) if elapsed else 0.0,
        "p99_non_upload_ms": p99_non_upload,
        "operations": operations,
        "goals": {"zero_errors": errors == 0, "p99_non_upload_le_200ms": p99_non_upload <= 200},
    }


def load_plan_data(database_url: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The seeded demo accounts (travelers first) and the cities that have locals."""
    with psycopg.connect(database_url) as conn:
        accounts = conn.execute(
            "select a.email, p.role::text from private.accounts as a"
            " join public.profiles as p using (id)"
            " where a.email like '%%localghost.dev' order by p.role desc, a.email"
        ).fetchall()
        cities = conn.execute(
            "select distinct city from public.local_profiles where city is not null order by 1"
        ).fetchall()
    return [(str(e), str(r)) for e, r in accounts], [str(c) for (c,) in cities]


def has_avatar_upload(base_url: str) -> bool:
    document = httpx.get(base_url + OPENAPI_PATH, timeout=10).json()
    return AVATAR_PATH in document.get("paths", {})


def run_load(
    base_url: str,
    database_url: str,
    *,
    clients: int,
    seconds: float,
    think_ms: float,
    max_requests: int,
    seed: int = 0,
    weights: Mapping[str, int] = WEIGHTS,
) -> dict[str, Any]:
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    accounts, cities = load_plan_data(database_url)
    if not accounts or not cities:
        raise SystemExit("the database holds no demo data: seed it (scripts/migrate --seed)")
    mix = dict(weights)
    avatar = None
    if has_avatar_upload(base_url):
        avatar = jpeg_avatar()
    else:
        mix.pop("avatar", None)
    plan = Plan(
        host, int(port), accounts, cities, seconds, max_requests, think_ms, mix, avatar, seed
    )
    stats, elapsed = asyncio.run(drive(plan, clients))
    result = summarize(stats, elapsed)
    result["config"] = {
        "clients": clients,
        "seconds": seconds,
        "think_ms": think_ms,
        "weights": mix,
        "accounts": len(accounts),
        "avatar_bytes": len(avatar) if avatar else 0,
    }
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/load", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=None, help="duration (60, quick 10)")
    parser.add_argument("--think-ms", type=float, default=1000.0, help="mean pause per client")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    seconds = min(args.seconds or (10.0 if args.quick else 60.0), 600.0)

    with bench_database() as url, tempfile_dir() as tmp:
        with psycopg.connect(url, autocommit=True) as conn:
            apply_seed(conn)
        env = {
            "STORAGE_BACKEND": "local",
            "STORAGE_LOCAL_DIR": str(tmp / "storage"),
            "DB_POOL_MIN_SIZE": "4",
            "DB_POOL_MAX_SIZE": "10",
        }
        with serve_service(
            url, env=env, workers=args.workers, log_path=tmp / "service.log"
        ) as service:
            say(
                f"load: {args.clients} clients, {seconds:g} s, think {args.think_ms:g} ms,"
                f" {service.base_url} with {args.workers} workers"
            )
            result = run_load(
                service.base_url,
                url,
                clients=args.clients,
                seconds=seconds,
                think_ms=args.think_ms,
                max_requests=args.max_requests,
                seed=args.seed,
            )
            result["config"]["workers"] = args.workers
            log_tail = service.log_tail(60)
    for op, figures in result["operations"].items():
        say(
            f"  {op:8} {figures['requests']:7} req {figures['rps']:7} req/s"
            f"  p50 {figures['p50_ms']:6} ms  p95 {figures['p95_ms']:6} ms"
            f"  p99 {figures['p99_ms']:6} ms  errors {figures['errors']}"
        )
        for sample in figures["error_samples"]:
            say(f"      e.g. {sample}")
    say(
        f"  total {result['requests']} requests, {result['rps']} req/s, {result['errors']} errors,"
        f" p99 of non-upload calls {result['p99_non_upload_ms']} ms (goal <= {GOAL_P99_MS:g})"
    )
    if "Traceback" in log_tail:
        say("service log (tail):\n" + log_tail)
    print(json.dumps({"load": result}, sort_keys=True), flush=True)
    return 0 if result["errors"] == 0 and result["warmup_errors"] == 0 else 1


@contextlib.contextmanager
def tempfile_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lg-load-") as tmp:
        yield Path(tmp)


if __name__ == "__main__":
    raise SystemExit(main())
