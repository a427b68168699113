// chat-realtime.ts: a conversation's private channel: messages, typing and presence.
import type { RealtimeChannel } from "@supabase/supabase-js";
import { supabase } from "./client";
import type { Message } from "./chat-messages";

export interface ConversationHandlers {
  onMessage(event: "message.created" | "message.updated" | "message.deleted", m: Message): void;
  onRead(read: { profile_id: string; last_read_at: string; last_read_message_id: string | null }): void;
  onTyping(userId: string): void;
  onPresence(onlineUserIds: string[]): void;
  onError(error: Error | undefined): void;
}

export function joinConversation(
  conversationId: string,
  me: string,
  on: ConversationHandlers,
): RealtimeChannel {
  // private: true makes Realtime check our policies on realtime.messages at join:
  // only the conversation's two participants (and no blocked pair) get in.
  const channel = supabase.channel(`conversation:${conversationId}`, {
    config: { private: true, broadcast: { self: false }, presence: { key: me } },
  });
  for (const event of ["message.created", "message.updated", "message.deleted"] as const) {
    channel.on("broadcast", { event }, ({ payload }) => on.onMessage(event, payload as Message));
  }
  channel
    .on("broadcast", { event: "conversation.read" }, ({ payload }) => on.onRead(payload))
    .on("broadcast", { event: "typing" }, ({ payload }) => on.onTyping(payload.user_id))
    .on("presence", { event: "sync" }, () => on.onPresence(Object.keys(channel.presenceState())))
    .subscribe(async (status, error) => {
      if (status === "SUBSCRIBED") {
        await channel.track({ online_at: new Date().toISOString() });
      } else if (status === "CHANNEL_ERROR" || status === "TIMED_OUT") {
        on.onError(error); // e.g. not a participant, or a block
      }
    });
  return channel;
}

// Typing indicators are client broadcasts: never stored, sent at most every few seconds.
let lastTyping = 0;
export function sendTyping(channel: RealtimeChannel, me: string): void {
  if (Date.now() - lastTyping < 3000) return;
  lastTyping = Date.now();
  void channel.send({ type: "broadcast", event: "typing", payload: { user_id: me } });
}

export async function leaveConversation(channel: RealtimeChannel): Promise<void> {
  await supabase.removeChannel(channel);
}
