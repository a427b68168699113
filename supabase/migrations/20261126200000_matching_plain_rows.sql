-- Matching answers plain rows: the card's columns and one column per reason, no JSON.
--
-- Measured against the previous version on 100,000 locals (`scripts/bench matching` data,
-- queries to cities of 400-2,500 locals, the same queries run alternately through both,
-- three rounds; median of the per-query time ratios):
-- * Building the card, the reasons and the matched lists as JSON took about 15% of a median
--   request. json_build_object looks up each value's output function for every value of
--   every row, and numeric rounding converted each reason twice. Plain columns are printed
--   with output functions looked up once per statement. Rounding and the JSON shape are
--   the service's job: it validated and re-serialized that JSON anyway.
-- * `matched` goes: which of the requested languages and interests a local has is the
--   intersection of the card's lists with the request's, which the caller holds
--   (GET /api/v1/matches still answers it). The open-request count stays a column.
-- * The weights are read by the statement that checks the vocabulary (one statement fewer
--   per call, about 1%).
-- * Damping counted each local's open booking requests for the trip's dates with one index
--   probe per local in the window (145 probes for a median request), though most locals
--   hold none that could overlap. The card now keeps open_requests_until, the last day of
--   the local's latest open request, and only locals whose bound reaches the trip's first
--   day are probed: 0.93 of the time.
-- * Group size is a key column of both indexes rather than an included one (below): 0.95.
-- Together, with auth.uid() inlined as on Supabase, `scripts/bench matching` went from a
-- p50 of 3.65 ms to 2.6-2.85 ms. The ranking, the rows and their order are unchanged: the
-- tests compare them with the Python reference and across windows as before.
-- The return type changes, so the function is dropped and created again, and re-granted.

-- =====================================================================
-- open_requests_until: a bound on each local's open booking requests
-- =====================================================================
-- The last day of the local's latest open request (requested or offered; null when none).
-- It may run late, never early: an expired request still counts until
-- private.expire_bookings() closes it, which the ranking's count then filters out.
alter table public.local_cards add column open_requests_until date;

comment on column public.local_cards.open_requests_until is
'Last day of the latest open booking request the local holds (null: none). Matching counts '
'a local''s requests for the trip''s dates only where this reaches the trip''s first day.';

-- What the bound should be: every open request, expired or not. Definer: travelers see only
-- their own requests, and the bound is the same whoever's write changes it.
create or replace function private.open_requests_until(p_local_id uuid)
returns date
language sql
stable
security definer
set search_path = ''
as $$
    select max(br.ends_on)
    from public.booking_requests as br
    where br.local_id = p_local_id and br.status in ('requested', 'offered')
$$;

revoke all on function private.open_requests_until(uuid) from public;

-- A request that is open after the change raises its local's bound. A request that was open
-- and no longer counts where it did (closed, deleted, given a different local or an earlier
-- last day) recomputes its old local's bound. The recount locks the card row first: a
-- concurrent raise either committed before the lock was granted, and the recount's
-- snapshot, taken after, sees its request; or it waits for the lock and then raises the
-- recounted bound itself (an UPDATE re-reads a row a concurrent writer changed).
create or replace function private.sync_card_open_requests()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if tg_op in ('INSERT', 'UPDATE') and new.local_id is not null
        and new.status in ('requested', 'offered') then
        update public.local_cards as c
        set open_requests_until = new.ends_on
        where c.profile_id = new.local_id
            and (c.open_requests_until is null or c.open_requests_until < new.ends_on);
    end if;
    if tg_op in ('UPDATE', 'DELETE') and old.local_id is not null
        and old.status in ('requested', 'offered')
        and (
            tg_op = 'DELETE'
            or new.status not in ('requested', 'offered')
            or new.local_id is distinct from old.local_id
            or new.ends_on < old.ends_on
        ) then
        perform from public.local_cards as c where c.profile_id = old.local_id for update;
        update public.local_cards as c
        set open_requests_until = private.open_requests_until(old.local_id)
        where c.profile_id = old.local_id;
    end if;
    return null;
end
$$;

revoke all on function private.sync_card_open_requests() from public;

create trigger booking_requests_sync_card_insert
after insert on public.booking_requests
for each row execute function private.sync_card_open_requests();

create trigger booking_requests_sync_card_update
after update of status, local_id, ends_on on public.booking_requests
for each row execute function private.sync_card_open_requests();

create trigger booking_requests_sync_card_delete
after delete on public.booking_requests
for each row execute function private.sync_card_open_requests();

-- A card written anew (a local listed again) starts from the requests already there.
create or replace function private.set_card_open_requests()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    new.open_requests_until := private.open_requests_until(new.profile_id);
    return new;
end
$$;

revoke all on function private.set_card_open_requests() from public;

create trigger local_cards_open_requests_insert
before insert on public.local_cards
for each row execute function private.set_card_open_requests();

-- Every card's bound counted again in one pass, writing only the cards it changes: for
-- this migration, and for bulk loads that write requests with triggers off (restores,
-- benchmarks). Callers hold no concurrent request writers.
create or replace function private.recount_open_requests_until()
returns void
language sql
security definer
set search_path = ''
as $$
    update public.local_cards as c
    set open_requests_until = r.last_day
    from (
        select
            lc.profile_id,
            max(br.ends_on) as last_day
        from public.local_cards as lc
        left join public.booking_requests as br
            on
                lc.profile_id = br.local_id
                and br.status in ('requested', 'offered')
        group by lc.profile_id
    ) as r
    where c.profile_id = r.profile_id
        and c.open_requests_until is distinct from r.last_day
$$;

revoke all on function private.recount_open_requests_until() from public;

select private.recount_open_requests_until();

-- The ranking reads the bound from its indexes: both are rebuilt to carry it. Group size
-- (and, for the area, the last free day) move from the included columns into the key: a
-- condition on a key column is checked on the index entry before its included columns are
-- unpacked, so locals too small for the group cost less to pass over (paired A/B over the
-- bench queries, city index: 0.95 of the time).
drop index public.local_cards_match_city_idx;
drop index public.local_cards_match_area_idx;

create index local_cards_match_city_idx on public.local_cards (
    lower(city), free_until, max_group_size
) include (
    city, profile_id, expertise_group, rating_count, median_response_minutes,
    last_active_on, rating_avg_float, response_rate_float, available, languages_mask,
    expertise_mask, open_requests_until
) where accepting_requests;

create index local_cards_match_area_idx on public.local_cards (
    floor(latitude), longitude, free_until, max_group_size
) include (
    latitude, unit_x, unit_y, unit_z, profile_id, expertise_group,
    rating_count, median_response_minutes, last_active_on, rating_avg_float,
    response_rate_float, available, languages_mask, expertise_mask, open_requests_until
) where accepting_requests;

-- =====================================================================
-- The ranking
-- =====================================================================

drop function public.match_locals(
    date, date, integer, text, double precision, double precision, double precision,
    text[], text[], integer, integer, double precision, uuid, date
);

create function public.match_locals(
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
    open_requests integer,
    -- Each signal's contribution to the score (weight x signal); damping's is <= 0.
    reason_interest double precision,
    reason_language double precision,
    reason_rating double precision,
    reason_response_rate double precision,
    reason_response_time double precision,
    reason_activity double precision,
    reason_reciprocal double precision,
    reason_new_local double precision,
    reason_open_requests double precision,
    -- The local's public card.
    full_name text,
    avatar_path text,
    headline text,
    city text,
    country_code text,
    latitude double precision,
    longitude double precision,
    languages text[],
    expertise text[],
    hourly_rate_cents integer,
    currency text,
    max_group_size smallint,
    accepting_requests boolean,
    verified boolean,
    rating_avg numeric,
    rating_count integer,
    response_rate numeric,
    median_response_minutes integer,
    last_active_on date
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
    _lat_from double precision;
    _lat_to double precision;
    _lon_from double precision;
    _lon_to double precision;
    _lat_bands double precision[];
    _unit_x double precision;
    _unit_y double precision;
    _unit_z double precision;
    _chord_squared double precision;
    _bad_language text;
    _bad_interest text;
    _blocked uuid[];
    _forward_sum double precision;
    _window bigint;
    _everyone constant bigint := 9223372036854775806;
    -- The weights the ranking statement reads, as plain variables: a record field is looked
    -- up by name on every use, and the statement uses them for every candidate.
    w_activity double precision;
    w_busy double precision;
    w_cap double precision;
    w_half_life double precision;
    w_half_minutes double precision;
    w_interest double precision;
    w_language double precision;
    w_new_local double precision;
    w_new_reviews double precision;
    w_prior_mean double precision;
    w_prior_minutes double precision;
    w_prior_weight double precision;
    w_rate_prior double precision;
    w_rating double precision;
    w_recip_group double precision;
    w_recip_interest double precision;
    w_recip_language double precision;
    w_reciprocal double precision;
    w_response_rate double precision;
    w_response_time double precision;
    w_top_n double precision;
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
    -- Now that they are in range: coordinates to a millionth of a degree (11 cm) and the
    -- radius to the metre. Finer is noise, and a subnormal input (5e-324) would make float
    -- arithmetic underflow, which Postgres reports as an error rather than rounding to 0.
    p_lat := round(p_lat::numeric, 6)::double precision;
    p_lon := round(p_lon::numeric, 6)::double precision;
    p_radius_km := round(p_radius_km::numeric, 3)::double precision;
    if p_radius_km = 0 then
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
    -- One statement for the vocabulary checks, the de-duplicated lists and their masks, the
    -- caller's block partners and the weights.
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
        array(select private.block_partner_ids()),
        w.interest,
        w.language,
        w.rating,
        w.response_rate,
        w.response_time,
        w.activity,
        w.reciprocal,
        w.new_local,
        w.prior_mean,
        w.prior_weight,
        w.rate_prior,
        w.half_minutes,
        w.prior_minutes,
        w.half_life,
        w.recip_group,
        w.recip_language,
        w.recip_interest,
        w.new_reviews,
        w.busy,
        w.cap,
        w.top_n,
        w.rank_window
    into _bad_language, _bad_interest, _langs, _interests, _lang_mask, _interest_mask,
        _blocked, w_interest, w_language, w_rating, w_response_rate, w_response_time,
        w_activity, w_reciprocal, w_new_local, w_prior_mean, w_prior_weight, w_rate_prior,
        w_half_minutes, w_prior_minutes, w_half_life, w_recip_group, w_recip_language,
        w_recip_interest, w_new_reviews, w_busy, w_cap, w_top_n, _window
    from (
        -- The weights, one row (private.match_weights holds one per name).
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
            max(mw.weight) filter (
                where mw.param = 'response_time_half_minutes'
            ) as half_minutes,
            max(mw.weight) filter (
                where mw.param = 'response_time_prior_minutes'
            ) as prior_minutes,
            max(mw.weight) filter (where mw.param = 'activity_half_life_days') as half_life,
            max(mw.weight) filter (where mw.param = 'recip_group') as recip_group,
            max(mw.weight) filter (where mw.param = 'recip_language') as recip_language,
            max(mw.weight) filter (where mw.param = 'recip_interest') as recip_interest,
            max(mw.weight) filter (where mw.param = 'new_local_reviews') as new_reviews,
            max(mw.weight) filter (where mw.param = 'busy_damping') as busy,
            max(mw.weight) filter (where mw.param = 'diversity_cap') as cap,
            max(mw.weight) filter (where mw.param = 'diversity_top') as top_n,
            max(mw.weight) filter (where mw.param = 'rank_window')::integer as rank_window
        from private.match_weights as mw
    ) as w;
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
        _lat_from := greatest(p_lat - _dlat, -90);
        _lat_to := least(p_lat + _dlat, 90);
        _lon_from := greatest(p_lon - _dlon, -180);
        _lon_to := least(p_lon + _dlon, 180);
        _lat_bands := array(
            select b::double precision
            from generate_series(floor(_lat_from)::integer, floor(_lat_to)::integer) as b
        );
        -- Great-circle distance <= r exactly when the straight chord between the two
        -- points on the unit sphere is <= 2 sin(r / 2R): no trigonometry per candidate.
        _unit_x := cos(radians(p_lat)) * cos(radians(p_lon));
        _unit_y := cos(radians(p_lat)) * sin(radians(p_lon));
        _unit_z := sin(radians(p_lat));
        _chord_squared := (2 * sin(_radius / (2 * 6371.0088))) ^ 2;
    end if;

    _forward_sum := w_interest + w_language + w_rating + w_response_rate + w_response_time
        + w_activity;

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
                f.forward_terms + w_reciprocal * f.s_reciprocal + w_new_local * f.s_new_local
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
                        w_interest * s.s_interest + w_language * s.s_language
                        + w_rating * s.s_rating + w_response_rate * s.s_response_rate
                        + w_response_time * s.s_response_time + w_activity * s.s_activity
                        as forward_terms
                    from (
                        -- Each signal in [0, 1].
                        select
                            cd.id,
                            cd.expertise_group,
                            cd.open_requests_until,
                            case when _n_interests = 0 then 0
                                else cd.shared_interests
                                    / (_n_interests + cd.n_expertise - cd.shared_interests)
                            end as s_interest,
                            case when _n_langs = 0 then 0 else cd.shared_langs / _n_langs end
                            as s_language,
                            ((cd.n_reviews * cd.rating_avg + w_prior_weight * w_prior_mean)
                                / (cd.n_reviews + w_prior_weight) - 1) / 4 as s_rating,
                            cd.response_rate as s_response_rate,
                            1 / (1 + cd.response_minutes / w_half_minutes) as s_response_time,
                            -- Never active: no credit (greatest() would read a null as 0 days).
                            case when cd.idle_days is null then 0
                                else 0.5 ^ (greatest(cd.idle_days, 0) / w_half_life)
                            end as s_activity,
                            greatest(0, 1 - cd.n_reviews / w_new_reviews) as s_new_local,
                            (
                                w_recip_group * (1 - (p_group_size - 1) / cd.max_group)
                                + w_recip_language * case when _n_langs = 0 then 0.5
                                    when cd.shared_langs > 0 then 1 else 0 end
                                + w_recip_interest * case
                                    when _n_interests = 0 or cd.n_expertise = 0 then 0.5
                                    else cd.shared_interests / cd.n_expertise
                                end
                            ) / (w_recip_group + w_recip_language + w_recip_interest) as s_backward
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
                                coalesce(c.rating_avg_float, w_prior_mean) as rating_avg,
                                coalesce(c.response_rate_float, w_rate_prior) as response_rate,
                                coalesce(
                                    c.median_response_minutes::double precision, w_prior_minutes
                                ) as response_minutes,
                                (_as_of - c.last_active_on)::double precision as idle_days,
                                c.open_requests_until
                            from (
                                -- In the city.
                                select
                                    cc.profile_id, cc.expertise_group, cc.languages_mask,
                                    cc.expertise_mask, cc.max_group_size, cc.rating_count,
                                    cc.rating_avg_float, cc.response_rate_float,
                                    cc.median_response_minutes, cc.last_active_on, cc.available,
                                    cc.open_requests_until
                                from public.local_cards as cc
                                where _city is not null and _radius is null
                                    and cc.accepting_requests
                                    and lower(cc.city) = _city
                                    and cc.free_until >= p_ends_on
                                union all
                                -- Within the radius: the box (whole one-degree latitude bands,
                                -- then a longitude range in each: btree range scans), then the
                                -- exact distance as a chord between unit vectors.
                                select
                                    cr.profile_id, cr.expertise_group, cr.languages_mask,
                                    cr.expertise_mask, cr.max_group_size, cr.rating_count,
                                    cr.rating_avg_float, cr.response_rate_float,
                                    cr.median_response_minutes, cr.last_active_on, cr.available,
                                    cr.open_requests_until
                                from public.local_cards as cr
                                where _city is null and _radius is not null
                                    and cr.accepting_requests
                                    and floor(cr.latitude) = any(_lat_bands)
                                    and cr.free_until >= p_ends_on
                                    and cr.longitude between _lon_from and _lon_to
                                    and cr.latitude between _lat_from and _lat_to
                                    and (cr.unit_x - _unit_x) * (cr.unit_x - _unit_x)
                                    + (cr.unit_y - _unit_y) * (cr.unit_y - _unit_y)
                                    + (cr.unit_z - _unit_z) * (cr.unit_z - _unit_z)
                                    <= _chord_squared
                                union all
                                -- Both: in the city and within the radius (rare; reads the heap).
                                select
                                    cb.profile_id, cb.expertise_group, cb.languages_mask,
                                    cb.expertise_mask, cb.max_group_size, cb.rating_count,
                                    cb.rating_avg_float, cb.response_rate_float,
                                    cb.median_response_minutes, cb.last_active_on, cb.available,
                                    cb.open_requests_until
                                from public.local_cards as cb
                                where _city is not null and _radius is not null
                                    and cb.accepting_requests
                                    and lower(cb.city) = _city
                                    and cb.free_until >= p_ends_on
                                    and (cb.unit_x - _unit_x) * (cb.unit_x - _unit_x)
                                    + (cb.unit_y - _unit_y) * (cb.unit_y - _unit_y)
                                    + (cb.unit_z - _unit_z) * (cb.unit_z - _unit_z)
                                    <= _chord_squared
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
                1 / (1 + w_busy * coalesce(o.open_requests, 0)::double precision) as damping
            from top as t
            left join private.open_request_counts(
                p_starts_on, p_ends_on,
                -- Only locals whose bound reaches the trip can hold a request for it.
                -- Everyone: one pass over the requests for the dates beats a probe per local.
                case when _window < _everyone then array(
                    select t2.id from top as t2 where t2.open_requests_until >= p_starts_on
                ) end
            ) as o on t.id = o.local_id
            where t.id is distinct from _me and t.id <> all(_blocked)
        ),

        -- The head of the ranking: the whole window if it holds every candidate, else the rows
        -- that outscore the window's lowest undamped score (nobody outside can reach them).
        head as (
            select
                g.*,
                case
                    when g.group_rank <= w_cap
                        and count(*) filter (where g.group_rank <= w_cap) over (
                            order by g.total desc, g.id rows unbounded preceding
                        ) <= w_top_n
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
                    count(*) filter (where hd.tier = 0) >= w_top_n
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
            pg.open_requests::integer,
            w_interest * pg.s_interest,
            w_language * pg.s_language,
            w_rating * pg.s_rating,
            w_response_rate * pg.s_response_rate,
            w_response_time * pg.s_response_time,
            w_activity * pg.s_activity,
            w_reciprocal * pg.s_reciprocal,
            w_new_local * pg.s_new_local,
            pg.total - pg.total / pg.damping,
            c.full_name,
            c.avatar_path,
            c.headline,
            c.city,
            c.country_code,
            c.latitude,
            c.longitude,
            c.languages,
            c.expertise,
            c.hourly_rate_cents,
            c.currency,
            c.max_group_size,
            c.accepting_requests,
            c.verified,
            c.rating_avg,
            c.rating_count,
            c.response_rate,
            c.median_response_minutes,
            c.last_active_on
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
