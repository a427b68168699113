"""Security and performance advisor for a migrated LocalGhost database.

    scripts/advisor [--db-url URL] [--json]

Our own take on the rules of Supabase's database linter (Splinter), plus two house rules,
each a catalog query of its own. It looks only at objects WE own: the platform schemas
(auth, storage, realtime, extensions, pg_*, information_schema, supabase_migrations and the
other schemas Supabase manages) are skipped, except that rules about policies also read the
policies we add on storage and realtime tables (`storage.objects`, `realtime.messages`).

Exposed schemas are the Data API's: `current_setting('pgrst.db_schemas')`, by default
`public, graphql_public`. Levels: ERROR and WARN fail the run (exit 1); INFO is only shown.

Choices of our own, stricter than Splinter where it matters to us:
- `auth_rls_initplan` flags each unwrapped call even when another call in the same policy is
  wrapped, and also covers `current_setting()` and `realtime.topic()`.
- `sensitive_columns_exposed` flags a credential-like column anon/authenticated can SELECT
  in an exposed table or view, RLS or not: RLS chooses rows, never columns, so such a column
  belongs in `private` (or behind a column-level grant). Names are matched as whole
  underscore-separated words (`refresh_token`, `stripe_api_key`, `password_hash`), not as
  substrings (`token_count` is fine); see SENSITIVE_COLUMN. Email and phone are left out on
  purpose: users legitimately read their own.
- `rls_references_user_metadata` flags any mention of `user_metadata`/`raw_user_meta_data`
  in a policy: the JWT claim, auth.users' column and storage.objects' column are all
  written by the end user.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import psycopg

Level = Literal["ERROR", "WARN", "INFO"]
LEVELS: tuple[Level, ...] = ("ERROR", "WARN", "INFO")

# Schemas Supabase (or PostgreSQL) owns; objects in them are not ours to lint. pg_* too.
PLATFORM_SCHEMAS = frozenset(
    {
        "auth",
        "storage",
        "realtime",
        "extensions",
        "information_schema",
        "supabase_migrations",
        "supabase_functions",
        "graphql",
        "graphql_public",
        "vault",
        "pgsodium",
        "pgsodium_masks",
        "pgbouncer",
        "net",
        "cron",
        "pgtle",
        "_realtime",
        "_analytics",
    }
)
# Platform schemas whose tables carry policies we write.
POLICY_PLATFORM_SCHEMAS = ("storage", "realtime")
DEFAULT_EXPOSED = ("public", "graphql_public")

# Whole underscore-separated words that name credentials or identifiers worth stealing,
# optionally followed by a storage suffix (`_hash`, `_encrypted`, ...).
SENSITIVE_COLUMN = (
    r"^(.*_)?("
    r"password|passwd|pwd|passphrase|secret|secret_key|private_key|api_?key|auth_key"
    r"|token|access_token|refresh_token|session_token|jwt|otp|totp|mfa_secret"
    r"|recovery_code|backup_code|verification_code|reset_code"
    r"|ssn|social_security_number|tax_id|national_id|passport_number|drivers?_license"
    r"|credit_card|card_number|cvv|cvc|iban|bank_account|account_number|routing_number"
    r")(_(hash|hashed|digest|encrypted|enc|ciphertext|plain))?$"
)

# Calls that must be wrapped in `(select ...)` so a policy evaluates them once per statement.
PER_ROW_CALL = r"(auth\.(uid|jwt|role|email)|realtime\.topic|current_setting)\("
WRAPPED_CALL = r"\(\s*select\s+\(*\s*" + PER_ROW_CALL


@dataclass(frozen=True)
class Rule:
    name: str
    level: Level
    remediation: str
    # Returns (object, description) rows; parameters: ours, exposed, policy_schemas, ...
    sql: str
    # Relations the query reads besides the catalogs; the rule finds nothing without them.
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    level: Level
    rule: str
    object: str
    description: str
    remediation: str


# Shared fragments are spelled out in each query (no string building around SQL).
# `c` is always the relation, `n` its schema, `p` a function, `pol` a policy.

RULES: list[Rule] = [
    # ----------------------------------------------------------------- ERROR
    Rule(
        "rls_disabled_in_public",
        "ERROR",
        "enable row level security on the table (and add `to <role>` policies), "
        "or move it to the private schema",
        """
        select c.oid::regclass::text,
               'table ' || c.oid::regclass::text
               || ' is in an exposed schema and has row level security disabled'
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p')
          and n.nspname = any(%(exposed)s)
          and not c.relrowsecurity
          and not exists (select from pg_catalog.pg_depend d
                          where d.classid = 'pg_catalog.pg_class'::regclass
                            and d.objid = c.oid and d.deptype = 'e')
        """,
    ),
    Rule(
        "policy_exists_rls_disabled",
        "ERROR",
        "enable row level security on the table: its policies are ignored until then",
        """
        select c.oid::regclass::text,
               'table ' || c.oid::regclass::text || ' has policies ('
               || string_agg(quote_ident(pol.polname), ', ' order by pol.polname)
               || ') but row level security is disabled, so they are ignored'
        from pg_catalog.pg_policy pol
        join pg_catalog.pg_class c on c.oid = pol.polrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%(policy_schemas)s)
          and not c.relrowsecurity
        group by c.oid
        """,
    ),
    Rule(
        "security_definer_view",
        "ERROR",
        "recreate the view `with (security_invoker = true)` so the caller's RLS applies",
        """
        select c.oid::regclass::text,
               'view ' || c.oid::regclass::text || ' is readable by API roles and runs with'
               || ' its owner''s rights, bypassing row level security'
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.relkind = 'v'
          and n.nspname = any(%(ours)s)
          and (pg_catalog.has_any_column_privilege('anon', c.oid, 'select')
               or pg_catalog.has_any_column_privilege('authenticated', c.oid, 'select'))
          and not (pg_catalog.lower(coalesce(c.reloptions, '{}')::text)::text[]
                   && array['security_invoker=true', 'security_invoker=on',
                            'security_invoker=1', 'security_invoker=yes'])
          and not exists (select from pg_catalog.pg_depend d
                          where d.classid = 'pg_catalog.pg_class'::regclass
                            and d.objid = c.oid and d.deptype = 'e')
        """,
    ),
    Rule(
        "auth_users_exposed",
        "ERROR",
        "drop the view or move it out of the exposed schemas; expose a profiles table "
        "with RLS instead of auth.users",
        """
        select distinct c.oid::regclass::text,
               'view ' || c.oid::regclass::text || ' reads auth.users and is readable by'
               || ' API roles in an exposed schema'
        from pg_catalog.pg_depend d
        join pg_catalog.pg_rewrite r on r.oid = d.objid
        join pg_catalog.pg_class c on c.oid = r.ev_class
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where d.classid = 'pg_catalog.pg_rewrite'::regclass
          and d.refobjid = 'auth.users'::regclass
          and c.relkind in ('v', 'm')
          and n.nspname = any(%(exposed)s)
          and (pg_catalog.has_any_column_privilege('anon', c.oid, 'select')
               or pg_catalog.has_any_column_privilege('authenticated', c.oid, 'select'))
        """,
        requires=("auth.users",),
    ),
    Rule(
        "rls_references_user_metadata",
        "ERROR",
        "base the decision on app_metadata claims or our own tables; user_metadata is "
        "editable by the end user",
        """
        select 'policy ' || quote_ident(pol.polname) || ' on ' || c.oid::regclass::text,
               'policy ' || quote_ident(pol.polname) || ' on ' || c.oid::regclass::text
               || ' reads user metadata, which end users can edit'
        from pg_catalog.pg_policy pol
        join pg_catalog.pg_class c on c.oid = pol.polrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%(policy_schemas)s)
          and concat_ws(' ', pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
                        pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid))
              ~* 'user_meta_?data'
        """,
    ),
    Rule(
        "sensitive_columns_exposed",
        "ERROR",
        "move the column to a table in the private schema, or revoke select on it from "
        "anon and authenticated (column-level grants)",
        """
        select c.oid::regclass::text,
               'columns ' || string_agg(quote_ident(a.attname), ', ' order by a.attnum)
               || ' of ' || c.oid::regclass::text
               || ' look sensitive and are readable by anon or authenticated'
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        join pg_catalog.pg_attribute a
          on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relkind in ('r', 'p', 'v', 'm', 'f')
          and n.nspname = any(%(exposed)s)
          and pg_catalog.lower(a.attname) ~ %(sensitive)s
          and (pg_catalog.has_column_privilege('anon', c.oid, a.attnum, 'select')
               or pg_catalog.has_column_privilege('authenticated', c.oid, a.attnum, 'select'))
        group by c.oid
        """,
    ),
    Rule(
        "fkey_to_auth_unique",
        "ERROR",
        "reference auth.users(id), the primary key; Supabase may change auth's other "
        "unique constraints",
        """
        select 'constraint ' || quote_ident(con.conname) || ' on ' || c.oid::regclass::text,
               'foreign key ' || quote_ident(con.conname) || ' references '
               || con.confrelid::regclass::text || ' through unique index '
               || con.conindid::regclass::text || ' instead of its primary key'
        from pg_catalog.pg_constraint con
        join pg_catalog.pg_class c on c.oid = con.conrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        join pg_catalog.pg_class rc on rc.oid = con.confrelid
        join pg_catalog.pg_namespace rn on rn.oid = rc.relnamespace
        join pg_catalog.pg_index i on i.indexrelid = con.conindid
        where con.contype = 'f'
          and rn.nspname = 'auth'
          and n.nspname = any(%(ours)s)
          and i.indisunique
          and not i.indisprimary
        """,
    ),
    # ------------------------------------------------------------------ WARN
    Rule(
        "auth_rls_initplan",
        "WARN",
        "wrap the call as `(select auth.uid())` so it runs once per statement, not per row",
        """
        with policies as (
            select pol.polname, c.oid as rel,
                   pg_catalog.regexp_replace(
                       concat_ws(' ', pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
                                 pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid)),
                       %(wrapped_call)s, '(select wrapped(', 'gi') as expr
            from pg_catalog.pg_policy pol
            join pg_catalog.pg_class c on c.oid = pol.polrelid
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            where n.nspname = any(%(policy_schemas)s)
        )
        select 'policy ' || quote_ident(polname) || ' on ' || rel::regclass::text,
               'policy ' || quote_ident(polname) || ' on ' || rel::regclass::text || ' calls '
               || (pg_catalog.regexp_match(expr, %(per_row_call)s, 'i'))[1]
               || '() unwrapped, so it is evaluated for every row'
        from policies
        where expr ~* %(per_row_call)s
        """,
    ),
    Rule(
        "multiple_permissive_policies",
        "WARN",
        "merge the permissive policies into one (or make the extra ones restrictive): "
        "every permissive policy runs for every row",
        """
        with expanded as (
            select c.oid as rel, pol.polname, role_name, action
            from pg_catalog.pg_policy pol
            join pg_catalog.pg_class c on c.oid = pol.polrelid
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            cross join lateral pg_catalog.unnest(pol.polroles) as pr (role_oid)
            cross join lateral pg_catalog.unnest(
                case when pr.role_oid = 0 then array['anon', 'authenticated']
                     else array[pr.role_oid::regrole::text] end) as r (role_name)
            cross join lateral pg_catalog.unnest(
                case pol.polcmd when 'r' then array['select'] when 'a' then array['insert']
                                when 'w' then array['update'] when 'd' then array['delete']
                                else array['select', 'insert', 'update', 'delete'] end
            ) as a (action)
            where pol.polpermissive
              and n.nspname = any(%(policy_schemas)s)
        )
        select rel::regclass::text,
               'role ' || role_name || ' has ' || count(*) || ' permissive ' || action
               || ' policies on ' || rel::regclass::text || ': '
               || string_agg(quote_ident(polname), ', ' order by polname)
        from expanded
        group by rel, role_name, action
        having count(*) > 1
        """,
    ),
    Rule(
        "function_search_path_mutable",
        "WARN",
        "add `set search_path = ''` to the function and qualify every name in its body",
        """
        select p.oid::regprocedure::text,
               'function ' || p.oid::regprocedure::text
               || ' does not set search_path, so the caller''s path resolves its names'
        from pg_catalog.pg_proc p
        join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any(%(ours)s)
          and p.prokind <> 'a'
          and not exists (select from pg_catalog.unnest(p.proconfig) as cfg (setting)
                          where cfg.setting ~ '^search_path=')
          and not exists (select from pg_catalog.pg_depend d
                          where d.classid = 'pg_catalog.pg_proc'::regclass
                            and d.objid = p.oid and d.deptype = 'e')
        """,
    ),
    Rule(
        "extension_in_public",
        "WARN",
        "create the extension `with schema extensions`",
        """
        select 'extension ' || quote_ident(e.extname),
               'extension ' || quote_ident(e.extname) || ' is installed in schema '
               || quote_ident(n.nspname) || ', which the Data API exposes'
        from pg_catalog.pg_extension e
        join pg_catalog.pg_namespace n on n.oid = e.extnamespace
        where n.nspname = 'public' or n.nspname = any(%(exposed)s)
        """,
    ),
    Rule(
        "duplicate_index",
        "WARN",
        "drop all but one of the identical indexes; each slows every write",
        """
        select c.oid::regclass::text,
               'indexes ' || string_agg(i.indexrelid::regclass::text, ', '
                                        order by i.indexrelid::regclass::text)
               || ' on ' || c.oid::regclass::text || ' are identical'
        from pg_catalog.pg_index i
        join pg_catalog.pg_class ic on ic.oid = i.indexrelid
        join pg_catalog.pg_class c on c.oid = i.indrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%(ours)s)
        group by c.oid, ic.relam, i.indkey::text, i.indclass::text, i.indcollation::text,
                 i.indoption::text,
                 coalesce(pg_catalog.pg_get_expr(i.indexprs, i.indrelid), ''),
                 coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '')
        having count(*) > 1
        """,
    ),
    Rule(
        "materialized_view_in_api",
        "WARN",
        "move the materialized view to the private schema (it has no RLS) and expose "
        "what clients need through a view or function that checks access",
        """
        select c.oid::regclass::text,
               'materialized view ' || c.oid::regclass::text
               || ' is readable by API roles and has no row level security'
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.relkind = 'm'
          and n.nspname = any(%(exposed)s)
          and (pg_catalog.has_any_column_privilege('anon', c.oid, 'select')
               or pg_catalog.has_any_column_privilege('authenticated', c.oid, 'select'))
        """,
    ),
    Rule(
        "rls_policy_always_true",
        "WARN",
        "write the condition that makes the row the caller's (e.g. owner = (select auth.uid()))",
        r"""
        with policies as (
            select pol.polname, c.oid as rel, pol.polcmd,
                   pol.polqual is null as no_using,
                   pol.polwithcheck is null as no_check,
                   pg_catalog.regexp_replace(pg_catalog.lower(coalesce(
                       pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), '')),
                       '[\s()]', '', 'g') in ('true', '1=1') as using_true,
                   pg_catalog.regexp_replace(pg_catalog.lower(coalesce(
                       pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid), '')),
                       '[\s()]', '', 'g') in ('true', '1=1') as check_true
            from pg_catalog.pg_policy pol
            join pg_catalog.pg_class c on c.oid = pol.polrelid
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            where pol.polpermissive
              and n.nspname = any(%(policy_schemas)s)
              and pol.polroles && array[0::oid, 'anon'::regrole::oid,
                                        'authenticated'::regrole::oid]
        ), judged as (
            select *,
                   polcmd in ('w', 'd', '*') and (no_using or using_true) as writes_any_row,
                   polcmd in ('a', 'w', '*')
                       and (check_true or (no_check and (polcmd = 'a' or no_using or using_true)))
                       as accepts_any_row
            from policies
        )
        select 'policy ' || quote_ident(polname) || ' on ' || rel::regclass::text,
               'policy ' || quote_ident(polname) || ' on ' || rel::regclass::text || ' ('
               || case polcmd when 'a' then 'insert' when 'w' then 'update'
                              when 'd' then 'delete' else 'all' end
               || ') lets API roles '
               || case when writes_any_row and accepts_any_row
                       then 'change any row and write any value'
                       when writes_any_row then 'change or delete any row'
                       else 'write any value' end
        from judged
        where writes_any_row or accepts_any_row
        """,
    ),
    Rule(
        "public_bucket_allows_listing",
        "WARN",
        "drop the broad select policy: public bucket objects are served by URL without "
        "one; scope listing to the caller's folder if clients must list",
        r"""
        with broad as (
            select pol.polname, pol.polqual,
                   pg_catalog.regexp_replace(coalesce(
                       pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), ''),
                       '[\s()]', '', 'g') as qual
            from pg_catalog.pg_policy pol
            where pol.polrelid = 'storage.objects'::regclass
              and pol.polcmd in ('r', '*')
              and pol.polpermissive
              and pol.polroles && array[0::oid, 'anon'::regrole::oid,
                                        'authenticated'::regrole::oid]
        )
        select 'bucket ' || b.id,
               'public bucket ' || b.id || ' can be listed by API roles through policy '
               || string_agg(quote_ident(broad.polname), ', ' order by broad.polname)
               || ' on storage.objects'
        from storage.buckets b
        join broad
          on broad.polqual is null
          or pg_catalog.lower(broad.qual) in ('true', '1=1')
          or broad.qual in ('bucket_id=''' || b.id || '''::text',
                            'bucket_id=''' || b.id || '''')
        where b.public
        group by b.id
        """,
        requires=("storage.buckets", "storage.objects"),
    ),
    Rule(
        "anon_security_definer_function_executable",
        "WARN",
        "revoke execute from anon (and public); move the function to the private schema",
        """
        select p.oid::regprocedure::text,
               'security definer function ' || p.oid::regprocedure::text
               || ' is callable by anon through /rest/v1/rpc and bypasses RLS'
        from pg_catalog.pg_proc p
        join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where p.prosecdef
          and n.nspname = any(%(exposed)s)
          and pg_catalog.has_function_privilege('anon', p.oid, 'execute')
        """,
    ),
    Rule(
        "authenticated_security_definer_function_executable",
        "WARN",
        "revoke execute from authenticated (and public); move the function to the private "
        "schema or make it security invoker",
        """
        select p.oid::regprocedure::text,
               'security definer function ' || p.oid::regprocedure::text
               || ' is callable by authenticated through /rest/v1/rpc and bypasses RLS'
        from pg_catalog.pg_proc p
        join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where p.prosecdef
          and n.nspname = any(%(exposed)s)
          and pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
        """,
    ),
    # House rules.
    Rule(
        "policy_without_to_role",
        "WARN",
        "add `to authenticated` (or `to anon`) so other roles skip the policy entirely",
        """
        select 'policy ' || quote_ident(pol.polname) || ' on ' || c.oid::regclass::text,
               'policy ' || quote_ident(pol.polname) || ' on ' || c.oid::regclass::text
               || ' has no TO clause, so it applies to every role'
        from pg_catalog.pg_policy pol
        join pg_catalog.pg_class c on c.oid = pol.polrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where pol.polroles = array[0::oid]
          and n.nspname = any(%(policy_schemas)s)
        """,
    ),
    Rule(
        "security_definer_outside_private",
        "WARN",
        "keep security definer helpers in the private schema with `set search_path = ''` "
        "and fully qualified names",
        """
        select p.oid::regprocedure::text,
               'security definer function ' || p.oid::regprocedure::text
               || concat_ws(' and',
                     case when n.nspname = any(%(exposed)s)
                          then ' is in exposed schema ' || quote_ident(n.nspname) end,
                     case when not coalesce(p.proconfig, '{}')
                                   && array['search_path=""', 'search_path=']
                          then ' does not set an empty search_path' end)
        from pg_catalog.pg_proc p
        join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where p.prosecdef
          and n.nspname = any(%(ours)s)
          and (n.nspname = any(%(exposed)s)
               or not coalesce(p.proconfig, '{}') && array['search_path=""', 'search_path='])
          and not exists (select from pg_catalog.pg_depend d
                          where d.classid = 'pg_catalog.pg_proc'::regclass
                            and d.objid = p.oid and d.deptype = 'e')
        """,
    ),
    # ------------------------------------------------------------------ INFO
    Rule(
        "unindexed_foreign_keys",
        "INFO",
        "create an index whose leading columns are the foreign key's columns",
        """
        select 'constraint ' || quote_ident(con.conname) || ' on ' || c.oid::regclass::text,
               'foreign key ' || quote_ident(con.conname) || ' on ' || c.oid::regclass::text
               || ' (' || (select string_agg(quote_ident(a.attname), ', ' order by k.ord)
                           from pg_catalog.unnest(con.conkey) with ordinality as k (attnum, ord)
                           join pg_catalog.pg_attribute a
                             on a.attrelid = con.conrelid and a.attnum = k.attnum)
               || ') has no index starting with its columns'
        from pg_catalog.pg_constraint con
        join pg_catalog.pg_class c on c.oid = con.conrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where con.contype = 'f'
          and n.nspname = any(%(ours)s)
          and not exists (
              select from pg_catalog.pg_index i
              where i.indrelid = con.conrelid
                and (select array_agg(k order by k)
                     from pg_catalog.unnest((pg_catalog.string_to_array(i.indkey::text, ' ')
                                             ::int2[])[1:cardinality(con.conkey)]) as k)
                    = (select array_agg(k order by k) from pg_catalog.unnest(con.conkey) as k))
        """,
    ),
    Rule(
        "no_primary_key",
        "INFO",
        "add a primary key: replication, Realtime and row-level tooling need one",
        """
        select c.oid::regclass::text,
               'table ' || c.oid::regclass::text || ' has no primary key'
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p')
          and n.nspname = any(%(ours)s)
          and not exists (select from pg_catalog.pg_index i
                          where i.indrelid = c.oid and i.indisprimary)
          and not exists (select from pg_catalog.pg_depend d
                          where d.classid = 'pg_catalog.pg_class'::regclass
                            and d.objid = c.oid and d.deptype = 'e')
        """,
    ),
    Rule(
        "rls_enabled_no_policy",
        "INFO",
        "fine for private tables only the service reads; otherwise add policies",
        """
        select c.oid::regclass::text,
               'table ' || c.oid::regclass::text
               || ' has row level security but no policy: API roles see no rows'
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p')
          and c.relrowsecurity
          and n.nspname = any(%(ours)s)
          and not exists (select from pg_catalog.pg_policy pol where pol.polrelid = c.oid)
        """,
    ),
    Rule(
        "unused_index",
        "INFO",
        "on a database with real traffic, consider dropping it",
        """
        select s.indexrelid::regclass::text,
               'index ' || s.indexrelid::regclass::text || ' on ' || s.relid::regclass::text
               || ' has not been scanned since statistics were last reset'
        from pg_catalog.pg_stat_user_indexes s
        join pg_catalog.pg_index i on i.indexrelid = s.indexrelid
        where s.schemaname = any(%(ours)s)
          and s.idx_scan = 0
          and not i.indisunique
          and not i.indisprimary
        """,
    ),
]


def exposed_schemas(conn: psycopg.Connection[Any]) -> list[str]:
    """The Data API's schemas: `pgrst.db_schemas` when set, else Supabase's default."""
    row = conn.execute("select current_setting('pgrst.db_schemas', true)").fetchone()
    raw = (row[0] if row else None) or ""
    names = [part.strip().strip('"') for part in raw.split(",")]
    return [name for name in names if name] or list(DEFAULT_EXPOSED)


def _scope(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    rows = conn.execute("select nspname::text from pg_catalog.pg_namespace").fetchall()
    ours = sorted(
        name for (name,) in rows if name not in PLATFORM_SCHEMAS and not name.startswith("pg_")
    )
    return {
        "ours": ours,
        "exposed": [name for name in exposed_schemas(conn) if name in ours],
        "policy_schemas": [*ours, *POLICY_PLATFORM_SCHEMAS],
        "sensitive": SENSITIVE_COLUMN,
        "per_row_call": PER_ROW_CALL,
        "wrapped_call": WRAPPED_CALL,
    }


def _present(conn: psycopg.Connection[Any], relations: Sequence[str]) -> bool:
    for relation in relations:
        row = conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()
        if not (row and row[0]):
            return False
    return True


def run_advisor(conn: psycopg.Connection[Any]) -> list[Finding]:
    """Every finding of every rule, ERROR first. Changes nothing in the database.

    Runs with an empty search_path so policy and index expressions print fully qualified
    (`auth.uid()`, `public.notes`), whatever the caller's session had.
    """
    findings: list[Finding] = []
    with conn.transaction():
        row = conn.execute("select current_setting('search_path')").fetchone()
        saved_path = row[0] if row else ""
        conn.execute("select set_config('search_path', '', false)")
        params = _scope(conn)
        for rule in RULES:
            if rule.requires and not _present(conn, rule.requires):
                continue
            for obj, description in conn.execute(rule.sql.encode(), params).fetchall():
                findings.append(Finding(rule.level, rule.name, obj, description, rule.remediation))
        conn.execute("select set_config('search_path', %s, false)", (saved_path,))
    findings.sort(key=lambda f: (LEVELS.index(f.level), f.rule, f.object, f.description))
    return findings


def counts(findings: Sequence[Finding]) -> dict[Level, int]:
    return {level: sum(1 for f in findings if f.level == level) for level in LEVELS}


def summary_line(findings: Sequence[Finding]) -> str:
    n = counts(findings)
    return (
        f"advisor: {n['ERROR']} errors, {n['WARN']} warnings, {n['INFO']} info "
        f"(rules checked: {len(RULES)})"
    )


def render_table(findings: Sequence[Finding]) -> str:
    lines: list[str] = []
    for level in LEVELS:
        group = [f for f in findings if f.level == level]
        if not group:
            continue
        lines.append(f"{level} ({len(group)})")
        width = max(len(f.rule) for f in group)
        for f in group:
            lines.append(f"  {f.rule:<{width}}  {f.object}")
            lines.append(f"      {f.description}")
            lines.append(f"      fix: {f.remediation}")
        lines.append("")
    lines.append(summary_line(findings))
    return "\n".join(lines)


def render_json(findings: Sequence[Finding]) -> str:
    n = counts(findings)
    document = {
        "findings": [asdict(f) for f in findings],
        "summary": {
            "errors": n["ERROR"],
            "warnings": n["WARN"],
            "info": n["INFO"],
            "rules_checked": len(RULES),
        },
        "rules": [{"name": r.name, "level": r.level} for r in RULES],
    }
    return json.dumps(document, indent=2)


def failing(findings: Sequence[Finding]) -> bool:
    return any(f.level in ("ERROR", "WARN") for f in findings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Lint a migrated database for security and performance problems."
    )
    parser.add_argument(
        "--db-url",
        default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL URL (default: $DATABASE_URL)",
    )
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    args = parser.parse_args(argv)
    if not args.db_url:
        parser.error("give --db-url or set DATABASE_URL")
    try:
        with psycopg.connect(args.db_url, autocommit=True) as conn:
            findings = run_advisor(conn)
    except psycopg.Error as exc:
        print(f"advisor: database error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(render_json(findings))
        print(summary_line(findings), file=sys.stderr)
    else:
        print(render_table(findings))
    return 1 if failing(findings) else 0


if __name__ == "__main__":
    raise SystemExit(main())
