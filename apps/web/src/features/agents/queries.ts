import type { AgentStatus } from "@switchboard/shared";
import { useQueries, useQuery } from "@tanstack/react-query";
import { api } from "../../api/http.ts";

export const agentKeys = {
  all: ["agents"] as const,
  status: (switchId: string) => ["agents", "status", switchId] as const,
};

const statusQuery = (switchId: string) => ({
  queryKey: agentKeys.status(switchId),
  queryFn: () => api.get<AgentStatus>(`/api/switches/${switchId}/status`),
});

export function useAgentStatus(switchId: string) {
  return useQuery(statusQuery(switchId));
}

/** switch id -> its agent's status (the live feed keeps each one current). */
export function useAgentStatuses(switchIds: readonly string[]): Map<string, AgentStatus> {
  return useQueries({
    queries: switchIds.map(statusQuery),
    combine: (results) => {
      const map = new Map<string, AgentStatus>();
      for (const result of results) if (result.data) map.set(result.data.switchId, result.data);
      return map;
    },
  });
}
