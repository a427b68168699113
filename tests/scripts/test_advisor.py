"""scripts/advisor: every rule catches a deliberately bad fixture and spares a clean one.

Each fixture runs inside a transaction on a copy of the migrated database and is rolled
back, so cases never see each other. A case reads as: rule, the SQL that breaks it, the
object the finding must name, and (where one exists) the nearest correct SQL that must
not trip the rule.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from scripts.lib.advisor import RULES, Finding, exposed_schemas, run_advisor
from scripts.lib.migrate import ROOT, apply_platform

# A table clients use, with RLS on, that policy fixtures build on.
NOTES = """
create table public.notes (id bigint primary key, owner uuid not null, body text);
alter table public.notes enable row level security;
"""
# The storage migration already creates `avatars` (public); the upsert keeps the fixture
# valid on a platform-only database too.
PUBLIC_BUCKET = (
    "insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true)"
    " on conflict (id) do update set public = true;"
)


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    bad: str
    object: str
    good: str | None = None
    good_object: str | None = None  # defaults to `object`
    setup: str = ""  # runs before both `bad` and `good`


CASES = [
    # ------------------------------------------------------------------ ERROR
    Case(
        "table without rls",
        "rls_disabled_in_public",
        "create table public.notes (id bigint primary key);",
        "public.notes",
        good=NOTES,
    ),
    Case(
        "policies on a table without rls",
        "policy_exists_rls_disabled",
        """
        create table public.notes (id bigint primary key, owner uuid);
        create policy notes_select on public.notes for select to authenticated
            using (owner = (select auth.uid()));
        """,
        "public.notes",
        good="""
        create table public.notes (id bigint primary key, owner uuid not null, body text);
        alter table public.notes enable row level security;
        create policy notes_select on public.notes for select to authenticated
            using (owner = (select auth.uid()));
        """,
    ),
    Case(
        "our policy on storage.objects with rls off",
        "policy_exists_rls_disabled",
        """
        alter table storage.objects disable row level security;
        create policy objects_select on storage.objects for select to authenticated
            using (owner = (select auth.uid()));
        """,
        "storage.objects",
        good="""
        create policy objects_select on storage.objects for select to authenticated
            using (owner = (select auth.uid()));
        """,
    ),
    Case(
        "view without security_invoker",
        "security_definer_view",
        """
        create view public.my_notes as select id, body from public.notes;
        grant select on public.my_notes to authenticated;
        """,
        "public.my_notes",
        good="""
        create view public.my_notes with (security_invoker = true)
            as select id, body from public.notes;
        grant select on public.my_notes to authenticated;
        """,
        setup=NOTES,
    ),
    Case(
        "view over auth.users in public",
        "auth_users_exposed",
        """
        create view public.members with (security_invoker = true)
            as select id, email from auth.users;
        grant select on public.members to anon;
        """,
        "public.members",
        good="""
        create view private.members with (security_invoker = true)
            as select id, email from auth.users;
        grant select on private.members to anon;
        """,
        good_object="private.members",
    ),
    Case(
        "policy trusting user_metadata",
        "rls_references_user_metadata",
        """
        create policy notes_admin_delete on public.notes for delete to authenticated
            using (((select auth.jwt()) -> 'user_metadata' ->> 'role') = 'admin');
        """,
        "policy notes_admin_delete on public.notes",
        good="""
        create policy notes_admin_delete on public.notes for delete to authenticated
            using (((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin');
        """,
        setup=NOTES,
    ),
    Case(
        "storage policy reading raw_user_meta_data",
        "rls_references_user_metadata",
        """
        create policy objects_admin_delete on storage.objects for delete to authenticated
            using (exists (select from auth.users u
                           where u.id = (select auth.uid())
                             and u.raw_user_meta_data ->> 'admin' = 'true'));
        """,
        "policy objects_admin_delete on storage.objects",
    ),
    Case(
        "secret column readable by authenticated",
        "sensitive_columns_exposed",
        """
        create table public.api_clients (
            id bigint primary key, name text, token_count int, client_secret text);
        alter table public.api_clients enable row level security;
        grant select on public.api_clients to authenticated;
        """,
        "public.api_clients",
        # Column-level grant: the secret is not readable; `token_count` is not a token.
        good="""
        create table public.api_clients (
            id bigint primary key, name text, token_count int, client_secret text);
        alter table public.api_clients enable row level security;
        grant select (id, name, token_count) on public.api_clients to authenticated;
        """,
    ),
    Case(
        "password hash in a view anon can read",
        "sensitive_columns_exposed",
        """
        create view public.logins with (security_invoker = true)
            as select 1::bigint as id, 'x'::text as password_hash;
        grant select on public.logins to anon;
        """,
        "public.logins",
    ),
    Case(
        "foreign key to auth.users(phone)",
        "fkey_to_auth_unique",
        "create table public.contacts (id bigint primary key,"
        " phone text references auth.users (phone));",
        "constraint contacts_phone_fkey on public.contacts",
        good="create table public.contacts (id bigint primary key,"
        " user_id uuid references auth.users (id));",
        good_object="constraint contacts_user_id_fkey on public.contacts",
    ),
    # ------------------------------------------------------------------- WARN
    Case(
        "auth.uid() unwrapped",
        "auth_rls_initplan",
        """
        create policy notes_select on public.notes for select to authenticated
            using (owner = auth.uid());
        """,
        "policy notes_select on public.notes",
        good="""
        create policy notes_select on public.notes for select to authenticated
            using (owner = (select auth.uid()) or ((select auth.jwt()) ->> 'role') = 'mod');
        """,
        setup=NOTES,
    ),
    Case(
        "wrapped using, unwrapped with check",
        "auth_rls_initplan",
        """
        create policy notes_update on public.notes for update to authenticated
            using (owner = (select auth.uid())) with check (owner = auth.uid());
        """,
        "policy notes_update on public.notes",
        good="""
        create policy notes_update on public.notes for update to authenticated
            using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
        """,
        setup=NOTES,
    ),
    Case(
        "current_setting() unwrapped",
        "auth_rls_initplan",
        """
        create policy notes_select on public.notes for select to authenticated
            using (owner::text = current_setting('request.jwt.claim.sub', true));
        """,
        "policy notes_select on public.notes",
        good="""
        create policy notes_select on public.notes for select to authenticated
            using (owner::text = (select current_setting('request.jwt.claim.sub', true)));
        """,
        setup=NOTES,
    ),
    Case(
        "realtime.topic() unwrapped on realtime.messages",
        "auth_rls_initplan",
        """
        create policy room_read on realtime.messages for select to authenticated
            using (realtime.topic() = 'room:' || (select auth.uid())::text);
        """,
        "policy room_read on realtime.messages",
        good="""
        create policy room_read on realtime.messages for select to authenticated
            using ((select realtime.topic()) = 'room:' || (select auth.uid())::text);
        """,
    ),
    Case(
        "two permissive select policies for authenticated",
        "multiple_permissive_policies",
        """
        create policy notes_own on public.notes for select to authenticated
            using (owner = (select auth.uid()));
        create policy notes_recent on public.notes for all to authenticated
            using (id > 100);
        """,
        "public.notes",
        good="""
        create policy notes_own on public.notes for select to authenticated
            using (owner = (select auth.uid()));
        create policy notes_recent on public.notes as restrictive for select to authenticated
            using (id > 100);
        create policy notes_anon on public.notes for select to anon using (id < 10);
        """,
        setup=NOTES,
    ),
    Case(
        "function without search_path",
        "function_search_path_mutable",
        "create function public.add_one(x integer) returns integer"
        " language sql immutable as 'select x + 1';",
        "public.add_one(integer)",
        good="create function public.add_one(x integer) returns integer"
        " language sql immutable set search_path = '' as 'select x + 1';",
    ),
    Case(
        "extension in public",
        "extension_in_public",
        "create extension citext with schema public;",
        "extension citext",
        good="create extension citext with schema extensions;",
    ),
    Case(
        "two identical indexes",
        "duplicate_index",
        """
        create index notes_owner_idx on public.notes (owner);
        create index notes_owner_idx2 on public.notes (owner);
        """,
        "public.notes",
        good="""
        create index notes_owner_idx on public.notes (owner);
        create index notes_owner_id_idx on public.notes (owner, id);
        """,
        setup=NOTES,
    ),
    Case(
        "materialized view readable by anon",
        "materialized_view_in_api",
        "create materialized view public.note_counts as select 1 as n;"
        " grant select on public.note_counts to anon;",
        "public.note_counts",
        good="create materialized view private.note_counts as select 1 as n;",
        good_object="private.note_counts",
    ),
    Case(
        "delete any row",
        "rls_policy_always_true",
        """
        create policy notes_delete on public.notes for delete to authenticated using (true);
        """,
        "policy notes_delete on public.notes",
        good="""
        create policy notes_delete on public.notes for delete to authenticated
            using (owner = (select auth.uid()));
        """,
        setup=NOTES,
    ),
    Case(
        "insert any value",
        "rls_policy_always_true",
        """
        create policy notes_insert on public.notes for insert to authenticated
            with check (1 = 1);
        """,
        "policy notes_insert on public.notes",
        # Public read is a legitimate `using (true)`: only writes are flagged.
        good="create policy notes_insert on public.notes for select to anon using (true);",
        setup=NOTES,
    ),
    Case(
        "insert without with check",
        "rls_policy_always_true",
        "create policy notes_insert on public.notes for insert to authenticated;",
        "policy notes_insert on public.notes",
        setup=NOTES,
    ),
    Case(
        "public bucket listable",
        "public_bucket_allows_listing",
        """
        create policy avatars_list on storage.objects for select to anon
            using (bucket_id = 'avatars');
        """,
        "bucket avatars",
        # Listing only the caller's own folder is fine.
        good="""
        create policy avatars_list on storage.objects for select to authenticated
            using (bucket_id = 'avatars'
                   and (storage.foldername(name))[1] = (select auth.uid())::text);
        """,
        setup=PUBLIC_BUCKET,
    ),
    Case(
        "using (true) over a public bucket",
        "public_bucket_allows_listing",
        "create policy everything on storage.objects for select to authenticated using (true);",
        "bucket avatars",
        good="""
        insert into storage.buckets (id, name, public) values ('docs', 'docs', false);
        create policy docs_list on storage.objects for select to authenticated
            using (bucket_id = 'docs');
        """,
        good_object="bucket docs",
        setup=PUBLIC_BUCKET,
    ),
    Case(
        "security definer rpc for anon",
        "anon_security_definer_function_executable",
        """
        create function public.whoami() returns uuid language sql stable security definer
            set search_path = '' as 'select auth.uid()';
        grant execute on function public.whoami() to anon;
        """,
        "public.whoami()",
        good="""
        create function public.whoami() returns uuid language sql stable security definer
            set search_path = '' as 'select auth.uid()';
        revoke execute on function public.whoami() from public, anon;
        grant execute on function public.whoami() to authenticated;
        """,
    ),
    Case(
        "security definer rpc for authenticated",
        "authenticated_security_definer_function_executable",
        """
        create function public.whoami() returns uuid language sql stable security definer
            set search_path = '' as 'select auth.uid()';
        grant execute on function public.whoami() to authenticated;
        """,
        "public.whoami()",
        # The same helper in `private` is not an RPC: the Data API does not expose it.
        good="""
        create function private.whoami() returns uuid language sql stable security definer
            set search_path = '' as 'select auth.uid()';
        grant execute on function private.whoami() to authenticated;
        """,
        good_object="private.whoami()",
    ),
    Case(
        "policy without to",
        "policy_without_to_role",
        """
        create policy notes_select on public.notes for select
            using (owner = (select auth.uid()));
        """,
        "policy notes_select on public.notes",
        good="""
        create policy notes_select on public.notes for select to authenticated
            using (owner = (select auth.uid()));
        """,
        setup=NOTES,
    ),
    Case(
        "security definer in public",
        "security_definer_outside_private",
        "create function public.is_admin() returns boolean language sql stable"
        " security definer set search_path = '' as 'select false';",
        "public.is_admin()",
        good="create function private.is_admin() returns boolean language sql stable"
        " security definer set search_path = '' as 'select false';",
        good_object="private.is_admin()",
    ),
    Case(
        "security definer with a search_path that is not empty",
        "security_definer_outside_private",
        "create function private.is_admin() returns boolean language sql stable"
        " security definer set search_path = public as 'select false';",
        "private.is_admin()",
    ),
    Case(
        "security definer without search_path",
        "security_definer_outside_private",
        "create function private.is_admin() returns boolean language sql stable"
        " security definer as 'select false';",
        "private.is_admin()",
    ),
    # ------------------------------------------------------------------- INFO
    Case(
        "foreign key without index",
        "unindexed_foreign_keys",
        """
        create table public.parents (id bigint primary key);
        create table public.children (
            id bigint primary key, parent_id bigint references public.parents (id));
        """,
        "constraint children_parent_id_fkey on public.children",
        good="""
        create table public.parents (id bigint primary key);
        create table public.children (
            id bigint primary key, parent_id bigint references public.parents (id));
        create index children_parent_id_idx on public.children (parent_id, id);
        """,
    ),
    Case(
        "table without primary key",
        "no_primary_key",
        "create table private.audit_log (happened_at timestamptz);",
        "private.audit_log",
        good="create table private.audit_log (id bigint primary key, happened_at timestamptz);",
    ),
    Case(
        "rls without policy",
        "rls_enabled_no_policy",
        "",  # the table alone
        "public.notes",
        good="""
        create policy notes_select on public.notes for select to authenticated
            using (owner = (select auth.uid()));
        """,
        setup=NOTES,
    ),
    Case(
        "index never scanned",
        "unused_index",
        "create index notes_owner_idx on public.notes (owner);",
        "public.notes_owner_idx",
        good="create unique index notes_owner_idx on public.notes (owner);",
        setup=NOTES,
    ),
]


@pytest.fixture(scope="module")
def advisor_db(fresh_db: Callable[[], str]) -> str:
    """One migrated database for the module; every case rolls its fixture back."""
    return fresh_db()


def findings_with(url: str, sql: str, *, setup: str = "") -> list[Finding]:
    """Findings on the database as it would be after `sql`, which is then rolled back."""
    with psycopg.connect(url) as conn:
        try:
            for statements in (setup, sql):
                if statements.strip():
                    conn.execute(statements.encode())
            return run_advisor(conn)
        finally:
            conn.rollback()


def named(findings: list[Finding], rule: str) -> list[str]:
    return [f.object for f in findings if f.rule == rule]


def test_rules_and_levels_are_the_agreed_set() -> None:
    expected = {
        "ERROR": {
            "rls_disabled_in_public",
            "policy_exists_rls_disabled",
            "security_definer_view",
            "auth_users_exposed",
            "rls_references_user_metadata",
            "sensitive_columns_exposed",
            "fkey_to_auth_unique",
        },
        "WARN": {
            "auth_rls_initplan",
            "multiple_permissive_policies",
            "function_search_path_mutable",
            "extension_in_public",
            "duplicate_index",
            "materialized_view_in_api",
            "rls_policy_always_true",
            "public_bucket_allows_listing",
            "anon_security_definer_function_executable",
            "authenticated_security_definer_function_executable",
            "policy_without_to_role",
            "security_definer_outside_private",
        },
        "INFO": {
            "unindexed_foreign_keys",
            "no_primary_key",
            "rls_enabled_no_policy",
            "unused_index",
        },
    }
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert {level: {r.name for r in RULES if r.level == level} for level in expected} == expected


def test_every_error_and_warn_rule_has_a_bad_fixture() -> None:
    covered = {case.rule for case in CASES}
    required = {r.name for r in RULES if r.level != "INFO"}
    assert required | {"unindexed_foreign_keys", "no_primary_key"} <= covered


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_catches_bad_fixture(advisor_db: str, case: Case) -> None:
    findings = findings_with(advisor_db, case.bad, setup=case.setup)
    assert case.object in named(findings, case.rule), [
        (f.rule, f.object) for f in findings if f.level != "INFO"
    ]
    finding = next(f for f in findings if f.rule == case.rule and f.object == case.object)
    level = next(r.level for r in RULES if r.name == case.rule)
    assert finding.level == level
    assert finding.description
    assert finding.remediation


GOOD_CASES = [c for c in CASES if c.good is not None]


@pytest.mark.parametrize("case", GOOD_CASES, ids=[c.id for c in GOOD_CASES])
def test_rule_spares_clean_fixture(advisor_db: str, case: Case) -> None:
    assert case.good is not None
    findings = findings_with(advisor_db, case.good, setup=case.setup)
    flagged = named(findings, case.rule)
    assert case.object not in flagged
    assert (case.good_object or case.object) not in flagged


def test_sensitive_finding_names_the_columns(advisor_db: str) -> None:
    bad = next(c for c in CASES if c.rule == "sensitive_columns_exposed")
    findings = findings_with(advisor_db, bad.bad, setup=bad.setup)
    (finding,) = [f for f in findings if f.rule == "sensitive_columns_exposed"]
    assert "client_secret" in finding.description
    assert "token_count" not in finding.description


def test_exposed_schemas_follow_pgrst_setting(advisor_db: str) -> None:
    table = "create schema api; create table api.orders (id bigint primary key);"
    assert "api.orders" not in named(findings_with(advisor_db, table), "rls_disabled_in_public")
    exposed = "set pgrst.db_schemas = 'public, api'"
    findings = findings_with(advisor_db, table, setup=exposed)
    assert "api.orders" in named(findings, "rls_disabled_in_public")


def test_exposed_schemas_default_and_parse(db: psycopg.Connection[Any]) -> None:
    assert exposed_schemas(db) == ["public", "graphql_public"]
    db.execute("set pgrst.db_schemas = ' public ,\"api\", '")
    try:
        assert exposed_schemas(db) == ["public", "api"]
    finally:
        db.execute("reset pgrst.db_schemas")


def test_advisor_restores_search_path(db: psycopg.Connection[Any]) -> None:
    db.execute("set search_path = public, extensions")
    try:
        run_advisor(db)
        row = db.execute("show search_path").fetchone()
        assert row is not None
        assert row[0] == "public, extensions"
    finally:
        db.execute("reset search_path")


def test_real_schema_has_no_errors_or_warnings(fresh_db: Callable[[], str]) -> None:
    with psycopg.connect(fresh_db(), autocommit=True) as conn:
        findings = run_advisor(conn)
    failing = [f"{f.level} {f.rule} {f.object}: {f.description}" for f in findings]
    failing = [line for line in failing if not line.startswith("INFO")]
    assert failing == []


# ----------------------------------------------------------------------- CLI


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.lib.advisor", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def platform_only(create_database: Callable[..., str], sql: str = "") -> str:
    """A database holding the local platform layer and `sql`, so the CLI's counts are
    exact whatever our real schema holds (that has its own test above)."""
    url = create_database(prefix="lg_adv_cli")
    with psycopg.connect(url, autocommit=True) as conn:
        apply_platform(conn, say=lambda *_: None)
        if sql:
            conn.execute(sql.encode())
    return url


@pytest.fixture(scope="module")
def clean_db(create_database: Callable[..., str]) -> str:
    return platform_only(create_database)


@pytest.fixture(scope="module")
def bad_db(create_database: Callable[..., str]) -> str:
    return platform_only(create_database, "create table public.open_notes (id bigint primary key)")


def test_cli_exits_0_on_clean_database(clean_db: str) -> None:
    result = run_cli("--db-url", clean_db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"advisor: 0 errors, 0 warnings, 0 info (rules checked: {len(RULES)})" in result.stdout


def test_cli_exits_1_on_bad_fixture(bad_db: str) -> None:
    result = run_cli("--db-url", bad_db)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ERROR (")
    assert any("rls_disabled_in_public" in line and "public.open_notes" in line for line in lines)
    assert lines[-1] == f"advisor: 1 errors, 0 warnings, 0 info (rules checked: {len(RULES)})"


def test_cli_json_and_database_url_default(bad_db: str) -> None:
    result = run_cli("--json", env={**os.environ, "DATABASE_URL": bad_db})
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert {"level": "ERROR", "rule": "rls_disabled_in_public", "object": "public.open_notes"} in [
        {k: f[k] for k in ("level", "rule", "object")} for f in document["findings"]
    ]
    assert document["summary"]["errors"] == 1
    assert document["summary"]["rules_checked"] == len(RULES)
    assert result.stderr.startswith("advisor: 1 errors, ")


def test_cli_refuses_unreachable_database() -> None:
    result = run_cli("--db-url", "postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    assert "advisor: database error" in result.stderr


def test_verb_wraps_the_module() -> None:
    verb = Path(ROOT, "scripts", "advisor")
    assert os.access(verb, os.X_OK)
    text = verb.read_text(encoding="utf-8")
    assert "exec python -m scripts.lib.advisor" in text
    assert subprocess.run(["bash", "-n", str(verb)], check=False).returncode == 0
