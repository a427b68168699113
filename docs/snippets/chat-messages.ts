// chat-messages.ts: start a conversation, send, edit and unsend messages.
import type { Tables } from "../../supabase/types/database";
import { supabase } from "./client";

export type Message = Tables<"messages">;

// Travelers only; idempotent: the same local gives back the same conversation id.
// Errors (details): not_a_traveler, local_not_accepting, blocked.
export async function startConversation(localId: string): Promise<string> {
  const { data, error } = await supabase.rpc("start_conversation", { p_local_id: localId });
  if (error) throw error;
  return data;
}

// sender_id defaults to the caller. Until a booking is accepted the stored body may be
// masked ("[contact hidden]", masked = true): show what comes back, not what was typed.
// 429 rate_limited (PT429) when sending faster than the flood guard allows.
export async function sendMessage(conversationId: string, body: string): Promise<Message> {
  const { data, error } = await supabase
    .from("messages")
    .insert({ conversation_id: conversationId, body })
    .select()
    .single();
  if (error) throw error;
  return data;
}

// Own messages, within 15 minutes (edit_window_expired after that).
export async function editMessage(messageId: string, body: string): Promise<Message> {
  const { data, error } = await supabase
    .from("messages")
    .update({ body })
    .eq("id", messageId)
    .select()
    .single();
  if (error) throw error;
  return data;
}

// Soft delete within 24 hours: the database clears the body (unsend_window_expired after).
export async function unsendMessage(messageId: string): Promise<void> {
  const { error } = await supabase
    .from("messages")
    .update({ deleted_at: new Date().toISOString() })
    .eq("id", messageId);
  if (error) throw error;
}
