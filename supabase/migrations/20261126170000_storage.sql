-- Storage: the buckets for profile photos and chat attachments.
--
-- Every write goes through the service (POST /api/v1/uploads/avatar and
-- POST /api/v1/conversations/{id}/attachments), which decodes and rewrites the bytes:
-- Supabase Storage itself only checks the Content-Type a client declares. Clients therefore
-- get no insert, update or delete policy on storage.objects; they read avatars by public URL
-- and attachments through signed URLs. Policies: supabase/policies/storage.sql.

-- =====================================================================
-- Buckets
-- =====================================================================

-- Profile photos: `<profile id>/<uuid>.webp` and its `-256.webp` thumbnail. Public, so the
-- directory and the chat can show them by URL without signing anything; not listable.
-- Upsert, so a project whose bucket was created in the dashboard converges to this.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('avatars', 'avatars', true, 5242880, array['image/webp'])
on conflict (id) do update set
    public = excluded.public,
    file_size_limit = excluded.file_size_limit,
    allowed_mime_types = excluded.allowed_mime_types;

-- Chat attachments: `<conversation id>/<uuid>.webp|.pdf`. Private: read through signed URLs
-- by the two participants only.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('attachments', 'attachments', false, 10485760, array['image/webp', 'application/pdf'])
on conflict (id) do update set
    public = excluded.public,
    file_size_limit = excluded.file_size_limit,
    allowed_mime_types = excluded.allowed_mime_types;

-- =====================================================================
-- Constraints
-- =====================================================================

-- An attachment lives in its own conversation's folder, which is what the read policy on
-- storage.objects checks. The service writes these paths; this keeps anyone from writing
-- another (a message pointing at a different conversation's file).
alter table public.messages
add constraint messages_attachment_path_in_conversation check (
    attachment_path is null
    or attachment_path like conversation_id::text || '/%'
);
