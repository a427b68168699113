-- Matching: one lookup for the request's vocabulary, and weights in one typed row.
--
-- Measured against the previous version on 100,000 locals (`scripts/bench matching` data,
-- 600 queries run alternately through both, two rounds, two query sets; median of the
-- per-query time ratios): the three changes below 0.960 and 0.960; with rank_window 150
-- (further down) 0.930 and 0.934, p95 unchanged (24.5 vs 24.4 ms, 22.8 vs 22.8 ms).
--
-- * The masks of the requested languages and interests came from two scans of the bit
--   table, the de-duplicated lists from two more subqueries and the validation from two
--   more, each a node the executor set up on every call. Now one index lookup per list
--   gives the mask, the mask's bit count is the number of distinct known codes, and only
--   a list with more entries than bits (an unknown or repeated code) is read again, to
--   name the unknown code. A null entry is now refused as unknown (it used to count as a
--   requested language or interest that no local has).
-- * The weights were a row per name, pivoted by 22 filtered aggregates on every call. They
--   are now one row with a typed, checked column per weight: a missing or misspelt weight,
--   a negative one, additive weights that do not sum to 1 or a zero half-life cannot be
--   saved, instead of turning every score null or dividing by zero at query time. The
--   reasons for each value move to the column comments.
-- * The reciprocal term is folded into the undamped score rather than kept as a column of
--   its own fenced level; the page's reason_reciprocal recomputes it from the same two
--   inputs (same expression, same value).
-- The ranking, its rows and their order are unchanged; the function keeps its signature.

-- =====================================================================
-- Weights: one row
-- =====================================================================

alter table private.match_weights rename to match_weights_by_name;
alter table private.match_weights_by_name
rename constraint match_weights_pkey to match_weights_by_name_pkey;

create table private.match_weights (
    -- Exactly one row.
    singleton boolean primary key default true check (singleton),
    interest double precision not null check (interest >= 0),
    -- A keyword to sqlfluff, an ordinary column name to Postgres.
    language double precision not null check (language >= 0),  -- noqa: RF04
    rating double precision not null check (rating >= 0),
    response_rate double precision not null check (response_rate >= 0),
    response_time double precision not null check (response_time >= 0),
    activity double precision not null check (activity >= 0),
    reciprocal double precision not null check (reciprocal >= 0),
    new_local double precision not null check (new_local >= 0),
    rating_prior_mean double precision not null check (rating_prior_mean between 1 and 5),
    rating_prior_weight double precision not null check (rating_prior_weight > 0),
    response_rate_prior double precision not null check (response_rate_prior between 0 and 1),
    response_time_half_minutes double precision not null check (response_time_half_minutes > 0),
    response_time_prior_minutes double precision not null check (response_time_prior_minutes >= 0),
    activity_half_life_days double precision not null check (activity_half_life_days > 0),
    recip_group double precision not null check (recip_group >= 0),
    recip_language double precision not null check (recip_language >= 0),
    recip_interest double precision not null check (recip_interest >= 0),
    new_local_reviews double precision not null check (new_local_reviews > 0),
    busy_damping double precision not null check (busy_damping >= 0),
    diversity_cap integer not null check (diversity_cap >= 1),
    diversity_top integer not null check (diversity_top >= 1),
    rank_window integer not null check (rank_window >= 1),
    -- The additive terms' weights sum to 1, so an undamped score lies in [0, 1].
    constraint match_weights_sum_to_one check (
        abs(
            interest + language + rating + response_rate + response_time + activity
            + reciprocal + new_local - 1
        ) < 1e-9
    ),
    -- The reciprocal fit divides by both sides' weight sums.
    constraint match_weights_forward_positive check (
        interest + language + rating + response_rate + response_time + activity > 0
    ),
    constraint match_weights_backward_positive check (
        recip_group + recip_language + recip_interest > 0
    )
);

comment on table private.match_weights is
'The ranking''s weights and constants (see public.match_locals). One row.';

insert into private.match_weights (
    interest,
    language,
    rating,
    response_rate,
    response_time,
    activity,
    reciprocal,
    new_local,
    rating_prior_mean,
    rating_prior_weight,
    response_rate_prior,
    response_time_half_minutes,
    response_time_prior_minutes,
    activity_half_life_days,
    recip_group,
    recip_language,
    recip_interest,
    new_local_reviews,
    busy_damping,
    diversity_cap,
    diversity_top,
    rank_window
)
select
    max(o.weight) filter (where o.param = 'interest'),
    max(o.weight) filter (where o.param = 'language'),
    max(o.weight) filter (where o.param = 'rating'),
    max(o.weight) filter (where o.param = 'response_rate'),
    max(o.weight) filter (where o.param = 'response_time'),
    max(o.weight) filter (where o.param = 'activity'),
    max(o.weight) filter (where o.param = 'reciprocal'),
    max(o.weight) filter (where o.param = 'new_local'),
    max(o.weight) filter (where o.param = 'rating_prior_mean'),
    max(o.weight) filter (where o.param = 'rating_prior_weight'),
    max(o.weight) filter (where o.param = 'response_rate_prior'),
    max(o.weight) filter (where o.param = 'response_time_half_minutes'),
    max(o.weight) filter (where o.param = 'response_time_prior_minutes'),
    max(o.weight) filter (where o.param = 'activity_half_life_days'),
    max(o.weight) filter (where o.param = 'recip_group'),
    max(o.weight) filter (where o.param = 'recip_language'),
    max(o.weight) filter (where o.param = 'recip_interest'),
    max(o.weight) filter (where o.param = 'new_local_reviews'),
    max(o.weight) filter (where o.param = 'busy_damping'),
    max(o.weight) filter (where o.param = 'diversity_cap')::integer,
    max(o.weight) filter (where o.param = 'diversity_top')::integer,
    max(o.weight) filter (where o.param = 'rank_window')::integer
from private.match_weights_by_name as o;

drop table private.match_weights_by_name;

-- How many leading locals are damped and diversified before the ranking falls back to
-- everyone: 150 rather than 200. Over 1,200 bench queries the fallback ran for 12 at 150
-- and 4 at 200 (1% against 0.3%). The median query gets about 3% faster and p95 does not
-- move; a query that falls back costs about twice as much, which the slowest 1% pay.
update private.match_weights set rank_window = 150;

comment on column private.match_weights.interest is
'What the traveler came for; the strongest booking signal in every peer we studied.';
comment on column private.match_weights.language is
'A shared language is already a hard filter; more shared languages help a little.';
comment on column private.match_weights.rating is
'Smoothed quality; high because reviews are the only outcome signal we have.';
comment on column private.match_weights.response_rate is
'Locals who answer get booked; unanswered requests lose travelers.';
comment on column private.match_weights.response_time is
'Fast answers matter less than answering at all.';
comment on column private.match_weights.activity is
'Recently active locals still host; stale profiles waste requests.';
comment on column private.match_weights.reciprocal is
'A match is good only if the local would accept it too (RECON harmonic mean).';
comment on column private.match_weights.new_local is
'Bounded exposure for locals with few reviews (exposure fairness).';
comment on column private.match_weights.rating_prior_mean is
'Typical mean rating on guide marketplaces (C).';
comment on column private.match_weights.rating_prior_weight is
'Reviews before a local''s own mean outweighs the prior (m).';
comment on column private.match_weights.response_rate_prior is
'Unknown response rate: neither rewarded nor punished.';
comment on column private.match_weights.response_time_half_minutes is
'An hour to answer earns half the response time credit.';
comment on column private.match_weights.response_time_prior_minutes is
'Unknown response time counts as three hours.';
comment on column private.match_weights.activity_half_life_days is
'Activity two weeks old earns half the activity credit.';
comment on column private.match_weights.recip_group is
'Local side: a group well inside the maximum is an easy yes.';
comment on column private.match_weights.recip_language is
'Local side: being able to talk to the traveler.';
comment on column private.match_weights.recip_interest is
'Local side: the traveler wants what the local offers.';
comment on column private.match_weights.new_local_reviews is
'The boost fades out linearly by this many reviews.';
comment on column private.match_weights.busy_damping is
'Each open overlapping request divides the score by 1 + this.';
comment on column private.match_weights.diversity_cap is
'At most this many of the top results share a primary expertise.';
comment on column private.match_weights.diversity_top is
'How many leading results the diversity pass shapes.';
comment on column private.match_weights.rank_window is
'Speed only, never the result: how many leading locals are damped and diversified
before the ranking falls back to everyone (see public.match_locals).';

grant select on private.match_weights to authenticated, service_role;

-- =====================================================================
-- The ranking
-- =====================================================================

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
    -- One statement for the masks of the requested languages and interests, the caller's
    -- block partners and the weights. Each known code sets one bit, so a mask holding fewer
    -- bits than the list has entries means an unknown code (or a repeated one): only then
    -- is the list read again to name the culprit.
    select
        (
            select coalesce(pg_catalog.bit_or(b'1'::bit(256) >> vb.bit_index), b'0'::bit(256))
            from public.languages as l
            inner join private.vocabulary_bits as vb
                on vb.vocabulary = 'language' and l.code = vb.code
            where l.code = any(_langs)
        ),
        (
            select coalesce(pg_catalog.bit_or(b'1'::bit(256) >> vb.bit_index), b'0'::bit(256))
            from public.expertise_tags as t
            inner join private.vocabulary_bits as vb
                on vb.vocabulary = 'expertise' and t.tag = vb.code
            where t.tag = any(_interests)
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
        w.rating_prior_mean,
        w.rating_prior_weight,
        w.response_rate_prior,
        w.response_time_half_minutes,
        w.response_time_prior_minutes,
        w.activity_half_life_days,
        w.recip_group,
        w.recip_language,
        w.recip_interest,
        w.new_local_reviews,
        w.busy_damping,
        w.diversity_cap,
        w.diversity_top,
        w.rank_window
    into _lang_mask, _interest_mask, _blocked, w_interest, w_language, w_rating,
        w_response_rate, w_response_time, w_activity, w_reciprocal, w_new_local, w_prior_mean,
        w_prior_weight, w_rate_prior, w_half_minutes, w_prior_minutes, w_half_life,
        w_recip_group, w_recip_language, w_recip_interest, w_new_reviews, w_busy, w_cap,
        w_top_n, _window
    from private.match_weights as w;
    _n_langs := pg_catalog.bit_count(_lang_mask);
    _n_interests := pg_catalog.bit_count(_interest_mask);
    if _n_langs < cardinality(_langs) then
        select x into _bad_language
        from pg_catalog.unnest(_langs) as x
        where x is null or x not in (select l.code from public.languages as l)
        limit 1;
        if found then
            raise exception 'unknown language code: %', coalesce(_bad_language, 'null')
                using errcode = '22023', detail = 'unknown_language';
        end if;
    end if;
    if _n_interests < cardinality(_interests) then
        select x into _bad_interest
        from pg_catalog.unnest(_interests) as x
        where x is null or x not in (select t.tag from public.expertise_tags as t)
        limit 1;
        if found then
            raise exception 'unknown interest: %', coalesce(_bad_interest, 'null')
                using errcode = '22023', detail = 'unknown_interest';
        end if;
    end if;
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
            -- Every candidate with its signals and its score before damping. The
            -- reciprocal term is recomputed for the page's rows only (reason_reciprocal).
            select
                s.*,
                s.forward_terms
                + w_reciprocal * case
                    when s.forward_terms / _forward_sum + s.s_backward = 0 then 0
                    else 2 * (s.forward_terms / _forward_sum) * s.s_backward
                        / (s.forward_terms / _forward_sum + s.s_backward)
                end
                + w_new_local * s.s_new_local as undamped
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
                hd.s_activity, hd.forward_terms, hd.s_backward, hd.s_new_local
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
            w_reciprocal * case
                when pg.forward_terms / _forward_sum + pg.s_backward = 0 then 0
                else 2 * (pg.forward_terms / _forward_sum) * pg.s_backward
                    / (pg.forward_terms / _forward_sum + pg.s_backward)
            end,
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
