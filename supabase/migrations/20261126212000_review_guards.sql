-- Guards found by review (2026-11-26), each reproduced first as a test:
--
-- * A null entry in a profile's languages or interests, or a local's expertise, passed the
--   vocabulary check (`x not in (...)` is null for a null x, so the row was not refused),
--   reached local_cards and broke every matching page of that city and the local's own
--   /auth/me. Null entries are now refused as unknown codes, and any already stored are
--   removed (the rest of each list is kept).
-- * Contact details were masked only in text messages. An attachment message can carry
--   text too (its author may edit it like any message), which went out unmasked. Every
--   message a person writes is now masked the same way; only system messages are not.
--   (Stored attachment texts are left as they are: the conversation's history is not
--   rewritten. New writes and edits are masked.)
-- The messages' update policy (a blocked person could still edit a message, and the edit
-- reached the blocker) is fixed in supabase/policies/chat.sql, carried by the migration
-- generated after this one.

-- Languages, interests and expertise come from the vocabularies; a null entry is unknown.
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
        where l is null or l not in (select code from public.languages) limit 1;
        if found then
            raise exception 'unknown language code: %', coalesce(_bad, 'null (an empty entry)')
                using errcode = '22023', detail = 'unknown_language',
                hint = 'Use ISO 639-1 codes such as en, es, pt.';
        end if;
        select i into _bad from pg_catalog.unnest(new.interests) as i
        where i is null or i not in (select tag from public.expertise_tags) limit 1;
        if found then
            raise exception 'unknown interest: %', coalesce(_bad, 'null (an empty entry)')
                using errcode = '22023', detail = 'unknown_interest',
                hint = 'Pick interests from public.expertise_tags.';
        end if;
        new.languages := array(select distinct l from pg_catalog.unnest(new.languages) as l order by l);
        new.interests := array(select distinct i from pg_catalog.unnest(new.interests) as i order by i);
    else
        select e into _bad from pg_catalog.unnest(new.expertise) as e
        where e is null or e not in (select tag from public.expertise_tags) limit 1;
        if found then
            raise exception 'unknown expertise: %', coalesce(_bad, 'null (an empty entry)')
                using errcode = '22023', detail = 'unknown_expertise',
                hint = 'Pick expertise from public.expertise_tags.';
        end if;
        new.expertise := array(select distinct e from pg_catalog.unnest(new.expertise) as e order by e);
    end if;
    return new;
end
$$;

-- Null entries stored before the check refused them. The check trigger runs on these updates
-- too, and with the nulls gone they pass it.
update public.profiles
set
    languages = pg_catalog.array_remove(languages, null),
    interests = pg_catalog.array_remove(interests, null)
where
    pg_catalog.array_position(languages, null) is not null
    or pg_catalog.array_position(interests, null) is not null;

update public.local_profiles
set expertise = pg_catalog.array_remove(expertise, null)
where pg_catalog.array_position(expertise, null) is not null;

-- Every message a person writes is masked until the conversation is unlocked.
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
    if not coalesce(_unlocked, false) and new.kind <> 'system' and new.body is not null then
        _masked := private.mask_contact_details(new.body);
        new.masked := _masked is distinct from new.body;
        new.body := _masked;
    elsif tg_op = 'UPDATE' then
        new.masked := false;
    end if;
    return new;
end
$$;
