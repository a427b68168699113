"""`scripts/bench <name>`: run one benchmark module and print its results.

Each benchmark is a module with `add_arguments(parser)` and `run(args, database_url) -> dict`;
add it to BENCHES. Human lines go to stdout as the bench runs; the last line is one JSON
object (`{"bench": name, ...}`) for scripts and CI to parse.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg.conninfo import make_conninfo

from scripts.lib.migrate import migrate
from scripts.lib.pgcluster import throwaway_cluster

# name -> (module, one-line description). Only the chosen bench's module is imported, so one
# bench's missing or broken dependency never stops another.
BENCHES = {
    "auth": ("scripts.lib.bench_auth", "login latency and GET /me throughput"),
    "chat": ("scripts.lib.bench_chat", "inbox/history latency under RLS, inserts"),
    "matching": ("scripts.lib.bench_matching", "matching quality and latency"),
    "uploads": ("scripts.lib.bench_uploads", "12 MP photo rewrite and decompression bomb"),
}


class Bench(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, database_url: str) -> dict[str, Any]: ...


def say(line: str) -> None:
    print(line, flush=True)


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    """A freshly migrated database: on DATABASE_URL's server if set, else a throwaway one."""
    given = os.environ.get("DATABASE_URL")
    if given:
        name = f"lg_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(given, autocommit=True) as conn:
            conn.execute(f"create database {name}".encode())
        try:
            url = make_conninfo(given, dbname=name)
            migrate(url, say=lambda *_: None)
            yield url
        finally:
            with psycopg.connect(given, autocommit=True) as conn:
                conn.execute(f"drop database if exists {name} with (force)".encode())
        return
    root = Path(tempfile.mkdtemp(prefix="lg-bench-pg-"))
    with throwaway_cluster(root) as cluster:
        url = cluster.url()
        migrate(url, say=lambda *_: None)
        yield url


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    sub = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
    chosen: Bench | None = None
    for name, (module_name, description) in BENCHES.items():
        sub_parser = sub.add_parser(name, help=description)
        if argv and argv[0] == name:
            chosen = importlib.import_module(module_name)
            chosen.add_arguments(sub_parser)
    args = parser.parse_args(argv)
    with bench_database() as url:
        assert chosen is not None
        results = chosen.run(args, url)
    sys.stdout.flush()
    print(json.dumps({"bench": args.bench, **results}, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
