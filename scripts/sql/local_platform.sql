-- LocalGhost local platform layer: the parts of a Supabase database that a plain
-- PostgreSQL 15 lacks (roles, the auth/storage/realtime schemas and their helper
-- functions, the realtime publication, the API roles' grants).
--
-- It exists only so that our migrations and tests meet the same database shape
-- PostgREST, Realtime and Storage drive in production. It is NEVER a migration:
-- scripts/migrate applies it only when the target is not already a Supabase database.
-- Idempotent: every statement can run again on a database that already has it.
--
-- Column names (role, name, owner, public, private, version) are Supabase's, keywords or
-- not: this layer must match their shape exactly.
-- noqa: disable=RF04

-- =====================================================================
-- Roles
-- =====================================================================
-- The API roles PostgREST switches to per request, the login role it connects as,
-- and the service accounts Supabase's own servers use.
do $roles$
begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'supabase_admin') then
        create role supabase_admin login superuser createdb createrole replication bypassrls;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
        create role supabase_auth_admin login noinherit createrole;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'supabase_storage_admin') then
        create role supabase_storage_admin login noinherit createrole;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'supabase_realtime_admin') then
        create role supabase_realtime_admin nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'dashboard_user') then
        create role dashboard_user nologin createdb createrole replication;
    end if;
    -- PostgREST connects as authenticator and switches to an API role per request.
    grant anon, authenticated, service_role to authenticator;
    grant anon, authenticated, service_role to postgres;
end
$roles$;

-- Supabase's per-role statement timeouts.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- =====================================================================
-- Extensions schema
-- =====================================================================
create schema if not exists extensions authorization supabase_admin;
grant usage on schema extensions to anon, authenticated, service_role, postgres;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

-- The public schema: API roles may use it; what they may touch is granted per table
-- by our migrations (Supabase no longer grants new tables to anon/authenticated).
grant usage on schema public to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
grant all on tables to service_role;
alter default privileges for role postgres in schema public
grant all on sequences to service_role;
alter default privileges for role postgres in schema public
grant all on functions to service_role;

-- =====================================================================
-- auth: users and the claim helpers
-- =====================================================================
create schema if not exists auth authorization supabase_admin;
grant usage on schema auth to anon, authenticated, service_role, postgres;

create table if not exists auth.users (
    instance_id uuid,
    id uuid primary key,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz,
    updated_at timestamptz,
    phone text unique,
    banned_until timestamptz,
    is_sso_user boolean not null default false,
    deleted_at timestamptz,
    is_anonymous boolean not null default false
);
alter table auth.users owner to supabase_admin;
alter table auth.users enable row level security;
grant select on auth.users to postgres;

-- Exactly Supabase's bodies: the legacy per-claim setting wins over the JSON claims.
-- And Supabase's attributes: plain `language sql stable`, no SET clause. A function with a
-- SET clause is never inlined, so every `(select auth.uid())` in a policy or a function
-- would run as a separate SQL-function call (parsed again for each statement); without
-- one, the planner folds the body into the calling statement as Supabase's does.
-- Unqualified names still resolve here: pg_catalog is searched whatever the path.
create or replace function auth.uid() returns uuid
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.email', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

alter function auth.uid() owner to supabase_admin;
alter function auth.role() owner to supabase_admin;
alter function auth.email() owner to supabase_admin;
alter function auth.jwt() owner to supabase_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
to anon, authenticated, service_role, postgres;

-- =====================================================================
-- storage: buckets, objects and the path helpers
-- =====================================================================
create schema if not exists storage authorization supabase_admin;
grant usage on schema storage to anon, authenticated, service_role, postgres;
-- The tables' owner runs the objects -> buckets foreign-key check (Storage's own role owns
-- the schema on Supabase, so it can always reach its tables there).
grant all on schema storage to supabase_storage_admin;

create table if not exists storage.buckets (
    id text primary key,
    name text not null unique,
    owner uuid,
    owner_id text,
    public boolean default false,
    file_size_limit bigint,
    allowed_mime_types text[],
    created_at timestamptz default now(),
    updated_at timestamptz default now()
);

create table if not exists storage.objects (
    id uuid primary key default gen_random_uuid(),
    bucket_id text references storage.buckets (id),
    name text,
    owner uuid,
    owner_id text,
    metadata jsonb,
    user_metadata jsonb,
    path_tokens text[] generated always as (string_to_array(name, '/')) stored,
    version text,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    last_accessed_at timestamptz default now(),
    unique (bucket_id, name)
);
alter table storage.buckets owner to supabase_storage_admin;
alter table storage.objects owner to supabase_storage_admin;
alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;
grant all on storage.buckets, storage.objects to anon, authenticated, service_role, postgres;

create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable
set search_path = ''
as $$
declare
    _parts text[];
begin
    select string_to_array(name, '/') into _parts;
    return _parts[1:array_length(_parts, 1) - 1];
end
$$;

create or replace function storage.filename(name text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    _parts text[];
begin
    select string_to_array(name, '/') into _parts;
    return _parts[array_length(_parts, 1)];
end
$$;

create or replace function storage.extension(name text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    _parts text[];
    _filename text;
begin
    select string_to_array(name, '/') into _parts;
    select _parts[array_length(_parts, 1)] into _filename;
    return reverse(split_part(reverse(_filename), '.', 1));
end
$$;
alter function storage.foldername(text) owner to supabase_storage_admin;
alter function storage.filename(text) owner to supabase_storage_admin;
alter function storage.extension(text) owner to supabase_storage_admin;

-- =====================================================================
-- realtime: broadcast messages, authorization and the publication
-- =====================================================================
create schema if not exists realtime authorization supabase_admin;
grant usage on schema realtime to anon, authenticated, service_role, postgres;

create table if not exists realtime.messages (
    id uuid not null default gen_random_uuid(),
    topic text not null,
    extension text not null,
    payload jsonb,
    event text,
    private boolean default false,
    binary_payload bytea,
    inserted_at timestamp not null default now(),
    updated_at timestamp not null default now(),
    primary key (id, inserted_at),
    constraint messages_payload_exclusive check (payload is null or binary_payload is null)
);
alter table realtime.messages owner to supabase_realtime_admin;
alter table realtime.messages enable row level security;
grant select, insert, update on realtime.messages to anon, authenticated, service_role, postgres;

-- As on Supabase, no SET clause (inlinable into the policies that call it; see auth.uid).
create or replace function realtime.topic() returns text
language sql stable
as $$
    select nullif(current_setting('realtime.topic', true), '')::text
$$;

-- Realtime relays every row inserted here to the topic's subscribers. As on Supabase,
-- this runs with the caller's rights (not security definer): a trigger that publishes
-- must itself be allowed to insert. Failures become warnings so publishing never aborts
-- the caller's write; the message id is added to the payload unless it has one.
create or replace function realtime.send(
    payload jsonb, event text, topic text, private boolean default true
) returns void
language plpgsql
set search_path = ''
as $$
declare
    _id uuid := gen_random_uuid();
    _payload jsonb;
begin
    begin
        _payload := case
            when payload ? 'id' then payload
            else payload || jsonb_build_object('id', _id)
        end;
        perform pg_catalog.set_config('realtime.topic', topic, true);
        insert into realtime.messages (id, payload, event, topic, private, extension)
        values (_id, _payload, event, topic, private, 'broadcast');
    exception
        when others then
            raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
    end;
end
$$;

create or replace function realtime.broadcast_changes(
    topic_name text,
    event_name text,
    operation text,
    table_name text,
    table_schema text,
    new record,
    old record,
    level text default 'ROW'
) returns void
language plpgsql
set search_path = ''
as $$
declare
    _row_data jsonb;
begin
    if level = 'STATEMENT' then
        raise exception 'function can only be triggered for each row, not for each statement';
    end if;
    if operation not in ('INSERT', 'UPDATE', 'DELETE') then
        raise exception 'Unexpected operation type: %', operation;
    end if;
    _row_data := jsonb_build_object(
        'old_record', case when old is null then null else to_jsonb(old) end,
        'record', case when new is null then null else to_jsonb(new) end,
        'operation', operation,
        'table', table_name,
        'schema', table_schema
    );
    perform realtime.send(_row_data, event_name, topic_name);
exception
    when others then
        raise exception 'Failed to process the row: %', sqlerrm;
end
$$;
alter function realtime.topic() owner to supabase_realtime_admin;
alter function realtime.send(jsonb, text, text, boolean) owner to supabase_admin;
alter function realtime.broadcast_changes(
    text, text, text, text, text, record, record, text
) owner to supabase_admin;
grant execute on function realtime.topic() to anon, authenticated, service_role, postgres;
grant execute on function realtime.send(jsonb, text, text, boolean)
to anon, authenticated, service_role, postgres;
grant execute on function realtime.broadcast_changes(
    text, text, text, text, text, record, record, text
) to anon, authenticated, service_role, postgres;

do $publication$
begin
    if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
        create publication supabase_realtime;
    end if;
end
$publication$;

-- =====================================================================
-- Marker: lets scripts/migrate tell this local layer from a real Supabase database.
-- =====================================================================
comment on schema auth is 'localghost local platform layer v1 (not a Supabase project)';
