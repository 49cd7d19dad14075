import { type Static, Type } from "@sinclair/typebox";

export const HealthResponseSchema = Type.Object({
  status: Type.Literal("ok"),
  version: Type.String(),
});
export type HealthResponse = Static<typeof HealthResponseSchema>;

export const ReadinessResponseSchema = Type.Object({
  status: Type.Union([Type.Literal("ready"), Type.Literal("unavailable")]),
  database: Type.Object({
    kind: Type.Union([Type.Literal("postgres"), Type.Literal("pglite")]),
    ok: Type.Boolean(),
    latencyMs: Type.Optional(Type.Number()),
    error: Type.Optional(Type.String()),
  }),
});
export type ReadinessResponse = Static<typeof ReadinessResponseSchema>;
