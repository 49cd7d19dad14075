import { Type } from "@sinclair/typebox";
import {
  ErrorResponseSchema,
  IdParamsSchema,
  NetworkCreateSchema,
  NetworkSchema,
  NetworkUpdateSchema,
} from "@switchboard/shared";
import type { TypedApp } from "../../http/typed-app.ts";
import { auditContextOf } from "../audit/request-audit.ts";
import type { NetworkService } from "./network-service.ts";

const tags = ["networks"];
const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema };

export function networkRoutes(app: TypedApp, networks: NetworkService) {
  app.get(
    "/api/networks",
    {
      config: { access: "read" },
      schema: { tags, summary: "List networks", response: { 200: Type.Array(NetworkSchema) } },
    },
    () => networks.list(),
  );

  app.post(
    "/api/networks",
    {
      config: { access: "admin" },
      schema: {
        tags,
        summary: "Create a network",
        body: NetworkCreateSchema,
        response: { 201: NetworkSchema, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await networks.create(request.body, auditContextOf(request))),
  );

  app.get(
    "/api/networks/:id",
    {
      config: { access: "read" },
      schema: { tags, summary: "Get a network", params: IdParamsSchema, response: { 200: NetworkSchema, ...errors } },
    },
    (request) => networks.get(request.params.id),
  );

  app.patch(
    "/api/networks/:id",
    {
      config: { access: "admin" },
      schema: {
        tags,
        summary: "Change a network (its subnets only while it has no switches or hosts)",
        params: IdParamsSchema,
        body: NetworkUpdateSchema,
        response: { 200: NetworkSchema, ...errors },
      },
    },
    (request) => networks.update(request.params.id, request.body, auditContextOf(request)),
  );

  app.delete(
    "/api/networks/:id",
    {
      config: { access: "admin" },
      schema: {
        tags,
        summary: "Delete a network with its switches, hosts and certificates",
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await networks.remove(request.params.id, auditContextOf(request));
      return reply.status(204).send(null);
    },
  );
}
