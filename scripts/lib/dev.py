"""Run the backend locally: a dev database, migrated and seeded, and the API in front of it.

    scripts/dev [--port N] [--reload] [--no-seed] [--reset] [--check]

1. The database: `DATABASE_URL` when it is set (in the environment, else in `.env`); otherwise
   a persistent PostgreSQL 15 cluster in `.localghost/pg` (`LOCALGHOST_DEV_DIR` moves it),
   started or reused, preferring port 54322 as `supabase start` does, holding the database
   `localghost`.
2. `scripts/migrate --seed` against it (the platform layer, pending migrations, demo data).
3. `uvicorn service.main:app` on 127.0.0.1:8000 (`--port` or `PORT` override), with
   ENV=development and that DATABASE_URL; the rest of `.env` the service reads itself.

It prints the URLs and demo logins once /api/v1/health answers 200. Ctrl-C (or SIGTERM)
stops what this run started: the API, and the cluster unless it was already running. The
data stays in the cluster folder, so the next run starts where this one stopped.
`--check` stops everything as soon as the API is healthy (for tests and timing).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import psycopg
from dotenv import dotenv_values
from psycopg import sql

from scripts.lib.migrate import MigrationError, migrate
from scripts.lib.pgcluster import Cluster

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CLUSTER_DIR = ROOT / ".localghost" / "pg"
DEV_DATABASE = "localghost"
# Supabase's local database port: tools that expect `supabase start` find us where they look.
PREFERRED_DB_PORT = 54322
DEFAULT_API_PORT = 8000
API_HOST = "127.0.0.1"
HEALTH_PATH = "/api/v1/health"
DOCS_PATH = "/api/docs"
HEALTH_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0

# Kept in step with supabase/seed.sql.
DEMO_PASSWORD = "localghost-demo"  # noqa: S105 (published demo password, seeded locally only)
DEMO_LOGINS = (
    ("traveler@localghost.dev", "traveler"),
    ("local@localghost.dev", "local, Lisbon"),
)


class Stopped(Exception):
    """Ctrl-C or SIGTERM arrived: unwind, stopping what we started on the way out."""


class DevError(Exception):
    """A failure with a message meant for the person running the command."""


def say(msg: str) -> None:
    print(f"[dev] {msg}", file=sys.stderr, flush=True)


def _dotenv() -> dict[str, str | None]:
    path = ROOT / ".env"
    return dotenv_values(path) if path.is_file() else {}


def setting(name: str) -> str | None:
    """The environment first (even when empty: that means 'unset'), then `.env`."""
    if name in os.environ:
        return os.environ[name] or None
    return _dotenv().get(name) or None


def masked(url: str) -> str:
    """The URL with any password replaced, fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def cluster_dir() -> Path:
    given = os.environ.get("LOCALGHOST_DEV_DIR")
    if not given:
        return DEFAULT_CLUSTER_DIR
    path = Path(given)
    return path if path.is_absolute() else ROOT / path


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((API_HOST, port))
        except OSError:
            return False
    return True


@dataclass
class Timings:
    started: float

    def since_start(self) -> float:
        return time.monotonic() - self.started


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into `Stopped` inside the body."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def ignore_stop_signals() -> None:
    """While shutting down: a second Ctrl-C must not cut it short and orphan postgres."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def ensure_database(server_url: str, *, reset: bool) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        name = sql.Identifier(DEV_DATABASE)
        if reset:
            say(f"--reset: dropping database {DEV_DATABASE}")
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(name))
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (DEV_DATABASE,)
        ).fetchone()
        if exists:
            say(f"reusing database {DEV_DATABASE}")
        else:
            conn.execute(sql.SQL("create database {}").format(name))
            say(f"created database {DEV_DATABASE}")


def start_api(
    port: int, db_url: str, *, reload: bool, log: IO[bytes] | None
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "service.main:app",
        "--host",
        API_HOST,
        "--port",
        str(port),
    ]
    if reload:
        cmd += ["--reload", "--reload-dir", "service"]
    env = {**os.environ, "ENV": "development", "DATABASE_URL": db_url, "PORT": str(port)}
    say("starting the API: " + " ".join(cmd[1:]))
    # Its own session, so Ctrl-C reaches only us and we stop it (and a --reload worker) as a
    # group, in order, after which the database goes down.
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
        start_new_session=True,
    )


def stop_api(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    say("stopped the API")


def health_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (our own http URL)
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def wait_healthy(proc: subprocess.Popen[bytes], url: str, log: IO[bytes] | None) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    last: int | None = None
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            output = ""
            if log is not None:
                log.seek(0)
                output = "\n" + log.read().decode(errors="replace")
            where = "" if log is not None else " (its output is above)"
            raise DevError(f"the API exited with code {code} before it was healthy{where}{output}")
        last = health_status(url)
        if last == 200:
            return
        time.sleep(0.1)
    raise DevError(f"{url} did not answer 200 within {HEALTH_TIMEOUT_S:.0f}s (last: {last})")


def banner(base: str, db_url: str, *, seeded: bool, started_cluster: Path | None) -> str:
    lines = [
        "",
        "LocalGhost backend is ready",
        f"  API        {base}/api/v1",
        f"  API docs   {base}{DOCS_PATH}",
        f"  Health     {base}{HEALTH_PATH}",
        f"  Database   {masked(db_url)}",
        f"  Demo logins (password {DEMO_PASSWORD}):",
        *(f"    {email:<26} {role}" for email, role in DEMO_LOGINS),
    ]
    if not seeded:
        lines.append("    (--no-seed: they exist only if an earlier run seeded them)")
    if started_cluster is not None:
        lines.append(
            f"  Ctrl-C stops the API and the database; the data stays in {started_cluster}"
        )
    else:
        lines.append("  Ctrl-C stops the API (this run did not start the database)")
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/dev", description="Run the LocalGhost backend locally."
    )
    port_default = setting("PORT")
    parser.add_argument(
        "--port",
        type=int,
        default=int(port_default) if port_default else DEFAULT_API_PORT,
        help=f"API port (default: $PORT or {DEFAULT_API_PORT})",
    )
    parser.add_argument(
        "--reload", action="store_true", help="restart the API when service/ changes"
    )
    parser.add_argument(
        "--no-seed", action="store_true", help="migrate only; skip supabase/seed.sql"
    )
    parser.add_argument(
        "--reset", action="store_true", help="drop and recreate the dev database first"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="start everything, wait until healthy, print timings, stop everything",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace, timings: Timings) -> int:
    """The body; raises Stopped/DevError. Everything it starts is stopped by its `finally`s."""
    if not port_is_free(args.port):
        raise DevError(f"port {args.port} is in use on {API_HOST}; pass --port N or set PORT")

    cluster: Cluster | None = None
    started_cluster = False
    proc: subprocess.Popen[bytes] | None = None
    log = tempfile.TemporaryFile() if args.check else None  # noqa: SIM115 (closed below)
    try:
        given = setting("DATABASE_URL")
        if given:
            if args.reset:
                raise DevError("--reset only resets the dev cluster; unset DATABASE_URL to use it")
            db_url = given
            say(f"using DATABASE_URL {masked(db_url)}")
        else:
            cluster = Cluster(cluster_dir())
            started_cluster = not cluster.is_running()
            server_url = cluster.start(port=PREFERRED_DB_PORT)
            ensure_database(server_url, reset=args.reset)
            db_url = cluster.url(DEV_DATABASE)
        t_db = timings.since_start()

        try:
            migrate(db_url, seed=not args.no_seed, say=lambda msg: say(f"migrate: {msg}"))
        except MigrationError as exc:
            if cluster is None:
                raise
            # Usual cause on a laptop: a branch switch, or an unmerged migration edited.
            raise DevError(f"{exc}\n  rebuild the dev database with: scripts/dev --reset") from exc
        t_migrated = timings.since_start()

        proc = start_api(args.port, db_url, reload=args.reload, log=log)
        base = f"http://{API_HOST}:{args.port}"
        wait_healthy(proc, base + HEALTH_PATH, log)
        t_healthy = timings.since_start()

        print(
            banner(
                base,
                db_url,
                seeded=not args.no_seed,
                started_cluster=cluster.root if cluster and started_cluster else None,
            ),
            flush=True,
        )
        print(
            f"healthy in {t_healthy:.1f}s (database {t_db:.1f}s, migrate+seed"
            f" {t_migrated - t_db:.1f}s, API {t_healthy - t_migrated:.1f}s)",
            flush=True,
        )
        if args.check:
            say("--check: healthy; stopping")
            return 0
        code = proc.wait()
        say(f"the API stopped on its own (exit code {code})")
        return code or 1
    finally:
        ignore_stop_signals()
        if proc is not None:
            stop_api(proc)
        if log is not None:
            log.close()
        if cluster is not None and started_cluster and cluster.is_running():
            cluster.stop()


def main(argv: Sequence[str] | None = None) -> int:
    timings = Timings(time.monotonic())
    args = parse_args(argv)
    with stop_on_signals():
        try:
            return run(args, timings)
        except Stopped as exc:
            say(f"stopped on {exc}")
            return 0
        except (DevError, MigrationError) as exc:
            say(f"error: {exc}")
            return 1
        except psycopg.Error as exc:
            say(f"database error: {exc}")
            return 1


if __name__ == "__main__":
    raise SystemExit(main())
