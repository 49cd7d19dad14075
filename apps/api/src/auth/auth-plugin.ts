import cookie from "@fastify/cookie";
import type { FastifyInstance } from "fastify";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { HttpError } from "../http/error-handler.ts";
import { type Access, ROLE_GRANTS, rolesAllowed } from "./access.ts";
import { identify, type SessionSettings, type TokenCache } from "./identity.ts";
import { sameSecret } from "./secrets.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** Every route with the access it requires, as registered. */
    accessRules: RouteRule[];
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface RouteRule {
  method: string;
  url: string;
  access: Access;
}

/**
 * Authentication and authorisation for every route. Registered before any route: its onRoute
 * hook refuses an /api route without an access rule, and records the rules so tests can walk
 * them. Outside /api (health, the console's files, API docs) everything is public.
 */
export async function registerAuth(
  app: FastifyInstance,
  prisma: PrismaClient,
  settings: SessionSettings,
  tokens: TokenCache,
): Promise<RouteRule[]> {
  const rules: RouteRule[] = [];
  await app.register(cookie);
  app.decorateRequest("identity", null);

  app.addHook("onRoute", (route) => {
    const isApi = route.url.startsWith("/api/") && !route.url.startsWith("/api/docs");
    const access = route.config?.access ?? (isApi ? undefined : "public");
    if (!access) throw new Error(`route ${String(route.method)} ${route.url} has no access rule: set config.access`);
    route.config = { ...route.config, access };
    for (const method of [route.method].flat()) rules.push({ method, url: route.url, access });
  });

  app.addHook("onRequest", async (request) => {
    const access: Access = request.routeOptions.config?.access ?? "public";
    request.identity = await identify(prisma, request, settings, tokens).catch((error) => {
      if (access === "public" && error instanceof HttpError) return null;
      throw error;
    });
    if (access === "public") return;
    const identity = request.identity;
    if (!identity) throw new HttpError(401, "sign in first: send the session cookie or an Authorization: Bearer token");
    if (!ROLE_GRANTS[identity.role].has(access)) {
      throw new HttpError(403, `role ${identity.role} may not do this: it needs ${rolesAllowed(access).join(" or ")}`);
    }
    // A cookie rides along on cross-site requests; the CSRF token only the console's own script can read.
    if (identity.kind === "user" && !SAFE_METHODS.has(request.method)) {
      const sent = request.headers["x-csrf-token"];
      if (typeof sent !== "string" || !identity.csrfToken || !sameSecret(sent, identity.csrfToken)) {
        throw new HttpError(
          403,
          "missing or wrong x-csrf-token header: a signed-in change must carry the session's CSRF token",
        );
      }
    }
  });
  return rules;
}
