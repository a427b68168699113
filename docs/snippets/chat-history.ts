// chat-history.ts: a conversation's history, newest first, one keyset page at a time.
import { supabase } from "./client";
import type { Message } from "./chat-messages";

export interface HistoryPage {
  messages: Message[]; // newest first
  before: { createdAt: string; id: string } | null; // pass back for the older page
}

export async function historyPage(
  conversationId: string,
  before: HistoryPage["before"] = null,
  limit = 50,
): Promise<HistoryPage> {
  const { data, error } = await supabase.rpc("message_history", {
    p_conversation_id: conversationId,
    p_limit: limit,
    ...(before ? { p_before_created_at: before.createdAt, p_before_id: before.id } : {}),
  });
  if (error) throw error;
  const oldest = data.at(-1);
  return {
    messages: data,
    before: data.length === limit && oldest ? { createdAt: oldest.created_at, id: oldest.id } : null,
  };
}
