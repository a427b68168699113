-- Who may read and change a person's profile, a local's offer and their calendar.
--
-- Profiles are created and deleted by the service (signup, account deletion), so no
-- client role has an insert or delete policy. Protected fields (id, role, ratings,
-- verification) are guarded by triggers in the profiles migration.

-- profiles ------------------------------------------------------------------

-- A signed-in person sees their own profile and the profiles of everyone they share a
-- conversation with (a local sees the travelers who wrote to them, and vice versa).
drop policy if exists profiles_select_visible on public.profiles;
create policy profiles_select_visible on public.profiles
for select to authenticated
using (
    id = (select auth.uid())
    or id in (select private.conversation_partner_ids((select auth.uid())))
);

-- ...and edits only their own.
drop policy if exists profiles_update_own on public.profiles;
create policy profiles_update_own on public.profiles
for update to authenticated
using (id = (select auth.uid()))
with check (id = (select auth.uid()));

-- local_profiles -----------------------------------------------------------

-- The full offer (exact location included) is the local's own; everyone else reads the
-- public card in local_cards.
drop policy if exists local_profiles_select_own on public.local_profiles;
create policy local_profiles_select_own on public.local_profiles
for select to authenticated
using (profile_id = (select auth.uid()));

drop policy if exists local_profiles_update_own on public.local_profiles;
create policy local_profiles_update_own on public.local_profiles
for update to authenticated
using (profile_id = (select auth.uid()))
with check (profile_id = (select auth.uid()));

-- local_availability --------------------------------------------------------

-- A local's calendar is public: travelers filter the directory by their dates.
drop policy if exists local_availability_select_all on public.local_availability;
create policy local_availability_select_all on public.local_availability
for select to anon, authenticated
using (true);

drop policy if exists local_availability_insert_own on public.local_availability;
create policy local_availability_insert_own on public.local_availability
for insert to authenticated
with check (local_id = (select auth.uid()));

drop policy if exists local_availability_update_own on public.local_availability;
create policy local_availability_update_own on public.local_availability
for update to authenticated
using (local_id = (select auth.uid()))
with check (local_id = (select auth.uid()));

drop policy if exists local_availability_delete_own on public.local_availability;
create policy local_availability_delete_own on public.local_availability
for delete to authenticated
using (local_id = (select auth.uid()));
