import type { Role } from "@switchboard/shared";

/** What a role may do; mirrors the API's ROLE_GRANTS so the console hides what would be refused. */
export type Grant = "read" | "operate" | "admin" | "audit";

const GRANTS: Record<Role, readonly Grant[]> = {
  viewer: ["read"],
  auditor: ["read", "audit"],
  operator: ["read", "operate"],
  admin: ["read", "operate", "admin", "audit"],
};

export const ROLES: Role[] = ["admin", "operator", "viewer", "auditor"];

export function can(role: Role | undefined, grant: Grant): boolean {
  return role !== undefined && GRANTS[role].includes(grant);
}
