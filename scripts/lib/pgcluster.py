"""Throwaway and development PostgreSQL 15 clusters, without Docker.

A user's machine has no database running, so the scripts bring their own: `initdb` into a
folder, start `postgres` on a free TCP port on 127.0.0.1 (plus a private socket dir), and stop
it again by its data dir. PostgreSQL refuses to run as root, so when we are root the server
runs as the `postgres` system user. `wal_level=logical` matches Supabase, which Realtime's
Postgres Changes and our replication-slot tests need.

Run as a module for the shell scripts:
    python -m scripts.lib.pgcluster start --dir .localghost/pgdata [--port 54322]
    python -m scripts.lib.pgcluster stop --dir .localghost/pgdata
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

PG_MAJOR = 15
PG_BIN = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")
# What the tests and the dev database need from Debian: the server, pgTAP, wal2json for
# logical decoding checks, plpgsql_check for `supabase db lint`.
DEBIAN_PACKAGES = (
    f"postgresql-{PG_MAJOR}",
    f"postgresql-{PG_MAJOR}-pgtap",
    f"postgresql-{PG_MAJOR}-wal2json",
    f"postgresql-{PG_MAJOR}-plpgsql-check",
)
SERVER_USER = "postgres"


def log(msg: str) -> None:
    print(f"[pgcluster] {msg}", file=sys.stderr, flush=True)


def _is_root() -> bool:
    return os.geteuid() == 0


def _missing_debian_packages(packages: Sequence[str]) -> list[str]:
    if shutil.which("dpkg-query") is None:
        return []
    missing = []
    for pkg in packages:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", pkg],
            capture_output=True,
            text=True,
            check=False,
        )
        if "install ok installed" not in out.stdout:
            missing.append(pkg)
    return missing


def ensure_debian_packages(packages: Sequence[str] = DEBIAN_PACKAGES) -> None:
    """Install what is missing when we can (root on Debian); otherwise say what to install."""
    missing = _missing_debian_packages(packages)
    if not missing:
        return
    if not (_is_root() and shutil.which("apt-get")):
        raise SystemExit(
            "missing Debian packages: "
            + " ".join(missing)
            + " (install them, or set DATABASE_URL to an existing PostgreSQL 15)"
        )
    log(f"installing {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Debian's postgresql-common would create and start a 'main' cluster on install; we run our
    # own clusters, so ask it not to.
    conf = Path("/etc/postgresql-common/createcluster.conf")
    if not conf.exists():
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text("create_main_cluster = false\n")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def free_port(preferred: int | None = None) -> int:
    """`preferred` when it is free, else any free port on 127.0.0.1."""
    candidates = [preferred, 0] if preferred else [0]
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # As a server binds: a port whose last connections linger in TIME_WAIT is free.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port or 0))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free TCP port")


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *cmd] if _is_root() else cmd


def _chown_for_server(path: Path) -> None:
    if _is_root():
        pw = pwd.getpwnam(SERVER_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


@dataclass
class Cluster:
    """One PostgreSQL cluster living in `root` (data in root/data, socket in root/run)."""

    root: Path
    port: int = 0

    def __post_init__(self) -> None:
        # The server is handed these paths (socket dir, log); relative ones would resolve
        # against its own working directory, not ours.
        self.root = self.root.resolve()

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def logfile(self) -> Path:
        return self.root / "postgres.log"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def is_running(self) -> bool:
        pid = self._postmaster_pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _postmaster_pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        try:
            return int(pidfile.read_text().splitlines()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        ensure_debian_packages()
        for d in (self.root, self.data, self.socket_dir):
            d.mkdir(parents=True, exist_ok=True)
            _chown_for_server(d)
        if _is_root():
            # The server user must be able to reach its folders.
            for parent in self.root.resolve().parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        log(f"initdb {self.data}")
        subprocess.run(
            _as_server_user(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self, *, port: int | None = None, fast_unsafe: bool = False) -> str:
        """Start (or reuse a running) cluster; returns the superuser URL of db `postgres`."""
        self.init()
        if self.is_running():
            self.port = int(self.port_file.read_text())
            log(f"reusing running cluster on port {self.port}")
            return self.url()
        self.port = free_port(port)
        opts = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "wal_level": "logical",
            "max_replication_slots": "10",
            "max_wal_senders": "10",
            "max_connections": "200",
            "shared_buffers": "256MB",
            "timezone": "UTC",
        }
        if fast_unsafe:
            # Throwaway test clusters only: durability buys nothing there.
            opts |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        pg_opts = " ".join(f"-c {k}={v}" for k, v in opts.items())
        self.logfile.touch()
        _chown_for_server(self.logfile)
        subprocess.run(
            _as_server_user(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.logfile),
                    "-o",
                    pg_opts,
                    "-w",
                    "-t",
                    "30",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.port_file.write_text(str(self.port))
        log(f"started PostgreSQL {PG_MAJOR} on 127.0.0.1:{self.port} (data {self.data})")
        return self.url()

    def stop(self) -> None:
        pid = self._postmaster_pid()
        if pid is None:
            return
        result = subprocess.run(
            _as_server_user(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            ),
            check=False,
            capture_output=True,
        )
        if result.returncode != 0 and self.is_running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)
            for _ in range(50):
                if not self.is_running():
                    break
                time.sleep(0.1)
        log(f"stopped cluster {self.data}")


@contextlib.contextmanager
def throwaway_cluster(root: Path) -> Iterator[Cluster]:
    """A fast, non-durable cluster that is stopped and deleted afterwards."""
    cluster = Cluster(root)
    cluster.start(fast_unsafe=True)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--dir", type=Path, required=True, help="cluster folder")
    parser.add_argument("--port", type=int, default=None, help="preferred port")
    args = parser.parse_args(argv)
    cluster = Cluster(args.dir)
    if args.action == "start":
        print(cluster.start(port=args.port))
    elif args.action == "stop":
        cluster.stop()
    else:
        running = cluster.is_running()
        print("running" if running else "stopped")
        return 0 if running else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
