import { type Static, Type } from "@sinclair/typebox";
import { TimestampSchema } from "../contracts/common.ts";

/**
 * One end of a backbone link as its OpenVPN process reports it on its management socket: up
 * while the process's state is CONNECTED (TLS with the peer done, tunnel usable), down in any
 * other state or when the process does not answer (stopped, crashed, restarting).
 */
export const LinkEndStateSchema = Type.Object(
  {
    peerOffset: Type.Integer({ minimum: 1, maximum: 65534 }),
    up: Type.Boolean(),
    /** When the end reached this state, as the agent saw it. */
    since: TimestampSchema,
  },
  { additionalProperties: false },
);
export type LinkEndState = Static<typeof LinkEndStateSchema>;

/**
 * Agent -> API: every link of the switch, sent whenever one goes up or down and after each
 * (re)connect. A full list, so a lost message is repaired by the next. Optional in protocol 1:
 * agents that do not watch their links never send it, and the API then knows no link state.
 */
export const LinkStateSchema = Type.Object(
  {
    type: Type.Literal("link-state"),
    links: Type.Array(LinkEndStateSchema, { maxItems: 1024 }),
  },
  { additionalProperties: false },
);
export type LinkState = Static<typeof LinkStateSchema>;
