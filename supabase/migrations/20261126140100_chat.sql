-- Chat: conversations between a traveler and a local, their messages, read state, and
-- delivery over Supabase Realtime private channels.
--
-- The frontend does all of this through supabase-js (table reads/writes, RPCs, channels);
-- the service is not in the path. Messages persist here; triggers broadcast them to the
-- private topic `conversation:<id>` and an inbox event to `user:<uid>` for each
-- participant (Broadcast from the database, Supabase's advice for scale). Policies:
-- supabase/policies/chat.sql and supabase/policies/realtime.sql.
--
-- Account deletion: a person's profile row goes, their words stay. Conversations and
-- messages keep the other party's view; the deleted side's ids become null.

-- =====================================================================
-- Settings
-- =====================================================================

-- Tunables the database itself enforces, changeable by an admin without a deploy:
--   update private.app_settings set setting_value = '60'
--   where setting_name = 'chat_messages_per_minute';
create table private.app_settings (
    setting_name text primary key,
    setting_value jsonb not null,
    description text not null
);

alter table private.app_settings enable row level security;

insert into private.app_settings (setting_name, setting_value, description) values
(
    'chat_messages_per_minute', '30',
    'Flood guard: most messages one sender may send within one clock minute.'
),
(
    'chat_edit_window_minutes', '15',
    'How long after sending a message its author may still edit it.'
),
(
    'chat_unsend_window_hours', '24',
    'How long after sending a message its author may still unsend it.'
);

-- plpgsql rather than sql here and in the other helpers on the message path: a
-- non-inlinable SQL function is planned again on every call, plpgsql caches its plans
-- (measured: the posting check went from ~400 to ~60 microseconds).
create or replace function private.setting_int(p_key text)
returns integer
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select (s.setting_value #>> '{}')::integer
        from private.app_settings as s
        where s.setting_name = p_key
    );
end
$$;

revoke all on function private.setting_int(text) from public;
grant execute on function private.setting_int(text) to authenticated, service_role;

-- =====================================================================
-- Types
-- =====================================================================

create type public.message_kind as enum ('text', 'attachment', 'system');

-- =====================================================================
-- Tables
-- =====================================================================

-- One conversation per traveler and local. `contact_unlocked_at` is the single switch
-- for contact masking: null until a booking in this conversation is accepted (the trips
-- capability sets it), after which messages are stored as written.
create table public.conversations (
    id uuid primary key default gen_random_uuid(),
    traveler_id uuid references public.profiles (id) on delete set null,
    local_id uuid references public.profiles (id) on delete set null,
    created_at timestamptz not null default now(),
    last_message_at timestamptz,
    last_message_preview text,
    last_message_sender_id uuid,
    contact_unlocked_at timestamptz,
    constraint conversations_pair_key unique (traveler_id, local_id),
    constraint conversations_not_self check (traveler_id <> local_id)
);

create index conversations_local_id_idx on public.conversations (local_id);

-- Who takes part, and how far each has read. The membership index every chat policy
-- uses, and the per-person read state behind unread counts and read receipts.
create table public.conversation_participants (
    conversation_id uuid not null references public.conversations (id) on delete cascade,
    profile_id uuid not null references public.profiles (id) on delete cascade,
    unread_count integer not null default 0 check (unread_count >= 0),
    last_read_at timestamptz,
    last_read_message_id uuid,
    primary key (conversation_id, profile_id)
);

create index conversation_participants_profile_idx
on public.conversation_participants (profile_id, conversation_id);

create table public.messages (
    id uuid primary key default gen_random_uuid(),
    conversation_id uuid not null references public.conversations (id) on delete cascade,
    sender_id uuid default auth.uid() references public.profiles (id) on delete set null,
    kind public.message_kind not null default 'text',
    body text,
    attachment_path text check (char_length(attachment_path) <= 300),
    created_at timestamptz not null default now(),
    edited_at timestamptz,
    deleted_at timestamptz,
    masked boolean not null default false,
    -- A live message has 1 to 4,000 characters; an unsent one keeps no text.
    constraint messages_body_check check (
        (deleted_at is null and char_length(body) between 1 and 4000)
        or (deleted_at is not null and body is null)
    ),
    constraint messages_attachment_check check (
        (kind = 'attachment') = (attachment_path is not null)
    )
);

-- History pages walk (created_at, id) backwards within a conversation.
create index messages_history_idx on public.messages (conversation_id, created_at desc, id desc);
-- A sender's messages by time (the sender_id foreign key's index).
create index messages_sender_recent_idx on public.messages (sender_id, created_at desc);

-- Reports may now name the message they are about.
alter table public.reports
add constraint reports_message_id_fkey
foreign key (message_id) references public.messages (id) on delete set null;

create index reports_message_id_idx on public.reports (message_id);

-- =====================================================================
-- Grants
-- =====================================================================

-- Conversations are started through start_conversation (it inserts as the caller, under
-- RLS) and are otherwise read-only to clients; the server-kept columns are nobody's to set.
grant select on public.conversations to authenticated;
grant insert (traveler_id, local_id) on public.conversations to authenticated;
grant select on public.conversation_participants to authenticated;
grant update (last_read_at, last_read_message_id, unread_count)
on public.conversation_participants to authenticated;
-- A client writes a text message as itself; kind, masking and timestamps are the
-- database's. Editing touches the body, unsending sets deleted_at; nothing is deleted.
grant select on public.messages to authenticated;
grant insert (id, conversation_id, sender_id, body) on public.messages to authenticated;
grant update (body, deleted_at) on public.messages to authenticated;
grant all on public.conversations, public.conversation_participants, public.messages
to service_role;

alter table public.conversations enable row level security;
alter table public.conversation_participants enable row level security;
alter table public.messages enable row level security;

-- =====================================================================
-- Membership helpers (security definer: policies must not recurse into themselves)
-- =====================================================================

-- The conversations a person takes part in. Policies call it as
-- `conversation_id in (select private.conversation_ids_of((select auth.uid())))`, which
-- Postgres evaluates once per statement.
create or replace function private.conversation_ids_of(p_uid uuid)
returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query
        select cp.conversation_id
        from public.conversation_participants as cp
        where cp.profile_id = p_uid;
end
$$;

-- Everyone a person shares a conversation with (whose profile they may therefore read).
create or replace function private.conversation_partner_ids(p_uid uuid)
returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query
        select other.profile_id
        from public.conversation_participants as mine
        inner join public.conversation_participants as other
            on mine.conversation_id = other.conversation_id
        where mine.profile_id = p_uid and other.profile_id <> p_uid;
end
$$;

-- True when the two sides of a conversation have blocked each other either way.
create or replace function private.conversation_is_blocked(p_conversation_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select coalesce((
            select private.is_blocked(c.traveler_id, c.local_id)
            from public.conversations as c
            where c.id = p_conversation_id
        ), false)
    );
end
$$;

-- Realtime topic check: `conversation:<uuid>` whose participants include p_uid and whose
-- two sides have not blocked each other.
create or replace function private.may_use_conversation_topic(p_topic text, p_uid uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    _id uuid;
begin
    if p_uid is null
        or p_topic is null
        or p_topic !~ '^conversation:[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' then
        return false;
    end if;
    _id := pg_catalog.substr(p_topic, 14)::uuid;
    return exists (
        select 1 from public.conversation_participants as cp
        where cp.conversation_id = _id and cp.profile_id = p_uid
    ) and not private.conversation_is_blocked(_id);
end
$$;

-- May p_uid post in this conversation now: a participant, and no block either way. One
-- primary-key lookup, for the per-row insert check on messages.
create or replace function private.may_post(p_conversation_id uuid, p_uid uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return exists (
        select 1
        from public.conversation_participants as cp
        inner join public.conversations as c on cp.conversation_id = c.id
        where cp.conversation_id = p_conversation_id
            and cp.profile_id = p_uid
            and not exists (
                select 1 from public.blocks as bl
                where (bl.blocker_id = c.traveler_id and bl.blocked_id = c.local_id)
                    or (bl.blocker_id = c.local_id and bl.blocked_id = c.traveler_id)
            )
    );
end
$$;

-- The flood guard's counter: messages per sender in the current clock minute. One upsert
-- per message (constant cost, unlike counting recent messages), and a row per sender.
create table private.message_rate (
    sender_id uuid primary key references public.profiles (id) on delete cascade,
    window_start timestamptz not null,
    sent integer not null
);

alter table private.message_rate enable row level security;

-- Count one more message from p_uid; true when that goes over the per-minute limit.
create or replace function private.over_message_rate(p_uid uuid)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
    _sent integer;
begin
    insert into private.message_rate as r (sender_id, window_start, sent)
    values (p_uid, pg_catalog.date_trunc('minute', pg_catalog.now()), 1)
    on conflict (sender_id) do update set
        sent = case when r.window_start = excluded.window_start then r.sent + 1 else 1 end,
        window_start = excluded.window_start
    returning r.sent into _sent;
    return _sent > private.setting_int('chat_messages_per_minute');
end
$$;

revoke all on function private.may_post(uuid, uuid) from public;
revoke all on function private.over_message_rate(uuid) from public;
grant execute on function private.may_post(uuid, uuid) to authenticated;
grant execute on function private.over_message_rate(uuid) to authenticated, service_role;
revoke all on function private.conversation_ids_of(uuid) from public;
revoke all on function private.conversation_partner_ids(uuid) from public;
revoke all on function private.conversation_is_blocked(uuid) from public;
revoke all on function private.may_use_conversation_topic(text, uuid) from public;
grant execute on function private.conversation_ids_of(uuid) to authenticated;
grant execute on function private.conversation_partner_ids(uuid) to authenticated;
grant execute on function private.conversation_is_blocked(uuid) to authenticated;
grant execute on function private.may_use_conversation_topic(text, uuid) to authenticated;

-- =====================================================================
-- Triggers: conversations
-- =====================================================================

-- Both sides become participants the moment a conversation exists.
create or replace function private.add_conversation_participants()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into public.conversation_participants (conversation_id, profile_id)
    values (new.id, new.traveler_id), (new.id, new.local_id);
    return null;
end
$$;

revoke all on function private.add_conversation_participants() from public;

create trigger conversations_add_participants
after insert on public.conversations
for each row execute function private.add_conversation_participants();

-- =====================================================================
-- Triggers: messages
-- =====================================================================

-- Before a message is stored or edited: enforce who may write what and when, apply the
-- flood guard, and mask contact details unless the conversation is unlocked. Security
-- invoker on purpose: `current_user` must be the caller, so that server-side writers
-- (system messages, the service) are told apart from clients.
create or replace function private.prepare_message()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    _unlocked boolean;
    _client boolean := current_user in ('anon', 'authenticated');
    _masked text;
begin
    if tg_op = 'INSERT' then
        new.created_at := pg_catalog.now();
        new.edited_at := null;
        new.deleted_at := null;
        if _client and private.over_message_rate(new.sender_id) then
            raise exception 'you are sending messages too quickly; wait a moment'
                using errcode = 'PT429', detail = 'rate_limited';
        end if;
    else
        -- Clients may change only the text (account deletion nulls sender_id server-side).
        if _client and (
            new.id <> old.id or new.conversation_id <> old.conversation_id
            or new.sender_id is distinct from old.sender_id or new.kind <> old.kind
            or new.created_at <> old.created_at
        ) then
            raise exception 'only the text of a message can change'
                using errcode = '42501', detail = 'protected_field';
        end if;
        if old.deleted_at is not null then
            raise exception 'this message was unsent'
                using errcode = '22023', detail = 'message_deleted';
        end if;
        if new.deleted_at is not null then
            -- Unsend: soft, so the thread keeps its shape; the text is gone for good.
            if _client and pg_catalog.now() - old.created_at
                > pg_catalog.make_interval(hours => private.setting_int('chat_unsend_window_hours')) then
                raise exception 'messages can only be unsent within % hours',
                    private.setting_int('chat_unsend_window_hours')
                    using errcode = '22023', detail = 'unsend_window_expired';
            end if;
            new.deleted_at := pg_catalog.now();
            new.body := null;
            new.masked := false;
            return new;
        end if;
        if new.body is not distinct from old.body then
            return new;
        end if;
        if _client and pg_catalog.now() - old.created_at
            > pg_catalog.make_interval(mins => private.setting_int('chat_edit_window_minutes')) then
            raise exception 'messages can only be edited within % minutes',
                private.setting_int('chat_edit_window_minutes')
                using errcode = '22023', detail = 'edit_window_expired';
        end if;
        new.edited_at := pg_catalog.now();
    end if;

    select c.contact_unlocked_at is not null into _unlocked
    from public.conversations as c
    where c.id = new.conversation_id;
    if not coalesce(_unlocked, false) and new.kind = 'text' and new.body is not null then
        _masked := private.mask_contact_details(new.body);
        new.masked := _masked is distinct from new.body;
        new.body := _masked;
    elsif tg_op = 'UPDATE' then
        new.masked := false;
    end if;
    return new;
end
$$;

-- After a message is stored: update the conversation's preview and the other side's
-- unread count, then broadcast to the conversation topic and to each participant's inbox.
create or replace function private.publish_message()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    _event text;
    _preview text;
begin
    if tg_op = 'INSERT' then
        _event := 'message.created';
    elsif new.deleted_at is not null and old.deleted_at is null then
        _event := 'message.deleted';
    else
        _event := 'message.updated';
    end if;

    _preview := case
        when new.deleted_at is not null then null
        when new.kind = 'attachment' then coalesce(pg_catalog.left(new.body, 140), 'Attachment')
        else pg_catalog.left(new.body, 140)
    end;

    if tg_op = 'INSERT' then
        update public.conversations as c
        set last_message_at = new.created_at,
            last_message_preview = _preview,
            last_message_sender_id = new.sender_id
        where c.id = new.conversation_id;
        update public.conversation_participants as cp
        set unread_count = cp.unread_count + 1
        where cp.conversation_id = new.conversation_id
            and cp.profile_id is distinct from new.sender_id;
    else
        -- An edit or unsend of the latest message changes the inbox preview too.
        update public.conversations as c
        set last_message_preview = _preview
        where c.id = new.conversation_id
            and c.last_message_at = new.created_at
            and c.last_message_sender_id is not distinct from new.sender_id;
    end if;

    -- Every broadcast of this change in one insert (what realtime.send does per row), and
    -- like realtime.send a failure only warns: publishing never loses the message.
    begin
        insert into realtime.messages (topic, extension, event, payload, private)
        select
            -- The stored row: masked body, and no column a participant cannot read anyway.
            'conversation:' || new.conversation_id::text, 'broadcast', _event,
            pg_catalog.to_jsonb(new), true
        union all
        select
            'user:' || cp.profile_id::text, 'broadcast', 'inbox.updated',
            pg_catalog.jsonb_build_object(
                'conversation_id', new.conversation_id,
                'event', _event,
                'message_id', new.id,
                'last_message_at', new.created_at,
                'preview', _preview,
                'unread_count', cp.unread_count
            ),
            true
        from public.conversation_participants as cp
        where cp.conversation_id = new.conversation_id;
    exception
        when others then
            raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
    end;
    return null;
end
$$;

-- A participant read up to somewhere: tell their own inbox (other devices) and the
-- conversation (read receipts).
create or replace function private.publish_read()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform realtime.send(
        pg_catalog.jsonb_build_object(
            'conversation_id', new.conversation_id,
            'profile_id', new.profile_id,
            'last_read_at', new.last_read_at,
            'last_read_message_id', new.last_read_message_id
        ),
        'conversation.read',
        'conversation:' || new.conversation_id::text,
        true
    );
    perform realtime.send(
        pg_catalog.jsonb_build_object(
            'conversation_id', new.conversation_id,
            'event', 'conversation.read',
            'unread_count', new.unread_count
        ),
        'inbox.updated',
        'user:' || new.profile_id::text,
        true
    );
    return null;
end
$$;

revoke all on function private.prepare_message() from public;
revoke all on function private.publish_message() from public;
revoke all on function private.publish_read() from public;

create trigger messages_prepare
before insert or update on public.messages
for each row execute function private.prepare_message();

create trigger messages_publish_insert
after insert on public.messages
for each row execute function private.publish_message();

-- Only what a reader sees changing is news (not, say, an author's account being deleted).
create trigger messages_publish_update
after update of body, deleted_at on public.messages
for each row
when (new.body is distinct from old.body or new.deleted_at is distinct from old.deleted_at)
execute function private.publish_message();

create trigger conversation_participants_publish_read
after update of last_read_at, last_read_message_id on public.conversation_participants
for each row
when (
    new.last_read_at is distinct from old.last_read_at
    or new.last_read_message_id is distinct from old.last_read_message_id
)
execute function private.publish_read();

-- =====================================================================
-- RPCs (security invoker: RLS decides; the checks here only give clearer errors)
-- =====================================================================

-- Start (or return) the conversation between the calling traveler and a local.
create or replace function public.start_conversation(p_local_id uuid)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
    _me uuid := (select auth.uid());
    _id uuid;
begin
    if _me is null then
        raise exception 'sign in to start a conversation'
            using errcode = '42501', detail = 'not_authenticated';
    end if;
    select c.id into _id from public.conversations as c
    where c.traveler_id = _me and c.local_id = p_local_id;
    if _id is not null then
        return _id;
    end if;
    if not exists (select 1 from public.profiles as p where p.id = _me and p.role = 'traveler') then
        raise exception 'only travelers can start conversations'
            using errcode = '42501', detail = 'not_a_traveler';
    end if;
    if not exists (
        select 1 from public.local_cards as lc
        where lc.profile_id = p_local_id and lc.accepting_requests
    ) then
        raise exception 'this local is not accepting requests'
            using errcode = '22023', detail = 'local_not_accepting';
    end if;
    if private.is_blocked(_me, p_local_id) then
        raise exception 'you cannot contact this person'
            using errcode = '42501', detail = 'blocked';
    end if;
    insert into public.conversations (traveler_id, local_id)
    values (_me, p_local_id)
    on conflict (traveler_id, local_id) do nothing
    returning id into _id;
    if _id is null then
        -- Lost a race with our own other tab: the row exists now.
        select c.id into _id from public.conversations as c
        where c.traveler_id = _me and c.local_id = p_local_id;
    end if;
    return _id;
end
$$;

-- My conversations, most recent activity first, with the other party's card, the last
-- message preview (masked form) and my unread count. Keyset pagination: pass the last
-- row's (last_activity_at, conversation_id) to get the next page.
--
-- The rows are read by a security definer helper that filters on the caller's own
-- participant rows itself: under plain RLS every call would first rebuild the caller's
-- whole partner and conversation lists for the profiles and participants policies
-- (measured: 2x the cost of the query). What it returns is exactly what those policies
-- allow: the caller's conversations and the card of the person on the other side.
create or replace function private.inbox_rows(
    p_uid uuid,
    p_limit integer,
    p_before_activity_at timestamptz,
    p_before_id uuid
)
returns table (
    conversation_id uuid,
    other_party_id uuid,
    other_party_name text,
    other_party_avatar_path text,
    other_party_role public.user_role,
    last_activity_at timestamptz,
    last_message_preview text,
    last_message_sender_id uuid,
    unread_count integer,
    contact_unlocked boolean
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query
        select
            c.id,
            other.id,
            coalesce(other.full_name, 'Deleted user'),
            other.avatar_path,
            other.role,
            coalesce(c.last_message_at, c.created_at),
            c.last_message_preview,
            c.last_message_sender_id,
            mine.unread_count,
            c.contact_unlocked_at is not null
        from public.conversation_participants as mine
        inner join public.conversations as c on mine.conversation_id = c.id
        left join public.profiles as other
            on other.id = case when c.traveler_id = mine.profile_id then c.local_id else c.traveler_id end
        where mine.profile_id = p_uid
            and p_uid is not null
            and (coalesce(c.last_message_at, c.created_at), c.id) < (
                coalesce(p_before_activity_at, 'infinity'::timestamptz),
                coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)
            )
        order by coalesce(c.last_message_at, c.created_at) desc, c.id desc
        limit least(greatest(coalesce(p_limit, 20), 1), 100);
end
$$;

revoke all on function private.inbox_rows(uuid, integer, timestamptz, uuid) from public;
grant execute on function private.inbox_rows(uuid, integer, timestamptz, uuid)
to authenticated, service_role;

create or replace function public.inbox(
    p_limit integer default 20,
    p_before_activity_at timestamptz default null,
    p_before_id uuid default null
)
returns table (
    conversation_id uuid,
    other_party_id uuid,
    other_party_name text,
    other_party_avatar_path text,
    other_party_role public.user_role,
    last_activity_at timestamptz,
    last_message_preview text,
    last_message_sender_id uuid,
    unread_count integer,
    contact_unlocked boolean
)
language sql
stable
set search_path = ''
as $$
    select * from private.inbox_rows((select auth.uid()), p_limit, p_before_activity_at, p_before_id)
$$;

-- Everything I have not read, across conversations.
create or replace function public.unread_total()
returns integer
language plpgsql
stable
set search_path = ''
as $$
begin
    return (
        select coalesce(sum(cp.unread_count), 0)::integer
        from public.conversation_participants as cp
        where cp.profile_id = (select auth.uid())
    );
end
$$;

-- A page of a conversation's history, newest first. Keyset on (created_at, id): pass the
-- oldest row of the previous page to get the one before it.
create or replace function public.message_history(
    p_conversation_id uuid,
    p_before_created_at timestamptz default null,
    p_before_id uuid default null,
    p_limit integer default 50
)
returns setof public.messages
language plpgsql
stable
set search_path = ''
as $$
begin
    return query
        select m.*
        from public.messages as m
        where m.conversation_id = p_conversation_id
            -- One row comparison (no `or`), so the cursor bounds the index scan: a page deep
            -- in a long thread costs the same as the first.
            and (m.created_at, m.id) < (
                case when p_before_created_at is null then 'infinity'::timestamptz
                    else p_before_created_at end,
                case when p_before_created_at is null then 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
                    else p_before_id end
            )
        order by m.created_at desc, m.id desc
        limit least(greatest(coalesce(p_limit, 50), 1), 200);
end
$$;

-- I have read the conversation up to a message (default: its latest).
create or replace function public.mark_read(
    p_conversation_id uuid, p_message_id uuid default null
)
returns integer
language plpgsql
set search_path = ''
as $$
declare
    _upto timestamptz;
    _msg uuid;
    _unread integer;
begin
    select m.created_at, m.id into _upto, _msg
    from public.messages as m
    where m.conversation_id = p_conversation_id
        and (p_message_id is null or m.id = p_message_id)
    order by m.created_at desc, m.id desc
    limit 1;
    if p_message_id is not null and _msg is null then
        raise exception 'no such message in this conversation'
            using errcode = '22023', detail = 'message_not_found';
    end if;
    select count(*) into _unread
    from public.messages as m
    where m.conversation_id = p_conversation_id
        and _upto is not null
        and (m.created_at, m.id) > (_upto, _msg)
        and m.sender_id is distinct from (select auth.uid());
    update public.conversation_participants as cp
    set last_read_at = coalesce(_upto, pg_catalog.now()),
        last_read_message_id = _msg,
        unread_count = _unread
    where cp.conversation_id = p_conversation_id and cp.profile_id = (select auth.uid());
    if not found then
        raise exception 'conversation not found'
            using errcode = '22023', detail = 'conversation_not_found';
    end if;
    return _unread;
end
$$;

grant execute on function public.start_conversation(uuid) to authenticated;
grant execute on function public.inbox(integer, timestamptz, uuid) to authenticated;
grant execute on function public.unread_total() to authenticated;
grant execute on function public.message_history(uuid, timestamptz, uuid, integer)
to authenticated;
grant execute on function public.mark_read(uuid, uuid) to authenticated;
