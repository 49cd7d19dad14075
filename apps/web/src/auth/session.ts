import type { Login, LoginSession, PasswordChange } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, request, setCsrfToken } from "../api/http.ts";
import { can, type Grant } from "./roles.ts";

export const sessionKeys = {
  current: ["session", "current"] as const,
  setup: ["session", "setup"] as const,
};

/** The signed-in session, or null when there is none (the console then shows the sign-in page). */
export async function fetchSession(): Promise<LoginSession | null> {
  try {
    const session = await request<LoginSession>("GET", "/api/session", { expectUnauthorized: true });
    setCsrfToken(session.csrfToken);
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setCsrfToken(undefined);
      return null;
    }
    throw error;
  }
}

export function useLoginSession() {
  return useQuery({ queryKey: sessionKeys.current, queryFn: fetchSession, staleTime: 5 * 60_000, retry: 1 });
}

/** The signed-in user's role check; false while signed out. */
export function useCan(grant: Grant): boolean {
  const session = useLoginSession().data;
  return can(session?.user.role, grant);
}

export function useSetupState() {
  return useQuery({
    queryKey: sessionKeys.setup,
    queryFn: () => api.get<{ needed: boolean }>("/api/setup"),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export function useSignIn() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (login: Login) =>
      request<LoginSession>("POST", "/api/session", { body: login, expectUnauthorized: true }),
    onSuccess: (session) => {
      setCsrfToken(session.csrfToken);
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== "session" });
      client.setQueryData(sessionKeys.current, session);
    },
  });
}

export function useSignOut() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.delete("/api/session"),
    onSettled: () => {
      setCsrfToken(undefined);
      // The session query stays (its observer shows the sign-in page); everything else goes.
      client.setQueryData(sessionKeys.current, null);
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== "session" });
    },
  });
}

export function useChangePassword() {
  return useMutation({
    mutationFn: (body: PasswordChange) => api.post<void>("/api/session/password", body),
  });
}
