import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export type NotFoundHandler = (request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * Serves the built console from `webDir`. Returns the not-found handler to use: page paths that
 * are not files get index.html so the console's own router handles them; API paths and missing
 * assets keep the JSON 404.
 */
export async function registerWebConsole(
  app: FastifyInstance,
  webDir: string,
  apiNotFound: NotFoundHandler,
): Promise<NotFoundHandler> {
  if (!existsSync(join(webDir, "index.html"))) {
    app.log.warn({ webDir }, "no built console found; run `pnpm build` to serve it");
    return apiNotFound;
  }
  await app.register(fastifyStatic, { root: webDir, wildcard: false });
  return (request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    const isApi = path.startsWith("/api/") || path === "/healthz" || path === "/readyz";
    if (request.method !== "GET" || isApi || path.includes(".")) return apiNotFound(request, reply);
    return reply.sendFile("index.html");
  };
}
