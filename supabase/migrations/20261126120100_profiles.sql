-- Profiles and the locals directory.
--
-- Who a person is (profiles), what a local offers (local_profiles, local_availability),
-- and the public card the directory shows (local_cards). Accounts (credentials) live in
-- `private`, out of the Data API's reach; the service creates an account and its
-- profile together at signup. Policies live in supabase/policies/profiles.sql and
-- supabase/policies/directory.sql.

-- =====================================================================
-- Extensions
-- =====================================================================

-- Exclusion constraints over (local, date range) need GiST support for `=` on uuid.
create extension if not exists btree_gist with schema extensions;

-- =====================================================================
-- Vocabularies
-- =====================================================================

-- Closed lists the database validates against, readable by every client so a frontend can
-- build its pickers from the same source.

-- ISO 639-1 language codes.
create table public.languages (
    code text primary key check (code ~ '^[a-z]{2}$')
);

insert into public.languages (code)
select unnest(string_to_array(
    'aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv '
    || 'cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi '
    || 'ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr '
    || 'ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne '
    || 'ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg '
    || 'si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug '
    || 'uk ur uz ve vi vo wa wo xh yi yo za zh zu',
    ' '
));

-- ISO 4217 currency codes in circulation.
create table public.currencies (
    code text primary key check (code ~ '^[A-Z]{3}$')
);

insert into public.currencies (code)
select unnest(string_to_array(
    'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN '
    || 'BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR '
    || 'FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD '
    || 'JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD '
    || 'MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP '
    || 'PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC '
    || 'SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF '
    || 'XCD XCG XOF XPF YER ZAR ZMW ZWG',
    ' '
));

-- What a local can show travelers, and what a traveler can say they love.
create table public.expertise_tags (
    tag text primary key check (tag ~ '^[a-z][a-z_]{1,30}$'),
    display_name text not null
);

insert into public.expertise_tags (tag, display_name) values
('food', 'Food'),
('history', 'History'),
('art', 'Art'),
('nightlife', 'Nightlife'),
('nature', 'Nature'),
('architecture', 'Architecture'),
('shopping', 'Shopping'),
('photography', 'Photography'),
('family', 'Family friendly'),
('sports', 'Sports'),
('music', 'Music'),
('wine', 'Wine'),
('coffee', 'Coffee'),
('hiking', 'Hiking'),
('markets', 'Markets'),
('street_art', 'Street art'),
('museums', 'Museums'),
('beaches', 'Beaches'),
('cycling', 'Cycling'),
('literature', 'Literature'),
('film', 'Film'),
('design', 'Design'),
('local_life', 'Local life'),
('lgbtq', 'LGBTQ+ friendly');

-- =====================================================================
-- Types
-- =====================================================================

create type public.user_role as enum ('traveler', 'local');

-- =====================================================================
-- Accounts (private: credentials never reach the Data API)
-- =====================================================================

-- One row per person who can sign in. The service owns it; no API role has any grant.
-- Email is unique regardless of case; the service stores it trimmed and lower-cased.
create table private.accounts (
    id uuid primary key default gen_random_uuid(),
    email text not null check (email = lower(btrim(email)) and char_length(email) <= 254),
    password_hash text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create unique index accounts_email_key on private.accounts (lower(email));

create trigger accounts_touch_updated_at
before update on private.accounts
for each row execute function private.touch_updated_at();

-- =====================================================================
-- Tables
-- =====================================================================

-- The person behind an account, as other people may see them. No email, no credentials.
create table public.profiles (
    id uuid primary key references private.accounts (id) on delete cascade,
    role public.user_role not null, -- noqa: RF04
    full_name text not null check (char_length(btrim(full_name)) between 1 and 100),
    bio text check (char_length(bio) <= 2000),
    -- Object name inside the `avatars` bucket; always under the owner's own folder.
    avatar_path text check (avatar_path like id::text || '/%' and char_length(avatar_path) <= 200),
    home_city text check (char_length(home_city) <= 100),
    languages text[] not null default '{}' check (cardinality(languages) <= 20),
    interests text[] not null default '{}' check (cardinality(interests) <= 20),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- What a local offers. One per profile whose role is `local`; created with the profile at
-- signup, completed by the local. Rating and response figures are computed by the
-- database (bookings and chat), never written by clients.
create table public.local_profiles (
    profile_id uuid primary key references public.profiles (id) on delete cascade,
    city text check (char_length(btrim(city)) between 1 and 100),
    country_code text check (country_code ~ '^[A-Z]{2}$'),
    latitude double precision check (latitude between -90 and 90),
    longitude double precision check (longitude between -180 and 180),
    headline text check (char_length(headline) <= 120),
    expertise text[] not null default '{}' check (cardinality(expertise) <= 12),
    hourly_rate_cents integer check (hourly_rate_cents between 0 and 100000000),
    currency text not null default 'EUR' references public.currencies (code),
    max_group_size smallint not null default 4 check (max_group_size between 1 and 50),
    accepting_requests boolean not null default true,
    verified boolean not null default false,
    rating_avg numeric(3, 2) check (rating_avg between 1 and 5),
    rating_count integer not null default 0 check (rating_count >= 0),
    response_rate numeric(4, 3) check (response_rate between 0 and 1),
    median_response_minutes integer check (median_response_minutes >= 0),
    last_active_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint local_profiles_location_pair check ((latitude is null) = (longitude is null))
);

-- When a local is available. Travelers filter the directory by "available on my dates".
create table public.local_availability (
    id bigint generated always as identity primary key,
    local_id uuid not null references public.local_profiles (profile_id) on delete cascade,
    during daterange not null check (not isempty(during) and not upper_inf(during)),
    created_at timestamptz not null default now(),
    constraint local_availability_no_overlap
    exclude using gist (local_id with =, during with &&)
);

create index local_availability_during_idx on public.local_availability using gist (during);

-- The public card of a local: exactly what the directory may show anyone, signed in or
-- not. A read model kept by triggers from profiles and local_profiles, so row access
-- (anyone) and column access (card fields only) stay simple and fast. Listed only once
-- the local has said where they are.
create table public.local_cards (
    profile_id uuid primary key references public.local_profiles (profile_id) on delete cascade,
    full_name text not null,
    avatar_path text,
    headline text,
    city text not null,
    country_code text,
    -- Rounded to about a kilometre: enough for "near me", not a home address.
    latitude double precision,
    longitude double precision,
    languages text[] not null,
    expertise text[] not null,
    hourly_rate_cents integer,
    currency text not null,
    max_group_size smallint not null,
    accepting_requests boolean not null,
    verified boolean not null,
    rating_avg numeric(3, 2),
    rating_count integer not null,
    response_rate numeric(4, 3),
    median_response_minutes integer,
    updated_at timestamptz not null default now()
);

create index local_cards_city_idx on public.local_cards (lower(city));
create index local_cards_languages_idx on public.local_cards using gin (languages);
create index local_cards_expertise_idx on public.local_cards using gin (expertise);
create index local_cards_rating_idx on public.local_cards (rating_avg desc nulls last, profile_id);

-- =====================================================================
-- Grants
-- =====================================================================

-- Vocabularies: read-only for everyone.
grant select on public.languages, public.currencies, public.expertise_tags to anon, authenticated;

-- Profiles: a signed-in user reads what RLS lets them and edits their own; nobody but the
-- service inserts or deletes (signup and account deletion are the service's job).
grant select, update on public.profiles to authenticated;
grant select, update on public.local_profiles to authenticated;
grant select on public.local_availability to anon, authenticated;
grant insert, update, delete on public.local_availability to authenticated;
grant select on public.local_cards to anon, authenticated;
grant all on public.languages, public.currencies, public.expertise_tags to service_role;
grant all on public.profiles, public.local_profiles, public.local_availability to service_role;
grant all on public.local_cards to service_role;

-- =====================================================================
-- Row level security (policies: supabase/policies/profiles.sql, directory.sql)
-- =====================================================================

alter table public.languages enable row level security;
alter table public.currencies enable row level security;
alter table public.expertise_tags enable row level security;
alter table public.profiles enable row level security;
alter table public.local_profiles enable row level security;
alter table public.local_availability enable row level security;
alter table public.local_cards enable row level security;

-- =====================================================================
-- Functions
-- =====================================================================

-- Refuses a change to the named columns when a client role (anon, authenticated) makes it.
-- Server-side code (security definer functions, service_role) may still change them.
-- Raises 42501 like any other authorization failure, naming the field. Errors raised by our
-- SQL carry a stable snake_case code in DETAIL (PostgREST returns it as `details`).
create or replace function private.forbid_client_changes()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    _col text;
begin
    if current_user not in ('anon', 'authenticated') then
        return new;
    end if;
    foreach _col in array tg_argv loop
        if (pg_catalog.to_jsonb(old) -> _col) is distinct from (pg_catalog.to_jsonb(new) -> _col) then
            raise exception '%.% is managed by LocalGhost and cannot be changed', tg_table_name, _col
                using errcode = '42501', detail = 'protected_field',
                hint = 'Leave this field out of the update.';
        end if;
    end loop;
    return new;
end
$$;

-- Languages, interests and expertise must come from the vocabularies. A trigger (not a
-- check constraint) because the lists are tables.
create or replace function private.check_vocabulary()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    _bad text;
begin
    if tg_table_name = 'profiles' then
        select l into _bad from pg_catalog.unnest(new.languages) as l
        where l not in (select code from public.languages) limit 1;
        if _bad is not null then
            raise exception 'unknown language code: %', _bad
                using errcode = '22023', detail = 'unknown_language',
                hint = 'Use ISO 639-1 codes such as en, es, pt.';
        end if;
        select i into _bad from pg_catalog.unnest(new.interests) as i
        where i not in (select tag from public.expertise_tags) limit 1;
        if _bad is not null then
            raise exception 'unknown interest: %', _bad
                using errcode = '22023', detail = 'unknown_interest',
                hint = 'Pick interests from public.expertise_tags.';
        end if;
        new.languages := array(select distinct l from pg_catalog.unnest(new.languages) as l order by l);
        new.interests := array(select distinct i from pg_catalog.unnest(new.interests) as i order by i);
    else
        select e into _bad from pg_catalog.unnest(new.expertise) as e
        where e not in (select tag from public.expertise_tags) limit 1;
        if _bad is not null then
            raise exception 'unknown expertise: %', _bad
                using errcode = '22023', detail = 'unknown_expertise',
                hint = 'Pick expertise from public.expertise_tags.';
        end if;
        new.expertise := array(select distinct e from pg_catalog.unnest(new.expertise) as e order by e);
    end if;
    return new;
end
$$;

-- A local profile belongs to a profile whose role is `local`.
create or replace function private.require_local_role()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if not exists (
        select 1 from public.profiles as p where p.id = new.profile_id and p.role = 'local'
    ) then
        raise exception 'only a local can have a local profile'
            using errcode = '23514', detail = 'not_a_local';
    end if;
    return new;
end
$$;

-- Keeps local_cards in step with its sources. Security definer: clients cannot write the
-- card table, but their own profile edits must reach it.
create or replace function private.refresh_local_card(p_profile_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into public.local_cards as c (
        profile_id, full_name, avatar_path, headline, city, country_code, latitude, longitude,
        languages, expertise, hourly_rate_cents, currency, max_group_size, accepting_requests,
        verified, rating_avg, rating_count, response_rate, median_response_minutes, updated_at
    )
    select
        p.id, p.full_name, p.avatar_path, lp.headline, lp.city, lp.country_code,
        round(lp.latitude::numeric, 2)::double precision,
        round(lp.longitude::numeric, 2)::double precision,
        p.languages, lp.expertise, lp.hourly_rate_cents, lp.currency, lp.max_group_size,
        lp.accepting_requests, lp.verified, lp.rating_avg, lp.rating_count, lp.response_rate,
        lp.median_response_minutes, pg_catalog.now()
    from public.profiles as p
    inner join public.local_profiles as lp on p.id = lp.profile_id
    where p.id = p_profile_id and lp.city is not null
    on conflict (profile_id) do update set
        full_name = excluded.full_name,
        avatar_path = excluded.avatar_path,
        headline = excluded.headline,
        city = excluded.city,
        country_code = excluded.country_code,
        latitude = excluded.latitude,
        longitude = excluded.longitude,
        languages = excluded.languages,
        expertise = excluded.expertise,
        hourly_rate_cents = excluded.hourly_rate_cents,
        currency = excluded.currency,
        max_group_size = excluded.max_group_size,
        accepting_requests = excluded.accepting_requests,
        verified = excluded.verified,
        rating_avg = excluded.rating_avg,
        rating_count = excluded.rating_count,
        response_rate = excluded.response_rate,
        median_response_minutes = excluded.median_response_minutes,
        updated_at = excluded.updated_at;
    -- A local who has not said where they are is not listed.
    delete from public.local_cards as c
    where c.profile_id = p_profile_id
        and not exists (
            select 1 from public.local_profiles as lp
            where lp.profile_id = p_profile_id and lp.city is not null
        );
end
$$;

create or replace function private.local_card_sync()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if tg_table_name = 'profiles' then
        perform private.refresh_local_card(new.id);
    else
        perform private.refresh_local_card(new.profile_id);
    end if;
    return null;
end
$$;

revoke all on function private.forbid_client_changes() from public;
revoke all on function private.check_vocabulary() from public;
revoke all on function private.require_local_role() from public;
revoke all on function private.refresh_local_card(uuid) from public;
revoke all on function private.local_card_sync() from public;

-- =====================================================================
-- Triggers
-- =====================================================================

create trigger profiles_forbid_client_changes
before update on public.profiles
for each row execute function private.forbid_client_changes('id', 'role', 'created_at');

create trigger profiles_check_vocabulary
before insert or update of languages, interests on public.profiles
for each row execute function private.check_vocabulary();

create trigger profiles_touch_updated_at
before update on public.profiles
for each row execute function private.touch_updated_at();

create trigger profiles_sync_local_card
after update of full_name, avatar_path, languages on public.profiles
for each row when (new.role = 'local')
execute function private.local_card_sync();

create trigger local_profiles_forbid_client_changes
before update on public.local_profiles
for each row execute function private.forbid_client_changes(
    'profile_id', 'verified', 'rating_avg', 'rating_count', 'response_rate',
    'median_response_minutes', 'last_active_at', 'created_at'
);

create trigger local_profiles_require_local_role
before insert on public.local_profiles
for each row execute function private.require_local_role();

create trigger local_profiles_check_vocabulary
before insert or update of expertise on public.local_profiles
for each row execute function private.check_vocabulary();

create trigger local_profiles_touch_updated_at
before update on public.local_profiles
for each row execute function private.touch_updated_at();

create trigger local_profiles_sync_local_card
after insert or update on public.local_profiles
for each row execute function private.local_card_sync();
