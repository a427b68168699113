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

-- =====================================================================
-- Trips and chat: the demo traveler's conversations, a shared itinerary, bookings in
-- several states and one review pair
-- =====================================================================

-- Tess talks to Luis (a past trip, reviewed both ways, and an upcoming confirmed one),
-- to local-1 (an open request) and to local-2 (an open offer; her phone number is masked).
-- Rows are written as the server would leave them; the triggers add participants,
-- previews, masking, response times, the reveal and the rating.
insert into public.conversations (id, traveler_id, local_id) values
(
    '00000000-0000-4000-d000-000000000001',
    '00000000-0000-4000-a000-000000000001',
    '00000000-0000-4000-a000-000000000002'
),
(
    '00000000-0000-4000-d000-000000000002',
    '00000000-0000-4000-a000-000000000001',
    '00000000-0000-4000-a000-0000000003e9'
),
(
    '00000000-0000-4000-d000-000000000003',
    '00000000-0000-4000-a000-000000000001',
    '00000000-0000-4000-a000-0000000003ea'
)
on conflict do nothing;

insert into public.messages (id, conversation_id, sender_id, body)
select
    v.id::uuid,
    v.conversation_id::uuid,
    v.sender_id::uuid,
    v.body
from (
    values
    (
        '00000000-0000-4000-d100-000000000001', '00000000-0000-4000-d000-000000000001',
        '00000000-0000-4000-a000-000000000001',
        'Hi Luis! We loved our evening with you. Could we do a fado night next month?'
    ),
    (
        '00000000-0000-4000-d100-000000000002', '00000000-0000-4000-d000-000000000001',
        '00000000-0000-4000-a000-000000000002',
        'Olá Tess! Of course. Send me a request for your dates and I will make you an offer.'
    ),
    (
        '00000000-0000-4000-d100-000000000003', '00000000-0000-4000-d000-000000000002',
        '00000000-0000-4000-a000-000000000001',
        'Hello! Are you free for a food walk at the end of next month? We are 2 people.'
    ),
    (
        '00000000-0000-4000-d100-000000000004', '00000000-0000-4000-d000-000000000003',
        '00000000-0000-4000-a000-000000000001',
        'Hi! Easier to plan by phone, text me on +1 (555) 123-4567.'
    ),
    (
        '00000000-0000-4000-d100-000000000005', '00000000-0000-4000-d000-000000000003',
        '00000000-0000-4000-a000-0000000003ea',
        'Let us keep it here until you book, I just sent you an offer for 10:30.'
    )
) as v (id, conversation_id, sender_id, body)
order by v.id
on conflict do nothing;

-- First replies took minutes, not the zero seconds of a seed run: age the travelers'
-- first messages (once), then let the database recompute those locals' figures.
update private.response_times as rt
set first_traveler_message_at = rt.first_local_reply_at - v.delay
from (
    values
    ('00000000-0000-4000-d000-000000000001'::uuid, interval '25 minutes'),
    ('00000000-0000-4000-d000-000000000003'::uuid, interval '3 hours')
) as v (conversation_id, delay)
where
    rt.conversation_id = v.conversation_id
    and rt.first_traveler_message_at > rt.first_local_reply_at - v.delay;

select private.refresh_local_response_stats(rt.local_id)
from private.response_times as rt
where rt.conversation_id in (
    '00000000-0000-4000-d000-000000000001', '00000000-0000-4000-d000-000000000003'
);

-- The upcoming trip's plan, shared with Luis, who added the evening himself.
insert into public.itineraries (id, owner_id, title, city, starts_on, ends_on, status)
values (
    '00000000-0000-4000-d200-000000000001', '00000000-0000-4000-a000-000000000001',
    'Lisbon, second time', 'Lisbon', current_date + 20, current_date + 23, 'confirmed'
)
on conflict do nothing;

insert into public.itinerary_shares (itinerary_id, local_id, conversation_id) values (
    '00000000-0000-4000-d200-000000000001', '00000000-0000-4000-a000-000000000002',
    '00000000-0000-4000-d000-000000000001'
)
on conflict do nothing;

insert into public.itinerary_items (
    id, itinerary_id, day_index, starts_at, duration_minutes, title, notes, place_name,
    latitude, longitude, position, created_by
)
select
    v.id::uuid,
    '00000000-0000-4000-d200-000000000001'::uuid,
    v.day_index,
    v.starts_at::time,
    v.duration_minutes,
    v.title,
    v.notes,
    v.place_name,
    v.latitude,
    v.longitude,
    v.item_position,
    v.created_by::uuid
from (
    values
    (
        '00000000-0000-4000-d300-000000000001', 0, '15:00', 60, 'Check in', null,
        'Alfama guesthouse', 38.7115, -9.1305, 1, '00000000-0000-4000-a000-000000000001'
    ),
    (
        '00000000-0000-4000-d300-000000000002', 1, '19:30', 240, 'Fado night with Luis',
        'Dinner first at a tasca he knows.', 'Largo do Chafariz de Dentro', 38.7112, -9.1283,
        1, '00000000-0000-4000-a000-000000000002'
    ),
    (
        '00000000-0000-4000-d300-000000000003', 2, '10:00', 180, 'Belém',
        'Pastéis before the queue.', 'Mosteiro dos Jerónimos', 38.6979, -9.2068, 1,
        '00000000-0000-4000-a000-000000000001'
    )
)
    as v (
        id, day_index, starts_at, duration_minutes, title, notes, place_name, latitude,
        longitude, item_position, created_by
    )
on conflict do nothing;

-- Bookings: last month's walk with Luis (completed), the fado night (accepted), a request
-- to local-1 and an offer from local-2 (both open, so matching damps those locals).
insert into public.booking_requests (
    id, conversation_id, itinerary_id, starts_on, ends_on, group_size, message, status,
    expires_at, price_cents, currency, duration_minutes, meeting_point, offered_at,
    accepted_at, completed_at, status_changed_at, created_at
)
select
    v.id::uuid,
    v.conversation_id::uuid,
    v.itinerary_id::uuid,
    current_date + v.start_offset,
    current_date + v.start_offset + v.length_days - 1,
    v.group_size,
    v.message,
    v.status::public.booking_status,
    now() + v.expires_in,
    v.price_cents,
    v.currency,
    v.duration_minutes,
    v.meeting_point,
    case when v.price_cents is not null then now() - v.age / 2 end,
    case when v.status in ('accepted', 'completed') then now() - v.age / 3 end,
    case when v.status = 'completed' then now() + (v.start_offset + 1) * interval '1 day' end,
    now() - v.age / 3,
    now() - v.age
from (
    values
    (
        '00000000-0000-4000-d400-000000000001', '00000000-0000-4000-d000-000000000001', null,
        -20, 1, 2, 'A first walk through Alfama, please!', 'completed', interval '0',
        6000, 'EUR', 180, 'Miradouro de Santa Luzia', interval '30 days'
    ),
    (
        '00000000-0000-4000-d400-000000000002', '00000000-0000-4000-d000-000000000001',
        '00000000-0000-4000-d200-000000000001', 21, 1, 2, 'Fado night for the two of us.',
        'accepted', interval '0', 9000, 'EUR', 240, 'Largo do Chafariz de Dentro',
        interval '2 days'
    ),
    (
        '00000000-0000-4000-d400-000000000003', '00000000-0000-4000-d000-000000000002', null,
        30, 2, 2, 'Food walk, two afternoons if you can.', 'requested', interval '60 hours',
        null, null, null, null, interval '12 hours'
    ),
    (
        '00000000-0000-4000-d400-000000000004', '00000000-0000-4000-d000-000000000003', null,
        35, 1, 2, 'Street art tour?', 'offered', interval '48 hours', 4000, 'EUR', 150,
        'LX Factory entrance', interval '1 day'
    )
)
    as v (
        id, conversation_id, itinerary_id, start_offset, length_days, group_size, message,
        status, expires_in, price_cents, currency, duration_minutes, meeting_point, age
    )
on conflict do nothing;

-- Accepting last month's walk unlocked contacts in the conversation; accepting the fado
-- night posted its confirmation in the thread.
update public.conversations
set contact_unlocked_at = now() - interval '10 days'
where id = '00000000-0000-4000-d000-000000000001' and contact_unlocked_at is null;

insert into public.messages (id, conversation_id, sender_id, kind, body)
select
    '00000000-0000-4000-d100-000000000006'::uuid,
    b.conversation_id,
    null::uuid,
    'system'::public.message_kind,
    'Booking confirmed: ' || to_char(b.starts_on, 'FMDD Mon YYYY') || ', '
    || b.group_size || ' people'
from public.booking_requests as b
where b.id = '00000000-0000-4000-d400-000000000002'
on conflict do nothing;

-- Both sides reviewed last month's walk, so both reviews are revealed and Luis's rating
-- comes from them.
insert into public.reviews (id, booking_id, author_id, rating, body) values
(
    '00000000-0000-4000-d500-000000000001', '00000000-0000-4000-d400-000000000001',
    '00000000-0000-4000-a000-000000000001', 5,
    'Luis knows every corner of Alfama and every fadista in it. Unforgettable.'
),
(
    '00000000-0000-4000-d500-000000000002', '00000000-0000-4000-d400-000000000001',
    '00000000-0000-4000-a000-000000000002', 5,
    'Tess was curious about everything and on time for all of it. Welcome back any time!'
)
on conflict do nothing;

update public.reviews
set reply = 'Obrigado, Tess! See you at the fado night.'
where id = '00000000-0000-4000-d500-000000000001' and reply is null;
