-- Demo data for local development (`scripts/dev`, `supabase start`, `supabase db reset`).
--
-- Idempotent: running it again adds nothing. Every demo account signs in with the
-- password `localghost-demo` (argon2id, OWASP minimum parameters, hashed once here).
-- Named accounts: traveler@localghost.dev, local@localghost.dev (Lisbon).
-- Generated locals: local-<n>@demo.localghost.dev, travelers: traveler-<n>@demo.localghost.dev.

-- =====================================================================
-- Cities, skewed the way real demand is (a few big ones, a long tail)
-- =====================================================================

create temporary table seed_cities (
    idx int primary key,
    city text not null,
    country_code text not null,
    latitude double precision not null,
    longitude double precision not null,
    lang text not null,
    currency text not null,
    weight int not null
) on commit drop;

insert into seed_cities values
(0, 'Lisbon', 'PT', 38.7223, -9.1393, 'pt', 'EUR', 40),
(1, 'Paris', 'FR', 48.8566, 2.3522, 'fr', 'EUR', 35),
(2, 'Barcelona', 'ES', 41.3874, 2.1686, 'es', 'EUR', 30),
(3, 'Rome', 'IT', 41.9028, 12.4964, 'it', 'EUR', 25),
(4, 'Tokyo', 'JP', 35.6762, 139.6503, 'ja', 'JPY', 20),
(5, 'Mexico City', 'MX', 19.4326, -99.1332, 'es', 'MXN', 18),
(6, 'Berlin', 'DE', 52.52, 13.405, 'de', 'EUR', 15),
(7, 'Istanbul', 'TR', 41.0082, 28.9784, 'tr', 'TRY', 12),
(8, 'Buenos Aires', 'AR', -34.6037, -58.3816, 'es', 'ARS', 10),
(9, 'Prague', 'CZ', 50.0755, 14.4378, 'cs', 'CZK', 8),
(10, 'Cape Town', 'ZA', -33.9249, 18.4241, 'af', 'ZAR', 7),
(11, 'Porto', 'PT', 41.1579, -8.6291, 'pt', 'EUR', 6);

-- Local n lives in the city whose cumulative weight range holds n mod the total weight.
create temporary table seed_locals on commit drop as
with ranges as (
    select
        c.*,
        sum(c.weight) over (order by c.idx) - c.weight as lo,
        sum(c.weight) over (order by c.idx) as hi,
        sum(c.weight) over () as total
    from seed_cities as c
)

select
    gs.n,
    r.city,
    r.country_code,
    r.lang,
    r.currency,
    ('00000000-0000-4000-a000-' || lpad(to_hex(1000 + gs.n), 12, '0'))::uuid as id,
    r.latitude + ((gs.n * 37) % 100 - 50) / 2000.0 as latitude,
    r.longitude + ((gs.n * 53) % 100 - 50) / 2000.0 as longitude
from generate_series(1, 240) as gs (n)
inner join ranges as r on ((gs.n * 7) % r.total) >= r.lo and ((gs.n * 7) % r.total) < r.hi;

-- =====================================================================
-- Accounts
-- =====================================================================

-- argon2id(m=19456, t=2, p=1) of `localghost-demo`.
create temporary table seed_password on commit drop as
select
    '$argon2id$v=19$m=19456,t=2,p=1$q4PqH8GT0oOVVdHzWLHJAQ$'
    || 'adSGMr1ouj/XdkXj+VAAdz2zMqEYeHruAazxZTVDpmY' as password_hash;

insert into private.accounts (id, email, password_hash)
select
    v.id::uuid,
    v.email,
    p.password_hash
from (
    values
    ('00000000-0000-4000-a000-000000000001', 'traveler@localghost.dev'),
    ('00000000-0000-4000-a000-000000000002', 'local@localghost.dev')
) as v (id, email)
cross join seed_password as p
on conflict do nothing;

insert into private.accounts (id, email, password_hash)
select
    l.id,
    'local-' || l.n || '@demo.localghost.dev',
    p.password_hash
from seed_locals as l
cross join seed_password as p
on conflict do nothing;

insert into private.accounts (id, email, password_hash)
select
    ('00000000-0000-4000-b000-' || lpad(to_hex(gs.n), 12, '0'))::uuid,
    'traveler-' || gs.n || '@demo.localghost.dev',
    p.password_hash
from generate_series(1, 30) as gs (n)
cross join seed_password as p
on conflict do nothing;

-- =====================================================================
-- Profiles
-- =====================================================================

insert into public.profiles (id, role, full_name, bio, home_city, languages, interests)
values
(
    '00000000-0000-4000-a000-000000000001', 'traveler', 'Tess Traveler',
    'First time in Portugal, here for the food and the tiles.', 'Toronto',
    '{en,fr}', '{food,architecture,history}'
),
(
    '00000000-0000-4000-a000-000000000002', 'local', 'Luis Local',
    'Born in Alfama. I show the Lisbon my grandmother showed me.', 'Lisbon',
    '{pt,en,es}', '{food,history,music}'
)
on conflict do nothing;

insert into public.profiles (id, role, full_name, bio, home_city, languages, interests)
select
    l.id,
    'local',
    (array[
        'Ana', 'Bruno', 'Chloé', 'Diego', 'Emi', 'Farid', 'Giulia', 'Hana', 'Ines', 'Jonas',
        'Kemal', 'Lucía', 'Marek', 'Nadia', 'Omar', 'Paula', 'Quentin', 'Rosa', 'Sven', 'Thandi'
    ])[1 + l.n % 20]
    || ' '
    || (array[
        'Silva', 'Martin', 'García', 'Rossi', 'Tanaka', 'Müller', 'Yılmaz', 'Novak', 'López',
        'Dubois', 'Costa', 'Moreau', 'Ferrari', 'Sato', 'Schmidt', 'Khumalo'
    ])[1 + (l.n * 7) % 16],
    'Local guide in ' || l.city || '.',
    l.city,
    array(
        select distinct x
        from unnest(array[l.lang, 'en', (array['es', 'fr', 'de', 'it'])[1 + l.n % 4]]) as x
    ),
    '{}'
from seed_locals as l
on conflict do nothing;

insert into public.profiles (id, role, full_name, home_city, languages, interests)
select
    ('00000000-0000-4000-b000-' || lpad(to_hex(n), 12, '0'))::uuid,
    'traveler',
    'Demo Traveler ' || n,
    (array['London', 'New York', 'Sydney', 'Seoul', 'São Paulo'])[1 + n % 5],
    array(
        select distinct x
        from unnest(array['en', (array['es', 'fr', 'de', 'pt', 'ja'])[1 + n % 5]]) as x
    ),
    array(select distinct x from unnest(array[
        (array['food', 'history', 'art', 'nightlife', 'nature'])[1 + n % 5],
        (array['architecture', 'photography', 'music', 'wine', 'markets'])[1 + (n * 3) % 5]
    ]) as x)
from generate_series(1, 30) as n
on conflict do nothing;

-- =====================================================================
-- Local profiles (their cards follow through the trigger) and calendars
-- =====================================================================

insert into public.local_profiles (
    profile_id, city, country_code, latitude, longitude, headline, expertise,
    hourly_rate_cents, currency, max_group_size, accepting_requests, verified,
    rating_avg, rating_count, response_rate, median_response_minutes, last_active_at
)
values (
    '00000000-0000-4000-a000-000000000002', 'Lisbon', 'PT', 38.7139, -9.1334,
    'Fado, tascas and the hills of Alfama', '{food,history,music}',
    3500, 'EUR', 6, true, true, 4.9, 120, 0.98, 25, now()
)
on conflict do nothing;

insert into public.local_profiles (
    profile_id, city, country_code, latitude, longitude, headline, expertise,
    hourly_rate_cents, currency, max_group_size, accepting_requests, verified,
    rating_avg, rating_count, response_rate, median_response_minutes, last_active_at
)
select
    l.id,
    l.city,
    l.country_code,
    l.latitude,
    l.longitude,
    (array[
        'Hidden corners of ', 'Eat like a local in ', 'Night walks through ',
        'Art and design of ', 'Markets and makers of ', 'Stories of old '
    ])[1 + l.n % 6] || l.city,
    array(select distinct t from unnest(array[
        (array['food', 'history', 'art', 'nightlife', 'nature', 'architecture'])[1 + l.n % 6],
        (array['photography', 'shopping', 'family', 'sports', 'music', 'wine'])[1 + (l.n * 5) % 6],
        (array['markets', 'street_art', 'museums', 'coffee'])[1 + (l.n * 11) % 4]
    ]) as t),
    -- Minor units of each currency, at roughly the same value as 15 to 75 euros.
    (1500 + (l.n * 137) % 6000) * (case l.currency
        when 'JPY' then 1.6 when 'MXN' then 20 when 'TRY' then 35 when 'ARS' then 1000
        when 'CZK' then 25 when 'ZAR' then 20 else 1
    end)::int,
    l.currency,
    (2 + l.n % 9)::smallint,
    l.n % 10 <> 0,
    l.n % 4 = 0,
    case when l.n % 7 = 0 then null else round((3.4 + ((l.n * 29) % 16) / 10.0)::numeric, 2) end,
    case when l.n % 7 = 0 then 0 else (l.n * 13) % 150 end,
    round((0.5 + ((l.n * 17) % 50) / 100.0)::numeric, 3),
    10 + (l.n * 23) % 600,
    now() - make_interval(hours => (l.n * 19) % 720)
from seed_locals as l
on conflict do nothing;

-- Two availability windows per local within the next four months.
insert into public.local_availability (local_id, during)
select
    lp.profile_id,
    daterange(
        current_date + w.start_offset + (abs(hashtext(lp.profile_id::text)) % 20),
        current_date + w.start_offset + (abs(hashtext(lp.profile_id::text)) % 20) + w.length_days
    )
from public.local_profiles as lp
cross join (values (0, 30), (60, 45)) as w (start_offset, length_days)
where not exists (
    select 1 from public.local_availability as a
    where a.local_id = lp.profile_id
);
