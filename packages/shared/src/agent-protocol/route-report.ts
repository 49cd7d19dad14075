import { type Static, Type } from "@sinclair/typebox";
import { CidrSchema, Nullable } from "../contracts/common.ts";
import { RevisionSchema, RouteSchema } from "./common.ts";

/**
 * What the switch's kernel has under the agent's route protocol, next to what it was asked for
 * (desired after the agent's local rule: no route for a host connected here). `failed` lists
 * destinations the kernel refused (e.g. the backbone link is down) or that another route owner
 * already holds (`conflict`), withdrawals the blast-radius guard held back (`guard`) and routes
 * the agent would not pass to the kernel (`invalid`).
 */
export const RouteReportSchema = Type.Object(
  {
    type: Type.Literal("route-report"),
    revision: Nullable(RevisionSchema),
    desired: Type.Array(RouteSchema, { maxItems: 200_000 }),
    applied: Type.Array(RouteSchema, { maxItems: 200_000 }),
    failed: Type.Array(
      Type.Object(
        {
          destination: CidrSchema,
          reason: Type.Union([
            Type.Literal("kernel"),
            Type.Literal("conflict"),
            Type.Literal("guard"),
            Type.Literal("invalid"),
          ]),
          message: Type.String({ maxLength: 1024 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 200_000 },
    ),
  },
  { additionalProperties: false },
);
export type RouteReport = Static<typeof RouteReportSchema>;
