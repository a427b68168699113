"""Smoke test of the chat benchmark on a tiny dataset: every figure is there and positive.

No timing assertions: this only proves the benchmark runs end to end (load, PostgREST-shaped
reads as authenticated and service_role, the slack-clone-style baseline copy, plans, and
concurrent inserts through every trigger) and reports what it promises.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

import psycopg

from scripts.lib import bench_chat

TIMING = ("p50_ms", "p95_ms", "query_p50_ms", "query_p95_ms", "rows")
REQUIRED: dict[str, tuple[str, ...]] = {
    "dataset": (
        "users",
        "locals",
        "conversations",
        "messages",
        "heavy_user_conversations",
        "long_conversation_messages",
        "load_s",
        "vacuum_analyze_s",
    ),
    "inbox": (*TIMING, "service_role", "goal_p95_ms", "pass"),
    "history": (
        "page1",
        "page2",
        "page1_service_role",
        "page2_service_role",
        "p95_ms",
        "goal_p95_ms",
        "pass",
        "deep",
        "deep_service_role",
        "deep_offset",
        "deep_pass",
    ),
    "rls_overhead": (
        "inbox_ratio",
        "history_page1_ratio",
        "history_page2_ratio",
        "history_deep_ratio",
        "inbox_request_ratio",
        "history_page1_request_ratio",
        "goal_max_ratio",
        "pass",
    ),
    "inserts": (
        "writers",
        "messages_per_run",
        "msgs_per_s",
        "no_trigger_msgs_per_s",
        "trigger_slowdown",
        "server_cpu_ms_per_msg",
        "no_trigger_server_cpu_ms_per_msg",
        "realtime_rows_per_message",
        "masked_fraction",
        "goal_msgs_per_s",
        "pass",
    ),
    "baseline": (
        "same_results",
        "inbox",
        "history_page1",
        "history_page2",
        "history_deep",
        "inbox_slowdown",
        "history_page1_slowdown",
        "history_page2_slowdown",
        "history_deep_slowdown",
        "inbox_request_slowdown",
        "history_page1_request_slowdown",
    ),
    "server": ("fsync", "synchronous_commit", "server_version"),
}
EXPLAINED = (
    "inbox_authenticated",
    "history_page1_authenticated",
    "history_page2_authenticated",
    "history_deep_authenticated",
    "baseline_inbox_authenticated",
    "baseline_history_page1_authenticated",
    "baseline_history_page2_authenticated",
    "baseline_history_deep_authenticated",
)


def _numbers(value: Any, path: str = "") -> list[tuple[str, float]]:
    """Every number in a JSON tree (booleans and nulls are not numbers here)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [(path, float(value))]
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in _numbers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in _numbers(v, f"{path}[{i}]")]
    return []


def test_bench_chat_reports_every_figure(fresh_db: Callable[[], str]) -> None:
    url = fresh_db()
    parser = argparse.ArgumentParser()
    bench_chat.add_arguments(parser)
    args = parser.parse_args(["--scale", "0.002", "--runs", "5", "--inserts", "8"])

    result = json.loads(json.dumps(bench_chat.run(args, url)))

    for section, keys in REQUIRED.items():
        missing = [k for k in keys if k not in result[section]]
        assert not missing, f"{section} lacks {missing}"
    for timing in (
        result["inbox"],
        result["inbox"]["service_role"],
        *(result["history"][k] for k in ("page1", "page2", "deep")),
        *(result["history"][k] for k in ("page1_service_role", "page2_service_role")),
        result["history"]["deep_service_role"],
        *(result["baseline"][k] for k in ("inbox", "history_page1", "history_page2")),
        result["baseline"]["history_deep"],
    ):
        assert set(TIMING) <= set(timing)
    for label in EXPLAINED:
        plan = result["explain"][label]
        assert {"node_types", "indexes", "seq_scans", "auth_uid_per_row"} <= set(plan)
        assert plan["node_types"], label
        # Our policies wrap auth.uid() in a select (once per statement); the baseline's bare
        # calls are inlined into per-row filters.
        assert plan["auth_uid_per_row"] is label.startswith("baseline_"), label
    # The history statement walks the (conversation_id, created_at, id) index.
    assert "messages_history_idx" in result["explain"]["history_page1_authenticated"]["indexes"]
    assert result["baseline"]["same_results"] is True
    assert isinstance(result["pass"], bool)
    for key in ("inbox", "history", "rls_overhead", "inserts"):
        assert isinstance(result[key]["pass"], bool)

    numbers = _numbers({k: v for k, v in result.items() if k != "loadavg_1m"})
    assert numbers
    not_positive = [(path, n) for path, n in numbers if not n > 0]
    assert not not_positive, not_positive

    # Every insert went through the triggers: 3 broadcasts each, some bodies masked.
    assert result["inserts"]["realtime_rows_per_message"] == 3.0
    assert result["inserts"]["messages_per_run"] == 4 * 8
    # The baseline copy is gone, and the flood guard setting is back to what it was.
    with psycopg.connect(url, autocommit=True) as conn:
        leftovers = conn.execute(
            "select count(*) from pg_database where datname like '%%slackstyle%%'"
        ).fetchone()
        limit = conn.execute(
            "select setting_value from private.app_settings"
            " where setting_name = 'chat_messages_per_minute'"
        ).fetchone()
    assert leftovers == (0,)
    assert limit == (30,)
