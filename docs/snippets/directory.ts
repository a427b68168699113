// directory.ts: the locals directory and profiles, straight from PostgREST under RLS.
import type { Tables, TablesUpdate } from "../../supabase/types/database";
import { supabase } from "./client";

export type LocalCard = Tables<"local_cards">;

export interface DirectoryFilters {
  city?: string;
  languages?: string[]; // ISO 639-1; the local speaks all of them
  expertise?: string[]; // from expertise_tags; any of them
  maxHourlyRateCents?: number;
  page?: number;
  pageSize?: number;
}

// local_cards is readable by anyone, signed in or not; it holds only public card fields.
export async function findLocals(filters: DirectoryFilters) {
  const pageSize = filters.pageSize ?? 20;
  const from = (filters.page ?? 0) * pageSize;
  let query = supabase
    .from("local_cards")
    // One string literal: supabase-js derives the row type from it.
    .select(
      "profile_id, full_name, avatar_path, headline, city, languages, expertise, hourly_rate_cents, currency, rating_avg, rating_count, verified",
      { count: "exact" },
    )
    .eq("accepting_requests", true);
  if (filters.city) query = query.ilike("city", filters.city);
  if (filters.languages?.length) query = query.contains("languages", filters.languages);
  if (filters.expertise?.length) query = query.overlaps("expertise", filters.expertise);
  if (filters.maxHourlyRateCents !== undefined) {
    query = query.lte("hourly_rate_cents", filters.maxHourlyRateCents);
  }
  const { data, count, error } = await query
    .order("rating_avg", { ascending: false, nullsFirst: false })
    .order("profile_id")
    .range(from, from + pageSize - 1);
  if (error) throw error;
  return { locals: data, total: count ?? 0 };
}

// Avatars live in the public `avatars` bucket: a plain URL, no token needed.
export function avatarUrl(path: string | null): string | null {
  return path ? supabase.storage.from("avatars").getPublicUrl(path).data.publicUrl : null;
}

export async function myProfile(userId: string) {
  const { data, error } = await supabase
    .from("profiles")
    .select("*, local_profiles(*)")
    .eq("id", userId)
    .single();
  if (error) throw error;
  return data;
}

// Server-kept columns (role, verified, ratings...) are refused with 42501 protected_field.
export async function updateMyProfile(
  userId: string,
  changes: Pick<TablesUpdate<"profiles">, "full_name" | "bio" | "home_city" | "languages">,
) {
  const { data, error } = await supabase
    .from("profiles")
    .update(changes)
    .eq("id", userId)
    .select()
    .single();
  if (error) throw error;
  return data;
}

// Vocabularies for pickers: the same lists the database validates against.
export async function vocabularies() {
  const [languages, tags] = await Promise.all([
    supabase.from("languages").select("code").order("code"),
    supabase.from("expertise_tags").select("tag, display_name").order("display_name"),
  ]);
  if (languages.error) throw languages.error;
  if (tags.error) throw tags.error;
  return { languages: languages.data.map((row) => row.code), expertise: tags.data };
}
