import type { AuditPage, AuditQuery } from "@switchboard/shared";
import { useInfiniteQuery } from "@tanstack/react-query";
import { api } from "../../api/http.ts";

export type AuditFilter = Omit<AuditQuery, "limit" | "cursor">;

export const auditKeys = {
  all: ["audit"] as const,
  list: (filter: AuditFilter, limit: number) => ["audit", "list", filter, limit] as const,
};

export function useAuditPages(filter: AuditFilter, options: { limit?: number; enabled?: boolean } = {}) {
  const limit = options.limit ?? 100;
  return useInfiniteQuery({
    queryKey: auditKeys.list(filter, limit),
    queryFn: ({ pageParam, signal }) =>
      api.get<AuditPage>("/api/audit", { ...filter, limit, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    enabled: options.enabled ?? true,
  });
}
