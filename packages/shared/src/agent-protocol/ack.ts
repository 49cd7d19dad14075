import { type Static, Type } from "@sinclair/typebox";
import { Nullable } from "../contracts/common.ts";
import { RevisionSchema } from "./common.ts";

export const AgentErrorScopeSchema = Type.Union([
  Type.Literal("protocol"),
  Type.Literal("file"),
  Type.Literal("route"),
  Type.Literal("reload"),
  Type.Literal("session"),
  Type.Literal("guard"),
]);
export type AgentErrorScope = Static<typeof AgentErrorScopeSchema>;

/** One thing the agent could not do; `target` names the file, route destination or host. */
export const AgentErrorSchema = Type.Object(
  {
    scope: AgentErrorScopeSchema,
    target: Type.Optional(Type.String({ maxLength: 256 })),
    message: Type.String({ maxLength: 2048 }),
  },
  { additionalProperties: false },
);
export type AgentError = Static<typeof AgentErrorSchema>;

/**
 * Answer to a desired-state message. `revision` is the one the agent reached (null before its
 * first); errors say what of it is not in place. `resync` asks for a full snapshot (a delta did
 * not start from the agent's revision, or the guard refused it).
 */
export const AckSchema = Type.Object(
  {
    type: Type.Literal("ack"),
    revision: Nullable(RevisionSchema),
    ok: Type.Boolean(),
    errors: Type.Array(AgentErrorSchema, { maxItems: 1000 }),
    resync: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type Ack = Static<typeof AckSchema>;
