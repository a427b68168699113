"""Fixtures for the hardening tests: the real service in a subprocess, on a database of its own.

`fresh_db` (a migrated copy of the session's template) comes from tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from scripts.lib.fuzz import fuzz_target
from scripts.lib.load import Service
from scripts.lib.migrate import apply_seed


def seeded_db(fresh_db: Callable[[], str]) -> str:
    """A migrated database holding the demo data of supabase/seed.sql."""
    url = fresh_db()
    with psycopg.connect(url, autocommit=True) as conn:
        apply_seed(conn)
    return url


@pytest.fixture(scope="module")
def fuzz_db_url(fresh_db: Callable[[], str]) -> str:
    return seeded_db(fresh_db)


@pytest.fixture(scope="module")
def fuzz_service_process(fuzz_db_url: str) -> Iterator[Service]:
    with fuzz_target(fuzz_db_url) as service:
        yield service


def service_log(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""
