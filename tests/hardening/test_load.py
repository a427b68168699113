"""Smoke test of scripts/load's generator: a 2-second run against the real service.

The minute-long run with 200 clients is `scripts/load` (too long for CI); this only proves
the generator signs in, drives every operation of the mix and reports figures.
"""

from __future__ import annotations

from scripts.lib.load import WEIGHTS, Service, run_load


def test_a_short_load_run_drives_the_whole_mix(
    fuzz_service_process: Service, fuzz_db_url: str
) -> None:
    result = run_load(
        fuzz_service_process.base_url,
        fuzz_db_url,
        clients=12,
        seconds=2.0,
        think_ms=20.0,
        max_requests=2000,
        seed=1,
        # Every operation often enough to show up in two seconds.
        weights=dict.fromkeys(WEIGHTS, 1),
    )
    assert result["errors"] == 0, result
    assert result["warmup_errors"] == 0
    assert set(result["operations"]) == set(WEIGHTS)
    for figures in result["operations"].values():
        assert figures["requests"] > 0
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert 0 < result["requests"] <= 2000
