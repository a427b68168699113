"""Throwaway clusters: logical WAL, reachable, gone afterwards; free ports are bindable."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg

from scripts.lib.pgcluster import Cluster, free_port, throwaway_cluster


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", port))


def test_free_port_prefers_the_given_port_and_avoids_a_taken_one() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = int(taken.getsockname()[1])
        other = free_port(busy)
        assert other != busy
    free = free_port()
    assert free_port(free) == free


def test_throwaway_cluster_runs_with_logical_wal_and_is_removed(tmp_path: Path) -> None:
    root = tmp_path / "cluster"
    with throwaway_cluster(root) as cluster:
        assert cluster.is_running()
        assert (root / "data" / "PG_VERSION").read_text().strip() == "15"
        with psycopg.connect(cluster.url(), autocommit=True, connect_timeout=10) as conn:
            settings: dict[str, str] = dict(
                conn.execute(
                    "select name, setting from pg_settings where name in"
                    " ('wal_level', 'fsync', 'listen_addresses', 'server_version_num')"
                ).fetchall()
            )
        assert settings["wal_level"] == "logical"
        assert settings["fsync"] == "off"
        assert settings["listen_addresses"] == "127.0.0.1"
        assert settings["server_version_num"].startswith("15")
        port = cluster.port
    assert not root.exists()
    assert not Cluster(root).is_running()
    # Nothing listens on its port any more.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", port)) != 0
