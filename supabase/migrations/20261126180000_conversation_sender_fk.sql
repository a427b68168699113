-- Account deletion must leave no trace of the person in rows others keep.
--
-- conversations.last_message_sender_id (the inbox preview's author) was a plain uuid, so it
-- still named a deleted sender until the next message. It now follows the profile like
-- messages.sender_id does: the id becomes null when the profile goes.

-- Ids of profiles already gone (none in practice: there was no way to delete one without
-- a later message replacing it) would fail the new constraint.
update public.conversations as c
set last_message_sender_id = null
where
    c.last_message_sender_id is not null
    and not exists (
        select 1 from public.profiles as p
        where p.id = c.last_message_sender_id
    );

alter table public.conversations
add constraint conversations_last_message_sender_id_fkey
foreign key (last_message_sender_id) references public.profiles (id) on delete set null;

-- Deleting a profile looks its conversations up by this column.
create index conversations_last_message_sender_id_idx
on public.conversations (last_message_sender_id);
