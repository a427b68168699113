-- Conversations, participants and messages: only the two people in a conversation.

-- conversations -------------------------------------------------------------

-- Either side reads it (direct columns, so a freshly inserted row is visible at once).
drop policy if exists conversations_select_participant on public.conversations;
create policy conversations_select_participant on public.conversations
for select to authenticated
using (traveler_id = (select auth.uid()) or local_id = (select auth.uid()));

-- A traveler opens a conversation with a listed local who accepts requests, unless either
-- has blocked the other. start_conversation() is the way clients call this.
drop policy if exists conversations_insert_traveler on public.conversations;
create policy conversations_insert_traveler on public.conversations
for insert to authenticated
with check (
    traveler_id = (select auth.uid())
    and exists (
        select 1 from public.profiles as p
        where p.id = (select auth.uid()) and p.role = 'traveler'
    )
    and exists (
        select 1 from public.local_cards as lc
        where lc.profile_id = conversations.local_id and lc.accepting_requests
    )
    and not private.is_blocked(traveler_id, local_id)
);

-- conversation_participants -------------------------------------------------

-- Both participants' read state is visible to both (read receipts).
drop policy if exists conversation_participants_select_member on public.conversation_participants;
create policy conversation_participants_select_member on public.conversation_participants
for select to authenticated
using (conversation_id in (select private.conversation_ids_of((select auth.uid()))));

-- Each person moves only their own read marker (mark_read() does it for clients).
drop policy if exists conversation_participants_update_own on public.conversation_participants;
create policy conversation_participants_update_own on public.conversation_participants
for update to authenticated
using (profile_id = (select auth.uid()))
with check (profile_id = (select auth.uid()));

-- messages --------------------------------------------------------------------

drop policy if exists messages_select_member on public.messages;
create policy messages_select_member on public.messages
for select to authenticated
using (conversation_id in (select private.conversation_ids_of((select auth.uid()))));

-- Write only as yourself, only where you take part, never across a block.
drop policy if exists messages_insert_member on public.messages;
create policy messages_insert_member on public.messages
for insert to authenticated
with check (
    sender_id = (select auth.uid())
    and private.may_post(conversation_id, (select auth.uid()))
);

-- Edit or unsend only your own messages (time windows are enforced by a trigger). Across a
-- block a message can still be unsent, but no longer edited: an edit reaches the other side.
drop policy if exists messages_update_own on public.messages;
create policy messages_update_own on public.messages
for update to authenticated
using (sender_id = (select auth.uid()))
with check (
    sender_id = (select auth.uid())
    and (deleted_at is not null or not private.conversation_is_blocked(conversation_id))
);
