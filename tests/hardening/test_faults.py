"""Faults: PostgreSQL and Redis go away under the running service, then come back.

PostgreSQL: a cluster of this module's own (durable: fsync on, so a restart keeps what was
committed) and the real service (uvicorn in a subprocess). While a small signup load runs,
the cluster is stopped for longer than the pool's reconnect timeout, then started again on
the same port. While it is down /api/v1/health answers 503 and requests fail with the 503
`database_unavailable` envelope, never a 500; once it is back the pool recovers within 5 s
without restarting the service; every signup acknowledged with a 2xx is in the database.

Redis: the rate limiter fails OPEN (service/core/ratelimit.py says why: the limits guard
against volume, the per-account lockout in Postgres still guards each password, and failing
closed would turn a Redis outage into a login outage). With Redis stopped mid-test logins keep
working and limits are not enforced; once Redis is back the limits apply again.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from scripts.lib.load import CHEAP_ARGON2, Service, serve_service
from scripts.lib.migrate import migrate
from scripts.lib.pgcluster import Cluster, ensure_debian_packages, free_port

HEALTH = "/api/v1/health"
SIGNUP = "/api/v1/auth/signup"
LOGIN = "/api/v1/auth/login"
PASSWORD = "faults-passphrase-not-common"
# Longer than the pool's reconnect_timeout (5 s), so the pool has given up its own
# reconnection attempts by the time the database returns.
OUTAGE_S = 6.0
RECOVERY_BUDGET_S = 5.0


def new_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


# --------------------------------------------------------------------------------------
# PostgreSQL stopped and restarted under load
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("faults-pg")
    cluster = Cluster(root / "cluster")
    cluster.start(fast_unsafe=False)
    try:
        migrate(cluster.url(), say=lambda *_: None)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_service(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    log = tmp_path_factory.mktemp("faults-service") / "service.log"
    env = {**CHEAP_ARGON2, "RATE_LIMIT_ENABLED": "false", "DB_POOL_MIN_SIZE": "2"}
    with serve_service(cluster.url(), env=env, log_path=log) as service:
        yield service


@dataclass
class SignupLoad:
    """Closed-loop signups from a few threads, each answer recorded with its time."""

    base_url: str
    clients: int = 4
    max_seconds: float = 60.0
    max_requests: int = 5000
    results: list[tuple[float, str, int, str | None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _client(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            while not self._stop.is_set() and time.monotonic() < deadline:
                with self._lock:
                    if len(self.results) >= self.max_requests:
                        return
                email = new_email("load")
                body = {"email": email, "password": PASSWORD, "full_name": "F", "role": "local"}
                try:
                    response = client.post(SIGNUP, json=body)
                    status = response.status_code
                    code = response.json()["error"]["code"] if status >= 400 else None
                except httpx.HTTPError as exc:
                    status, code = 0, type(exc).__name__
                with self._lock:
                    self.results.append((time.monotonic(), email, status, code))
                if status != 201:
                    time.sleep(0.05)  # a failing client backs off a little, as real ones do

    def __enter__(self) -> SignupLoad:
        self._threads = [threading.Thread(target=self._client) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def _health(base_url: str) -> int:
    try:
        return httpx.get(base_url + HEALTH, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def test_postgres_restart_during_load(cluster: Cluster, pg_service: Service) -> None:
    base = pg_service.base_url
    port = cluster.port
    with SignupLoad(base) as load:
        time.sleep(1.0)
        stopped_at = time.monotonic()
        cluster.stop()

        # Down: health says so (within its own 2 s probe timeout), and keeps saying so.
        down_statuses = []
        while time.monotonic() - stopped_at < OUTAGE_S:
            down_statuses.append(_health(base))
            time.sleep(0.25)
        assert set(down_statuses[-3:]) == {503}, down_statuses
        assert set(down_statuses) <= {200, 503}, down_statuses

        cluster.start(port=port, fast_unsafe=False)
        assert cluster.port == port, "the cluster must come back on the same port"
        back_at = time.monotonic()
        recovered_at = None
        while time.monotonic() - back_at < 30:
            if _health(base) == 200:
                recovered_at = time.monotonic()
                break
            time.sleep(0.05)
        assert recovered_at is not None, pg_service.log_tail()
        recovery_s = recovered_at - back_at
        time.sleep(1.0)  # some load on the recovered pool
    print(f"health 200 again {recovery_s:.2f} s after PostgreSQL accepted connections")
    assert recovery_s <= RECOVERY_BUDGET_S, pg_service.log_tail()
    assert pg_service.process.poll() is None, "the service must not have restarted"

    statuses = [status for _, _, status, _ in load.results]
    acknowledged = [email for _, email, status, _ in load.results if status == 201]
    before_stop = [e for t, e, s, _ in load.results if s == 201 and t < stopped_at]
    refused = {(status, code) for _, _, status, code in load.results if status != 201}
    after_recovery = [s for t, _, s, _ in load.results if t > recovered_at + 0.5]
    # Every failure is the documented 503 envelope: no 500, no dropped connection.
    assert refused <= {(503, "database_unavailable")}, refused
    assert len(before_stop) >= 5, "the load should have signed people up before the stop"
    assert after_recovery, "the load should have gone on after the recovery"
    assert set(after_recovery) == {201}, after_recovery
    assert 503 in statuses

    with psycopg.connect(cluster.url()) as conn:
        found = {
            row[0]
            for row in conn.execute(
                "select email from private.accounts where email = any(%s)", [acknowledged]
            ).fetchall()
        }
        profiles = conn.execute(
            "select count(*) from public.profiles as p join private.accounts as a using (id)"
            " where a.email = any(%s)",
            [acknowledged],
        ).fetchone()
    missing = sorted(set(acknowledged) - found)
    assert not missing, f"{len(missing)} acknowledged signups lost: {missing[:5]}"
    assert profiles is not None
    assert profiles[0] == len(acknowledged)


# --------------------------------------------------------------------------------------
# Redis stopped and restarted: the limiter fails open, then limits again
# --------------------------------------------------------------------------------------


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A redis-server of this test's own, on a fixed port so it can come back there."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _redis_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        ensure_debian_packages(["redis-server"])
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


LOGINS_PER_EMAIL = 3


@pytest.fixture
def limited_service(
    cluster: Cluster, redis_server: RedisServer, tmp_path: Path
) -> Iterator[Service]:
    env = {
        **CHEAP_ARGON2,
        "REDIS_URL": redis_server.url,
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_KEY_PREFIX": f"lg-faults-{uuid.uuid4().hex[:8]}",
        "RATE_LIMIT_LOGIN_EMAIL": f"{LOGINS_PER_EMAIL}/minute",
        "LOG_LEVEL": "WARNING",
    }
    with serve_service(cluster.url(), env=env, log_path=tmp_path / "service.log") as service:
        yield service


def _signup(client: httpx.Client) -> str:
    email = new_email("redis")
    body = {"email": email, "password": PASSWORD, "full_name": "R", "role": "traveler"}
    response = client.post(SIGNUP, json=body)
    assert response.status_code == 201, response.text
    return email


def _logins(client: httpx.Client, email: str, count: int) -> list[int]:
    body = {"email": email, "password": PASSWORD}
    return [client.post(LOGIN, json=body).status_code for _ in range(count)]


def test_redis_down_fails_open_and_limits_return(
    limited_service: Service, redis_server: RedisServer
) -> None:
    with httpx.Client(base_url=limited_service.base_url, timeout=10) as client:
        first, second, third = _signup(client), _signup(client), _signup(client)

        # Redis up: the per-email limit is counted in Redis and enforced.
        assert _logins(client, first, LOGINS_PER_EMAIL + 1) == [200] * LOGINS_PER_EMAIL + [429]

        redis_server.stop()
        # Redis down: nobody is locked out by the outage, not even past the limit.
        assert _logins(client, second, LOGINS_PER_EMAIL + 2) == [200] * (LOGINS_PER_EMAIL + 2)
        assert _logins(client, first, 1) == [200]
        assert _health(limited_service.base_url) == 200

        redis_server.start()  # same port, empty
        # Redis back: the limiter reconnects by itself and limits apply again.
        deadline = time.monotonic() + 10
        statuses = _logins(client, third, LOGINS_PER_EMAIL + 1)
        while statuses != [200] * LOGINS_PER_EMAIL + [429] and time.monotonic() < deadline:
            third = _signup(client)
            statuses = _logins(client, third, LOGINS_PER_EMAIL + 1)
        assert statuses == [200] * LOGINS_PER_EMAIL + [429]
    log = limited_service.log_path.read_text(errors="replace")
    assert "fail open" in log
    assert "Traceback" not in log
