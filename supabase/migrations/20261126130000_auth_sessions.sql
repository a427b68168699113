-- Auth: sessions, refresh tokens and login lockout for the service's own auth server.
--
-- The edge service is the auth server (like Supabase Auth with its own role): it reads and
-- writes these tables on its own connection. They live in `private`, which the Data API
-- never exposes, and no API role gets any grant on them: a client cannot see that a
-- session, a refresh token or a failed login exists.
--
-- Account deletion: deleting a row of private.accounts cascades to the profile (and the
-- local profile, card and calendar), the sessions, their refresh tokens and the lockout
-- state. Content a person wrote for others (messages, reviews; not built yet) must outlive
-- them: those tables reference public.profiles with `on delete set null` on the author
-- column, so the rows stay and clients show the author as a deleted user.

-- =====================================================================
-- Sessions
-- =====================================================================

-- One row per sign-in (signup or login). Access tokens carry its id as `session_id`;
-- logging out revokes it, which stops every refresh token of the session at once.
create table private.sessions (
    id uuid primary key default gen_random_uuid(),
    account_id uuid not null references private.accounts (id) on delete cascade,
    created_at timestamptz not null default now(),
    refreshed_at timestamptz,
    revoked_at timestamptz,
    -- Why it ended: logout, password change, refresh token reuse. For audits only.
    revoked_reason text check (char_length(revoked_reason) <= 40)
);

create index sessions_account_id_idx on private.sessions (account_id);

-- =====================================================================
-- Refresh tokens
-- =====================================================================

-- Opaque refresh tokens, stored only as SHA-256 digests: a copy of this table lets nobody
-- refresh. Each token is single use; using it marks it `used_at` and issues its child
-- (`parent_id`), so a session's tokens form one chain. Presenting a used token again is
-- either the client's own retry (the parent just rotated, within the grace interval: the
-- service answers with the child again) or theft, and then the whole session is revoked.
create table private.refresh_tokens (
    id bigint generated always as identity primary key,
    session_id uuid not null references private.sessions (id) on delete cascade,
    parent_id bigint references private.refresh_tokens (id) on delete cascade,
    token_hash bytea not null unique check (octet_length(token_hash) = 32),
    created_at timestamptz not null default now(),
    used_at timestamptz
);

create index refresh_tokens_session_id_idx on private.refresh_tokens (session_id);
-- One child per parent: a token rotates exactly once, even under concurrent refreshes.
create unique index refresh_tokens_parent_id_key on private.refresh_tokens (parent_id);

-- =====================================================================
-- Login lockout
-- =====================================================================

-- Failed password attempts per account, in Postgres so every service instance sees the
-- same count. After a threshold of failures the account refuses logins until
-- `locked_until`, with a backoff that doubles per further failure up to a cap; attempts
-- during a lock are not counted (they cannot extend it), and a correct password once the
-- window has passed resets the count. The service holds the formula and its settings.
create table private.login_lockouts (
    account_id uuid primary key references private.accounts (id) on delete cascade,
    failed_count integer not null default 0 check (failed_count >= 0),
    last_failed_at timestamptz,
    locked_until timestamptz
);

-- =====================================================================
-- Row level security
-- =====================================================================

-- No policies and no grants: only the service's own role (the table owner) reaches these
-- rows. RLS is on anyway so that a grant added by mistake still exposes nothing.
alter table private.sessions enable row level security;
alter table private.refresh_tokens enable row level security;
alter table private.login_lockouts enable row level security;

revoke all on private.sessions from anon, authenticated, service_role;
revoke all on private.refresh_tokens from anon, authenticated, service_role;
revoke all on private.login_lockouts from anon, authenticated, service_role;
