import type {
  BackboneLinkPreview,
  EnrollmentToken,
  Switch,
  SwitchCreate,
  SwitchRoutes,
  SwitchUpdate,
} from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/http.ts";

export const switchKeys = {
  all: ["switches"] as const,
  list: () => ["switches", "list"] as const,
  config: (id: string) => ["switches", "config", id] as const,
  backbone: (id: string) => ["switches", "backbone", id] as const,
  routes: (id: string) => ["switches", "routes", id] as const,
};

/** Every switch of every network: there are few, and the overview and host table need them all. */
export function useSwitches() {
  return useQuery({ queryKey: switchKeys.list(), queryFn: () => api.get<Switch[]>("/api/switches") });
}

export function useSwitchConfig(id: string) {
  return useQuery({
    queryKey: switchKeys.config(id),
    queryFn: () => api.get<string>(`/api/switches/${id}/config`),
  });
}

export function useSwitchBackbone(id: string) {
  return useQuery({
    queryKey: switchKeys.backbone(id),
    queryFn: () => api.get<BackboneLinkPreview[]>(`/api/switches/${id}/backbone`),
  });
}

export function useSwitchRoutes(id: string) {
  return useQuery({
    queryKey: switchKeys.routes(id),
    queryFn: () => api.get<SwitchRoutes>(`/api/switches/${id}/routes`),
    // Routes follow sessions; the live feed invalidates them, this is the safety net.
    refetchInterval: 10_000,
  });
}

export function useSaveSwitch() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id?: string; body: SwitchCreate | SwitchUpdate }) =>
      id ? api.patch<Switch>(`/api/switches/${id}`, body) : api.post<Switch>("/api/switches", body),
    onSuccess: () => client.invalidateQueries({ queryKey: switchKeys.all }),
  });
}

export function useDeleteSwitch() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/switches/${id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: switchKeys.all }),
  });
}

export function useCreateEnrollment() {
  return useMutation({
    mutationFn: (id: string) => api.post<EnrollmentToken>(`/api/switches/${id}/enrollment`),
  });
}

export function useRevokeAgentCredential() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/switches/${id}/agent-credential`),
    onSuccess: (_, id) => client.invalidateQueries({ queryKey: ["agents", "status", id] }),
  });
}
