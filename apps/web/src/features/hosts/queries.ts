import type { Certificate, Host, HostCreate, HostImportResult, HostUpdate } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, fetchAllPages } from "../../api/http.ts";
import { certificateKeys } from "../certificates/queries.ts";

export const hostKeys = {
  all: ["hosts"] as const,
  /** Every host: the table filters and sorts 10,000 rows in the browser, without a round trip. */
  list: () => ["hosts", "list"] as const,
};

export function useHosts() {
  return useQuery({
    queryKey: hostKeys.list(),
    queryFn: async ({ signal }) => {
      const hosts = await fetchAllPages<Host>("/api/hosts", { sort: "commonName" }, signal);
      // bench:web measures from here (data in hand) to the table painted.
      performance.mark("sb:hosts-data");
      return hosts;
    },
  });
}

export function useSaveHost() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id?: string; body: HostCreate | HostUpdate }) =>
      id ? api.patch<Host>(`/api/hosts/${id}`, body) : api.post<Host>("/api/hosts", body),
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: hostKeys.all }),
        client.invalidateQueries({ queryKey: certificateKeys.all }),
      ]),
  });
}

export function useDeleteHost() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/hosts/${id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: hostKeys.all }),
  });
}

export function useRotateCertificate() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (hostId: string) => api.post<Certificate>(`/api/hosts/${hostId}/certificate`, {}),
    // Issue (none yet) or rotate (the old one is revoked as superseded).
    onSuccess: () => client.invalidateQueries({ queryKey: certificateKeys.all }),
  });
}

/**
 * POST /api/hosts/import with the CSV as it is (the API parses it, so both formats share every
 * rule). XMLHttpRequest rather than fetch: it reports upload progress.
 */
export function importHostsCsv(
  networkId: string,
  csv: string,
  csrfToken: string | undefined,
  onProgress: (sentShare: number) => void,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/hosts/import?networkId=${encodeURIComponent(networkId)}`);
    xhr.setRequestHeader("content-type", "text/csv");
    xhr.setRequestHeader("accept", "application/json");
    if (csrfToken) xhr.setRequestHeader("x-csrf-token", csrfToken);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error("the import request failed (network error)"));
    xhr.send(csv);
  });
}

export type { HostImportResult };
