import { type Static, Type } from "@sinclair/typebox";
import { AgentStatusSchema, SessionClaimConflictSchema, SessionRecordSchema } from "./agents.ts";
import { IdSchema, Nullable, TimestampSchema } from "./common.ts";

// The console's live feed: one websocket per open console (GET /api/live, any signed-in role
// with the read grant). The server only sends; the console turns each message into a query
// cache update or invalidation. After a reconnect the console refetches everything, so a
// message lost while the socket was down costs nothing.

/** Resources whose lists the console should refetch after a change made by anyone. */
export const LiveResourceSchema = Type.Union([
  Type.Literal("networks"),
  Type.Literal("switches"),
  Type.Literal("hosts"),
  Type.Literal("certificates"),
  Type.Literal("users"),
  Type.Literal("tokens"),
  Type.Literal("audit"),
]);
export type LiveResource = Static<typeof LiveResourceSchema>;

export const LiveWelcomeSchema = Type.Object({
  type: Type.Literal("welcome"),
  serverTime: TimestampSchema,
});

/** A host came online, went offline or moved to another switch (the session table changed). */
export const LiveSessionSchema = Type.Object({
  type: Type.Literal("session"),
  change: Type.Union([Type.Literal("connected"), Type.Literal("disconnected"), Type.Literal("roamed")]),
  session: SessionRecordSchema,
  /** For "roamed": the switch the host left. */
  previousSwitchId: Nullable(IdSchema),
  at: TimestampSchema,
});

/** A session claim the API did not simply believe (withdrawn, or a host listed by two switches). */
export const LiveSessionConflictSchema = Type.Object({
  type: Type.Literal("session-conflict"),
  networkId: IdSchema,
  conflict: SessionClaimConflictSchema,
  at: TimestampSchema,
});

/** An agent connected, disconnected, acknowledged a revision or reported an error. */
export const LiveAgentSchema = Type.Object({
  type: Type.Literal("agent"),
  networkId: IdSchema,
  status: AgentStatusSchema,
  at: TimestampSchema,
});

/**
 * One end of a backbone link went up or down, as the agent of `switchId` reports it (the same
 * ends GET /api/networks/:id/links lists). When an agent goes offline its ends become unknown:
 * the `agent` message says so, and the console drops or greys them out.
 */
export const LiveLinkSchema = Type.Object({
  type: Type.Literal("link"),
  networkId: IdSchema,
  switchId: IdSchema,
  peerSwitchId: IdSchema,
  up: Type.Boolean(),
  at: TimestampSchema,
});

/**
 * Something changed through the API: one message per list an audited change alters, sent once
 * its transaction has committed (by the API instance that made it); refetch that resource. `id`
 * is that resource's id when the change names one. A role that cannot list the resource gets it
 * as resource "audit" (if it reads the audit log) or not at all; `actor` is null for roles
 * without the audit grant.
 */
export const LiveChangedSchema = Type.Object({
  type: Type.Literal("changed"),
  resource: LiveResourceSchema,
  id: Nullable(IdSchema),
  networkId: Nullable(IdSchema),
  /** The audit action, e.g. "host.create", for the overview's recent events. */
  action: Type.String(),
  actor: Nullable(Type.String()),
  at: TimestampSchema,
});

export const LiveMessageSchema = Type.Union([
  LiveWelcomeSchema,
  LiveSessionSchema,
  LiveSessionConflictSchema,
  LiveAgentSchema,
  LiveLinkSchema,
  LiveChangedSchema,
]);
export type LiveMessage = Static<typeof LiveMessageSchema>;
