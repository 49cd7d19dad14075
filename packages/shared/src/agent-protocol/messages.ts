import { type Static, Type } from "@sinclair/typebox";
import { Nullable } from "../contracts/common.ts";
import { AckSchema } from "./ack.ts";
import { AgentCommandSchema, CommandResultSchema } from "./commands.ts";
import { RevisionSchema, SwitchIdSchema } from "./common.ts";
import { DesiredStateDeltaSchema, DesiredStateSchema } from "./desired-state.ts";
import { LinkStateSchema } from "./link-state.ts";
import { RouteReportSchema } from "./route-report.ts";
import { SessionEventsSchema, SessionSnapshotSchema } from "./sessions.ts";
import { ProtocolVersionSchema } from "./version.ts";

/** First message on a channel: who the agent is and the revision it restored from its cache. */
export const HelloSchema = Type.Object(
  {
    type: Type.Literal("hello"),
    protocolVersion: ProtocolVersionSchema,
    agentVersion: Type.String({ maxLength: 64 }),
    switchId: SwitchIdSchema,
    revision: Nullable(RevisionSchema),
  },
  { additionalProperties: false },
);
export type Hello = Static<typeof HelloSchema>;

export const WelcomeSchema = Type.Object(
  { type: Type.Literal("welcome"), protocolVersion: ProtocolVersionSchema, switchId: SwitchIdSchema },
  { additionalProperties: false },
);
export type Welcome = Static<typeof WelcomeSchema>;

/** Sent before closing a channel the peer cannot use (version mismatch, malformed message). */
export const ProtocolErrorSchema = Type.Object(
  {
    type: Type.Literal("error"),
    code: Type.Union([
      Type.Literal("unsupported-version"),
      Type.Literal("malformed"),
      Type.Literal("unauthorized"),
      Type.Literal("internal"),
    ]),
    message: Type.String({ maxLength: 2048 }),
  },
  { additionalProperties: false },
);
export type ProtocolError = Static<typeof ProtocolErrorSchema>;

export const ApiToAgentMessageSchema = Type.Union([
  WelcomeSchema,
  DesiredStateSchema,
  DesiredStateDeltaSchema,
  AgentCommandSchema,
  ProtocolErrorSchema,
]);
export type ApiToAgentMessage = Static<typeof ApiToAgentMessageSchema>;

export const AgentToApiMessageSchema = Type.Union([
  HelloSchema,
  AckSchema,
  SessionEventsSchema,
  SessionSnapshotSchema,
  RouteReportSchema,
  LinkStateSchema,
  CommandResultSchema,
  ProtocolErrorSchema,
]);
export type AgentToApiMessage = Static<typeof AgentToApiMessageSchema>;
