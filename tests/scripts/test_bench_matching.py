"""Smoke test of `scripts/bench matching` and the offline eval at tiny sizes (no timing checks)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts.lib import bench_matching, matching_eval


def test_bench_runs_end_to_end_and_prints_one_json_line(
    pg_server_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--db-url", pg_server_url, "--locals", "400", "--cities", "8", "--samples", "12"]
    assert bench_matching.main([*argv, "--eval-size", "tiny"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1])
    assert result["bench"] == "matching"
    assert result["locals"] == 400
    assert result["samples"] == 12
    for key in ("ours_p50_ms", "ours_p95_ms", "baseline_p50_ms", "ratio_p50"):
        assert result[key] > 0
    # The Python baseline is the same ranking, not a different one.
    agreed, checked = result["baseline_agrees"].split("/")
    assert agreed == checked
    assert result["explain"]["indexes_used"]
    ndcg = result["eval"]["ndcg_at_10"]
    assert set(ndcg) == {"ours", "by_rating", "random", "ratio_vs_rating"}
    assert all(0 <= ndcg[k] <= 1 for k in ("ours", "by_rating", "random"))


def test_ndcg_is_one_for_the_ideal_order_and_lower_otherwise() -> None:
    a, b, c = "a", "b", "c"
    labels: dict[Any, float] = {a: 0.6, b: 0.3, c: 0.1}
    assert matching_eval.ndcg_at([a, b, c], labels) == pytest.approx(1.0)
    assert matching_eval.ndcg_at([c, b, a], labels) < 1.0
    assert matching_eval.ndcg_at([c], {}) == 0.0
