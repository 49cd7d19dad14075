import { Type } from "@sinclair/typebox";
import {
  ErrorResponseSchema,
  HostCreateSchema,
  HostImportResultSchema,
  HostImportSchema,
  HostListQuerySchema,
  HostPageSchema,
  HostSchema,
  HostUpdateSchema,
  IdParamsSchema,
  IdSchema,
} from "@switchboard/shared";
import type { TypedApp } from "../../http/typed-app.ts";
import { auditContextOf } from "../audit/request-audit.ts";
import { parseHostCsv } from "./host-csv.ts";
import type { HostService } from "./host-service.ts";

const tags = ["hosts"];
const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema };

export function hostRoutes(app: TypedApp, hosts: HostService) {
  app.get(
    "/api/hosts",
    {
      config: { access: "read" },
      schema: {
        tags,
        summary:
          "List hosts: filter by network, tag, enabled, text, switch or online (live session); sort; page with nextCursor",
        querystring: HostListQuerySchema,
        response: { 200: HostPageSchema, 400: ErrorResponseSchema },
      },
    },
    (request) => hosts.list(request.query),
  );

  app.post(
    "/api/hosts",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Add a host; without an address it gets the lowest free static address",
        body: HostCreateSchema,
        response: { 201: HostSchema, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await hosts.create(request.body, auditContextOf(request))),
  );

  app.post(
    "/api/hosts/import",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Import many hosts at once, all or nothing (JSON body, or CSV with ?networkId=)",
        description:
          "CSV: a header row with commonName and optionally address, description, tags, enabled, subnets, pushRoutes; list cells separated by spaces or ';'. A 400 lists every bad row in `errors`.",
        querystring: Type.Object({ networkId: Type.Optional(IdSchema) }, { additionalProperties: false }),
        body: HostImportSchema,
        response: { 201: HostImportResultSchema, ...errors },
      },
    },
    async (request, reply) => {
      const created = await hosts.import(request.body, auditContextOf(request));
      return reply.status(201).send({ created: created.length, hosts: created });
    },
  );

  app.get(
    "/api/hosts/:id",
    {
      config: { access: "read" },
      schema: { tags, summary: "Get a host", params: IdParamsSchema, response: { 200: HostSchema, ...errors } },
    },
    (request) => hosts.get(request.params.id),
  );

  app.patch(
    "/api/hosts/:id",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Change a host (its common name is fixed: it is in its certificate)",
        params: IdParamsSchema,
        body: HostUpdateSchema,
        response: { 200: HostSchema, ...errors },
      },
    },
    (request) => hosts.update(request.params.id, request.body, auditContextOf(request)),
  );

  app.delete(
    "/api/hosts/:id",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Remove a host and free its address",
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await hosts.remove(request.params.id, auditContextOf(request));
      return reply.status(204).send(null);
    },
  );

  // CSV arrives as text; it is turned into the JSON import body before validation, so both
  // formats share every rule and error message.
  app.addContentTypeParser(["text/csv"], { parseAs: "string", bodyLimit: 20 * 1024 * 1024 }, (request, body, done) => {
    const networkId = (request.query as { networkId?: string }).networkId;
    try {
      done(null, { networkId, hosts: parseHostCsv(String(body)) });
    } catch (error) {
      done(error as Error);
    }
  });
}
