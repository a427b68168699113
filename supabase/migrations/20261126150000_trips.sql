-- Trips: itineraries planned with a local, booking requests and offers, blind two-way
-- reviews, and the figures they feed (ratings, response stats, open requests).
--
-- This is what turns a chat into a trip. A traveler plans an itinerary and may share it
-- with a local they talk to; the traveler requests a booking from the conversation, the
-- local answers with an offer or declines, the traveler accepts or withdraws. Accepting
-- lifts contact masking for the conversation (conversations.contact_unlocked_at, the
-- chat's single switch) and posts a system message. After the trip each side reviews the
-- other, blind until both are in or the deadline passes.
--
-- Booking states move only along private.booking_transitions, enforced by one BEFORE
-- UPDATE trigger, so the RPCs below and direct PostgREST writes are equally safe. Expiry is
-- evaluated by that trigger and by the `bookings` view at read time: a stale offer cannot
-- be accepted whether or not a job has run. Policies: supabase/policies/trips.sql.
--
-- Jobs (pg_cron on Supabase; each is idempotent and only tidies what the database already
-- treats correctly at read time):
--   select cron.schedule('expire-bookings', '*/5 * * * *', 'select private.expire_bookings()');
--   select cron.schedule('reveal-reviews', '*/15 * * * *', 'select private.reveal_due_reviews()');
--   select cron.schedule('response-stats', '17 * * * *', 'select private.refresh_response_stats()');
--
-- Account deletion: itineraries are their owner's notes and go with them; bookings and
-- reviews concern two people and stay, with the deleted side's id set to null.

-- =====================================================================
-- Settings
-- =====================================================================

insert into private.app_settings (setting_name, setting_value, description) values
(
    'booking_request_ttl_hours', '72',
    'How long a booking request waits for the local''s answer before it expires.'
),
(
    'booking_offer_ttl_hours', '72',
    'How long an offer stays open when the local does not choose an expiry.'
),
(
    'booking_offer_max_days', '14',
    'The furthest ahead a local may set an offer''s expiry.'
),
(
    'review_blind_days', '14',
    'Days after completion during which reviews may be written and stay hidden '
    || 'until both sides have written theirs.'
),
(
    'response_window_hours', '24',
    'A local "responded" to a conversation when their first reply came within this time.'
),
(
    'response_stats_days', '90',
    'Conversations started within this many days count towards response stats.'
)
on conflict (setting_name) do nothing;

-- =====================================================================
-- Types
-- =====================================================================

create type public.itinerary_status as enum (
    'draft', 'shared', 'confirmed', 'completed', 'cancelled'
);

-- Open = requested or offered and not past expires_at. Matching reads open requests.
create type public.booking_status as enum (
    'requested', 'offered', 'accepted', 'declined', 'withdrawn', 'expired', 'completed',
    'cancelled'
);

-- =====================================================================
-- Tables: itineraries
-- =====================================================================

-- A traveler's plan for a trip, at most 60 days long. Clients set draft, shared or
-- cancelled; confirmed and completed follow the booking that links it.
create table public.itineraries (
    id uuid primary key default gen_random_uuid(),
    owner_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
    title text not null check (char_length(btrim(title)) between 1 and 120),
    city text check (char_length(city) <= 100),
    starts_on date not null,
    ends_on date not null,
    status public.itinerary_status not null default 'draft',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint itineraries_dates_check check (
        ends_on >= starts_on and ends_on - starts_on < 60
    )
);

create index itineraries_owner_id_idx on public.itineraries (owner_id, starts_on);

-- Who else may read and edit an itinerary: a local the owner has a conversation with. The
-- conversation is named so changes can be broadcast to its topic. Deleting the row
-- revokes access at once (policies read this table on every statement).
create table public.itinerary_shares (
    itinerary_id uuid not null references public.itineraries (id) on delete cascade,
    local_id uuid not null references public.profiles (id) on delete cascade,
    conversation_id uuid not null references public.conversations (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (itinerary_id, local_id)
);

create index itinerary_shares_local_id_idx on public.itinerary_shares (local_id, itinerary_id);
create index itinerary_shares_conversation_id_idx on public.itinerary_shares (conversation_id);

-- One stop of a day. `position` is a fractional index: to put an item between two others
-- a client writes the midpoint of their positions, so no other row is ever renumbered.
-- Who created and who last edited an item is recorded by trigger, never by the client.
create table public.itinerary_items (
    id uuid primary key default gen_random_uuid(),
    itinerary_id uuid not null references public.itineraries (id) on delete cascade,
    day_index smallint not null check (day_index between 0 and 59),
    starts_at time,
    duration_minutes integer check (duration_minutes between 1 and 1440),
    title text not null check (char_length(btrim(title)) between 1 and 200),
    notes text check (char_length(notes) <= 4000),
    place_name text check (char_length(place_name) <= 200),
    latitude double precision check (latitude between -90 and 90),
    longitude double precision check (longitude between -180 and 180),
    position numeric not null, -- noqa: RF04
    created_by uuid references public.profiles (id) on delete set null,
    updated_by uuid references public.profiles (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint itinerary_items_location_pair check ((latitude is null) = (longitude is null))
);

create index itinerary_items_order_idx
on public.itinerary_items (itinerary_id, day_index, position);
create index itinerary_items_created_by_idx on public.itinerary_items (created_by);
create index itinerary_items_updated_by_idx on public.itinerary_items (updated_by);

-- =====================================================================
-- Tables: bookings
-- =====================================================================

-- A traveler asks a local for dates and a group size from their conversation; the local
-- answers with an offer (price, currency, duration, meeting point, expiry) or declines.
-- traveler_id and local_id are copied from the conversation by trigger. Server-kept
-- timestamps record each step.
create table public.booking_requests (
    id uuid primary key default gen_random_uuid(),
    conversation_id uuid not null references public.conversations (id) on delete cascade,
    traveler_id uuid references public.profiles (id) on delete set null,
    local_id uuid references public.profiles (id) on delete set null,
    itinerary_id uuid references public.itineraries (id) on delete set null,
    starts_on date not null,
    ends_on date not null,
    group_size integer not null check (group_size between 1 and 50),
    message text check (char_length(message) <= 2000),
    status public.booking_status not null default 'requested',
    expires_at timestamptz not null,
    price_cents integer check (price_cents between 0 and 100000000),
    currency text references public.currencies (code),
    duration_minutes integer check (duration_minutes between 15 and 20160),
    meeting_point text check (char_length(meeting_point) <= 500),
    offer_message text check (char_length(offer_message) <= 2000),
    offered_at timestamptz,
    accepted_at timestamptz,
    cancelled_at timestamptz,
    cancelled_by text check (cancelled_by in ('traveler', 'local', 'system')),
    completed_at timestamptz,
    status_changed_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint booking_requests_dates_check check (
        ends_on >= starts_on and ends_on - starts_on < 60
    )
);

-- Matching counts a local's open requests overlapping given dates; also the local_id
-- foreign key's index.
create index booking_requests_local_dates_idx
on public.booking_requests (local_id, starts_on, ends_on);
create index booking_requests_traveler_id_idx on public.booking_requests (traveler_id);
create index booking_requests_conversation_idx
on public.booking_requests (conversation_id, created_at desc);
create index booking_requests_itinerary_id_idx on public.booking_requests (itinerary_id);
create index booking_requests_currency_idx on public.booking_requests (currency);
-- Matching's open-request counts across all locals for a date range read only open rows.
create index booking_requests_open_dates_idx
on public.booking_requests (starts_on, ends_on) include (local_id, expires_at)
where status in ('requested', 'offered');
-- private.expire_bookings() walks only the open ones.
create index booking_requests_open_expiry_idx
on public.booking_requests (expires_at) where status in ('requested', 'offered');

-- The state machine: every status change a booking may make, and who may make it.
-- `system` is server-side code (jobs, the service, an admin), never a client.
create table private.booking_transitions (
    from_status public.booking_status not null,
    to_status public.booking_status not null,
    actor text not null check (actor in ('traveler', 'local', 'system')),
    primary key (from_status, to_status, actor)
);

alter table private.booking_transitions enable row level security;

insert into private.booking_transitions (from_status, to_status, actor) values
('requested', 'offered', 'local'),
('requested', 'declined', 'local'),
('requested', 'withdrawn', 'traveler'),
('requested', 'expired', 'system'),
-- A local may revise an open offer (new price, new expiry) or take it back.
('offered', 'offered', 'local'),
('offered', 'declined', 'local'),
('offered', 'accepted', 'traveler'),
('offered', 'withdrawn', 'traveler'),
('offered', 'expired', 'system'),
-- Before the first day either side may cancel; after the last day either may complete.
('accepted', 'cancelled', 'traveler'),
('accepted', 'cancelled', 'local'),
('accepted', 'cancelled', 'system'),
('accepted', 'completed', 'traveler'),
('accepted', 'completed', 'local'),
('accepted', 'completed', 'system');

-- =====================================================================
-- Tables: reviews
-- =====================================================================

-- After a completed booking each side reviews the other once. Blind: nobody but the
-- author sees a review until both are in (revealed_at is set then) or reveal_due_at has
-- passed; the policies compare reveal_due_at with now() themselves, so the deadline is
-- exact without a job. reveal_due_at is the booking's completed_at plus the blind period,
-- kept in step by trigger. The reviewed side may add one public reply once revealed.
create table public.reviews (
    id uuid primary key default gen_random_uuid(),
    booking_id uuid not null references public.booking_requests (id) on delete cascade,
    author_id uuid default auth.uid() references public.profiles (id) on delete set null,
    subject_id uuid references public.profiles (id) on delete set null,
    -- Which side is reviewed: 'local' = the traveler's review of the local.
    subject_role public.user_role not null,
    rating smallint not null check (rating between 1 and 5),
    body text check (char_length(body) <= 4000),
    created_at timestamptz not null default now(),
    reveal_due_at timestamptz not null,
    revealed_at timestamptz,
    reply text check (char_length(btrim(reply)) between 1 and 4000),
    replied_at timestamptz,
    constraint reviews_one_per_side unique (booking_id, subject_role),
    constraint reviews_reply_pair check ((reply is null) = (replied_at is null))
);

create index reviews_subject_idx on public.reviews (subject_id, created_at desc);
create index reviews_author_id_idx on public.reviews (author_id);
-- private.reveal_due_reviews() walks only the hidden ones.
create index reviews_hidden_due_idx on public.reviews (reveal_due_at) where revealed_at is null;

-- =====================================================================
-- Tables: response times (private: the raw material of response stats)
-- =====================================================================

-- Per conversation: when the traveler first wrote and when the local first answered.
-- Recorded by a trigger on messages; nobody else reads it.
create table private.response_times (
    conversation_id uuid primary key references public.conversations (id) on delete cascade,
    local_id uuid references public.profiles (id) on delete cascade,
    first_traveler_message_at timestamptz not null,
    first_local_reply_at timestamptz
);

create index response_times_local_idx
on private.response_times (local_id, first_traveler_message_at);

alter table private.response_times enable row level security;

-- =====================================================================
-- Views
-- =====================================================================

-- Bookings as clients should read them: effective_status says `expired` for an open
-- booking past its expiry even before private.expire_bookings() has marked it. Security
-- invoker, so the table's policies apply to the caller.
create view public.bookings with (security_invoker = true) as
select
    b.id,
    b.conversation_id,
    b.traveler_id,
    b.local_id,
    b.itinerary_id,
    b.starts_on,
    b.ends_on,
    b.group_size,
    b.message,
    b.status,
    b.expires_at,
    b.price_cents,
    b.currency,
    b.duration_minutes,
    b.meeting_point,
    b.offer_message,
    b.offered_at,
    b.accepted_at,
    b.cancelled_at,
    b.cancelled_by,
    b.completed_at,
    b.status_changed_at,
    b.created_at,
    b.updated_at,
    case
        when b.status in ('requested', 'offered') and b.expires_at <= now()
            then 'expired'::public.booking_status
        else b.status
    end as effective_status
from public.booking_requests as b;

-- =====================================================================
-- Grants
-- =====================================================================

-- Itineraries: the owner writes what a plan says; status beyond draft/shared/cancelled
-- is the database's (trigger). Items: ids may be chosen by clients (optimistic UI);
-- authorship and timestamps may not.
grant select, delete on public.itineraries to authenticated;
grant insert (id, title, city, starts_on, ends_on, status) on public.itineraries to authenticated;
grant update (title, city, starts_on, ends_on, status) on public.itineraries to authenticated;
grant select, delete on public.itinerary_shares to authenticated;
grant insert (itinerary_id, local_id, conversation_id) on public.itinerary_shares
to authenticated;
grant select, delete on public.itinerary_items to authenticated;
grant insert (
    id, itinerary_id, day_index, starts_at, duration_minutes, title, notes, place_name,
    latitude, longitude, position
) on public.itinerary_items to authenticated;
grant update (
    day_index, starts_at, duration_minutes, title, notes, place_name, latitude, longitude,
    position
) on public.itinerary_items to authenticated;

-- Bookings: a request names what the traveler wants; an answer changes the status and,
-- for an offer, its terms. Which of these a given update may touch is the trigger's call.
grant select on public.booking_requests to authenticated;
grant insert (conversation_id, itinerary_id, starts_on, ends_on, group_size, message)
on public.booking_requests to authenticated;
grant update (
    status, price_cents, currency, duration_minutes, meeting_point, offer_message, expires_at
) on public.booking_requests to authenticated;
grant select on public.bookings to authenticated;

-- Reviews: revealed reviews of locals are public; of travelers, for signed-in users.
grant select on public.reviews to anon, authenticated;
grant insert (booking_id, rating, body) on public.reviews to authenticated;
grant update (reply) on public.reviews to authenticated;

grant all on public.itineraries, public.itinerary_shares, public.itinerary_items
to service_role;
grant all on public.booking_requests, public.reviews to service_role;
grant select on public.bookings to service_role;

alter table public.itineraries enable row level security;
alter table public.itinerary_shares enable row level security;
alter table public.itinerary_items enable row level security;
alter table public.booking_requests enable row level security;
alter table public.reviews enable row level security;

-- =====================================================================
-- Visibility helpers (security definer: policies must not recurse into each other)
-- =====================================================================

-- Itineraries a person owns.
create or replace function private.owned_itinerary_ids(p_uid uuid)
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
    select i.id from public.itineraries as i where i.owner_id = p_uid
$$;

-- Itineraries shared with a person, unless they and the owner have blocked each other.
create or replace function private.shared_itinerary_ids(p_uid uuid)
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
    select s.itinerary_id
    from public.itinerary_shares as s
    inner join public.itineraries as i on s.itinerary_id = i.id
    where s.local_id = p_uid and not private.is_blocked(s.local_id, i.owner_id)
$$;

-- Itineraries a person may read and whose items they may add and edit.
create or replace function private.visible_itinerary_ids(p_uid uuid)
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
    select private.owned_itinerary_ids(p_uid)
    union all
    select private.shared_itinerary_ids(p_uid)
$$;

-- Completed bookings a person took part in: the ones they may review.
create or replace function private.reviewable_booking_ids(p_uid uuid)
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
    select b.id from public.booking_requests as b
    where (b.traveler_id = p_uid or b.local_id = p_uid) and b.status = 'completed'
$$;

-- The actors allowed to move a booking from one status to another (empty: no such move).
create or replace function private.booking_transition_actors(
    p_from public.booking_status, p_to public.booking_status
)
returns text[]
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(array_agg(t.actor order by t.actor), '{}')
    from private.booking_transitions as t
    where t.from_status = p_from and t.to_status = p_to
$$;

revoke all on function private.owned_itinerary_ids(uuid) from public;
revoke all on function private.shared_itinerary_ids(uuid) from public;
revoke all on function private.visible_itinerary_ids(uuid) from public;
revoke all on function private.reviewable_booking_ids(uuid) from public;
revoke all on function private.booking_transition_actors(
    public.booking_status, public.booking_status
) from public;
grant execute on function private.owned_itinerary_ids(uuid) to authenticated;
grant execute on function private.shared_itinerary_ids(uuid) to authenticated;
grant execute on function private.visible_itinerary_ids(uuid) to authenticated;
grant execute on function private.reviewable_booking_ids(uuid) to authenticated;
grant execute on function private.booking_transition_actors(
    public.booking_status, public.booking_status
) to authenticated, service_role;

-- =====================================================================
-- Triggers: itineraries and items
-- =====================================================================

-- Clients choose only draft, shared or cancelled; a trip never becomes shorter than the
-- items planned on it. Security invoker: `current_user` tells clients apart.
create or replace function private.prepare_itinerary()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if current_user in ('anon', 'authenticated')
        and new.status not in ('draft', 'shared', 'cancelled')
        and (tg_op = 'INSERT' or new.status is distinct from old.status) then
        raise exception 'an itinerary becomes % through its booking', new.status
            using errcode = '42501', detail = 'protected_field',
            hint = 'Set draft, shared or cancelled.';
    end if;
    if tg_op = 'UPDATE' then
        if exists (
            select 1 from public.itinerary_items as it
            where it.itinerary_id = new.id and it.day_index > new.ends_on - new.starts_on
        ) then
            raise exception 'some items are planned after the new last day'
                using errcode = '22023', detail = 'items_outside_trip';
        end if;
        new.updated_at := pg_catalog.now();
    end if;
    return new;
end
$$;

-- Authorship, timestamps and a default position at the end of the day. Security invoker:
-- the caller's own view of the itinerary decides whether the day exists.
create or replace function private.prepare_itinerary_item()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    _uid uuid := (select auth.uid());
    _client boolean := current_user in ('anon', 'authenticated');
    _days integer;
begin
    if tg_op = 'INSERT' then
        new.created_at := pg_catalog.now();
        if _client or new.created_by is null then
            new.created_by := _uid;
        end if;
        if new.position is null then
            select coalesce(max(it.position), 0) + 1 into new.position
            from public.itinerary_items as it
            where it.itinerary_id = new.itinerary_id and it.day_index = new.day_index;
        end if;
    else
        if _client and (
            new.id <> old.id or new.itinerary_id <> old.itinerary_id
            or new.created_by is distinct from old.created_by
            or new.created_at <> old.created_at
        ) then
            raise exception 'an item stays in its itinerary and keeps its author'
                using errcode = '42501', detail = 'protected_field';
        end if;
        new.position := coalesce(new.position, old.position);
    end if;
    if _client or new.updated_by is null then
        new.updated_by := _uid;
    end if;
    new.updated_at := pg_catalog.now();
    select i.ends_on - i.starts_on into _days
    from public.itineraries as i
    where i.id = new.itinerary_id;
    if _days is not null and new.day_index > _days then
        raise exception 'day % is after the last day of the trip (day %)', new.day_index, _days
            using errcode = '22023', detail = 'day_outside_trip';
    end if;
    return new;
end
$$;

-- Tell every conversation an itinerary is shared into that the itinerary or one of its
-- items changed. A share or an unshare is news only to the conversation concerned (the
-- other locals do not learn whom else the owner shares with).
-- Payload: {itinerary_id, table, operation, item_id}.
create or replace function private.publish_itinerary_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    _row jsonb := pg_catalog.to_jsonb(case when tg_op = 'DELETE' then old else new end);
    _itinerary uuid;
    _conversation uuid;
begin
    _itinerary := case
        when tg_table_name = 'itineraries' then (_row ->> 'id')::uuid
        else (_row ->> 'itinerary_id')::uuid
    end;
    -- Items deleted along with their itinerary are no news of their own.
    if tg_table_name = 'itinerary_items'
        and not exists (select 1 from public.itineraries as i where i.id = _itinerary) then
        return null;
    end if;
    for _conversation in
        select s.conversation_id from public.itinerary_shares as s
        where s.itinerary_id = _itinerary and tg_table_name <> 'itinerary_shares'
        union all
        select (_row ->> 'conversation_id')::uuid where tg_table_name = 'itinerary_shares'
    loop
        perform realtime.send(
            pg_catalog.jsonb_build_object(
                'itinerary_id', _itinerary,
                'table', tg_table_name,
                'operation', tg_op,
                'item_id', case when tg_table_name = 'itinerary_items' then _row -> 'id' end
            ),
            'itinerary.updated',
            'conversation:' || _conversation::text,
            true
        );
    end loop;
    return null;
end
$$;

revoke all on function private.prepare_itinerary() from public;
revoke all on function private.prepare_itinerary_item() from public;
revoke all on function private.publish_itinerary_change() from public;

create trigger itineraries_prepare
before insert or update on public.itineraries
for each row execute function private.prepare_itinerary();

create trigger itineraries_publish
after update on public.itineraries
for each row execute function private.publish_itinerary_change();

create trigger itinerary_items_prepare
before insert or update on public.itinerary_items
for each row execute function private.prepare_itinerary_item();

create trigger itinerary_items_publish
after insert or update or delete on public.itinerary_items
for each row execute function private.publish_itinerary_change();

create trigger itinerary_shares_publish
after insert or delete on public.itinerary_shares
for each row execute function private.publish_itinerary_change();

-- =====================================================================
-- Triggers: bookings
-- =====================================================================

-- A new request: the parties come from the conversation, the status is `requested` and
-- the expiry is the configured time from now, whatever the client sent. Security
-- invoker: what the caller can see of the conversation is what counts.
create or replace function private.prepare_booking_request()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    _conversation public.conversations;
    _max_group smallint;
    _accepting boolean;
begin
    if current_user not in ('anon', 'authenticated') then
        -- Server-side writers (seeds, the service) may set what they like; fill the rest.
        new.expires_at := coalesce(
            new.expires_at,
            pg_catalog.now()
            + pg_catalog.make_interval(hours => private.setting_int('booking_request_ttl_hours'))
        );
        if new.traveler_id is null and new.local_id is null then
            select c.traveler_id, c.local_id into new.traveler_id, new.local_id
            from public.conversations as c where c.id = new.conversation_id;
        end if;
        return new;
    end if;

    select c.* into _conversation
    from public.conversations as c
    where c.id = new.conversation_id;
    -- An invisible conversation leaves the parties null and RLS refuses the row.
    new.traveler_id := _conversation.traveler_id;
    new.local_id := _conversation.local_id;
    new.status := 'requested';
    new.expires_at := pg_catalog.now()
    + pg_catalog.make_interval(hours => private.setting_int('booking_request_ttl_hours'));
    new.price_cents := null;
    new.currency := null;
    new.duration_minutes := null;
    new.meeting_point := null;
    new.offer_message := null;
    new.offered_at := null;
    new.accepted_at := null;
    new.cancelled_at := null;
    new.cancelled_by := null;
    new.completed_at := null;
    new.status_changed_at := pg_catalog.now();
    new.created_at := pg_catalog.now();
    new.updated_at := pg_catalog.now();
    if _conversation.id is null or _conversation.traveler_id is distinct from (select auth.uid()) then
        return new;
    end if;

    if private.is_blocked(_conversation.traveler_id, _conversation.local_id) then
        raise exception 'you cannot book with this person'
            using errcode = '42501', detail = 'blocked';
    end if;
    if new.starts_on < current_date then
        raise exception 'the trip cannot start in the past'
            using errcode = '22023', detail = 'dates_in_past';
    end if;
    select lc.max_group_size, lc.accepting_requests into _max_group, _accepting
    from public.local_cards as lc
    where lc.profile_id = _conversation.local_id;
    if not coalesce(_accepting, false) then
        raise exception 'this local is not accepting requests'
            using errcode = '22023', detail = 'local_not_accepting';
    end if;
    if new.group_size > _max_group then
        raise exception 'this local takes groups of at most %', _max_group
            using errcode = '22023', detail = 'group_too_large';
    end if;
    if exists (
        select 1 from public.booking_requests as b
        where b.conversation_id = new.conversation_id
            and b.status in ('requested', 'offered')
            and b.expires_at > pg_catalog.now()
    ) then
        raise exception 'this conversation already has an open request'
            using errcode = '22023', detail = 'booking_already_open',
            hint = 'Withdraw it or wait for the local''s answer.';
    end if;
    return new;
end
$$;

-- The single authority over booking status. Every update goes through here: the move must
-- be in private.booking_transitions for the caller's side, an open booking past its
-- expiry can only expire, each move checks its own rules, and a client may change nothing
-- but the move itself (and, for an offer, its terms). Security invoker: `current_user`
-- tells clients from server-side code, auth.uid() tells the traveler from the local.
create or replace function private.transition_booking()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    _uid uuid := (select auth.uid());
    _client boolean := current_user in ('anon', 'authenticated');
    _actor text;
    _actors text[];
    _offer_columns constant text[] := array[
        'status', 'price_cents', 'currency', 'duration_minutes', 'meeting_point',
        'offer_message', 'expires_at'
    ];
    _expired boolean := old.status in ('requested', 'offered') and old.expires_at <= pg_catalog.now();
begin
    -- Server-side upkeep that is not a move (account deletion, tests ageing rows).
    if not _client and new.status = old.status then
        return new;
    end if;

    -- Server-side code acts as `system` whatever claims the transaction carries, so a job
    -- or the service never borrows a party's rights (or a party a job's).
    _actor := case
        when not _client then 'system'
        when _uid = old.traveler_id then 'traveler'
        when _uid = old.local_id then 'local'
    end;
    _actors := private.booking_transition_actors(old.status, new.status);
    if cardinality(_actors) = 0 then
        raise exception 'a % booking cannot become %', old.status, new.status
            using errcode = '22023', detail = 'illegal_transition';
    end if;
    if _actor is null or not _actor = any(_actors) then
        raise exception 'only the % can make a % booking %',
            pg_catalog.array_to_string(_actors, ' or '), old.status, new.status
            using errcode = '42501', detail = 'wrong_actor';
    end if;
    if _expired and new.status <> 'expired' then
        raise exception 'this booking expired at %', old.expires_at
            using errcode = '22023', detail = 'booking_expired';
    end if;
    if new.status = 'expired' and not _expired then
        raise exception 'this booking is open until %', old.expires_at
            using errcode = '22023', detail = 'booking_not_expired';
    end if;
    if _client and (
        pg_catalog.to_jsonb(new)
        - case when new.status = 'offered' then _offer_columns else array['status'] end
    ) <> (
        pg_catalog.to_jsonb(old)
        - case when new.status = 'offered' then _offer_columns else array['status'] end
    ) then
        raise exception 'only the status (and an offer''s terms) can change'
            using errcode = '42501', detail = 'protected_field';
    end if;

    if new.status = 'offered' then
        if new.price_cents is null or new.currency is null or new.duration_minutes is null then
            raise exception 'an offer needs a price, a currency and a duration'
                using errcode = '22023', detail = 'offer_incomplete';
        end if;
        if new.expires_at is not distinct from old.expires_at then
            new.expires_at := pg_catalog.now()
            + pg_catalog.make_interval(hours => private.setting_int('booking_offer_ttl_hours'));
        elsif new.expires_at <= pg_catalog.now()
            or new.expires_at > pg_catalog.now()
            + pg_catalog.make_interval(days => private.setting_int('booking_offer_max_days')) then
            raise exception 'an offer must expire within % days',
                private.setting_int('booking_offer_max_days')
                using errcode = '22023', detail = 'offer_expiry_invalid';
        end if;
        new.offered_at := pg_catalog.now();
    end if;
    if new.status in ('offered', 'accepted') and private.is_blocked(old.traveler_id, old.local_id) then
        raise exception 'you cannot book with this person'
            using errcode = '42501', detail = 'blocked';
    end if;
    if new.status = 'accepted' then
        if current_date > old.starts_on then
            raise exception 'this trip has already started'
                using errcode = '22023', detail = 'booking_started';
        end if;
        new.accepted_at := pg_catalog.now();
    elsif new.status = 'cancelled' then
        if current_date >= old.starts_on then
            raise exception 'a booking can be cancelled only before its first day'
                using errcode = '22023', detail = 'booking_started';
        end if;
        new.cancelled_at := pg_catalog.now();
        new.cancelled_by := _actor;
    elsif new.status = 'completed' then
        if current_date <= old.ends_on then
            raise exception 'a booking can be completed only after its last day'
                using errcode = '22023', detail = 'booking_not_finished';
        end if;
        new.completed_at := pg_catalog.now();
    end if;
    new.status_changed_at := pg_catalog.now();
    new.updated_at := pg_catalog.now();
    return new;
end
$$;

-- What a booking change sets in motion. Accepting unlocks contact details in the
-- conversation (from then on, for good), posts a system message as the server, and
-- confirms a linked itinerary; completing completes it; cancelling un-confirms it.
-- A request with an itinerary shares that itinerary with the local. Every change is
-- broadcast as `booking.updated` to the conversation topic (both parties read every
-- column, so the payload is the row).
create or replace function private.publish_booking()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    _people text;
    _dates text;
begin
    if tg_op = 'INSERT' and new.itinerary_id is not null and new.local_id is not null then
        insert into public.itinerary_shares (itinerary_id, local_id, conversation_id)
        values (new.itinerary_id, new.local_id, new.conversation_id)
        on conflict do nothing;
    end if;

    if tg_op = 'UPDATE' and new.status is distinct from old.status then
        if new.status = 'accepted' then
            update public.conversations as c
            set contact_unlocked_at = pg_catalog.now()
            where c.id = new.conversation_id and c.contact_unlocked_at is null;
            _dates := pg_catalog.to_char(new.starts_on, 'FMDD Mon YYYY');
            if new.ends_on <> new.starts_on then
                _dates := _dates || ' – ' || pg_catalog.to_char(new.ends_on, 'FMDD Mon YYYY');
            end if;
            _people := new.group_size::text
            || case when new.group_size = 1 then ' person' else ' people' end;
            insert into public.messages (conversation_id, sender_id, kind, body)
            values (
                new.conversation_id, null, 'system',
                'Booking confirmed: ' || _dates || ', ' || _people
            );
            update public.itineraries as i set status = 'confirmed'
            where i.id = new.itinerary_id and i.status <> 'confirmed';
        elsif new.status = 'completed' then
            update public.itineraries as i set status = 'completed'
            where i.id = new.itinerary_id and i.status <> 'completed';
        elsif new.status = 'cancelled' then
            update public.itineraries as i
            set status = case
                when exists (select 1 from public.itinerary_shares as s where s.itinerary_id = i.id)
                    then 'shared'::public.itinerary_status
                else 'draft'::public.itinerary_status
            end
            where i.id = new.itinerary_id and i.status = 'confirmed';
        end if;
    end if;

    -- Reviews' deadline follows the completion time (also when an admin corrects it).
    if tg_op = 'UPDATE' and new.completed_at is distinct from old.completed_at
        and new.completed_at is not null then
        update public.reviews as r
        set reveal_due_at = new.completed_at
        + pg_catalog.make_interval(days => private.setting_int('review_blind_days'))
        where r.booking_id = new.id;
    end if;

    perform realtime.send(
        pg_catalog.to_jsonb(new) || pg_catalog.jsonb_build_object('operation', tg_op),
        'booking.updated',
        'conversation:' || new.conversation_id::text,
        true
    );
    return null;
end
$$;

revoke all on function private.prepare_booking_request() from public;
revoke all on function private.transition_booking() from public;
revoke all on function private.publish_booking() from public;

create trigger booking_requests_prepare
before insert on public.booking_requests
for each row execute function private.prepare_booking_request();

create trigger booking_requests_transition
before update on public.booking_requests
for each row execute function private.transition_booking();

create trigger booking_requests_publish
after insert or update on public.booking_requests
for each row execute function private.publish_booking();

-- =====================================================================
-- Ratings (security definer: local_profiles' rating fields are not the client's)
-- =====================================================================

-- A local's rating from their REVEALED reviews only: counting a hidden review would let
-- anyone read it off the average. The card follows through local_profiles' own trigger.
create or replace function private.refresh_local_rating(p_local_id uuid)
returns void
language sql
security definer
set search_path = ''
as $$
    update public.local_profiles as lp
    set rating_avg = agg.rating_avg, rating_count = agg.rating_count
    from (
        select
            round(avg(r.rating), 2) as rating_avg,
            count(*)::integer as rating_count
        from public.reviews as r
        where r.subject_id = p_local_id
            and r.subject_role = 'local'
            and (r.revealed_at is not null or r.reveal_due_at <= pg_catalog.now())
    ) as agg
    where lp.profile_id = p_local_id
        and (lp.rating_avg, lp.rating_count) is distinct from (agg.rating_avg, agg.rating_count)
$$;

-- Mark every hidden review past its deadline as revealed and refresh the ratings it
-- touches. For pg_cron; reading is already correct without it.
create or replace function private.reveal_due_reviews()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    _count integer;
    _locals uuid[];
    _local uuid;
begin
    with revealed as (
        update public.reviews as r
        set revealed_at = pg_catalog.now()
        where r.revealed_at is null and r.reveal_due_at <= pg_catalog.now()
        returning r.subject_id, r.subject_role
    )

    select
        count(*)::integer,
        coalesce(
            array_agg(distinct subject_id) filter (
                where subject_role = 'local' and subject_id is not null
            ),
            '{}'
        )
    into _count, _locals
    from revealed;
    foreach _local in array _locals loop
        perform private.refresh_local_rating(_local);
    end loop;
    return _count;
end
$$;

revoke all on function private.refresh_local_rating(uuid) from public;
revoke all on function private.reveal_due_reviews() from public;

-- =====================================================================
-- Triggers: reviews
-- =====================================================================

-- A new review: its author is the caller, its subject the other side of a completed
-- booking, within the blind period after completion (a late review could answer a
-- revealed one, which is what blind reviews prevent). Security invoker.
create or replace function private.prepare_review()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    _client boolean := current_user in ('anon', 'authenticated');
    _booking public.booking_requests;
begin
    select b.* into _booking from public.booking_requests as b where b.id = new.booking_id;
    if _client then
        new.author_id := (select auth.uid());
        new.created_at := pg_catalog.now();
        new.revealed_at := null;
        new.reply := null;
        new.replied_at := null;
    end if;
    if new.author_id is not distinct from _booking.traveler_id then
        new.subject_id := _booking.local_id;
        new.subject_role := 'local';
    elsif new.author_id is not distinct from _booking.local_id then
        new.subject_id := _booking.traveler_id;
        new.subject_role := 'traveler';
    end if;
    new.subject_role := coalesce(new.subject_role, 'local');
    new.reveal_due_at := coalesce(
        _booking.completed_at
        + pg_catalog.make_interval(days => private.setting_int('review_blind_days')),
        pg_catalog.now()
    );
    -- A booking the caller cannot see is not theirs: RLS refuses the row. Server-side
    -- writers (seeds, admin tools) are trusted with the rules below, which also lets them
    -- insert with `on conflict do nothing` (BEFORE triggers run before the conflict check).
    if not _client or _booking.id is null then
        return new;
    end if;
    if _booking.status <> 'completed' then
        raise exception 'reviews open when the booking is completed'
            using errcode = '22023', detail = 'booking_not_completed';
    end if;
    if new.reveal_due_at <= pg_catalog.now() then
        raise exception 'reviews for this booking closed on %', new.reveal_due_at
            using errcode = '22023', detail = 'review_window_closed';
    end if;
    if exists (
        select 1 from public.reviews as r
        where r.booking_id = new.booking_id and r.subject_role = new.subject_role
    ) then
        raise exception 'you already reviewed this booking'
            using errcode = '23505', detail = 'already_reviewed';
    end if;
    return new;
end
$$;

-- The second review of a booking reveals both, and a revealed review of a local moves
-- their rating. The booking row is locked first so that two reviews arriving together
-- are counted one after the other.
create or replace function private.reveal_reviews_on_insert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    _local uuid;
begin
    perform 1 from public.booking_requests as b where b.id = new.booking_id for update;
    if (select count(*) from public.reviews as r where r.booking_id = new.booking_id) < 2 then
        return null;
    end if;
    update public.reviews as r
    set revealed_at = pg_catalog.now()
    where r.booking_id = new.booking_id and r.revealed_at is null;
    select r.subject_id into _local
    from public.reviews as r
    where r.booking_id = new.booking_id and r.subject_role = 'local';
    if _local is not null then
        perform private.refresh_local_rating(_local);
    end if;
    return null;
end
$$;

-- The reviewed side replies once, to a revealed review; nothing else changes.
create or replace function private.prepare_review_reply()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if current_user not in ('anon', 'authenticated') then
        new.replied_at := case
            when new.reply is not distinct from old.reply then old.replied_at
            when new.reply is not null then pg_catalog.now()
        end;
        return new;
    end if;
    if old.reply is not null then
        raise exception 'you already replied to this review'
            using errcode = '22023', detail = 'already_replied';
    end if;
    if old.revealed_at is null and old.reveal_due_at > pg_catalog.now() then
        raise exception 'replies open when the review is revealed'
            using errcode = '22023', detail = 'review_not_revealed';
    end if;
    new.replied_at := case when new.reply is not null then pg_catalog.now() end;
    return new;
end
$$;

revoke all on function private.prepare_review() from public;
revoke all on function private.reveal_reviews_on_insert() from public;
revoke all on function private.prepare_review_reply() from public;

create trigger reviews_prepare
before insert on public.reviews
for each row execute function private.prepare_review();

create trigger reviews_reveal
after insert on public.reviews
for each row execute function private.reveal_reviews_on_insert();

create trigger reviews_prepare_reply
before update on public.reviews
for each row execute function private.prepare_review_reply();

-- =====================================================================
-- Response stats (computed from messages by the database)
-- =====================================================================

-- A local's response_rate (share of conversations of the last N days where their first
-- reply came within the response window; conversations still inside that window with
-- no reply yet are not counted either way) and median_response_minutes (of first replies).
create or replace function private.refresh_local_response_stats(p_local_id uuid)
returns void
language sql
security definer
set search_path = ''
as $$
    update public.local_profiles as lp
    set response_rate = stats.response_rate,
        median_response_minutes = stats.median_minutes
    from (
        select
            round(
                (count(*) filter (where rt.first_local_reply_at - rt.first_traveler_message_at <= w.window_))::numeric
                / nullif(
                    count(*) filter (
                        where rt.first_local_reply_at - rt.first_traveler_message_at <= w.window_
                        or rt.first_traveler_message_at <= pg_catalog.now() - w.window_
                    ),
                    0
                ),
                3
            ) as response_rate,
            round(
                percentile_cont(0.5) within group (
                    order by extract(epoch from rt.first_local_reply_at - rt.first_traveler_message_at) / 60
                )
            )::integer as median_minutes
        from (
            select
                pg_catalog.make_interval(hours => private.setting_int('response_window_hours')) as window_,
                pg_catalog.make_interval(days => private.setting_int('response_stats_days')) as period
        ) as w
        left join private.response_times as rt
            on
                rt.local_id = p_local_id
                and rt.first_traveler_message_at > pg_catalog.now() - w.period
    ) as stats
    where lp.profile_id = p_local_id
        and (lp.response_rate, lp.median_response_minutes)
        is distinct from (stats.response_rate, stats.median_minutes)
$$;

-- Recompute every local with tracked conversations: conversations age out of the
-- period and unanswered ones cross the response window with no message to trigger it.
-- For pg_cron. Returns how many locals were looked at.
create or replace function private.refresh_response_stats()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    _local uuid;
    _count integer := 0;
begin
    for _local in select distinct rt.local_id from private.response_times as rt where rt.local_id is not null
    loop
        perform private.refresh_local_response_stats(_local);
        _count := _count + 1;
    end loop;
    return _count;
end
$$;

-- After a message: the traveler's first message opens the clock, the local's first reply
-- stops it and refreshes their stats. System messages and the service's own are ignored.
create or replace function private.track_response_time()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    _traveler uuid;
    _local uuid;
begin
    if new.kind = 'system' or new.sender_id is null then
        return null;
    end if;
    select c.traveler_id, c.local_id into _traveler, _local
    from public.conversations as c
    where c.id = new.conversation_id;
    if new.sender_id = _traveler then
        insert into private.response_times (conversation_id, local_id, first_traveler_message_at)
        values (new.conversation_id, _local, new.created_at)
        on conflict (conversation_id) do nothing;
    elsif new.sender_id = _local then
        update private.response_times as rt
        set first_local_reply_at = new.created_at
        where rt.conversation_id = new.conversation_id and rt.first_local_reply_at is null;
        if found then
            perform private.refresh_local_response_stats(_local);
        end if;
    end if;
    return null;
end
$$;

revoke all on function private.refresh_local_response_stats(uuid) from public;
revoke all on function private.refresh_response_stats() from public;
revoke all on function private.track_response_time() from public;

create trigger messages_track_response_time
after insert on public.messages
for each row execute function private.track_response_time();

-- =====================================================================
-- Jobs
-- =====================================================================

-- Mark open bookings past their expiry as expired (each one broadcasts booking.updated).
-- For pg_cron; the transition trigger and the bookings view are right without it.
create or replace function private.expire_bookings()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    _count integer;
begin
    update public.booking_requests as b
    set status = 'expired'
    where b.status in ('requested', 'offered') and b.expires_at <= pg_catalog.now();
    get diagnostics _count = row_count;
    return _count;
end
$$;

revoke all on function private.expire_bookings() from public;

-- =====================================================================
-- RPCs (security invoker: each performs one write under RLS; the triggers decide)
-- =====================================================================

-- The calling traveler asks the local of a conversation for dates and a group size.
create or replace function public.request_booking(
    p_conversation_id uuid,
    p_starts_on date,
    p_ends_on date,
    p_group_size integer,
    p_message text default null,
    p_itinerary_id uuid default null
)
returns public.booking_requests
language sql
set search_path = ''
as $$
    insert into public.booking_requests (
        conversation_id, starts_on, ends_on, group_size, message, itinerary_id
    )
    values (
        p_conversation_id, p_starts_on, p_ends_on, p_group_size, p_message, p_itinerary_id
    )
    returning *
$$;

-- Moves one visible booking to a status; 22023 booking_not_found when the caller cannot
-- see it. The shared body of the answer RPCs below.
create or replace function private.move_booking(
    p_booking_id uuid, p_status public.booking_status
)
returns public.booking_requests
language plpgsql
set search_path = ''
as $$
declare
    _row public.booking_requests;
begin
    update public.booking_requests as b
    set status = p_status
    where b.id = p_booking_id
    returning b.* into _row;
    if not found then
        raise exception 'booking not found'
            using errcode = '22023', detail = 'booking_not_found';
    end if;
    return _row;
end
$$;

revoke all on function private.move_booking(uuid, public.booking_status) from public;
grant execute on function private.move_booking(uuid, public.booking_status) to authenticated;

-- The local offers terms (or revises an open offer). A null currency means the local's own;
-- expiry to booking_offer_ttl_hours from now.
create or replace function public.make_offer(
    p_booking_id uuid,
    p_price_cents integer,
    p_currency text,
    p_duration_minutes integer,
    p_meeting_point text default null,
    p_expires_at timestamptz default null,
    p_message text default null
)
returns public.booking_requests
language plpgsql
set search_path = ''
as $$
declare
    _row public.booking_requests;
begin
    update public.booking_requests as b
    set status = 'offered',
        price_cents = p_price_cents,
        duration_minutes = p_duration_minutes,
        currency = coalesce(p_currency, (
            select lp.currency from public.local_profiles as lp
            where lp.profile_id = (select auth.uid())
        )),
        meeting_point = p_meeting_point,
        offer_message = p_message,
        expires_at = coalesce(p_expires_at, b.expires_at)
    where b.id = p_booking_id
    returning b.* into _row;
    if not found then
        raise exception 'booking not found'
            using errcode = '22023', detail = 'booking_not_found';
    end if;
    return _row;
end
$$;

create or replace function public.decline_booking(p_booking_id uuid)
returns public.booking_requests
language sql
set search_path = ''
as $$
    select private.move_booking(p_booking_id, 'declined')
$$;

create or replace function public.accept_offer(p_booking_id uuid)
returns public.booking_requests
language sql
set search_path = ''
as $$
    select private.move_booking(p_booking_id, 'accepted')
$$;

create or replace function public.withdraw_booking(p_booking_id uuid)
returns public.booking_requests
language sql
set search_path = ''
as $$
    select private.move_booking(p_booking_id, 'withdrawn')
$$;

create or replace function public.cancel_booking(p_booking_id uuid)
returns public.booking_requests
language sql
set search_path = ''
as $$
    select private.move_booking(p_booking_id, 'cancelled')
$$;

create or replace function public.complete_booking(p_booking_id uuid)
returns public.booking_requests
language sql
set search_path = ''
as $$
    select private.move_booking(p_booking_id, 'completed')
$$;

grant execute on function public.request_booking(uuid, date, date, integer, text, uuid)
to authenticated;
grant execute on function public.make_offer(
    uuid, integer, text, integer, text, timestamptz, text
) to authenticated;
grant execute on function public.decline_booking(uuid) to authenticated;
grant execute on function public.accept_offer(uuid) to authenticated;
grant execute on function public.withdraw_booking(uuid) to authenticated;
grant execute on function public.cancel_booking(uuid) to authenticated;
grant execute on function public.complete_booking(uuid) to authenticated;
