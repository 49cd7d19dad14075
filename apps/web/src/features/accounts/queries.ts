import type { ApiToken, ApiTokenCreate, ApiTokenCreated, User, UserCreate, UserUpdate } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/http.ts";

export const userKeys = { all: ["users"] as const, list: () => ["users", "list"] as const };
export const tokenKeys = { all: ["tokens"] as const, list: () => ["tokens", "list"] as const };

export function useUsers() {
  return useQuery({ queryKey: userKeys.list(), queryFn: () => api.get<User[]>("/api/users") });
}

export function useCreateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: UserCreate) => api.post<User>("/api/users", body),
    onSuccess: () => client.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useUpdateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: UserUpdate }) => api.patch<User>(`/api/users/${id}`, body),
    onSuccess: () => client.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useDeleteUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/users/${id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useTokens() {
  return useQuery({ queryKey: tokenKeys.list(), queryFn: () => api.get<ApiToken[]>("/api/tokens") });
}

export function useCreateToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ApiTokenCreate) => api.post<ApiTokenCreated>("/api/tokens", body),
    onSuccess: () => client.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}

export function useRevokeToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete<ApiToken>(`/api/tokens/${id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: tokenKeys.all }),
  });
}
