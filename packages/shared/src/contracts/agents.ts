import { type Static, Type } from "@sinclair/typebox";
import { RouteSchema } from "../agent-protocol/common.ts";
import { IdSchema, Nullable, TimestampSchema } from "./common.ts";

// Enrollment, agent status, sessions and route views: the REST side of the agent channel.

/** Enrollment tokens and agent credentials: a prefix people can recognise, then 43 URL-safe characters. */
export const ENROLLMENT_TOKEN_PREFIX = "sbe_";
export const AGENT_CREDENTIAL_PREFIX = "sba_";

export const EnrollmentTokenSchema = Type.Object(
  {
    token: Type.String({ description: "one-time token for `switchboard-agent enroll --token`" }),
    expiresAt: TimestampSchema,
    api: Type.String({ description: "the API's address for `enroll --api`: PUBLIC_URL, else where this request went" }),
    fingerprint256: Nullable(
      Type.String({
        description: "SHA-256 of the API's own TLS certificate for `enroll --fingerprint`; null when a proxy does TLS",
      }),
    ),
    command: Type.String({
      description:
        "the whole command to run on the switch as root: `switchboard-agent enroll …` with every flag filled in, then `systemctl enable --now switchboard-agent`",
    }),
  },
  { $id: "EnrollmentToken" },
);
export type EnrollmentToken = Static<typeof EnrollmentTokenSchema>;

export const EnrollRequestSchema = Type.Object(
  {
    token: Type.String({
      pattern: `^${ENROLLMENT_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`,
      maxLength: 64,
      description: "the enrollment token the API showed once",
    }),
  },
  { additionalProperties: false },
);
export type EnrollRequest = Static<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = Type.Object({
  credential: Type.String({ description: "the agent's long-lived credential; shown once" }),
  switchId: IdSchema,
  networkId: IdSchema,
  /** Where the rendered configs expect the agent's files (the API renders absolute paths). */
  baseDir: Type.String(),
});
export type EnrollResponse = Static<typeof EnrollResponseSchema>;

/**
 * A session claim the API did not simply believe: a switch's claim to a host that its own status 3
 * did not back up ("withdrawn": the routes went back), or a host two switches list at once
 * ("double": the newer claim keeps the routes; briefly normal after a host left a switch without a
 * goodbye, until that switch's keepalive times out). Also an audit row and a live message.
 */
export const SessionClaimConflictSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal("withdrawn"), Type.Literal("double")]),
    networkId: IdSchema,
    hostId: IdSchema,
    commonName: Type.String(),
    /** The switch whose claim this is about (withdrawn: its claim; double: the newer claim). */
    claimedBy: IdSchema,
    /** The switch the host's session is on now (null: none). */
    heldBy: Nullable(IdSchema),
    reason: Type.String(),
    at: TimestampSchema,
  },
  { $id: "SessionClaimConflict" },
);
export type SessionClaimConflict = Static<typeof SessionClaimConflictSchema>;

export const AgentStatusSchema = Type.Object(
  {
    switchId: IdSchema,
    online: Type.Boolean(),
    agentVersion: Nullable(Type.String()),
    /** Network revision the switch should be at. */
    revisionDesired: Type.Integer(),
    /** Network revision the agent last acknowledged (null: never). */
    revisionApplied: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    /**
     * What of this switch's desired state cannot be rendered from the stored network (e.g.
     * "network.backboneSubnet: prefix length must be between /16 and /30"): the agent then gets
     * no new state at all until it is fixed. Null when everything renders.
     */
    renderError: Nullable(Type.String()),
    connectedAt: Nullable(TimestampSchema),
    lastSeenAt: Nullable(TimestampSchema),
    /** Whether an agent credential is in force (enrolled and not revoked). */
    enrolled: Type.Boolean(),
    /** The last session claim of this switch the API refused to simply believe, as this API instance saw it. */
    claimConflict: Type.Optional(Nullable(SessionClaimConflictSchema)),
  },
  { $id: "AgentStatus" },
);
export type AgentStatus = Static<typeof AgentStatusSchema>;

export const SessionRecordSchema = Type.Object(
  {
    id: IdSchema,
    hostId: IdSchema,
    commonName: Type.String(),
    switchId: IdSchema,
    networkId: IdSchema,
    realAddress: Type.String(),
    connectedAt: TimestampSchema,
    bytesIn: Type.Integer(),
    bytesOut: Type.Integer(),
  },
  { $id: "SessionRecord" },
);
export type SessionRecord = Static<typeof SessionRecordSchema>;

export const SessionListQuerySchema = Type.Object(
  { networkId: Type.Optional(IdSchema), switchId: Type.Optional(IdSchema), hostId: Type.Optional(IdSchema) },
  { additionalProperties: false },
);
export type SessionListQuery = Static<typeof SessionListQuerySchema>;

export const KillSessionSchema = Type.Object(
  { nextRemote: Type.Optional(Type.Boolean({ description: "move the host to its next switch (RESTART,[N])" })) },
  { additionalProperties: false },
);
export type KillSession = Static<typeof KillSessionSchema>;

export const KillSessionResultSchema = Type.Object({
  switchId: IdSchema,
  commandId: Type.String(),
  /** The agent's answer; null when it did not answer in time (the command may still run). */
  ok: Nullable(Type.Boolean()),
  message: Nullable(Type.String()),
});
export type KillSessionResult = Static<typeof KillSessionResultSchema>;

export const ClearSessionResultSchema = Type.Object({
  /** The session records ended (in this API's table), with the switch each was on. */
  ended: Type.Array(SessionRecordSchema),
  /** The kill sent to the switch of the live session, when its agent is connected here. */
  kill: Nullable(KillSessionResultSchema),
});
export type ClearSessionResult = Static<typeof ClearSessionResultSchema>;

export const ClaimConflictQuerySchema = Type.Object(
  { networkId: Type.Optional(IdSchema), switchId: Type.Optional(IdSchema), hostId: Type.Optional(IdSchema) },
  { additionalProperties: false },
);
export type ClaimConflictQuery = Static<typeof ClaimConflictQuerySchema>;

export const SwitchRoutesSchema = Type.Object({
  switchId: IdSchema,
  /** What the API computed for this switch now. */
  desired: Type.Array(RouteSchema),
  /** What the agent last reported having in its kernel (null: no report since the API started). */
  applied: Nullable(Type.Array(RouteSchema)),
  failed: Type.Array(Type.Object({ destination: Type.String(), reason: Type.String(), message: Type.String() })),
  reportedAt: Nullable(TimestampSchema),
});
export type SwitchRoutes = Static<typeof SwitchRoutesSchema>;

/**
 * One end of a backbone link, as the agent of `switchId` last reported it (GET
 * /api/networks/:id/links; `link` messages on GET /api/live carry the changes). The link between
 * two switches is usable when both ends are up. Only ends whose agent is connected are listed:
 * when an agent goes offline its ends are dropped (unknown, not down), and an agent that does not
 * watch its links (older versions) reports none.
 */
export const BackboneLinkEndSchema = Type.Object(
  {
    switchId: IdSchema,
    peerSwitchId: IdSchema,
    up: Type.Boolean(),
    /** When this end reached its state, as the agent saw it. */
    since: TimestampSchema,
    reportedAt: TimestampSchema,
  },
  { $id: "BackboneLinkEnd" },
);
export type BackboneLinkEnd = Static<typeof BackboneLinkEndSchema>;
