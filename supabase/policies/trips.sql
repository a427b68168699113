-- Itineraries, bookings and reviews: the owner and the people a trip concerns, nobody else.
--
-- Visibility of shared itineraries goes through security definer helpers in `private`
-- (owned_itinerary_ids, shared_itinerary_ids, visible_itinerary_ids), called as
-- `col in (select private.x((select auth.uid())))` so each runs once per statement.
-- Booking status moves and review rules are enforced by triggers in the trips migration.

-- itineraries ---------------------------------------------------------------

-- The owner, and a local it is shared with (while neither has blocked the other).
drop policy if exists itineraries_select_visible on public.itineraries;
create policy itineraries_select_visible on public.itineraries
for select to authenticated
using (
    owner_id = (select auth.uid())
    or id in (select private.shared_itinerary_ids((select auth.uid())))
);

-- Travelers plan trips, as themselves.
drop policy if exists itineraries_insert_traveler on public.itineraries;
create policy itineraries_insert_traveler on public.itineraries
for insert to authenticated
with check (
    owner_id = (select auth.uid())
    and exists (
        select 1 from public.profiles as p
        where p.id = (select auth.uid()) and p.role = 'traveler'
    )
);

-- Only the owner changes the plan's frame (title, dates, status); a shared local edits
-- its items.
drop policy if exists itineraries_update_owner on public.itineraries;
create policy itineraries_update_owner on public.itineraries
for update to authenticated
using (owner_id = (select auth.uid()))
with check (owner_id = (select auth.uid()));

drop policy if exists itineraries_delete_owner on public.itineraries;
create policy itineraries_delete_owner on public.itineraries
for delete to authenticated
using (owner_id = (select auth.uid()));

-- itinerary_shares ----------------------------------------------------------

-- The owner sees whom they shared with; a local sees what was shared with them.
drop policy if exists itinerary_shares_select_party on public.itinerary_shares;
create policy itinerary_shares_select_party on public.itinerary_shares
for select to authenticated
using (
    local_id = (select auth.uid())
    or itinerary_id in (select private.owned_itinerary_ids((select auth.uid())))
);

-- The owner shares their itinerary with the local of one of their conversations: the
-- named conversation must link exactly the owner and that local, with no block between.
drop policy if exists itinerary_shares_insert_owner on public.itinerary_shares;
create policy itinerary_shares_insert_owner on public.itinerary_shares
for insert to authenticated
with check (
    itinerary_id in (select private.owned_itinerary_ids((select auth.uid())))
    and exists (
        select 1 from public.conversations as c
        where
            c.id = itinerary_shares.conversation_id
            and c.traveler_id = (select auth.uid())
            and c.local_id = itinerary_shares.local_id
    )
    and not private.is_blocked((select auth.uid()), local_id)
);

-- Unsharing revokes the local's access with the very statement that deletes the row.
drop policy if exists itinerary_shares_delete_owner on public.itinerary_shares;
create policy itinerary_shares_delete_owner on public.itinerary_shares
for delete to authenticated
using (itinerary_id in (select private.owned_itinerary_ids((select auth.uid()))));

-- itinerary_items -----------------------------------------------------------

-- Owner and shared local read, add and edit items...
drop policy if exists itinerary_items_select_visible on public.itinerary_items;
create policy itinerary_items_select_visible on public.itinerary_items
for select to authenticated
using (itinerary_id in (select private.visible_itinerary_ids((select auth.uid()))));

drop policy if exists itinerary_items_insert_visible on public.itinerary_items;
create policy itinerary_items_insert_visible on public.itinerary_items
for insert to authenticated
with check (itinerary_id in (select private.visible_itinerary_ids((select auth.uid()))));

drop policy if exists itinerary_items_update_visible on public.itinerary_items;
create policy itinerary_items_update_visible on public.itinerary_items
for update to authenticated
using (itinerary_id in (select private.visible_itinerary_ids((select auth.uid()))))
with check (itinerary_id in (select private.visible_itinerary_ids((select auth.uid()))));

-- ...the owner deletes any, a shared local only the ones they created.
drop policy if exists itinerary_items_delete_owner_or_creator on public.itinerary_items;
create policy itinerary_items_delete_owner_or_creator on public.itinerary_items
for delete to authenticated
using (
    itinerary_id in (select private.owned_itinerary_ids((select auth.uid())))
    or (
        created_by = (select auth.uid())
        and itinerary_id in (select private.shared_itinerary_ids((select auth.uid())))
    )
);

-- booking_requests ----------------------------------------------------------

-- The two parties (direct columns, so a fresh request is visible at once).
drop policy if exists booking_requests_select_party on public.booking_requests;
create policy booking_requests_select_party on public.booking_requests
for select to authenticated
using (traveler_id = (select auth.uid()) or local_id = (select auth.uid()));

-- The traveler of a conversation requests a booking from it, never across a block, with
-- an itinerary of their own if any. The trigger copies the parties from the conversation
-- before this check runs, so `traveler_id = me` proves the conversation is mine.
drop policy if exists booking_requests_insert_traveler on public.booking_requests;
create policy booking_requests_insert_traveler on public.booking_requests
for insert to authenticated
with check (
    traveler_id = (select auth.uid())
    and conversation_id in (select private.conversation_ids_of((select auth.uid())))
    and not private.conversation_is_blocked(conversation_id)
    and (
        itinerary_id is null
        or itinerary_id in (select private.owned_itinerary_ids((select auth.uid())))
    )
);

-- Either party answers; which answer each may give is private.booking_transitions' call.
drop policy if exists booking_requests_update_party on public.booking_requests;
create policy booking_requests_update_party on public.booking_requests
for update to authenticated
using (traveler_id = (select auth.uid()) or local_id = (select auth.uid()))
with check (traveler_id = (select auth.uid()) or local_id = (select auth.uid()));

-- reviews -------------------------------------------------------------------

-- Blind until revealed: both reviews in (revealed_at) or the deadline passed (compared
-- here, so exact without a job). Revealed reviews of locals are public...
drop policy if exists reviews_select_public on public.reviews;
create policy reviews_select_public on public.reviews
for select to anon
using (
    subject_role = 'local'
    and (revealed_at is not null or reveal_due_at <= now())
);

-- ...of travelers, for signed-in users; an author always sees their own.
drop policy if exists reviews_select_signed_in on public.reviews;
create policy reviews_select_signed_in on public.reviews
for select to authenticated
using (
    author_id = (select auth.uid())
    or revealed_at is not null
    or reveal_due_at <= now()
);

-- A party of a completed booking reviews the other side, as themselves.
drop policy if exists reviews_insert_party on public.reviews;
create policy reviews_insert_party on public.reviews
for insert to authenticated
with check (
    author_id = (select auth.uid())
    and booking_id in (select private.reviewable_booking_ids((select auth.uid())))
);

-- The reviewed side adds its reply (once, when revealed: trigger).
drop policy if exists reviews_update_subject on public.reviews;
create policy reviews_update_subject on public.reviews
for update to authenticated
using (subject_id = (select auth.uid()))
with check (subject_id = (select auth.uid()));
