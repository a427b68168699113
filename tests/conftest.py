"""Session-wide database fixtures: a real PostgreSQL 15, migrated, fresh for every run.

Without `DATABASE_URL` the run starts its own throwaway cluster (fsync off) and removes it
afterwards; with it, the run creates its databases on that server and drops them after.
One template database is migrated once; every test database is a cheap copy of it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from scripts.lib.migrate import migrate
from scripts.lib.pgcluster import throwaway_cluster


def with_dbname(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """Superuser URL of a PostgreSQL 15 server (its `postgres` database)."""
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    root = Path(tempfile.mkdtemp(prefix="lg-test-pg-"))
    with throwaway_cluster(root) as cluster:
        yield cluster.url()


@pytest.fixture(scope="session")
def create_database(pg_server_url: str) -> Iterator[Callable[..., str]]:
    """Factory: a new empty (or template-copied) database; all dropped at session end."""
    made: list[str] = []

    def make(template: str | None = None, prefix: str = "lg_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            tpl = f" template {template}" if template else ""
            conn.execute(f"create database {name}{tpl}".encode())
        made.append(name)
        return with_dbname(pg_server_url, name)

    yield make
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for name in made:
            conn.execute(f"drop database if exists {name} with (force)".encode())


@pytest.fixture(scope="session")
def template_db(create_database: Callable[..., str]) -> str:
    """Name of a database holding every migration (never connected to after migrating)."""
    url = create_database(prefix="lg_tpl")
    migrate(url, say=lambda *_: None)
    return str(conninfo_to_dict(url)["dbname"])


@pytest.fixture(scope="session")
def fresh_db(create_database: Callable[..., str], template_db: str) -> Callable[[], str]:
    """Factory: URL of a new, fully migrated database (a copy of the template)."""
    return lambda: create_database(template=template_db)


@pytest.fixture(scope="session")
def database_url(fresh_db: Callable[[], str]) -> str:
    """The run's shared migrated database (superuser URL)."""
    return fresh_db()


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit superuser connection to the shared database."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn
