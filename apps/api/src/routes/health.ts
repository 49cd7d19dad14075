import { HealthResponseSchema, ReadinessResponseSchema } from "@switchboard/shared";
import type { Database } from "../db/database.ts";
import type { TypedApp } from "../http/typed-app.ts";

export const VERSION = "0.1.0";

/** Liveness answers without touching anything; readiness proves the database answers. */
export function healthRoutes(app: TypedApp, db: Database) {
  app.get(
    "/healthz",
    {
      config: { access: "public" },
      schema: { tags: ["health"], summary: "The process is alive", response: { 200: HealthResponseSchema } },
    },
    async () => ({ status: "ok" as const, version: VERSION }),
  );

  app.get(
    "/readyz",
    {
      config: { access: "public" },
      schema: {
        tags: ["health"],
        summary: "The API can serve requests: its database answers",
        response: { 200: ReadinessResponseSchema, 503: ReadinessResponseSchema },
      },
    },
    async (request, reply) => {
      try {
        const latencyMs = Math.round((await db.ping()) * 100) / 100;
        return { status: "ready" as const, database: { kind: db.kind, ok: true, latencyMs } };
      } catch (error) {
        request.log.warn({ err: error }, "readiness check failed");
        return reply.status(503).send({
          status: "unavailable" as const,
          database: { kind: db.kind, ok: false, error: "database did not answer" },
        });
      }
    },
  );
}
