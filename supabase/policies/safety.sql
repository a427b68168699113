-- Blocks and reports.

-- blocks --------------------------------------------------------------------

-- A person sees and manages only the blocks they made; nobody learns who blocked them.
drop policy if exists blocks_select_own on public.blocks;
create policy blocks_select_own on public.blocks
for select to authenticated
using (blocker_id = (select auth.uid()));

drop policy if exists blocks_insert_own on public.blocks;
create policy blocks_insert_own on public.blocks
for insert to authenticated
with check (blocker_id = (select auth.uid()));

drop policy if exists blocks_delete_own on public.blocks;
create policy blocks_delete_own on public.blocks
for delete to authenticated
using (blocker_id = (select auth.uid()));

-- reports -------------------------------------------------------------------

-- File a report as yourself. There is no select policy: reports are read by the trust and
-- safety team with service_role only, the reporter included.
drop policy if exists reports_insert_own on public.reports;
create policy reports_insert_own on public.reports
for insert to authenticated
with check (reporter_id = (select auth.uid()));
