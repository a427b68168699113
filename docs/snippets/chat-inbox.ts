// chat-inbox.ts: my conversations, unread counts, live inbox updates and read receipts.
import type { Database } from "../../supabase/types/database";
import { supabase } from "./client";

export type InboxRow = Database["public"]["Functions"]["inbox"]["Returns"][number];

// Most recent activity first; pass the last row back for the next page.
export async function inboxPage(after: InboxRow | null = null, limit = 20) {
  const { data, error } = await supabase.rpc("inbox", {
    p_limit: limit,
    ...(after
      ? { p_before_activity_at: after.last_activity_at, p_before_id: after.conversation_id }
      : {}),
  });
  if (error) throw error;
  return data;
}

export async function unreadTotal(): Promise<number> {
  const { data, error } = await supabase.rpc("unread_total");
  if (error) throw error;
  return data;
}

// What the database sends to user:<uid> whenever one of my conversations changes.
export interface InboxEvent {
  conversation_id: string;
  event: "message.created" | "message.updated" | "message.deleted" | "conversation.read";
  message_id?: string;
  last_message_at?: string;
  preview?: string | null;
  unread_count: number;
}

// Only the user themself may join user:<uid>; nobody but the database sends to it.
export function watchInbox(me: string, onEvent: (event: InboxEvent) => void) {
  return supabase
    .channel(`user:${me}`, { config: { private: true } })
    .on("broadcast", { event: "inbox.updated" }, ({ payload }) => onEvent(payload as InboxEvent))
    .subscribe();
}

// Read up to a message (default: the latest); returns what is left unread there.
// The other participant sees a conversation.read broadcast (read receipts).
export async function markRead(conversationId: string, messageId?: string): Promise<number> {
  const { data, error } = await supabase.rpc("mark_read", {
    p_conversation_id: conversationId,
    ...(messageId ? { p_message_id: messageId } : {}),
  });
  if (error) throw error;
  return data;
}
