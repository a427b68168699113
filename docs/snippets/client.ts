// client.ts: one supabase-js client whose token comes from the LocalGhost service.
import { createClient } from "@supabase/supabase-js";
import type { Database } from "../../supabase/types/database";

export const SUPABASE_URL = "https://your-project-ref.supabase.co";
// The project's publishable (anon) key: sent as `apikey` on every request.
export const SUPABASE_KEY = "your-publishable-key";
export const API_URL = "https://api.localghost.example";

// What POST /api/v1/auth/{signup,login,refresh} return.
export interface Session {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  expires_at: number; // seconds since the epoch
  refresh_token: string;
  user: { id: string; email: string; role: "traveler" | "local"; full_name: string };
}

const STORAGE_KEY = "localghost.session";
let session: Session | null = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
// The one refresh in flight: every caller awaits the same promise (the lock).
let refreshing: Promise<Session | null> | null = null;

export function currentSession(): Session | null {
  return session;
}

export function setSession(next: Session | null): void {
  session = next;
  if (next) localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  else localStorage.removeItem(STORAGE_KEY);
  // Open channels keep the old token until told; Realtime closes them when it expires.
  // setAuth() with no argument re-reads the token from the accessToken callback below.
  void supabase.realtime.setAuth(next ? next.access_token : null);
}

export function refreshSession(): Promise<Session | null> {
  refreshing ??= (async () => {
    const stale = session;
    if (!stale) return null;
    const response = await fetch(`${API_URL}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: stale.refresh_token }),
    });
    if (response.status === 401) {
      // invalid_refresh_token or refresh_token_reused: the session is over.
      setSession(null);
      return null;
    }
    if (!response.ok) throw new Error(`refresh failed with HTTP ${response.status}`);
    const fresh = (await response.json()) as Session;
    setSession(fresh);
    return fresh;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// supabase-js calls this before every request and Realtime on connect and heartbeat,
// possibly many times at once. Refresh a minute before expiry, once.
export async function accessToken(): Promise<string | null> {
  if (session && session.expires_at - 60 > Date.now() / 1000) return session.access_token;
  return (await refreshSession())?.access_token ?? null;
}

// With `accessToken`, supabase.auth.* is disabled: sign-in, sign-up and sign-out go
// through the service (api.ts).
export const supabase = createClient<Database>(SUPABASE_URL, SUPABASE_KEY, { accessToken });
