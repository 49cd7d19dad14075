import { Type } from "@sinclair/typebox";
import { BackboneLinkEndSchema, ErrorResponseSchema, IdParamsSchema } from "@switchboard/shared";
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import { notFound } from "../../../http/errors.ts";
import type { TypedApp } from "../../../http/typed-app.ts";
import type { LinkStates } from "./link-states.ts";

/** Backbone link state as the agents report it; the console loads it once, then follows `link` messages. */
export function linkRoutes(app: TypedApp, deps: { prisma: PrismaClient; links: LinkStates }) {
  app.get(
    "/api/networks/:id/links",
    {
      config: { access: "read" },
      schema: {
        tags: ["agents"],
        summary: "Backbone link ends as the connected agents report them (up or down, since when)",
        description:
          "One entry per end: the agent of switchId about its link to peerSwitchId. A link is usable when both ends are up. Ends of agents that are offline (or too old to report links) are missing: unknown, not down.",
        params: IdParamsSchema,
        response: { 200: Type.Array(BackboneLinkEndSchema), 400: ErrorResponseSchema, 404: ErrorResponseSchema },
      },
    },
    async (request) => {
      const network = await deps.prisma.network.findUnique({ where: { id: request.params.id }, select: { id: true } });
      if (!network) throw notFound("network", request.params.id);
      return deps.links.inNetwork(network.id);
    },
  );
}
