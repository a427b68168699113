"""The real Supabase CLI (pinned, from npm) agrees with our migration runner.

- `supabase migration list` sees every migration our runner applied as applied;
- `supabase db push` builds the same database our runner builds, history rows included;
- the CLI splits a tricky file into exactly the statements `split_statements` gives;
- `supabase db lint --fail-on error` finds nothing wrong in our plpgsql.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest

from scripts.lib.migrate import ROOT, apply_platform, local_migrations, migrate
from scripts.lib.sqlsplit import split_statements
from scripts.lib.supabase_cli import (
    CLI_VERSION,
    CliError,
    cli_db_url,
    ensure_cli,
    installed_version,
    run_cli,
)

SNAPSHOT_SCHEMAS = ("public", "private", "storage", "realtime")

# Each query returns rows describing one kind of object in the schemas given as %(s)s.
# Nothing volatile (OIDs, timestamps) is selected; names and definitions only.
_CATALOG_QUERIES: dict[str, str] = {
    "relations": """
        select n.nspname, c.relname, c.relkind::text, c.relrowsecurity, c.relforcerowsecurity,
               pg_get_userbyid(c.relowner)::text, c.relacl::text
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%(s)s) and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')""",
    "columns": """
        select n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
               a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text,
               a.attgenerated::text, a.attacl::text
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where n.nspname = any(%(s)s) and a.attnum > 0 and not a.attisdropped
          and c.relkind in ('r', 'p', 'v', 'm', 'f')""",
    "constraints": """
        select n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid)
        from pg_constraint k
        join pg_class c on c.oid = k.conrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%(s)s)""",
    "indexes": """
        select schemaname, tablename, indexname, indexdef
        from pg_indexes where schemaname = any(%(s)s)""",
    "views": """
        select schemaname, viewname, definition from pg_views where schemaname = any(%(s)s)""",
    "triggers": """
        select n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled::text
        from pg_trigger t
        join pg_class c on c.oid = t.tgrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%(s)s) and not t.tgisinternal""",
    "policies": """
        select schemaname, tablename, policyname, permissive, roles::text[], cmd, qual,
               with_check
        from pg_policies where schemaname = any(%(s)s)""",
    "functions": """
        select n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
               pg_get_functiondef(p.oid), pg_get_userbyid(p.proowner)::text, p.proacl::text
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any(%(s)s) and p.prokind in ('f', 'p', 'w')""",
    "types": """
        select n.nspname, t.typname, t.typtype::text,
               (select array_agg(e.enumlabel order by e.enumsortorder)
                from pg_enum e where e.enumtypid = t.oid)::text
        from pg_type t join pg_namespace n on n.oid = t.typnamespace
        where n.nspname = any(%(s)s) and t.typtype in ('e', 'd', 'c')
          and (t.typrelid = 0 or (select relkind from pg_class where oid = t.typrelid) = 'c')""",
    "table_grants": """
        select grantor, grantee, table_schema, table_name, privilege_type, is_grantable
        from information_schema.role_table_grants where table_schema = any(%(s)s)""",
    "column_grants": """
        select grantor, grantee, table_schema, table_name, column_name, privilege_type
        from information_schema.column_privileges where table_schema = any(%(s)s)""",
    "routine_grants": """
        select grantor, grantee, routine_schema, routine_name, privilege_type, is_grantable
        from information_schema.routine_privileges where routine_schema = any(%(s)s)""",
    "schemas": """
        select nspname, pg_get_userbyid(nspowner)::text, nspacl::text,
               obj_description(oid, 'pg_namespace')
        from pg_namespace where nspname = any(%(s)s)""",
    "default_privileges": """
        select pg_get_userbyid(d.defaclrole)::text, n.nspname, d.defaclobjtype::text,
               d.defaclacl::text
        from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace
        where n.nspname is null or n.nspname = any(%(s)s)""",
    "publication_tables": """
        select pubname, schemaname, tablename from pg_publication_tables
        where schemaname = any(%(s)s)""",
    "extensions": """
        select e.extname, e.extversion, n.nspname
        from pg_extension e join pg_namespace n on n.oid = e.extnamespace""",
    "comments": """
        select n.nspname, c.relname, d.objsubid, d.description
        from pg_description d
        join pg_class c on c.oid = d.objoid and d.classoid = 'pg_class'::regclass
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%(s)s)""",
}


def catalog_snapshot(
    conn: psycopg.Connection[Any], schemas: Sequence[str] = SNAPSHOT_SCHEMAS
) -> dict[str, list[tuple[Any, ...]]]:
    """What the database defines in `schemas`, as sorted rows per kind of object."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    for kind, query in _CATALOG_QUERIES.items():
        rows = conn.execute(query.encode(), {"s": list(schemas)}).fetchall()
        snapshot[kind] = sorted(rows, key=repr)
    return snapshot


def history_rows(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select version, name, statements from supabase_migrations.schema_migrations"
        " order by version"
    ).fetchall()


def parse_migration_list(output: str) -> list[tuple[str, str]]:
    """(local, remote) version pairs from `supabase migration list`'s table."""
    pairs = []
    for line in output.splitlines():
        cells = [cell.strip().strip("`").strip() for cell in line.split("|")]
        if len(cells) != 3 or cells[0].lower() == "local" or set(cells[0]) <= {"-"}:
            continue
        pairs.append((cells[0], cells[1]))
    return pairs


def _quiet(*_: object) -> None:
    return None


@pytest.fixture(scope="module")
def cli() -> Path:
    exe = ensure_cli()
    assert exe.exists()
    return exe


@pytest.fixture(scope="module")
def runner_db(create_database: Callable[..., str]) -> str:
    """A plain database our runner migrated (not the template: its own run, its own rows)."""
    url = create_database(prefix="lg_cli_runner")
    migrate(url, say=_quiet)
    return url


def _cli_ok(result: Any) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def test_cli_is_the_pinned_version(cli: Path) -> None:
    result = run_cli(["--version"], exe=cli)
    _cli_ok(result)
    assert result.stdout.strip() == CLI_VERSION
    assert ensure_cli() == cli  # cached: no second install


def test_missing_npm_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(CliError, match=r"npm is not installed.*supabase@2\.117\.0"):
        ensure_cli(tmp_path / "tools")
    assert installed_version(tmp_path / "tools") is None


def test_another_version_is_not_taken_for_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "node_modules" / "supabase"
    package.mkdir(parents=True)
    (package / "package.json").write_text('{"version": "2.0.0"}', encoding="utf-8")
    (tmp_path / "node_modules" / ".bin").mkdir()
    (tmp_path / "node_modules" / ".bin" / "supabase").write_text("", encoding="utf-8")
    assert installed_version(tmp_path) == "2.0.0"
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "registry unreachable")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(CliError, match="registry unreachable"):
        ensure_cli(tmp_path, npm="/usr/bin/npm")
    assert calls == [
        [
            "/usr/bin/npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(tmp_path),
            f"supabase@{CLI_VERSION}",
        ]
    ]


def test_cli_db_url_is_a_percent_encoded_url_without_ssl() -> None:
    assert cli_db_url("host=127.0.0.1 port=5433 user=postgres dbname=lg_x") == (
        "postgresql://postgres@127.0.0.1:5433/lg_x?sslmode=disable"
    )
    assert cli_db_url("postgresql://u:p%40ss@db:6543/app?sslmode=require") == (
        "postgresql://u:p%40ss@db:6543/app?sslmode=disable"
    )


def test_migration_list_sees_every_local_migration_applied(cli: Path, runner_db: str) -> None:
    result = run_cli(["migration", "list"], runner_db, exe=cli)
    _cli_ok(result)
    pairs = parse_migration_list(result.stdout)
    local = [m.version for m in local_migrations()]
    assert [loc for loc, _ in pairs] == local, result.stdout
    assert all(loc == remote for loc, remote in pairs), result.stdout


def test_db_push_builds_the_same_database_as_our_runner(
    cli: Path, runner_db: str, create_database: Callable[..., str]
) -> None:
    pushed = create_database(prefix="lg_cli_push")
    with psycopg.connect(pushed, autocommit=True) as conn:
        apply_platform(conn, say=_quiet)
    _cli_ok(run_cli(["db", "push"], pushed, exe=cli))
    with (
        psycopg.connect(runner_db, autocommit=True) as ours,
        psycopg.connect(pushed, autocommit=True) as theirs,
    ):
        expected, actual = catalog_snapshot(ours), catalog_snapshot(theirs)
        assert expected["functions"], "the snapshot must see our functions"
        assert expected["policies"], "the snapshot must see our policies"
        for kind in expected:
            assert actual[kind] == expected[kind], kind
        assert history_rows(theirs) == history_rows(ours)
        assert len(history_rows(ours)) == len(local_migrations())
    # And our runner, pointed at the CLI-built database, finds nothing to do.
    said: list[str] = []
    assert migrate(pushed, say=said.append) == 0
    assert any("up to date" in line for line in said)


TRICKY_SQL = """\ufeff-- leading comment; with a semicolon\r
create table tricky (id int primary key, "odd;name" text default 'a;''b');\r
/* outer /* nested; */ still; */ insert into tricky values (1, $q$ x; $y$ ; $q$);;\r
create function tricky_f() returns int language plpgsql as $body$\r
begin\r
    return 1; -- not the end
end\r
$body$;\r
create function tricky_g(a int) returns int language sql\r
begin atomic\r
    select a + 1;\r
end;\r
create rule tricky_r as on update to tricky do also (select 1; select 2);\r
prepare tricky_p(int) as select $1; deallocate tricky_p;\r
select 1 as a$b;\r
select U&'d\\0061t\\+000061;' as u, E'\\\\;' as e;\r
-- a comment-only statement\r
;\r
select 5 -- trailing; comment\r
;\r
-- tail comment only"""


def test_cli_splits_a_tricky_file_as_we_do(
    cli: Path, create_database: Callable[..., str], tmp_path: Path
) -> None:
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    shutil.copy(ROOT / "supabase" / "config.toml", tmp_path / "supabase" / "config.toml")
    path = tmp_path / "supabase" / "migrations" / "20200101000000_tricky.sql"
    path.write_bytes(TRICKY_SQL.encode())
    url = create_database(prefix="lg_cli_split")
    _cli_ok(run_cli(["db", "push"], url, cwd=tmp_path, exe=cli))
    with psycopg.connect(url, autocommit=True) as conn:
        rows = history_rows(conn)
    ours = split_statements(path.read_bytes().decode())
    assert rows == [("20200101000000", "tricky", ours)]
    assert len(ours) == 12


def test_db_lint_finds_no_errors(cli: Path, runner_db: str) -> None:
    result = run_cli(["db", "lint", "--fail-on", "error"], runner_db, exe=cli)
    _cli_ok(result)
    assert "No schema errors found" in result.stdout + result.stderr


def test_db_lint_fails_on_a_broken_function(cli: Path, create_database: Callable[..., str]) -> None:
    url = create_database(prefix="lg_cli_lint")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "create function public.broken() returns int language plpgsql as"
            " $$ begin return (select missing_column from pg_class limit 1); end $$"
        )
    result = run_cli(["db", "lint", "--fail-on", "error"], url, exe=cli)
    assert result.returncode != 0
    assert "missing_column" in result.stdout + result.stderr
