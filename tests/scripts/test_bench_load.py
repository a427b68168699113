"""The benchmarks' wrk driver reads wrk's report correctly, errors included."""

from __future__ import annotations

import pytest

from scripts.lib.bench_load import parse_wrk

CLEAN = """Running 8s test @ http://127.0.0.1:8112/api/v1/auth/me
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    33.52ms   27.44ms 100.92ms   53.50%
    Req/Sec     1.05k   120.11     1.30k    70.00%
  Latency Distribution
     50%   36.77ms
     75%   55.10ms
     90%   70.02ms
     99%   80.67ms
  8330 requests in 8.01s, 9.12MB read
Requests/sec:   1040.52
Transfer/sec:      1.14MB
"""

FAILING = """Running 2s test @ http://127.0.0.1:8112/api/v1/auth/me
  1 threads and 4 connections
  Latency Distribution
     50%  850.00us
     75%    1.20ms
     90%    2.50ms
     99%    1.10s
  2000 requests in 2.00s, 1.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 1995
Requests/sec:    1000.00
"""


def test_a_clean_run() -> None:
    figures = parse_wrk(CLEAN)
    assert figures["requests"] == 8330
    assert figures["failed"] == 0
    assert figures["rps"] == pytest.approx(8330 / 8.01, abs=0.1)
    assert (figures["p50_ms"], figures["p90_ms"], figures["p99_ms"]) == (36.77, 70.02, 80.67)


def test_errors_and_every_unit_are_counted() -> None:
    figures = parse_wrk(FAILING)
    assert figures["failed"] == 2000  # 1,995 non-2xx and 5 socket errors
    assert figures["ok"] == 0
    assert figures["rps"] == 0
    assert (figures["p50_ms"], figures["p90_ms"], figures["p99_ms"]) == (0.85, 2.5, 1100.0)


def test_output_without_a_total_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="unreadable"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
