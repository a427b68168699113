-- Contact details in a booking's texts are masked like chat messages until the
-- conversation is unlocked (an accepted booking). Found by review: the request's message
-- and the offer's meeting point and message reached the other side unmasked, so a phone
-- number or an email could be passed before any booking was accepted. Messages have been
-- masked from the start; these three fields now follow the same rule.
--
-- Its own trigger rather than a restatement of prepare_booking_request and
-- transition_booking: the rule is the same for both moves and for every field, and it runs
-- after them (before-row triggers fire in name order: prepare, transition, then this).
-- Server-side writers (the seed, the service) are not masked, as for messages.

create or replace function private.mask_booking_texts()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if current_user not in ('anon', 'authenticated') then
        return new;
    end if;
    if exists (
        select 1 from public.conversations as c
        where c.id = new.conversation_id and c.contact_unlocked_at is not null
    ) then
        return new;
    end if;
    new.message := private.mask_contact_details(new.message);
    new.meeting_point := private.mask_contact_details(new.meeting_point);
    new.offer_message := private.mask_contact_details(new.offer_message);
    return new;
end
$$;

revoke all on function private.mask_booking_texts() from public;

create trigger booking_requests_zz_mask
before insert or update of message, meeting_point, offer_message on public.booking_requests
for each row execute function private.mask_booking_texts();
