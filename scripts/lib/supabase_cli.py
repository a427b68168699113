"""The pinned Supabase CLI, installed from npm into `.localghost/tools`, and a runner for it.

The CLI proves our migration runner and the real Supabase tooling agree: `migration list`
and `db push` read the history table we write, `db lint` checks our plpgsql. Without Docker
it works through `--db-url` only, and our local clusters speak no SSL, so every URL we hand it
carries `sslmode=disable`.

    python -m scripts.lib.supabase_cli [CLI ARGS...]   # installs when needed, then runs it
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

from psycopg.conninfo import conninfo_to_dict

from scripts.lib.migrate import ROOT

CLI_VERSION = "2.117.0"
CLI_PACKAGE = f"supabase@{CLI_VERSION}"
TOOLS_DIR = ROOT / ".localghost" / "tools" / "supabase-cli"
INSTALL_TIMEOUT = 600.0
RUN_TIMEOUT = 120.0
# Commands that ask for confirmation before touching a database.
CONFIRMING = {("db", "push"), ("db", "reset"), ("migration", "up"), ("migration", "down")}
# The CLI reports usage unless told not to; a test run should stay quiet.
QUIET_ENV = {"DO_NOT_TRACK": "1", "SUPABASE_TELEMETRY_DISABLED": "1"}


class CliError(RuntimeError):
    """The CLI cannot be installed or run here; the message says what to do."""


def cli_path(prefix: Path = TOOLS_DIR) -> Path:
    return prefix / "node_modules" / ".bin" / "supabase"


def installed_version(prefix: Path = TOOLS_DIR) -> str | None:
    """The version npm installed under `prefix`, or None when nothing usable is there."""
    manifest = prefix / "node_modules" / "supabase" / "package.json"
    if not cli_path(prefix).exists():
        return None
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def ensure_cli(prefix: Path = TOOLS_DIR, *, npm: str | None = None) -> Path:
    """Path of the `supabase` executable, installing the pinned version first when needed."""
    exe = cli_path(prefix)
    if installed_version(prefix) == CLI_VERSION:
        return exe
    npm_exe = npm or shutil.which("npm")
    if npm_exe is None:
        raise CliError(
            f"npm is not installed; the Supabase CLI ({CLI_PACKAGE}) comes from npm. "
            "Install Node.js 20 with npm (e.g. `apt-get install nodejs npm`) and retry."
        )
    prefix.mkdir(parents=True, exist_ok=True)
    # Two runs starting at once must not both write into the same node_modules.
    with (prefix / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed_version(prefix) != CLI_VERSION:
            _npm_install(npm_exe, prefix)
    if installed_version(prefix) != CLI_VERSION:
        raise CliError(f"npm finished but {exe} is not version {CLI_VERSION}")
    return exe


def _npm_install(npm_exe: str, prefix: Path) -> None:
    cmd = [npm_exe, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), CLI_PACKAGE]
    print(f"[supabase-cli] installing {CLI_PACKAGE} into {prefix}", file=sys.stderr, flush=True)
    try:
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise CliError(f"`{' '.join(cmd)}` did not finish in {INSTALL_TIMEOUT:.0f}s") from exc
    if result.returncode != 0:
        raise CliError(
            f"`{' '.join(cmd)}` failed with exit code {result.returncode}:\n{result.stderr}"
        )


def cli_db_url(db_url: str) -> str:
    """A percent-encoded postgresql:// URL with `sslmode=disable`, from a URL or a conninfo."""
    params = {k: str(v) for k, v in conninfo_to_dict(db_url).items() if v is not None}
    params["sslmode"] = "disable"
    user = params.pop("user", "postgres")
    password = params.pop("password", None)
    host = params.pop("host", "127.0.0.1")
    port = params.pop("port", "5432")
    if host.startswith("/"):  # a socket directory cannot sit in the authority part
        params["host"] = host
        host = ""
    dbname = params.pop("dbname", user)
    auth = quote(user, safe="")
    if password is not None:
        auth += ":" + quote(password, safe="")
    query = urlencode(sorted(params.items()))
    return f"postgresql://{auth}@{host}:{port}/{quote(dbname, safe='')}?{query}"


def run_cli(
    args: Sequence[str],
    db_url: str | None = None,
    cwd: Path = ROOT,
    *,
    timeout: float = RUN_TIMEOUT,
    exe: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `supabase ARGS` in `cwd` against `db_url`; never raises on a non-zero exit."""
    cmd = [str(exe or ensure_cli()), *args]
    if db_url is not None:
        cmd += ["--db-url", cli_db_url(db_url)]
    if tuple(args[:2]) in CONFIRMING and "--yes" not in args:
        cmd.append("--yes")
    env = {**os.environ, **QUIET_ENV}
    try:
        return subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise CliError(f"`supabase {' '.join(args)}` did not finish in {timeout:.0f}s") from exc


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        exe = ensure_cli()
    except CliError as exc:
        print(f"supabase-cli: {exc}", file=sys.stderr)
        return 1
    return subprocess.run([str(exe), *args], cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
