-- Who may read objects in Storage (policies on storage.objects).
--
-- Writes: nobody but the service. There is deliberately no insert, update or delete policy:
-- the service writes through Storage's S3 endpoint with keys that bypass RLS, after
-- decoding and rewriting the bytes (Storage checks only the declared Content-Type).
--
-- avatars (public bucket): read by URL, which Storage serves without consulting RLS. No
-- select policy at all, so nobody can list the bucket (Splinter public_bucket_allows_listing).
--
-- attachments (private bucket): the two participants of the conversation named by the
-- first path segment may read, which is what creating a signed URL checks. The segment is
-- compared as text with the caller's conversation ids, so a malformed name never raises a
-- cast error; it simply matches nothing. Readable for as long as the messages are (blocks
-- freeze a conversation but keep its history, files included).

drop policy if exists attachments_select_participant on storage.objects;
create policy attachments_select_participant on storage.objects
for select to authenticated
using (
    bucket_id = 'attachments'
    and (storage.foldername(name))[1] in (
        select c::text from private.conversation_ids_of((select auth.uid())) as c
    )
);
