"""Policy files -> migrations: the generator, staleness, deletions, and no drift for real."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from scripts.lib.migrate import migrate
from scripts.lib.policies import (
    MARKER,
    new_migration,
    policy_files,
    sha256,
    stale_files,
    tables_of,
)
from scripts.lib.sqlsplit import split_statements

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
POLICY_SCHEMAS = ("public", "storage", "realtime")

BASE_MIGRATION = """\
create table public.notes (id int primary key, owner uuid not null, body text);
alter table public.notes enable row level security;
grant select, insert on public.notes to authenticated;
create table public.tags (id int primary key);
alter table public.tags enable row level security;
"""

NOTES_V1 = """\
-- Notes belong to their owner.
create policy notes_select_own on public.notes
for select to authenticated
using (owner = (select auth.uid()));

create policy "notes insert own" on public.notes
for insert to authenticated
with check (owner = (select auth.uid()));

create policy tags_read on tags for select to authenticated using (true);
"""


def _quiet(*_: object) -> None:
    return None


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    policies, migrations = tmp_path / "policies", tmp_path / "migrations"
    policies.mkdir()
    migrations.mkdir()
    (migrations / "20200101000000_base.sql").write_text(BASE_MIGRATION, encoding="utf-8")
    (policies / "notes.sql").write_text(NOTES_V1, encoding="utf-8")
    return policies, migrations


def test_tables_of_reads_every_target() -> None:
    assert tables_of(NOTES_V1) == [("public", "notes"), ("public", "tags")]
    assert tables_of('create policy "p" on "storage"."objects" for select using (true);') == [
        ("storage", "objects")
    ]


def test_generator_writes_a_migration_carrying_the_file(dirs: tuple[Path, Path]) -> None:
    policies, migrations = dirs
    assert stale_files(policies, migrations) == [policies / "notes.sql"]
    created = new_migration(policies, migrations, now=NOW)
    assert created == migrations / "20300102030405_policies_notes.sql"
    text = created.read_text(encoding="utf-8")
    assert NOTES_V1.rstrip("\n") in text
    assert MARKER.findall(text) == [("notes.sql", sha256(NOTES_V1))]
    assert "('public', 'notes'), ('public', 'tags')" in text  # the reset names both tables
    assert stale_files(policies, migrations) == []
    assert new_migration(policies, migrations, now=NOW) is None  # nothing changed


def test_editing_a_file_makes_it_stale_and_the_next_migration_sorts_last(
    dirs: tuple[Path, Path],
) -> None:
    policies, migrations = dirs
    first = new_migration(policies, migrations, now=NOW)
    assert first is not None
    (policies / "other.sql").write_text("-- nothing yet\n", encoding="utf-8")
    edited = NOTES_V1.replace("using (true)", "using (id > 0)")
    (policies / "notes.sql").write_text(edited, encoding="utf-8")
    assert stale_files(policies, migrations) == [policies / "notes.sql", policies / "other.sql"]
    second = new_migration(policies, migrations, now=NOW)  # same clock: version bumped
    assert second is not None
    assert second.name == "20300102030406_policies_notes_other.sql"
    assert MARKER.findall(second.read_text(encoding="utf-8")) == [
        ("notes.sql", sha256(edited)),
        ("other.sql", sha256("-- nothing yet\n")),
    ]
    assert stale_files(policies, migrations) == []


def _policies_on(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "select policyname from pg_policies where schemaname = 'public' and tablename = %s"
        " order by policyname",
        (table,),
    ).fetchall()
    return [name for (name,) in rows]


def test_policy_removed_from_a_file_is_removed_from_the_database(
    dirs: tuple[Path, Path], create_database: Callable[..., str]
) -> None:
    policies, migrations = dirs
    url = create_database(prefix="lg_pol")
    assert new_migration(policies, migrations, now=NOW) is not None
    migrate(url, migrations_dir=migrations, say=_quiet)
    with psycopg.connect(url, autocommit=True) as conn:
        assert _policies_on(conn, "notes") == ["notes insert own", "notes_select_own"]
        assert _policies_on(conn, "tags") == ["tags_read"]
        # A policy made by hand on a table a file owns does not survive the next migration.
        conn.execute("create policy by_hand on public.notes for delete using (true)")
    head, rest = NOTES_V1.split('create policy "notes insert own"', maxsplit=1)
    trimmed = head + rest.split("with check (owner = (select auth.uid()));\n", maxsplit=1)[1]
    (policies / "notes.sql").write_text(trimmed, encoding="utf-8")
    assert new_migration(policies, migrations, now=NOW) is not None
    assert migrate(url, migrations_dir=migrations, say=_quiet) == 1
    with psycopg.connect(url, autocommit=True) as conn:
        assert _policies_on(conn, "notes") == ["notes_select_own"]
        assert _policies_on(conn, "tags") == ["tags_read"]


# ---------------------------------------------------------------------------------------
# The real files against the real migrations
# ---------------------------------------------------------------------------------------


def test_every_policy_file_is_carried_by_a_migration() -> None:
    assert stale_files() == [], "run scripts/policies new and commit the migration"


def _covered_tables() -> list[tuple[str, str]]:
    covered: list[tuple[str, str]] = []
    for path in policy_files():
        for pair in tables_of(path.read_text(encoding="utf-8")):
            if pair not in covered:
                covered.append(pair)
    return covered


def _policy_snapshot(
    conn: psycopg.Connection[Any], tables: list[tuple[str, str]]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    schemas, names = [s for s, _ in tables], [t for _, t in tables]
    policies = conn.execute(
        "select p.schemaname, p.tablename, p.policyname, p.permissive, p.roles::text[],"
        " p.cmd, p.qual, p.with_check"
        " from pg_policies p join unnest(%s::text[], %s::text[]) as c(s, t)"
        " on (p.schemaname, p.tablename) = (c.s, c.t)"
        " order by 1, 2, 3",
        (schemas, names),
    ).fetchall()
    rls = conn.execute(
        "select n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity"
        " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " join unnest(%s::text[], %s::text[]) as w(s, t) on (n.nspname, c.relname) = (w.s, w.t)"
        " order by 1, 2",
        (schemas, names),
    ).fetchall()
    return policies, rls


def test_policy_files_are_exactly_what_the_migrated_database_holds(
    fresh_db: Callable[[], str],
) -> None:
    covered = _covered_tables()
    with psycopg.connect(fresh_db(), autocommit=True) as conn:
        with_policies = conn.execute(
            "select distinct schemaname, tablename from pg_policies"
            " where schemaname = any(%s) order by 1, 2",
            (list(POLICY_SCHEMAS),),
        ).fetchall()
        # Every policy in the exposed schemas lives in a policy file (and every table a
        # file names exists): the files are the whole truth about RLS.
        assert sorted(covered) == [tuple(row) for row in with_policies]
        before = _policy_snapshot(conn, covered)
        assert len(before[1]) == len(covered)
        with conn.transaction():
            for schema, table, name, *_ in before[0]:
                conn.execute(
                    sql.SQL("drop policy {} on {}.{}").format(
                        sql.Identifier(name), sql.Identifier(schema), sql.Identifier(table)
                    )
                )
            assert _policy_snapshot(conn, covered)[0] == []
            for path in policy_files():
                for stmt in split_statements(path.read_bytes().decode("utf-8")):
                    conn.execute(stmt.encode())
            after = _policy_snapshot(conn, covered)
            raise psycopg.Rollback
        assert _policy_snapshot(conn, covered) == before  # rolled back
    assert after == before
