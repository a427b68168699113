"""Smoke test of the uploads benchmark on a small photo: every figure is there and sane.

No timing assertions: this proves the benchmark runs end to end (photo and bomb generated,
both rewrite paths and the bomb measured in subprocesses) and reports what it promises.
"""

from __future__ import annotations

import argparse
import json

from scripts.lib import bench_uploads

REWRITE_KEYS = {
    "p50_ms",
    "p95_ms",
    "min_ms",
    "runs",
    "output",
    "baseline_rss_mb",
    "peak_rss_mb",
    "vm_hwm_mb",
}


def test_bench_uploads_reports_every_figure() -> None:
    parser = argparse.ArgumentParser()
    bench_uploads.add_arguments(parser)
    args = parser.parse_args(["--runs", "2", "--megapixels", "1"])

    result = json.loads(json.dumps(bench_uploads.run(args, "")))

    photo = result["photo"]
    assert photo["megapixels"] == 1
    assert photo["input_bytes"] > 0
    for path, edge in (("avatar", 1024), ("attachment", 2048)):
        figures = photo[path]
        assert set(figures) == REWRITE_KEYS
        assert figures["runs"] == 2
        assert 0 < figures["min_ms"] <= figures["p50_ms"] <= figures["p95_ms"]
        assert 0 < figures["baseline_rss_mb"] <= figures["peak_rss_mb"]
        assert max(figures["output"]["width"], figures["output"]["height"]) <= edge
    bomb = result["bomb"]
    assert bomb["codes"] == ["image_too_large"]
    assert bomb["decoded_mb_if_allocated"] == 49.0
    assert bomb["reject_p50_ms"] >= 0
    assert {"peak_rss_delta_mb", "rss_delta_mb", "reject_max_ms", "goal_ms", "pass"} <= set(bomb)
    for flag in (photo["pass"], bomb["pass"], result["pass"]):
        assert isinstance(flag, bool)
