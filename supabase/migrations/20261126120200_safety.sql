-- Safety: blocks and reports.
--
-- A block stops two people from reaching each other (conversations, messages, bookings,
-- matching all consult private.is_blocked). A report goes to the trust and safety team,
-- who read it with service_role; the reporter can file one, never read any back.
-- Policies: supabase/policies/safety.sql.

-- =====================================================================
-- Types
-- =====================================================================

create type public.report_reason as enum ('spam', 'scam', 'harassment', 'inappropriate', 'other');
create type public.report_status as enum ('open', 'reviewing', 'actioned', 'dismissed');

-- =====================================================================
-- Tables
-- =====================================================================

create table public.blocks (
    blocker_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
    blocked_id uuid not null references public.profiles (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (blocker_id, blocked_id),
    constraint blocks_not_self check (blocker_id <> blocked_id)
);

-- is_blocked looks both ways; the primary key serves one direction, this the other.
create index blocks_blocked_id_idx on public.blocks (blocked_id, blocker_id);

create table public.reports (
    id uuid primary key default gen_random_uuid(),
    -- Kept when either account is deleted: the report is evidence.
    reporter_id uuid default auth.uid() references public.profiles (id) on delete set null,
    reported_id uuid references public.profiles (id) on delete set null,
    -- Which message, when the report is about one (the chat migration adds the reference).
    message_id uuid,
    reason public.report_reason not null,
    details text check (char_length(details) <= 2000),
    status public.report_status not null default 'open',
    created_at timestamptz not null default now(),
    constraint reports_not_self check (reporter_id <> reported_id)
);

create index reports_reporter_id_idx on public.reports (reporter_id);
create index reports_reported_id_idx on public.reports (reported_id);
create index reports_open_idx on public.reports (created_at) where status = 'open';

-- =====================================================================
-- Grants
-- =====================================================================

grant select, insert, delete on public.blocks to authenticated;
-- A reporter names who and why; status and identity are not theirs to set.
grant insert (reported_id, message_id, reason, details) on public.reports to authenticated;
grant all on public.blocks, public.reports to service_role;

alter table public.blocks enable row level security;
alter table public.reports enable row level security;

-- =====================================================================
-- Functions
-- =====================================================================

-- True when either person blocked the other. Security definer so that policies can ask
-- about a block the caller cannot see (the other side's); it reveals one bit, only to
-- policies and functions that call it.
-- plpgsql so its plan is cached across calls (a security definer SQL function is never
-- inlined, so it would be planned again on every call).
create or replace function private.is_blocked(a uuid, b uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return exists (
        select 1 from public.blocks as bl
        where (bl.blocker_id = a and bl.blocked_id = b)
            or (bl.blocker_id = b and bl.blocked_id = a)
    );
end
$$;

revoke all on function private.is_blocked(uuid, uuid) from public;
grant execute on function private.is_blocked(uuid, uuid) to authenticated, service_role;

-- A flood of reports from one account is abuse of the reporting channel itself. SQLSTATE
-- PT429 makes PostgREST answer HTTP 429.
create or replace function private.limit_reports()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if (
        select count(*) from public.reports as r
        where r.reporter_id = new.reporter_id and r.created_at > pg_catalog.now() - interval '1 day'
    ) >= 20 then
        raise exception 'too many reports today; the team is reviewing the ones you sent'
            using errcode = 'PT429', detail = 'rate_limited';
    end if;
    return new;
end
$$;

revoke all on function private.limit_reports() from public;

create trigger reports_limit
before insert on public.reports
for each row execute function private.limit_reports();
