import { type Static, Type } from "@sinclair/typebox";
import { CommonNameSchema } from "../contracts/common.ts";

const CommandIdSchema = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });

/**
 * Commands from the API. kill-session uses `client-kill <cid>` so the host reconnects at once
 * (`kill <cn>` would leave a UDP client waiting for ping-restart); with nextRemote it gets
 * RESTART,[N] and moves to its next switch.
 */
export const AgentCommandSchema = Type.Object(
  {
    type: Type.Literal("command"),
    id: CommandIdSchema,
    command: Type.Union([
      Type.Object(
        {
          kind: Type.Literal("kill-session"),
          commonName: CommonNameSchema,
          nextRemote: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      Type.Object({ kind: Type.Literal("reload") }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal("diagnostics") }, { additionalProperties: false }),
      // Answered with a session-snapshot from a fresh status 3: how the API checks a claim (issue 13).
      Type.Object({ kind: Type.Literal("session-snapshot") }, { additionalProperties: false }),
    ]),
  },
  { additionalProperties: false },
);
export type AgentCommand = Static<typeof AgentCommandSchema>;

export const CommandResultSchema = Type.Object(
  {
    type: Type.Literal("command-result"),
    id: CommandIdSchema,
    ok: Type.Boolean(),
    message: Type.Optional(Type.String({ maxLength: 2048 })),
    /** Diagnostics only: free-form facts (versions, management state, counts). */
    data: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown())),
  },
  { additionalProperties: false },
);
export type CommandResult = Static<typeof CommandResultSchema>;
