import type { Role } from "../generated/prisma/client.ts";

/**
 * What a route needs. Every /api route declares one in `config.access`; a route without it
 * stops the app from starting, so nothing new is ever reachable by accident.
 * - public: anyone (login, setup, health)
 * - self: any signed-in identity (its own session)
 * - read: look at networks, switches, hosts, certificates, sessions
 * - operate: change hosts, sessions, certificates
 * - admin: change networks and switches, users, tokens
 * - audit: read the audit log
 */
export type Access = "public" | "self" | "read" | "operate" | "admin" | "audit";

export const ROLE_GRANTS: Record<Role, ReadonlySet<Access>> = {
  viewer: new Set(["self", "read"]),
  auditor: new Set(["self", "read", "audit"]),
  operator: new Set(["self", "read", "operate"]),
  admin: new Set(["self", "read", "operate", "admin", "audit"]),
};

export const ROLES = Object.keys(ROLE_GRANTS) as Role[];

export function rolesAllowed(access: Access): Role[] {
  return ROLES.filter((role) => ROLE_GRANTS[role].has(access));
}

declare module "fastify" {
  interface FastifyContextConfig {
    access?: Access;
  }
}
