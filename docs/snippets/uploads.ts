// uploads.ts: files go through the service, which checks and rewrites them; reading
// them is Storage's job.
import { api } from "./api";
import { supabase } from "./client";
import type { Tables } from "../../supabase/types/database";

export interface AvatarUpload {
  path: string; // "<uid>/<uuid>.webp" in the public `avatars` bucket
  url: string;
  width: number;
  height: number;
  bytes: number;
  thumbnail_path: string; // "<uid>/<uuid>-256.webp", a 256 x 256 square crop
  thumbnail_url: string;
}

// The stored `attachment` message, plus what was stored and a signed URL to show it.
export interface AttachmentMessage {
  id: string;
  conversation_id: string;
  sender_id: string | null;
  kind: "attachment";
  body: string | null;
  attachment_path: string; // in the private `attachments` bucket
  created_at: string;
  masked: boolean;
  attachment: {
    content_type: "image/webp" | "application/pdf";
    bytes: number;
    width: number | null;
    height: number | null;
    pages: number | null;
    url: string; // signed; expires at url_expires_at
    url_expires_at: string;
  };
}

// 201 with the stored avatar; 413 file_too_large, 415 unsupported_media_type,
// 422 corrupt_file or image_too_large otherwise.
export function uploadAvatar(file: File): Promise<AvatarUpload> {
  const form = new FormData();
  form.append("file", file);
  return api<AvatarUpload>("/api/v1/uploads/avatar", { method: "POST", body: form });
}

// Posts an `attachment` message into the conversation and returns it.
export function sendAttachment(conversationId: string, file: File): Promise<AttachmentMessage> {
  const form = new FormData();
  form.append("file", file);
  return api<AttachmentMessage>(`/api/v1/conversations/${conversationId}/attachments`, {
    method: "POST",
    body: form,
  });
}

// Attachments are private: a participant (RLS decides) gets a short-lived signed URL.
export async function attachmentUrl(message: Tables<"messages">): Promise<string | null> {
  if (!message.attachment_path) return null;
  const { data, error } = await supabase.storage
    .from("attachments")
    .createSignedUrl(message.attachment_path, 60 * 10);
  if (error) throw error;
  return data.signedUrl;
}
