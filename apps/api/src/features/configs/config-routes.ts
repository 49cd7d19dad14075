import { Type } from "@sinclair/typebox";
import {
  BackboneLinkPreviewSchema,
  ClientConfigFileSchema,
  ErrorResponseSchema,
  IdParamsSchema,
} from "@switchboard/shared";
import type { TypedApp } from "../../http/typed-app.ts";
import type { ConfigService } from "./config-service.ts";

const errors = { 404: ErrorResponseSchema, 409: ErrorResponseSchema };

/** Read-only previews of what the agents write; the agent issue delivers the same renderings. */
export function configRoutes(app: TypedApp, configs: ConfigService) {
  app.get(
    "/api/switches/:id/config",
    {
      config: { access: "read" },
      schema: {
        tags: ["configs"],
        summary: "The switch's OpenVPN server config",
        params: IdParamsSchema,
        produces: ["text/plain"],
        response: { 200: Type.String(), ...errors },
      },
    },
    async (request, reply) =>
      reply.type("text/plain; charset=utf-8").send(await configs.serverConfig(request.params.id)),
  );

  app.get(
    "/api/switches/:id/backbone",
    {
      config: { access: "read" },
      schema: {
        tags: ["configs"],
        summary: "This switch's end of the backbone link to every other enabled switch",
        params: IdParamsSchema,
        response: { 200: Type.Array(BackboneLinkPreviewSchema), ...errors },
      },
    },
    (request) => configs.backboneLinks(request.params.id),
  );

  app.get(
    "/api/hosts/:id/client-config",
    {
      config: { access: "read" },
      schema: {
        tags: ["configs"],
        summary: "The host's client-config-dir file, the same on every switch",
        params: IdParamsSchema,
        response: { 200: ClientConfigFileSchema, ...errors },
      },
    },
    (request) => configs.clientConfig(request.params.id),
  );
}
