"""HTTP/1.1 keep-alive load from another process, for the benchmarks: wrk, or our own.

`run_wrk` drives the server with wrk (Debian's package, installed when we are root): a C
client that leaves the server more of the machine's two cores than any Python client can
(measured on `GET /me`: 1,040 and 1,146 req/s through wrk against 911 and 882 through the
generator below, back to back on the same server).

Without wrk, the generator in this module: raw asyncio streams rather than an HTTP client
library, so it costs far less CPU than a client library would. Loopback targets only; every
run is bounded by a request count and a duration. Prints one JSON object.

    python -m scripts.lib.bench_load --port 8000 --path /api/v1/auth/me --token T
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tally:
    deadline: float
    budget: int
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)

    def take(self) -> bool:
        if self.budget <= 0 or time.perf_counter() >= self.deadline:
            return False
        self.budget -= 1
        return True


async def _connection(host: str, port: int, request: bytes, tally: Tally) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while tally.take():
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            await reader.readexactly(length)
            tally.latencies.append(time.perf_counter() - started)
            if status == 200:
                tally.ok += 1
            else:
                tally.failed += 1
    finally:
        writer.close()


async def run_load(
    host: str, port: int, path: str, token: str, connections: int, seconds: float, limit: int
) -> dict[str, float | int]:
    if not ipaddress.ip_address(host).is_loopback:
        raise SystemExit("the load generator only targets loopback addresses")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    tally = Tally(deadline=time.perf_counter() + seconds, budget=limit)
    started = time.perf_counter()
    await asyncio.gather(*(_connection(host, port, request, tally) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies = sorted(tally.latencies) or [0.0]
    return {
        "requests": tally.ok + tally.failed,
        "ok": tally.ok,
        "failed": tally.failed,
        "seconds": round(elapsed, 3),
        "rps": round(tally.ok / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 2),
    }


def find_wrk() -> str | None:
    """wrk's path; installs Debian's package when we may (root), else None."""
    if shutil.which("wrk") is None:
        from scripts.lib.pgcluster import ensure_debian_packages  # noqa: PLC0415

        try:
            ensure_debian_packages(["wrk"])
        except (SystemExit, subprocess.CalledProcessError):
            return None
    return shutil.which("wrk")


_WRK_DURATION = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"unreadable wrk duration {text!r}")
    return float(match.group(1)) * _WRK_DURATION[match.group(2)]


def run_wrk(
    wrk: str, port: int, path: str, token: str, connections: int, seconds: float
) -> dict[str, Any]:
    """One wrk run (one thread) against loopback; the same figures as `run_load` reports."""
    done = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            "Accept: application/json",
            f"http://127.0.0.1:{port}{path}",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    return parse_wrk(done.stdout)


def parse_wrk(out: str) -> dict[str, Any]:
    """The figures of `wrk --latency` output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if total is None:
        raise RuntimeError(f"unreadable wrk output:\n{out}")
    requests = int(total.group(1))
    elapsed_s = _wrk_ms(total.group(2) + total.group(3)) / 1000
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in socket.groups()) if socket else 0
    )
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", out, flags=re.MULTILINE))
    ok = max(requests - failed, 0)
    return {
        "driver": "wrk",
        "requests": requests,
        "ok": ok,
        "failed": failed,
        "seconds": round(elapsed_s, 3),
        "rps": round(ok / elapsed_s, 1) if elapsed_s else 0.0,
        "p50_ms": round(_wrk_ms(latency["50"]), 2),
        "p90_ms": round(_wrk_ms(latency["90"]), 2),
        "p99_ms": round(_wrk_ms(latency["99"]), 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args(argv)
    result = asyncio.run(
        run_load(
            args.host,
            args.port,
            args.path,
            args.token,
            args.connections,
            min(args.seconds, 120.0),
            args.max_requests,
        )
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
