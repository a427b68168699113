"""Auth: login latency (ours vs argon2-cffi defaults) and GET /me throughput, 2 workers.

- Login: p50/p95 of sequential POST /login through the app in-process (ASGI, real
  PostgreSQL), with our argon2id parameters (OWASP minimum, m=19 MiB, t=2, p=1) and with
  argon2-cffi's own defaults (`PasswordHasher()`, the FastAPI template's choice) as baseline.
  One password check alone is timed both as the service does it (libsodium for one lane)
  and with argon2-cffi at the same parameters.
- /me: `uvicorn service.main:app --workers 2` in a subprocess, driven over loopback from
  another process: wrk when it is installed or can be (root), else `scripts.lib.bench_load`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx
from argon2 import PasswordHasher

from scripts.lib.bench_load import find_wrk, run_wrk
from scripts.lib.pgcluster import free_port
from service.core.config import Settings
from service.core.security import Passwords
from service.main import create_app

PASSWORD = "bench-password-not-common"  # noqa: S105
ME_PATH = "/api/v1/auth/me"
JWKS_PATH = "/.well-known/jwks.json"


def say(line: str) -> None:
    print(line, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="fewer logins, shorter load")
    parser.add_argument("--logins", type=int, default=None, help="logins per setting (200)")
    parser.add_argument("--seconds", type=float, default=None, help="/me load duration (10)")
    parser.add_argument("--connections", type=int, default=32, help="/me load connections")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[int(fraction * (len(ordered) - 1))]


def _settings(database_url: str, secret: str, argon2: dict[str, int]) -> Settings:
    values: dict[str, Any] = {
        "ENV": "test",
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": secret,
        "RATE_LIMIT_ENABLED": False,
        "REDIS_URL": None,
        "LOG_LEVEL": "WARNING",
        **argon2,
    }
    return Settings(_env_file=None, **values)


async def _login_latencies(settings: Settings, email: str, count: int) -> dict[str, float]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            signup = await client.post(
                "/api/v1/auth/signup",
                json={"email": email, "password": PASSWORD, "full_name": "Bench", "role": "local"},
            )
            signup.raise_for_status()
            body = {"email": email, "password": PASSWORD}
            for _ in range(5):  # warm-up: pool connections, code paths, the hasher
                (await client.post("/api/v1/auth/login", json=body)).raise_for_status()
            latencies = []
            for _ in range(count):
                started = time.perf_counter()
                response = await client.post("/api/v1/auth/login", json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(_percentile(latencies, 0.95), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
    }


def _hash_verify_ms(hasher: PasswordHasher | Passwords, rounds: int = 20) -> float:
    """Median time of one check; the memory-bound work is noisy on a shared machine."""
    stored = hasher.hash(PASSWORD)
    hasher.verify(stored, PASSWORD)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited during startup")
        try:
            if httpx.get(f"{base_url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("uvicorn did not become healthy")


def _me_throughput(
    database_url: str, secret: str, seconds: float, connections: int
) -> dict[str, Any]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": secret,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "DB_POOL_MIN_SIZE": "4",
        "DB_POOL_MAX_SIZE": "10",
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
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
            "2",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(base_url, server, 30)
        signup = httpx.post(
            f"{base_url}/api/v1/auth/signup",
            json={
                "email": f"me-{secrets.token_hex(4)}@bench.localghost.dev",
                "password": PASSWORD,
                "full_name": "Bench Me",
                "role": "local",
            },
            timeout=10,
        )
        signup.raise_for_status()
        token = signup.json()["access_token"]
        results: dict[str, Any] = {}
        wrk = find_wrk()
        # /me, then two references on the same server: /health (one pooled `select 1`) and
        # the JWKS document (no database), the framework's ceiling on this machine.
        for name, path in (
            ("me", ME_PATH),
            ("ref_health", "/api/v1/health"),
            ("ref_jwks", JWKS_PATH),
        ):
            if wrk is not None:
                # Warm-up (both workers, their pools), then the measured run.
                run_wrk(wrk, port, path, token, connections, 2)
                results[name] = run_wrk(wrk, port, path, token, connections, seconds)
                continue
            load = [
                sys.executable,
                "-m",
                "scripts.lib.bench_load",
                "--port",
                str(port),
                "--path",
                path,
                "--token",
                token,
                "--connections",
                str(connections),
            ]
            subprocess.run([*load, "--seconds", "1.5"], check=True, capture_output=True, timeout=60)
            done = subprocess.run(
                [*load, "--seconds", str(seconds)],
                check=True,
                capture_output=True,
                timeout=seconds + 60,
            )
            results[name] = {
                "driver": "python",
                **json.loads(done.stdout.decode().strip().splitlines()[-1]),
            }
        return results
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    logins = args.logins or (40 if args.quick else 200)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    secret = secrets.token_urlsafe(48)
    ours = Settings(_env_file=None)
    baseline = PasswordHasher()
    params = {
        "owasp": {
            "ARGON2_MEMORY_KIB": ours.ARGON2_MEMORY_KIB,
            "ARGON2_TIME_COST": ours.ARGON2_TIME_COST,
            "ARGON2_PARALLELISM": ours.ARGON2_PARALLELISM,
        },
        "argon2_cffi_default": {
            "ARGON2_MEMORY_KIB": baseline.memory_cost,
            "ARGON2_TIME_COST": baseline.time_cost,
            "ARGON2_PARALLELISM": baseline.parallelism,
        },
    }
    results: dict[str, Any] = {"logins": logins}
    for label, argon2 in params.items():
        say(
            f"login x{logins}, argon2id m={argon2['ARGON2_MEMORY_KIB']} KiB"
            f" t={argon2['ARGON2_TIME_COST']} p={argon2['ARGON2_PARALLELISM']} ({label})"
        )
        settings = _settings(database_url, secret, argon2)
        email = f"{label}-{secrets.token_hex(4)}@bench.localghost.dev"
        stats = asyncio.run(_login_latencies(settings, email, logins))
        # The service's own hasher (libsodium when p = 1), and argon2-cffi with the same
        # parameters: what choosing libsodium saves.
        stats["argon2_verify_ms"] = _hash_verify_ms(Passwords(settings))
        stats["argon2_cffi_verify_ms"] = _hash_verify_ms(
            PasswordHasher(
                memory_cost=argon2["ARGON2_MEMORY_KIB"],
                time_cost=argon2["ARGON2_TIME_COST"],
                parallelism=argon2["ARGON2_PARALLELISM"],
            )
        )
        stats.update(argon2)
        results[f"login_{label}"] = stats
        say(
            f"  p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms (one check alone:"
            f" {stats['argon2_verify_ms']} ms as the service does it,"
            f" {stats['argon2_cffi_verify_ms']} ms with argon2-cffi)"
        )
    ratio = results["login_argon2_cffi_default"]["p50_ms"] / results["login_owasp"]["p50_ms"]
    results["login_p50_baseline_ratio"] = round(ratio, 2)
    say(f"  argon2-cffi defaults are {ratio:.2f}x slower at p50")

    say(f"GET {ME_PATH}: uvicorn --workers 2, {args.connections} connections, {seconds:g} s")
    loads = _me_throughput(database_url, secret, seconds, args.connections)
    me = results["me"] = loads["me"]
    results["ref_health"] = loads["ref_health"]
    results["ref_jwks"] = loads["ref_jwks"]
    for name, figures in loads.items():
        tail = "p99" if "p99_ms" in figures else "p95"
        say(
            f"  {name}: {figures['rps']} req/s ({figures['ok']} ok, {figures['failed']} failed),"
            f" p50 {figures['p50_ms']} ms, {tail} {figures[f'{tail}_ms']} ms"
            f" ({figures['driver']} client)"
        )
    results["goals"] = {
        "login_p50_le_30ms": results["login_owasp"]["p50_ms"] <= 30,
        "me_rps_ge_1000": me["rps"] >= 1000,
    }
    return results
