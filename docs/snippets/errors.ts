// errors.ts: one stable code for every failure, whichever server raised it.
import type { PostgrestError } from "@supabase/supabase-js";
import { ApiError } from "./api";

// Our SQL raises errors with a stable snake_case code in DETAIL. PostgREST returns it as
// `details`; `code` is the SQLSTATE (or PGRST... for PostgREST's own errors).
const STABLE_CODE = /^[a-z][a-z0-9_]*$/;

export function errorCode(error: PostgrestError | ApiError): string {
  if (error instanceof ApiError) return error.code;
  if (error.details && STABLE_CODE.test(error.details)) return error.details;
  switch (error.code) {
    case "42501":
      return "forbidden"; // no grant, or a row-level security WITH CHECK failed
    case "PGRST116":
      return "not_found"; // .single() matched no row (or RLS hid it)
    case "23505":
      return "conflict";
    case "23514":
    case "22P02":
      return "invalid_input";
    default:
      return "unexpected";
  }
}

// Messages a user can act on; everything else gets a generic sentence.
const MESSAGES: Record<string, string> = {
  rate_limited: "You are going a little fast. Wait a moment and try again.",
  blocked: "You can't contact this person.",
  local_not_accepting: "This local isn't taking requests right now.",
  edit_window_expired: "Messages can only be edited for 15 minutes.",
  unsend_window_expired: "Messages can only be unsent for 24 hours.",
  booking_expired: "This offer has expired.",
  invalid_credentials: "Wrong email or password.",
  email_taken: "An account with this email already exists.",
  weak_password: "Choose a stronger password.",
  forbidden: "You can't do that.",
  not_found: "Not found.",
};

export function userMessage(error: PostgrestError | ApiError): string {
  return MESSAGES[errorCode(error)] ?? "Something went wrong. Please try again.";
}
