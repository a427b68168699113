"""scripts/migrate on real, fresh databases: platform detection, history, refusals, atomicity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from scripts.lib.migrate import (
    NO_TRANSACTION_HEADER,
    SEED_FILE,
    MigrationError,
    local_migrations,
    main,
    migrate,
    platform_state,
)
from tests.scripts.test_supabase_cli import catalog_snapshot, history_rows

ALL_SCHEMAS = (
    "public",
    "private",
    "auth",
    "storage",
    "realtime",
    "extensions",
    "supabase_migrations",
)


def _exists(conn: psycopg.Connection[Any], regclass: str) -> bool:
    row = conn.execute("select to_regclass(%s) is not null", (regclass,)).fetchone()
    assert row is not None
    return bool(row[0])


def _write(directory: Path, name: str, sql: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(sql, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def migrated(create_database: Callable[..., str]) -> tuple[str, list[str], int]:
    """A plain database our runner brought up to date: (url, what it said, how many applied)."""
    url = create_database(prefix="lg_mig")
    said: list[str] = []
    applied = migrate(url, say=said.append)
    return url, said, applied


def test_plain_database_gets_the_platform_layer_and_every_migration(
    migrated: tuple[str, list[str], int],
) -> None:
    url, said, applied = migrated
    local = local_migrations()
    assert applied == len(local) > 0
    assert said[0] == "platform: plain PostgreSQL; local platform layer applied"
    assert [line for line in said if line.startswith("applying ")] == [
        f"applying {m.path.name}" for m in local
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        assert platform_state(conn) == "local"
        assert _exists(conn, "auth.users")
        assert _exists(conn, "storage.objects")
        rows = history_rows(conn)
    assert [(v, n) for v, n, _ in rows] == [(m.version, m.name) for m in local]
    assert [s for _, _, s in rows] == [m.statements for m in local]


def test_second_run_is_a_no_op(migrated: tuple[str, list[str], int]) -> None:
    url = migrated[0]
    with psycopg.connect(url, autocommit=True) as conn:
        before = catalog_snapshot(conn, ALL_SCHEMAS), history_rows(conn)
    said: list[str] = []
    assert migrate(url, say=said.append) == 0
    assert any("up to date" in line for line in said), said
    assert not [line for line in said if line.startswith("applying ")]
    with psycopg.connect(url, autocommit=True) as conn:
        after = catalog_snapshot(conn, ALL_SCHEMAS), history_rows(conn)
    assert after == before


def test_supabase_database_keeps_its_platform(
    create_database: Callable[..., str], tmp_path: Path
) -> None:
    url = create_database(prefix="lg_mig_supa")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema auth")  # as on Supabase: no marker comment
    migrations = tmp_path / "migrations"
    _write(migrations, "20200101000000_note.sql", "create table public.note (id int);")
    said: list[str] = []
    assert migrate(url, migrations_dir=migrations, say=said.append) == 1
    assert said[0] == "platform: Supabase database detected; local platform layer skipped"
    with psycopg.connect(url, autocommit=True) as conn:
        assert platform_state(conn) == "supabase"
        assert _exists(conn, "public.note")
        assert not _exists(conn, "auth.users")
        assert conn.execute("select to_regnamespace('storage')").fetchone() == (None,)


def test_edited_migration_is_refused_naming_the_file(
    create_database: Callable[..., str], tmp_path: Path
) -> None:
    url = create_database(prefix="lg_mig_edit")
    migrations = tmp_path / "migrations"
    first = _write(migrations, "20200101000000_first.sql", "create table public.a (id int);")
    assert migrate(url, migrations_dir=migrations, say=lambda *_: None) == 1
    first.write_text("create table public.a (id bigint);", encoding="utf-8")
    _write(migrations, "20200101000001_second.sql", "create table public.b (id int);")
    with pytest.raises(MigrationError, match=r"20200101000000_first\.sql was edited"):
        migrate(url, migrations_dir=migrations, say=lambda *_: None)
    with psycopg.connect(url, autocommit=True) as conn:
        assert not _exists(conn, "public.b")  # refused before applying anything


def test_edited_migration_makes_main_exit_1(
    fresh_db: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_db()
    target = local_migrations()[0]
    with psycopg.connect(url, autocommit=True) as conn:
        # The file differs from what was applied, exactly as if it had been edited since.
        conn.execute(
            "update supabase_migrations.schema_migrations"
            " set statements = statements || '-- later edit'::text where version = %s",
            (target.version,),
        )
    assert main(["--db-url", url]) == 1
    err = capsys.readouterr().err
    assert f"supabase/migrations/{target.path.name} was edited after it was applied" in err


def test_unknown_history_version_is_refused(
    fresh_db: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_db()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "insert into supabase_migrations.schema_migrations (version, name, statements)"
            " values ('19990101000000', 'elsewhere', '{}')"
        )
    assert main(["--db-url", url]) == 1
    err = capsys.readouterr().err
    assert "the database has migrations this checkout does not: 19990101000000" in err


def test_failing_migration_leaves_nothing_behind(
    create_database: Callable[..., str], tmp_path: Path
) -> None:
    url = create_database(prefix="lg_mig_fail")
    migrations = tmp_path / "migrations"
    _write(migrations, "20200101000000_ok.sql", "create table public.ok (id int);")
    _write(
        migrations,
        "20200101000001_bad.sql",
        "create table public.half (id int);\n"
        "create function public.half_f() returns int language sql as $$ select 1 $$;\n"
        "insert into public.half values (1 / 0);\n",
    )
    _write(migrations, "20200101000002_after.sql", "create table public.after (id int);")
    with pytest.raises(psycopg.errors.DivisionByZero):
        migrate(url, migrations_dir=migrations, say=lambda *_: None)
    with psycopg.connect(url, autocommit=True) as conn:
        assert _exists(conn, "public.ok")
        assert not _exists(conn, "public.half")
        assert not _exists(conn, "public.after")
        assert conn.execute("select to_regproc('public.half_f')").fetchone() == (None,)
        assert [row[0] for row in history_rows(conn)] == ["20200101000000"]


def test_migrations_apply_in_version_order(
    create_database: Callable[..., str], tmp_path: Path
) -> None:
    url = create_database(prefix="lg_mig_order")
    migrations = tmp_path / "migrations"
    # Written newest first; each depends on the one before it.
    _write(migrations, "20200103000000_c.sql", "alter table public.t add column c int;")
    _write(migrations, "20200101000000_a.sql", "create table public.t (a int);")
    _write(migrations, "20200102000000_b.sql", "alter table public.t add column b int;")
    said: list[str] = []
    assert migrate(url, migrations_dir=migrations, say=said.append) == 3
    assert [line for line in said if line.startswith("applying ")] == [
        "applying 20200101000000_a.sql",
        "applying 20200102000000_b.sql",
        "applying 20200103000000_c.sql",
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        columns = conn.execute(
            "select attname from pg_attribute where attrelid = 'public.t'::regclass"
            " and attnum > 0 order by attnum"
        ).fetchall()
        assert [c for (c,) in columns] == ["a", "b", "c"]
        assert [row[0] for row in history_rows(conn)] == [
            "20200101000000",
            "20200102000000",
            "20200103000000",
        ]


def test_no_transaction_header_runs_outside_a_transaction(
    create_database: Callable[..., str], tmp_path: Path
) -> None:
    url = create_database(prefix="lg_mig_notx")
    migrations = tmp_path / "migrations"
    _write(migrations, "20200101000000_t.sql", "create table public.t (a int);")
    _write(
        migrations,
        "20200102000000_index.sql",
        f"{NO_TRANSACTION_HEADER}\ncreate index concurrently t_a on public.t (a);\n",
    )
    assert migrate(url, migrations_dir=migrations, say=lambda *_: None) == 2
    with psycopg.connect(url, autocommit=True) as conn:
        assert _exists(conn, "public.t_a")
        assert len(history_rows(conn)) == 2


def test_crlf_migration_is_recorded_byte_for_byte(
    create_database: Callable[..., str], tmp_path: Path
) -> None:
    url = create_database(prefix="lg_mig_crlf")
    migrations = tmp_path / "migrations"
    path = migrations / "20200101000000_crlf.sql"
    migrations.mkdir()
    path.write_bytes(b"-- windows\r\ncreate table public.w (id int);\r\n")
    assert migrate(url, migrations_dir=migrations, say=lambda *_: None) == 1
    with psycopg.connect(url, autocommit=True) as conn:
        assert history_rows(conn)[0][2] == ["-- windows\r\ncreate table public.w (id int)"]
    # and it is not mistaken for an edited file on the next run
    assert migrate(url, migrations_dir=migrations, say=lambda *_: None) == 0


def test_seed_runs_after_migrations(create_database: Callable[..., str], tmp_path: Path) -> None:
    url = create_database(prefix="lg_mig_seed")
    migrations = tmp_path / "migrations"
    _write(migrations, "20200101000000_t.sql", "create table public.t (id int primary key);")
    seed = _write(
        tmp_path, "seed.sql", "insert into public.t values (1), (2) on conflict do nothing;"
    )
    said: list[str] = []
    for _ in range(2):  # idempotent seed, run twice
        migrate(url, migrations_dir=migrations, seed=True, seed_file=seed, say=said.append)
    assert f"seeded from {seed}" in said
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("select count(*) from public.t").fetchone() == (2,)
    # without --seed nothing is seeded
    plain = create_database(prefix="lg_mig_noseed")
    migrate(plain, migrations_dir=migrations, seed_file=seed, say=lambda *_: None)
    with psycopg.connect(plain, autocommit=True) as conn:
        assert conn.execute("select count(*) from public.t").fetchone() == (0,)


def test_main_with_the_project_seed(
    fresh_db: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_db()
    with psycopg.connect(url, autocommit=True) as conn:
        before = catalog_snapshot(conn, ALL_SCHEMAS)
    for _ in range(2):  # supabase/seed.sql must be idempotent
        assert main(["--db-url", url, "--seed"]) == 0
    out = capsys.readouterr().out
    if SEED_FILE.exists():
        assert out.count("seeded from supabase/seed.sql") == 2
    else:
        assert out.count("supabase/seed.sql does not exist; nothing seeded") == 2
    with psycopg.connect(url, autocommit=True) as conn:
        assert catalog_snapshot(conn, ALL_SCHEMAS) == before  # seed adds rows, not schema
