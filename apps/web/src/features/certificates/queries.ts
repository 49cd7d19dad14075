import type {
  Certificate,
  CertificateListQuery,
  CertificatePage,
  CertificateTotals,
  CertificateTotalsQuery,
  IssueBody,
  RevocationReason,
  SwitchCertificates,
} from "@switchboard/shared";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/http.ts";
import { agentKeys } from "../agents/queries.ts";

export type CertificateFilter = Omit<CertificateListQuery, "limit" | "cursor">;

export const certificateKeys = {
  all: ["certificates"] as const,
  list: (filter: CertificateFilter) => ["certificates", "list", filter] as const,
  ofHost: (hostId: string) => ["certificates", "host", hostId] as const,
  totals: (query: CertificateTotalsQuery) => ["certificates", "totals", query] as const,
};

/** In force, revoked and expiring counts: what an empty view says it leaves out. */
export function useCertificateTotals(query: CertificateTotalsQuery) {
  return useQuery({
    queryKey: certificateKeys.totals(query),
    queryFn: ({ signal }) => api.get<CertificateTotals>("/api/certificates/totals", query, signal),
  });
}

export function useCertificatePages(filter: CertificateFilter) {
  return useInfiniteQuery({
    queryKey: certificateKeys.list(filter),
    queryFn: ({ pageParam, signal }) =>
      api.get<CertificatePage>("/api/certificates", { ...filter, limit: 100, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
}

/** A host's certificates, newest first (the one in force, then the revoked ones). */
export function useHostCertificates(hostId: string) {
  return useQuery({
    queryKey: certificateKeys.ofHost(hostId),
    queryFn: async () => {
      const page = await api.get<CertificatePage>("/api/certificates", { hostId, limit: 100 });
      return [...page.items].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },
  });
}

export function useRevokeCertificate() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, reason }: { id: string; reason: RevocationReason }) =>
      api.post<Certificate>(`/api/certificates/${id}/revoke`, { reason }),
    onSuccess: () => client.invalidateQueries({ queryKey: certificateKeys.all }),
  });
}

/** A fresh certificate for the same holder; the API revokes the old one as superseded. */
export function useRenewCertificate() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: IssueBody }) =>
      api.post<Certificate>(`/api/certificates/${id}/renew`, body),
    onSuccess: () => client.invalidateQueries({ queryKey: certificateKeys.all }),
  });
}

/**
 * New keys and certificates for a switch whose key was lost or compromised (admin): the old ones
 * are revoked and the agent gets the new ones, which its status shows once applied.
 */
export function useReissueSwitchCertificates() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (switchId: string) =>
      api.post<SwitchCertificates>(`/api/switches/${switchId}/certificates/reissue`, { reason: "keyCompromise" }),
    onSuccess: (_, switchId) =>
      Promise.all([
        client.invalidateQueries({ queryKey: certificateKeys.all }),
        client.invalidateQueries({ queryKey: agentKeys.status(switchId) }),
      ]),
  });
}

export const REVOCATION_REASONS: { value: RevocationReason; label: string }[] = [
  { value: "unspecified", label: "Unspecified" },
  { value: "keyCompromise", label: "Key compromise" },
  { value: "affiliationChanged", label: "Affiliation changed" },
  { value: "superseded", label: "Superseded" },
  { value: "cessationOfOperation", label: "Cessation of operation" },
  { value: "caCompromise", label: "CA compromise" },
];
