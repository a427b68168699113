"""Upgrades: the migrations applied one release at a time, again (idempotence), and the
newest one on top of the previous release's data.

- From an empty database, each migration is applied by its own `migrate()` run (a folder
  that gains one file per run, as a project that deploys every release would see it). The
  result must equal the database migrated in one go, pass the profiles and chat persona
  matrices, and a second full run must apply nothing and change nothing in the catalog.
- A database at the previous version (all migrations but the newest), seeded with
  supabase/seed.sql, then upgraded with the newest: every table of `public` and `private`
  keeps every row, and rows keep their values, except where the newest migration is
  listed below as changing a table's data on purpose.
"""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from scripts.lib.migrate import MIGRATIONS_DIR, apply_seed, local_migrations, migrate
from tests.harness import matrix
from tests.harness.personas import Persona
from tests.supabase import test_rls_chat_matrix as chat_matrix
from tests.supabase import test_rls_profiles_matrix as profiles_matrix

# version of a migration -> tables whose existing rows it rewrites on purpose (their row
# counts are still checked; only the checksum of their old columns is not).
INTENTIONAL_DATA_CHANGES: dict[str, frozenset[str]] = {}
# version of a migration -> tables it reshapes on purpose (their rows and columns change);
# each has a test of its own showing that the data carried over.
RESHAPED_TABLES: dict[str, frozenset[str]] = {
    # test_weights_carry_over_into_one_row
    "20261126210000": frozenset({"match_weights"}),
}
SCHEMAS = ("public", "private")


def _quiet(*_: Any) -> None:
    return None


def dbname(url: str) -> str:
    return str(conninfo_to_dict(url)["dbname"])


# --------------------------------------------------------------------------------------
# Catalog fingerprint: everything a migration defines, without OIDs or physical details
# --------------------------------------------------------------------------------------

_CATALOG_QUERIES = {
    "schemas": """
        select nspname, pg_get_userbyid(nspowner), coalesce(nspacl::text, '')
        from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema'
    """,
    "relations": """
        select n.nspname, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
               pg_get_userbyid(c.relowner), coalesce(c.relacl::text, ''),
               coalesce(pg_get_viewdef(c.oid, true), ''), coalesce(c.reloptions::text, '')
        from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
          and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
    """,
    "columns": """
        select n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
               a.attnotnull, coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attgenerated,
               a.attidentity, coalesce(a.attacl::text, '')
        from pg_attribute as a
        join pg_class as c on c.oid = a.attrelid
        join pg_namespace as n on n.oid = c.relnamespace
        left join pg_attrdef as d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where a.attnum > 0 and not a.attisdropped
          and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
          and c.relkind in ('r', 'p', 'v', 'm', 'f')
    """,
    "constraints": """
        select n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid)
        from pg_constraint as k
        join pg_class as c on c.oid = k.conrelid
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
    """,
    "indexes": """
        select schemaname, tablename, indexname, indexdef from pg_indexes
        where schemaname not like 'pg\\_%' and schemaname <> 'information_schema'
    """,
    "policies": """
        select schemaname, tablename, policyname, permissive, roles::text, cmd,
               coalesce(qual, ''), coalesce(with_check, '')
        from pg_policies
    """,
    "functions": """
        select n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
               md5(pg_get_functiondef(p.oid)), pg_get_userbyid(p.proowner),
               coalesce(p.proacl::text, ''), coalesce(p.proconfig::text, '')
        from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
        where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
          and p.prokind in ('f', 'p', 'w')
    """,
    "triggers": """
        select n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled
        from pg_trigger as t
        join pg_class as c on c.oid = t.tgrelid
        join pg_namespace as n on n.oid = c.relnamespace
        where not t.tgisinternal
    """,
    "types": """
        select n.nspname, t.typname, t.typtype,
               coalesce((select string_agg(e.enumlabel, ',' order by e.enumsortorder)
                         from pg_enum as e where e.enumtypid = t.oid), '')
        from pg_type as t join pg_namespace as n on n.oid = t.typnamespace
        where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
          and (t.typtype in ('e', 'd')
               or (t.typtype = 'c' and (select relkind from pg_class where oid = t.typrelid) = 'c'))
    """,
    "extensions": "select extname, extversion from pg_extension",
    "publications": """
        select p.pubname, coalesce(t.schemaname, ''), coalesce(t.tablename, '')
        from pg_publication as p left join pg_publication_tables as t using (pubname)
    """,
    "default_privileges": """
        select pg_get_userbyid(d.defaclrole), coalesce(n.nspname, ''), d.defaclobjtype,
               d.defaclacl::text
        from pg_default_acl as d left join pg_namespace as n on n.oid = d.defaclnamespace
    """,
    "history": "select version, name from supabase_migrations.schema_migrations",
}


def catalog(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return {
            name: sorted(conn.execute(query.encode()).fetchall(), key=repr)
            for name, query in _CATALOG_QUERIES.items()
        }


def assert_same_catalog(
    got: dict[str, list[tuple[Any, ...]]], want: dict[str, list[tuple[Any, ...]]]
) -> None:
    for name in _CATALOG_QUERIES:
        extra = sorted(set(got[name]) - set(want[name]), key=repr)
        missing = sorted(set(want[name]) - set(got[name]), key=repr)
        assert not extra, f"{name}: not in the reference: {extra[:5]}"
        assert not missing, f"{name}: missing: {missing[:5]}"


# --------------------------------------------------------------------------------------
# One at a time, matrices, idempotence
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stepwise_db(
    create_database: Callable[..., str], tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database brought up by one `migrate()` run per migration, from empty."""
    url = create_database(prefix="lg_upg_step")
    folder = tmp_path_factory.mktemp("stepwise-migrations")
    migrations = local_migrations()
    assert migrations, "no migrations found"
    for mig in migrations:
        shutil.copy2(mig.path, folder / mig.path.name)
        applied = migrate(url, migrations_dir=folder, say=_quiet)
        assert applied == 1, f"{mig.path.name}: applied {applied}"
    return url


def test_stepwise_equals_migrating_in_one_go(stepwise_db: str, fresh_db: Callable[[], str]) -> None:
    stepwise = catalog(stepwise_db)
    for kind in ("relations", "columns", "constraints", "indexes", "policies", "functions"):
        assert stepwise[kind], f"the catalog fingerprint found no {kind}"
    assert len(stepwise["history"]) == len(local_migrations())
    assert_same_catalog(stepwise, catalog(fresh_db()))


def test_second_run_applies_nothing_and_changes_nothing(
    stepwise_db: str, create_database: Callable[..., str]
) -> None:
    # On a copy, so the matrices below run on exactly the stepwise database.
    url = create_database(template=dbname(stepwise_db), prefix="lg_upg_again")
    before = catalog(url)
    assert migrate(url, say=_quiet) == 0
    assert migrate(url, migrations_dir=MIGRATIONS_DIR, say=_quiet) == 0
    assert_same_catalog(catalog(url), before)


@contextmanager
def _world_copy(
    create_database: Callable[..., str], template: str, build: Callable[[str], Generator[Any]]
) -> Iterator[tuple[psycopg.Connection[Any], dict[str, Persona]]]:
    url = create_database(template=template, prefix="lg_upg_world")
    worlds = build(url)
    try:
        yield next(worlds)
    finally:
        worlds.close()


def _profiles_world(url: str) -> Generator[tuple[psycopg.Connection[Any], dict[str, Persona]]]:
    # The matrix module's own `world` fixture body, handed this database.
    build = inspect.unwrap(profiles_matrix.world)
    yield from build(lambda: url)


def _chat_world(url: str) -> Generator[tuple[psycopg.Connection[Any], dict[str, Persona]]]:
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn, chat_matrix.build_world(conn)


@pytest.fixture(scope="module")
def profiles_world(
    stepwise_db: str, create_database: Callable[..., str]
) -> Iterator[tuple[psycopg.Connection[Any], dict[str, Persona]]]:
    with _world_copy(create_database, dbname(stepwise_db), _profiles_world) as world:
        yield world


@pytest.fixture(scope="module")
def chat_world(
    stepwise_db: str, create_database: Callable[..., str]
) -> Iterator[tuple[psycopg.Connection[Any], dict[str, Persona]]]:
    with _world_copy(create_database, dbname(stepwise_db), _chat_world) as world:
        yield world


def _failures(
    world: tuple[psycopg.Connection[Any], dict[str, Persona]],
    cells: list[matrix.Cell],
    actions: dict[tuple[str, str], matrix.Action],
) -> list[str]:
    conn, personas = world
    failures = []
    for cell in cells:
        try:
            matrix.check(conn, cell, personas, actions)
        except AssertionError as exc:
            failures.append(str(exc))
    return failures


def test_profiles_matrix_after_stepwise_upgrade(
    profiles_world: tuple[psycopg.Connection[Any], dict[str, Persona]],
) -> None:
    cells = profiles_matrix.CELLS
    assert len(cells) > 100
    assert _failures(profiles_world, cells, profiles_matrix.ACTIONS) == []


def test_chat_matrix_after_stepwise_upgrade(
    chat_world: tuple[psycopg.Connection[Any], dict[str, Persona]],
) -> None:
    cells = chat_matrix.CELLS
    assert len(cells) > 100
    assert _failures(chat_world, cells, chat_matrix.ACTIONS) == []


# --------------------------------------------------------------------------------------
# The newest migration on the previous version's seeded data
# --------------------------------------------------------------------------------------


def table_columns(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], list[str]]:
    rows = conn.execute(
        "select c.table_schema, c.table_name, c.column_name"
        " from information_schema.columns as c"
        " join information_schema.tables as t"
        "   on t.table_schema = c.table_schema and t.table_name = c.table_name"
        " where c.table_schema = any(%s) and t.table_type = 'BASE TABLE'"
        " order by c.table_schema, c.table_name, c.ordinal_position",
        [list(SCHEMAS)],
    ).fetchall()
    tables: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        tables.setdefault((schema, table), []).append(column)
    return tables


def table_state(
    conn: psycopg.Connection[Any], table: tuple[str, str], columns: list[str]
) -> tuple[int, str]:
    """Row count, and an order-independent checksum of the rows' values in `columns`."""
    row = sql.SQL("row({})::text").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
    query = sql.SQL(
        "select count(*), md5(coalesce(string_agg(r, E'\\n' order by r), ''))"
        " from (select {row} as r from {table}) as rows"
    ).format(row=row, table=sql.Identifier(*table))
    result = conn.execute(query).fetchone()
    assert result is not None
    return int(result[0]), str(result[1])


def test_newest_migration_keeps_every_row_of_the_previous_version(
    create_database: Callable[..., str], tmp_path: Path
) -> None:
    migrations = local_migrations()
    assert len(migrations) >= 2
    *previous, newest = migrations
    for mig in previous:
        shutil.copy2(mig.path, tmp_path / mig.path.name)
    url = create_database(prefix="lg_upg_prev")
    assert migrate(url, migrations_dir=tmp_path, say=_quiet) == len(previous)

    with psycopg.connect(url, autocommit=True) as conn:
        apply_seed(conn)
        columns = table_columns(conn)
        before = {table: table_state(conn, table, cols) for table, cols in columns.items()}
    assert sum(count for count, _ in before.values()) > 1000, "the seed should fill the tables"

    shutil.copy2(newest.path, tmp_path / newest.path.name)
    assert migrate(url, migrations_dir=tmp_path, say=_quiet) == 1

    intentional = INTENTIONAL_DATA_CHANGES.get(newest.version, frozenset())
    reshaped = RESHAPED_TABLES.get(newest.version, frozenset())
    with psycopg.connect(url, autocommit=True) as conn:
        after_columns = table_columns(conn)
        lost_tables = sorted(set(columns) - set(after_columns))
        assert not lost_tables, f"{newest.path.name} dropped tables holding data: {lost_tables}"
        changed = []
        for table, cols in columns.items():
            name = ".".join(table)
            if table[1] in reshaped:
                continue
            dropped = [c for c in cols if c not in after_columns[table]]
            count, checksum = table_state(conn, table, cols if not dropped else [])
            old_count, old_checksum = before[table]
            if count != old_count:
                changed.append(f"{name}: {old_count} rows before, {count} after")
            elif table[1] in intentional:
                continue
            elif dropped:
                changed.append(f"{name}: columns dropped with their data: {dropped}")
            elif checksum != old_checksum:
                changed.append(f"{name}: row values changed")
    assert not changed, f"{newest.path.name}: {changed}"


def test_weights_carry_over_into_one_row(
    create_database: Callable[..., str], tmp_path: Path
) -> None:
    """20261126210000 turns the weights' row per name into one typed row, same values (the
    rank window aside, which it sets to 150)."""
    reshaping = "20261126210000"
    url = create_database(prefix="lg_upg_weights")
    for mig in local_migrations():
        if mig.version < reshaping:
            shutil.copy2(mig.path, tmp_path / mig.path.name)
    migrate(url, migrations_dir=tmp_path, say=_quiet)
    with psycopg.connect(url, autocommit=True) as conn:
        rows_before = conn.execute("select param, weight from private.match_weights").fetchall()
    before = {str(param): float(weight) for param, weight in rows_before}
    assert len(before) == 22

    for mig in local_migrations():
        if mig.version == reshaping:
            shutil.copy2(mig.path, tmp_path / mig.path.name)
    assert migrate(url, migrations_dir=tmp_path, say=_quiet) == 1
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "select to_jsonb(w) - 'singleton' from private.match_weights as w"
        ).fetchall()
        described = conn.execute(
            "select count(*) from pg_catalog.pg_attribute as a"
            " where a.attrelid = 'private.match_weights'::regclass and a.attnum > 1"
            " and not a.attisdropped and col_description(a.attrelid, a.attnum) is not null"
        ).fetchone()
    assert len(rows) == 1
    after = {name: float(value) for name, value in rows[0][0].items()}
    assert after == {**before, "rank_window": 150.0}
    assert described == (22,), "every weight keeps its reason, as a column comment"
