-- Foundation: what every later capability relies on.
--
-- Runs on a real Supabase project and on our local platform layer alike, as the
-- `postgres` role. Creates nothing in the platform schemas (auth, storage, realtime).

-- =====================================================================
-- Schemas
-- =====================================================================

-- `private` holds the service's own tables (credentials, sessions) and the security
-- definer helpers that policies call. It is never listed in the Data API's exposed
-- schemas, so no client can address it directly; API roles get USAGE only so that
-- policies evaluated as them can call the helpers granted to them.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role;

-- =====================================================================
-- Default privileges
-- =====================================================================

-- Nothing we create is reachable by a client role until a migration grants it explicitly.
-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and only the global form of
-- the default (not a per-schema one) can take that away; so every RPC or helper a client
-- may call is a deliberate grant. The per-schema lines undo Supabase's own defaults,
-- which grant new tables and functions in `public` to the API roles.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
alter default privileges in schema public revoke execute on functions from anon, authenticated;

-- =====================================================================
-- Shared trigger functions
-- =====================================================================

-- Keeps `updated_at` honest whoever writes the row.
create or replace function private.touch_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end
$$;
