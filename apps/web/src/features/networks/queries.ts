import type { BackboneLinkEnd, Network, NetworkCreate, NetworkPki, NetworkUpdate } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/http.ts";

export const networkKeys = {
  all: ["networks"] as const,
  list: () => ["networks", "list"] as const,
  pki: (id: string) => ["networks", "pki", id] as const,
  /** The ends of the network's backbone links, as the agents report them (the live feed updates it). */
  links: (id: string) => ["networks", "links", id] as const,
};

export function useNetworkLinks(id: string) {
  return useQuery({
    queryKey: networkKeys.links(id),
    queryFn: () => api.get<BackboneLinkEnd[]>(`/api/networks/${id}/links`),
  });
}

export function useNetworks() {
  return useQuery({ queryKey: networkKeys.list(), queryFn: () => api.get<Network[]>("/api/networks") });
}

export function useNetworkPki(id: string | undefined) {
  return useQuery({
    queryKey: networkKeys.pki(id ?? ""),
    queryFn: () => api.get<NetworkPki>(`/api/networks/${id}/pki`),
    enabled: id !== undefined,
  });
}

export function useSaveNetwork() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id?: string; body: NetworkCreate | NetworkUpdate }) =>
      id ? api.patch<Network>(`/api/networks/${id}`, body) : api.post<Network>("/api/networks", body),
    onSuccess: () => client.invalidateQueries({ queryKey: networkKeys.all }),
  });
}

/** A new tls-crypt key: the network's revision moves on and every profile must be downloaded again. */
export function useRotateTlsCrypt() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<void>(`/api/networks/${id}/tls-crypt/rotate`),
    onSuccess: () => client.invalidateQueries({ queryKey: networkKeys.all }),
  });
}

export function useDeleteNetwork() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/networks/${id}`),
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: networkKeys.all }),
        client.invalidateQueries({ queryKey: ["switches"] }),
        client.invalidateQueries({ queryKey: ["hosts"] }),
      ]),
  });
}

/** id -> network, for tables that show a network's name. */
export function indexById<T extends { id: string }>(items: readonly T[] | undefined): Map<string, T> {
  return new Map((items ?? []).map((item) => [item.id, item]));
}
