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

/** Whether `role` may do everything `other` may. */
export function covers(role: Role, other: Role): boolean {
  return [...ROLE_GRANTS[other]].every((access) => ROLE_GRANTS[role].has(access));
}

/** The most that both roles allow: a token acts with this of its own role and its owner's. */
export function weakerOf(a: Role, b: Role): Role {
  if (covers(a, b)) return b;
  if (covers(b, a)) return a;
  return "viewer";
}

export function rolesAllowed(access: Access): Role[] {
  return ROLES.filter((role) => ROLE_GRANTS[role].has(access));
}

declare module "fastify" {
  interface FastifyContextConfig {
    access?: Access;
  }
}
