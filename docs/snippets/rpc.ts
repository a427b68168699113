// rpc.ts: database functions through PostgREST (POST /rest/v1/rpc/<name>).
import { supabase } from "./client";
import { errorCode } from "./errors";

// A traveler asks the local of a conversation for dates; returns the booking row.
export async function requestBooking(conversationId: string, startsOn: string, endsOn: string) {
  const { data, error } = await supabase.rpc("request_booking", {
    p_conversation_id: conversationId,
    p_starts_on: startsOn, // "2027-05-01"
    p_ends_on: endsOn,
    p_group_size: 2,
  });
  if (error) {
    // e.g. booking_already_open, dates_in_past, group_too_large, blocked
    throw new Error(errorCode(error));
  }
  return data;
}

export async function acceptOffer(bookingId: string) {
  const { data, error } = await supabase.rpc("accept_offer", { p_booking_id: bookingId });
  if (error) throw error; // booking_expired, illegal_transition, booking_not_found ...
  return data;
}

// Bookings read through the `bookings` view: effective_status is right even before the
// expiry job has run.
export async function myOpenBookings() {
  const { data, error } = await supabase
    .from("bookings")
    .select("id, conversation_id, starts_on, ends_on, status, effective_status, price_cents, currency")
    .in("effective_status", ["requested", "offered"])
    .order("starts_on");
  if (error) throw error;
  return data;
}
