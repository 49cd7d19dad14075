import type { KillSession, KillSessionResult, SessionRecord } from "@switchboard/shared";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api } from "../../api/http.ts";

export const sessionListKeys = {
  all: ["sessions"] as const,
  /** Every live session of every network; the live feed updates this one list in place. */
  list: () => ["sessions", "list"] as const,
};

export function useSessions() {
  return useQuery({ queryKey: sessionListKeys.list(), queryFn: () => api.get<SessionRecord[]>("/api/sessions") });
}

/** host id -> its live session. */
export function sessionsByHost(sessions: readonly SessionRecord[] | undefined): Map<string, SessionRecord> {
  return new Map((sessions ?? []).map((session) => [session.hostId, session]));
}

export function useKillSession() {
  return useMutation({
    mutationFn: ({ hostId, body }: { hostId: string; body: KillSession }) =>
      api.post<KillSessionResult>(`/api/hosts/${hostId}/kill-session`, body),
  });
}
