// The session: the access token and when it expires. Server state (the user, lists)
// lives in the query cache, not here.
import { create } from "zustand";
import { createJSONStorage, persist } from "zustand/middleware";

export type LogoutReason = "expired" | "signed-out";

export interface AuthState {
  token: string | null;
  /** Epoch milliseconds. */
  expiresAt: number | null;
  /**
   * Why the last session ended: `expired` (a 401; the login page says so and brings the
   * user back to the page they were on) or `signed-out` (they chose to; back to home).
   */
  reason: LogoutReason | null;
  /**
   * Set when the server answered 403 `password_change_required`: the account still
   * has the default password and nothing else works until it is changed. Not
   * persisted; a new token (login or the change itself) clears it.
   */
  passwordChangeRequired: boolean;
  login: (token: string, expiresInSeconds: number, now?: number) => void;
  logout: (reason: LogoutReason) => void;
  clearReason: () => void;
  requirePasswordChange: (required: boolean) => void;
}

export const useAuth = create<AuthState>()(
  persist(
    (set) => ({
      token: null,
      expiresAt: null,
      reason: null,
      passwordChangeRequired: false,
      login: (token, expiresIn, now = Date.now()) =>
        set({ token, expiresAt: now + Math.max(0, expiresIn) * 1000, reason: null, passwordChangeRequired: false }),
      logout: (reason) => set({ token: null, expiresAt: null, reason, passwordChangeRequired: false }),
      clearReason: () => set({ reason: null }),
      requirePasswordChange: (required) => set({ passwordChangeRequired: required }),
    }),
    {
      name: "oncall.auth",
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({ token: s.token, expiresAt: s.expiresAt }),
    },
  ),
);

/** The token if it is still valid at `now`. */
export function validToken(s: Pick<AuthState, "token" | "expiresAt">, now = Date.now()): string | null {
  if (!s.token) return null;
  if (s.expiresAt !== null && s.expiresAt <= now) return null;
  return s.token;
}

/**
 * Where to go after logging in: `next` if it is a path of this app (never another
 * origin), else the home page.
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (next.startsWith("/login")) return "/";
  return next;
}

/** The login URL that brings the user back to `path` afterwards. */
export function loginUrl(path: string): string {
  const next = safeNext(path);
  return next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`;
}
