// api.ts: calls to the LocalGhost service, with its error envelope.
import { API_URL, accessToken, refreshSession, setSession, type Session } from "./client";

// Every error the service returns: {"error": {"code", "message", "details"}}.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: RequestInit = {}, retried = false): Promise<T> {
  const headers = new Headers(init.headers);
  const token = await accessToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (typeof init.body === "string") headers.set("Content-Type", "application/json");
  const response = await fetch(`${API_URL}${path}`, { ...init, headers });
  if (response.status === 204) return undefined as T;
  const body = await response.json();
  if (!response.ok) {
    const { code, message, details } = body.error;
    // Expired, or signed with a key the service has rotated away from: refresh once.
    if (code === "invalid_token" && token && !retried && (await refreshSession())) {
      return api<T>(path, init, true);
    }
    throw new ApiError(response.status, code, message, details);
  }
  return body as T;
}

export async function signUp(input: {
  email: string;
  password: string;
  full_name: string;
  role: "traveler" | "local";
}): Promise<Session> {
  const session = await api<Session>("/api/v1/auth/signup", {
    method: "POST",
    body: JSON.stringify(input),
  });
  setSession(session);
  return session;
}

export async function signIn(email: string, password: string): Promise<Session> {
  const session = await api<Session>("/api/v1/auth/login", {
    method: "POST",
    body: JSON.stringify({ email, password }),
  });
  setSession(session);
  return session;
}

export async function signOut(scope: "local" | "others" | "global" = "local"): Promise<void> {
  try {
    await api<void>("/api/v1/auth/logout", { method: "POST", body: JSON.stringify({ scope }) });
  } finally {
    setSession(null);
  }
}
