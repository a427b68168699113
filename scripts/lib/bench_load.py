"""A small HTTP/1.1 keep-alive load generator, run in its own process by the benchmarks.

Raw asyncio streams rather than an HTTP client library, so the generator costs far less CPU
than the server it measures (they share this machine's cores). Loopback targets only; every
run is bounded by a request count and a duration. Prints one JSON object.

    python -m scripts.lib.bench_load --port 8000 --path /api/v1/auth/me --token T
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


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
