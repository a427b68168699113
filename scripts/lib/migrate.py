"""Apply LocalGhost's database: local platform layer (when needed), migrations, seed.

    scripts/migrate [--db-url URL] [--seed]

- On a plain PostgreSQL it first applies `scripts/sql/local_platform.sql` (the parts of a
  Supabase database PostgREST/Realtime/Storage rely on). On a real Supabase database it
  skips that layer. It always says which case applied.
- Then every migration in `supabase/migrations/` not yet recorded in
  `supabase_migrations.schema_migrations`, in version order, each in its own transaction
  together with its history row, written as the Supabase CLI writes it (a file whose first
  line is `-- pg-delta: transaction=false` runs outside a transaction, as in the CLI). So `supabase
  migration list` and `supabase db push` agree with us, and the same command deploys to a
  Supabase project.
- It refuses, naming the file, when an applied migration was edited since, or when the
  database holds a version with no file here.
- With `--seed`, `supabase/seed.sql` runs afterwards (it is idempotent).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from scripts.lib.sqlsplit import split_statements

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = ROOT / "supabase" / "migrations"
SEED_FILE = ROOT / "supabase" / "seed.sql"
PLATFORM_SQL = ROOT / "scripts" / "sql" / "local_platform.sql"
PLATFORM_MARKER = "localghost local platform layer"
MIGRATION_NAME = re.compile(r"^([0-9]+)_(.*)\.sql$")
# A migration whose first line is exactly this runs outside a transaction (as in the CLI),
# for statements such as `create index concurrently`.
NO_TRANSACTION_HEADER = "-- pg-delta: transaction=false"

# The history table as the Supabase CLI (v2) creates it.
HISTORY_DDL = (
    "create schema if not exists supabase_migrations",
    "create table if not exists supabase_migrations.schema_migrations"
    " (version text not null primary key)",
    "alter table supabase_migrations.schema_migrations add column if not exists statements text[]",
    "alter table supabase_migrations.schema_migrations add column if not exists name text",
)


class MigrationError(Exception):
    """A refusal with a message meant for the person running the command."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def text(self) -> str:
        # Bytes as they are: the CLI keeps `\r\n` inside statements, so must we.
        return self.path.read_bytes().decode("utf-8")

    @property
    def statements(self) -> list[str]:
        return split_statements(self.text)

    @property
    def transactional(self) -> bool:
        first_line = self.text.removeprefix("\ufeff").split("\n", 1)[0].removesuffix("\r")
        return first_line != NO_TRANSACTION_HEADER


def local_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in directory.glob("*.sql"):
        m = MIGRATION_NAME.match(path.name)
        if not m:
            raise MigrationError(f"{path}: not named <version>_<name>.sql")
        found.append(Migration(m.group(1), m.group(2), path))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version")
    return found


def platform_state(conn: psycopg.Connection[Any]) -> str:
    """'plain', 'local' (our layer is present) or 'supabase' (a real Supabase database)."""
    row = conn.execute(
        "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = 'auth'"
    ).fetchone()
    if row is None:
        return "plain"
    comment = row[0] or ""
    return "local" if comment.startswith(PLATFORM_MARKER) else "supabase"


def apply_platform(conn: psycopg.Connection[Any], *, say: Any = print) -> str:
    state = platform_state(conn)
    if state == "supabase":
        say("platform: Supabase database detected; local platform layer skipped")
        return state
    with conn.transaction():
        for stmt in split_statements(PLATFORM_SQL.read_text(encoding="utf-8")):
            conn.execute(stmt.encode())
    if state == "plain":
        say("platform: plain PostgreSQL; local platform layer applied")
    else:
        say("platform: local platform layer already present; re-applied (idempotent)")
    return state


def applied_history(conn: psycopg.Connection[Any]) -> dict[str, list[str] | None]:
    with conn.transaction():
        for ddl in HISTORY_DDL:
            conn.execute(ddl.encode())
    rows = conn.execute(
        "select version, statements from supabase_migrations.schema_migrations"
    ).fetchall()
    return dict(rows)


def check_history(migrations: Sequence[Migration], history: dict[str, list[str] | None]) -> None:
    by_version = {m.version: m for m in migrations}
    unknown = sorted(set(history) - set(by_version))
    if unknown:
        raise MigrationError(
            "the database has migrations this checkout does not: "
            + ", ".join(unknown)
            + " (pull the missing files before migrating)"
        )
    for version, recorded in history.items():
        mig = by_version[version]
        if recorded is not None and recorded != mig.statements:
            raise MigrationError(
                f"{_shown(mig.path)} was edited after it was applied; "
                "add a new migration instead of changing an applied one"
            )


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def apply_migration(conn: psycopg.Connection[Any], mig: Migration) -> None:
    statements = mig.statements
    record = (
        "insert into supabase_migrations.schema_migrations (version, name, statements)"
        " values (%s, %s, %s)"
    )
    if not mig.transactional:
        # Each statement commits on its own; the history row is written after the last.
        for stmt in statements:
            conn.execute(stmt.encode())
        conn.execute(record, (mig.version, mig.name, statements))
        return
    with conn.transaction():
        for stmt in statements:
            conn.execute(stmt.encode())
        conn.execute(record, (mig.version, mig.name, statements))


def apply_seed(conn: psycopg.Connection[Any], seed: Path = SEED_FILE) -> None:
    with conn.transaction():
        for stmt in split_statements(seed.read_text(encoding="utf-8")):
            conn.execute(stmt.encode())


def migrate(
    db_url: str,
    *,
    seed: bool = False,
    migrations_dir: Path = MIGRATIONS_DIR,
    seed_file: Path = SEED_FILE,
    say: Any = print,
) -> int:
    """Bring the database up to date; returns how many migrations were applied."""
    migrations = local_migrations(migrations_dir)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set lock_timeout = '10s'")
        apply_platform(conn, say=say)
        history = applied_history(conn)
        check_history(migrations, history)
        pending = [m for m in migrations if m.version not in history]
        for mig in pending:
            say(f"applying {mig.path.name}")
            apply_migration(conn, mig)
        if pending:
            say(f"applied {len(pending)} migration(s); {len(migrations)} in total")
        else:
            say(f"database is up to date: all {len(migrations)} migrations already applied")
        if seed and not seed_file.exists():
            # No seed file yet (config.toml names one): say so instead of a traceback.
            say(f"{_shown(seed_file)} does not exist; nothing seeded")
        elif seed:
            apply_seed(conn, seed_file)
            say(f"seeded from {_shown(seed_file)}")
    return len(pending)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Apply LocalGhost's migrations.")
    parser.add_argument(
        "--db-url",
        default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL URL (default: $DATABASE_URL)",
    )
    parser.add_argument("--seed", action="store_true", help="run supabase/seed.sql afterwards")
    args = parser.parse_args(argv)
    if not args.db_url:
        parser.error("give --db-url or set DATABASE_URL")
    try:
        migrate(args.db_url, seed=args.seed)
    except MigrationError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(f"migrate: database error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
