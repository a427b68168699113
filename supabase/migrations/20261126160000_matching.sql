-- Matching: rank the locals who could host a traveler's trip, and say why.
--
-- public.match_locals is the whole ranking: hard filters, a weighted score with one
-- contribution per signal, a diversity pass and keyset pagination. It runs as the caller
-- (security invoker), so it reads only what the caller may read: the public cards, and
-- blocks and open-request counts through two narrow security definer helpers. The service
-- (GET /api/v1/matches) calls it inside the PostgREST preamble; so can a client through
-- /rest/v1/rpc/match_locals.
--
-- To keep the ranking of a 17,000-local city inside a few milliseconds, the card carries a
-- few matching columns kept by the same triggers as the rest of it: bitmasks of its
-- languages and expertise (overlap is one AND and a popcount instead of array work per
-- row), the union of the local's availability, the day the local was last active, the bit
-- of its primary expertise, and its rating and response rate as doubles (the numeric
-- columns would be converted for every candidate of every query).

-- =====================================================================
-- Vocabulary bits
-- =====================================================================

-- A fixed bit per language code and per expertise tag, so a set of them is a bit(256).
-- Bits are assigned once and never move: a mask stored on a card stays valid when the
-- vocabularies grow (triggers below give each new entry the next free bit).
create table private.vocabulary_bits (
    vocabulary text not null check (vocabulary in ('language', 'expertise')),
    code text not null,
    bit_index smallint not null check (bit_index between 0 and 255),
    primary key (vocabulary, code),
    unique (vocabulary, bit_index)
);

insert into private.vocabulary_bits (vocabulary, code, bit_index)
select
    'language',
    l.code,
    (row_number() over (order by l.code) - 1)::smallint
from public.languages as l;

insert into private.vocabulary_bits (vocabulary, code, bit_index)
select
    'expertise',
    t.tag,
    (row_number() over (order by t.tag) - 1)::smallint
from public.expertise_tags as t;

-- The mask of a set of codes; unknown codes contribute nothing (the callers validate).
create or replace function private.vocabulary_mask(p_vocabulary text, p_codes text[])
returns bit(256)
language sql
stable
set search_path = ''
as $$
    select coalesce(pg_catalog.bit_or(b'1'::bit(256) >> vb.bit_index), b'0'::bit(256))
    from private.vocabulary_bits as vb
    where vb.vocabulary = p_vocabulary and vb.code = any(p_codes)
$$;

-- Gives a new language or expertise tag the next free bit of its vocabulary.
create or replace function private.assign_vocabulary_bit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    _vocabulary text := case tg_table_name when 'languages' then 'language' else 'expertise' end;
    -- languages.code or expertise_tags.tag (a record has only the fields of its table).
    _code text := coalesce(pg_catalog.to_jsonb(new) ->> 'code', pg_catalog.to_jsonb(new) ->> 'tag');
    _bit integer;
begin
    select coalesce(max(vb.bit_index) + 1, 0) into _bit
    from private.vocabulary_bits as vb where vb.vocabulary = _vocabulary;
    if _bit > 255 then
        raise exception 'the % vocabulary is full (256 entries)', _vocabulary
            using errcode = '54000', detail = 'vocabulary_full';
    end if;
    insert into private.vocabulary_bits (vocabulary, code, bit_index)
    values (_vocabulary, _code, _bit)
    on conflict (vocabulary, code) do nothing;
    return null;
end
$$;

create trigger languages_assign_bit
after insert on public.languages
for each row execute function private.assign_vocabulary_bit();

create trigger expertise_tags_assign_bit
after insert on public.expertise_tags
for each row execute function private.assign_vocabulary_bit();

-- =====================================================================
-- Card columns for matching
-- =====================================================================

alter table public.local_cards
add column languages_mask bit(256) not null default b'0'::bit(256),
add column expertise_mask bit(256) not null default b'0'::bit(256),
-- Every day the local is available (adjacent windows merge into one).
add column available datemultirange not null default '{}'::datemultirange,
-- Last activity, to the day (UTC): enough for "recently active", not a presence signal.
add column last_active_on date,
-- The diversity pass's group: the vocabulary bit of the first (primary) tag, -1 for none.
add column expertise_group smallint not null default -1,
-- rating_avg and response_rate as the ranking reads them.
add column rating_avg_float double precision,
add column response_rate_float double precision;

-- The ranking reads a city's (or a box's) candidates from these two indexes alone
-- (index-only scans): every column a hard filter or a signal needs is included, so a city
-- of 17,000 locals costs one range of index pages rather than 17,000 scattered heap rows.
-- Only locals accepting requests are in them (a hard filter), group size is a key column
-- (a group of six skips the locals who take fewer), and the list is as short as it can be:
-- the cost of an index-only scan grows with every included column. city is there because
-- an index-only scan on lower(city) needs it.
create index local_cards_match_city_idx on public.local_cards (
    lower(city), max_group_size
) include (
    city, profile_id, expertise_group, rating_count, median_response_minutes, last_active_on,
    rating_avg_float, response_rate_float, available, languages_mask, expertise_mask
) where accepting_requests;

-- "Within r km of here": a box on the rounded coordinates first, then the exact distance.
create index local_cards_match_location_idx on public.local_cards
using gist (point(longitude, latitude)) include (
    latitude, longitude, profile_id, max_group_size, expertise_group, rating_count,
    median_response_minutes, last_active_on, rating_avg_float, response_rate_float,
    available, languages_mask, expertise_mask
) where accepting_requests;

-- The profiles migration's refresh, plus the matching columns. Same statement otherwise.
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
        verified, rating_avg, rating_count, response_rate, median_response_minutes,
        languages_mask, expertise_mask, available, last_active_on, expertise_group,
        rating_avg_float, response_rate_float, updated_at
    )
    select
        p.id, p.full_name, p.avatar_path, lp.headline, lp.city, lp.country_code,
        round(lp.latitude::numeric, 2)::double precision,
        round(lp.longitude::numeric, 2)::double precision,
        p.languages, lp.expertise, lp.hourly_rate_cents, lp.currency, lp.max_group_size,
        lp.accepting_requests, lp.verified, lp.rating_avg, lp.rating_count, lp.response_rate,
        lp.median_response_minutes,
        (
            select coalesce(pg_catalog.bit_or(b'1'::bit(256) >> vb.bit_index), b'0'::bit(256))
            from private.vocabulary_bits as vb
            where vb.vocabulary = 'language' and vb.code = any(p.languages)
        ),
        (
            select coalesce(pg_catalog.bit_or(b'1'::bit(256) >> vb.bit_index), b'0'::bit(256))
            from private.vocabulary_bits as vb
            where vb.vocabulary = 'expertise' and vb.code = any(lp.expertise)
        ),
        coalesce((
            select pg_catalog.range_agg(a.during) from public.local_availability as a
            where a.local_id = p.id
        ), '{}'::datemultirange),
        (lp.last_active_at at time zone 'UTC')::date,
        coalesce((
            select vb.bit_index from private.vocabulary_bits as vb
            where vb.vocabulary = 'expertise' and vb.code = lp.expertise[1]
        ), -1),
        lp.rating_avg::double precision,
        lp.response_rate::double precision,
        pg_catalog.now()
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
        languages_mask = excluded.languages_mask,
        expertise_mask = excluded.expertise_mask,
        available = excluded.available,
        last_active_on = excluded.last_active_on,
        expertise_group = excluded.expertise_group,
        rating_avg_float = excluded.rating_avg_float,
        response_rate_float = excluded.response_rate_float,
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

-- Calendar edits reach the card once per statement (a local saving a season of windows
-- is one statement). Security definer: clients write their calendar, not the card.
create or replace function private.sync_card_availability()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    _ids uuid[];
begin
    if tg_op = 'INSERT' then
        select array_agg(distinct n.local_id) into _ids from new_rows as n;
    elsif tg_op = 'DELETE' then
        select array_agg(distinct o.local_id) into _ids from old_rows as o;
    else
        select array_agg(distinct x.local_id) into _ids
        from (
            select n.local_id from new_rows as n
            union
            select o.local_id from old_rows as o
        ) as x;
    end if;
    update public.local_cards as c set
        available = coalesce((
            select pg_catalog.range_agg(a.during) from public.local_availability as a
            where a.local_id = c.profile_id
        ), '{}'::datemultirange),
        updated_at = pg_catalog.now()
    where c.profile_id = any(_ids);
    return null;
end
$$;

create trigger local_availability_sync_card_insert
after insert on public.local_availability
referencing new table as new_rows
for each statement execute function private.sync_card_availability();

create trigger local_availability_sync_card_update
after update on public.local_availability
referencing old table as old_rows new table as new_rows
for each statement execute function private.sync_card_availability();

create trigger local_availability_sync_card_delete
after delete on public.local_availability
referencing old table as old_rows
for each statement execute function private.sync_card_availability();

-- Cards that exist already get their matching columns now.
update public.local_cards as c set
    languages_mask = private.vocabulary_mask('language', c.languages),
    expertise_mask = private.vocabulary_mask('expertise', c.expertise),
    available = coalesce((
        select range_agg(a.during) from public.local_availability as a
        where a.local_id = c.profile_id
    ), '{}'::datemultirange),
    last_active_on = (
        select (lp.last_active_at at time zone 'UTC')::date from public.local_profiles as lp
        where lp.profile_id = c.profile_id
    ),
    expertise_group = coalesce((
        select vb.bit_index from private.vocabulary_bits as vb
        where vb.vocabulary = 'expertise' and vb.code = c.expertise[1]
    ), -1),
    rating_avg_float = c.rating_avg::double precision,
    response_rate_float = c.response_rate::double precision;

-- =====================================================================
-- Weights (the one place)
-- =====================================================================

-- Every weight and constant of the score, each with the reason for its value. A row
-- changes the ranking at once; nothing else holds a number.
--
-- score = damping * (
--       interest      * jaccard(traveler interests, local expertise)
--     + language      * share of the traveler's languages the local speaks
--     + rating        * (bayes - 1) / 4,
--                       bayes = (n * avg + rating_prior_weight * rating_prior_mean)
--                               / (n + rating_prior_weight)
--     + response_rate * response rate (response_rate_prior when unknown)
--     + response_time * 1 / (1 + median minutes / response_time_half_minutes)
--     + activity      * 0.5 ^ (days since last active / activity_half_life_days)
--     + reciprocal    * harmonic_mean(forward, backward)           (RECON)
--     + new_local     * max(0, 1 - reviews / new_local_reviews))
-- forward  = the six traveler-side terms above divided by the sum of their weights;
-- backward = the local's side (recip_group * group fit + recip_language * language fit
--            + recip_interest * share of the local's expertise the traveler wants) /
--            (recip_group + recip_language + recip_interest);
--            group fit = 1 - (group_size - 1) / max_group_size
-- damping  = 1 / (1 + busy_damping * open requests overlapping the trip)
-- reasons: each additive term undamped, plus open_requests = score - undamped sum (<= 0).
-- Weights of the additive terms sum to 1, so an undamped score lies in [0, 1].
create table private.match_weights (
    param text primary key,
    weight double precision not null,
    why text not null
);

insert into private.match_weights (param, weight, why) values
(
    'interest', 0.24,
    'What the traveler came for; the strongest booking signal in every peer we studied.'
),
(
    'language', 0.08,
    'A shared language is already a hard filter; more shared languages help a little.'
),
(
    'rating', 0.20,
    'Smoothed quality; high because reviews are the only outcome signal we have.'
),
('response_rate', 0.08, 'Locals who answer get booked; unanswered requests lose travelers.'),
('response_time', 0.06, 'Fast answers matter less than answering at all.'),
('activity', 0.09, 'Recently active locals still host; stale profiles waste requests.'),
(
    'reciprocal', 0.20,
    'A match is good only if the local would accept it too (RECON harmonic mean).'
),
('new_local', 0.05, 'Bounded exposure for locals with few reviews (exposure fairness).'),
('rating_prior_mean', 4.5, 'Typical mean rating on guide marketplaces (C).'),
('rating_prior_weight', 10, 'Reviews before a local''s own mean outweighs the prior (m).'),
('response_rate_prior', 0.5, 'Unknown response rate: neither rewarded nor punished.'),
('response_time_half_minutes', 60, 'An hour to answer earns half the response time credit.'),
('response_time_prior_minutes', 180, 'Unknown response time counts as three hours.'),
('activity_half_life_days', 14, 'Activity two weeks old earns half the activity credit.'),
('recip_group', 0.4, 'Local side: a group well inside the maximum is an easy yes.'),
('recip_language', 0.3, 'Local side: being able to talk to the traveler.'),
('recip_interest', 0.3, 'Local side: the traveler wants what the local offers.'),
('new_local_reviews', 5, 'The boost fades out linearly by this many reviews.'),
('busy_damping', 0.15, 'Each open overlapping request divides the score by 1 + this.'),
('diversity_cap', 3, 'At most this many of the top results share a primary expertise.'),
('diversity_top', 10, 'How many leading results the diversity pass shapes.'),
(
    'rank_window', 200,
    'Speed only, never the result: how many leading locals are damped and diversified'
    || ' before falling back to ranking everyone (see match_locals).'
);

grant select on private.match_weights to authenticated, service_role;

-- =====================================================================
-- Helpers (security definer: they answer about rows the caller cannot read)
-- =====================================================================

-- Everyone the caller blocked or was blocked by. The caller sees only their own blocks
-- under RLS, so this answers as definer; the ranking reads them once per call, as an array.
-- plpgsql rather than sql: its plan is cached for the session (a sql function is parsed
-- and planned again on every call).
create or replace function private.block_partner_ids()
returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query
    select b.blocked_id from public.blocks as b where b.blocker_id = (select auth.uid())
    union
    select b.blocker_id from public.blocks as b where b.blocked_id = (select auth.uid());
end
$$;

-- How many open booking requests (requested or offered, not expired) each local holds for
-- dates overlapping the trip. Travelers cannot read each other's requests; counts per local
-- reveal no traveler. p_local_ids narrows the count to the locals being ranked (null: all):
-- the ranking asks about its leading couple of hundred, one index probe each. Two static
-- statements, so both plans are cached for the session.
create or replace function private.open_request_counts(
    p_starts_on date, p_ends_on date, p_local_ids uuid[] default null
)
returns table (local_id uuid, open_requests integer)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    if p_local_ids is null then
        return query
        select br.local_id, count(*)::integer
        from public.booking_requests as br
        where br.status in ('requested', 'offered')
            and br.expires_at > pg_catalog.now()
            and br.starts_on <= p_ends_on
            and br.ends_on >= p_starts_on
        group by br.local_id;
    else
        return query
        select br.local_id, count(*)::integer
        from pg_catalog.unnest(p_local_ids) as l (id)
        inner join public.booking_requests as br on l.id = br.local_id
        where br.status in ('requested', 'offered')
            and br.expires_at > pg_catalog.now()
            and br.starts_on <= p_ends_on
            and br.ends_on >= p_starts_on
        group by br.local_id;
    end if;
end
$$;

revoke all on function private.vocabulary_mask(text, text[]) from public;
revoke all on function private.assign_vocabulary_bit() from public;
revoke all on function private.sync_card_availability() from public;
revoke all on function private.block_partner_ids() from public;
revoke all on function private.open_request_counts(date, date, uuid[]) from public;
grant execute on function private.vocabulary_mask(text, text[]) to authenticated, service_role;
grant execute on function private.block_partner_ids() to authenticated;
grant execute on function private.open_request_counts(date, date, uuid[]) to authenticated;
grant select on private.vocabulary_bits to authenticated, service_role;

-- =====================================================================
-- Ranking
-- =====================================================================

-- Locals for a trip, best first, p_limit at a time. Errors carry a stable code in DETAIL
-- (22023): missing_location, invalid_location, radius_out_of_range, invalid_dates,
-- trip_too_long, invalid_group_size, invalid_limit, unknown_language, unknown_interest.
--
-- Order: (tier, score desc, profile_id). Tier 0 is the diversity pass's pick for the top:
-- walking down the score order, the first diversity_top locals that are among the best
-- diversity_cap of their primary expertise (their first tag; cards keep tags sorted).
-- Everyone else is tier 1. The next page starts after (p_after_tier, p_after_score,
-- p_after_id), the last row of the previous one. p_as_of pins "today" for the activity
-- signal, so a later page is scored as the first was.
--
-- How it stays fast (a city of 17,000 locals, ~4,000 of them free for the dates):
-- * One index-only range scan per query (city, or box, or both), hard filters on the
--   index tuple, every signal plain arithmetic on included columns.
-- * Only the leading rank_window + 1 candidates by undamped score (one top-N heapsort) go
--   on to damping, blocks, the diversity pass and paging. That is exact, not a heuristic:
--   damping only lowers a score, so once the window's last (lowest) undamped score is
--   known, every window row whose damped score beats it is ahead of everyone outside the
--   window, and those rows are the true head of the ranking. Tiers depend only on the rows
--   ahead, so the head's tiers are exact too. If the head holds all diversity_top picks and
--   the requested page, the page comes from it; otherwise (a deep page, a window
--   thinned by blocks or busy locals, tier 0 not filled) the statement returns nothing and
--   runs once more with a window holding every candidate. Both paths give the same rows;
--   the tests check it with windows from 1 up.
-- * The statement is planned once per session (generic plan): the three location cases
--   are branches of a union that a one-time filter switches on or off.
create or replace function public.match_locals(
    p_starts_on date,
    p_ends_on date,
    p_group_size integer default 1,
    p_city text default null,
    p_lat double precision default null,
    p_lon double precision default null,
    p_radius_km double precision default null,
    p_languages text[] default '{}',
    p_interests text[] default '{}',
    p_limit integer default 20,
    p_after_tier integer default null,
    p_after_score double precision default null,
    p_after_id uuid default null,
    p_as_of date default null
)
returns table (
    profile_id uuid,
    score double precision,
    tier integer,
    reasons jsonb,
    matched jsonb,
    card jsonb
)
language plpgsql
stable
set search_path = ''
set plan_cache_mode = 'force_generic_plan'
as $$
declare
    _me uuid := (select auth.uid());
    _city text := lower(nullif(btrim(p_city), ''));
    _langs text[] := coalesce(p_languages, '{}');
    _interests text[] := coalesce(p_interests, '{}');
    _as_of date := coalesce(p_as_of, current_date);
    _trip daterange;
    _lang_mask bit(256);
    _interest_mask bit(256);
    _n_langs integer;
    _n_interests integer;
    _radius double precision;
    _dlat double precision;
    _dlon double precision;
    _bad_language text;
    _bad_interest text;
    _blocked uuid[];
    _forward_sum double precision;
    _window bigint;
    _everyone constant bigint := 9223372036854775806;
    w record;
begin
    -- Input -------------------------------------------------------------------------
    if _city is null and (p_lat is null or p_lon is null) then
        raise exception 'say where: a city, or lat and lon'
            using errcode = '22023', detail = 'missing_location';
    end if;
    if (p_lat is not null and p_lat not between -90 and 90)
        or (p_lon is not null and p_lon not between -180 and 180) then
        raise exception 'lat must lie in [-90, 90] and lon in [-180, 180]'
            using errcode = '22023', detail = 'invalid_location';
    end if;
    if p_radius_km is not null and (p_radius_km <= 0 or p_radius_km > 200) then
        raise exception 'radius_km must lie in (0, 200]'
            using errcode = '22023', detail = 'radius_out_of_range';
    end if;
    if p_starts_on is null or p_ends_on is null or p_ends_on < p_starts_on then
        raise exception 'ends_on must be on or after starts_on'
            using errcode = '22023', detail = 'invalid_dates';
    end if;
    if p_ends_on - p_starts_on + 1 > 60 then
        raise exception 'a trip may last at most 60 days'
            using errcode = '22023', detail = 'trip_too_long';
    end if;
    if p_group_size is null or p_group_size not between 1 and 50 then
        raise exception 'group_size must lie in [1, 50]'
            using errcode = '22023', detail = 'invalid_group_size';
    end if;
    if p_limit is null or p_limit not between 1 and 100 then
        raise exception 'limit must lie in [1, 100]'
            using errcode = '22023', detail = 'invalid_limit';
    end if;
    -- One statement for the vocabulary checks, the de-duplicated lists and their masks.
    select
        (
            select x from pg_catalog.unnest(_langs) as x
            where x not in (select l.code from public.languages as l) limit 1
        ),
        (
            select x from pg_catalog.unnest(_interests) as x
            where x not in (select t.tag from public.expertise_tags as t) limit 1
        ),
        array(select distinct x from pg_catalog.unnest(_langs) as x order by x),
        array(select distinct x from pg_catalog.unnest(_interests) as x order by x),
        (
            select coalesce(pg_catalog.bit_or(b'1'::bit(256) >> vb.bit_index), b'0'::bit(256))
            from private.vocabulary_bits as vb
            where vb.vocabulary = 'language' and vb.code = any(_langs)
        ),
        (
            select coalesce(pg_catalog.bit_or(b'1'::bit(256) >> vb.bit_index), b'0'::bit(256))
            from private.vocabulary_bits as vb
            where vb.vocabulary = 'expertise' and vb.code = any(_interests)
        ),
        array(select private.block_partner_ids())
    into _bad_language, _bad_interest, _langs, _interests, _lang_mask, _interest_mask, _blocked;
    if _bad_language is not null then
        raise exception 'unknown language code: %', _bad_language
            using errcode = '22023', detail = 'unknown_language';
    end if;
    if _bad_interest is not null then
        raise exception 'unknown interest: %', _bad_interest
            using errcode = '22023', detail = 'unknown_interest';
    end if;

    _n_langs := cardinality(_langs);
    _n_interests := cardinality(_interests);
    _trip := pg_catalog.daterange(p_starts_on, p_ends_on, '[]');

    -- The box around the circle (exact for a sphere); the whole band of longitudes when
    -- the circle reaches a pole or crosses the antimeridian.
    if p_lat is not null and p_lon is not null then
        _radius := coalesce(p_radius_km, 25);
        _dlat := degrees(_radius / 6371.0088);
        if abs(p_lat) + _dlat >= 90
            or sin(_radius / 6371.0088) >= cos(radians(p_lat)) then
            _dlon := 360;
        else
            _dlon := degrees(asin(sin(_radius / 6371.0088) / cos(radians(p_lat))));
        end if;
        if p_lon - _dlon < -180 or p_lon + _dlon > 180 then
            _dlon := 360;
        end if;
    end if;

    select
        max(mw.weight) filter (where mw.param = 'interest') as interest,
        max(mw.weight) filter (where mw.param = 'language') as language,
        max(mw.weight) filter (where mw.param = 'rating') as rating,
        max(mw.weight) filter (where mw.param = 'response_rate') as response_rate,
        max(mw.weight) filter (where mw.param = 'response_time') as response_time,
        max(mw.weight) filter (where mw.param = 'activity') as activity,
        max(mw.weight) filter (where mw.param = 'reciprocal') as reciprocal,
        max(mw.weight) filter (where mw.param = 'new_local') as new_local,
        max(mw.weight) filter (where mw.param = 'rating_prior_mean') as prior_mean,
        max(mw.weight) filter (where mw.param = 'rating_prior_weight') as prior_weight,
        max(mw.weight) filter (where mw.param = 'response_rate_prior') as rate_prior,
        max(mw.weight) filter (where mw.param = 'response_time_half_minutes') as half_minutes,
        max(mw.weight) filter (where mw.param = 'response_time_prior_minutes') as prior_minutes,
        max(mw.weight) filter (where mw.param = 'activity_half_life_days') as half_life,
        max(mw.weight) filter (where mw.param = 'recip_group') as recip_group,
        max(mw.weight) filter (where mw.param = 'recip_language') as recip_language,
        max(mw.weight) filter (where mw.param = 'recip_interest') as recip_interest,
        max(mw.weight) filter (where mw.param = 'new_local_reviews') as new_reviews,
        max(mw.weight) filter (where mw.param = 'busy_damping') as busy,
        max(mw.weight) filter (where mw.param = 'diversity_cap') as cap,
        max(mw.weight) filter (where mw.param = 'diversity_top') as top_n,
        max(mw.weight) filter (where mw.param = 'rank_window')::integer as rank_window
    into w
    from private.match_weights as mw;
    _forward_sum := w.interest + w.language + w.rating + w.response_rate + w.response_time
        + w.activity;
    _window := w.rank_window;

    -- Twice at most: from the window, and if the window could not answer (or the page is
    -- empty), once more with a window that holds every candidate.
    <<ranking>>
    loop

        -- Each level below is a fence (offset 0): a signal is computed once per candidate and
        -- the next level reads it (inlined, the later levels would repeat every expression
        -- they reference).
        return query
        with scored as not materialized (
            -- Every candidate with its signals and its score before damping.
            select
                f.*,
                f.forward_terms + w.reciprocal * f.s_reciprocal + w.new_local * f.s_new_local
                as undamped
            from (
                select
                    s.*,
                    case when s.forward_terms / _forward_sum + s.s_backward = 0 then 0
                        else 2 * (s.forward_terms / _forward_sum) * s.s_backward
                            / (s.forward_terms / _forward_sum + s.s_backward)
                    end as s_reciprocal
                from (
                    select
                        s.*,
                        w.interest * s.s_interest + w.language * s.s_language
                        + w.rating * s.s_rating + w.response_rate * s.s_response_rate
                        + w.response_time * s.s_response_time + w.activity * s.s_activity
                        as forward_terms
                    from (
                        -- Each signal in [0, 1].
                        select
                            cd.id,
                            cd.expertise_group,
                            case when _n_interests = 0 then 0
                                else cd.shared_interests
                                    / (_n_interests + cd.n_expertise - cd.shared_interests)
                            end as s_interest,
                            case when _n_langs = 0 then 0 else cd.shared_langs / _n_langs end
                            as s_language,
                            ((cd.n_reviews * cd.rating_avg + w.prior_weight * w.prior_mean)
                                / (cd.n_reviews + w.prior_weight) - 1) / 4 as s_rating,
                            cd.response_rate as s_response_rate,
                            1 / (1 + cd.response_minutes / w.half_minutes) as s_response_time,
                            -- Never active: no credit (greatest() would read a null as 0 days).
                            case when cd.idle_days is null then 0
                                else 0.5 ^ (greatest(cd.idle_days, 0) / w.half_life)
                            end as s_activity,
                            greatest(0, 1 - cd.n_reviews / w.new_reviews) as s_new_local,
                            (
                                w.recip_group * (1 - (p_group_size - 1) / cd.max_group)
                                + w.recip_language * case when _n_langs = 0 then 0.5
                                    when cd.shared_langs > 0 then 1 else 0 end
                                + w.recip_interest * case
                                    when _n_interests = 0 or cd.n_expertise = 0 then 0.5
                                    else cd.shared_interests / cd.n_expertise
                                end
                            ) / (w.recip_group + w.recip_language + w.recip_interest) as s_backward
                        from (
                            -- Hard filters (accepting requests: the indexes hold no one else).
                            select
                                c.profile_id as id,
                                c.expertise_group,
                                pg_catalog.bit_count(
                                    c.languages_mask & _lang_mask
                                )::double precision as shared_langs,
                                pg_catalog.bit_count(
                                    c.expertise_mask & _interest_mask
                                )::double precision as shared_interests,
                                -- Every tag has a bit, so this is cardinality(expertise).
                                pg_catalog.bit_count(c.expertise_mask)::double precision
                                as n_expertise,
                                c.max_group_size::double precision as max_group,
                                c.rating_count::double precision as n_reviews,
                                coalesce(c.rating_avg_float, w.prior_mean) as rating_avg,
                                coalesce(c.response_rate_float, w.rate_prior) as response_rate,
                                coalesce(
                                    c.median_response_minutes::double precision, w.prior_minutes
                                ) as response_minutes,
                                (_as_of - c.last_active_on)::double precision as idle_days
                            from (
                                -- In the city.
                                select
                                    cc.profile_id, cc.expertise_group, cc.languages_mask,
                                    cc.expertise_mask, cc.max_group_size, cc.rating_count,
                                    cc.rating_avg_float, cc.response_rate_float,
                                    cc.median_response_minutes, cc.last_active_on, cc.available
                                from public.local_cards as cc
                                where _city is not null and _radius is null
                                    and cc.accepting_requests
                                    and lower(cc.city) = _city
                                union all
                                -- Within the radius: the box, then the exact distance.
                                select
                                    cr.profile_id, cr.expertise_group, cr.languages_mask,
                                    cr.expertise_mask, cr.max_group_size, cr.rating_count,
                                    cr.rating_avg_float, cr.response_rate_float,
                                    cr.median_response_minutes, cr.last_active_on, cr.available
                                from public.local_cards as cr
                                where _city is null and _radius is not null
                                    and cr.accepting_requests
                                    and point(cr.longitude, cr.latitude) <@ box(
                                        point(
                                            greatest(p_lon - _dlon, -180),
                                            greatest(p_lat - _dlat, -90)
                                        ),
                                        point(least(p_lon + _dlon, 180), least(p_lat + _dlat, 90))
                                    )
                                    and 2 * 6371.0088 * asin(least(1, sqrt(
                                        sin(radians(cr.latitude - p_lat) / 2) ^ 2
                                        + cos(radians(p_lat)) * cos(radians(cr.latitude))
                                        * sin(radians(cr.longitude - p_lon) / 2) ^ 2
                                    ))) <= _radius
                                union all
                                -- Both: in the city and within the radius (rare; reads the heap).
                                select
                                    cb.profile_id, cb.expertise_group, cb.languages_mask,
                                    cb.expertise_mask, cb.max_group_size, cb.rating_count,
                                    cb.rating_avg_float, cb.response_rate_float,
                                    cb.median_response_minutes, cb.last_active_on, cb.available
                                from public.local_cards as cb
                                where _city is not null and _radius is not null
                                    and cb.accepting_requests
                                    and lower(cb.city) = _city
                                    and 2 * 6371.0088 * asin(least(1, sqrt(
                                        sin(radians(cb.latitude - p_lat) / 2) ^ 2
                                        + cos(radians(p_lat)) * cos(radians(cb.latitude))
                                        * sin(radians(cb.longitude - p_lon) / 2) ^ 2
                                    ))) <= _radius
                            ) as c
                            where c.available @> _trip
                                and c.max_group_size >= p_group_size
                                and (
                                    _n_langs = 0
                                    or c.languages_mask & _lang_mask <> b'0'::bit(256)
                                )
                            offset 0
                        ) as cd
                        offset 0
                    ) as s
                    offset 0
                ) as s
                offset 0
            ) as f
        ),

        -- The window: the rank_window + 1 best by undamped score.
        top as materialized (
            select sc.* from scored as sc order by sc.undamped desc, sc.id limit _window + 1
        ),

        bar as (
            select
                count(*) <= _window as complete,
                min(t.undamped) as lowest
            from top as t
        ),

        -- Damping, and who the caller may not see, for the window only.
        damped as (
            select
                t.*,
                coalesce(o.open_requests, 0)::double precision as open_requests,
                1 / (1 + w.busy * coalesce(o.open_requests, 0)::double precision) as damping
            from top as t
            left join private.open_request_counts(
                p_starts_on, p_ends_on,
                -- Everyone: one pass over the requests for the dates beats a probe per local.
                case when _window < _everyone then array(select t2.id from top as t2) end
            ) as o on t.id = o.local_id
            where t.id is distinct from _me and t.id <> all(_blocked)
        ),

        -- The head of the ranking: the whole window if it holds every candidate, else the rows
        -- that outscore the window's lowest undamped score (nobody outside can reach them).
        head as (
            select
                g.*,
                case
                    when g.group_rank <= w.cap
                        and count(*) filter (where g.group_rank <= w.cap) over (
                            order by g.total desc, g.id rows unbounded preceding
                        ) <= w.top_n
                        then 0
                    else 1
                end as tier
            from (
                select
                    h.*,
                    row_number() over (
                        partition by h.expertise_group order by h.total desc, h.id
                    ) as group_rank
                from (
                    select d.*, d.damping * d.undamped as total from damped as d
                ) as h
                where (select b.complete from bar as b) or h.total > (select b.lowest from bar as b)
            ) as g
        ),

        -- Whether the page can come from the head: all of it if the window held everyone;
        -- else the head must hold every tier-0 pick and p_limit rows after the cursor.
        exact as (
            select
                (select b.complete from bar as b)
                or (
                    count(*) filter (where hd.tier = 0) >= w.top_n
                    and count(*) filter (
                        where p_after_id is null
                            or (hd.tier, -hd.total, hd.id)
                            > (p_after_tier, -p_after_score, p_after_id)
                    ) >= p_limit
                ) as yes
            from head as hd
        ),

        page as (
            select
                hd.id, hd.total, hd.tier, hd.damping, hd.open_requests, hd.s_interest,
                hd.s_language, hd.s_rating, hd.s_response_rate, hd.s_response_time,
                hd.s_activity, hd.s_reciprocal, hd.s_new_local
            from head as hd
            where (select e.yes from exact as e)
                and (
                    p_after_id is null
                    or (hd.tier, -hd.total, hd.id) > (p_after_tier, -p_after_score, p_after_id)
                )
            order by hd.tier, hd.total desc, hd.id
            limit p_limit
        )

        select
            pg.id,
            pg.total,
            pg.tier::integer,
            jsonb_build_object(
                'interest', round((w.interest * pg.s_interest)::numeric, 4),
                'language', round((w.language * pg.s_language)::numeric, 4),
                'rating', round((w.rating * pg.s_rating)::numeric, 4),
                'response_rate', round((w.response_rate * pg.s_response_rate)::numeric, 4),
                'response_time', round((w.response_time * pg.s_response_time)::numeric, 4),
                'activity', round((w.activity * pg.s_activity)::numeric, 4),
                'reciprocal', round((w.reciprocal * pg.s_reciprocal)::numeric, 4),
                'new_local', round((w.new_local * pg.s_new_local)::numeric, 4),
                'open_requests', round((pg.total - pg.total / pg.damping)::numeric, 4)
            ),
            jsonb_build_object(
                'languages', to_jsonb(array(
                    select x from pg_catalog.unnest(c.languages) as x
                    where x = any(_langs) order by x
                )),
                'interests', to_jsonb(array(
                    select x from pg_catalog.unnest(c.expertise) as x
                    where x = any(_interests) order by x
                )),
                'open_requests', pg.open_requests::integer
            ),
            jsonb_build_object(
                'profile_id', c.profile_id,
                'full_name', c.full_name,
                'avatar_path', c.avatar_path,
                'headline', c.headline,
                'city', c.city,
                'country_code', c.country_code,
                'latitude', c.latitude,
                'longitude', c.longitude,
                'languages', c.languages,
                'expertise', c.expertise,
                'hourly_rate_cents', c.hourly_rate_cents,
                'currency', c.currency,
                'max_group_size', c.max_group_size,
                'accepting_requests', c.accepting_requests,
                'verified', c.verified,
                'rating_avg', c.rating_avg,
                'rating_count', c.rating_count,
                'response_rate', c.response_rate,
                'median_response_minutes', c.median_response_minutes,
                'last_active_on', c.last_active_on
            )
        from page as pg
        inner join public.local_cards as c on pg.id = c.profile_id
        order by pg.tier, pg.total desc, pg.id;

        exit ranking when found or _window = _everyone;
        _window := _everyone;
    end loop;
end
$$;

revoke all on function public.match_locals(
    date, date, integer, text, double precision, double precision, double precision,
    text[], text[], integer, integer, double precision, uuid, date
) from public, anon;
grant execute on function public.match_locals(
    date, date, integer, text, double precision, double precision, double precision,
    text[], text[], integer, integer, double precision, uuid, date
) to authenticated;
