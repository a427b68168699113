"""scripts/dev: from nothing to a healthy API, then everything it started is stopped again.

Each test gets its own cluster folder (LOCALGHOST_DEV_DIR) and a free API port, so it never
touches a developer's `.localghost/pg` or a running `scripts/dev`. DATABASE_URL is blanked
so the run takes the "start my own database" path that a fresh machine takes.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.lib.migrate import ROOT
from scripts.lib.pgcluster import Cluster, free_port

RUN_TIMEOUT_S = 90


@pytest.fixture
def cluster_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pg"
    yield path
    # A failed assertion must not leave a postgres behind.
    cluster = Cluster(path)
    if cluster.is_running():
        cluster.stop()


def dev_env(cluster_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    # Empty means unset, and beats a DATABASE_URL in a developer's .env.
    env |= {"LOCALGHOST_DEV_DIR": str(cluster_dir), "DATABASE_URL": ""}
    return env


def run_check(cluster_dir: Path, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.lib.dev", "--check", "--port", str(port)],
        cwd=ROOT,
        env=dev_env(cluster_dir),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def test_check_cold_then_warm_reuses_the_data(cluster_dir: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    cold = run_check(cluster_dir, port)
    out = cold.stdout + cold.stderr
    assert cold.returncode == 0, out
    assert f"{base}/api/v1/health" in cold.stdout
    assert f"{base}/api/docs" in cold.stdout
    assert "traveler@localghost.dev" in cold.stdout
    assert "local@localghost.dev" in cold.stdout
    assert "password localghost-demo" in cold.stdout
    assert "healthy in " in cold.stdout
    assert "created database localghost" in cold.stderr
    assert "applied" in cold.stderr
    assert "seeded from supabase/seed.sql" in cold.stderr
    assert not Cluster(cluster_dir).is_running(), "the cold run left postgres running"

    warm = run_check(cluster_dir, port)
    out = warm.stdout + warm.stderr
    assert warm.returncode == 0, out
    assert "reusing database localghost" in warm.stderr
    assert "database is up to date" in warm.stderr
    assert f"{base}/api/v1/health" in warm.stdout
    assert not Cluster(cluster_dir).is_running(), "the warm run left postgres running"


def _pump(stream: object, lines: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        lines.put(line)


def test_sigterm_stops_the_api_and_the_database_it_started(cluster_dir: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.lib.dev", "--port", str(port)],
        cwd=ROOT,
        env=dev_env(cluster_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not any("Ctrl-C stops" in line for line in seen):
            assert proc.poll() is None, "".join(seen)
            assert time.monotonic() < deadline, "".join(seen)
            try:
                seen.append(lines.get(timeout=0.5))
            except queue.Empty:
                continue
        health = f"http://127.0.0.1:{port}/api/v1/health"
        with urllib.request.urlopen(health, timeout=5) as resp:
            assert resp.status == 200
        assert Cluster(cluster_dir).is_running()

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not Cluster(cluster_dir).is_running(), "SIGTERM left postgres running"
    with pytest.raises(ConnectionRefusedError):  # the API is gone too
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_busy_port_is_refused_before_anything_starts(cluster_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_check(cluster_dir, port)
    assert result.returncode == 1
    assert f"port {port} is in use" in result.stderr
    assert not cluster_dir.exists()
