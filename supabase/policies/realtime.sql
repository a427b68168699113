-- Realtime Authorization for private channels (policies on realtime.messages).
--
-- Realtime runs the select policy at join (may receive) and the insert policy on the first
-- client broadcast or presence track (may send). Topics:
--   conversation:<id>  messages, typing (broadcast) and presence: its two participants,
--                      unless either blocked the other;
--   user:<uid>         inbox events: that user only; nobody sends to it but the database.

drop policy if exists realtime_receive on realtime.messages;
create policy realtime_receive on realtime.messages
for select to authenticated
using (
    realtime.messages.extension in ('broadcast', 'presence')
    and (
        (select realtime.topic()) = 'user:' || (select auth.uid())::text
        or (
            select private.may_use_conversation_topic(
                (select realtime.topic()), (select auth.uid())
            )
        )
    )
);

drop policy if exists realtime_send on realtime.messages;
create policy realtime_send on realtime.messages
for insert to authenticated
with check (
    realtime.messages.extension in ('broadcast', 'presence')
    and (
        select private.may_use_conversation_topic(
            (select realtime.topic()), (select auth.uid())
        )
    )
);
