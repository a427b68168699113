"""supabase/types/database.ts is what Supabase's generator makes of our migrations today."""

from __future__ import annotations

from collections.abc import Callable

from scripts.lib.gen_types import TYPES_PATH, add_platform_stubs, generate, included_schemas


def test_the_committed_types_are_fresh(fresh_db: Callable[[], str]) -> None:
    url = fresh_db()
    add_platform_stubs(url)
    generated = generate(url)
    committed = TYPES_PATH.read_text(encoding="utf-8")
    assert generated == committed, "supabase/types/database.ts is stale: run scripts/gen-types"


def test_the_types_cover_the_schemas_the_cli_would() -> None:
    assert included_schemas() == ["public", "graphql_public"]
    text = TYPES_PATH.read_text(encoding="utf-8")
    assert "export type Database = {" in text
    for schema in included_schemas():
        assert f"\n  {schema}: {{\n" in text, schema
    # Nothing the Data API does not expose leaks into the client's types.
    assert "\n  private: {" not in text
    for table in ("messages", "conversations", "local_cards", "booking_requests"):
        assert f"\n      {table}: {{\n" in text, table
