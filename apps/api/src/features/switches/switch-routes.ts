import { Type } from "@sinclair/typebox";
import {
  ErrorResponseSchema,
  IdParamsSchema,
  SwitchCreateSchema,
  SwitchListQuerySchema,
  SwitchSchema,
  SwitchUpdateSchema,
} from "@switchboard/shared";
import type { TypedApp } from "../../http/typed-app.ts";
import { auditContextOf } from "../audit/request-audit.ts";
import type { SwitchService } from "./switch-service.ts";

const tags = ["switches"];
const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema };

export function switchRoutes(app: TypedApp, switches: SwitchService) {
  app.get(
    "/api/switches",
    {
      config: { access: "read" },
      schema: {
        tags,
        summary: "List switches",
        querystring: SwitchListQuerySchema,
        response: { 200: Type.Array(SwitchSchema), 400: ErrorResponseSchema },
      },
    },
    (request) => switches.list(request.query.networkId),
  );

  app.post(
    "/api/switches",
    {
      config: { access: "admin" },
      schema: {
        tags,
        summary: "Add a switch (OpenVPN server) to a network; omitted addresses are allocated",
        body: SwitchCreateSchema,
        response: { 201: SwitchSchema, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await switches.create(request.body, auditContextOf(request))),
  );

  app.get(
    "/api/switches/:id",
    {
      config: { access: "read" },
      schema: { tags, summary: "Get a switch", params: IdParamsSchema, response: { 200: SwitchSchema, ...errors } },
    },
    (request) => switches.get(request.params.id),
  );

  app.patch(
    "/api/switches/:id",
    {
      config: { access: "admin" },
      schema: {
        tags,
        summary: "Change a switch",
        params: IdParamsSchema,
        body: SwitchUpdateSchema,
        response: { 200: SwitchSchema, ...errors },
      },
    },
    (request) => switches.update(request.params.id, request.body, auditContextOf(request)),
  );

  app.delete(
    "/api/switches/:id",
    {
      config: { access: "admin" },
      schema: { tags, summary: "Remove a switch", params: IdParamsSchema, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await switches.remove(request.params.id, auditContextOf(request));
      return reply.status(204).send(null);
    },
  );
}
