import { type Static, Type } from "@sinclair/typebox";
import { Ipv4Schema, Nullable, TimestampSchema } from "../contracts/common.ts";
import { RealAddressSchema, ReportedCommonNameSchema } from "./common.ts";

/** Where the agent learned it: the client hook (instant), `>CLIENT:ESTABLISHED`, or `status 3`. */
export const SessionSourceSchema = Type.Union([
  Type.Literal("hook"),
  Type.Literal("management"),
  Type.Literal("status"),
]);
export type SessionSource = Static<typeof SessionSourceSchema>;

const Counter = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/**
 * "Host CN is connected to this switch from realAddress since connectedAt". The session's identity
 * is (commonName, connectedAt): the API retires an older session of the same host wherever it
 * was, whatever order reports arrive in. clientId is OpenVPN's CID, needed to kill the session.
 */
export const SessionSchema = Type.Object(
  {
    commonName: ReportedCommonNameSchema,
    realAddress: Nullable(RealAddressSchema),
    virtualAddress: Nullable(Ipv4Schema),
    clientId: Nullable(Counter),
    connectedAt: TimestampSchema,
    bytesReceived: Counter,
    bytesSent: Counter,
  },
  { additionalProperties: false },
);
export type Session = Static<typeof SessionSchema>;

export const SessionEventSchema = Type.Union([
  Type.Object(
    {
      event: Type.Literal("connect"),
      source: SessionSourceSchema,
      at: TimestampSchema,
      session: SessionSchema,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      event: Type.Literal("disconnect"),
      source: SessionSourceSchema,
      at: TimestampSchema,
      /** Last known counters; final ones when the hook reported the disconnect. */
      session: SessionSchema,
    },
    { additionalProperties: false },
  ),
]);
export type SessionEvent = Static<typeof SessionEventSchema>;

/** Changes since the last report, in the order the agent saw them. */
export const SessionEventsSchema = Type.Object(
  { type: Type.Literal("sessions"), events: Type.Array(SessionEventSchema, { maxItems: 10_000 }) },
  { additionalProperties: false },
);
export type SessionEvents = Static<typeof SessionEventsSchema>;

/**
 * Every session the switch has, from `status 3`: sent after (re)connecting so the API can retire
 * sessions whose disconnect it missed. Counters here refresh the API's byte figures too.
 */
export const SessionSnapshotSchema = Type.Object(
  {
    type: Type.Literal("session-snapshot"),
    takenAt: TimestampSchema,
    sessions: Type.Array(SessionSchema, { maxItems: 100_000 }),
  },
  { additionalProperties: false },
);
export type SessionSnapshot = Static<typeof SessionSnapshotSchema>;
